package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

var _ datasource.DataSourceWithConfigure = (*codeQualityDataSource)(nil)

// defaultCodeAnalysisTimeout bounds the wait for an analysis this data
// source starts, unless timeouts.read says otherwise.
const defaultCodeAnalysisTimeout = 15 * time.Minute

// NewCodeQualityDataSource is the outsystems_code_quality data source.
func NewCodeQualityDataSource() datasource.DataSource { return &codeQualityDataSource{} }

type codeQualityDataSource struct{ data *providerData }

type codeQualityModel struct {
	AssetKey           types.String   `tfsdk:"asset_key"`
	Revision           types.Int64    `tfsdk:"revision"`
	Score              types.Float64  `tfsdk:"score"`
	FindingsBySeverity types.Map      `tfsdk:"findings_by_severity"`
	FindingsByCategory types.Map      `tfsdk:"findings_by_category"`
	CriticalFindings   types.Int64    `tfsdk:"critical_findings"`
	TotalFindings      types.Int64    `tfsdk:"total_findings"`
	AnalysisKey        types.String   `tfsdk:"analysis_key"`
	AnalysisStatus     types.String   `tfsdk:"analysis_status"`
	AnalysisDate       types.String   `tfsdk:"analysis_date"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
}

func (d *codeQualityDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_code_quality"
}

func (d *codeQualityDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The code-quality analysis summary (ODC's Code quality, formerly Mentor) of an asset revision: findings by " +
			"severity and by category, and the quality score. When the revision has no completed analysis yet, the data source " +
			"starts one and waits for it (bounded by `timeouts.read`). Use it as a gate before a promotion: a `postcondition` on " +
			"`critical_findings` stops the plan, with your message, before anything is deployed.",
		Attributes: map[string]schema.Attribute{
			"asset_key": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Key of the ODC asset (e.g. `outsystems_asset_publication.x.asset_key`).",
				Validators:          []validator.String{guidValidator("asset key")},
			},
			"revision": schema.Int64Attribute{
				Required:            true,
				MarkdownDescription: "Revision of the asset to read the analysis of.",
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"score": schema.Float64Attribute{
				Computed:            true,
				MarkdownDescription: "Quality score ODC gives the revision (higher is better); null when ODC gives none.",
			},
			"findings_by_severity": schema.MapAttribute{
				Computed: true, ElementType: types.Int64Type,
				MarkdownDescription: "Number of findings of each severity: keys `Low`, `Medium`, `High` and `Critical`, always all four.",
			},
			"findings_by_category": schema.MapAttribute{
				Computed: true, ElementType: types.Int64Type,
				MarkdownDescription: "Number of findings of each category: keys `security`, `performance`, `architecture` and `maintainability`, always all four.",
			},
			"critical_findings": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Number of `Critical` findings over every category: the usual gate (`self.critical_findings == 0`).",
			},
			"total_findings": schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of findings of every severity."},
			"analysis_key": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "Key of the analysis this read started and waited for; null when the revision had a completed " +
					"analysis already (ODC's summary does not name its analysis).",
			},
			"analysis_status": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Status of the analysis the summary comes from: always `Completed` (a `Failed` or `Timeout` analysis fails the read).",
			},
			"analysis_date": schema.StringAttribute{Computed: true, MarkdownDescription: "Date of the analysis (`YYYY-MM-DD`), as ODC reports it."},
			"timeouts":      timeouts.Attributes(ctx),
		},
	}
}

func (d *codeQualityDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *codeQualityDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	odc := d.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var m codeQualityModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := m.Timeouts.Read(ctx, defaultCodeAnalysisTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	assetKey, revision := m.AssetKey.ValueString(), int(m.Revision.ValueInt64())
	what := fmt.Sprintf("revision %d of asset %s", revision, assetKey)
	summary, err := odc.CodeQualitySummary(ctx, assetKey, revision)
	m.AnalysisKey = types.StringNull()
	if client.IsNotFound(err) {
		// No completed analysis (or no such revision: the start says which).
		tflog.Info(ctx, "The revision has no code-quality analysis: starting one", map[string]any{"asset_key": assetKey, "revision": revision})
		key, ok := d.analyze(ctx, odc, assetKey, revision, what, &resp.Diagnostics)
		if !ok {
			return
		}
		m.AnalysisKey = types.StringValue(key)
		summary, err = odc.CodeQualitySummary(ctx, assetKey, revision)
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Code Quality Summary", "read the code-quality analysis summary of "+what, err)
		return
	}

	bySeverity, byCategory := summary.BySeverity(), summary.ByCategory()
	var total int64
	for _, n := range bySeverity {
		total += n
	}
	m.FindingsBySeverity = int64Map(bySeverity)
	m.FindingsByCategory = int64Map(byCategory)
	m.CriticalFindings = types.Int64Value(bySeverity["Critical"])
	m.TotalFindings = types.Int64Value(total)
	m.Score = types.Float64Null()
	if summary.QualityScore != nil {
		m.Score = types.Float64Value(*summary.QualityScore)
	}
	m.AnalysisStatus = types.StringValue(client.CodeAnalysisCompleted)
	m.AnalysisDate = types.StringValue(summary.AnalysisDate)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// analyze starts an analysis of the revision and waits until it completes,
// returning its key. Anything else (an unknown revision, a missing
// permission, a wait cut short, an analysis ending Failed or Timeout) goes
// to diags, and ok is false.
func (d *codeQualityDataSource) analyze(ctx context.Context, odc *client.ODC, assetKey string, revision int, what string, diags *diag.Diagnostics) (key string, ok bool) {
	// A second analysis of a revision is harmless, and ODC lists no
	// analyses to find a lost one by: when a start's answer is lost or ODC
	// fails, it is simply started again (at most three times).
	started, err := createOnce(ctx, "a code analysis of "+what, 3,
		func(ctx context.Context) (*client.CodeAnalysis, error) {
			return odc.StartCodeAnalysis(ctx, assetKey, revision)
		},
		func(context.Context) (*client.CodeAnalysis, bool, error) { return nil, false, nil })
	if client.IsNotFound(err) {
		diags.AddAttributeError(path.Root("revision"), "Asset Revision Not Found",
			fmt.Sprintf("ODC has no %s to analyze (%s). Check `asset_key` and `revision`: the revision must exist in the asset repository.", what, apiMessages(err)))
		return "", false
	}
	if err != nil {
		addAPIError(diags, "Failed To Start A Code Analysis", "start a code-quality analysis of "+what, err)
		return "", false
	}
	done, err := odc.WaitCodeAnalysis(ctx, started.Key, what, nil)
	if errors.Is(err, client.ErrCodeAnalysisWait) {
		diags.AddError("Code Analysis Still Running",
			fmt.Sprintf("%s.\n\nThe analysis goes on in ODC: read again later (the next plan reads its summary once it completes), or raise `timeouts.read`.", err))
		return "", false
	}
	if err != nil {
		addAPIError(diags, "Failed To Read A Code Analysis", "read the code-quality analysis "+started.Key+" of "+what, err)
		return "", false
	}
	if done.Status != client.CodeAnalysisCompleted {
		diags.AddError("Code Analysis Did Not Complete",
			fmt.Sprintf("ODC's code-quality analysis %s of %s ended with status %q, so the revision has no summary to read. "+
				"Run the plan again to start a new analysis; if it keeps ending so, open the asset's Code quality page in the ODC Portal.",
				started.Key, what, done.Status))
		return "", false
	}
	return started.Key, true
}

// int64Map is a map attribute value of counts.
func int64Map(counts map[string]int64) types.Map {
	elems := make(map[string]attr.Value, len(counts))
	for k, n := range counts {
		elems[k] = types.Int64Value(n)
	}
	return types.MapValueMust(types.Int64Type, elems)
}
