package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

var (
	_ datasource.DataSourceWithConfigure        = (*odcStageDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*odcStageDataSource)(nil)
)

// NewODCStageDataSource is the outsystems_odc_stage data source.
func NewODCStageDataSource() datasource.DataSource { return &odcStageDataSource{} }

type odcStageDataSource struct{ data *providerData }

type odcStageModel struct {
	Name    types.String `tfsdk:"name"`
	Purpose types.String `tfsdk:"purpose"`
	Key     types.String `tfsdk:"key"`
	Order   types.Int64  `tfsdk:"order"`
}

func (d *odcStageDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_odc_stage"
}

func (d *odcStageDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up an ODC stage (the APIs call it an environment) by name or purpose, so configurations name stages instead of GUIDs.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Name of the stage, e.g. `Development` (case-insensitive). Set exactly one of `name` and `purpose`.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"purpose": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Purpose of the stage: `Development`, `NonProduction` or `Production`; the first stage in order with that purpose is returned.",
				Validators:          []validator.String{stringvalidator.OneOf("Development", "NonProduction", "Production")},
			},
			"key":   schema.StringAttribute{Computed: true, MarkdownDescription: "Key of the stage (`environmentKey` in the APIs)."},
			"order": schema.Int64Attribute{Computed: true, MarkdownDescription: "Position of the stage in the pipeline."},
		},
	}
}

func (d *odcStageDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{datasourcevalidator.ExactlyOneOf(path.MatchRoot("name"), path.MatchRoot("purpose"))}
}

func (d *odcStageDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *odcStageDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	odc := d.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var m odcStageModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	stages, err := d.data.listStages(ctx, odc)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To List ODC Stages", "list the stages of the ODC organization", err)
		return
	}
	sort.Slice(stages, func(i, j int) bool { return stages[i].Order < stages[j].Order })
	var found *client.Stage
	for i := range stages {
		s := &stages[i]
		if (!m.Name.IsNull() && strings.EqualFold(s.Name, strings.TrimSpace(m.Name.ValueString()))) ||
			(!m.Purpose.IsNull() && s.Purpose == m.Purpose.ValueString()) {
			found = s
			break
		}
	}
	if found == nil {
		names := make([]string, len(stages))
		for i, s := range stages {
			names[i] = fmt.Sprintf("%q (%s)", s.Name, s.Purpose)
		}
		attr, want := path.Root("name"), m.Name.ValueString()
		if m.Name.IsNull() {
			attr, want = path.Root("purpose"), m.Purpose.ValueString()
		}
		resp.Diagnostics.AddAttributeError(attr, "Stage Not Found",
			fmt.Sprintf("The ODC organization has no stage matching %q. Its stages are: %s.", want, strings.Join(names, ", ")))
		return
	}
	m.Name = types.StringValue(found.Name)
	m.Purpose = types.StringValue(found.Purpose)
	m.Key = types.StringValue(found.Key)
	m.Order = types.Int64Value(int64(found.Order))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
