package provider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/migrationkit"
)

var _ datasource.DataSourceWithConfigure = (*migrationPreviewDataSource)(nil)

// NewMigrationPreviewDataSource is the outsystems_migration_preview data
// source: what a code migration of mapping definitions would take, read at
// plan time from the same definitions the mappings are made of.
func NewMigrationPreviewDataSource() datasource.DataSource { return &migrationPreviewDataSource{} }

type migrationPreviewDataSource struct{ data *providerData }

type migrationPreviewModel struct {
	SourceEnvironmentKey types.String `tfsdk:"source_environment_key"`
	Mappings             types.Map    `tfsdk:"mappings"`
	PreviewedAt          types.String `tfsdk:"previewed_at"`
	Blocked              types.Bool   `tfsdk:"blocked"`
	Summary              types.String `tfsdk:"summary"`
	Assets               types.Map    `tfsdk:"assets"`
	Waves                types.List   `tfsdk:"waves"`
	PublishOrder         types.List   `tfsdk:"publish_order"`
	Versions             types.Map    `tfsdk:"versions"`
	Mermaid              types.String `tfsdk:"mermaid"`
	DOT                  types.String `tfsdk:"dot"`
}

type previewMappingModel struct {
	AssetType          types.String `tfsdk:"asset_type"`
	O11ApplicationKeys types.List   `tfsdk:"o11_application_keys"`
}

var previewModuleAttrTypes = map[string]attr.Type{
	"key": types.StringType, "name": types.StringType, "type": types.StringType, "version_key": types.StringType,
}

var previewApplicationAttrTypes = map[string]attr.Type{
	"key": types.StringType, "name": types.StringType, "version": types.StringType, "version_key": types.StringType,
	"modified": types.BoolType, "modules": types.ListType{ElemType: types.ObjectType{AttrTypes: previewModuleAttrTypes}},
}

var previewFindingAttrTypes = map[string]attr.Type{
	"code": types.StringType, "message": types.StringType, "blocking": types.BoolType,
}

var previewAssetAttrTypes = map[string]attr.Type{
	"asset_type": types.StringType, "mapping_id": types.StringType,
	"publish_wave": types.Int64Type, "publish_order": types.Int64Type,
	"producers":    types.ListType{ElemType: types.StringType},
	"blocked":      types.BoolType,
	"applications": types.ListType{ElemType: types.ObjectType{AttrTypes: previewApplicationAttrTypes}},
	"findings":     types.ListType{ElemType: types.ObjectType{AttrTypes: previewFindingAttrTypes}},
}

func (d *migrationPreviewDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_migration_preview"
}

