package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

var (
	_ resource.Resource                   = (*lifeTimeTagResource)(nil)
	_ resource.ResourceWithConfigure      = (*lifeTimeTagResource)(nil)
	_ resource.ResourceWithImportState    = (*lifeTimeTagResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*lifeTimeTagResource)(nil)
	_ resource.ResourceWithValidateConfig = (*lifeTimeTagResource)(nil)
)

// versionsScanned is how many recent versions are checked when picking or
// checking a version string (the OutSystems pipeline checks 10).
const versionsScanned = 50

// defaultTagTimeout bounds the wait for LifeTime to process a new tag.
const defaultTagTimeout = 20 * time.Minute

// tagProcessingGrace is how long after a create a Read keeps a tag whose
// version LifeTime still answers 404 for (it is being processed).
const tagProcessingGrace = time.Hour

// Private state keys of the tag resource.
const (
	privateTaggedAt = "tagged_at" // when the provider created a tag it has not seen processed yet (JSON time)
	privateAdopted  = "adopted"   // true: the resource adopted the running version instead of tagging
)

// NewLifeTimeTagResource is the outsystems_lifetime_tag resource.
func NewLifeTimeTagResource() resource.Resource { return &lifeTimeTagResource{} }

type lifeTimeTagResource struct{ data *providerData }

type lifeTimeTagModel struct {
	ID              types.String   `tfsdk:"id"`
	EnvironmentKey  types.String   `tfsdk:"environment_key"`
	ApplicationKey  types.String   `tfsdk:"application_key"`
	Version         types.String   `tfsdk:"version"`
	ChangeLog       types.String   `tfsdk:"change_log"`
	MobileVersions  types.List     `tfsdk:"mobile_versions"`
	ForceNewVersion types.Bool     `tfsdk:"force_new_version"`
	ApplicationName types.String   `tfsdk:"application_name"`
	CreatedOn       types.String   `tfsdk:"created_on"`
	AppModified     types.Bool     `tfsdk:"application_modified"`
	Timeouts        timeouts.Value `tfsdk:"timeouts"`
}

type mobileVersionModel struct {
	Platform      types.String `tfsdk:"platform"`
	VersionNumber types.String `tfsdk:"version_number"`
	Description   types.String `tfsdk:"description"`
}

var mobileVersionAttrTypes = map[string]attr.Type{
	"platform":       types.StringType,
	"version_number": types.StringType,
	"description":    types.StringType,
}

func (r *lifeTimeTagResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_lifetime_tag"
}

