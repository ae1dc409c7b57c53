package provider

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/migrationkit"
)

var (
	_ resource.ResourceWithConfigure   = (*appMappingResource)(nil)
	_ resource.ResourceWithImportState = (*appMappingResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*appMappingResource)(nil)
)

const defaultAssessmentTimeout = 20 * time.Minute

// assetTypes maps the resource's asset_type values to the contract's
// (migrationkit.ResourceAssetTypes).
var assetTypes = migrationkit.ResourceAssetTypes

// assetTypeFromWire returns the asset_type value of a contract asset type.
func assetTypeFromWire(wire string) string { return migrationkit.ResourceAssetType(wire) }

// NewAppMappingResource is the outsystems_app_mapping resource.
func NewAppMappingResource() resource.Resource { return &appMappingResource{} }

type appMappingResource struct{ data *providerData }

type appMappingModel struct {
	ID                 types.String   `tfsdk:"id"`
	Name               types.String   `tfsdk:"name"`
	AssetType          types.String   `tfsdk:"asset_type"`
	O11ApplicationKeys types.Set      `tfsdk:"o11_application_keys"`
	Description        types.String   `tfsdk:"description"`
	WaitForAssessment  types.Bool     `tfsdk:"wait_for_assessment"`
	Status             types.String   `tfsdk:"status"`
	Ready              types.Bool     `tfsdk:"ready"`
	ModuleCount        types.Int64    `tfsdk:"module_count"`
	ConsumesMappingIDs types.Set      `tfsdk:"consumes_mapping_ids"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
}

func (r *appMappingResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_app_mapping"
}

func (r *appMappingResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Maps one or more O11 applications to one ODC asset (web app, mobile app or library) in the Migration " +
			"Kit's assessment tool (newer name: Conversion Assessment Tool). Creating or changing a mapping queues an assessment; " +
			"by default the resource waits for it so `status` is current when apply returns.\n\n" +
			"The kit's rules are checked at plan time where the values are known: an O11 app belongs to at most one mapping; at most " +
			"20 O11 modules per asset; apps with extensions cannot be mapped; a library only takes library-only apps; reactive and " +
			"mobile apps never share an asset. Name, description and apps change in place; a new `asset_type` replaces the mapping.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Key of the mapping in the assessment tool.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the ODC asset the apps map to, unique among mappings.",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 100)},
			},
			"asset_type": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Type of the ODC asset: `web_app`, `mobile_app` or `library`. Changing it replaces the mapping.",
				Validators:          []validator.String{stringvalidator.OneOf(migrationkit.ResourceWebApp, migrationkit.ResourceMobileApp, migrationkit.ResourceLibrary)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"o11_application_keys": schema.SetAttribute{
				Required:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Keys of the O11 applications mapped to the asset (at least one). Look them up by name with `data.outsystems_lifetime_application`.",
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(guidValidator("O11 application key")),
				},
			},
			"description": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Description of the mapping.",
				Validators:          []validator.String{stringvalidator.LengthAtMost(500)},
			},
			"wait_for_assessment": schema.BoolAttribute{
				Optional: true, Computed: true,
				Default:             booldefault.StaticBool(true),
				MarkdownDescription: "Wait for the assessment a create or change queues, so `status` is current when apply returns (default `true`). Bounded by `timeouts`.",
			},
			"status": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "Readiness of the asset: `ReadyForOdc`, `ChangeInOdc` (can be migrated; fix in ODC after), " +
					"`NotReady` (fix the findings first; see `data.outsystems_migration_readiness`) or `Assessing`.",
			},
			"ready": schema.BoolAttribute{
				Computed:            true,
				MarkdownDescription: "Whether the asset can be migrated: `status` is `ReadyForOdc` or `ChangeInOdc`.",
			},
			"module_count": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Number of O11 modules the mapped applications hold (at most 20).",
			},
			"consumes_mapping_ids": schema.SetAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Ids of the mappings whose assets this asset consumes (its producers), derived from the O11 module references.",
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true}),
		},
	}
}

func (r *appMappingResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ModifyPlan fails a create on an organization without the Migration
// Kit's API (requireMigrationKit; an existing mapping was just read from
// the kit by the refresh, so an update needs no probe), and enforces the kit's mapping
// rules at plan time when the asset type and application keys are known.
func (r *appMappingResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || !r.data.configuredForPlan(&resp.Diagnostics, false, true, false) {
		return
	}
	if req.State.Raw.IsNull() && !r.data.requireMigrationKit(ctx, &resp.Diagnostics, "outsystems_app_mapping", false) {
		return
	}
	var plan appMappingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if !plan.ID.IsUnknown() {
		// Its code migrations key their assets by this name (mapping_rename.go).
		r.data.registerPlannedName(plan.ID.ValueString(), plan.Name)
	}
	if resp.Diagnostics.HasError() || plan.AssetType.IsUnknown() || plan.O11ApplicationKeys.IsUnknown() {
		return
	}
	keys, diags := setStrings(ctx, plan.O11ApplicationKeys)
	resp.Diagnostics.Append(diags...)
	if diags.HasError() {
		return
	}
	for _, k := range keys {
		if k == "" {
			return // an element is not known yet
		}
	}
	var prior *appMappingModel
	if !req.State.Raw.IsNull() {
		prior = &appMappingModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, prior)...)
	}
	if r.checkPlannedTogether(ctx, &plan, prior, keys, &resp.Diagnostics) {
		return
	}
	if prior != nil && plan.O11ApplicationKeys.Equal(prior.O11ApplicationKeys) {
		return // the apps did not change: nothing new to check
	}
	apps, err := r.data.assessment.ListApplications(ctx)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read O11 Applications", "read the O11 applications from the assessment tool to check the mapping", err)
		return
	}
	// The mapping itself may hold the apps: when updated (its id) or replaced (the id in state).
	self := plan.ID.ValueString()
	if plan.ID.IsUnknown() && !req.State.Raw.IsNull() {
		var state appMappingModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		self = state.ID.ValueString()
	}
	// A holder that no longer exists is reported by its key; any other
	// failure to read one is reported instead of the rule violations.
	var holderErr error
	var holderKey string
	holder := func(key string) *client.Mapping {
		mp, err := r.data.assessment.GetMapping(ctx, key)
		if err != nil {
			if !client.IsNotFound(err) && holderErr == nil {
				holderErr, holderKey = err, key
			}
			return &client.Mapping{Key: key}
		}
		return mp
	}
	violations := mappingRuleViolations(plan.Name.ValueString(), plan.AssetType.ValueString(), keys, apps, self, holder)
	if holderErr != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read A Mapping",
			fmt.Sprintf("read mapping %s, which already holds an O11 application of this mapping", holderKey), holderErr)
		return
	}
	for _, problem := range violations {
		detail := problem.detail
		if req.State.Raw.IsNull() {
			detail += destroyAdvice
		}
		resp.Diagnostics.AddAttributeError(path.Root("o11_application_keys"), problem.summary, detail)
	}
}

// destroyAdvice ends a plan-time error about a mapping not applied yet.
// Before `terraform destroy` Terraform refreshes the state with a normal
// plan of the whole configuration, which the provider cannot tell from any
// other plan, so the same error stops the destroy (issue 12, class 5).
const destroyAdvice = "\n\nThis mapping is not applied yet. Terraform also plans the configuration before a destroy, so this " +
	"error stops `terraform destroy` too: to destroy what is applied, run `terraform destroy -refresh=false` (it destroys what " +
	"the state holds without planning the configuration), or remove this mapping from the configuration first."

// checkPlannedTogether fails the plan, before any apply, where the apply
// would fail half-way with a 409: two mappings this configuration plans
// share a name or an O11 application (the mappings one provider process
// plans register in providerData), or a new name is already another
// mapping's in the tool. prior is the state (nil for a new mapping). It
// returns true when it added an error.
func (r *appMappingResource) checkPlannedTogether(ctx context.Context, plan, prior *appMappingModel, keys []string, diags *diag.Diagnostics) bool {
	self := ""
	if prior != nil {
		self = prior.ID.ValueString()
		if !plan.AssetType.Equal(prior.AssetType) {
			// A replacement: Terraform plans the new mapping again without
			// prior state, and that plan is the one registered.
			return false
		}
	}
	name := ""
	if !plan.Name.IsUnknown() {
		name = plan.Name.ValueString()
	}
	apps := make([]string, len(keys))
	for i, k := range keys {
		apps[i] = strings.ToLower(k)
	}
	before := diags.ErrorsCount()
	sameName, shared := r.data.registerPlannedMapping(plannedMapping{id: self, name: name, apps: apps})
	if name != "" {
		for _, o := range sameName {
			diags.AddAttributeError(path.Root("name"), "Two Mappings With One Name",
				fmt.Sprintf("This configuration plans two outsystems_app_mapping resources named %q (the other one: apps %s). Mapping names "+
					"are unique in the assessment tool (ignoring letter case), so the apply would create one and fail on the other (409). "+
					"Give each mapping its own `name`.", name, strings.Join(o.apps, ", ")))
		}
	}
	sharedKeys := make([]string, 0, len(shared))
	for k := range shared {
		sharedKeys = append(sharedKeys, k)
	}
	sort.Strings(sharedKeys)
	for _, k := range sharedKeys {
		for _, o := range shared[k] {
			diags.AddAttributeError(path.Root("o11_application_keys"), "One O11 App In Two Mappings",
				fmt.Sprintf("This configuration maps the O11 application %s in two outsystems_app_mapping resources: %q and %q. An app "+
					"belongs to at most one mapping, so the apply would create one and fail on the other (409). Remove it from one of "+
					"their `o11_application_keys`.", k, name, o.name))
		}
	}
	if diags.ErrorsCount() > before || name == "" || (prior != nil && prior.Name.ValueString() == name) {
		return diags.ErrorsCount() > before
	}
	// A new mapping or a new name: the tool must not hold it already.
	mappings, err := r.data.listMappings(ctx)
	if err != nil {
		addAPIError(diags, "Failed To Read The Mappings", "list the mappings in the assessment tool to check that the name "+name+" is free", err)
		return true
	}
	for _, m := range mappings {
		if !strings.EqualFold(m.Name, name) || strings.EqualFold(m.Key, self) {
			continue
		}
		if prior == nil && (m.AssetType != assetTypes[plan.AssetType.ValueString()] || sharesAny(m.ApplicationKeys, keys)) {
			// The mapping this one replaces (a new asset_type, or tainted,
			// or -replace: Terraform plans it without prior state), which
			// is deleted first.
			continue
		}
		diags.AddAttributeError(path.Root("name"), "Mapping Name Taken",
			fmt.Sprintf("The assessment tool already has a mapping named %q (key %s, apps %s), and mapping names are unique (ignoring "+
				"letter case): the apply would fail (409). Choose another `name`, or import that mapping "+
				"(terraform import <address> %s) to manage it here.", m.Name, m.Key, strings.Join(m.ApplicationKeys, ", "), m.Key))
	}
	return diags.ErrorsCount() > before
}

type ruleViolation struct{ summary, detail string }

// mappingRuleViolations checks the Migration Kit's mapping rules for an
// asset type and a set of O11 application keys against what the assessment
// tool knows about the applications. self is the mapping's own key ("" when
// new); holder reads a mapping that holds one of the apps.
//
// Terraform plans the new half of a replacement as a create, without the old
// id. A replacement is only ever caused by a new asset_type, so a holder with
// this mapping's name and another asset type is the mapping being replaced:
// it is deleted before the new one is created.
func mappingRuleViolations(name, assetType string, keys []string, apps []client.O11Application, self string, holder func(key string) *client.Mapping) []ruleViolation {
	byKey := make(map[string]*client.O11Application, len(apps))
	for i := range apps {
		byKey[strings.ToLower(apps[i].Key)] = &apps[i]
	}
	var unknown []string
	known := make([]migrationkit.Application, 0, len(keys))
	for _, k := range keys {
		app, ok := byKey[strings.ToLower(k)]
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		known = append(known, migrationkit.Application{Key: app.Key, Name: app.Name, Kind: app.Kind, LibraryOnly: app.IsLibraryOnly,
			HasExtensions: app.HasExtensions, ModuleCount: app.ModuleCount, MappingKey: app.MappingKey})
	}
	label := func(app migrationkit.Application) string { return fmt.Sprintf("%q (%s)", app.Name, app.Key) }
	labels := func(apps []migrationkit.Application, pick func(migrationkit.Application) bool) []string {
		var out []string
		for _, a := range apps {
			if pick(a) {
				out = append(out, label(a))
			}
		}
		return out
	}
	mobile, reactive := labels(known, migrationkit.Application.Mobile), labels(known, migrationkit.Application.Reactive)
	broken := map[migrationkit.Rule]migrationkit.Violation{}
	for _, v := range migrationkit.CheckMapping(assetTypes[assetType], known, self) {
		broken[v.Rule] = v
	}
	all := func(migrationkit.Application) bool { return true }
	var out []ruleViolation
	if len(unknown) > 0 {
		out = append(out, ruleViolation{"Unknown O11 Applications",
			fmt.Sprintf("The assessment tool does not know the O11 applications %s. Check `o11_application_keys`; the tool lists the apps of the infrastructure it assesses.", strings.Join(unknown, ", "))})
	}
	if v, ok := broken[migrationkit.RuleExtensionNotMappable]; ok {
		out = append(out, ruleViolation{"Extensions Cannot Be Mapped",
			fmt.Sprintf("The Migration Kit cannot map applications that contain extensions: %s. Remove them from `o11_application_keys`; rebuild the extension's logic in ODC (e.g. as an external library).", strings.Join(labels(v.Apps, all), ", "))})
	}
	if v, ok := broken[migrationkit.RuleLibraryNeedsLibraryOnly]; ok {
		out = append(out, ruleViolation{"Library Needs Library-Only Apps",
			fmt.Sprintf("A `library` mapping only takes O11 applications made entirely of library modules, and these are not: %s. Map them to a `web_app` or `mobile_app`, or remove them from `o11_application_keys`.", strings.Join(labels(v.Apps, all), ", "))})
	}
	_, mobileInWeb := broken[migrationkit.RuleMobileInWebApp]
	_, reactiveInMobile := broken[migrationkit.RuleReactiveInMobileApp]
	_, noMobile := broken[migrationkit.RuleMobileAppNeedsMobile]
	switch {
	case len(mobile) > 0 && len(reactive) > 0:
		// Whatever the asset type, the apps belong to two assets.
		out = append(out, ruleViolation{"Reactive And Mobile Apps Mixed",
			fmt.Sprintf("Reactive and mobile O11 applications go to different ODC assets. This mapping has reactive %s and mobile %s in `o11_application_keys`; split them into a `web_app` and a `mobile_app` mapping.", strings.Join(reactive, ", "), strings.Join(mobile, ", "))})
	case mobileInWeb:
		out = append(out, ruleViolation{"Mobile Apps In A Web App",
			fmt.Sprintf("Mobile O11 applications %s cannot go to a `web_app`. Set `asset_type = \"mobile_app\"` or map them separately.", strings.Join(mobile, ", "))})
	case reactiveInMobile:
		out = append(out, ruleViolation{"Reactive Apps In A Mobile App",
			fmt.Sprintf("Reactive O11 applications %s cannot go to a `mobile_app`. Set `asset_type = \"web_app\"` or map them separately.", strings.Join(reactive, ", "))})
	case noMobile && len(unknown) == 0:
		out = append(out, ruleViolation{"No Mobile App In A Mobile App",
			"A `mobile_app` needs at least one mobile O11 application in `o11_application_keys`; library-only apps alone go to a `library`."})
	}
	if v, ok := broken[migrationkit.RuleTooManyModules]; ok {
		out = append(out, ruleViolation{"Too Many Modules For One Asset",
			fmt.Sprintf("The applications in `o11_application_keys` hold %d O11 modules; the Migration Kit allows at most %d per ODC asset. Split them over more mappings.", v.Modules, migrationkit.MaxModulesPerAsset)})
	}
	mapped := map[string][]string{}
	for _, a := range broken[migrationkit.RuleAlreadyMapped].Apps {
		mapped[a.MappingKey] = append(mapped[a.MappingKey], label(a))
	}
	holders := make([]string, 0, len(mapped))
	for k := range mapped {
		holders = append(holders, k)
	}
	sort.Strings(holders)
	for _, key := range holders {
		h := holder(key)
		if h.Name == name && h.AssetType != "" && h.AssetType != assetTypes[assetType] {
			continue
		}
		if self == "" && h.Name != "" && strings.EqualFold(h.Name, name) {
			// Names are unique in the tool: a holder with this new
			// mapping's name is the mapping it replaces (tainted or
			// -replace, planned without prior state), deleted first.
			continue
		}
		label := key
		if h.Name != "" {
			label = fmt.Sprintf("%q (%s)", h.Name, key)
		}
		out = append(out, ruleViolation{"O11 App Already Mapped",
			fmt.Sprintf("An O11 application belongs to at most one mapping, and %s already belongs to mapping %s. Remove it from that mapping first (apply that change, then this one), or remove it from `o11_application_keys`.", strings.Join(mapped[key], ", "), label)})
	}
	return out
}

