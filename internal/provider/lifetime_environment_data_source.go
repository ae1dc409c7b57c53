package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*lifeTimeEnvironmentDataSource)(nil)

// NewLifeTimeEnvironmentDataSource is the outsystems_lifetime_environment data source.
func NewLifeTimeEnvironmentDataSource() datasource.DataSource {
	return &lifeTimeEnvironmentDataSource{}
}

type lifeTimeEnvironmentDataSource struct{ data *providerData }

type lifeTimeEnvironmentModel struct {
	Name               types.String `tfsdk:"name"`
	Key                types.String `tfsdk:"key"`
	Order              types.Int64  `tfsdk:"order"`
	HostName           types.String `tfsdk:"host_name"`
	EnvironmentType    types.String `tfsdk:"environment_type"`
	OSVersion          types.String `tfsdk:"os_version"`
	UseHTTPS           types.Bool   `tfsdk:"use_https"`
	IsCloudEnvironment types.Bool   `tfsdk:"is_cloud_environment"`
}

func (d *lifeTimeEnvironmentDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_lifetime_environment"
}

func (d *lifeTimeEnvironmentDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up a LifeTime environment by name, so configurations name environments instead of GUIDs.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the environment as LifeTime shows it, e.g. `Development` (case-insensitive).",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"key":                  schema.StringAttribute{Computed: true, MarkdownDescription: "Key (GUID) of the environment."},
			"order":                schema.Int64Attribute{Computed: true, MarkdownDescription: "Position of the environment in the deployment pipeline."},
			"host_name":            schema.StringAttribute{Computed: true, MarkdownDescription: "Host name of the environment."},
			"environment_type":     schema.StringAttribute{Computed: true, MarkdownDescription: "`Development`, `Test`, `Production`, …"},
			"os_version":           schema.StringAttribute{Computed: true, MarkdownDescription: "OutSystems Platform Server version."},
			"use_https":            schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the environment is reached over HTTPS."},
			"is_cloud_environment": schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether OutSystems Cloud hosts the environment."},
		},
	}
}

func (d *lifeTimeEnvironmentDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *lifeTimeEnvironmentDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	lt := d.data.requireLifeTime(&resp.Diagnostics)
	if lt == nil {
		return
	}
	var m lifeTimeEnvironmentModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	envs, err := d.data.listEnvironments(ctx, lt)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To List LifeTime Environments", "list the LifeTime environments", err)
		return
	}
	env := findEnvironment(envs, m.Name.ValueString())
	if env == nil {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Environment Not Found",
			fmt.Sprintf("LifeTime has no environment named %q. The environments the service account can see are: %s.",
				m.Name.ValueString(), environmentNames(envs)))
		return
	}
	m.Name = types.StringValue(env.Name)
	m.Key = types.StringValue(env.Key)
	m.Order = types.Int64Value(int64(env.Order))
	m.HostName = types.StringValue(env.HostName)
	m.EnvironmentType = types.StringValue(env.EnvironmentType)
	m.OSVersion = types.StringValue(env.OSVersion)
	m.UseHTTPS = types.BoolValue(env.UseHTTPS)
	m.IsCloudEnvironment = types.BoolValue(env.IsCloudEnvironment)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func findEnvironment(envs []client.Environment, name string) *client.Environment {
	for i := range envs {
		if strings.EqualFold(envs[i].Name, strings.TrimSpace(name)) {
			return &envs[i]
		}
	}
	return nil
}

func environmentNames(envs []client.Environment) string {
	if len(envs) == 0 {
		return "(none)"
	}
	names := make([]string, len(envs))
	for i, e := range envs {
		names[i] = fmt.Sprintf("%q", e.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