func (r *lifeTimeTagResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Tags the running version of an O11 application in a LifeTime environment, creating an " +
			"application version (LifeTime API v2 `POST /environments/{EnvironmentKey}/applications/{ApplicationKey}/versions`). " +
			"The Migration Kit migrates the **latest tagged version** of each app in the source environment, so tag every app " +
			"after its last change and after mapping it.\n\n" +
			"Tagging is asynchronous in LifeTime: the resource records the new version at once, then waits (bounded by " +
			"`timeouts.create`) until the version is readable and is the environment's running version.\n\n" +
			"Without `version`, an application with no changes since its last tag (`IsModified` false in the environment, " +
			"and no native shell changed) is not tagged again: the resource adopts the running version, as OutSystems' own " +
			"CI/CD pipeline tags only modified applications. Set `force_new_version = true` to tag anyway. For a mobile " +
			"application whose native shell changed, and without `mobile_versions`, the next version number of that platform " +
			"is sent, as the pipeline does.\n\n" +
			"Any argument change creates a new tag. Destroying the resource deletes the version where LifeTime allows it; " +
			"LifeTime keeps a version that is running in an environment or was deployed, and then the resource is only " +
			"removed from state, with a warning.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Key of the application version the tag created (LifeTime's `ApplicationVersionKey`).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"environment_key": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Key of the LifeTime environment whose running version is tagged (usually Development, the Migration Kit's source). Use `data.outsystems_lifetime_environment` to look it up by name.",
				Validators:          []validator.String{guidValidator("LifeTime environment key")},
				PlanModifiers:       replace,
			},
			"application_key": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Key of the O11 application to tag. Use `data.outsystems_lifetime_application` to look it up by name.",
				Validators:          []validator.String{guidValidator("O11 application key")},
				PlanModifiers:       replace,
			},
			"version": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Version string of the tag, 1 to 4 dotted numbers such as `1.4.0`. LifeTime refuses a version " +
					"the application already used. When unset, the apply takes the next patch version after the running " +
					"version (skipping any already used), as OutSystems' own CI/CD pipeline does, or adopts the running version of " +
					"an unmodified application; the plan shows it as known after apply, so a saved plan still holds when someone " +
					"tags or changes the application before it is applied.",
				Validators: []validator.String{stringvalidator.RegexMatches(lifeTimeVersionRegexp,
					"must be 1 to 4 dot-separated numbers, such as 1.4.0")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured(), stringplanmodifier.UseStateForUnknown()},
			},
			"change_log": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Change log recorded with the version, e.g. `Ready for ODC`.",
				Validators:          []validator.String{stringvalidator.LengthAtMost(2000)},
				PlanModifiers:       replace,
			},
			"mobile_versions": schema.ListNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Native build versions of a mobile application, one per platform.",
				Validators:          []validator.List{listvalidator.SizeAtMost(2)},
				PlanModifiers:       []planmodifier.List{listplanmodifier.RequiresReplace()},
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"platform": schema.StringAttribute{
							Required:            true,
							MarkdownDescription: "`Android` or `iOS`.",
							Validators:          []validator.String{stringvalidator.OneOf("Android", "iOS")},
						},
						"version_number": schema.StringAttribute{
							Required:            true,
							MarkdownDescription: "Version number of the native build, e.g. `1.4.0`.",
							Validators:          []validator.String{stringvalidator.LengthBetween(1, 50)},
						},
						"description": schema.StringAttribute{
							Optional:            true,
							MarkdownDescription: "Description of the native build.",
						},
					},
				},
			},
			"force_new_version": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Tag a new version even when the application has no changes since its last tag. Without it " +
					"(and without `version`) an unmodified application's running version is adopted instead.",
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()},
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true}),
			"application_name": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Name of the tagged application.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"created_on": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When LifeTime created the version (empty on O11 releases that do not report it).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"application_modified": schema.BoolAttribute{
				Computed: true,
				MarkdownDescription: "Whether the application has changes in the environment that no tag holds (LifeTime's " +
					"`IsModified`, or a native shell changed), as the last refresh read it. When it is true and `version` is not " +
					"set, the plan replaces the tag with a new one (the next patch version, picked at apply); when `version` is set, the plan " +
					"warns to set a new version instead.",
				PlanModifiers: []planmodifier.Bool{retagWhenModified{}},
			},
		},
	}
}

func (r *lifeTimeTagResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *lifeTimeTagResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var mvs []mobileVersionModel
	var list types.List
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("mobile_versions"), &list)...)
	if list.IsNull() || list.IsUnknown() {
		return
	}
	resp.Diagnostics.Append(list.ElementsAs(ctx, &mvs, false)...)
	seen := map[string]bool{}
	for i, mv := range mvs {
		if mv.Platform.IsUnknown() || mv.Platform.IsNull() {
			continue
		}
		p := mv.Platform.ValueString()
		if seen[p] {
			resp.Diagnostics.AddAttributeError(path.Root("mobile_versions").AtListIndex(i).AtName("platform"), "Duplicate Mobile Platform",
				fmt.Sprintf("`mobile_versions` lists the platform %q more than once. Give one entry per platform.", p))
		}
		seen[p] = true
	}
}