// fromMapping copies the mapping into the model.
func (m *appMappingModel) fromMapping(mp *client.Mapping) {
	m.ID = types.StringValue(mp.Key)
	m.Name = types.StringValue(mp.Name)
	m.AssetType = types.StringValue(assetTypeFromWire(mp.AssetType))
	// Keep the configured spelling of keys when they are the same GUIDs.
	if cfg, diags := setStrings(context.Background(), m.O11ApplicationKeys); diags.HasError() || !sameKeys(cfg, mp.ApplicationKeys) {
		m.O11ApplicationKeys = stringSet(mp.ApplicationKeys)
	}
	if mp.Description != "" || (!m.Description.IsNull() && !m.Description.IsUnknown()) {
		m.Description = types.StringValue(mp.Description)
	} else {
		m.Description = types.StringNull()
	}
	m.Status = types.StringValue(mp.Status)
	m.Ready = types.BoolValue(mp.Status == client.MappingStatusReady || mp.Status == client.MappingStatusChangeInOdc)
	m.ModuleCount = types.Int64Value(int64(mp.ModuleCount))
	producers := mp.ProducerMappingKeys
	if producers == nil {
		producers = []string{}
	}
	m.ConsumesMappingIDs = stringSet(producers)
	if m.WaitForAssessment.IsNull() || m.WaitForAssessment.IsUnknown() {
		m.WaitForAssessment = types.BoolValue(true)
	}
}

