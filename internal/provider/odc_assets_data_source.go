package provider

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
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

var (
	_ datasource.DataSourceWithConfigure      = (*odcAssetsDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*odcAssetsDataSource)(nil)
)

// NewODCAssetsDataSource is the outsystems_odc_assets data source: the ODC
// assets of a migration run in the portal, found by name, with their latest
// revision, their producers (from ODC's dependency data) and the waves and
// order to publish them in, producers first.
func NewODCAssetsDataSource() datasource.DataSource { return &odcAssetsDataSource{} }

type odcAssetsDataSource struct{ data *providerData }

type odcAssetsModel struct {
	Names             types.Set    `tfsdk:"names"`
	AssetTypes        types.Map    `tfsdk:"asset_types"`
	Assets            types.Map    `tfsdk:"assets"`
	Waves             types.List   `tfsdk:"waves"`
	PublishOrder      types.List   `tfsdk:"publish_order"`
	ExternalProducers types.List   `tfsdk:"external_producers"`
	Mermaid           types.String `tfsdk:"mermaid"`
	DOT               types.String `tfsdk:"dot"`
}

// nonBlankName matches a name with something besides spaces in it.
var nonBlankName = regexp.MustCompile(`\S`)

// The asset type "app" an expectation may name: a web or a mobile app.
const expectApp = "app"

var odcAssetProducerAttrTypes = map[string]attr.Type{
	"key": types.StringType, "name": types.StringType, "asset_type": types.StringType, "in_set": types.BoolType,
}

var odcAssetAttrTypes = map[string]attr.Type{
	"key": types.StringType, "name": types.StringType, "asset_type": types.StringType, "revision": types.Int64Type,
	"tag":          types.StringType,
	"producers":    types.ListType{ElemType: types.ObjectType{AttrTypes: odcAssetProducerAttrTypes}},
	"publish_wave": types.Int64Type, "publish_order": types.Int64Type,
}

var odcExternalProducerAttrTypes = map[string]attr.Type{
	"key": types.StringType, "name": types.StringType, "asset_type": types.StringType, "consumers": types.ListType{ElemType: types.StringType},
}

func (d *odcAssetsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_odc_assets"
}

func (d *odcAssetsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	producer := schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
		"key":        schema.StringAttribute{Computed: true, MarkdownDescription: "Key of the producer asset."},
		"name":       schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the producer asset."},
		"asset_type": schema.StringAttribute{Computed: true, MarkdownDescription: "Type of the producer: `library`, `web_app`, `mobile_app` (or ODC's name of another type)."},
		"in_set":     schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the producer is one of `names` (and so ordered before this asset)."},
	}}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Finds ODC assets by name, with their latest revision, type and producers, and the waves and order to publish them in, " +
			"producers first. Use it to publish and release the assets of a code migration run in the ODC portal, which is how " +
			"migrations run on an organization without a Migration Kit API.\n\n" +
			"Producers come from ODC's dependency management (the public elements each revision references), so they are known before " +
			"anything is published. Each name costs one asset repository request (`nameContains`) and one referenced-elements request.",
		Attributes: map[string]schema.Attribute{
			"names": schema.SetAttribute{
				Required: true, ElementType: types.StringType,
				MarkdownDescription: "Names of the ODC assets, as the portal migration created them (case-insensitive).",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(stringvalidator.RegexMatches(nonBlankName, "must not be blank"))},
			},
			"asset_types": schema.MapAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "The type expected of some assets, by name: `library`, `web_app`, `mobile_app`, or `app` (either app type). " +
					"An asset of another type is an error, so a library migrated as an app is caught before it is published.",
				Validators: []validator.Map{mapvalidator.ValueStringsAre(stringvalidator.OneOf(
					migrationkit.ResourceLibrary, migrationkit.ResourceWebApp, migrationkit.ResourceMobileApp, expectApp))},
			},
			"assets": schema.MapNestedAttribute{
				Computed: true, MarkdownDescription: "The assets, by the name given in `names`.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"key":        schema.StringAttribute{Computed: true, MarkdownDescription: "Key of the asset."},
					"name":       schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the asset's latest revision."},
					"asset_type": schema.StringAttribute{Computed: true, MarkdownDescription: "`library`, `web_app` or `mobile_app` (or ODC's name of another type)."},
					"revision":   schema.Int64Attribute{Computed: true, MarkdownDescription: "The asset's latest revision: the one to publish."},
					"tag":        schema.StringAttribute{Computed: true, MarkdownDescription: "Tag (version) of the latest revision; empty when it is not released."},
					"producers": schema.ListNestedAttribute{Computed: true, NestedObject: producer,
						MarkdownDescription: "The assets whose public elements the latest revision references (its direct producers), by name."},
					"publish_wave": schema.Int64Attribute{Computed: true,
						MarkdownDescription: "1 for an asset with no producer among `names`, else one more than its producers' highest wave."},
					"publish_order": schema.Int64Attribute{Computed: true, MarkdownDescription: "Position (from 1) in the producers-first order: by wave, then by name."},
				}},
			},
			"waves": schema.ListAttribute{
				Computed: true, ElementType: types.ListType{ElemType: types.StringType},
				MarkdownDescription: "The names of each wave in publish order: `waves[0]` is wave 1. Publish a wave once the libraries of the waves before are released.",
			},
			"publish_order": schema.ListAttribute{
				Computed: true, ElementType: types.StringType, MarkdownDescription: "The names in the order to publish them, producers first.",
			},
			"external_producers": schema.ListNestedAttribute{
				Computed: true, MarkdownDescription: "Producers of the assets that are not in `names`, by name: they must be published " +
					"(and, for libraries, released) already, or be added to `names`. They are not ordered.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"key":        schema.StringAttribute{Computed: true, MarkdownDescription: "Key of the producer asset."},
					"name":       schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the producer asset."},
					"asset_type": schema.StringAttribute{Computed: true, MarkdownDescription: "Type of the producer asset."},
					"consumers": schema.ListAttribute{Computed: true, ElementType: types.StringType,
						MarkdownDescription: "The names (from `names`) that consume it."},
				}},
			},
			"mermaid": schema.StringAttribute{Computed: true, MarkdownDescription: "The producer graph of `names` as a Mermaid flowchart: one " +
				"subgraph per wave, an arrow from each producer to its consumers (external producers left out). GitHub and GitLab draw it " +
				"inside a ` ```mermaid ` block, e.g. in a pull request comment."},
			"dot": schema.StringAttribute{Computed: true, MarkdownDescription: "The same graph in Graphviz DOT, one cluster per wave."},
		},
	}
}