// ModifyPlan checks a new tag at plan time where the values are known: the
// application runs in the environment, an explicit version is unused, and
// for an unset version that a free one exists. An unset version stays
// "known after apply" (see below: what a saved plan can rely on).
func (r *lifeTimeTagResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || !r.data.configuredForPlan(&resp.Diagnostics, true, false, false) {
		return
	}
	// Only a new tag is checked: Terraform plans the new half of a
	// replacement again as a create, without prior state.
	if !req.State.Raw.IsNull() {
		return
	}
	var plan lifeTimeTagModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !plan.ID.IsUnknown() {
		return // not a create or replacement
	}
	var configVersion types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("version"), &configVersion)...)
	if !plan.EnvironmentKey.IsUnknown() && !plan.ApplicationKey.IsUnknown() {
		// A code migration planned after this tag (it depends on it) knows
		// the apply tags the app first.
		r.data.registerPlannedTag(plan.EnvironmentKey.ValueString(), plan.ApplicationKey.ValueString())
	}
	if plan.EnvironmentKey.IsUnknown() || plan.ApplicationKey.IsUnknown() || configVersion.IsUnknown() || plan.ForceNewVersion.IsUnknown() {
		return // checked at apply instead
	}
	lt := r.data.lifeTime
	target, diags := resolveTagTarget(ctx, lt, plan.EnvironmentKey.ValueString(), plan.ApplicationKey.ValueString())
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	// Without `version` the plan does not promise one: Terraform plans
	// again at apply (also for a saved plan, without telling the provider
	// what the saved plan said), and a version the plan showed would turn
	// into "inconsistent final plan" as soon as someone tags or changes
	// the app in between. The apply decides (adopt the running version or
	// tag the next free one) from what LifeTime says then.
	if configVersion.IsNull() && !target.adoptable(plan.ForceNewVersion.ValueBool()) {
		if _, err := target.nextVersion(); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("version"), "Cannot Choose A Version", err.Error())
			return
		}
	} else if used, ok := target.used[plan.Version.ValueString()]; ok && !configVersion.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("version"), "Version Already Used", duplicateVersionDetail(plan.Version.ValueString(), target.app.Name, used))
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("application_name"), target.app.Name)...)
}

func duplicateVersionDetail(version, appName, versionKey string) string {
	return fmt.Sprintf("Application %q already has a version %q (version key %s), and LifeTime refuses a version string an "+
		"application already used. Set `version` to a version that was not used before, or remove `version` to let the "+
		"provider take the next free patch version.", appName, version, versionKey)
}

// tagTarget is what the provider knows about an application before tagging it.
type tagTarget struct {
	app     *client.Application
	status  client.AppStatusInEnv      // the app's status in the environment
	running *client.ApplicationVersion // nil when the app was never tagged
	used    map[string]string          // version string -> version key
}

// adoptable reports whether the running version can stand for the tag: the
// application has no changes since it (nor a changed native shell), and a
// new version is not forced.
func (t *tagTarget) adoptable(force bool) bool {
	return !force && t.running != nil && !modifiedSinceTag(t.status)
}

// modifiedSinceTag reports whether an application has changes in an
// environment that its running version (its last tag there) does not
// hold: LifeTime's IsModified, or a native shell whose hash changed.
func modifiedSinceTag(st client.AppStatusInEnv) bool {
	if st.IsModified {
		return true
	}
	for _, m := range st.MobileAppsStatus {
		if m.IsModified {
			return true
		}
	}
	return false
}

// derivedMobileVersions gives each native shell that changed since the last
// tag the next version number, as OutSystems' pipeline does.
func (t *tagTarget) derivedMobileVersions() []client.MobileVersion {
	var out []client.MobileVersion
	for _, m := range t.status.MobileAppsStatus {
		if !m.IsModified {
			continue
		}
		next, err := bumpPatch(m.VersionNumber)
		if err != nil {
			next = "1.0.0"
		}
		out = append(out, client.MobileVersion{NativePlatform: m.NativePlatform, VersionNumber: next})
	}
	return out
}

