package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
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

// TestAccAssetPublication_producersOfAssetsMigratedByHand: assets no code
// migration made (migrated by hand in ODC Studio) have their producers
// checked from the elements they reference in ODC, and publishing and
// releasing never call the Migration Kit.
func TestAccAssetPublication_producersOfAssetsMigratedByHand(t *testing.T) {
	e := newTestEnv(t)
	const (
		coreKey   = "7d3c1f0e-5b2a-4c9d-8e71-0a6b5c4d3e21"
		rulesKey  = "7d3c1f0e-5b2a-4c9d-8e71-0a6b5c4d3e22"
		portalKey = "7d3c1f0e-5b2a-4c9d-8e71-0a6b5c4d3e23"
	)
	for _, a := range []odc.MigratedAsset{
		{Key: coreKey, Name: "Hand Core", AssetType: client.AssetTypeLibrary},
		{Key: rulesKey, Name: "Hand Rules", AssetType: client.AssetTypeLibrary, Producers: []string{coreKey}},
		{Key: portalKey, Name: "Hand Portal", AssetType: client.AssetTypeWebApplication, Producers: []string{rulesKey}},
	} {
		if err := e.sb.SeedODCAsset(a); err != nil {
			t.Fatal(err)
		}
	}
	publish := func(name, key, extra string) string {
		return fmt.Sprintf(`
resource "outsystems_asset_publication" %q {
  asset_key = %q
  revision  = 1
  %s
}
`, name, key, extra)
	}
	release := func(name, extra string) string {
		return fmt.Sprintf(`
resource "outsystems_library_release" %[1]q {
  asset_key       = outsystems_asset_publication.%[1]s.asset_key
  revision        = outsystems_asset_publication.%[1]s.revision
  version         = "1.0.0"
  keep_on_destroy = true
  %[2]s
}
`, name, extra)
	}
	// noKitRequests: nothing here may need the Migration Kit, which real
	// organizations do not serve.
	noKitRequests := func(*terraform.State) error {
		st := e.sb.RequestStats()
		if n := st.ByFamily[sandbox.FamilyCodeMigration].Requests; n != 0 {
			return fmt.Errorf("the provider made %d requests under /api/migration-kit/ to publish and release; want none", n)
		}
		if st.ByFamily[sandbox.FamilyODC].Requests == 0 {
			return fmt.Errorf("the provider made no ODC request")
		}
		return nil
	}
	dev := e.stageKey("Development")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             resource.ComposeAggregateTestCheckFunc(checkPublicationsKept(e), checkReleasesDestroyed(e), noKitRequests),
		Steps: []resource.TestStep{
			{ // the consumer alone: refused, naming the producer, the stage and what to reference
				Config: e.providerConfig() + publish("rules", rulesKey, ""),
				ExpectError: regexpS(`Producers Not Published.*"Hand Rules" \(` + rulesKey + `\) revision 1 consumes producers that are not published in stage "Development" \(` +
					dev + `\): "Hand Core" \(asset ` + coreKey + `\).*Reference the outsystems_asset_publication of each of these producers.*publishing to stage "Development"`),
			},
			{ // published producers first, but the consumer library released before its producer
				Config: e.providerConfig() + publish("core", coreKey, "") + publish("rules", rulesKey, "depends_on = [outsystems_asset_publication.core]") +
					release("rules", ""),
				ExpectError: regexpS(`Producer Libraries Not Released.*"Hand Rules" revision 1 consumes producer libraries that have no release yet: "Hand Core" \(asset ` +
					coreKey + `\).*reference the outsystems_library_release of each of these producers`),
			},
			{ // producers first everywhere: it works
				Config: e.providerConfig() + publish("core", coreKey, "") + publish("rules", rulesKey, "depends_on = [outsystems_asset_publication.core]") +
					release("core", "") + release("rules", "depends_on = [outsystems_library_release.core]") +
					publish("portal", portalKey, "depends_on = [outsystems_asset_publication.rules]"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("outsystems_asset_publication.portal", tfjsonpath.New("status"), knownvalue.StringExact("Finished")),
					statecheck.ExpectKnownValue("outsystems_asset_publication.portal", tfjsonpath.New("asset_name"), knownvalue.StringExact("Hand Portal")),
					statecheck.ExpectKnownValue("outsystems_library_release.rules", tfjsonpath.New("version"), knownvalue.StringExact("1.0.0")),
				},
				Check: noKitRequests,
			},
		},
	})
}
