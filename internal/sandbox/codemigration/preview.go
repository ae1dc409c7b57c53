package codemigration

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/migrationkit"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
)

// A migration preview (contract 1.3.0, POST /migration-previews) answers
// what a code migration of mapping definitions would take, before the
// mappings exist: per asset, the O11 application versions it converts (the
// latest tags in the source environment) with their module versions, the
// findings that block it, its producers among the definitions, and its
// publish wave and order. It reads in one transaction and writes nothing.
// It goes through the code the migration itself runs: migrationItems (the
// versions and their messages), resolveProducers (the module references)
// and planPublishOrder (migrationkit.PlanPublishOrder), so what it shows is
// what a migration started at the same moment converts.

// MaxPreviewAssets is how many asset definitions one preview takes.
const MaxPreviewAssets = 200

// Preview finding codes besides the mapping rules' and the migration's.
const (
	// CodePreviewNotReady: the mapping of the definition's name exists and
	// is NotReady for its applications.
	CodePreviewNotReady = CodeAssetsNotReady
)

// PreviewRequest is a checked POST /migration-previews body.
type PreviewRequest struct {
	SourceEnvironmentKey string
	Assets               []assessment.MappingDefinition
}

// PreviewModule is a module version a previewed application version holds.
type PreviewModule struct {
	ModuleKey        string `json:"moduleKey"`
	Name             string `json:"name"`
	Type             string `json:"type"`
	ModuleVersionKey string `json:"moduleVersionKey"`
}

// PreviewApplication is an O11 application of a previewed asset: the
// version a migration would convert (null when it has none in the source
// environment) and its modules.
type PreviewApplication struct {
	ApplicationKey string          `json:"applicationKey"`
	Name           string          `json:"name"`
	VersionKey     *string         `json:"versionKey"`
	Version        *string         `json:"version"`
	IsModified     bool            `json:"isModified"`
	Modules        []PreviewModule `json:"modules"`
}

// PreviewFinding is something a migration of the asset would meet; a
// blocking one makes the migration refuse it or fail to convert it.
type PreviewFinding struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Blocking bool   `json:"blocking"`
}

// PreviewAsset is one asset of a preview.
type PreviewAsset struct {
	Name          string               `json:"name"`
	AssetType     string               `json:"assetType"`
	MappingKey    *string              `json:"mappingKey"`
	PublishWave   int                  `json:"publishWave"`
	PublishOrder  int                  `json:"publishOrder"`
	ProducerNames []string             `json:"producerNames"`
	Applications  []PreviewApplication `json:"applications"`
	Findings      []PreviewFinding     `json:"findings"`
}

// Preview is the answer of POST /migration-previews.
type Preview struct {
	SourceEnvironmentKey string         `json:"sourceEnvironmentKey"`
	PreviewedAt          time.Time      `json:"previewedAt"`
	Blocked              bool           `json:"blocked"`
	Assets               []PreviewAsset `json:"assets"`
}