// resolveTagTarget reads the application in the environment, its running
// version and its recent versions.
func resolveTagTarget(ctx context.Context, lt *client.LifeTime, envKey, appKey string) (*tagTarget, diag.Diagnostics) {
	var diags diag.Diagnostics
	app, err := lt.GetEnvironmentApplication(ctx, envKey, appKey, false)
	if err != nil {
		if client.IsNotFound(err) {
			diags.AddAttributeError(path.Root("application_key"), "Application Not Found In Environment",
				fmt.Sprintf("LifeTime has no application %s running in environment %s. Check `application_key` and `environment_key` "+
					"(look them up by name with the outsystems_lifetime_application and outsystems_lifetime_environment data sources).\n\nError: %s",
					appKey, envKey, err))
			return nil, diags
		}
		addAPIError(&diags, "Failed To Read The Application", fmt.Sprintf("read application %s in environment %s from LifeTime", appKey, envKey), err)
		return nil, diags
	}
	versions, err := lt.ListApplicationVersions(ctx, appKey, versionsScanned)
	if err != nil {
		addAPIError(&diags, "Failed To List Application Versions", fmt.Sprintf("list the versions of application %q", app.Name), err)
		return nil, diags
	}
	t := &tagTarget{app: app, used: map[string]string{}}
	for i := range versions {
		t.used[versions[i].Version] = versions[i].Key
	}
	st, ok := app.StatusIn(envKey)
	t.status = st
	if ok && st.BaseApplicationVersionKey != "" {
		for i := range versions {
			if strings.EqualFold(versions[i].Key, st.BaseApplicationVersionKey) {
				t.running = &versions[i]
			}
		}
		if t.running == nil {
			v, err := lt.GetApplicationVersion(ctx, appKey, st.BaseApplicationVersionKey)
			if err != nil {
				addAPIError(&diags, "Failed To Read The Running Version", fmt.Sprintf("read the running version of application %q", app.Name), err)
				return nil, diags
			}
			t.running = v
			t.used[v.Version] = v.Key
		}
	}
	return t, diags
}

// nextVersion is the next patch version after the running one that the
// application has not used.
func (t *tagTarget) nextVersion() (string, error) {
	base := "1.0.0"
	if t.running != nil {
		base = t.running.Version
	}
	v, err := bumpPatch(base)
	if err != nil {
		return "", fmt.Errorf("the running version of %q is %q, which is not a dotted version the provider can increment: set `version` explicitly", t.app.Name, base)
	}
	if t.running == nil {
		v = "1.0.0"
	}
	for i := 0; i < 1000; i++ {
		if _, used := t.used[v]; !used {
			return v, nil
		}
		v, _ = bumpPatch(v)
	}
	return "", fmt.Errorf("could not find an unused patch version after %q for %q: set `version` explicitly", base, t.app.Name)
}

// bumpPatch increments the last of (at least) three dotted numbers:
// 1.2 -> 1.2.1, 1.2.3 -> 1.2.4, 1.2.3.4 -> 1.2.3.5.
func bumpPatch(v string) (string, error) {
	if !lifeTimeVersionRegexp.MatchString(v) {
		return "", fmt.Errorf("%q is not a dotted version", v)
	}
	parts := strings.Split(v, ".")
	for len(parts) < 3 {
		parts = append(parts, "0")
	}
	last, err := strconv.Atoi(parts[len(parts)-1])
	if err != nil {
		return "", err
	}
	parts[len(parts)-1] = strconv.Itoa(last + 1)
	return strings.Join(parts, "."), nil
}

