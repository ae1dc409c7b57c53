package provider

// A migration is history: its result is the ODC assets it produced, and
// those outlive its record in the Migration Kit, the mappings it came from
// and the Terraform state that started it.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// historyPlan is a small wave: a library and the web app that consumes it.
var historyPlan = migrationPlan{
	"Acme Theme":      {"library", []string{"Acme Theme"}, 1},
	"HR Self Service": {"web_app", []string{"HR Self Service"}, 2},
}

const historyMigration = "outsystems_code_migration.wave"

// A migration record purged from the Migration Kit while its assets live
// on changes nothing: the next plan is empty (no new migration, no new
// publication or release), and the refresh warns that the record is gone.
func TestAccHistory_recordGone(t *testing.T) {
	e := newTestEnv(t)
	full := e.providerConfig() + e.mappingsAndTags(historyPlan) + e.migrationConfig(historyPlan, true)
	var migrationID string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkMappingsDestroyed(e), checkTagsDestroyed(e), checkMigratedAssetsKept(e), checkPublicationsKept(e), checkReleasesDestroyed(e)),
		Steps: []resource.TestStep{
			{Config: full, Check: captureID(historyMigration, &migrationID)},
			{
				PreConfig: func() {
					if err := e.sb.DeleteCodeMigration(migrationID); err != nil {
						t.Fatal(err)
					}
				},
				Config: full,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(historyMigration, plancheck.ResourceActionNoop),
					plancheck.ExpectResourceAction("outsystems_asset_publication.hr_self_service", plancheck.ResourceActionNoop),
					plancheck.ExpectResourceAction("outsystems_library_release.acme_theme", plancheck.ResourceActionNoop),
					plancheck.ExpectEmptyPlan(),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(historyMigration, tfjsonpath.New("status"), knownvalue.StringExact("Finished")),
					statecheck.ExpectKnownValue(historyMigration, tfjsonpath.New("assets"), knownvalue.MapSizeExact(2)),
				},
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources[historyMigration].Primary.ID; got != migrationID {
						return fmt.Errorf("the migration in state is %s, want the purged record's %s kept", got, migrationID)
					}
					diags := readMigration(t, e, s)
					if !hasWarning(diags, "Code Migration Record Gone", migrationID, "Acme Theme") {
						return fmt.Errorf("the refresh should warn that the record of %s is gone, naming the assets; got %v", migrationID, diags)
					}
					return nil
				},
			},
		},
	})
}

// Destroying the wave (mappings deleted, the migration forgotten) and
// applying it again migrates into the same ODC assets as new revisions:
// the organization never holds two assets of one name.
func TestAccHistory_destroyAndApplyAgain(t *testing.T) {
	e := newTestEnv(t)
	cfg := e.providerConfig() + e.mappingsAndTags(historyPlan) + e.migrationConfig(historyPlan, false)
	var first string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []resource.TestStep{
			{Config: cfg, Check: captureID(historyMigration, &first)},
			{Config: cfg, Destroy: true},
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(historyMigration, tfjsonpath.New("assets").AtMapKey("Acme Theme").AtMapKey("revision"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(historyMigration, tfjsonpath.New("assets").AtMapKey("HR Self Service").AtMapKey("revision"), knownvalue.Int64Exact(2)),
				},
				Check: func(s *terraform.State) error {
					if s.RootModule().Resources[historyMigration].Primary.ID == first {
						return fmt.Errorf("the second apply should have started a new migration")
					}
					return checkOneAssetPerName(e, historyPlan.names())
				},
			},
		},
	})
}