func (d *migrationPreviewDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.Attribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "What a code migration of the given mapping definitions would take, asked of the Migration Kit " +
			"(`POST /migration-previews`, contract 1.3.0) **before the mappings exist**: per asset, the O11 applications with the version each " +
			"would migrate (its latest tag in the source environment), their modules with module version keys, the findings that " +
			"block it, its producers among the definitions, and its publish wave and order, computed as the migration computes them.\n\n" +
			"Give it the same definitions the `outsystems_app_mapping` resources are made of (one variable for both): with only data " +
			"sources as inputs it is read at plan time, so on an empty state the plan already shows the whole wave, and `waves` and " +
			"`publish_order` can drive the per-wave `for_each` of publications and releases in one `terraform apply`. `mermaid` and `dot` " +
			"draw the producer graph, grouped by wave, for a pull request comment.\n\n" +
			"The preview is true when it is read: pass `versions` and `publish_order` to `outsystems_code_migration` " +
			"(`expected_versions`, `expected_publish_order`) so that the migration fails, naming what changed, instead of publishing " +
			"something else than the plan showed.",
		Attributes: map[string]schema.Attribute{
			"source_environment_key": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Key of the LifeTime environment whose latest tags a migration converts (usually Development).",
				Validators:          []validator.String{guidValidator("LifeTime environment key")},
			},
			"mappings": schema.MapNestedAttribute{
				Required: true,
				MarkdownDescription: "The mapping definitions, keyed by asset name (as `outsystems_app_mapping.name`; unique ignoring letter case). " +
					"A name that is an existing mapping's is previewed as that mapping.",
				Validators: []validator.Map{mapvalidator.SizeBetween(1, 200), mapvalidator.KeysAre(stringvalidator.RegexMatches(mappingNamePattern,
					"must not be empty nor start or end with white space"))},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"asset_type": schema.StringAttribute{
						Required: true, MarkdownDescription: "`web_app`, `mobile_app` or `library`, as `outsystems_app_mapping.asset_type`.",
						Validators: []validator.String{stringvalidator.OneOf(migrationkit.ResourceWebApp, migrationkit.ResourceMobileApp, migrationkit.ResourceLibrary)},
					},
					"o11_application_keys": schema.ListAttribute{
						Required: true, ElementType: types.StringType,
						MarkdownDescription: "LifeTime keys of the O11 applications of the asset, as `outsystems_app_mapping.o11_application_keys`.",
						Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues(),
							listvalidator.ValueStringsAre(guidValidator("O11 application key"))},
					},
				}},
			},
			"previewed_at": str("When the kit computed the preview (RFC 3339): what it shows is true of that moment."),
			"blocked":      schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether any asset has a blocking finding: the migration would refuse it or fail to convert it."},
			"summary": str("A readable report: assets by wave with the version of each app and its modules, then every finding. Made to be an " +
				"`error_message` of a `postcondition` on `!self.blocked`."),
			"assets": schema.MapNestedAttribute{
				Computed: true, MarkdownDescription: "Each asset, by the name `mappings` gives it.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"asset_type":    str("`web_app`, `mobile_app` or `library`."),
					"mapping_id":    str("The existing mapping of the name, null when there is none yet."),
					"publish_wave":  schema.Int64Attribute{Computed: true, MarkdownDescription: "1 with no producer among the definitions, else one more than its producers' highest wave."},
					"publish_order": schema.Int64Attribute{Computed: true, MarkdownDescription: "Position (from 1) in the producers-first order: by wave, then by name."},
					"producers":     schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Names of the definitions this asset consumes."},
					"blocked":       schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether a finding of this asset blocks it."},
					"applications": schema.ListNestedAttribute{
						Computed: true, MarkdownDescription: "The O11 applications of the asset, in the definition's order.",
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"key":         str("LifeTime key of the application."),
							"name":        str("Name of the application."),
							"version":     str("The version a migration would convert: the latest tag in the source environment (null when it has none there)."),
							"version_key": str("LifeTime key of that version."),
							"modified": schema.BoolAttribute{Computed: true, MarkdownDescription: "The environment holds changes no tag has: " +
								"a migration does not convert them. An `outsystems_lifetime_tag` of the app tags them first, and then the version migrated is that tag's."},
							"modules": schema.ListNestedAttribute{
								Computed: true, MarkdownDescription: "The modules of that version.",
								NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
									"key": str("Key of the module."), "name": str("Name of the module."),
									"type": str("`Reactive`, `Mobile`, `Library` or `Extension`."), "version_key": str("Key of the module version."),
								}},
							},
						}},
					},
					"findings": schema.ListNestedAttribute{
						Computed: true, MarkdownDescription: "What a migration of the asset would meet.",
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"code":     str("A mapping rule's or code migration's error code, e.g. `MIXED_APP_KINDS`, `APPLICATION_NOT_IN_ENVIRONMENT`, `UNTAGGED_CHANGES_NOT_MIGRATED`."),
							"message":  str("What it means and what to do."),
							"blocking": schema.BoolAttribute{Computed: true, MarkdownDescription: "The migration would refuse the asset or fail to convert it."},
						}},
					},
				}},
			},
			"waves": schema.ListAttribute{
				Computed: true, ElementType: types.ListType{ElemType: types.StringType},
				MarkdownDescription: "The names of each wave in publish order: `waves[0]` is wave 1.",
			},
			"publish_order": schema.ListAttribute{
				Computed: true, ElementType: types.StringType, MarkdownDescription: "The names in the order to publish them, producers first.",
			},
			"versions": schema.MapAttribute{
				Computed: true, ElementType: types.StringType,
				MarkdownDescription: "The version key each O11 application would be migrated at, by application key (applications with a version in the environment).",
			},
			"mermaid": str("The producer graph as a Mermaid flowchart: one subgraph per wave, an arrow from each producer to its consumers. " +
				"GitHub and GitLab draw it inside a ` ```mermaid ` block."),
			"dot": str("The same graph in Graphviz DOT, one cluster per wave."),
		},
	}
}

// mappingNamePattern is the kit's: no white space at either end.
var mappingNamePattern = regexp.MustCompile(`^\S(.*\S)?$`)

