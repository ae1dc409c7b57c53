package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/migrationkit"
)

var (
	_ resource.ResourceWithConfigure   = (*codeMigrationResource)(nil)
	_ resource.ResourceWithImportState = (*codeMigrationResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*codeMigrationResource)(nil)
)

const defaultMigrationTimeout = 60 * time.Minute

// NewCodeMigrationResource is the outsystems_code_migration resource.
func NewCodeMigrationResource() resource.Resource { return &codeMigrationResource{} }

type codeMigrationResource struct{ data *providerData }

type codeMigrationModel struct {
	ID                   types.String   `tfsdk:"id"`
	SourceEnvironmentKey types.String   `tfsdk:"source_environment_key"`
	MappingIDs           types.Set      `tfsdk:"mapping_ids"`
	TriggersReplace      types.Map      `tfsdk:"triggers_replace"`
	Status               types.String   `tfsdk:"status"`
	StartedAt            types.String   `tfsdk:"started_at"`
	FinishedAt           types.String   `tfsdk:"finished_at"`
	Assets               types.Map      `tfsdk:"assets"`
	PublishOrder         types.List     `tfsdk:"publish_order"`
	ExpectedVersions     types.Map      `tfsdk:"expected_versions"`
	ExpectedPublishOrder types.List     `tfsdk:"expected_publish_order"`
	Timeouts             timeouts.Value `tfsdk:"timeouts"`
}

var migratedAssetAttrTypes = map[string]attr.Type{
	"mapping_id":           types.StringType,
	"asset_key":            types.StringType,
	"name":                 types.StringType,
	"asset_type":           types.StringType,
	"revision":             types.Int64Type,
	"producer_asset_keys":  types.ListType{ElemType: types.StringType},
	"publish_wave":         types.Int64Type,
	"publish_order":        types.Int64Type,
	"errors":               types.ListType{ElemType: types.StringType},
	"o11_application_keys": types.ListType{ElemType: types.StringType},
	"stale":                types.BoolType,
}

var migratedAssetType = types.ObjectType{AttrTypes: migratedAssetAttrTypes}

func (r *codeMigrationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_code_migration"
}

func (r *codeMigrationResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Starts a code migration of mapped O11 applications to ODC (ODC portal: Migrate O11 > Code Migrations; " +
			"newer name: App Conversion) and waits for it to end. The Migration Kit migrates the **latest tagged** version of each " +
			"app in the source environment.\n\n" +
			"Before starting, a preflight fails when any asset is not Ready for ODC (naming its findings) or any mapped app has " +
			"changes since its last tag in the source environment (tag it with `outsystems_lifetime_tag` first).\n\n" +
			"`assets` is keyed by the names the configuration gives the mappings (`assets[outsystems_app_mapping.x.name]`; a rename " +
			"moves the key in place), and its keys, `publish_wave` and `publish_order` are known at plan time when the " +
			"mappings already exist, so publications and releases can `for_each` over it wave by wave, producers first. When the mappings " +
			"are created in the same apply, `data.outsystems_migration_preview` gives the waves at plan time instead, and " +
			"`expected_versions`/`expected_publish_order` make the migration fail if it would take other versions or another order.\n\n" +
			"When the migration finishes with errors, the apply fails with one error per failed asset, the migration key and its " +
			"start time (what OutSystems support asks for); the migration stays in state and the next apply replaces it. Any " +
			"argument change starts a new migration; change `triggers_replace` to re-run one. Destroying the resource only " +
			"forgets it: a migration is history, and the ODC assets it produced stay.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "Key of the code migration.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"source_environment_key": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Key of the LifeTime environment whose latest tags are migrated (usually Development).",
				Validators:          []validator.String{guidValidator("LifeTime environment key")},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"mapping_ids": schema.SetAttribute{
				Required: true, ElementType: types.StringType,
				MarkdownDescription: "Ids of the `outsystems_app_mapping` resources whose assets are migrated (a migration plan). A change starts a new " +
					"migration, except when the new ids are mappings of the same names (a mapping deleted and created again in the assessment tool, " +
					"which `outsystems_app_mapping` adopts): then the ids change in place and nothing is migrated again.",
				Validators: []validator.Set{setvalidator.SizeAtLeast(1), setvalidator.ValueStringsAre(guidValidator("mapping id"))},
				// No RequiresReplace here: ModifyPlan (planRepointedMappings)
				// replaces unless the new mappings have the old ones' names.
			},
			"triggers_replace": schema.MapAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Arbitrary values that start a new migration when they change, e.g. `{ run = \"2\" }`.",
				PlanModifiers:       []planmodifier.Map{mapplanmodifier.RequiresReplace()},
			},
			"status": schema.StringAttribute{
				Computed: true, MarkdownDescription: "`Finished` or `FinishedWithErrors` (`Migrating` while it runs).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"started_at": schema.StringAttribute{
				Computed: true, MarkdownDescription: "When the migration started (RFC 3339). Support asks for it when a migration finishes with errors.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"finished_at": schema.StringAttribute{
				Computed: true, MarkdownDescription: "When the migration ended (RFC 3339).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			// A map of objects, not a MapNestedAttribute: Terraform 1.5's
			// -generate-config-out crashes on a computed-only nested
			// attribute at the top level (fixed in 1.7), and the docs
			// promise import blocks from 1.5.0.
			"assets": schema.MapAttribute{
				Computed: true, ElementType: migratedAssetType,
				MarkdownDescription: "The ODC apps and libraries the migration produced, keyed by the names the configuration gives the " +
					"mappings (a mapping renamed after the migration moves its asset to the new key; the ODC asset keeps its `name`). Each is an object with:\n" +
					"  - `mapping_id` (String) Id of the mapping the asset comes from.\n" +
					"  - `asset_key` (String) Key of the ODC asset.\n" +
					"  - `name` (String) Name of the ODC asset (the mapping's name when it migrated).\n" +
					"  - `asset_type` (String) `web_app`, `mobile_app` or `library`.\n" +
					"  - `revision` (Number) Revision the migration created (publish this one).\n" +
					"  - `producer_asset_keys` (List of String) Assets of this migration that this asset consumes.\n" +
					"  - `publish_wave` (Number) 1 for assets with no producers in the migration, else one more than the highest wave " +
					"of its producers. Publish and release wave by wave.\n" +
					"  - `publish_order` (Number) Position in the producers-first order (1 = first).\n" +
					"  - `errors` (List of String) Errors of the migration of this asset (empty when it migrated well).\n" +
					"  - `o11_application_keys` (List of String) Keys of the O11 applications the migration converted into this asset (their latest tags then).\n" +
					"  - `stale` (Boolean) `true` when the mapping now holds O11 applications this migration did not convert (an app was added to the " +
					"mapping after it migrated): the asset lacks their code. The refresh warns, naming the mapping and the apps; change " +
					"`triggers_replace` to migrate again (a new revision of the same asset).",
				PlanModifiers: []planmodifier.Map{mapplanmodifier.UseStateForUnknown()},
			},
			"publish_order": schema.ListAttribute{
				Computed: true, ElementType: types.StringType,
				MarkdownDescription: "Mapping names in the order to publish them: producers first, consumers last.",
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
			},
			"expected_versions": schema.MapAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "The version key each O11 application must be migrated at, by application key: " +
					"`data.outsystems_migration_preview.<name>.versions`, what the plan showed. Checked when the migration starts (a preview of " +
					"its mappings just before) and when it ends; a difference fails the apply, naming each app and its versions, instead of " +
					"publishing code nobody reviewed. Apps an `outsystems_lifetime_tag` of the same apply tags are not compared (the tag's version " +
					"is migrated). Only a new migration checks it: once the migration exists, a new value (a later tag changes the preview) plans no change.",
				Validators: []validator.Map{mapvalidator.KeysAre(guidValidator("O11 application key")), mapvalidator.ValueStringsAre(guidValidator("application version key"))},
			},
			"expected_publish_order": schema.ListAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "The asset names in the publish order the plan showed (`data.outsystems_migration_preview.<name>.publish_order`), " +
					"checked like `expected_versions`: a migration that would publish in another order fails before it starts. Once the migration exists, a new value plans no change.",
			},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true}),
		},
	}
}