// A mapping deleted in the assessment tool and created again there with
// the same name is adopted by the mapping resource, and the migration only
// records the new id: nothing is migrated, published or released again.
func TestAccHistory_mappingCreatedAgain(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{"Acme Theme": {"library", []string{"Acme Theme"}, 1}}
	cfg := e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, true)
	var mappingID string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []resource.TestStep{
			{Config: cfg, Check: captureID("outsystems_app_mapping.acme_theme", &mappingID)},
			{
				PreConfig: func() {
					ctx := context.Background()
					if err := e.as.DeleteMapping(ctx, mappingID); err != nil {
						t.Fatal(err)
					}
					mp, err := e.as.CreateMapping(ctx, client.MappingCreate{Name: "Acme Theme", AssetType: "LowCodeLibrary", ApplicationKeys: []string{e.appKey("Acme Theme")}})
					if err != nil {
						t.Fatal(err)
					}
					if err := waitForAssessment(ctx, e.as, mp); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("outsystems_app_mapping.acme_theme", plancheck.ResourceActionNoop),
					plancheck.ExpectResourceAction(historyMigration, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("outsystems_asset_publication.acme_theme", plancheck.ResourceActionNoop),
					plancheck.ExpectResourceAction("outsystems_library_release.acme_theme", plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.CompareValuePairs(
						historyMigration, tfjsonpath.New("assets").AtMapKey("Acme Theme").AtMapKey("mapping_id"),
						"outsystems_app_mapping.acme_theme", tfjsonpath.New("id"), compare.ValuesSame()),
					statecheck.ExpectKnownValue(historyMigration, tfjsonpath.New("assets").AtMapKey("Acme Theme").AtMapKey("revision"), knownvalue.Int64Exact(1)),
				},
				Check: func(s *terraform.State) error {
					if s.RootModule().Resources["outsystems_app_mapping.acme_theme"].Primary.ID == mappingID {
						return fmt.Errorf("the mapping created again was not adopted")
					}
					return checkOneAssetPerName(e, plan.names())
				},
			},
		},
	})
}

// An O11 app added to a mapping after it migrated makes its asset stale,
// and the plan shows it.
func TestAccHistory_appAddedIsStale(t *testing.T) {
	e := newTestEnv(t)
	before := migrationPlan{"Acme Theme": {"library", []string{"Acme Theme"}, 1}}
	after := migrationPlan{"Acme Theme": {"library", []string{"Acme Theme", "Common Utils"}, 1}}
	cfg := func(p migrationPlan) string {
		return e.providerConfig() + e.mappingsAndTags(p) + e.migrationConfig(p, false)
	}
	staleOf := tfjsonpath.New("assets").AtMapKey("Acme Theme").AtMapKey("stale")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []resource.TestStep{
			{
				Config: cfg(before),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(historyMigration, staleOf, knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(historyMigration, tfjsonpath.New("assets").AtMapKey("Acme Theme").AtMapKey("o11_application_keys"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(strings.ToLower(e.appKey("Acme Theme")))})),
				},
			},
			{
				Config: cfg(after), // the mapping changes in place; the migration is not replaced
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("outsystems_app_mapping.acme_theme", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(historyMigration, plancheck.ResourceActionNoop),
				}},
			},
			{
				Config: cfg(after),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(historyMigration, staleOf, knownvalue.Bool(true)),
					plancheck.ExpectEmptyPlan(),
				}},
				Check: func(s *terraform.State) error {
					diags := readMigration(t, e, s)
					if !hasWarning(diags, "Migrated Assets Are Stale", "Acme Theme", strings.ToLower(e.appKey("Common Utils"))) {
						return fmt.Errorf("the refresh should warn that Acme Theme lacks Common Utils; got %v", diags)
					}
					return nil
				},
			},
		},
	})
}

// readMigration runs the code migration resource's Read on the migration
// in s, as a refresh does, and returns its diagnostics (the acceptance
// framework does not show warnings).
func readMigration(t *testing.T, e *testEnv, s *terraform.State) diag.Diagnostics {
	t.Helper()
	ctx := context.Background()
	rs := s.RootModule().Resources[historyMigration]
	pd := &providerData{attempts: 1, odc: e.odcClient(), assessment: e.as}
	r := &codeMigrationResource{data: pd}
	var sch fwresource.SchemaResponse
	r.Schema(ctx, fwresource.SchemaRequest{}, &sch)
	state := tfsdk.State{Schema: sch.Schema, Raw: tftypes.NewValue(sch.Schema.Type().TerraformType(ctx), nil)}
	a := rs.Primary.Attributes
	assets := map[string]attr.Value{}
	for k, v := range a {
		if !strings.HasPrefix(k, "assets.") || !strings.HasSuffix(k, ".asset_key") {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(k, "assets."), ".asset_key")
		var apps []attr.Value
		for i := 0; ; i++ {
			app, ok := a[fmt.Sprintf("assets.%s.o11_application_keys.%d", name, i)]
			if !ok {
				break
			}
			apps = append(apps, types.StringValue(app))
		}
		values := map[string]attr.Value{}
		for n, typ := range migratedAssetAttrTypes {
			values[n] = nullOf(typ)
		}
		// As the refresh does: the mapping resources are read first.
		if mp, err := e.as.GetMapping(ctx, a["assets."+name+".mapping_id"]); err == nil {
			pd.rememberMapping(mp)
		}
		values["asset_key"] = types.StringValue(v)
		values["mapping_id"] = types.StringValue(a["assets."+name+".mapping_id"])
		values["o11_application_keys"] = types.ListValueMust(types.StringType, apps)
		assets[name] = types.ObjectValueMust(migratedAssetAttrTypes, values)
	}
	var diags diag.Diagnostics
	diags.Append(state.SetAttribute(ctx, path.Root("id"), rs.Primary.ID)...)
	diags.Append(state.SetAttribute(ctx, path.Root("started_at"), a["started_at"])...)
	diags.Append(state.SetAttribute(ctx, path.Root("assets"), types.MapValueMust(migratedAssetType, assets))...)
	if diags.HasError() {
		t.Fatalf("building the state to read: %v", diags)
	}
	resp := fwresource.ReadResponse{State: state}
	r.Read(ctx, fwresource.ReadRequest{State: state}, &resp)
	return resp.Diagnostics
}

