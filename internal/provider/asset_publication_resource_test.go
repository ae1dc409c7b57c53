package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccAssetPublication_producerGate publishes and releases a consumer
// without referencing its producer: the apply fails naming the producer.
func TestAccAssetPublication_producerGate(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{
		"Common Utils": {"library", []string{"Common Utils"}, 1},
		"Policy Core":  {"library", []string{"Policy Core"}, 2},
	}
	base := e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, false)
	publish := func(name, extra string) string {
		return fmt.Sprintf(`
resource "outsystems_asset_publication" %[1]q {
  asset_key = local.assets[%[2]q].asset_key
  revision  = local.assets[%[2]q].revision
  stage_key = %[3]q
  %[4]s
}
`, strings.ReplaceAll(strings.ToLower(name), " ", "_"), name, e.stageKey("Development"), extra)
	}
	release := func(name, extra string) string {
		id := strings.ReplaceAll(strings.ToLower(name), " ", "_")
		return fmt.Sprintf(`
resource "outsystems_library_release" %[1]q {
  asset_key       = outsystems_asset_publication.%[1]s.asset_key
  revision        = outsystems_asset_publication.%[1]s.revision
  version         = "1.0.0"
  keep_on_destroy = true
  %[2]s
}
`, id, extra)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []resource.TestStep{
			{Config: e.providerConfig() + e.mappingsAndTags(plan)},
			{Config: base},
			{ // the consumer alone: refused before publishing, naming the producer
				Config:      base + publish("Policy Core", ""),
				ExpectError: regexpS(`Producers Not Published.*"Policy Core".*consumes producers that are not published in stage.*"Common Utils" \(asset [0-9a-f-]+\).*Reference the outsystems_asset_publication of each of these producers`),
			},
			{ // both published (producer referenced), but the consumer released before the producer library
				Config: base + publish("Common Utils", "") + publish("Policy Core", "depends_on = [outsystems_asset_publication.common_utils]") +
					release("Policy Core", ""),
				ExpectError: regexpS(`Producer Libraries Not Released.*"Policy Core" revision 1 consumes producer libraries that have no release yet: "Common Utils".*outsystems_library_release`),
			},
			{ // with the producer's release referenced, it works
				Config: base + publish("Common Utils", "") + publish("Policy Core", "depends_on = [outsystems_asset_publication.common_utils]") +
					release("Common Utils", "") + release("Policy Core", "depends_on = [outsystems_library_release.common_utils]"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("outsystems_library_release.policy_core", tfjsonpath.New("version"), knownvalue.StringExact("1.0.0")),
					statecheck.ExpectKnownValue("outsystems_library_release.policy_core", tfjsonpath.New("name"), knownvalue.StringExact("Policy Core")),
				},
			},
		},
	})
}

// TestAccAssetPublication_lifecycle publishes a migrated library and imports
// the publication; destroy only forgets it (CheckDestroy asks ODC that the
// publish operation is still there, and the kept release too).
func TestAccAssetPublication_lifecycle(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{"Common Utils": {"library", []string{"Common Utils"}, 1}}
	const pub = "outsystems_asset_publication.common_utils"
	const rel = "outsystems_library_release.common_utils"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []resource.TestStep{
			{Config: e.providerConfig() + e.mappingsAndTags(plan)},
			{
				Config: e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, true),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(pub, tfjsonpath.New("status"), knownvalue.StringExact("Finished")),
					statecheck.ExpectKnownValue(pub, tfjsonpath.New("asset_name"), knownvalue.StringExact("Common Utils")),
					statecheck.ExpectKnownValue(pub, tfjsonpath.New("asset_type"), knownvalue.StringExact("library")),
					statecheck.ExpectKnownValue(pub, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(pub, tfjsonpath.New("stage_key"), knownvalue.StringExact(e.stageKey("Development"))),
					statecheck.ExpectKnownValue(pub, tfjsonpath.New("id"), knownvalue.StringRegexp(guidRegexp)),
					statecheck.ExpectKnownValue(pub, tfjsonpath.New("started_at"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(pub, tfjsonpath.New("finished_at"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue(rel, tfjsonpath.New("version"), knownvalue.StringExact("1.0.0")),
					statecheck.ExpectKnownValue(rel, tfjsonpath.New("keep_on_destroy"), knownvalue.Bool(true)),
				},
			},
			{
				ResourceName:            pub,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
		},
	})
}