func (r *lifeTimeTagResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	lt := r.data.requireLifeTime(&resp.Diagnostics)
	if lt == nil {
		return
	}
	var plan lifeTimeTagModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	var configVersion types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("version"), &configVersion)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultTagTimeout)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	envKey, appKey := plan.EnvironmentKey.ValueString(), plan.ApplicationKey.ValueString()
	target, diags := resolveTagTarget(ctx, lt, envKey, appKey)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	if configVersion.IsNull() && target.adoptable(plan.ForceNewVersion.ValueBool()) {
		r.adopt(ctx, target, &plan, resp)
		return
	}
	version := plan.Version.ValueString()
	if configVersion.IsNull() || version == "" {
		v, err := target.nextVersion()
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("version"), "Cannot Choose A Version", err.Error())
			return
		}
		version = v
	} else if used, ok := target.used[version]; ok {
		resp.Diagnostics.AddAttributeError(path.Root("version"), "Version Already Used", duplicateVersionDetail(version, target.app.Name, used))
		return
	}

	body := client.CreateVersionRequest{ChangeLog: plan.ChangeLog.ValueString(), Version: version}
	var mvs []mobileVersionModel
	if !plan.MobileVersions.IsNull() {
		resp.Diagnostics.Append(plan.MobileVersions.ElementsAs(ctx, &mvs, false)...)
	}
	for _, mv := range mvs {
		body.MobileVersions = append(body.MobileVersions, client.MobileVersion{
			NativePlatform: mv.Platform.ValueString(), VersionNumber: mv.VersionNumber.ValueString(), VersionDescription: mv.Description.ValueString(),
		})
	}
	if plan.MobileVersions.IsNull() {
		body.MobileVersions = target.derivedMobileVersions()
	}
	tflog.Info(ctx, "Tagging O11 application", map[string]any{"application": target.app.Name, "environment_key": envKey, "version": version})
	key, err := createOnce(ctx, "tag "+version+" of "+target.app.Name, r.data.attempts,
		func(ctx context.Context) (string, error) {
			return lt.CreateApplicationVersion(ctx, envKey, appKey, body)
		},
		func(ctx context.Context) (string, bool, error) {
			versions, err := lt.ListApplicationVersions(ctx, appKey, versionsScanned)
			for _, v := range versions {
				if v.Version == version {
					return v.Key, true, nil
				}
			}
			return "", false, err
		})
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Tag The Application",
			fmt.Sprintf("tag application %q as version %q in environment %s", target.app.Name, version, envKey), err)
		return
	}
	// The version exists now: record it before anything else can fail.
	plan.ID = types.StringValue(key)
	plan.Version = types.StringValue(version)
	plan.ApplicationName = types.StringValue(target.app.Name)
	plan.CreatedOn = types.StringValue("")
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if stamp, err := json.Marshal(time.Now().UTC()); err == nil {
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateTaggedAt, stamp)...)
	}

	// LifeTime processes a tag before the version is readable and running.
	what := fmt.Sprintf("LifeTime to process tag %q of application %q (version key %s) and make it the running version in environment %s",
		version, target.app.Name, key, envKey)
	var got *client.ApplicationVersion
	err = waitFor(ctx, what, func(ctx context.Context) (pollState, error) {
		v, err := lt.GetApplicationVersion(ctx, appKey, key)
		if client.IsNotFound(err) {
			return pollState{status: "the version is not readable yet (404: still processing)"}, nil
		}
		if err != nil {
			return pollState{}, err
		}
		app, err := lt.GetEnvironmentApplication(ctx, envKey, appKey, false)
		if err != nil {
			return pollState{}, err
		}
		st, _ := app.StatusIn(envKey)
		if !strings.EqualFold(st.BaseApplicationVersionKey, key) {
			return pollState{status: fmt.Sprintf("the version is readable; the environment still runs version %q (key %s)",
				st.BaseApplicationVersionLabel, st.BaseApplicationVersionKey)}, nil
		}
		got = v
		return pollState{done: true, status: "running"}, nil
	})
	if err != nil {
		addAPIError(&resp.Diagnostics, "LifeTime Is Still Processing The Tag",
			fmt.Sprintf("wait for tag %q (key %s) of application %q. The version is recorded in state, marked tainted: once LifeTime has "+
				"processed it, `terraform untaint` keeps it; otherwise the next apply replaces it. Raise `timeouts.create` to wait longer",
				version, key, target.app.Name), err)
		return
	}
	plan.CreatedOn = types.StringValue(got.CreatedOn)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	// Processed: from now on a 404 means the version was deleted.
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateTaggedAt, nil)...)
}

// adopt records the running version as the tag, without tagging: the
// application has not changed since it was tagged.
func (r *lifeTimeTagResource) adopt(ctx context.Context, target *tagTarget, plan *lifeTimeTagModel, resp *resource.CreateResponse) {
	tflog.Info(ctx, "The application has no changes since its last tag: adopting the running version", map[string]any{
		"application": target.app.Name, "version": target.running.Version, "version_key": target.running.Key})
	plan.ID = types.StringValue(target.running.Key)
	plan.Version = types.StringValue(target.running.Version)
	plan.ApplicationName = types.StringValue(target.app.Name)
	plan.CreatedOn = types.StringValue(target.running.CreatedOn)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateAdopted, []byte("true"))...)
}