func (r *codeMigrationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// plannedAsset is what is known about an asset before the migration runs.
type plannedAsset struct {
	mappingID, name, assetType string
	producers                  []string // mapping ids within the migration
	wave, order                int
}

// planAssets derives names, types, waves and the producers-first order from
// the mappings' readiness answer, as the code migration will
// (migrationkit.PlanPublishOrder). Producers outside the migration are
// ignored.
func planAssets(readiness []client.AssetReadiness) map[string]*plannedAsset {
	assets := make([]migrationkit.Asset, len(readiness))
	for i, a := range readiness {
		producers := make([]string, len(a.ProducerMappingKeys))
		for j, p := range a.ProducerMappingKeys {
			producers[j] = strings.ToLower(p)
		}
		assets[i] = migrationkit.Asset{Key: strings.ToLower(a.MappingKey), Name: a.Name, Producers: producers}
	}
	out := make(map[string]*plannedAsset, len(readiness))
	for i, p := range migrationkit.PlanPublishOrder(assets) {
		a := readiness[i]
		out[a.Name] = &plannedAsset{mappingID: a.MappingKey, name: a.Name, assetType: assetTypeFromWire(a.AssetType),
			producers: a.ProducerMappingKeys, wave: p.Wave, order: p.Order}
	}
	return out
}

// ModifyPlan fails a create on an organization without the Migration
// Kit's API (requireMigrationKit; an existing migration was just read from
// the kit by the refresh, so an update needs no probe), and shows, for a new migration
// whose mappings exist, the assets it will produce: their keys (mapping
// names), types, waves and the order.
func (r *codeMigrationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	keepExpectations(ctx, req, resp)
	if !req.State.Raw.IsNull() {
		r.planRepointedMappings(ctx, req, resp)
		r.planRenamedMappings(ctx, req, resp)
	}
	if !r.data.configuredForPlan(&resp.Diagnostics, true, true, true) {
		return
	}
	if !req.State.Raw.IsNull() || !r.data.requireMigrationKit(ctx, &resp.Diagnostics, "outsystems_code_migration", true) {
		return // only a new migration is planned here (a replacement's new half is planned without state)
	}
	var plan codeMigrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !plan.ID.IsUnknown() || plan.MappingIDs.IsUnknown() {
		return
	}
	keys, diags := setStrings(ctx, plan.MappingIDs)
	resp.Diagnostics.Append(diags...)
	for _, k := range keys {
		if k == "" {
			return
		}
	}
	readiness, err := r.data.assessment.Readiness(ctx, keys)
	if err != nil {
		if client.IsNotFound(err) {
			resp.Diagnostics.AddAttributeError(path.Root("mapping_ids"), "Unknown Mappings",
				"The assessment tool does not know some of `mapping_ids`: "+apiMessages(err)+". Use ids of existing `outsystems_app_mapping` resources.")
			return
		}
		addAPIError(&resp.Diagnostics, "Failed To Read The Mappings", "read the mappings to plan the migration", err)
		return
	}
	if !plan.SourceEnvironmentKey.IsUnknown() {
		r.warnUntagged(ctx, plan.SourceEnvironmentKey.ValueString(), keys, &resp.Diagnostics)
	}
	planned, known := r.data.renamePlanned(planAssets(readiness))
	if !known {
		return // a mapping's new name is not known yet: so are the keys
	}
	assets := map[string]attr.Value{}
	order := make([]attr.Value, len(planned))
	for name, p := range planned {
		assets[name] = types.ObjectValueMust(migratedAssetAttrTypes, map[string]attr.Value{
			"mapping_id": types.StringValue(p.mappingID), "asset_key": types.StringUnknown(), "name": types.StringUnknown(),
			"asset_type": types.StringValue(p.assetType), "revision": types.Int64Unknown(),
			"producer_asset_keys": types.ListUnknown(types.StringType), "publish_wave": types.Int64Value(int64(p.wave)),
			"publish_order": types.Int64Value(int64(p.order)), "errors": types.ListUnknown(types.StringType),
			"o11_application_keys": types.ListUnknown(types.StringType), "stale": types.BoolValue(false),
		})
		order[p.order-1] = types.StringValue(name)
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("assets"), types.MapValueMust(migratedAssetType, assets))...)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("publish_order"), types.ListValueMust(types.StringType, order))...)
}

