package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// expectationsConfig maps Common Utils and Policy Core, previews them, and
// migrates them expecting versions and order (HCL expressions).
func (e *testEnv) expectationsConfig(versions, order string) string {
	return e.providerConfig() + fmt.Sprintf(`
locals {
  mappings = {
    "Common Utils" = { asset_type = "library", o11_application_keys = [%q] }
    "Policy Core"  = { asset_type = "library", o11_application_keys = [%q] }
  }
}

# One resource per mapping: the test framework reads no for_each state.
resource "outsystems_app_mapping" "common_utils" {
  name                 = "Common Utils"
  asset_type           = local.mappings["Common Utils"].asset_type
  o11_application_keys = local.mappings["Common Utils"].o11_application_keys
}
resource "outsystems_app_mapping" "policy_core" {
  name                 = "Policy Core"
  asset_type           = local.mappings["Policy Core"].asset_type
  o11_application_keys = local.mappings["Policy Core"].o11_application_keys
}

data "outsystems_migration_preview" "wave" {
  source_environment_key = %q
  mappings               = local.mappings
}

resource "outsystems_code_migration" "wave" {
  source_environment_key = %q
  mapping_ids            = [outsystems_app_mapping.common_utils.id, outsystems_app_mapping.policy_core.id]
  expected_versions      = %s
  expected_publish_order = %s
}
`, e.appKey("Common Utils"), e.appKey("Policy Core"), e.envKey("Development"), e.envKey("Development"), versions, order)
}

// TestAccCodeMigration_expectedPreview: the plan showed versions and an
// order; Policy Core is tagged before the apply and the order the plan
// showed is not the migration's: the migration is not started, and the
// error names both. With the preview of the current plan it migrates.
func TestAccCodeMigration_expectedPreview(t *testing.T) {
	e := newTestEnv(t)
	utils, _ := e.runningVersionKey("Common Utils")
	policy, _ := e.runningVersionKey("Policy Core")
	planned := fmt.Sprintf("{ %q = %q, %q = %q }", e.appKey("Common Utils"), utils, e.appKey("Policy Core"), policy)
	var tagged string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			if err := checkMappingsDestroyed(e)(s); err != nil {
				return err
			}
			return checkCodeMigrationsKept(e)(s)
		},
		Steps: []resource.TestStep{
			{ // what an earlier plan showed; Policy Core was tagged since
				PreConfig: func() {
					key, err := e.lt.CreateApplicationVersion(context.Background(), e.envKey("Development"), e.appKey("Policy Core"), clientTag("1.2.0"))
					if err != nil {
						t.Fatal(err)
					}
					e.waitRunning("Policy Core", key)
					tagged = key
				},
				Config: e.expectationsConfig(planned, `["Policy Core", "Common Utils"]`),
				ExpectError: regexpS(fmt.Sprintf(`Migration Differs From The Plan's Preview.*O11 application "Policy Core" \(key %s\): the plan's preview showed version key %s, and the version migrated is 1\.2\.0 \(key [0-9a-f-]+\): the app was tagged after the plan.*`+
					`the plan's preview published in the order "Policy Core", "Common Utils", and the migration's order is "Common Utils", "Policy Core".*The migration was not started`,
					e.appKey("Policy Core"), policy)),
			},
			{ // nothing was migrated; the current preview migrates
				PreConfig: func() {
					if ms, err := e.odcClient().ListCodeMigrations(context.Background(), ""); err != nil || len(ms) != 0 {
						t.Fatalf("code migrations after the refused start: %v, %v", ms, err)
					}
				},
				Config: e.expectationsConfig("data.outsystems_migration_preview.wave.versions", "data.outsystems_migration_preview.wave.publish_order"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("outsystems_code_migration.wave", tfjsonpath.New("status"), knownvalue.StringExact("Finished")),
					statecheck.ExpectKnownValue("outsystems_code_migration.wave", tfjsonpath.New("publish_order"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("Common Utils"), knownvalue.StringExact("Policy Core")})),
					statecheck.ExpectKnownValue("outsystems_code_migration.wave", tfjsonpath.New("expected_versions").AtMapKey(e.appKey("Policy Core")),
						knownvalue.StringFunc(func(v string) error {
							if v != tagged {
								return fmt.Errorf("expected_versions holds %s for Policy Core, want the tag %s", v, tagged)
							}
							return nil
						})),
				},
			},
			{ // Common Utils tagged since: the preview shows it, the migration that exists checked its expectations already
				PreConfig: func() {
					key, err := e.lt.CreateApplicationVersion(context.Background(), e.envKey("Development"), e.appKey("Common Utils"), clientTag("1.2.0"))
					if err != nil {
						t.Fatal(err)
					}
					e.waitRunning("Common Utils", key)
				},
				Config:   e.expectationsConfig("data.outsystems_migration_preview.wave.versions", "data.outsystems_migration_preview.wave.publish_order"),
				PlanOnly: true,
			},
		},
	})
}