// taggedRecently reports whether the provider created this tag within
// tagProcessingGrace and did not see LifeTime finish processing it, so a
// 404 may be LifeTime still processing it.
func taggedRecently(ctx context.Context, private interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}) bool {
	raw, diags := private.GetKey(ctx, privateTaggedAt)
	if diags.HasError() || len(raw) == 0 {
		return false
	}
	var at time.Time
	if err := json.Unmarshal(raw, &at); err != nil {
		return false
	}
	return time.Since(at) < tagProcessingGrace
}

// isAdopted reports whether the resource adopted the running version.
func isAdopted(ctx context.Context, private interface {
	GetKey(context.Context, string) ([]byte, diag.Diagnostics)
}) bool {
	raw, diags := private.GetKey(ctx, privateAdopted)
	return !diags.HasError() && string(raw) == "true"
}

func (r *lifeTimeTagResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	lt := r.data.requireLifeTime(&resp.Diagnostics)
	if lt == nil {
		return
	}
	var state lifeTimeTagModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	envKey, appKey, versionKey := state.EnvironmentKey.ValueString(), state.ApplicationKey.ValueString(), state.ID.ValueString()
	// One request in the usual case: the application's state in the
	// environment says whether the tag is still its running version (so the
	// version exists; a version never changes) and whether the application
	// has changed since.
	var st client.AppStatusInEnv
	runsThere := false
	app, err := lt.GetEnvironmentApplication(ctx, envKey, appKey, false)
	switch {
	case client.IsNotFound(err):
		// The application no longer runs in the environment: only the
		// version itself says whether the tag still exists.
	case err != nil:
		addAPIError(&resp.Diagnostics, "Failed To Read The Tag",
			fmt.Sprintf("read application %s in environment %s, to check its tag %s", appKey, envKey, versionKey), err)
		return
	default:
		st, runsThere = app.StatusIn(envKey)
	}
	running := runsThere && strings.EqualFold(st.BaseApplicationVersionKey, versionKey)
	imported := state.Version.IsNull() || state.Version.IsUnknown() || state.CreatedOn.IsNull() || state.CreatedOn.IsUnknown()
	if !running || imported {
		v, err := lt.GetApplicationVersion(ctx, appKey, versionKey)
		if client.IsNotFound(err) && taggedRecently(ctx, req.Private) {
			// LifeTime answers 404 while it processes a new tag: keep it.
			tflog.Warn(ctx, "The tag is not readable yet (LifeTime may still be processing it); keeping it in state", map[string]any{"version_key": versionKey})
			return
		}
		if client.IsNotFound(err) {
			tflog.Warn(ctx, "The tagged application version no longer exists in LifeTime; removing it from state", map[string]any{"version_key": versionKey})
			resp.State.RemoveResource(ctx)
			return
		}
		if err != nil {
			addAPIError(&resp.Diagnostics, "Failed To Read The Tag", fmt.Sprintf("read version %s of application %s", versionKey, appKey), err)
			return
		}
		if isAdopted(ctx, req.Private) {
			// An adopted version keeps the configured change log and mobile
			// versions: they describe no tag the provider made.
			state.ID = types.StringValue(v.Key)
			state.Version = types.StringValue(v.Version)
			if state.CreatedOn.IsNull() || state.CreatedOn.IsUnknown() {
				state.CreatedOn = types.StringValue(v.CreatedOn)
			}
		} else {
			resp.Diagnostics.Append(state.fromVersion(ctx, v)...)
		}
	}
	// Changes since the last tag in the environment: what the Migration
	// Kit would not migrate (its preflight refuses them). A tag LifeTime is
	// still processing is not running yet, and what the environment reports
	// is about the version before it.
	modified := runsThere && modifiedSinceTag(st)
	if !running && taggedRecently(ctx, req.Private) {
		modified = false
	}
	if modified {
		tflog.Info(ctx, "The application has changes since its last tag; the plan tags it again", map[string]any{
			"application_key": appKey, "environment_key": envKey, "running_version": st.BaseApplicationVersionLabel})
	}
	state.AppModified = types.BoolValue(modified)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// retagWhenModified plans a new tag for an application that has changes
// since its tag (application_modified, set by the refresh): with `version`
// unset it replaces the tag, and the replacement takes the next patch
// version; with `version` set it warns, since LifeTime refuses a version
// string used before. A new tag holds every change, so it plans false.
type retagWhenModified struct{}

func (retagWhenModified) Description(context.Context) string {
	return "Replaces the tag when the application has changes since it and `version` is not set."
}

func (m retagWhenModified) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (retagWhenModified) PlanModifyBool(ctx context.Context, req planmodifier.BoolRequest, resp *planmodifier.BoolResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	if req.State.Raw.IsNull() {
		resp.PlanValue = types.BoolValue(false)
		return
	}
	if req.StateValue.IsNull() || req.StateValue.IsUnknown() {
		return
	}
	resp.PlanValue = req.StateValue
	if !req.StateValue.ValueBool() {
		return
	}
	var configVersion types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("version"), &configVersion)...)
	if configVersion.IsUnknown() || resp.Diagnostics.HasError() {
		return
	}
	if configVersion.IsNull() {
		resp.PlanValue = types.BoolValue(false)
		resp.RequiresReplace = true
		return
	}
	var state lifeTimeTagModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.AddAttributeWarning(path.Root("version"), "Application Changed Since Its Tag",
		fmt.Sprintf("Application %q has changes in environment %s since its tag %q, and the Migration Kit migrates the latest tagged "+
			"version, so it would migrate the application without them (and its preflight refuses an application with changes since "+
			"its last tag). `version` is set to %q, a version string LifeTime already used, so the provider does not tag again by "+
			"itself: set `version` to a new version (e.g. the next patch version) and apply to tag the changes, or remove `version` "+
			"to let the provider take the next free patch version.",
			state.ApplicationName.ValueString(), state.EnvironmentKey.ValueString(), state.Version.ValueString(), configVersion.ValueString()))
}

