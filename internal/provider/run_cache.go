package provider

// The provider's look-ups shared by resources and data sources during a run,
// and the caches that let one run read each answer once.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// memo holds one look-up's answer for the provider process: the first
// caller reads it, concurrent callers wait for that read, and a failed read
// is tried again by the next caller.
type memo[T any] struct {
	mu    sync.Mutex
	done  bool
	value T
}

func (m *memo[T]) get(ctx context.Context, read func(context.Context) (T, error)) (T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done {
		return m.value, nil
	}
	v, err := read(ctx)
	if err != nil {
		return v, err
	}
	m.value, m.done = v, true
	return v, nil
}

// listEnvironments returns LifeTime's environments, read once per run.
func (d *providerData) listEnvironments(ctx context.Context, lt *client.LifeTime) ([]client.Environment, error) {
	return d.environments.get(ctx, lt.ListEnvironments)
}

// listStages returns the ODC stages, read once per run.
func (d *providerData) listStages(ctx context.Context, odc *client.ODC) ([]client.Stage, error) {
	return d.stages.get(ctx, odc.ListStages)
}

// deployedAssets returns the assets published in a stage, keyed by lower-case asset key.
func (d *providerData) deployedAssets(ctx context.Context, odc *client.ODC, stageKey string) (map[string]client.DeployedAsset, error) {
	key := strings.ToLower(stageKey)
	d.mu.Lock()
	cached, ok := d.deployed[key]
	d.mu.Unlock()
	if ok {
		return cached, nil
	}
	list, err := odc.DeployedAssets(ctx, stageKey)
	if err != nil {
		return nil, err
	}
	out := make(map[string]client.DeployedAsset, len(list))
	for _, a := range list {
		out[strings.ToLower(a.AssetKey)] = a
	}
	d.mu.Lock()
	if d.deployed == nil {
		d.deployed = map[string]map[string]client.DeployedAsset{}
	}
	d.deployed[key] = out
	d.mu.Unlock()
	return out, nil
}

// publishedRevision returns the highest revision of an asset published in
// a stage, and false when nothing of it is published there. It is the one
// meaning of "published in a stage" that the producers-first gate
// (publishedIn) and the refresh of outsystems_asset_publication share. Apps
// are listed among the stage's deployed assets (read once per stage per
// run); libraries are not deployed (apps bundle them), so for them the
// stage's finished publish operations of the library count (one request).
func (d *providerData) publishedRevision(ctx context.Context, odc *client.ODC, stageKey, assetKey, wireType string) (int, bool, error) {
	if wireType == client.AssetTypeLibrary {
		ops, err := odc.ListPublishOperations(ctx, assetKey, stageKey)
		if err != nil {
			return 0, false, err
		}
		highest, ok := 0, false
		for _, op := range ops {
			if op.Succeeded() {
				highest, ok = max(highest, op.Revision), true
			}
		}
		return highest, ok, nil
	}
	deployed, err := d.deployedAssets(ctx, odc, stageKey)
	if err != nil {
		return 0, false, err
	}
	a, ok := deployed[strings.ToLower(assetKey)]
	return a.Revision, ok, nil
}

// publishedIn reports whether an asset is published in a stage (any
// revision; see publishedRevision).
func (d *providerData) publishedIn(ctx context.Context, odc *client.ODC, stageKey, assetKey, wireType string) (bool, error) {
	_, ok, err := d.publishedRevision(ctx, odc, stageKey, assetKey, wireType)
	return ok, err
}

// forgetDeployedAssets drops the cached list of a stage after a publish.
func (d *providerData) forgetDeployedAssets(stageKey string) {
	d.mu.Lock()
	delete(d.deployed, strings.ToLower(stageKey))
	d.mu.Unlock()
}

// kitAnswer is what a probe of a Migration Kit API found: noKit is nil when
// the API answered, and says what was asked and the 404 seen when the
// organization has no such API.
type kitAnswer struct{ noKit *client.NoMigrationKitError }