func (r *appMappingResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	as := r.data.requireAssessment(&resp.Diagnostics)
	if as == nil {
		return
	}
	var plan appMappingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultAssessmentTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	keys, diags := setStrings(ctx, plan.O11ApplicationKeys)
	resp.Diagnostics.Append(diags...)
	body := client.MappingCreate{Name: plan.Name.ValueString(), AssetType: assetTypes[plan.AssetType.ValueString()], ApplicationKeys: keys}
	if !plan.Description.IsNull() {
		d := plan.Description.ValueString()
		body.Description = &d
	}
	mp, err := createOnce(ctx, "mapping "+body.Name, r.data.attempts,
		func(ctx context.Context) (*client.Mapping, error) { return as.CreateMapping(ctx, body) },
		func(ctx context.Context) (*client.Mapping, bool, error) {
			mappings, err := as.ListMappings(ctx)
			for i := range mappings {
				m := &mappings[i]
				if strings.EqualFold(m.Name, body.Name) && m.AssetType == body.AssetType && sameKeys(m.ApplicationKeys, keys) {
					return m, true, nil
				}
			}
			return nil, false, err
		})
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Create The Mapping", fmt.Sprintf("create mapping %q in the assessment tool", body.Name), err)
		return
	}
	// The mapping exists now: record it before waiting, so an interrupt or a
	// timeout cannot lose it.
	plan.fromMapping(mp)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	r.finish(ctx, as, mp, &plan, &resp.State, &resp.Diagnostics)
}

