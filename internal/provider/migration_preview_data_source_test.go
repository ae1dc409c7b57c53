package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// previewConfig previews definitions {name: [asset type, app names...]}
// from Development, with a gate on blocking findings and the graph and a
// version as outputs.
func (e *testEnv) previewConfig(defs map[string][]string) string {
	body := ""
	for name, d := range defs {
		keys := ""
		for _, app := range d[1:] {
			keys += fmt.Sprintf("%q, ", e.appKey(app))
		}
		body += fmt.Sprintf("    %q = { asset_type = %q, o11_application_keys = [%s] }\n", name, d[0], keys)
	}
	return e.providerConfig() + fmt.Sprintf(`
data "outsystems_migration_preview" "wave" {
  source_environment_key = %q
  mappings = {
%s  }
  lifecycle {
    postcondition {
      condition     = !self.blocked
      error_message = self.summary
    }
  }
}

output "policy_core_version" {
  value = data.outsystems_migration_preview.wave.assets["Policy Core"].applications[0].version
}
output "mermaid" {
  value = data.outsystems_migration_preview.wave.mermaid
}
`, e.envKey("Development"), body)
}

func TestAccMigrationPreview_dataSource(t *testing.T) {
	e := newTestEnv(t)
	const ds = "data.outsystems_migration_preview.wave"
	wave := map[string][]string{
		"Customer Portal": {"web_app", "Customer Portal"},
		"Policy Core":     {"library", "Policy Core"},
		"Common Utils":    {"library", "Common Utils"},
	}
	withMobileInWebApp := map[string][]string{"Field": {"web_app", "Field Inspector"}}
	for k, v := range wave {
		withMobileInWebApp[k] = v
	}
	portal := tfjsonpath.New("assets").AtMapKey("Customer Portal")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{
			{ // no mapping exists: the plan already knows the whole wave
				Config: e.previewConfig(wave),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownOutputValue("policy_core_version", knownvalue.StringExact("1.1.0")),
					plancheck.ExpectKnownOutputValue("mermaid", knownvalue.StringRegexp(regexpS(`^flowchart LR\n  subgraph wave1`))),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("publish_order"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("Common Utils"), knownvalue.StringExact("Policy Core"), knownvalue.StringExact("Customer Portal")})),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("waves"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("Common Utils")}),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("Policy Core")}),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("Customer Portal")})})),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("blocked"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("versions"), knownvalue.MapSizeExact(3)),
					statecheck.ExpectKnownValue(ds, portal.AtMapKey("publish_wave"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(ds, portal.AtMapKey("mapping_id"), knownvalue.Null()),
					statecheck.ExpectKnownValue(ds, portal.AtMapKey("producers"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("Policy Core")})),
					statecheck.ExpectKnownValue(ds, portal.AtMapKey("applications").AtSliceIndex(0).AtMapKey("version"), knownvalue.StringExact("1.2.0")),
					statecheck.ExpectKnownValue(ds, portal.AtMapKey("applications").AtSliceIndex(0).AtMapKey("modified"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(ds, portal.AtMapKey("applications").AtSliceIndex(0).AtMapKey("modules"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue(ds, portal.AtMapKey("applications").AtSliceIndex(0).AtMapKey("modules").AtSliceIndex(0).AtMapKey("name"),
						knownvalue.StringExact("CustomerPortal")),
					statecheck.ExpectKnownValue(ds, portal.AtMapKey("findings").AtSliceIndex(0).AtMapKey("code"), knownvalue.StringExact("UNTAGGED_CHANGES_NOT_MIGRATED")),
					statecheck.ExpectKnownValue(ds, portal.AtMapKey("findings").AtSliceIndex(0).AtMapKey("blocking"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("dot"), knownvalue.StringRegexp(regexpS(`^digraph producers \{`))),
				},
			},
			{ // a web app holding a Mobile application: the gate fails at plan time, naming the rule
				Config:      e.previewConfig(withMobileInWebApp),
				PlanOnly:    true,
				ExpectError: regexpS(`Resource postcondition failed.*1 blocking finding.*Field: 'Field' \(WebApplication\) cannot hold 'Field Inspector': a web app cannot hold Mobile applications\. \(MIXED_APP_KINDS\)`),
			},
			{ // Policy Core tagged out of band: the next plan shows the new version
				PreConfig: func() {
					key, err := e.lt.CreateApplicationVersion(context.Background(), e.envKey("Development"), e.appKey("Policy Core"), clientTag("1.2.0"))
					if err != nil {
						t.Fatal(err)
					}
					e.waitRunning("Policy Core", key)
				},
				Config: e.previewConfig(wave),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownOutputValue("policy_core_version", knownvalue.StringExact("1.2.0")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(ds, tfjsonpath.New("assets").AtMapKey("Policy Core").AtMapKey("applications").AtSliceIndex(0).AtMapKey("version"),
						knownvalue.StringExact("1.2.0")),
				},
			},
		},
	})
}

// On an organization without the Migration Kit's API the preview says so
// and what to do instead.
func TestAccMigrationPreview_tenant(t *testing.T) {
	e := newTestEnvTenant(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{{
			Config:      e.previewConfig(map[string][]string{"Policy Core": {"library", "Policy Core"}}),
			ExpectError: regexpS(`No Migration Kit API.*data.outsystems_migration_preview.*Run the code migration in the ODC portal instead`),
		}},
	})
}
