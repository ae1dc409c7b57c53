package provider

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
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

// NewLifeTimeTagResource is the outsystems_lifetime_tag resource.
func NewLifeTimeTagResource() resource.Resource { return &lifeTimeTagResource{} }

type lifeTimeTagResource struct{ data *providerData }

type lifeTimeTagModel struct {
	ID              types.String `tfsdk:"id"`
	EnvironmentKey  types.String `tfsdk:"environment_key"`
	ApplicationKey  types.String `tfsdk:"application_key"`
	Version         types.String `tfsdk:"version"`
	ChangeLog       types.String `tfsdk:"change_log"`
	MobileVersions  types.List   `tfsdk:"mobile_versions"`
	ApplicationName types.String `tfsdk:"application_name"`
	CreatedOn       types.String `tfsdk:"created_on"`
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

func (r *lifeTimeTagResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Tags the running version of an O11 application in a LifeTime environment, creating an " +
			"application version (LifeTime API v2 `POST /environments/{EnvironmentKey}/applications/{ApplicationKey}/versions`). " +
			"The Migration Kit migrates the **latest tagged version** of each app in the source environment, so tag every app " +
			"after its last change and after mapping it.\n\n" +
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
					"the application already used. When unset, the provider takes the next patch version after the running " +
					"version (skipping any already used), as OutSystems' own CI/CD pipeline does, and shows it in the plan.",
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
// application runs in the environment, an explicit version is unused, and an
// unset version becomes the next free patch version, so the plan shows it.
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
	if plan.EnvironmentKey.IsUnknown() || plan.ApplicationKey.IsUnknown() || configVersion.IsUnknown() {
		return // checked at apply instead
	}
	lt := r.data.lifeTime
	target, diags := resolveTagTarget(ctx, lt, plan.EnvironmentKey.ValueString(), plan.ApplicationKey.ValueString())
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	if configVersion.IsNull() {
		next, err := target.nextVersion()
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("version"), "Cannot Choose A Version", err.Error())
			return
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("version"), next)...)
	} else if used, ok := target.used[plan.Version.ValueString()]; ok {
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
	running *client.ApplicationVersion // nil when the app was never tagged
	used    map[string]string          // version string -> version key
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
	if resp.Diagnostics.HasError() {
		return
	}
	envKey, appKey := plan.EnvironmentKey.ValueString(), plan.ApplicationKey.ValueString()
	target, diags := resolveTagTarget(ctx, lt, envKey, appKey)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	version := plan.Version.ValueString()
	if plan.Version.IsUnknown() || version == "" {
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

	got, err := lt.GetApplicationVersion(ctx, appKey, key)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The New Tag",
			fmt.Sprintf("read version %q (key %s) of application %q right after creating it; it is recorded in state and the next apply will read it again", version, key, target.app.Name), err)
		return
	}
	plan.CreatedOn = types.StringValue(got.CreatedOn)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
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
	v, err := lt.GetApplicationVersion(ctx, state.ApplicationKey.ValueString(), state.ID.ValueString())
	if client.IsNotFound(err) {
		tflog.Warn(ctx, "The tagged application version no longer exists in LifeTime; removing it from state", map[string]any{"version_key": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Tag",
			fmt.Sprintf("read version %s of application %s", state.ID.ValueString(), state.ApplicationKey.ValueString()), err)
		return
	}
	resp.Diagnostics.Append(state.fromVersion(ctx, v)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
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
	switch {
	case err == nil, client.IsNotFound(err):
		return
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
