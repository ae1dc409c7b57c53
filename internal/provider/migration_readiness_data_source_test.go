package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
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
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(ds, "all_ready", "true"),
					resource.TestCheckResourceAttr(ds, "not_ready_mapping_ids.#", "0"),
					resource.TestCheckResourceAttr(ds, "assets.#", "2"),
					resource.TestCheckResourceAttr(ds, "assets.0.name", "Policy Admin"),
					resource.TestCheckResourceAttr(ds, "assets.0.status", "ReadyForOdc"),
					resource.TestCheckResourceAttr(ds, "assets.0.findings.#", "0"),
					resource.TestCheckResourceAttr(ds, "assets.1.name", "Policy Core"),
					resource.TestCheckResourceAttr(ds, "assets.1.asset_type", "library"),
					resource.TestCheckResourceAttr(ds, "summary", "All 2 assets are ready for ODC."),
					resource.TestCheckResourceAttrPair(ds, "assets.0.producer_mapping_ids.0", "outsystems_app_mapping.policy_core", "id"),
				),
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
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(ds, "all_ready", "false"),
				resource.TestCheckResourceAttr(ds, "assets.#", "2"),
				// Change in ODC can be migrated: the site property is fixed in ODC afterwards.
				resource.TestCheckResourceAttr(ds, "assets.0.name", "Claims Backoffice"),
				resource.TestCheckResourceAttr(ds, "assets.0.status", "ChangeInOdc"),
				resource.TestCheckResourceAttr(ds, "assets.0.ready", "true"),
				resource.TestCheckResourceAttr(ds, "assets.0.findings.0.where_to_fix", "ODC"),
				resource.TestCheckResourceAttr(ds, "assets.1.name", "Field Inspector"),
				resource.TestCheckResourceAttr(ds, "assets.1.asset_type", "mobile_app"),
				resource.TestCheckResourceAttr(ds, "assets.1.status", "NotReady"),
				resource.TestCheckResourceAttr(ds, "assets.1.findings.0.pattern_class", "FixInO11"),
				resource.TestCheckResourceAttr(ds, "assets.1.findings.0.module_name", "FieldInspector"),
				resource.TestCheckResourceAttr(ds, "assets.1.findings.0.count", "2"),
				resource.TestCheckResourceAttrPair(ds, "not_ready_mapping_ids.0", "outsystems_app_mapping.inspector", "id"),
				resource.TestMatchResourceAttr(ds, "summary", regexpS(`1 of 2 assets are not ready.*Field Inspector \(mobile_app`)),
			),
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