func (d *migrationPreviewDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *migrationPreviewDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	odc := d.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var m migrationPreviewModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	defs := map[string]previewMappingModel{}
	resp.Diagnostics.Append(m.Mappings.ElementsAs(ctx, &defs, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	names := slices.SortedFunc(maps.Keys(defs), func(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) })
	for i := 1; i < len(names); i++ {
		if strings.EqualFold(names[i-1], names[i]) {
			resp.Diagnostics.AddAttributeError(path.Root("mappings").AtMapKey(names[i]), "Two Mappings With One Name",
				fmt.Sprintf("mappings names %q and %q: mapping names are unique ignoring letter case. Keep one of them.", names[i-1], names[i]))
		}
	}
	assets := make([]client.MigrationPreviewAsset, 0, len(defs))
	for _, n := range names {
		var keys []string
		resp.Diagnostics.Append(defs[n].O11ApplicationKeys.ElementsAs(ctx, &keys, false)...)
		for i := range keys {
			keys[i] = strings.ToLower(keys[i])
		}
		assets = append(assets, client.MigrationPreviewAsset{Name: n, AssetType: migrationkit.ResourceAssetTypes[defs[n].AssetType.ValueString()], ApplicationKeys: keys})
	}
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := odc.PreviewMigration(ctx, m.SourceEnvironmentKey.ValueString(), assets)
	if err != nil {
		addPreviewError(&resp.Diagnostics, err)
		return
	}
	resp.Diagnostics.Append(m.fromPreview(ctx, p)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// addPreviewError words a failed preview: no kit at all, a kit older than
// the preview (1.3.0), an unknown environment or application, or the kit's
// own message.
func addPreviewError(diags *diag.Diagnostics, err error) {
	var apiErr *client.APIError
	var noKit *client.NoMigrationKitError
	isAPI := errors.As(err, &apiErr)
	switch {
	case errors.As(err, &noKit):
		diags.AddError("No Migration Kit API", noMigrationKitDetail("data.outsystems_migration_preview", "code migration", noKit))
	case isAPI && apiErr.StatusCode == http.StatusNotFound && apiErr.ErrorCode == "ENDPOINT_NOT_FOUND":
		diags.AddError("Migration Preview Not Served",
			"This organization's Migration Kit does not serve migration previews (POST /migration-previews, added in version 1.3.0 of its API): "+
				apiMessages(err)+". Remove data.outsystems_migration_preview and apply in two steps (the mappings first), or ask for a newer kit.")
	case isAPI && apiErr.ErrorCode == "ENVIRONMENT_NOT_FOUND":
		diags.AddAttributeError(path.Root("source_environment_key"), "Unknown Source Environment",
			apiMessages(err)+" Use the key of a LifeTime environment (data.outsystems_lifetime_environment).")
	case isAPI && apiErr.ErrorCode == "APPLICATION_NOT_FOUND":
		diags.AddAttributeError(path.Root("mappings"), "Unknown O11 Applications",
			apiMessages(err)+" Use the keys of O11 applications (data.outsystems_lifetime_application).")
	case isAPI && apiErr.ErrorCode == "VALIDATION_ERROR":
		diags.AddAttributeError(path.Root("mappings"), "Mapping Definitions Refused", "The Migration Kit refused the definitions: "+apiMessages(err))
	default:
		addAPIError(diags, "Failed To Preview The Migration", "preview the code migration of the mapping definitions", err)
	}
}

// fromPreview fills the computed attributes.
func (m *migrationPreviewModel) fromPreview(ctx context.Context, p *client.MigrationPreview) diag.Diagnostics {
	var diags diag.Diagnostics
	assets := map[string]attr.Value{}
	versions := map[string]attr.Value{}
	var order []string
	var waves [][]string
	graph := make([]graphAsset, 0, len(p.Assets))
	for _, a := range p.Assets {
		var apps, findings, producers []attr.Value
		blocked := false
		for _, app := range a.Applications {
			var modules []attr.Value
			for _, mod := range app.Modules {
				modules = append(modules, types.ObjectValueMust(previewModuleAttrTypes, map[string]attr.Value{
					"key": types.StringValue(mod.ModuleKey), "name": types.StringValue(mod.Name), "type": types.StringValue(mod.Type),
					"version_key": types.StringValue(mod.ModuleVersionKey),
				}))
			}
			apps = append(apps, types.ObjectValueMust(previewApplicationAttrTypes, map[string]attr.Value{
				"key": types.StringValue(app.ApplicationKey), "name": types.StringValue(app.Name),
				"version": types.StringPointerValue(app.Version), "version_key": types.StringPointerValue(app.VersionKey),
				"modified": types.BoolValue(app.IsModified),
				"modules":  types.ListValueMust(types.ObjectType{AttrTypes: previewModuleAttrTypes}, nonNilValues(modules)),
			}))
			if app.VersionKey != nil {
				versions[app.ApplicationKey] = types.StringValue(*app.VersionKey)
			}
		}
		for _, f := range a.Findings {
			blocked = blocked || f.Blocking
			findings = append(findings, types.ObjectValueMust(previewFindingAttrTypes, map[string]attr.Value{
				"code": types.StringValue(f.Code), "message": types.StringValue(f.Message), "blocking": types.BoolValue(f.Blocking),
			}))
		}
		for _, n := range a.ProducerNames {
			producers = append(producers, types.StringValue(n))
		}
		assets[a.Name] = types.ObjectValueMust(previewAssetAttrTypes, map[string]attr.Value{
			"asset_type": types.StringValue(assetTypeFromWire(a.AssetType)), "mapping_id": types.StringPointerValue(a.MappingKey),
			"publish_wave": types.Int64Value(int64(a.PublishWave)), "publish_order": types.Int64Value(int64(a.PublishOrder)),
			"producers": types.ListValueMust(types.StringType, nonNilValues(producers)), "blocked": types.BoolValue(blocked),
			"applications": types.ListValueMust(types.ObjectType{AttrTypes: previewApplicationAttrTypes}, nonNilValues(apps)),
			"findings":     types.ListValueMust(types.ObjectType{AttrTypes: previewFindingAttrTypes}, nonNilValues(findings)),
		})
		order = append(order, a.Name)
		for len(waves) < a.PublishWave {
			waves = append(waves, []string{})
		}
		waves[a.PublishWave-1] = append(waves[a.PublishWave-1], a.Name)
		graph = append(graph, graphAsset{name: a.Name, assetType: assetTypeFromWire(a.AssetType), wave: a.PublishWave, order: a.PublishOrder, producers: a.ProducerNames})
	}
	var dd diag.Diagnostics
	m.Assets, dd = types.MapValue(types.ObjectType{AttrTypes: previewAssetAttrTypes}, assets)
	diags.Append(dd...)
	m.Versions, dd = types.MapValue(types.StringType, versions)
	diags.Append(dd...)
	m.PublishOrder, dd = types.ListValueFrom(ctx, types.StringType, nonNilStrings(order))
	diags.Append(dd...)
	m.Waves, dd = types.ListValueFrom(ctx, types.ListType{ElemType: types.StringType}, nonNilWaves(waves))
	diags.Append(dd...)
	m.PreviewedAt = types.StringValue(p.PreviewedAt)
	m.Blocked = types.BoolValue(p.Blocked)
	m.Summary = types.StringValue(previewSummary(p))
	m.Mermaid = types.StringValue(renderMermaid(graph))
	m.DOT = types.StringValue(renderDOT(graph))
	return diags
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilWaves(w [][]string) [][]string {
	if w == nil {
		return [][]string{}
	}
	return w
}

// previewSummary reports the assets wave by wave with their versions, then
// every blocking finding.
func previewSummary(p *client.MigrationPreview) string {
	var b strings.Builder
	waves := 0
	for _, a := range p.Assets {
		waves = max(waves, a.PublishWave)
	}
	fmt.Fprintf(&b, "A code migration of these %d assets publishes in %d %s:", len(p.Assets), waves, plural(waves, "wave", "waves"))
	for _, a := range p.Assets {
		var apps []string
		for _, app := range a.Applications {
			v := "no version in the source environment"
			if app.Version != nil {
				v = *app.Version
				if app.IsModified {
					v += " (untagged changes since)"
				}
			}
			var modules []string
			for _, m := range app.Modules {
				modules = append(modules, m.Name)
			}
			if len(modules) > 0 {
				v += " [" + strings.Join(modules, ", ") + "]"
			}
			apps = append(apps, fmt.Sprintf("%s %s", app.Name, v))
		}
		fmt.Fprintf(&b, "\n- wave %d, #%d %s (%s): %s", a.PublishWave, a.PublishOrder, a.Name, assetTypeFromWire(a.AssetType), strings.Join(apps, ", "))
	}
	var blocking, notes []string
	for _, a := range p.Assets {
		for _, f := range a.Findings {
			line := fmt.Sprintf("%s: %s (%s)", a.Name, f.Message, f.Code)
			if f.Blocking {
				blocking = append(blocking, line)
			} else {
				notes = append(notes, line)
			}
		}
	}
	if len(blocking) > 0 {
		fmt.Fprintf(&b, "\n%d blocking %s; the migration would refuse these assets or fail to convert them:\n- %s",
			len(blocking), plural(len(blocking), "finding", "findings"), strings.Join(blocking, "\n- "))
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, "\nTo know (not blocking):\n- %s", strings.Join(notes, "\n- "))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
