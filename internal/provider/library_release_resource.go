package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

var (
	_ resource.ResourceWithConfigure   = (*libraryReleaseResource)(nil)
	_ resource.ResourceWithImportState = (*libraryReleaseResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*libraryReleaseResource)(nil)
)

// semverRegexp is an ODC release tag: Major.Minor.Patch.
var semverRegexp = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$`)

// NewLibraryReleaseResource is the outsystems_library_release resource.
func NewLibraryReleaseResource() resource.Resource { return &libraryReleaseResource{} }

type libraryReleaseResource struct{ data *providerData }

type libraryReleaseModel struct {
	ID            types.String `tfsdk:"id"`
	AssetKey      types.String `tfsdk:"asset_key"`
	Revision      types.Int64  `tfsdk:"revision"`
	Version       types.String `tfsdk:"version"`
	ReleaseNotes  types.String `tfsdk:"release_notes"`
	CommitMessage types.String `tfsdk:"commit_message"`
	KeepOnDestroy types.Bool   `tfsdk:"keep_on_destroy"`
	Name          types.String `tfsdk:"name"`
	TaggedAt      types.String `tfsdk:"tagged_at"`
	TaggedBy      types.String `tfsdk:"tagged_by"`
}

func (r *libraryReleaseResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_library_release"
}

func (r *libraryReleaseResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Releases a revision of an ODC library: tags it with a version, as ODC's Asset Repository API does " +
			"(`PATCH /assets/{assetKey}/revisions/{revisionNumber}`), so consumers can depend on it.\n\n" +
			"The revision must be published first, and **producer libraries are released first**: when a producer library of " +
			"the revision has no release, the apply fails naming it and the release to reference. The version must be higher " +
			"than the library's highest existing tag (checked at plan time where known).\n\n" +
			"Destroying the resource clears the tag only when no consumer depends on the library; otherwise it refuses, naming " +
			"the consumers (set `keep_on_destroy` and apply it before the destroy to only forget the release).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "`<asset_key>/<revision>`.", PlanModifiers: keep},
			"asset_key": schema.StringAttribute{
				Required: true, MarkdownDescription: "Key of the ODC library.",
				Validators: []validator.String{guidValidator("ODC asset key")}, PlanModifiers: replace,
			},
			"revision": schema.Int64Attribute{
				Required: true, MarkdownDescription: "Revision to release; it must be published.",
				Validators:    []validator.Int64{int64validator.AtLeast(1)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"version": schema.StringAttribute{
				Required: true, MarkdownDescription: "Release version, `Major.Minor.Patch` (e.g. `1.0.0`), higher than the library's highest existing tag.",
				Validators:    []validator.String{stringvalidator.RegexMatches(semverRegexp, "must be Major.Minor.Patch, such as 1.0.0")},
				PlanModifiers: replace,
			},
			"release_notes": schema.StringAttribute{
				Optional: true, MarkdownDescription: "Release notes shown to consumers.",
				Validators:    []validator.String{stringvalidator.LengthAtMost(4000)},
				PlanModifiers: replace,
			},
			"commit_message": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Commit message to give the revision with the release. ODC **overwrites** the revision's own commit " +
					"message with it, so leave it unset (the default) to keep the message the revision was made with; releasing and " +
					"removing a release then send none.",
				Validators:    []validator.String{stringvalidator.LengthBetween(1, 4000)},
				PlanModifiers: replace,
			},
			"keep_on_destroy": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "When `true`, destroying the resource leaves the tag in ODC and only forgets it (default `false`). " +
					"Destroy reads it from the state: apply a change to it before the destroy.",
			},
			"name":      schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the library.", PlanModifiers: keep},
			"tagged_at": schema.StringAttribute{Computed: true, MarkdownDescription: "When the revision was tagged.", PlanModifiers: keep},
			"tagged_by": schema.StringAttribute{Computed: true, MarkdownDescription: "Who tagged the revision.", PlanModifiers: keep},
		},
	}
}

func (r *libraryReleaseResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// compareVersions compares two Major.Minor.Patch versions.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < 3; i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// versionNotHigher explains a version that is not above the highest tag.
func versionNotHigher(version string, highest *client.AssetRevision) string {
	return fmt.Sprintf("`version` %q is not higher than %q, the highest existing tag of library %q (revision %d). ODC only accepts a "+
		"release version higher than every existing tag: set `version` above %s.", version, highest.Tag, highest.Name, highest.Revision, highest.Tag)
}

func (r *libraryReleaseResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || !r.data.configuredForPlan(&resp.Diagnostics, false, false, true) {
		return
	}
	var plan libraryReleaseModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !plan.ID.IsUnknown() || plan.AssetKey.IsUnknown() || plan.Version.IsUnknown() {
		return
	}
	odc, assetKey, revision := r.data.odc, plan.AssetKey.ValueString(), 0
	if !plan.Revision.IsUnknown() {
		revision = int(plan.Revision.ValueInt64())
	}
	// What the plan reads here (the library, its producers and theirs) is
	// cached for the apply, which then only releases and reads the release.
	facts, err := r.data.readReleaseFacts(ctx, odc, assetKey, revision, false)
	if client.IsNotFound(err) {
		return // the asset or revision does not exist yet as far as ODC knows; checked at apply
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Library", "read library "+assetKey+" and the libraries it consumes", err)
		return
	}
	if !facts.library.isLibrary {
		asset, err := odc.GetAsset(ctx, assetKey)
		switch {
		case client.IsNotFound(err):
			return // checked at apply
		case err != nil:
			addAPIError(&resp.Diagnostics, "Failed To Read The Asset", "read asset "+assetKey, err)
		case asset.AssetType != client.AssetTypeLibrary:
			resp.Diagnostics.AddAttributeError(path.Root("asset_key"), "Not A Library", notALibrary(asset.Name, assetKey, asset.AssetType))
		}
		return // a library the portfolio does not list is checked at apply
	}
	highest := facts.library.highestTag()
	if highest != nil && highest.Revision == revision && highest.Tag == plan.Version.ValueString() {
		return // this revision already carries this release: the apply adopts it
	}
	// A replacement of this very release frees its tag first.
	if highest != nil && !req.State.Raw.IsNull() {
		var state libraryReleaseModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if strings.EqualFold(state.AssetKey.ValueString(), assetKey) && state.Version.ValueString() == highest.Tag {
			return
		}
	}
	if highest != nil && compareVersions(plan.Version.ValueString(), highest.Tag) <= 0 {
		resp.Diagnostics.AddAttributeError(path.Root("version"), "Version Not Higher Than The Last Release", versionNotHigher(plan.Version.ValueString(), highest))
	}
}

func notALibrary(name, assetKey, assetType string) string {
	return fmt.Sprintf("Asset %q (%s) is a %s; only libraries are released. Publish apps with outsystems_asset_publication only.", name, assetKey, assetType)
}

// Create checks, from what the plan read (or reads it now), that the
// revision is a published library revision whose producer libraries are
// released and that the version is higher than every other tag; then it
// tags the revision and reads the release back: two requests when the plan
// knew the asset and revision.
func (r *libraryReleaseResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var plan libraryReleaseModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	assetKey, revision, version := plan.AssetKey.ValueString(), int(plan.Revision.ValueInt64()), plan.Version.ValueString()
	facts, err := r.data.readReleaseFacts(ctx, odc, assetKey, revision, false)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Library Revision", fmt.Sprintf("read library %s revision %d and the libraries it consumes", assetKey, revision), err)
		return
	}
	entry := facts.library.revision(revision)
	if entry == nil || entry.PublishedAt == "" {
		// Published since the plan read it, or a revision the portfolio
		// does not list (neither the latest nor tagged): read it again.
		if facts, err = r.data.readReleaseFacts(ctx, odc, assetKey, revision, true); err != nil {
			addAPIError(&resp.Diagnostics, "Failed To Read The Library Revision", fmt.Sprintf("read library %s revision %d", assetKey, revision), err)
			return
		}
		if entry, err = r.unlistedRevision(ctx, odc, facts, assetKey, revision); err != nil {
			var notLib *notLibraryError
			if errors.As(err, &notLib) {
				resp.Diagnostics.AddAttributeError(path.Root("asset_key"), "Not A Library", notALibrary(notLib.rev.Name, assetKey, notLib.rev.AssetType))
			} else {
				addAPIError(&resp.Diagnostics, "Failed To Read The Library Revision", fmt.Sprintf("read library %s revision %d", assetKey, revision), err)
			}
			return
		}
	}
	name := entry.Name
	if entry.PublishedAt == "" {
		resp.Diagnostics.AddAttributeError(path.Root("revision"), "Revision Not Published",
			fmt.Sprintf("Library %q (%s) revision %d is not published yet, and ODC releases published revisions. Reference its "+
				"outsystems_asset_publication (e.g. revision = outsystems_asset_publication.<name>.revision) so it is published first.", name, assetKey, revision))
		return
	}
	// Recorded before the gate: a consumer library's release in the same
	// apply waits for this one rather than failing.
	defer r.data.order.begin(releaseOrderKey(assetKey))()
	looks := 0
	missing, err := r.data.awaitProducers(ctx, fmt.Sprintf("the producer libraries of %q revision %d to be released", name, revision),
		func(ctx context.Context) (producerCheck, error) {
			if looks++; looks > 1 {
				// Released since the last look: read them again.
				var err error
				if facts, err = r.data.readReleaseFacts(ctx, odc, assetKey, revision, true); err != nil {
					return producerCheck{}, err
				}
			}
			unreleased, err := r.unreleasedProducers(ctx, odc, facts)
			got := producerCheck{missing: unreleased}
			for _, p := range unreleased {
				got.underway = got.underway || r.data.order.assetUnderway(p.AssetKey)
			}
			return got, err
		})
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Producers", fmt.Sprintf("read the producer libraries of library %q revision %d (the elements it references)", name, revision), err)
		return
	}
	if len(missing) > 0 {
		resp.Diagnostics.AddAttributeError(path.Root("asset_key"), "Producer Libraries Not Released",
			fmt.Sprintf("Library %q revision %d consumes producer libraries that have no release yet: %s. None of them was released, "+
				"or being published or released by this apply, while this release waited for them.\n\nRelease producers first: "+
				"reference the outsystems_library_release of each of these producers (the one whose asset_key is the producer's key) from "+
				"this resource, e.g. with depends_on. If the configuration already references it, that release did not run in this "+
				"apply: check that it is in this configuration and its state (terraform state list) and whether it failed earlier in "+
				"this apply; then apply again.", name, revision, producerLabels(missing)))
		return
	}
	if entry.Tag != version {
		if highest := facts.library.highestTag(); highest != nil && compareVersions(version, highest.Tag) <= 0 {
			resp.Diagnostics.AddAttributeError(path.Root("version"), "Version Not Higher Than The Last Release", versionNotHigher(version, highest))
			return
		}
		tag := version
		err = actOnce(ctx, fmt.Sprintf("release %s of %q", version, name), r.data.attempts,
			func(ctx context.Context) error {
				return odc.TagRevision(ctx, assetKey, revision, &tag, plan.ReleaseNotes.ValueString(), plan.CommitMessage.ValueString())
			},
			func(ctx context.Context) (bool, error) {
				got, err := odc.GetRevision(ctx, assetKey, revision)
				return err == nil && got.Tag == version, err
			})
		if err != nil {
			addAPIError(&resp.Diagnostics, "Failed To Release The Library", fmt.Sprintf("tag library %q revision %d as %s", name, revision, version), err)
			return
		}
	}
	plan.ID = types.StringValue(fmt.Sprintf("%s/%d", assetKey, revision))
	plan.Name = types.StringValue(name)
	plan.TaggedAt = types.StringValue("")
	plan.TaggedBy = types.StringValue("")
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if got, err := odc.GetRevision(ctx, assetKey, revision); err == nil {
		r.data.noteRelease(assetKey, *got)
		plan.Name = types.StringValue(got.Name)
		plan.TaggedAt = types.StringValue(got.TaggedAt)
		plan.TaggedBy = types.StringValue(got.TaggedBy)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	} else {
		addAPIError(&resp.Diagnostics, "Failed To Read The Release", "read the release just made; it is recorded in state", err)
	}
}

// notLibraryError says an asset a release names is no library.
type notLibraryError struct{ rev *client.AssetRevision }

func (e *notLibraryError) Error() string {
	return fmt.Sprintf("%s is a %s", e.rev.AssetKey, e.rev.AssetType)
}

// unlistedRevision finds a revision the portfolio's listing (facts) does
// not show as published: from the listing when it now does, else from the
// revision itself and its publish operations (a revision neither latest nor
// tagged is not listed). It returns a *notLibraryError for an app.
func (r *libraryReleaseResource) unlistedRevision(ctx context.Context, odc *client.ODC, facts *releaseFacts, assetKey string, revision int) (*client.LibraryRevision, error) {
	if e := facts.library.revision(revision); e != nil && e.PublishedAt != "" {
		return e, nil
	}
	rev, err := odc.GetRevision(ctx, assetKey, revision)
	if err != nil {
		return nil, err
	}
	if rev.AssetType != client.AssetTypeLibrary {
		return nil, &notLibraryError{rev}
	}
	published, err := revisionPublished(ctx, odc, assetKey, revision)
	if err != nil {
		return nil, err
	}
	e := &client.LibraryRevision{Revision: revision, Name: rev.Name, Tag: rev.Tag}
	if published {
		e.PublishedAt = "published"
	}
	if !facts.library.isLibrary {
		// A library the portfolio does not list: its highest tag from
		// the asset repository instead.
		h, err := odc.HighestTagRevision(ctx, assetKey)
		if err != nil {
			return nil, err
		}
		facts.library = &cachedLibrary{isLibrary: true, revisions: []client.LibraryRevision{*e}}
		if h != nil && h.Revision != revision {
			facts.library.revisions = append(facts.library.revisions, client.LibraryRevision{Revision: h.Revision, Name: h.Name, Tag: h.Tag})
		}
	}
	return e, nil
}

// unreleasedProducers lists the revision's producer libraries that have no
// release; one the portfolio does not list is asked about by its highest tag.
func (r *libraryReleaseResource) unreleasedProducers(ctx context.Context, odc *client.ODC, facts *releaseFacts) ([]client.ReferencedProducer, error) {
	var missing []client.ReferencedProducer
	for _, p := range facts.producers {
		lib := facts.libs[strings.ToLower(p.AssetKey)]
		if lib != nil && lib.isLibrary {
			if lib.highestTag() == nil {
				missing = append(missing, p)
			}
			continue
		}
		h, err := odc.HighestTagRevision(ctx, p.AssetKey)
		if err != nil {
			return nil, err
		}
		if h == nil || h.Tag == "" {
			missing = append(missing, p)
		}
	}
	return missing, nil
}

// releaseFacts is what a release checks before it tags a revision: the
// library as ODC's portfolio lists it, the revision's direct producer
// libraries (from the elements it references) and theirs, by lower-case key.
type releaseFacts struct {
	library   *cachedLibrary
	producers []client.ReferencedProducer
	libs      map[string]*cachedLibrary
}

// readReleaseFacts reads a release's facts through the run cache: the
// revision's producers (once per process; none when revision is 0, not
// known yet) and the library and its producer libraries in one listing
// (only the keys not cached, or all of them when fresh).
func (d *providerData) readReleaseFacts(ctx context.Context, odc *client.ODC, assetKey string, revision int, fresh bool) (*releaseFacts, error) {
	f := &releaseFacts{}
	keys := []string{assetKey}
	if revision > 0 {
		all, err := d.revisionProducers(ctx, odc, assetKey, revision)
		if err != nil {
			return nil, err
		}
		f.producers = gatedProducers(all, assetKey, true)
		for _, p := range f.producers {
			keys = append(keys, p.AssetKey)
		}
	}
	libs, err := d.libraryRevisions(ctx, odc, keys, fresh)
	if err != nil {
		return nil, err
	}
	f.libs, f.library = libs, libs[strings.ToLower(assetKey)]
	return f, nil
}

// revision returns the listed revision n, or nil.
func (c *cachedLibrary) revision(n int) *client.LibraryRevision {
	for i := range c.revisions {
		if c.revisions[i].Revision == n {
			return &c.revisions[i]
		}
	}
	return nil
}

// highestTag returns the highest tagged revision, or nil. A release must
// be higher than every tag, the revision's own included (a released
// revision is not tagged down).
func (c *cachedLibrary) highestTag() *client.AssetRevision {
	var h *client.AssetRevision
	for _, r := range c.revisions {
		if r.Tag == "" {
			continue
		}
		if h == nil || compareVersions(r.Tag, h.Tag) > 0 {
			h = &client.AssetRevision{Revision: r.Revision, Name: r.Name, Tag: r.Tag}
		}
	}
	return h
}

// revisionPublished reports whether a finished publish of the revision exists.
func revisionPublished(ctx context.Context, odc *client.ODC, assetKey string, revision int) (bool, error) {
	ops, err := odc.ListPublishOperations(ctx, assetKey, "")
	if err != nil {
		return false, err
	}
	for _, op := range ops {
		if op.Revision == revision && op.Status == client.PublishStatusFinished {
			return true, nil
		}
	}
	return false, nil
}

func (r *libraryReleaseResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var state libraryReleaseModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	rev, err := odc.GetRevision(ctx, state.AssetKey.ValueString(), int(state.Revision.ValueInt64()))
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Release", "read library "+state.ID.ValueString(), err)
		return
	}
	if rev.Tag == "" {
		tflog.Warn(ctx, "The library revision's tag was removed outside Terraform; the release will be recreated", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	state.Version = types.StringValue(rev.Tag)
	state.Name = types.StringValue(rev.Name)
	state.TaggedAt = types.StringValue(rev.TaggedAt)
	state.TaggedBy = types.StringValue(rev.TaggedBy)
	if state.KeepOnDestroy.IsNull() {
		state.KeepOnDestroy = types.BoolValue(false)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *libraryReleaseResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan libraryReleaseModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *libraryReleaseResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state libraryReleaseModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.KeepOnDestroy.ValueBool() {
		resp.Diagnostics.AddWarning("Library Release Kept",
			fmt.Sprintf("keep_on_destroy is set: release %s of library %q stays in ODC and was only removed from Terraform state.", state.Version.ValueString(), state.Name.ValueString()))
		return
	}
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	assetKey := state.AssetKey.ValueString()
	consumers, err := odc.Consumers(ctx, assetKey)
	if err != nil && !client.IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "Failed To Read The Consumers", fmt.Sprintf("check which assets consume library %q before removing its release", state.Name.ValueString()), err)
		return
	}
	if len(consumers) > 0 {
		names := make([]string, 0, len(consumers))
		for _, c := range consumers {
			names = append(names, fmt.Sprintf("%q (asset %s)", c.Name, c.AssetKey))
		}
		resp.Diagnostics.AddError("Library Release Has Consumers", releaseHasConsumersDetail(state.Version.ValueString(), state.Name.ValueString(), names))
		return
	}
	err = odc.TagRevision(ctx, assetKey, int(state.Revision.ValueInt64()), nil, "", "")
	if err != nil && !client.IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "Failed To Remove The Release", fmt.Sprintf("clear tag %s of library %q", state.Version.ValueString(), state.Name.ValueString()), err)
	}
}

// releaseHasConsumersDetail is the error of a destroy that would clear a
// release its consumers depend on. Destroy reads keep_on_destroy from the
// state, so setting it takes an apply before the destroy.
func releaseHasConsumersDetail(version, library string, consumers []string) string {
	return fmt.Sprintf("Release %s of library %q is not removed because these assets consume the library: %s. Removing the tag would break "+
		"their dependency updates. Remove the dependency in ODC Studio first, or set `keep_on_destroy = true` on this resource and "+
		"apply that change before destroying it (destroy reads the setting from the state, so changing the configuration alone is not "+
		"enough; if the resource is already gone from the configuration, put it back with the setting and apply); then the destroy "+
		"only forgets the release.", version, library, strings.Join(consumers, ", "))
}

func (r *libraryReleaseResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	assetKey, revision, err := parseReleaseImportID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), fmt.Sprintf("%s/%d", assetKey, revision))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("asset_key"), assetKey)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("revision"), int64(revision))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("keep_on_destroy"), false)...)
	// Read does not fetch release notes (they change only with a new
	// release); an import learns them once.
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	notes, err := odc.ReleaseNotes(ctx, assetKey, revision)
	if err != nil && !client.IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "Failed To Read The Release Notes", fmt.Sprintf("read the release notes of library %s revision %d", assetKey, revision), err)
		return
	}
	if notes != "" {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("release_notes"), notes)...)
	}
}

// parseReleaseImportID reads `<asset_key>/<revision>`.
func parseReleaseImportID(id string) (string, int, error) {
	parts := strings.Split(strings.TrimSpace(id), "/")
	const want = "expected <asset_key>/<revision>, e.g. 3f2504e0-4f89-11d3-9a0c-0305e82c3301/1"
	if len(parts) != 2 || !guidRegexp.MatchString(parts[0]) {
		return "", 0, fmt.Errorf("import ID %q: %s", id, want)
	}
	rev, err := strconv.Atoi(parts[1])
	if err != nil || rev < 1 {
		return "", 0, fmt.Errorf("import ID %q: the revision %q is not a positive number; %s", id, parts[1], want)
	}
	return parts[0], rev, nil
}