// Guide and data source a team without the kit's API uses instead.
const (
	portalMigrationGuide      = "Migrating with the portal, publishing with Terraform"
	portalMigrationDataSource = "outsystems_odc_assets"
)

// requireMigrationKit checks, once per provider process and API, that the
// organization exposes the Migration Kit APIs that kind (a resource or data
// source type) calls: the assessment tool, and with codeMigrations the ODC
// portal's code migrations. Real organizations expose neither (OutSystems
// publishes no Migration Kit API): a probe answered 404 in any shape but the
// kit's own error means "no kit", reported as one error saying what to do
// instead. Other failures of a probe are reported as they are, and probed
// again on the next need. It returns false when it added an error; the
// services must be configured (configuredForPlan, requireAssessment).
func (d *providerData) requireMigrationKit(ctx context.Context, diags *diag.Diagnostics, kind string, codeMigrations bool) bool {
	type probe struct {
		answer *memo[kitAnswer]
		run    func(context.Context) error
		what   string
	}
	probes := []probe{{&d.kitAssessment, d.assessment.ProbeMigrationKit, "assessment tool"}}
	if codeMigrations {
		probes = append(probes, probe{&d.kitCodeMigrations, d.odc.ProbeCodeMigrations, "code migration"})
	}
	for _, p := range probes {
		answer, err := p.answer.get(ctx, func(ctx context.Context) (kitAnswer, error) {
			err := p.run(ctx)
			var noKit *client.NoMigrationKitError
			if errors.As(err, &noKit) {
				return kitAnswer{noKit: noKit}, nil
			}
			return kitAnswer{}, err
		})
		if err != nil {
			addAPIError(diags, "Failed To Reach The Migration Kit", "check that the Migration Kit's "+p.what+" API answers", err)
			return false
		}
		if answer.noKit != nil {
			diags.AddError("No Migration Kit API", noMigrationKitDetail(kind, p.what, answer.noKit))
			return false
		}
	}
	return true
}

// noMigrationKitDetail explains that the organization exposes no Migration
// Kit API and what to do instead.
func noMigrationKitDetail(kind, what string, e *client.NoMigrationKitError) string {
	seen := fmt.Sprintf("%d %s", e.Answer.StatusCode, http.StatusText(e.Answer.StatusCode))
	if msg := apiMessages(e.Answer); msg != "" && msg != e.Answer.Error() {
		seen += " (" + msg + ")"
	}
	return fmt.Sprintf("This organization exposes no Migration Kit API, which %s needs: asked for the kit's %s (%s), it answered %s, "+
		"which is not the kit's own error. OutSystems publishes no API for the Migration Kit, so real organizations answer this way.\n\n"+
		"Run the code migration in the ODC portal instead, then publish and release the migrated assets with Terraform: find them "+
		"with the `%s` data source and reference it from `outsystems_asset_publication` and `outsystems_library_release` "+
		"(see the guide %q).", kind, what, e.Request, seen, portalMigrationDataSource, portalMigrationGuide)
}

// cachedLibrary is what the portfolio listed for one asset key: isLibrary
// is false when ODC lists no library with that key.
type cachedLibrary struct {
	isLibrary bool
	revisions []client.LibraryRevision
}

// libraryRevisions returns, by lower-case key, what ODC's portfolio lists
// for each key (nil for a key that is no library), reading the keys not
// cached yet, or all of them when fresh, in one request.
func (d *providerData) libraryRevisions(ctx context.Context, odc *client.ODC, keys []string, fresh bool) (map[string]*cachedLibrary, error) {
	out := make(map[string]*cachedLibrary, len(keys))
	var missing []string
	d.mu.Lock()
	for _, k := range keys {
		lk := strings.ToLower(k)
		if _, dup := out[lk]; dup || slices.Contains(missing, lk) {
			continue
		}
		if c, ok := d.libraries[lk]; ok && !fresh {
			out[lk] = c
		} else {
			missing = append(missing, lk)
		}
	}
	d.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	read, err := odc.Libraries(ctx, missing)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.libraries == nil {
		d.libraries = map[string]*cachedLibrary{}
	}
	for _, k := range missing {
		revs, isLibrary := read[k]
		c := &cachedLibrary{isLibrary: isLibrary, revisions: revs}
		d.libraries[k] = c
		out[k] = c
	}
	return out, nil
}