// TestMigrationExpectationDifferences: what the checks report, and that an
// app this apply tags is not compared (its version is the tag's).
func TestMigrationExpectationDifferences(t *testing.T) {
	d := &providerData{}
	d.registerPlannedTag("ENV", "TAGGED")
	e := &migrationExpectations{versions: map[string]string{"same": "v1", "moved": "v1", "tagged": "v1", "gone": "v1"}, order: []string{"A", "B"}}
	got := e.differences(d, "env", []sourceVersion{
		{app: "SAME", appName: "Same", key: "V1", version: "1.0.0"},
		{app: "moved", appName: "Moved", key: "v2", version: "1.1.0"},
		{app: "tagged", appName: "Tagged", key: "v9", version: "9.0.0"},
		{app: "new", appName: "New", key: "v1", version: "1.0.0"},
	}, []string{"a", "b"})
	want := []string{
		`O11 application "Moved" (key moved): the plan's preview showed version key v1, and the version migrated is 1.1.0 (key v2): the app was tagged after the plan`,
		`O11 application "New" (key new) was not in the preview the plan showed, and is migrated at version 1.0.0`,
		`O11 application gone was in the plan's preview and is not in the migration's mappings any more`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("differences =\n%q\nwant\n%q", got, want)
	}
	if got := (&migrationExpectations{order: []string{"A", "B"}}).differences(d, "env", nil, []string{"B", "A"}); len(got) != 1 {
		t.Errorf("a changed order: %q", got)
	}
}

// TestAccSavedPlan_previewThenTagged: the plan (saved, as a pull request's
// or an HCP Terraform run's) previews the wave; Policy Core is tagged out
// of band before the apply of that plan: the migration fails before it
// starts, naming the app and both versions.
func TestAccSavedPlan_previewThenTagged(t *testing.T) {
	e := newTestEnv(t)
	policy, _ := e.runningVersionKey("Policy Core")
	tagged := betweenPlanAndApply(func(ctx context.Context) error {
		key, err := e.lt.CreateApplicationVersion(ctx, e.envKey("Development"), e.appKey("Policy Core"), clientTag("1.2.0"))
		if err != nil {
			return err
		}
		e.waitRunning("Policy Core", key)
		return nil
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(s *terraform.State) error {
			ms, err := e.odcClient().ListCodeMigrations(context.Background(), "")
			if err != nil {
				return fmt.Errorf("listing the code migrations: %w", err)
			}
			if len(ms) != 0 {
				return fmt.Errorf("want no code migration after the refused start, got %d", len(ms))
			}
			return checkMappingsDestroyed(e)(s)
		},
		Steps: []resource.TestStep{{
			Config:           e.expectationsConfig("data.outsystems_migration_preview.wave.versions", "data.outsystems_migration_preview.wave.publish_order"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{tagged}},
			ExpectError: regexpS(fmt.Sprintf(`Migration Differs From The Plan's Preview.*O11 application "Policy Core" \(key %s\): the plan's preview showed version key %s, and the version migrated is 1\.2\.0.*The migration was not started`,
				e.appKey("Policy Core"), policy)),
		}},
	})
}
