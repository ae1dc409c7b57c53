package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*migrationReadinessDataSource)(nil)

// NewMigrationReadinessDataSource is the outsystems_migration_readiness data source.
func NewMigrationReadinessDataSource() datasource.DataSource { return &migrationReadinessDataSource{} }

type migrationReadinessDataSource struct{ data *providerData }

type migrationReadinessModel struct {
	MappingIDs         types.Set      `tfsdk:"mapping_ids"`
	WaitForAssessments types.Bool     `tfsdk:"wait_for_assessments"`
	AllReady           types.Bool     `tfsdk:"all_ready"`
	NotReadyMappingIDs types.List     `tfsdk:"not_ready_mapping_ids"`
	Summary            types.String   `tfsdk:"summary"`
	Assets             types.List     `tfsdk:"assets"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
}

var findingAttrTypes = map[string]attr.Type{
	"code_pattern":     types.StringType,
	"category":         types.StringType,
	"pattern_class":    types.StringType,
	"where_to_fix":     types.StringType,
	"application_name": types.StringType,
	"module_name":      types.StringType,
	"count":            types.Int64Type,
	"message":          types.StringType,
}

var readinessAssetAttrTypes = map[string]attr.Type{
	"mapping_id":           types.StringType,
	"name":                 types.StringType,
	"asset_type":           types.StringType,
	"status":               types.StringType,
	"ready":                types.BoolType,
	"findings":             types.ListType{ElemType: types.ObjectType{AttrTypes: findingAttrTypes}},
	"producer_mapping_ids": types.ListType{ElemType: types.StringType},
}

func (d *migrationReadinessDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_migration_readiness"
}

func (d *migrationReadinessDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	findingAttrs := map[string]schema.Attribute{
		"code_pattern":     schema.StringAttribute{Computed: true, MarkdownDescription: "Code pattern the assessment found."},
		"category":         schema.StringAttribute{Computed: true, MarkdownDescription: "Category of the pattern, e.g. `Architecture`."},
		"pattern_class":    schema.StringAttribute{Computed: true, MarkdownDescription: "`FixInO11`, `FixInOdc`, `Optional` or `NotYetSupported`."},
		"where_to_fix":     schema.StringAttribute{Computed: true, MarkdownDescription: "`O11` or `ODC`."},
		"application_name": schema.StringAttribute{Computed: true, MarkdownDescription: "O11 application of the finding."},
		"module_name":      schema.StringAttribute{Computed: true, MarkdownDescription: "O11 module of the finding."},
		"count":            schema.Int64Attribute{Computed: true, MarkdownDescription: "Occurrences of the pattern in the module."},
		"message":          schema.StringAttribute{Computed: true, MarkdownDescription: "What to change."},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Readiness of mapped assets for the code migration, from the Migration Kit's assessment tool. " +
			"The kit migrates only when **every** asset in the plan is Ready for ODC (or Change in ODC). Use it as a gate: a " +
			"`postcondition` on `all_ready` with `summary` as the message fails the plan, naming every asset that is not ready and its findings.",
		Attributes: map[string]schema.Attribute{
			"mapping_ids": schema.SetAttribute{
				Optional:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Mappings to check (ids of `outsystems_app_mapping`). Default: every mapping in the assessment tool.",
				Validators:          []validator.Set{setvalidator.ValueStringsAre(guidValidator("mapping id"))},
			},
			"wait_for_assessments": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Wait while any asset is still `Assessing`, so the answer is current (default `true`). Bounded by `timeouts.read`.",
			},
			"all_ready": schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether every asset checked can be migrated."},
			"not_ready_mapping_ids": schema.ListAttribute{
				Computed: true, ElementType: types.StringType,
				MarkdownDescription: "Ids of the mappings whose assets are not ready, sorted by name.",
			},
			"summary": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "A readable report: every asset not ready, with its status and open findings (code pattern, where to fix, module, count, message). Made to be an `error_message`.",
			},
			"assets": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Each asset checked, sorted by name.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"mapping_id": schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the mapping."},
					"name":       schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the asset."},
					"asset_type": schema.StringAttribute{Computed: true, MarkdownDescription: "`web_app`, `mobile_app` or `library`."},
					"status":     schema.StringAttribute{Computed: true, MarkdownDescription: "`ReadyForOdc`, `ChangeInOdc`, `NotReady` or `Assessing`."},
					"ready":      schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the asset can be migrated."},
					"findings": schema.ListNestedAttribute{
						Computed: true, MarkdownDescription: "Open findings of the asset.",
						NestedObject: schema.NestedAttributeObject{Attributes: findingAttrs},
					},
					"producer_mapping_ids": schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Mappings whose assets this one consumes."},
				}},
			},
			"timeouts": timeouts.Attributes(ctx),
		},
	}
}

func (d *migrationReadinessDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *migrationReadinessDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	as := d.data.requireAssessment(&resp.Diagnostics)
	if as == nil {
		return
	}
	var m migrationReadinessModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := m.Timeouts.Read(ctx, defaultAssessmentTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var keys []string
	if !m.MappingIDs.IsNull() {
		k, diags := setStrings(ctx, m.MappingIDs)
		resp.Diagnostics.Append(diags...)
		keys = k
		if len(keys) == 0 {
			keys = []string{} // an explicit empty set checks nothing
		}
	}
	var assets []client.AssetReadiness
	read := func(ctx context.Context) (pollState, error) {
		if keys != nil && len(keys) == 0 {
			assets = nil
			return pollState{done: true, status: "nothing to check"}, nil
		}
		got, err := as.Readiness(ctx, keys)
		if err != nil {
			return pollState{}, err
		}
		assets = got
		assessing := 0
		for _, a := range got {
			if a.Status == client.MappingStatusAssessing {
				assessing++
			}
		}
		return pollState{done: assessing == 0, status: fmt.Sprintf("%d of %d assets assessing", assessing, len(got))}, nil
	}
	var err error
	if m.WaitForAssessments.IsNull() || m.WaitForAssessments.ValueBool() {
		err = waitFor(ctx, "the assessments of the mapped assets", read)
	} else {
		_, err = read(ctx)
	}
	if err != nil {
		// A 404 outside the kit's error shape is an organization without
		// the kit's API: the probe (only on this path, so a read costs one
		// request) confirms it and says what to do instead.
		if client.IsUnknownPath(err) && !d.data.requireMigrationKit(ctx, &resp.Diagnostics, "data.outsystems_migration_readiness", false) {
			return
		}
		if client.IsNotFound(err) {
			resp.Diagnostics.AddAttributeError(path.Root("mapping_ids"), "Unknown Mappings",
				"The assessment tool does not know some of `mapping_ids`: "+apiMessages(err)+". Use ids of existing `outsystems_app_mapping` resources.")
			return
		}
		addAPIError(&resp.Diagnostics, "Failed To Read Migration Readiness", "read the readiness of the mapped assets", err)
		return
	}
	sort.Slice(assets, func(i, j int) bool { return assets[i].Name < assets[j].Name })

	allReady := true
	var notReady []attr.Value
	items := make([]attr.Value, 0, len(assets))
	for _, a := range assets {
		if !a.Ready {
			allReady = false
			notReady = append(notReady, types.StringValue(a.MappingKey))
		}
		findings := make([]attr.Value, 0, len(a.OpenFindings))
		for _, f := range a.OpenFindings {
			findings = append(findings, types.ObjectValueMust(findingAttrTypes, map[string]attr.Value{
				"code_pattern": types.StringValue(f.CodePattern), "category": types.StringValue(f.Category),
				"pattern_class": types.StringValue(f.PatternClass), "where_to_fix": types.StringValue(f.WhereToFix),
				"application_name": types.StringValue(f.ApplicationName), "module_name": types.StringValue(f.ModuleName),
				"count": types.Int64Value(int64(f.Count)), "message": types.StringValue(f.Message),
			}))
		}
		producers := make([]attr.Value, 0, len(a.ProducerMappingKeys))
		for _, p := range a.ProducerMappingKeys {
			producers = append(producers, types.StringValue(p))
		}
		items = append(items, types.ObjectValueMust(readinessAssetAttrTypes, map[string]attr.Value{
			"mapping_id": types.StringValue(a.MappingKey), "name": types.StringValue(a.Name),
			"asset_type": types.StringValue(assetTypeFromWire(a.AssetType)), "status": types.StringValue(a.Status),
			"ready":                types.BoolValue(a.Ready),
			"findings":             types.ListValueMust(types.ObjectType{AttrTypes: findingAttrTypes}, findings),
			"producer_mapping_ids": types.ListValueMust(types.StringType, producers),
		}))
	}
	if notReady == nil {
		notReady = []attr.Value{}
	}
	m.AllReady = types.BoolValue(allReady)
	m.NotReadyMappingIDs = types.ListValueMust(types.StringType, notReady)
	m.Summary = types.StringValue(readinessSummary(assets))
	m.Assets = types.ListValueMust(types.ObjectType{AttrTypes: readinessAssetAttrTypes}, items)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// readinessSummary reports every asset that is not ready with its open findings.
func readinessSummary(assets []client.AssetReadiness) string {
	var notReady []client.AssetReadiness
	for _, a := range assets {
		if !a.Ready {
			notReady = append(notReady, a)
		}
	}
	if len(notReady) == 0 {
		return fmt.Sprintf("All %d assets are ready for ODC.", len(assets))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d assets are not ready for ODC; the Migration Kit migrates only when every asset is Ready for ODC (or Change in ODC):", len(notReady), len(assets))
	for _, a := range notReady {
		fmt.Fprintf(&b, "\n- %s (%s, mapping %s): %s", a.Name, assetTypeFromWire(a.AssetType), a.MappingKey, a.Status)
		if a.Status == client.MappingStatusAssessing {
			b.WriteString(", the assessment has not finished yet")
		}
		for _, f := range a.OpenFindings {
			if f.PatternClass == "Optional" {
				continue
			}
			fmt.Fprintf(&b, "\n    * %s [%s, %s, fix in %s] in %s/%s (%d×): %s", f.CodePattern, f.Category, f.PatternClass, f.WhereToFix, f.ApplicationName, f.ModuleName, f.Count, f.Message)
		}
	}
	return b.String()
}