// finish waits for the mapping's assessment when asked and records the result.
func (r *appMappingResource) finish(ctx context.Context, as *client.Assessment, mp *client.Mapping, plan *appMappingModel, state stateSetter, diags *diag.Diagnostics) {
	if plan.WaitForAssessment.ValueBool() && mp.Status == client.MappingStatusAssessing {
		err := waitForAssessment(ctx, as, mp)
		if err != nil {
			diags.AddError("Assessment Did Not Finish",
				fmt.Sprintf("While attempting to wait for the assessment of mapping %q (%s), the provider stopped: %s\n\n"+
					"The mapping exists and is recorded in state. Raise `timeouts`, or set `wait_for_assessment = false` and gate the "+
					"migration on data.outsystems_migration_readiness instead.", mp.Name, mp.Key, err))
			return
		}
		fresh, err := as.GetMapping(ctx, mp.Key)
		if err != nil {
			addAPIError(diags, "Failed To Read The Mapping", fmt.Sprintf("read mapping %q after its assessment", mp.Name), err)
			return
		}
		mp = fresh
	}
	plan.fromMapping(mp)
	diags.Append(state.Set(ctx, plan)...)
}

type stateSetter interface {
	Set(ctx context.Context, val any) diag.Diagnostics
}

func (r *appMappingResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	as := r.data.requireAssessment(&resp.Diagnostics)
	if as == nil {
		return
	}
	var state appMappingModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	mp, err := as.GetMapping(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		mp, err = r.createdAgain(ctx, as, &state, &resp.Diagnostics)
		if mp == nil && err == nil {
			resp.State.RemoveResource(ctx)
			return
		}
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Mapping", fmt.Sprintf("read mapping %s from the assessment tool", state.ID.ValueString()), err)
		return
	}
	r.data.rememberMapping(mp)
	state.fromMapping(mp)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// createdAgain handles a mapping gone from the assessment tool. A mapping
// of the same name and asset type that the tool holds now (someone deleted
// the mapping and created it again there) is adopted, with a warning: it
// maps to the same ODC asset, and a code migration holding the old id sees
// a mapping of the same name and is not replaced. Otherwise it returns
// nil, warning that the mapping will be created again, and the caller
// removes it from state.
func (r *appMappingResource) createdAgain(ctx context.Context, as *client.Assessment, state *appMappingModel, diags *diag.Diagnostics) (*client.Mapping, error) {
	id, name := state.ID.ValueString(), state.Name.ValueString()
	mappings, err := as.ListMappings(ctx)
	if err != nil {
		return nil, err
	}
	wire := assetTypes[state.AssetType.ValueString()]
	for i := range mappings {
		mp := &mappings[i]
		if strings.EqualFold(mp.Name, name) && mp.AssetType == wire {
			diags.AddWarning("Mapping Created Again In The Assessment Tool",
				fmt.Sprintf("Mapping %q (%s) is gone from the assessment tool, which now holds a %s mapping of that name (%s): the provider "+
					"adopts it. A code migration of the old mapping is kept (same names, same ODC asset); the next apply changes "+
					"only the ids it records.", name, id, state.AssetType.ValueString(), mp.Key))
			return mp, nil
		}
	}
	tflog.Warn(ctx, "The mapping no longer exists in the assessment tool; removing it from state", map[string]any{"id": id})
	diags.AddWarning("Mapping Gone From The Assessment Tool",
		fmt.Sprintf("Mapping %q (%s) no longer exists in the assessment tool; it is removed from state and the next apply creates it "+
			"again with a new id. A code migration that holds it is then replaced: the new migration converts the apps again into "+
			"the existing ODC asset named %q, as a new revision (never a second asset), and publications and releases of that "+
			"revision follow. To keep the migration as it is, create the mapping again in the tool with the same name and asset "+
			"type before applying (the provider adopts it), or add `lifecycle { ignore_changes = [mapping_ids] }` to the migration.",
			name, id, name))
	return nil, nil
}

func (r *appMappingResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	as := r.data.requireAssessment(&resp.Diagnostics)
	if as == nil {
		return
	}
	var plan, state appMappingModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultAssessmentTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// The plan was made from the state; what the apply does not change must
	// still be as planned. A mapping changed in the tool since the plan (a
	// saved plan applied later) fails here, before anything is sent.
	current, err := as.GetMapping(ctx, state.ID.ValueString())
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Mapping", fmt.Sprintf("read mapping %q (%s)", state.Name.ValueString(), state.ID.ValueString()), err)
		return
	}
	if movedSincePlan(&resp.Diagnostics, &state, current) {
		return
	}

	var patch client.MappingPatch
	changed := false
	if !plan.Name.Equal(state.Name) {
		n := plan.Name.ValueString()
		patch.Name, changed = &n, true
	}
	if !plan.Description.Equal(state.Description) {
		d := plan.Description.ValueString() // null clears it
		patch.Description, changed = &d, true
	}
	if !plan.O11ApplicationKeys.Equal(state.O11ApplicationKeys) {
		keys, diags := setStrings(ctx, plan.O11ApplicationKeys)
		resp.Diagnostics.Append(diags...)
		patch.ApplicationKeys, changed = keys, true
	}
	mp := current
	if changed {
		mp, err = as.UpdateMapping(ctx, state.ID.ValueString(), patch)
		if err != nil {
			addAPIError(&resp.Diagnostics, "Failed To Update The Mapping", fmt.Sprintf("update mapping %q (%s)", state.Name.ValueString(), state.ID.ValueString()), err)
			return
		}
	}
	plan.ID = state.ID
	r.finish(ctx, as, mp, &plan, &resp.State, &resp.Diagnostics)
}