// fromVersion copies what LifeTime reports about a version into the model.
// Fields older O11 releases leave out keep their prior value.
func (m *lifeTimeTagModel) fromVersion(_ context.Context, v *client.ApplicationVersion) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(v.Key)
	m.Version = types.StringValue(v.Version)
	if v.ChangeLog != "" {
		m.ChangeLog = types.StringValue(v.ChangeLog)
	}
	if v.CreatedOn != "" {
		m.CreatedOn = types.StringValue(v.CreatedOn)
	} else if m.CreatedOn.IsNull() || m.CreatedOn.IsUnknown() {
		m.CreatedOn = types.StringValue("")
	}
	if len(v.MobileVersions) == 0 {
		if !m.MobileVersions.IsNull() && len(m.MobileVersions.Elements()) > 0 {
			m.MobileVersions = types.ListNull(types.ObjectType{AttrTypes: mobileVersionAttrTypes})
		}
		return diags
	}
	elems := make([]attr.Value, 0, len(v.MobileVersions))
	for _, mv := range v.MobileVersions {
		desc := types.StringValue(mv.VersionDescription)
		if mv.VersionDescription == "" {
			desc = types.StringNull()
		}
		obj, d := types.ObjectValue(mobileVersionAttrTypes, map[string]attr.Value{
			"platform": types.StringValue(mv.NativePlatform), "version_number": types.StringValue(mv.VersionNumber), "description": desc,
		})
		diags.Append(d...)
		elems = append(elems, obj)
	}
	list, d := types.ListValue(types.ObjectType{AttrTypes: mobileVersionAttrTypes}, elems)
	diags.Append(d...)
	m.MobileVersions = list
	return diags
}