// forgetLibrary drops what is cached of an asset after this process
// published it (its revisions' publish times change).
func (d *providerData) forgetLibrary(assetKey string) {
	d.mu.Lock()
	delete(d.libraries, strings.ToLower(assetKey))
	d.mu.Unlock()
}

// noteRelease records in the cache a release this process made, so the
// consumers it releases next see it without another read.
func (d *providerData) noteRelease(assetKey string, rev client.AssetRevision) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.libraries[strings.ToLower(assetKey)]
	if !ok || !c.isLibrary {
		return
	}
	revs := slices.Clone(c.revisions)
	i := slices.IndexFunc(revs, func(r client.LibraryRevision) bool { return r.Revision == rev.Revision })
	if i < 0 {
		revs = append(revs, client.LibraryRevision{Revision: rev.Revision, Name: rev.Name})
		i = len(revs) - 1
	}
	revs[i].Tag, revs[i].TaggedAt, revs[i].TaggedBy = rev.Tag, rev.TaggedAt, rev.TaggedBy
	d.libraries[strings.ToLower(assetKey)] = &cachedLibrary{isLibrary: true, revisions: revs}
}

// plannedMapping is a mapping one ModifyPlan of this process planned: its
// key ("" while new), name and O11 application keys (lower case).
type plannedMapping struct {
	id, name string
	apps     []string
}

// registerPlannedMapping records a planned mapping and returns the mappings
// planned before it in this process that share its name (ignoring case, as
// the tool does) or one of its applications. A mapping with a key replaces
// an earlier entry with that key (planned again); a new entry identical to
// one with a key is that mapping planned again for its replacement.
func (d *providerData) registerPlannedMapping(m plannedMapping) (sameName []plannedMapping, sharedApps map[string][]plannedMapping) {
	d.mu.Lock()
	defer d.mu.Unlock()
	sharedApps = map[string][]plannedMapping{}
	kept := d.plannedMappings[:0]
	for _, o := range d.plannedMappings {
		if m.id != "" && strings.EqualFold(o.id, m.id) {
			continue
		}
		kept = append(kept, o)
		if m.id == "" && o.id != "" && strings.EqualFold(o.name, m.name) && sameKeys(o.apps, m.apps) {
			// Terraform plans a replaced (tainted, -replace) mapping
			// again without prior state: the same mapping, not another.
			continue
		}
		if strings.EqualFold(o.name, m.name) {
			sameName = append(sameName, o)
		}
		for _, a := range m.apps {
			if slices.Contains(o.apps, a) {
				sharedApps[a] = append(sharedApps[a], o)
			}
		}
	}
	d.plannedMappings = append(kept, m)
	return sameName, sharedApps
}

// plannedMappingName is the name this process planned for the existing
// mapping of that key: "" when it planned none or the name is not known yet.
func (d *providerData) plannedMappingName(id string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range d.plannedMappings {
		if m.id != "" && strings.EqualFold(m.id, id) {
			return m.name
		}
	}
	return ""
}

// listMappings returns the assessment tool's mappings, read once per process.
func (d *providerData) listMappings(ctx context.Context) ([]client.Mapping, error) {
	return d.mappings.get(ctx, d.assessment.ListMappings)
}

// registerPlannedTag records that this process planned a new tag of an
// application in an environment (outsystems_lifetime_tag), so a code
// migration planned after it knows the apply tags the app first.
func (d *providerData) registerPlannedTag(envKey, appKey string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.plannedTags == nil {
		d.plannedTags = map[string]bool{}
	}
	d.plannedTags[strings.ToLower(envKey+"/"+appKey)] = true
}

// tagPlanned reports whether this process planned a new tag of the app in the environment.
func (d *providerData) tagPlanned(envKey, appKey string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.plannedTags[strings.ToLower(envKey+"/"+appKey)]
}