func (r *codeMigrationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	as := r.data.requireAssessment(&resp.Diagnostics)
	lt := r.data.requireLifeTime(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	var plan codeMigrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultMigrationTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	envKey := plan.SourceEnvironmentKey.ValueString()
	mappingKeys, diags := setStrings(ctx, plan.MappingIDs)
	resp.Diagnostics.Append(diags...)
	readiness := preflight(ctx, as, lt, envKey, mappingKeys, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	// The plan showed the assets (keys, types, waves): they must still be
	// what the mappings give, or the migration is not started.
	expect, diags := plan.expectations(ctx)
	resp.Diagnostics.Append(diags...)
	var appNames map[string]string
	if expect != nil && !resp.Diagnostics.HasError() {
		appNames = expect.checkBeforeStart(ctx, r.data, as, odc, envKey, mappingKeys, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if problems := assetsMovedSincePlan(plan.Assets, planAssets(readiness)); len(problems) > 0 {
		resp.Diagnostics.AddAttributeError(path.Root("assets"), "Mappings Changed Since The Plan",
			"The plan showed this migration's assets from the mappings as they were then, and the assessment tool now says otherwise "+
				"(changed since the plan):\n- "+strings.Join(problems, "\n- ")+"\n\nThe migration was not started. Run terraform plan again "+
				"and review the new plan.")
		return
	}

	// A migration of these mappings that is still running (an earlier apply
	// was interrupted or timed out) is adopted instead of started twice.
	m, err := findRunningMigration(ctx, odc, envKey, mappingKeys)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To List Code Migrations", "look for a running migration of these mappings", err)
		return
	}
	if m != nil {
		tflog.Info(ctx, "Adopting the running code migration of these mappings", map[string]any{"key": m.Key})
	} else {
		attempted := time.Now()
		m, err = createOnce(ctx, "code migration", r.data.attempts,
			func(ctx context.Context) (*client.CodeMigration, error) {
				return odc.StartCodeMigration(ctx, envKey, mappingKeys)
			},
			func(ctx context.Context) (*client.CodeMigration, bool, error) {
				all, err := odc.ListCodeMigrations(ctx, "")
				for i := range all {
					c := &all[i]
					if strings.EqualFold(c.SourceEnvironmentKey, envKey) && sameKeys(c.MappingKeys, mappingKeys) && recentlyStarted(c.StartedAt, attempted) {
						return c, true, nil
					}
				}
				return nil, false, err
			})
		if err != nil {
			addAPIError(&resp.Diagnostics, "Failed To Start The Code Migration",
				fmt.Sprintf("start the code migration of %d mappings from environment %s", len(mappingKeys), envKey), err)
			return
		}
	}
	// The migration exists: record it before waiting, so an interrupt or a
	// timeout keeps its id.
	plan.ID = types.StringValue(m.Key)
	plan.StartedAt = types.StringValue(m.StartedAt)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), m.Key)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("source_environment_key"), plan.SourceEnvironmentKey)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("mapping_ids"), plan.MappingIDs)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("triggers_replace"), plan.TriggersReplace)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("expected_versions"), plan.ExpectedVersions)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("expected_publish_order"), plan.ExpectedPublishOrder)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("started_at"), m.StartedAt)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("timeouts"), plan.Timeouts)...)

	err = waitForODC(ctx, fmt.Sprintf("code migration %s (started %s) to finish", m.Key, m.StartedAt), func(ctx context.Context) (pollState, error) {
		got, err := odc.GetCodeMigration(ctx, m.Key)
		if err != nil {
			return pollState{}, err
		}
		m = got
		return pollState{done: got.Status != client.CodeMigrationMigrating, status: got.Status, retryAfter: got.PollAfter}, nil
	})
	if err != nil {
		resp.Diagnostics.AddError("Code Migration Did Not Finish",
			fmt.Sprintf("While attempting to wait for code migration %s, the provider stopped: %s\n\nThe migration keeps running in ODC and its id "+
				"is in state. Apply again to keep waiting for it (the running migration is adopted, not started twice), or raise `timeouts.create`.",
				m.Key, err))
		return
	}
	resp.Diagnostics.Append(plan.fromMigration(m, planAssets(readiness))...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if m.Status == client.CodeMigrationFinishedWithErrors {
		addMigrationErrors(&resp.Diagnostics, m)
	}
	if expect != nil {
		expect.checkFinished(r.data, envKey, m, appNames, &resp.Diagnostics)
	}
}

