package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// readinessGateConfig maps Policy Admin (BPT processes: Not ready) and
// Policy Core (ready), and gates on their readiness with a postcondition.
func (e *testEnv) readinessGateConfig() string {
	return e.providerConfig() + fmt.Sprintf(`
resource "outsystems_app_mapping" "policy_core" {
  name                 = "Policy Core"
  asset_type           = "library"
  o11_application_keys = [%q]
}
resource "outsystems_app_mapping" "policy_admin" {
  name                 = "Policy Admin"
  asset_type           = "web_app"
  o11_application_keys = [%q]
  wait_for_assessment  = false
}

data "outsystems_migration_readiness" "wave" {
  mapping_ids = [outsystems_app_mapping.policy_core.id, outsystems_app_mapping.policy_admin.id]
  lifecycle {
    postcondition {
      condition     = self.all_ready
      error_message = self.summary
    }
  }
}
`, e.appKey("Policy Core"), e.appKey("Policy Admin"))
}

func TestAccMigrationReadiness_gate(t *testing.T) {
	e := newTestEnv(t)
	const ds = "data.outsystems_migration_readiness.wave"
	var adminID string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMappingsDestroyed(e),
		Steps: []resource.TestStep{
			{ // the mappings exist, but one asset is not ready: the gate fails, naming it and its findings
				Config:      e.readinessGateConfig(),
				ExpectError: regexpS(`Resource postcondition failed.*1 of 2 assets are not ready for ODC.*Policy Admin \(web_app, mapping [0-9a-f-]+\): NotReady.*Business Process Technology \(BPT\) processes \[Architecture, NotYetSupported, fix in O11\] in Policy Admin/PolicyAdmin_Workflows \(3×\)`),
			},
			{ // the same plan fails at plan time too, now that the mappings are known
				Config:      e.readinessGateConfig(),
				PlanOnly:    true,
				ExpectError: regexpS(`Resource postcondition failed.*Policy Admin.*\(BPT\) processes`),
			},
			{ // the findings are fixed in O11 (the sandbox's admin surface); the gate passes
				PreConfig: func() {
					adminID = e.mappingIDByName("Policy Admin")
					if err := e.sb.FixAllFindings(adminID); err != nil {
						t.Fatal(err)
					}
				},
				Config: e.readinessGateConfig(),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("all_ready"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("not_ready_mapping_ids"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(0).AtMapKey("name"), knownvalue.StringExact("Policy Admin")),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(0).AtMapKey("status"), knownvalue.StringExact("ReadyForOdc")),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(0).AtMapKey("findings"), knownvalue.ListSizeExact(0)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(1).AtMapKey("name"), knownvalue.StringExact("Policy Core")),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(1).AtMapKey("asset_type"), knownvalue.StringExact("library")),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("summary"), knownvalue.StringExact("All 2 assets are ready for ODC.")),
					statecheck.CompareValuePairs(
						ds, tfjsonpath.New("assets").AtSliceIndex(0).AtMapKey("producer_mapping_ids").AtSliceIndex(0),
						"outsystems_app_mapping.policy_core", tfjsonpath.New("id"),
						compare.ValuesSame(),
					),
				},
			},
		},
	})
}

func TestAccMigrationReadiness_allMappingsAndFindings(t *testing.T) {
	e := newTestEnv(t)
	const ds = "data.outsystems_migration_readiness.all"
	cfg := e.providerConfig() + fmt.Sprintf(`
resource "outsystems_app_mapping" "claims" {
  name                 = "Claims Backoffice"
  asset_type           = "web_app"
  o11_application_keys = [%q]
}
resource "outsystems_app_mapping" "inspector" {
  name                 = "Field Inspector"
  asset_type           = "mobile_app"
  o11_application_keys = [%q]
}
data "outsystems_migration_readiness" "all" {
  depends_on = [outsystems_app_mapping.claims, outsystems_app_mapping.inspector]
}
`, e.appKey("Claims Backoffice"), e.appKey("Field Inspector"))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMappingsDestroyed(e),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("all_ready"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets"), knownvalue.ListSizeExact(2)),
				// Change in ODC can be migrated: the site property is fixed in ODC afterwards.
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(0).AtMapKey("name"), knownvalue.StringExact("Claims Backoffice")),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(0).AtMapKey("status"), knownvalue.StringExact("ChangeInOdc")),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(0).AtMapKey("ready"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(0).AtMapKey("findings").AtSliceIndex(0).AtMapKey("where_to_fix"), knownvalue.StringExact("ODC")),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(1).AtMapKey("name"), knownvalue.StringExact("Field Inspector")),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(1).AtMapKey("asset_type"), knownvalue.StringExact("mobile_app")),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(1).AtMapKey("status"), knownvalue.StringExact("NotReady")),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(1).AtMapKey("findings").AtSliceIndex(0).AtMapKey("pattern_class"), knownvalue.StringExact("FixInO11")),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(1).AtMapKey("findings").AtSliceIndex(0).AtMapKey("module_name"), knownvalue.StringExact("FieldInspector")),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtSliceIndex(1).AtMapKey("findings").AtSliceIndex(0).AtMapKey("count"), knownvalue.Int64Exact(2)),
				statecheck.CompareValuePairs(
					ds, tfjsonpath.New("not_ready_mapping_ids").AtSliceIndex(0),
					"outsystems_app_mapping.inspector", tfjsonpath.New("id"),
					compare.ValuesSame(),
				),
				statecheck.ExpectKnownValue(ds, tfjsonpath.New("summary"), knownvalue.StringRegexp(regexpS(`1 of 2 assets are not ready.*Field Inspector \(mobile_app`))),
			},
		}},
	})
}

func TestAccMigrationReadiness_unknownMapping(t *testing.T) {
	e := newTestEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{{
			Config: e.providerConfig() + `
data "outsystems_migration_readiness" "x" {
  mapping_ids = ["0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"]
}`,
			ExpectError: regexpS(`Unknown Mappings.*0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d`),
		}},
	})
}

// mappingIDByName finds a mapping's key in the sandbox.
func (e *testEnv) mappingIDByName(name string) string {
	mappings, err := e.as.ListMappings(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range mappings {
		if m.Name == name {
			return m.Key
		}
	}
	e.t.Fatalf("no mapping %q", name)
	return ""
}