// ValidateConfig checks that asset_types names only assets of names.
func (d *odcAssetsDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m odcAssetsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Names.IsUnknown() || m.AssetTypes.IsNull() || m.AssetTypes.IsUnknown() {
		return
	}
	var names []string
	resp.Diagnostics.Append(m.Names.ElementsAs(ctx, &names, true)...)
	expect := map[string]types.String{}
	resp.Diagnostics.Append(m.AssetTypes.ElementsAs(ctx, &expect, true)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, n := range names {
		if strings.TrimSpace(n) != n {
			resp.Diagnostics.AddAttributeError(path.Root("names"), "Name With Spaces Around It",
				fmt.Sprintf("names lists %q, with spaces before or after it. Write the asset's name as ODC shows it: %q.", n, strings.TrimSpace(n)))
		}
	}
	for _, n := range slices.Sorted(maps.Keys(expect)) {
		if !slices.ContainsFunc(names, func(x string) bool { return strings.EqualFold(x, n) }) {
			resp.Diagnostics.AddAttributeError(path.Root("asset_types").AtMapKey(n), "Type Expected Of An Asset Not Named",
				fmt.Sprintf("asset_types names %q, which is not in names (%s). Add it to names or remove it from asset_types.", n, quoteJoin(names)))
		}
	}
}

func (d *odcAssetsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// foundAsset is an asset of names, once found.
type foundAsset struct {
	given     string // the name as names lists it
	asset     client.Asset
	producers []client.ReferencedProducer
}

func (d *odcAssetsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	odc := d.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var m odcAssetsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	var names []string
	resp.Diagnostics.Append(m.Names.ElementsAs(ctx, &names, false)...)
	expect := map[string]string{}
	if !m.AssetTypes.IsNull() {
		resp.Diagnostics.Append(m.AssetTypes.ElementsAs(ctx, &expect, false)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) })

	found, ok := d.find(ctx, odc, names, &resp.Diagnostics)
	if !ok {
		return
	}
	checkExpectedTypes(found, expect, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, f := range found {
		producers, err := odc.RevisionProducers(ctx, f.asset.Key, f.asset.LatestRevision)
		if err != nil {
			addAPIError(&resp.Diagnostics, "Failed To Read An Asset's Producers",
				fmt.Sprintf("read the elements revision %d of ODC asset %q (key %s) references", f.asset.LatestRevision, f.asset.Name, f.asset.Key), err)
			return
		}
		f.producers = slices.DeleteFunc(producers, func(p client.ReferencedProducer) bool { return strings.EqualFold(p.AssetKey, f.asset.Key) })
	}
	d.setState(ctx, &m, found, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// find looks each name up (one asset repository request each), reporting
// names with no asset (with close names) and names shared by two assets.
func (d *odcAssetsDataSource) find(ctx context.Context, odc *client.ODC, names []string, diags *diag.Diagnostics) ([]*foundAsset, bool) {
	var found []*foundAsset
	var missing []string
	partial := map[string][]string{}
	for _, n := range names {
		assets, err := odc.FindAssets(ctx, n)
		if err != nil {
			addAPIError(diags, "Failed To Find An ODC Asset", fmt.Sprintf("find the ODC asset named %q in the asset repository", n), err)
			return nil, false
		}
		var exact []client.Asset
		for _, a := range assets {
			if strings.EqualFold(a.Name, n) {
				exact = append(exact, a)
			} else {
				partial[n] = append(partial[n], a.Name)
			}
		}
		switch len(exact) {
		case 0:
			missing = append(missing, n)
		case 1:
			found = append(found, &foundAsset{given: n, asset: exact[0]})
		default:
			keys := make([]string, len(exact))
			for i, a := range exact {
				keys[i] = fmt.Sprintf("%s (%s, revision %d)", a.Key, migrationkit.ResourceAssetType(a.AssetType), a.LatestRevision)
			}
			diags.AddAttributeError(path.Root("names"), "Two ODC Assets Have One Name",
				fmt.Sprintf("%d ODC assets are named %q: %s. The provider cannot tell which one the migration produced. "+
					"Rename or delete the others in the ODC portal, then plan again.", len(exact), n, strings.Join(keys, ", ")))
		}
	}
	if len(missing) > 0 {
		var all []string
		if slices.ContainsFunc(missing, func(n string) bool { return len(partial[n]) == 0 }) {
			// Only when a name matched nothing at all: one listing of
			// every asset to suggest names by spelling. The suggestions
			// are a courtesy: without the listing the error still says
			// which name is missing.
			assets, err := odc.ListAssets(ctx)
			if err == nil {
				for _, a := range assets {
					all = append(all, a.Name)
				}
			}
		}
		for _, n := range missing {
			detail := fmt.Sprintf("The ODC organization has no asset named %q.", n)
			if near := closeNames(n, partial[n], all); len(near) > 0 {
				detail += " Close names: " + quoteJoin(near) + "."
			}
			detail += " Check the name in the ODC portal (it is the name the portal migration gave the asset), or run the migration of that asset first."
			diags.AddAttributeError(path.Root("names"), "ODC Asset Not Found", detail)
		}
	}
	return found, !diags.HasError()
}

// checkExpectedTypes reports assets whose type is not the one asset_types
// expects.
func checkExpectedTypes(found []*foundAsset, expect map[string]string, diags *diag.Diagnostics) {
	for name, want := range expect {
		i := slices.IndexFunc(found, func(f *foundAsset) bool { return strings.EqualFold(f.given, name) })
		if i < 0 {
			continue
		}
		got := migrationkit.ResourceAssetType(found[i].asset.AssetType)
		if got == want || want == expectApp && (got == migrationkit.ResourceWebApp || got == migrationkit.ResourceMobileApp) {
			continue
		}
		diags.AddAttributeError(path.Root("asset_types").AtMapKey(name), "ODC Asset Of Another Type",
			fmt.Sprintf("ODC asset %q (key %s) is a %s, and asset_types expects a %s. Migrate it again in the portal as a %s, or correct asset_types.",
				found[i].asset.Name, found[i].asset.Key, got, want, want))
	}
}

// setState computes the publish plan and fills the computed attributes.
func (d *odcAssetsDataSource) setState(ctx context.Context, m *odcAssetsModel, found []*foundAsset, diags *diag.Diagnostics) {
	inSet := map[string]*foundAsset{}
	for _, f := range found {
		inSet[strings.ToLower(f.asset.Key)] = f
	}
	plan := make([]migrationkit.Asset, len(found))
	for i, f := range found {
		plan[i] = migrationkit.Asset{Key: strings.ToLower(f.asset.Key), Name: f.given}
		for _, p := range f.producers {
			if inSet[strings.ToLower(p.AssetKey)] != nil {
				plan[i].Producers = append(plan[i].Producers, strings.ToLower(p.AssetKey))
			}
		}
	}
	placements := migrationkit.PlanPublishOrder(plan)

	assets := map[string]attr.Value{}
	graph := make([]graphAsset, len(found))
	order := make([]string, len(found))
	var waves [][]string
	type external struct {
		p         client.ReferencedProducer
		consumers []string
	}
	externals := map[string]*external{}
	for i, f := range found {
		pl := placements[i]
		if len(pl.Dropped) > 0 {
			diags.AddWarning("ODC Assets Depend On Each Other",
				fmt.Sprintf("ODC asset %q and %d of its producers among names reference each other, which ODC does not allow; "+
					"it was placed as if it did not consume them. Check the references in ODC Studio.", f.given, len(pl.Dropped)))
		}
		order[pl.Order-1] = f.given
		graph[i] = graphAsset{name: f.given, assetType: migrationkit.ResourceAssetType(f.asset.AssetType), wave: pl.Wave, order: pl.Order}
		for len(waves) < pl.Wave {
			waves = append(waves, []string{})
		}
		var producers []attr.Value
		for _, p := range f.producers {
			in := inSet[strings.ToLower(p.AssetKey)] != nil
			producers = append(producers, types.ObjectValueMust(odcAssetProducerAttrTypes, map[string]attr.Value{
				"key": types.StringValue(p.AssetKey), "name": types.StringValue(p.Name),
				"asset_type": types.StringValue(migrationkit.ResourceAssetType(p.AssetType)), "in_set": types.BoolValue(in),
			}))
			if in {
				graph[i].producers = append(graph[i].producers, inSet[strings.ToLower(p.AssetKey)].given)
			}
			if !in {
				e := externals[strings.ToLower(p.AssetKey)]
				if e == nil {
					e = &external{p: p}
					externals[strings.ToLower(p.AssetKey)] = e
				}
				e.consumers = append(e.consumers, f.given)
			}
		}
		list, dd := types.ListValue(types.ObjectType{AttrTypes: odcAssetProducerAttrTypes}, nonNilValues(producers))
		diags.Append(dd...)
		assets[f.given] = types.ObjectValueMust(odcAssetAttrTypes, map[string]attr.Value{
			"key": types.StringValue(f.asset.Key), "name": types.StringValue(f.asset.Name),
			"asset_type": types.StringValue(migrationkit.ResourceAssetType(f.asset.AssetType)),
			"revision":   types.Int64Value(int64(f.asset.LatestRevision)), "tag": types.StringValue(f.asset.Tag),
			"producers": list, "publish_wave": types.Int64Value(int64(pl.Wave)), "publish_order": types.Int64Value(int64(pl.Order)),
		})
	}
	for _, name := range order {
		i := slices.IndexFunc(found, func(f *foundAsset) bool { return f.given == name })
		w := placements[i].Wave - 1
		waves[w] = append(waves[w], name)
	}
	var dd diag.Diagnostics
	m.Assets, dd = types.MapValue(types.ObjectType{AttrTypes: odcAssetAttrTypes}, assets)
	diags.Append(dd...)
	m.PublishOrder, dd = types.ListValueFrom(ctx, types.StringType, order)
	diags.Append(dd...)
	m.Waves, dd = types.ListValueFrom(ctx, types.ListType{ElemType: types.StringType}, waves)
	diags.Append(dd...)
	ext := make([]*external, 0, len(externals))
	for _, e := range externals {
		ext = append(ext, e)
	}
	slices.SortFunc(ext, func(a, b *external) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.p.Name), strings.ToLower(b.p.Name)), cmp.Compare(a.p.AssetKey, b.p.AssetKey))
	})
	extValues := make([]attr.Value, len(ext))
	for i, e := range ext {
		consumers, dd := types.ListValueFrom(ctx, types.StringType, e.consumers)
		diags.Append(dd...)
		extValues[i] = types.ObjectValueMust(odcExternalProducerAttrTypes, map[string]attr.Value{
			"key": types.StringValue(e.p.AssetKey), "name": types.StringValue(e.p.Name),
			"asset_type": types.StringValue(migrationkit.ResourceAssetType(e.p.AssetType)), "consumers": consumers,
		})
	}
	m.ExternalProducers, dd = types.ListValue(types.ObjectType{AttrTypes: odcExternalProducerAttrTypes}, extValues)
	diags.Append(dd...)
	m.Mermaid, m.DOT = types.StringValue(renderMermaid(graph)), types.StringValue(renderDOT(graph))
}

func nonNilValues(v []attr.Value) []attr.Value {
	if v == nil {
		return []attr.Value{}
	}
	return v
}

func quoteJoin(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// closeNames suggests up to five names for one not found: the names that
// contain it, then names of all spelled within a few edits of it.
func closeNames(name string, containing, all []string) []string {
	out := slices.Clone(containing)
	type scored struct {
		name string
		d    int
	}
	var near []scored
	limit := max(2, len(name)/4)
	for _, a := range all {
		if slices.Contains(out, a) {
			continue
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(a)); d <= limit {
			near = append(near, scored{a, d})
		}
	}
	slices.SortStableFunc(near, func(a, b scored) int { return cmp.Or(a.d-b.d, cmp.Compare(a.name, b.name)) })
	for _, s := range near {
		out = append(out, s.name)
	}
	return out[:min(len(out), 5)]
}

// editDistance is the Levenshtein distance between two strings, by rune.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