// warnUntagged tells at plan time what the apply's preflight will refuse:
// a mapped app with changes since its last tag (or never tagged) in the
// source environment, that no outsystems_lifetime_tag planned before this
// migration tags. It is a warning, not an error: LifeTime can change until
// the apply (a developer tags the app), and a tag this configuration plans
// is applied first when the migration depends on it (the documented
// pattern; Terraform then also plans the tag first, so it is known here).
// A mapping this process cannot read is left to the preflight.
func (r *codeMigrationResource) warnUntagged(ctx context.Context, envKey string, mappingKeys []string, diags *diag.Diagnostics) {
	mappings, err := r.data.listMappings(ctx)
	if err != nil {
		return // the preflight at apply reports it
	}
	byKey := map[string]*client.Mapping{}
	for i := range mappings {
		byKey[strings.ToLower(mappings[i].Key)] = &mappings[i]
	}
	apps, err := r.data.lifeTime.ListApplications(ctx, true, false)
	if err != nil {
		return
	}
	appsByKey := map[string]*client.Application{}
	for i := range apps {
		appsByKey[strings.ToLower(apps[i].Key)] = &apps[i]
	}
	var untagged []string
	for _, mk := range mappingKeys {
		mp := byKey[strings.ToLower(mk)]
		if mp == nil {
			continue
		}
		for _, ak := range mp.ApplicationKeys {
			app := appsByKey[strings.ToLower(ak)]
			if app == nil || r.data.tagPlanned(envKey, ak) {
				continue
			}
			st, ok := app.StatusIn(envKey)
			switch {
			case !ok:
				untagged = append(untagged, fmt.Sprintf("%q (%s, mapping %q): not deployed in the source environment", app.Name, app.Key, mp.Name))
			case st.IsModified:
				untagged = append(untagged, fmt.Sprintf("%q (%s, mapping %q): has changes since its last tag %q", app.Name, app.Key, mp.Name, st.BaseApplicationVersionLabel))
			case st.BaseApplicationVersionKey == "":
				untagged = append(untagged, fmt.Sprintf("%q (%s, mapping %q): was never tagged", app.Name, app.Key, mp.Name))
			}
		}
	}
	if len(untagged) == 0 {
		return
	}
	sort.Strings(untagged)
	diags.AddAttributeWarning(path.Root("mapping_ids"), "O11 Apps Not Tagged",
		"The Migration Kit migrates the latest tagged version of each app in the source environment, and LifeTime says these apps "+
			"are not tagged as they run there:\n- "+strings.Join(untagged, "\n- ")+"\n\nThis plan tags none of them before the migration, "+
			"so the apply will refuse to start it unless they are tagged by then. Add an `outsystems_lifetime_tag` for each (or replace "+
			"its existing tag: terraform apply -replace=<address of the tag>) and list the tags in this migration's depends_on, then plan again.")
}

// assetsMovedSincePlan compares the assets a plan showed (unknown when the
// plan could not tell) with those the mappings give now, and says, per
// asset, what differs.
func assetsMovedSincePlan(planned types.Map, now map[string]*plannedAsset) []string {
	if planned.IsNull() || planned.IsUnknown() {
		return nil
	}
	var problems []string
	seen := map[string]bool{}
	for name, v := range planned.Elements() {
		obj, ok := v.(types.Object)
		if !ok || obj.IsUnknown() {
			continue
		}
		attrs := obj.Attributes()
		str := func(k string) string {
			if sv, ok := attrs[k].(types.String); ok && !sv.IsUnknown() {
				return sv.ValueString()
			}
			return ""
		}
		num := func(k string) int64 {
			if iv, ok := attrs[k].(types.Int64); ok && !iv.IsUnknown() {
				return iv.ValueInt64()
			}
			return -1
		}
		mappingID := str("mapping_id")
		var cur *plannedAsset
		for _, a := range now {
			if strings.EqualFold(a.mappingID, mappingID) {
				cur = a
			}
		}
		switch {
		case cur == nil:
			problems = append(problems, fmt.Sprintf("assets[%q] was planned from mapping %s, which the migration no longer includes", name, mappingID))
			continue
		case cur.name != name:
			problems = append(problems, fmt.Sprintf("assets[%q]: the name of mapping %s was planned as %q, but the assessment tool now says %q", name, mappingID, name, cur.name))
		case str("asset_type") != "" && str("asset_type") != cur.assetType:
			problems = append(problems, fmt.Sprintf("assets[%q]: asset_type was planned as %q, but the assessment tool now says %q", name, str("asset_type"), cur.assetType))
		case num("publish_wave") >= 0 && num("publish_wave") != int64(cur.wave):
			problems = append(problems, fmt.Sprintf("assets[%q]: publish_wave was planned as %d, but the mappings' producers now give %d", name, num("publish_wave"), cur.wave))
		}
		seen[strings.ToLower(cur.mappingID)] = true
	}
	for name, a := range now {
		if !seen[strings.ToLower(a.mappingID)] {
			problems = append(problems, fmt.Sprintf("assets[%q] (mapping %s) was not in the plan", name, a.mappingID))
		}
	}
	sort.Strings(problems)
	return problems
}

