package provider

// Issue 12, class 6: `outsystems_code_migration.assets` is keyed by the
// names the configuration gives the mappings, so configurations index it
// with `assets[outsystems_app_mapping.x.name]`, and a rename keeps those
// indexes working.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// renameConfig is one library mapping named name, its tag and, when
// migrate is set, the migration, a publication and a release that index
// the migration's assets by the mapping's name, as teams write them.
func (e *testEnv) renameConfig(name string, migrate bool) string {
	cfg := e.providerConfig() + fmt.Sprintf(`
resource "outsystems_app_mapping" "theme" {
  name                 = %q
  asset_type           = "library"
  o11_application_keys = [%q]
}

resource "outsystems_lifetime_tag" "theme" {
  environment_key = %q
  application_key = %q
  change_log      = "Ready for ODC"
  depends_on      = [outsystems_app_mapping.theme]
}
`, name, e.appKey("Acme Theme"), e.envKey("Development"), e.appKey("Acme Theme"))
	if !migrate {
		return cfg
	}
	return cfg + fmt.Sprintf(`
resource "outsystems_code_migration" "wave" {
  source_environment_key = %q
  mapping_ids            = [outsystems_app_mapping.theme.id]
  depends_on             = [outsystems_lifetime_tag.theme]
}

resource "outsystems_asset_publication" "theme" {
  asset_key = outsystems_code_migration.wave.assets[outsystems_app_mapping.theme.name].asset_key
  revision  = outsystems_code_migration.wave.assets[outsystems_app_mapping.theme.name].revision
  stage_key = %q
}

resource "outsystems_library_release" "theme" {
  asset_key       = outsystems_asset_publication.theme.asset_key
  revision        = outsystems_asset_publication.theme.revision
  version         = "1.0.0"
  keep_on_destroy = true
}
`, e.envKey("Development"), e.stageKey("Development"))
}

// TestAccHistory_mappingRenamed: a mapping renamed in the same plan that
// migrates it plans and applies (the plan keys the assets by the new
// name; it failed with "Invalid index"), and a mapping renamed after its
// migration moves its asset to the new key in place: nothing is migrated,
// published or released again, and the ODC asset keeps its name.
func TestAccHistory_mappingRenamed(t *testing.T) {
	e := newTestEnv(t)
	asset := func(name string) tfjsonpath.Path { return tfjsonpath.New("assets").AtMapKey(name) }
	var migrationID string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []resource.TestStep{
			{Config: e.renameConfig("Acme Theme", false)},
			{ // renamed and migrated in one plan
				Config: e.renameConfig("Acme Styles", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("outsystems_app_mapping.theme", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(historyMigration, plancheck.ResourceActionCreate),
					plancheck.ExpectKnownValue(historyMigration, tfjsonpath.New("publish_order"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("Acme Styles")})),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(historyMigration, asset("Acme Styles").AtMapKey("name"), knownvalue.StringExact("Acme Styles")),
					statecheck.CompareValuePairs(historyMigration, asset("Acme Styles").AtMapKey("asset_key"),
						"outsystems_library_release.theme", tfjsonpath.New("asset_key"), compare.ValuesSame()),
				},
				Check: captureID(historyMigration, &migrationID),
			},
			{ // renamed after its migration: the keys move, nothing else
				Config: e.renameConfig("Acme Look", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("outsystems_app_mapping.theme", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(historyMigration, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("outsystems_asset_publication.theme", plancheck.ResourceActionNoop),
					plancheck.ExpectResourceAction("outsystems_library_release.theme", plancheck.ResourceActionNoop),
					plancheck.ExpectKnownValue(historyMigration, asset("Acme Look").AtMapKey("revision"), knownvalue.Int64Exact(1)),
					plancheck.ExpectKnownValue(historyMigration, tfjsonpath.New("publish_order"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("Acme Look")})),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(historyMigration, tfjsonpath.New("assets"), knownvalue.MapSizeExact(1)),
					// the ODC asset keeps the name it was migrated under
					statecheck.ExpectKnownValue(historyMigration, asset("Acme Look").AtMapKey("name"), knownvalue.StringExact("Acme Styles")),
					statecheck.CompareValuePairs(historyMigration, asset("Acme Look").AtMapKey("mapping_id"),
						"outsystems_app_mapping.theme", tfjsonpath.New("id"), compare.ValuesSame()),
				},
				Check: func(s *terraform.State) error {
					if id := s.RootModule().Resources[historyMigration].Primary.ID; id != migrationID {
						return fmt.Errorf("the migration is %s, want %s kept (a rename migrates nothing)", id, migrationID)
					}
					if n := len(e.assetsNamed("Acme Look")); n != 0 {
						return fmt.Errorf("ODC holds %d assets named Acme Look, want none: a rename does not migrate", n)
					}
					return checkOneAssetPerName(e, []string{"Acme Styles"})
				},
			},
		},
	})
}