func nullOf(typ attr.Type) attr.Value {
	switch typ {
	case types.StringType:
		return types.StringNull()
	case types.Int64Type:
		return types.Int64Null()
	case types.BoolType:
		return types.BoolNull()
	}
	return types.ListNull(types.StringType)
}

// hasWarning tells whether diags hold a warning with summary whose detail
// contains every one of words, and no error.
func hasWarning(diags diag.Diagnostics, summary string, words ...string) bool {
	if diags.HasError() {
		return false
	}
	for _, d := range diags.Warnings() {
		if d.Summary() != summary {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(d.Detail(), w)
		}
		if ok {
			return true
		}
	}
	return false
}

// checkOneAssetPerName: ODC's asset repository holds exactly one asset of
// each name.
func checkOneAssetPerName(e *testEnv, names []string) error {
	odc := e.odcClient()
	var errs []error
	for _, n := range names {
		found, err := odc.FindAssets(context.Background(), n)
		if err != nil {
			errs = append(errs, fmt.Errorf("finding assets named %q: %w", n, err))
			continue
		}
		same := 0
		for _, a := range found {
			if strings.EqualFold(a.Name, n) {
				same++
			}
		}
		if same != 1 {
			errs = append(errs, fmt.Errorf("ODC holds %d assets named %q, want 1", same, n))
		}
	}
	return errors.Join(errs...)
}

// checkMigratedAssetsKept: destroy only forgets a code migration, whose
// record may be gone; the ODC assets it produced stay.
func checkMigratedAssetsKept(e *testEnv) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		odc := e.odcClient()
		var errs []error
		for _, rs := range resourcesOfType(s, "outsystems_code_migration") {
			for k, v := range rs.Primary.Attributes {
				if !strings.HasPrefix(k, "assets.") || !strings.HasSuffix(k, ".asset_key") || v == "" {
					continue
				}
				if _, err := odc.GetAsset(context.Background(), v); err != nil {
					errs = append(errs, fmt.Errorf("asset %s of code migration %s should be kept by destroy: %w", v, rs.Primary.ID, err))
				}
			}
		}
		return errors.Join(errs...)
	}
}

// The migration is kept only when the new mapping ids name mappings of the
// migrated names; any other change of mapping_ids replaces it.
func TestSameMappingNames(t *testing.T) {
	names := map[string]string{"old-a": "Acme Theme", "old-b": "HR Self Service"}
	current := map[string]*client.Mapping{
		"new-a": {Key: "new-a", Name: "acme theme"},
		"old-b": {Key: "old-b", Name: "HR Self Service"},
		"new-c": {Key: "new-c", Name: "Claims Core"},
	}
	for _, tc := range []struct {
		name           string
		oldIDs, newIDs []string
		want           bool
	}{
		{"a mapping created again with the same name", []string{"old-a", "old-b"}, []string{"new-a", "old-b"}, true},
		{"a mapping of another name", []string{"old-a", "old-b"}, []string{"new-c", "old-b"}, false},
		{"a mapping the tool does not know", []string{"old-a", "old-b"}, []string{"gone", "old-b"}, false},
		{"a name counted twice", []string{"old-a", "old-b"}, []string{"new-a", "new-a"}, false},
		{"an old id not in state", []string{"old-x", "old-b"}, []string{"new-a", "old-b"}, false},
	} {
		if got := sameMappingNames(tc.oldIDs, tc.newIDs, names, current); got != tc.want {
			t.Errorf("%s: sameMappingNames = %v, want %v", tc.name, got, tc.want)
		}
	}
}