// preflight checks what the Migration Kit requires before a migration:
// every asset ready, and every mapped app tagged since its last change.
func preflight(ctx context.Context, as *client.Assessment, lt *client.LifeTime, envKey string, mappingKeys []string, diags *diag.Diagnostics) []client.AssetReadiness {
	readiness, err := as.Readiness(ctx, mappingKeys)
	if err != nil {
		addAPIError(diags, "Failed To Check Readiness", "check that every asset is Ready for ODC before migrating", err)
		return nil
	}
	for _, a := range readiness {
		if !a.Ready {
			diags.AddAttributeError(path.Root("mapping_ids"), "Assets Not Ready For ODC",
				readinessSummary(readiness)+"\n\nFix the findings (see data.outsystems_migration_readiness), wait for the assessment, then apply again.")
			return nil
		}
	}
	apps, err := lt.ListApplications(ctx, true, false)
	if err != nil {
		addAPIError(diags, "Failed To Check Tags", "check in LifeTime that every mapped app is tagged since its last change", err)
		return nil
	}
	appsByKey := map[string]*client.Application{}
	for i := range apps {
		appsByKey[strings.ToLower(apps[i].Key)] = &apps[i]
	}
	var untagged []string
	for _, mk := range mappingKeys {
		mp, err := as.GetMapping(ctx, mk)
		if err != nil {
			addAPIError(diags, "Failed To Read The Mapping", "read mapping "+mk+" for the preflight", err)
			return nil
		}
		for _, ak := range mp.ApplicationKeys {
			app := appsByKey[strings.ToLower(ak)]
			if app == nil {
				untagged = append(untagged, fmt.Sprintf("%s (mapping %q): not found in LifeTime", ak, mp.Name))
				continue
			}
			st, ok := app.StatusIn(envKey)
			switch {
			case !ok:
				untagged = append(untagged, fmt.Sprintf("%q (%s, mapping %q): not deployed in the source environment", app.Name, app.Key, mp.Name))
			case st.IsModified:
				untagged = append(untagged, fmt.Sprintf("%q (%s, mapping %q): has changes since its last tag", app.Name, app.Key, mp.Name))
			case st.BaseApplicationVersionKey == "":
				untagged = append(untagged, fmt.Sprintf("%q (%s, mapping %q): was never tagged", app.Name, app.Key, mp.Name))
			}
		}
	}
	if len(untagged) > 0 {
		sort.Strings(untagged)
		diags.AddAttributeError(path.Root("mapping_ids"), "O11 Apps Not Tagged",
			"The Migration Kit migrates the latest tagged version of each app in the source environment, and these apps are not tagged "+
				"as they run there:\n- "+strings.Join(untagged, "\n- ")+"\n\nTag them with `outsystems_lifetime_tag` resources and make "+
				"this migration depend on them (depends_on), then apply again.")
		return nil
	}
	return readiness
}

// findRunningMigration returns a running migration of exactly these mappings from this environment.
func findRunningMigration(ctx context.Context, odc *client.ODC, envKey string, mappingKeys []string) (*client.CodeMigration, error) {
	running, err := odc.ListCodeMigrations(ctx, client.CodeMigrationMigrating)
	if err != nil {
		return nil, err
	}
	for i := range running {
		m := &running[i]
		if strings.EqualFold(m.SourceEnvironmentKey, envKey) && sameKeys(m.MappingKeys, mappingKeys) {
			return m, nil
		}
	}
	return nil, nil
}

func addMigrationErrors(diags *diag.Diagnostics, m *client.CodeMigration) {
	failed := 0
	for _, a := range m.Assets {
		if len(a.Errors) == 0 {
			continue
		}
		failed++
		msgs := make([]string, 0, len(a.Errors))
		for _, e := range a.Errors {
			msgs = append(msgs, "- "+e.Message)
		}
		diags.AddError(fmt.Sprintf("Migration Of %q Finished With Errors", a.Name),
			fmt.Sprintf("Code migration %s, started at %s, finished with errors for %s %q (asset %s):\n%s\n\nThe asset cannot be opened "+
				"in ODC Studio. Contact OutSystems support with the migration key and start time above. The migration is kept in state; "+
				"the next apply starts a new one (or change `triggers_replace`).",
				m.Key, m.StartedAt, assetTypeFromWire(a.AssetType), a.Name, a.AssetKey, strings.Join(msgs, "\n")))
	}
	if failed == 0 {
		diags.AddError("Code Migration Finished With Errors",
			fmt.Sprintf("Code migration %s, started at %s, finished with errors. Contact OutSystems support with the migration key and start time.", m.Key, m.StartedAt))
	}
}