// Update is never called with changes (every argument replaces the tag); it
// keeps the planned values.
func (r *lifeTimeTagResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan lifeTimeTagModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *lifeTimeTagResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	lt := r.data.requireLifeTime(&resp.Diagnostics)
	if lt == nil {
		return
	}
	var state lifeTimeTagModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := lt.DeleteApplicationVersion(ctx, state.ApplicationKey.ValueString(), state.ID.ValueString())
	var inUse *client.VersionInUseError
	switch {
	case err == nil, client.IsNotFound(err):
		return
	case errors.As(err, &inUse):
		// The client checked InUse and sent no DELETE LifeTime would refuse
		// (with a 500): keep the version, forget the resource.
		resp.Diagnostics.AddWarning("LifeTime Kept The Application Version",
			fmt.Sprintf("Terraform removed the tag %q of application %q (version key %s) from its state, but did not delete the "+
				"version in LifeTime: it is running in an environment or was used in a deployment (LifeTime reports it InUse), and "+
				"LifeTime refuses to delete such a version. Keeping it does no harm: the Migration Kit always migrates the latest tag.",
				state.Version.ValueString(), state.ApplicationName.ValueString(), state.ID.ValueString()))
	case client.StatusCode(err) == http.StatusBadRequest || client.StatusCode(err) == http.StatusConflict:
		resp.Diagnostics.AddWarning("LifeTime Kept The Application Version",
			fmt.Sprintf("Terraform removed the tag %q of application %q (version key %s) from its state, but LifeTime refused to "+
				"delete the version: %s\n\nLifeTime keeps a version while it is the running version of an environment or was used in "+
				"a deployment. Keeping it does no harm: the Migration Kit always migrates the latest tag.",
				state.Version.ValueString(), state.ApplicationName.ValueString(), state.ID.ValueString(), apiMessages(err)))
	default:
		addAPIError(&resp.Diagnostics, "Failed To Delete The Tag",
			fmt.Sprintf("delete version %q (key %s) of application %q", state.Version.ValueString(), state.ID.ValueString(), state.ApplicationName.ValueString()), err)
	}
}

// ImportState takes `<application_key>/<version_key>` (the environment is the
// one where that version runs) or `<environment_key>/<application_key>/<version_key>`.
func (r *lifeTimeTagResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	envKey, appKey, versionKey, err := parseTagImportID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid Import ID", err.Error())
		return
	}
	lt := r.data.requireLifeTime(&resp.Diagnostics)
	if lt == nil {
		return
	}
	app, err := lt.GetApplication(ctx, appKey, true, false)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Import The Tag", fmt.Sprintf("read application %s from LifeTime", appKey), err)
		return
	}
	if envKey == "" {
		for _, st := range app.AppStatusInEnvs {
			if strings.EqualFold(st.BaseApplicationVersionKey, versionKey) {
				envKey = st.EnvironmentKey
				break
			}
		}
		if envKey == "" {
			resp.Diagnostics.AddError("Cannot Tell The Tag's Environment",
				fmt.Sprintf("Version %s of application %q is not the running version of any environment, so the provider cannot tell "+
					"which environment it was tagged in. Import it as <environment_key>/<application_key>/<version_key>.", versionKey, app.Name))
			return
		}
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), versionKey)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("application_key"), appKey)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("environment_key"), envKey)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("application_name"), app.Name)...)
}

// parseTagImportID splits an import ID of two or three GUIDs.
func parseTagImportID(id string) (envKey, appKey, versionKey string, err error) {
	parts := strings.Split(strings.TrimSpace(id), "/")
	const want = "expected <application_key>/<version_key> or <environment_key>/<application_key>/<version_key>, with each key a GUID"
	switch len(parts) {
	case 2:
		appKey, versionKey = parts[0], parts[1]
	case 3:
		envKey, appKey, versionKey = parts[0], parts[1], parts[2]
		if !guidRegexp.MatchString(envKey) {
			return "", "", "", fmt.Errorf("import ID %q: the environment key %q is not a GUID; %s", id, envKey, want)
		}
	default:
		return "", "", "", fmt.Errorf("import ID %q: %s", id, want)
	}
	if !guidRegexp.MatchString(appKey) {
		return "", "", "", fmt.Errorf("import ID %q: the application key %q is not a GUID; %s", id, appKey, want)
	}
	if !guidRegexp.MatchString(versionKey) {
		return "", "", "", fmt.Errorf("import ID %q: the version key %q is not a GUID; %s", id, versionKey, want)
	}
	return envKey, appKey, versionKey, nil
}
