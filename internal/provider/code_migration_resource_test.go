package provider

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// The chain Claims Backoffice -> Claims Core -> Policy Core -> Common Utils,
// plus Acme Theme (wave 1) consumed by Claims Backoffice.
var chainPlan = migrationPlan{
	"Common Utils":      {"library", []string{"Common Utils"}, 1},
	"Acme Theme":        {"library", []string{"Acme Theme"}, 1},
	"Policy Core":       {"library", []string{"Policy Core"}, 2},
	"Claims Core":       {"library", []string{"Claims Core"}, 3},
	"Claims Backoffice": {"web_app", []string{"Claims Backoffice"}, 4},
}

func TestAccCodeMigration_producersFirst(t *testing.T) {
	e := newTestEnv(t)
	base := e.providerConfig() + e.mappingsAndTags(chainPlan)
	full := base + e.migrationConfig(chainPlan, true)
	const mig = "outsystems_code_migration.wave"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []resource.TestStep{
			{ // mappings, readiness and tags first
				Config: base,
			},
			{ // the plan already shows the assets by name, their waves and the order
				Config: full,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(mig, tfjsonpath.New("publish_order"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("Acme Theme"), knownvalue.StringExact("Common Utils"), knownvalue.StringExact("Policy Core"),
						knownvalue.StringExact("Claims Core"), knownvalue.StringExact("Claims Backoffice"),
					})),
					plancheck.ExpectKnownValue(mig, tfjsonpath.New("assets").AtMapKey("Claims Backoffice").AtMapKey("publish_wave"), knownvalue.Int64Exact(4)),
					plancheck.ExpectResourceAction("outsystems_asset_publication.claims_backoffice", plancheck.ResourceActionCreate),
					plancheck.ExpectResourceAction("outsystems_library_release.claims_core", plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mig, tfjsonpath.New("status"), knownvalue.StringExact("Finished")),
					statecheck.ExpectKnownValue(mig, tfjsonpath.New("started_at"), nonEmptyString()),
					statecheck.ExpectKnownValue(mig, tfjsonpath.New("finished_at"), nonEmptyString()),
					statecheck.ExpectKnownValue(mig, tfjsonpath.New("assets"), knownvalue.MapSizeExact(5)),
					statecheck.ExpectKnownValue(mig, tfjsonpath.New("assets").AtMapKey("Claims Core").AtMapKey("asset_type"), knownvalue.StringExact("library")),
					statecheck.ExpectKnownValue(mig, tfjsonpath.New("assets").AtMapKey("Claims Core").AtMapKey("revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(mig, tfjsonpath.New("assets").AtMapKey("Claims Core").AtMapKey("publish_wave"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(mig, tfjsonpath.New("assets").AtMapKey("Claims Core").AtMapKey("producer_asset_keys"), knownvalue.ListSizeExact(1)),
					statecheck.CompareValuePairs(
						mig, tfjsonpath.New("assets").AtMapKey("Claims Core").AtMapKey("producer_asset_keys").AtSliceIndex(0),
						mig, tfjsonpath.New("assets").AtMapKey("Policy Core").AtMapKey("asset_key"),
						compare.ValuesSame(),
					),
					statecheck.ExpectKnownValue(mig, tfjsonpath.New("assets").AtMapKey("Claims Backoffice").AtMapKey("asset_type"), knownvalue.StringExact("web_app")),
					statecheck.ExpectKnownValue("outsystems_asset_publication.claims_backoffice", tfjsonpath.New("status"), knownvalue.StringExact("Finished")),
					statecheck.ExpectKnownValue("outsystems_asset_publication.claims_backoffice", tfjsonpath.New("asset_type"), knownvalue.StringExact("web_app")),
					statecheck.ExpectKnownValue("outsystems_library_release.common_utils", tfjsonpath.New("version"), knownvalue.StringExact("1.0.0")),
				},
				Check: e.checkProducersFirst(mig),
			},
			{
				ResourceName:            mig,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				ResourceName:            "outsystems_asset_publication.policy_core",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				ResourceName:            "outsystems_library_release.claims_core",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"keep_on_destroy"},
			},
		},
	})
}

// checkProducersFirst reads the sandbox's timestamps: every producer was
// published, and every producer library released, before its consumers.
func (e *testEnv) checkProducersFirst(mig string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		attrs := s.RootModule().Resources[mig].Primary.Attributes
		stage := e.stageKey("Development")
		names := map[string]string{}
		for k, v := range attrs {
			if strings.HasPrefix(k, "assets.") && strings.HasSuffix(k, ".asset_key") {
				names[v] = strings.TrimSuffix(strings.TrimPrefix(k, "assets."), ".asset_key")
			}
		}
		if len(names) == 0 {
			return fmt.Errorf("no assets in state")
		}
		for key, name := range names {
			consumerPublished, ok := e.sb.PublishedAt(key, stage)
			if !ok {
				return fmt.Errorf("%s was not published", name)
			}
			n := attrs["assets."+name+".producer_asset_keys.#"]
			count, err := strconv.Atoi(n)
			if err != nil {
				return fmt.Errorf("%s has no producer list in state: %w", name, err)
			}
			for i := 0; i < count; i++ {
				pk := attrs[fmt.Sprintf("assets.%s.producer_asset_keys.%d", name, i)]
				producerPublished, ok := e.sb.PublishedAt(pk, stage)
				if !ok || !producerPublished.Before(consumerPublished) {
					return fmt.Errorf("producer %s was published at %v, not before its consumer %s at %v", names[pk], producerPublished, name, consumerPublished)
				}
				producerReleased, ok := e.sb.ReleasedAt(pk)
				if !ok || !producerReleased.Before(consumerPublished) {
					return fmt.Errorf("producer library %s was released at %v, not before its consumer %s was published at %v", names[pk], producerReleased, name, consumerPublished)
				}
				if consumerReleased, ok := e.sb.ReleasedAt(key); ok && !producerReleased.Before(consumerReleased) {
					return fmt.Errorf("producer library %s was released after its consumer %s", names[pk], name)
				}
			}
		}
		return nil
	}
}