// fromMigration copies a finished migration into the model. The asset keys
// the plan showed (mapping names) are kept; waves and order are the
// server's.
func (m *codeMigrationModel) fromMigration(mig *client.CodeMigration, planned map[string]*plannedAsset) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(mig.Key)
	m.SourceEnvironmentKey = types.StringValue(mig.SourceEnvironmentKey)
	// The record's mapping keys are those it started with; state may hold
	// mappings of the same names created again since (mappingsChanged).
	if m.MappingIDs.IsNull() || m.MappingIDs.IsUnknown() {
		m.MappingIDs = stringSet(mig.MappingKeys)
	}
	m.Status = types.StringValue(mig.Status)
	m.StartedAt = types.StringValue(mig.StartedAt)
	m.FinishedAt = types.StringValue(mig.FinishedAt)

	nameByMapping := map[string]string{}
	for name, p := range planned {
		nameByMapping[strings.ToLower(p.mappingID)] = name
	}
	keyOf := func(a *client.MigratedAsset) string {
		if n, ok := nameByMapping[strings.ToLower(a.MappingKey)]; ok {
			return n
		}
		return a.Name
	}
	list := make([]*client.MigratedAsset, 0, len(mig.Assets))
	for i := range mig.Assets {
		list = append(list, &mig.Assets[i])
	}
	// The code migration's contract requires publishWave and publishOrder:
	// the server computes them (migrationkit), the provider does not again.
	sort.Slice(list, func(i, j int) bool { return list[i].PublishOrder < list[j].PublishOrder })
	assets := map[string]attr.Value{}
	keys := make([]string, 0, len(list))
	posOf := make(map[string]int, len(list)) // publish_order by asset key
	for _, a := range list {
		key := keyOf(a)
		wave, pos := a.PublishWave, a.PublishOrder
		producers := make([]attr.Value, 0, len(a.ProducerAssetKeys))
		for _, p := range a.ProducerAssetKeys {
			producers = append(producers, types.StringValue(p))
		}
		errs := make([]attr.Value, 0, len(a.Errors))
		for _, e := range a.Errors {
			errs = append(errs, types.StringValue(e.Message))
		}
		apps := make([]attr.Value, 0, len(a.SourceApplicationVersions))
		for _, v := range a.SourceApplicationVersions {
			apps = append(apps, types.StringValue(strings.ToLower(v.ApplicationKey)))
		}
		mappingID := a.MappingKey
		if p, ok := planned[key]; ok && p.mappingID != "" {
			mappingID = p.mappingID
		}
		obj, d := types.ObjectValue(migratedAssetAttrTypes, map[string]attr.Value{
			"mapping_id": types.StringValue(mappingID), "asset_key": types.StringValue(a.AssetKey), "name": types.StringValue(a.Name),
			"asset_type": types.StringValue(assetTypeFromWire(a.AssetType)), "revision": types.Int64Value(int64(a.Revision)),
			"producer_asset_keys": types.ListValueMust(types.StringType, producers), "publish_wave": types.Int64Value(int64(wave)),
			"publish_order": types.Int64Value(int64(pos)), "errors": types.ListValueMust(types.StringType, errs),
			"o11_application_keys": types.ListValueMust(types.StringType, apps), "stale": types.BoolValue(false),
		})
		diags.Append(d...)
		assets[key] = obj
		keys = append(keys, key)
		posOf[key] = pos
	}
	sort.SliceStable(keys, func(i, j int) bool { return posOf[keys[i]] < posOf[keys[j]] })
	order := make([]attr.Value, len(keys))
	for i, key := range keys {
		order[i] = types.StringValue(key)
	}
	m.Assets = types.MapValueMust(migratedAssetType, assets)
	m.PublishOrder = types.ListValueMust(types.StringType, order)
	return diags
}