func (s *Service) preview(w http.ResponseWriter, r *http.Request) {
	req, err := ParsePreview(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.PreviewMigration(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

// ParsePreview reads and checks a POST /migration-previews body.
func ParsePreview(w http.ResponseWriter, r *http.Request) (PreviewRequest, error) {
	var req PreviewRequest
	obj, err := assessment.ReadObject(w, r, "sourceEnvironmentKey", "assets")
	if err != nil {
		return req, err
	}
	p := &assessment.FieldParser{Obj: obj}
	if v := p.Text("sourceEnvironmentKey", true, 0); v != nil {
		key, err := assessment.ParseGUID("sourceEnvironmentKey", *v)
		if err != nil {
			p.Addf("%v.", err)
		}
		req.SourceEnvironmentKey = key
	}
	raw, ok := obj["assets"]
	var values []json.RawMessage
	switch {
	case !ok:
		p.Addf("assets is required.")
	case json.Unmarshal(raw, &values) != nil || values == nil:
		p.Addf(`assets must be an array of asset definitions like {"name": "Customer Core", "assetType": "LowCodeLibrary", "applicationKeys": ["<O11 application key>"]}.`)
	case len(values) == 0:
		p.Addf("assets must define at least one asset.")
	case len(values) > MaxPreviewAssets:
		p.Addf("assets defines %d assets; a preview takes at most %d: preview the wave in parts.", len(values), MaxPreviewAssets)
	}
	assetOfApp := map[string]string{}
	for i, v := range values {
		d, problems := assessment.ParseMappingDefinition(v, fmt.Sprintf("assets[%d]", i))
		for _, pr := range problems {
			p.Addf("%s", pr)
		}
		if len(problems) > 0 {
			continue
		}
		if j := slices.IndexFunc(req.Assets, func(o assessment.MappingDefinition) bool { return migrationkit.SameName(o.Name, d.Name) }); j >= 0 {
			p.Addf("assets[%d].name '%s' is the name of assets[%d] too (names compare ignoring letter case).", i, d.Name, j)
			continue
		}
		for _, k := range d.ApplicationKeys {
			if other, taken := assetOfApp[k]; taken {
				p.Addf("assets[%d].applicationKeys lists '%s', which '%s' lists too: an O11 application goes to one asset.", i, k, other)
			}
			assetOfApp[k] = d.Name
		}
		req.Assets = append(req.Assets, d)
	}
	return req, p.Err()
}

// previewNamespace keys the definitions no mapping holds yet.
var previewNamespace = uuid.MustParse("0b9f6f4e-1c55-5d0a-8f4e-3f3b1a7d2c61")

// PreviewMigration computes a preview at the service's clock.
func (s *Service) PreviewMigration(ctx context.Context, req PreviewRequest) (Preview, error) {
	now := s.now()
	out := Preview{SourceEnvironmentKey: req.SourceEnvironmentKey, PreviewedAt: now.UTC(), Assets: []PreviewAsset{}}
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		env, err := s.lifetime.EnvironmentByKey(ctx, tx, req.SourceEnvironmentKey)
		if errors.Is(err, httpx.ErrNotFound) {
			return &assessment.Problem{Status: http.StatusNotFound, Code: CodeEnvironmentNotFound, Detail: fmt.Sprintf(
				"LifeTime environment with key '%s' was not found: sourceEnvironmentKey must be the key of an environment of the O11 infrastructure.", req.SourceEnvironmentKey)}
		}
		if err != nil {
			return err
		}
		assets, err := s.previewAssets(ctx, tx, now, env, req.Assets)
		out.Assets = assets
		return err
	})
	for _, a := range out.Assets {
		out.Blocked = out.Blocked || slices.ContainsFunc(a.Findings, func(f PreviewFinding) bool { return f.Blocking })
	}
	return out, err
}

func (s *Service) previewAssets(ctx context.Context, tx *sql.Tx, now time.Time, env lifetime.Environment, defs []assessment.MappingDefinition) ([]PreviewAsset, error) {
	all, err := s.lifetime.PortfolioApps(ctx, tx)
	if err != nil {
		return nil, err
	}
	apps := make(map[string]lifetime.PortfolioApp, len(all))
	appOfModule := map[string]string{}
	for _, a := range all {
		apps[a.Key] = a
		for _, m := range a.Modules {
			appOfModule[m.Key] = a.Key
		}
	}
	var unknown, appKeys []string
	for _, d := range defs {
		for _, k := range d.ApplicationKeys {
			if a, ok := apps[k]; !ok || a.IsSystem {
				unknown = append(unknown, fmt.Sprintf("'%s' (of '%s')", k, d.Name))
			}
			appKeys = append(appKeys, k)
		}
	}
	if len(unknown) > 0 {
		return nil, &assessment.Problem{Status: http.StatusNotFound, Code: assessment.CodeApplicationNotFound, Detail: fmt.Sprintf(
			"No O11 application the kit sees has the key(s) %s: use the LifeTime keys of the applications.", strings.Join(unknown, ", "))}
	}
	holders, err := s.mappings.ApplicationHolders(ctx, tx, appKeys)
	if err != nil {
		return nil, err
	}

	out := make([]PreviewAsset, len(defs))
	mappings := make([]assessment.MigrationMapping, len(defs)) // the applications with a version in the environment
	itemOfApp := map[string]string{}
	index := map[string]int{} // item key -> definition
	for i, d := range defs {
		a := PreviewAsset{Name: d.Name, AssetType: d.AssetType, ProducerNames: []string{}, Applications: []PreviewApplication{}, Findings: []PreviewFinding{}}
		mapping, exists, err := s.mappings.MappingNamed(ctx, tx, d.Name, now)
		if err != nil {
			return nil, err
		}
		key := uuid.NewSHA1(previewNamespace, []byte(strings.ToLower(d.Name))).String()
		if exists {
			key = mapping.Key
			a.MappingKey = &mapping.Key
		}
		index[key] = i
		finding := func(blocking bool, code, format string, args ...any) {
			a.Findings = append(a.Findings, PreviewFinding{Code: code, Message: fmt.Sprintf(format, args...), Blocking: blocking})
		}
		// The mapping rules, as POST /mappings (or the PATCH of the
		// mapping of this name) would check them.
		kitApps := make([]migrationkit.Application, len(d.ApplicationKeys))
		for j, k := range d.ApplicationKeys {
			app := apps[k]
			ka := migrationkit.Application{Key: k, Name: app.Name, Kind: app.Kind, LibraryOnly: app.LibraryOnly(), ModuleCount: len(app.Modules), MappingKey: holders[k].Key}
			for _, mod := range app.Modules {
				ka.HasExtensions = ka.HasExtensions || mod.Type == migrationkit.ModuleTypeExtension
			}
			kitApps[j] = ka
		}
		for _, v := range migrationkit.CheckMapping(d.AssetType, kitApps, mapping.Key) {
			if v.Rule == migrationkit.RuleAlreadyMapped {
				for _, app := range v.Apps {
					finding(true, assessment.CodeApplicationAlreadyMapped, "O11 application '%s' (key %s) is mapped to '%s' already: an application goes to one mapping. Take it out of '%s' or of this definition.",
						app.Name, app.Key, holders[app.Key].Name, holders[app.Key].Name)
				}
				continue
			}
			finding(true, ruleCode(v.Rule), "'%s' (%s) cannot hold %s: %s.", d.Name, d.AssetType, appNames(v.Apps), ruleText(v.Rule))
		}
		if exists && mapping.Status == migrationkit.StatusNotReady && sameKeys(mapping.Apps, d.ApplicationKeys) {
			finding(true, CodePreviewNotReady, "Mapping '%s' (key %s) is NotReady: fix the open findings in O11 (GET /mappings/%s/findings) and wait for the assessment before migrating.",
				mapping.Name, mapping.Key, mapping.Key)
		}
		if taken, err := s.nameTaken(ctx, tx, key, d.Name, d.AssetType); err != nil {
			return nil, err
		} else if taken != "" {
			finding(true, CodeAssetNameTaken, "A code migration never makes a second ODC asset of one name, and %s. Rename the definition or that ODC asset.", taken)
		}
		// The versions a migration converts: the latest tag of each
		// application in the source environment, with its modules.
		m := assessment.MigrationMapping{Key: key, Name: d.Name, AssetType: d.AssetType, Status: migrationkit.StatusReadyForOdc}
		for _, k := range d.ApplicationKeys {
			app := apps[k]
			itemOfApp[k] = key
			pa := PreviewApplication{ApplicationKey: k, Name: app.Name, Modules: []PreviewModule{}}
			v, err := s.lifetime.RunningVersionOf(ctx, tx, k, env.Key)
			switch {
			case errors.Is(err, httpx.ErrNotFound):
				finding(true, CodeApplicationNotInEnvironment, "O11 application '%s' (key %s) has no tagged version in the source environment '%s': deploy and tag it there, or migrate from another environment.",
					app.Name, k, env.Name)
				a.Applications = append(a.Applications, pa)
				continue
			case err != nil:
				return nil, err
			}
			pa.VersionKey, pa.Version, pa.IsModified = &v.VersionKey, &v.Version, v.IsModified
			if v.IsModified {
				finding(false, CodeUntaggedChanges, "O11 application '%s' has changes in environment '%s' that no tag holds: a migration converts its latest tag, %s, not those changes. Tag it before migrating to bring them (the version then differs from this preview's).",
					app.Name, env.Name, v.Version)
			}
			modules, err := s.lifetime.VersionModules(ctx, tx, v.VersionKey)
			if err != nil {
				return nil, err
			}
			for _, mv := range modules {
				pm := PreviewModule{ModuleKey: mv.ModuleKey, ModuleVersionKey: mv.ModuleVersionKey}
				if j := slices.IndexFunc(app.Modules, func(pm lifetime.PortfolioModule) bool { return pm.Key == mv.ModuleKey }); j >= 0 {
					pm.Name, pm.Type = app.Modules[j].Name, app.Modules[j].Type
				}
				pa.Modules = append(pa.Modules, pm)
			}
			a.Applications = append(a.Applications, pa)
			m.Apps = append(m.Apps, assessment.MappedApp{Key: k, Name: app.Name})
		}
		out[i], mappings[i] = a, m
	}
	unmigrated, err := s.resolveProducers(ctx, tx, mappings, itemOfApp, appOfModule, func(k string) string { return apps[k].Name })
	if err != nil {
		return nil, err
	}
	items, err := s.migrationItems(ctx, tx, mappings, env.Key, env.Name)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		// Conversion failures show only when converting: a preview
		// cannot know them.
		it.errors = []Message{}
	}
	planPublishOrder(items)
	names := map[string]string{}
	for _, it := range items {
		names[it.mappingKey] = it.name
	}
	for _, it := range items {
		a := &out[index[it.mappingKey]]
		a.PublishWave, a.PublishOrder = it.wave, it.order
		for _, p := range it.producerMappingKeys {
			if n, ok := names[p]; ok {
				a.ProducerNames = append(a.ProducerNames, n)
			}
		}
		slices.SortFunc(a.ProducerNames, func(x, y string) int { return cmp.Compare(strings.ToLower(x), strings.ToLower(y)) })
		for _, e := range it.errors { // the cycles planPublishOrder broke
			a.Findings = append(a.Findings, PreviewFinding{Code: e.Code, Message: e.Message, Blocking: true})
		}
		for _, msg := range append(it.messages, unmigrated[it.mappingKey]...) {
			switch msg.Code {
			case CodeTrueChangeError:
				continue // known only once the code is converted
			case CodeUntaggedChanges:
				continue // worded for a preview below
			}
			a.Findings = append(a.Findings, PreviewFinding{Code: msg.Code, Message: msg.Message})
		}
	}
	slices.SortFunc(out, func(x, y PreviewAsset) int { return x.PublishOrder - y.PublishOrder })
	return out, nil
}

// sameKeys reports whether a mapping holds exactly the given applications.
func sameKeys(apps []assessment.MappedApp, keys []string) bool {
	if len(apps) != len(keys) {
		return false
	}
	for _, a := range apps {
		if !slices.Contains(keys, strings.ToLower(a.Key)) {
			return false
		}
	}
	return true
}

// ruleCode is the errorCode POST /mappings answers for a broken rule.
func ruleCode(r migrationkit.Rule) string {
	switch r {
	case migrationkit.RuleAlreadyMapped:
		return assessment.CodeApplicationAlreadyMapped
	case migrationkit.RuleExtensionNotMappable:
		return assessment.CodeExtensionNotMappable
	case migrationkit.RuleLibraryNeedsLibraryOnly:
		return assessment.CodeLibraryRequiresLibraryOnlyApps
	case migrationkit.RuleTooManyModules:
		return assessment.CodeTooManyModules
	}
	return assessment.CodeMixedAppKinds
}