// assetsNamed returns the ODC assets whose name is name (ignoring case).
func (e *testEnv) assetsNamed(name string) []string {
	found, err := e.odcClient().FindAssets(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	var keys []string
	for _, a := range found {
		if strings.EqualFold(a.Name, name) {
			keys = append(keys, a.Key)
		}
	}
	return keys
}

// The pure part of a rename: keys and publish_order move to the planned
// names, each moved asset keeps its values, and the warning names the old
// and new keys and the ODC asset's own name.
func TestRekeyAssets(t *testing.T) {
	obj := func(mappingID, name, key string) attr.Value {
		values := map[string]attr.Value{}
		for n, typ := range migratedAssetAttrTypes {
			values[n] = nullOf(typ)
		}
		values["mapping_id"] = types.StringValue(mappingID)
		values["name"] = types.StringValue(name)
		values["asset_key"] = types.StringValue(key)
		return types.ObjectValueMust(migratedAssetAttrTypes, values)
	}
	assets := types.MapValueMust(migratedAssetType, map[string]attr.Value{
		"Acme Theme":   obj("M-1", "Acme Theme", "a-1"),
		"Common Utils": obj("m-2", "Common Utils", "a-2"),
	})
	order := types.ListValueMust(types.StringType, []attr.Value{types.StringValue("Acme Theme"), types.StringValue("Common Utils")})
	names := map[string]types.String{"m-1": types.StringValue("Acme Styles"), "m-2": types.StringValue("Common Utils")}
	lookup := func(id string) (types.String, bool) { n, ok := names[strings.ToLower(id)]; return n, ok }

	got, gotOrder, moves, diags := rekeyAssets(assets, order, lookup)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if _, ok := got.Elements()["Acme Styles"]; !ok || len(got.Elements()) != 2 {
		t.Errorf("assets keys = %v, want Acme Styles and Common Utils", got.Elements())
	}
	if !got.Elements()["Acme Styles"].Equal(assets.Elements()["Acme Theme"]) {
		t.Errorf("the moved asset changed: %v", got.Elements()["Acme Styles"])
	}
	if want := `["Acme Styles","Common Utils"]`; gotOrder.String() != want {
		t.Errorf("publish_order = %s, want %s", gotOrder, want)
	}
	if len(moves) != 1 || moves[0].from != "Acme Theme" || moves[0].to != "Acme Styles" || moves[0].assetName != "Acme Theme" {
		t.Fatalf("moves = %+v, want Acme Theme -> Acme Styles", moves)
	}
	w := renameWarning("mig-1", moves)
	for _, want := range []string{`assets["Acme Theme"]`, `assets["Acme Styles"]`, `keeps its name "Acme Theme"`, "moved", "triggers_replace"} {
		if !strings.Contains(w, want) {
			t.Errorf("the warning lacks %q:\n%s", want, w)
		}
	}

	// A name the plan does not know yet makes the keys unknown.
	names["m-1"] = types.StringUnknown()
	got, gotOrder, _, _ = rekeyAssets(assets, order, lookup)
	if !got.IsUnknown() || !gotOrder.IsUnknown() {
		t.Errorf("with a name unknown, assets and publish_order should be unknown; got %v, %v", got, gotOrder)
	}
	// No rename: nothing moves.
	names["m-1"] = types.StringValue("Acme Theme")
	got, _, moves, _ = rekeyAssets(assets, order, lookup)
	if len(moves) != 0 || !got.Equal(assets) {
		t.Errorf("without a rename the assets should stay; got %v, moves %+v", got, moves)
	}
}