func (r *codeMigrationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var state codeMigrationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	m, err := odc.GetCodeMigration(ctx, state.ID.ValueString())
	switch {
	case client.IsNotFound(err):
		if !r.recordGone(ctx, odc, &state, &resp.Diagnostics) {
			resp.State.RemoveResource(ctx)
			return
		}
	case err != nil:
		addAPIError(&resp.Diagnostics, "Failed To Read The Code Migration", "read code migration "+state.ID.ValueString(), err)
		return
	default:
		resp.Diagnostics.Append(state.fromMigration(m, plannedFromState(state))...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	r.markStale(&state, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// recordGone decides what a code migration whose record the Migration Kit
// no longer has means. A migration is history: what it produced is the ODC
// assets, and they outlive the record (support purges old records; the
// troubleshooting bundle is kept 60 days). So while any asset it produced
// still exists in ODC's asset repository, the migration stays in state as
// it was, with a warning; dropping it would plan a new migration and
// replace every publication and release downstream. Only when none of its
// assets exists any more (or the state names none) has it truly
// disappeared: recordGone then warns and returns false, and the caller
// removes it from state. It reads ODC until it finds one asset that exists
// (usually one read).
func (r *codeMigrationResource) recordGone(ctx context.Context, odc *client.ODC, state *codeMigrationModel, diags *diag.Diagnostics) bool {
	id := state.ID.ValueString()
	var names []string
	kept := ""
	for name, a := range plannedAssetKeys(*state) {
		names = append(names, fmt.Sprintf("%q (%s)", name, a))
		if kept != "" {
			continue
		}
		_, err := odc.GetAsset(ctx, a)
		switch {
		case err == nil:
			kept = name
		case !client.IsNotFound(err):
			addAPIError(diags, "Failed To Read A Migrated Asset",
				fmt.Sprintf("read asset %q (%s) of code migration %s, whose record the Migration Kit no longer has", name, a, id), err)
			return true
		}
	}
	sort.Strings(names)
	if kept == "" {
		tflog.Warn(ctx, "The code migration and every asset it produced are gone; removing it from state", map[string]any{"id": id})
		diags.AddWarning("Code Migration Gone",
			fmt.Sprintf("The Migration Kit no longer has code migration %s, and ODC no longer has any asset it produced (%s). It is removed "+
				"from state, and the next apply migrates the mappings again.", id, strings.Join(names, ", ")))
		return false
	}
	diags.AddWarning("Code Migration Record Gone",
		fmt.Sprintf("The Migration Kit no longer has the record of code migration %s (started %s), but the ODC assets it produced still "+
			"exist (%s). A migration is history: its result is those assets, so it stays in state as it was, and nothing that publishes "+
			"or releases them is replaced. To convert the O11 apps again (new revisions of the same assets), change `triggers_replace`.",
			id, state.StartedAt.ValueString(), strings.Join(names, ", ")))
	return true
}

// plannedAssetKeys returns the ODC asset key of each migrated asset in
// state, by mapping name (assets that failed to migrate have none).
func plannedAssetKeys(state codeMigrationModel) map[string]string {
	out := map[string]string{}
	if state.Assets.IsNull() || state.Assets.IsUnknown() {
		return out
	}
	for name, v := range state.Assets.Elements() {
		obj, ok := v.(types.Object)
		if !ok {
			continue
		}
		if k, ok := obj.Attributes()["asset_key"].(types.String); ok && k.ValueString() != "" {
			out[name] = k.ValueString()
		}
	}
	return out
}

// rememberMapping records a mapping the refresh read (the mapping
// resource's Read), for markStale.
func (d *providerData) rememberMapping(mp *client.Mapping) {
	if d == nil || mp == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mappingsRead == nil {
		d.mappingsRead = map[string]*client.Mapping{}
	}
	d.mappingsRead[strings.ToLower(mp.Key)] = mp
}

// rememberedMapping returns the mapping of key the refresh read, or nil.
func (d *providerData) rememberedMapping(key string) *client.Mapping {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mappingsRead[strings.ToLower(key)]
}

// markStale sets each asset's `stale`: its mapping in the assessment tool
// now holds O11 apps the migration did not convert. It makes no request:
// it uses the mappings the refresh read before the migration (Terraform
// refreshes the mapping resources first, as the migration references
// them), and warns naming each stale mapping and its new apps. For a
// mapping not managed in this configuration, or assets whose converted
// apps are not known (state written before the provider recorded them),
// `stale` stays false.
func (r *codeMigrationResource) markStale(state *codeMigrationModel, diags *diag.Diagnostics) {
	if state.Assets.IsNull() || state.Assets.IsUnknown() || r.data == nil {
		return
	}
	assets := make(map[string]attr.Value, len(state.Assets.Elements()))
	var stale []string
	for name, v := range state.Assets.Elements() {
		obj, ok := v.(types.Object)
		if !ok {
			assets[name] = v
			continue
		}
		at := obj.Attributes()
		values := make(map[string]attr.Value, len(migratedAssetAttrTypes))
		for k := range migratedAssetAttrTypes {
			values[k] = at[k]
		}
		if values["o11_application_keys"] == nil {
			values["o11_application_keys"] = types.ListNull(types.StringType)
		}
		isStale := false
		mid, _ := at["mapping_id"].(types.String)
		converted, _ := at["o11_application_keys"].(types.List)
		if mp := r.data.rememberedMapping(mid.ValueString()); mp != nil && !converted.IsNull() && !converted.IsUnknown() {
			had := map[string]bool{}
			for _, e := range converted.Elements() {
				if s, ok := e.(types.String); ok {
					had[strings.ToLower(s.ValueString())] = true
				}
			}
			var added []string
			for _, k := range mp.ApplicationKeys {
				if !had[strings.ToLower(k)] {
					added = append(added, k)
				}
			}
			if len(added) > 0 {
				isStale = true
				sort.Strings(added)
				stale = append(stale, fmt.Sprintf("%q (mapping %s): %s", name, mp.Key, strings.Join(added, ", ")))
			}
		}
		values["stale"] = types.BoolValue(isStale)
		o, d := types.ObjectValue(migratedAssetAttrTypes, values)
		diags.Append(d...)
		assets[name] = o
	}
	if diags.HasError() {
		return
	}
	state.Assets = types.MapValueMust(migratedAssetType, assets)
	if len(stale) > 0 {
		sort.Strings(stale)
		diags.AddWarning("Migrated Assets Are Stale",
			fmt.Sprintf("These mappings now hold O11 apps that code migration %s did not convert, so their ODC assets lack that code:\n- %s\n\n"+
				"Tag the added apps, then change `triggers_replace` to migrate again: the mappings migrate into the same assets as new revisions.",
				state.ID.ValueString(), strings.Join(stale, "\n- ")))
	}
}

// plannedFromState recovers the mapping names, waves and order already in
// state, so a refresh keeps the keys the plan showed.
func plannedFromState(state codeMigrationModel) map[string]*plannedAsset {
	out := map[string]*plannedAsset{}
	if state.Assets.IsNull() || state.Assets.IsUnknown() {
		return out
	}
	for name, v := range state.Assets.Elements() {
		obj, ok := v.(types.Object)
		if !ok {
			continue
		}
		at := obj.Attributes()
		p := &plannedAsset{name: name}
		if s, ok := at["mapping_id"].(types.String); ok {
			p.mappingID = s.ValueString()
		}
		if w, ok := at["publish_wave"].(types.Int64); ok {
			p.wave = int(w.ValueInt64())
		}
		if o, ok := at["publish_order"].(types.Int64); ok {
			p.order = int(o.ValueInt64())
		}
		out[name] = p
	}
	return out
}

// Update happens for timeouts, for mapping ids re-pointed to mappings of
// the same names (ModifyPlan planned the assets' new mapping ids), and for
// mappings renamed (their assets' new keys); everything else replaces.
func (r *codeMigrationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state codeMigrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	state.Timeouts = plan.Timeouts
	state.ExpectedVersions, state.ExpectedPublishOrder = plan.ExpectedVersions, plan.ExpectedPublishOrder // checked by a new migration only
	if !plan.MappingIDs.Equal(state.MappingIDs) {
		state.MappingIDs, state.Assets = plan.MappingIDs, plan.Assets
	}
	// Mappings renamed: the keys planned (planRenamedMappings). A plan made
	// before a new name was known is keyed by the names planned now.
	if plan.Assets.IsUnknown() {
		plan.Assets, plan.PublishOrder, _, _ = rekeyAssets(state.Assets, state.PublishOrder, r.data.plannedName)
	}
	if !plan.Assets.IsUnknown() && !plan.PublishOrder.IsUnknown() {
		state.Assets, state.PublishOrder = plan.Assets, plan.PublishOrder
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *codeMigrationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state codeMigrationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.AddWarning("Code Migration Only Forgotten",
		fmt.Sprintf("Code migration %s was removed from Terraform state only. A migration is history: ODC keeps its record and the "+
			"apps and libraries it produced. Delete those in the ODC portal if you no longer want them.", state.ID.ValueString()))
}

func (r *codeMigrationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !guidRegexp.MatchString(strings.TrimSpace(req.ID)) {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("Import ID %q is not a code migration key (a GUID).", req.ID))
		return
	}
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// mappingNames returns the name and type of each mapping in the assessment
// tool, by lower-case key, in one listing.
func (r *codeMigrationResource) mappingNames(ctx context.Context) (map[string]*client.Mapping, error) {
	if r.data == nil || r.data.assessment == nil {
		return nil, fmt.Errorf("the assessment tool is not configured")
	}
	mappings, err := r.data.assessment.ListMappings(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*client.Mapping, len(mappings))
	for i := range mappings {
		out[strings.ToLower(mappings[i].Key)] = &mappings[i]
	}
	return out, nil
}

// stateAssetNames returns, by lower-case mapping id, the mapping name each
// asset in state is keyed by.
func stateAssetNames(assets types.Map) map[string]string {
	out := map[string]string{}
	if assets.IsNull() || assets.IsUnknown() {
		return out
	}
	for name, v := range assets.Elements() {
		if obj, ok := v.(types.Object); ok {
			if id, ok := obj.Attributes()["mapping_id"].(types.String); ok {
				out[strings.ToLower(id.ValueString())] = name
			}
		}
	}
	return out
}

// sameMappingNames tells whether the mappings newIDs name (current: the
// tool's mappings by lower-case key) are, by name, those oldIDs named
// (names: mapping name by lower-case old id).
func sameMappingNames(oldIDs, newIDs []string, names map[string]string, current map[string]*client.Mapping) bool {
	oldNames := map[string]int{}
	for _, id := range oldIDs {
		n, ok := names[strings.ToLower(id)]
		if !ok {
			return false
		}
		oldNames[strings.ToLower(n)]++
	}
	for _, id := range newIDs {
		mp := current[strings.ToLower(id)]
		if mp == nil || oldNames[strings.ToLower(mp.Name)] == 0 {
			return false
		}
		oldNames[strings.ToLower(mp.Name)]--
	}
	return true
}

// planRepointedMappings decides whether a change of mapping_ids replaces
// the migration: always, unless every new id is known and the mappings
// that left are replaced by mappings of the same names (compared
// case-insensitively; one listing of the assessment tool). A mapping
// deleted in the tool and created again there (the mapping resource adopts
// it) keeps the migration: its assets are the same ODC assets, and a new
// migration would only make new revisions and replace every publication
// and release downstream. It then plans each asset's new mapping id, so
// the update records exactly what the plan shows.
func (r *codeMigrationResource) planRepointedMappings(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	var plan, state codeMigrationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || plan.MappingIDs.Equal(state.MappingIDs) {
		return
	}
	replace := func() { resp.RequiresReplace = append(resp.RequiresReplace, path.Root("mapping_ids")) }
	if plan.MappingIDs.IsUnknown() || state.Assets.IsNull() || state.Assets.IsUnknown() {
		replace()
		return
	}
	oldIDs, d1 := setStrings(ctx, state.MappingIDs)
	newIDs, d2 := setStrings(ctx, plan.MappingIDs)
	switch {
	case d1.HasError() || d2.HasError() || len(oldIDs) != len(newIDs):
		replace()
		return
	case sameKeys(oldIDs, newIDs):
		return // the same mappings, spelled otherwise
	}
	current, err := r.mappingNames(ctx)
	if err != nil {
		tflog.Warn(ctx, "Could not compare the mappings by name; the migration is replaced", map[string]any{"error": err.Error()})
		replace()
		return
	}
	if !sameMappingNames(oldIDs, newIDs, stateAssetNames(state.Assets), current) {
		replace()
		return
	}
	idByName := map[string]string{}
	for _, id := range newIDs {
		if mp := current[strings.ToLower(id)]; mp != nil {
			idByName[strings.ToLower(mp.Name)] = id
		}
	}
	assets := map[string]attr.Value{}
	for name, v := range state.Assets.Elements() {
		obj, ok := v.(types.Object)
		id, found := idByName[strings.ToLower(name)]
		if !ok || !found {
			assets[name] = v
			continue
		}
		values := obj.Attributes()
		copied := make(map[string]attr.Value, len(values))
		for k, a := range values {
			copied[k] = a
		}
		copied["mapping_id"] = types.StringValue(id)
		o, d := types.ObjectValue(migratedAssetAttrTypes, copied)
		resp.Diagnostics.Append(d...)
		assets[name] = o
	}
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("assets"), types.MapValueMust(migratedAssetType, assets))...)
}