func TestAccCodeMigration_preflightNotReady(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{"Policy Admin": {"web_app", []string{"Policy Admin"}, 1}}
	base := e.providerConfig() + e.mappingsAndTags(plan)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []resource.TestStep{
			{Config: base},
			{
				Config:      base + e.migrationConfig(plan, false),
				ExpectError: regexpS(`Assets Not Ready For ODC.*Policy Admin \(web_app, mapping [0-9a-f-]+\): NotReady.*\(BPT\) processes \[Architecture, NotYetSupported, fix in O11\]`),
			},
			{Config: base},
		},
	})
}

func TestAccCodeMigration_preflightUntagged(t *testing.T) {
	e := newTestEnv(t)
	// Customer Portal has changes since its last tag in Development, and is not tagged here.
	cfg := e.providerConfig() + fmt.Sprintf(`
resource "outsystems_app_mapping" "portal" {
  name                 = "Customer Portal"
  asset_type           = "web_app"
  o11_application_keys = [%q]
}
resource "outsystems_code_migration" "wave" {
  source_environment_key = %q
  mapping_ids            = [outsystems_app_mapping.portal.id]
}
`, e.appKey("Customer Portal"), e.envKey("Development"))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []resource.TestStep{{
			Config:      cfg,
			ExpectError: regexpS(`O11 Apps Not Tagged.*"Customer Portal" \(` + e.appKey("Customer Portal") + `, mapping "Customer Portal"\): has changes since its last tag.*outsystems_lifetime_tag`),
		}},
	})
}

func TestAccCodeMigration_finishedWithErrorsIsReplacedNextApply(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{"Playground": {"web_app", []string{"Sandbox Playground"}, 1}}
	cfg := e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, false)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []resource.TestStep{
			{
				Config:      cfg,
				ExpectError: regexpS(`Migration Of "Playground" Finished With Errors.*Code migration [0-9a-f-]{36}, started at 20[0-9-]+T[0-9:.]+.*Contact OutSystems support with the migration key and start time`),
			},
			{ // the failed migration is in state (tainted): the next apply replaces it (and fails the same way here)
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("outsystems_code_migration.wave", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ExpectError: regexpS(`Migration Of "Playground" Finished With Errors`),
			},
		},
	})
}

func TestAccCodeMigration_permissions(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{"Common Utils": {"library", []string{"Common Utils"}, 1}}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []resource.TestStep{
			{Config: e.providerConfig() + e.mappingsAndTags(plan)},
			{
				Config:      e.providerConfigWith(e.token("Administrator"), "publisher-no-migrate") + e.mappingsAndTags(plan) + e.migrationConfig(plan, false),
				ExpectError: regexpS(`Failed To Start The Code Migration.*403.*publisher-no-migrate.*Migrate O11 code.*Convert O11 code`),
			},
			{ // the right client migrates and publishes; one that may not release cannot release
				Config:      e.providerConfigWith(e.token("Administrator"), "publisher-no-release") + e.mappingsAndTags(plan) + e.migrationConfig(plan, true),
				ExpectError: regexpS(`Failed To Release The Library.*403.*publisher-no-release.*Release management > Release`),
			},
			{Config: e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, true)},
		},
	})
}

// TestAccOutOfBand: an app unpublished from its stage outside Terraform (a
// stage reset) is published again. (A migration whose record was purged is
// kept: history_test.go.)
func TestAccOutOfBand(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{
		"Acme Theme":      {"library", []string{"Acme Theme"}, 1},
		"HR Self Service": {"web_app", []string{"HR Self Service"}, 2},
	}
	full := e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, true)
	const pub = "outsystems_asset_publication.hr_self_service"
	var first string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []resource.TestStep{
			{Config: e.providerConfig() + e.mappingsAndTags(plan)},
			{Config: full, Check: captureID(pub, &first)},
			{
				PreConfig: func() {
					if err := e.sb.UnpublishAsset(e.stageKey("Development"), e.migratedAssetKey("HR Self Service")); err != nil {
						t.Fatal(err)
					}
				},
				Config: full,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pub, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(pub, tfjsonpath.New("status"), knownvalue.StringExact("Finished")),
				},
				Check: func(s *terraform.State) error {
					if s.RootModule().Resources[pub].Primary.ID == first {
						return fmt.Errorf("the publication was not made again")
					}
					return nil
				},
			},
		},
	})
}