// movedSincePlan reports, as errors, the mapping's arguments that the tool
// now holds differently from the state the plan was made from: a change in
// the tool between `terraform plan -out` and the apply of that plan. It
// returns true when it added an error.
func movedSincePlan(diags *diag.Diagnostics, state *appMappingModel, current *client.Mapping) bool {
	before := diags.ErrorsCount()
	planAgain := "It changed in the assessment tool since the plan was made (changed since the plan), so the saved plan no longer " +
		"describes what the apply would do; nothing was changed. Run terraform plan again and review the new plan."
	if current.Name != state.Name.ValueString() {
		diags.AddAttributeError(path.Root("name"), "Mapping Changed Since The Plan",
			fmt.Sprintf("Mapping %s: name was planned as %q, but the assessment tool now says %q. %s", current.Key, state.Name.ValueString(), current.Name, planAgain))
	}
	if current.Description != state.Description.ValueString() {
		diags.AddAttributeError(path.Root("description"), "Mapping Changed Since The Plan",
			fmt.Sprintf("Mapping %q (%s): description was planned as %q, but the assessment tool now says %q. %s",
				current.Name, current.Key, state.Description.ValueString(), current.Description, planAgain))
	}
	keys, d := setStrings(context.Background(), state.O11ApplicationKeys)
	if !d.HasError() && !sameKeys(keys, current.ApplicationKeys) {
		sort.Strings(keys)
		now := slices.Clone(current.ApplicationKeys)
		sort.Strings(now)
		diags.AddAttributeError(path.Root("o11_application_keys"), "Mapping Changed Since The Plan",
			fmt.Sprintf("Mapping %q (%s): o11_application_keys was planned as [%s], but the assessment tool now says [%s]. %s",
				current.Name, current.Key, strings.Join(keys, ", "), strings.Join(now, ", "), planAgain))
	}
	return diags.ErrorsCount() > before
}

func (r *appMappingResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	as := r.data.requireAssessment(&resp.Diagnostics)
	if as == nil {
		return
	}
	var state appMappingModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := as.DeleteMapping(ctx, state.ID.ValueString()); err != nil && !client.IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "Failed To Delete The Mapping", fmt.Sprintf("delete mapping %q (%s)", state.Name.ValueString(), state.ID.ValueString()), err)
	}
}

func (r *appMappingResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := strings.TrimSpace(req.ID)
	if !guidRegexp.MatchString(id) {
		resp.Diagnostics.AddError("Invalid Import ID",
			fmt.Sprintf("Import ID %q is not a mapping key. Import a mapping by its key (a GUID), as shown by the assessment tool's API or the `id` attribute.", req.ID))
		return
	}
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// sharesAny reports whether two lists of keys have a key in common (ignoring case).
func sharesAny(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if strings.EqualFold(x, y) {
				return true
			}
		}
	}
	return false
}
