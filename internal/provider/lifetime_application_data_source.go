package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

var (
	_ datasource.DataSourceWithConfigure        = (*lifeTimeApplicationDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*lifeTimeApplicationDataSource)(nil)
)

// NewLifeTimeApplicationDataSource is the outsystems_lifetime_application data source.
func NewLifeTimeApplicationDataSource() datasource.DataSource {
	return &lifeTimeApplicationDataSource{}
}

type lifeTimeApplicationDataSource struct{ data *providerData }

type lifeTimeApplicationModel struct {
	Key          types.String `tfsdk:"key"`
	Name         types.String `tfsdk:"name"`
	Kind         types.String `tfsdk:"kind"`
	Team         types.String `tfsdk:"team"`
	Description  types.String `tfsdk:"description"`
	IsSystem     types.Bool   `tfsdk:"is_system"`
	Environments types.Map    `tfsdk:"environments"`
}

var appEnvAttrTypes = map[string]attr.Type{
	"environment_key":     types.StringType,
	"running_version":     types.StringType,
	"running_version_key": types.StringType,
	"is_modified":         types.BoolType,
	"is_modified_reason":  types.StringType,
	"module_version_keys": types.ListType{ElemType: types.StringType},
}

func (d *lifeTimeApplicationDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_lifetime_application"
}

func (d *lifeTimeApplicationDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up an O11 application in LifeTime by name or key: its key and kind, and per environment " +
			"its running version and whether it has changes since its last tag (which must be tagged before a migration).",
		Attributes: map[string]schema.Attribute{
			"key": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Key (GUID) of the application. Set exactly one of `key` and `name`.",
				Validators:          []validator.String{guidValidator("O11 application key")},
			},
			"name": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Name of the application (case-insensitive). Set exactly one of `key` and `name`.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"kind":        schema.StringAttribute{Computed: true, MarkdownDescription: "`WebResponsive` (reactive web) or `Mobile`."},
			"team":        schema.StringAttribute{Computed: true, MarkdownDescription: "LifeTime team of the application."},
			"description": schema.StringAttribute{Computed: true, MarkdownDescription: "Description of the application."},
			"is_system":   schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether it is a system application."},
			"environments": schema.MapNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The application's state in each environment it runs in, keyed by environment name.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"environment_key":     schema.StringAttribute{Computed: true, MarkdownDescription: "Key of the environment."},
						"running_version":     schema.StringAttribute{Computed: true, MarkdownDescription: "Version string of the last tag the running application is based on (empty when never tagged)."},
						"running_version_key": schema.StringAttribute{Computed: true, MarkdownDescription: "Key of that application version."},
						"is_modified":         schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the application has changes since its last tag. The Migration Kit migrates the latest tag, so tag it with `outsystems_lifetime_tag` first."},
						"is_modified_reason":  schema.StringAttribute{Computed: true, MarkdownDescription: "LifeTime's reason for `is_modified`, when it gives one."},
						"module_version_keys": schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Running module version keys, in module order."},
					},
				},
			},
		},
	}
}

func (d *lifeTimeApplicationDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("key"), path.MatchRoot("name")),
	}
}

func (d *lifeTimeApplicationDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *lifeTimeApplicationDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	lt := d.data.requireLifeTime(&resp.Diagnostics)
	if lt == nil {
		return
	}
	var m lifeTimeApplicationModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var app *client.Application
	if !m.Key.IsNull() {
		a, err := lt.GetApplication(ctx, m.Key.ValueString(), true, true)
		if client.IsNotFound(err) {
			resp.Diagnostics.AddAttributeError(path.Root("key"), "Application Not Found",
				fmt.Sprintf("LifeTime has no application with key %s (or the service account cannot see it). Check `key`, or look it up by `name`.", m.Key.ValueString()))
			return
		}
		if err != nil {
			addAPIError(&resp.Diagnostics, "Failed To Read The Application", "read application "+m.Key.ValueString()+" from LifeTime", err)
			return
		}
		app = a
	} else {
		apps, err := lt.ListApplications(ctx, true, true)
		if err != nil {
			addAPIError(&resp.Diagnostics, "Failed To List Applications", "list the applications in LifeTime", err)
			return
		}
		app = findApplication(apps, m.Name.ValueString())
		if app == nil {
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Application Not Found",
				fmt.Sprintf("LifeTime has no application named %q that the service account can see. Known applications: %s.",
					m.Name.ValueString(), applicationNames(apps)))
			return
		}
	}
	envs, err := d.data.listEnvironments(ctx, lt)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To List LifeTime Environments", "list the LifeTime environments", err)
		return
	}
	envName := map[string]string{}
	for _, e := range envs {
		envName[strings.ToLower(e.Key)] = e.Name
	}
	perEnv := map[string]attr.Value{}
	for _, st := range app.AppStatusInEnvs {
		// LifeTime sends the running version's label with the status; only
		// a release that does not costs a read of the version.
		version := st.BaseApplicationVersionLabel
		if version == "" && st.BaseApplicationVersionKey != "" {
			v, err := lt.GetApplicationVersion(ctx, app.Key, st.BaseApplicationVersionKey)
			if err != nil {
				addAPIError(&resp.Diagnostics, "Failed To Read A Running Version", fmt.Sprintf("read the running version of %q", app.Name), err)
				return
			}
			version = v.Version
		}
		moduleKeys := make([]attr.Value, 0, len(st.ModuleStatusInEnvs))
		for _, ms := range st.ModuleStatusInEnvs {
			moduleKeys = append(moduleKeys, types.StringValue(ms.ModuleVersionKey))
		}
		name := envName[strings.ToLower(st.EnvironmentKey)]
		if name == "" {
			name = st.EnvironmentKey
		}
		obj, diags := types.ObjectValue(appEnvAttrTypes, map[string]attr.Value{
			"environment_key":     types.StringValue(st.EnvironmentKey),
			"running_version":     types.StringValue(version),
			"running_version_key": types.StringValue(st.BaseApplicationVersionKey),
			"is_modified":         types.BoolValue(st.IsModified),
			"is_modified_reason":  types.StringValue(st.IsModifiedReason),
			"module_version_keys": types.ListValueMust(types.StringType, moduleKeys),
		})
		resp.Diagnostics.Append(diags...)
		perEnv[name] = obj
	}
	envMap, diags := types.MapValue(types.ObjectType{AttrTypes: appEnvAttrTypes}, perEnv)
	resp.Diagnostics.Append(diags...)
	m.Key = types.StringValue(app.Key)
	m.Name = types.StringValue(app.Name)
	m.Kind = types.StringValue(app.Kind)
	m.Team = types.StringValue(app.Team)
	m.Description = types.StringValue(app.Description)
	m.IsSystem = types.BoolValue(app.IsSystem)
	m.Environments = envMap
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func findApplication(apps []client.Application, name string) *client.Application {
	for i := range apps {
		if strings.EqualFold(apps[i].Name, strings.TrimSpace(name)) {
			return &apps[i]
		}
	}
	return nil
}

func applicationNames(apps []client.Application) string {
	if len(apps) == 0 {
		return "(none)"
	}
	names := make([]string, len(apps))
	for i, a := range apps {
		names[i] = fmt.Sprintf("%q", a.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
