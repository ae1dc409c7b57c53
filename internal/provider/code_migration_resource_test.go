package provider

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// migrationPlan is a wave of mappings by name: asset type, O11 apps and
// the publish wave the test expects.
type migrationPlan map[string]struct {
	assetType string
	apps      []string
	wave      int
}

// slug turns a mapping name into a resource name.
func slug(name string) string { return strings.ReplaceAll(strings.ToLower(name), " ", "_") }

func (p migrationPlan) names() []string {
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// mappingsAndTags maps the plan's apps and tags them in Development, one
// resource each (terraform-plugin-testing cannot read for_each state; the
// examples, run by make demo, use for_each).
func (e *testEnv) mappingsAndTags(plan migrationPlan) string {
	var b strings.Builder
	apps := map[string]bool{}
	var refs []string
	for _, n := range plan.names() {
		keys := make([]string, len(plan[n].apps))
		for i, a := range plan[n].apps {
			keys[i] = fmt.Sprintf("%q", e.appKey(a))
			apps[a] = true
		}
		fmt.Fprintf(&b, `
resource "outsystems_app_mapping" %q {
  name                 = %q
  asset_type           = %q
  o11_application_keys = [%s]
}
`, slug(n), n, plan[n].assetType, strings.Join(keys, ", "))
		refs = append(refs, "outsystems_app_mapping."+slug(n))
	}
	appNames := make([]string, 0, len(apps))
	for a := range apps {
		appNames = append(appNames, a)
	}
	sort.Strings(appNames)
	var tags []string
	for _, a := range appNames {
		fmt.Fprintf(&b, `
resource "outsystems_lifetime_tag" %q {
  environment_key = %q
  application_key = %q
  change_log      = "Ready for ODC"
  depends_on      = [%s]
}
`, "tag_"+slug(a), e.envKey("Development"), e.appKey(a), strings.Join(refs, ", "))
		tags = append(tags, "outsystems_lifetime_tag.tag_"+slug(a))
	}
	fmt.Fprintf(&b, `
locals {
  mapping_ids = [%s]
  tags        = [%s]
}
`, idsOf(refs), strings.Join(tags, ", "))
	return b.String()
}

func idsOf(refs []string) string {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r + ".id"
	}
	return strings.Join(ids, ", ")
}

// migrationConfig adds the migration (with extra arguments) and, when
// publish is set, a publication of every asset and a release of every
// library, wave by wave: each wave depends on the releases of the one before.
func (e *testEnv) migrationConfig(plan migrationPlan, publish bool, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
resource "outsystems_code_migration" "wave" {
  source_environment_key = %q
  mapping_ids            = local.mapping_ids
  %s
  depends_on             = [local.tags]
}

locals {
  assets = outsystems_code_migration.wave.assets
}
`, e.envKey("Development"), extra)
	if !publish {
		return b.String()
	}
	releasesOfWave := map[int][]string{}
	for _, n := range plan.names() {
		if plan[n].assetType == "library" {
			releasesOfWave[plan[n].wave] = append(releasesOfWave[plan[n].wave], "outsystems_library_release."+slug(n))
		}
	}
	for _, n := range plan.names() {
		dep := ""
		for w := 1; w < plan[n].wave; w++ {
			if len(releasesOfWave[w]) > 0 {
				dep = "depends_on = [" + strings.Join(releasesOfWave[w], ", ") + "]"
			}
		}
		fmt.Fprintf(&b, `
resource "outsystems_asset_publication" %[1]q {
  asset_key = local.assets[%[2]q].asset_key
  revision  = local.assets[%[2]q].revision
  stage_key = %[3]q
  %[4]s
}
`, slug(n), n, e.stageKey("Development"), dep)
		if plan[n].assetType == "library" {
			fmt.Fprintf(&b, `
resource "outsystems_library_release" %[1]q {
  asset_key       = outsystems_asset_publication.%[1]s.asset_key
  revision        = outsystems_asset_publication.%[1]s.revision
  version         = "1.0.0"
  release_notes   = "First release after the migration."
  keep_on_destroy = true
}
`, slug(n))
		}
	}
	return b.String()
}

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
	full := base + e.migrationConfig(chainPlan, true, "")
	const mig = "outsystems_code_migration.wave"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
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
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(mig, "status", "Finished"),
					resource.TestCheckResourceAttrSet(mig, "started_at"),
					resource.TestCheckResourceAttrSet(mig, "finished_at"),
					resource.TestCheckResourceAttr(mig, "assets.%", "5"),
					resource.TestCheckResourceAttr(mig, "assets.Claims Core.asset_type", "library"),
					resource.TestCheckResourceAttr(mig, "assets.Claims Core.revision", "1"),
					resource.TestCheckResourceAttr(mig, "assets.Claims Core.publish_wave", "3"),
					resource.TestCheckResourceAttr(mig, "assets.Claims Core.producer_asset_keys.#", "1"),
					resource.TestCheckResourceAttrPair(mig, "assets.Claims Core.producer_asset_keys.0", mig, "assets.Policy Core.asset_key"),
					resource.TestCheckResourceAttr(mig, "assets.Claims Backoffice.asset_type", "web_app"),
					resource.TestCheckResourceAttr("outsystems_asset_publication.claims_backoffice", "status", "Finished"),
					resource.TestCheckResourceAttr("outsystems_asset_publication.claims_backoffice", "asset_type", "web_app"),
					resource.TestCheckResourceAttr("outsystems_library_release.common_utils", "version", "1.0.0"),
					e.checkProducersFirst(mig),
				),
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
				return fmt.Errorf("%s has no producer list in state: %v", name, err)
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
		Steps: []resource.TestStep{
			{Config: base},
			{
				Config:      base + e.migrationConfig(plan, false, ""),
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
		Steps: []resource.TestStep{{
			Config:      cfg,
			ExpectError: regexpS(`O11 Apps Not Tagged.*"Customer Portal" \(` + e.appKey("Customer Portal") + `, mapping "Customer Portal"\): has changes since its last tag.*outsystems_lifetime_tag`),
		}},
	})
}

func TestAccCodeMigration_finishedWithErrorsIsReplacedNextApply(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{"Playground": {"web_app", []string{"Sandbox Playground"}, 1}}
	cfg := e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, false, "")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
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
		Steps: []resource.TestStep{
			{Config: e.providerConfig() + e.mappingsAndTags(plan)},
			{
				Config:      e.providerConfigWith(e.token("Administrator"), "publisher-no-migrate") + e.mappingsAndTags(plan) + e.migrationConfig(plan, false, ""),
				ExpectError: regexpS(`Failed To Start The Code Migration.*403.*publisher-no-migrate.*Migrate O11 code.*Convert O11 code`),
			},
			{ // the right client migrates and publishes; one that may not release cannot release
				Config:      e.providerConfigWith(e.token("Administrator"), "publisher-no-release") + e.mappingsAndTags(plan) + e.migrationConfig(plan, true, ""),
				ExpectError: regexpS(`Failed To Release The Library.*403.*publisher-no-release.*Release libraries`),
			},
			{Config: e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, true, "")},
		},
	})
}

// TestAccAssetPublication_producerGate publishes and releases a consumer
// without referencing its producer: the apply fails naming the producer.
func TestAccAssetPublication_producerGate(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{
		"Common Utils": {"library", []string{"Common Utils"}, 1},
		"Policy Core":  {"library", []string{"Policy Core"}, 2},
	}
	base := e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, false, "")
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
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("outsystems_library_release.policy_core", "version", "1.0.0"),
					resource.TestCheckResourceAttr("outsystems_library_release.policy_core", "name", "Policy Core"),
				),
			},
		},
	})
}

// TestAccLibraryRelease_lifecycle: version rules, drift and destroy of a
// library no one consumes.
func TestAccLibraryRelease_lifecycle(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{"Common Utils": {"library", []string{"Common Utils"}, 1}}
	base := e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, false, "") + fmt.Sprintf(`
resource "outsystems_asset_publication" "utils" {
  asset_key = local.assets["Common Utils"].asset_key
  revision  = local.assets["Common Utils"].revision
  stage_key = %q
}
`, e.stageKey("Development"))
	release := func(version string) string {
		return base + fmt.Sprintf(`
resource "outsystems_library_release" "utils" {
  asset_key     = outsystems_asset_publication.utils.asset_key
  revision      = outsystems_asset_publication.utils.revision
  version       = %q
  release_notes = "Release %s"
}
`, version, version)
	}
	const rel = "outsystems_library_release.utils"
	var assetKey string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			h, err := e.odcClient().HighestTagRevision(context.Background(), assetKey)
			if err != nil || h != nil {
				return fmt.Errorf("destroy should clear the tag of a library no one consumes: %+v %v", h, err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: e.providerConfig() + e.mappingsAndTags(plan)},
			{
				Config: release("1.0.0"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(rel, "version", "1.0.0"),
					resource.TestCheckResourceAttr(rel, "release_notes", "Release 1.0.0"),
					resource.TestCheckResourceAttrSet(rel, "tagged_at"),
					resource.TestCheckResourceAttrWith(rel, "asset_key", func(v string) error { assetKey = v; return nil }),
				),
			},
			{ // a new version replaces the release
				Config: release("1.1.0"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(rel, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: resource.TestCheckResourceAttr(rel, "version", "1.1.0"),
			},
			{ // tag removed out of band: the next apply releases it again
				PreConfig: func() {
					if err := e.odcClient().TagRevision(context.Background(), assetKey, 1, nil, "", "removed out of band"); err != nil {
						t.Fatal(err)
					}
				},
				Config: release("1.1.0"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(rel, plancheck.ResourceActionCreate),
				}},
			},
			{Config: release("1.1.0")},
		},
	})
}

func TestAccLibraryRelease_versionMustBeHigher(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{"Common Utils": {"library", []string{"Common Utils"}, 1}}
	base := e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, false, "") + fmt.Sprintf(`
resource "outsystems_asset_publication" "utils" {
  asset_key = local.assets["Common Utils"].asset_key
  revision  = local.assets["Common Utils"].revision
  stage_key = %q
}
`, e.stageKey("Development"))
	release := func(version string) string {
		return base + fmt.Sprintf(`
resource "outsystems_library_release" "utils" {
  asset_key = outsystems_asset_publication.utils.asset_key
  revision  = outsystems_asset_publication.utils.revision
  version   = %q
}
`, version)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: e.providerConfig() + e.mappingsAndTags(plan)},
			{
				Config: base,
				Check: func(s *terraform.State) error { // someone releases 3.0.0 in ODC Studio
					v := "3.0.0"
					return e.odcClient().TagRevision(context.Background(), s.RootModule().Resources["outsystems_asset_publication.utils"].Primary.Attributes["asset_key"], 1, &v, "", "out of band")
				},
			},
			{
				Config:      release("1.0.0"),
				ExpectError: regexpS(`Version Not Higher Than The Last Release.*"1\.0\.0" is not higher than "3\.0\.0", the highest existing tag of library "Common Utils"`),
			},
			{
				Config:      release("not-a-version"),
				ExpectError: regexpS(`version.*must be Major\.Minor\.Patch`),
			},
			{Config: release("3.1.0")},
		},
	})
}

// TestAccOutOfBand: an app unpublished from its stage outside Terraform (a
// stage reset) is published again; a migration whose record was purged is
// planned again.
func TestAccOutOfBand(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{
		"Acme Theme":      {"library", []string{"Acme Theme"}, 1},
		"HR Self Service": {"web_app", []string{"HR Self Service"}, 2},
	}
	full := e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, true, "")
	const pub = "outsystems_asset_publication.hr_self_service"
	var first, purged string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: e.providerConfig() + e.mappingsAndTags(plan)},
			{Config: full, Check: resource.ComposeAggregateTestCheckFunc(captureID(pub, &first), captureID("outsystems_code_migration.wave", &purged))},
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
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(pub, "status", "Finished"),
					func(s *terraform.State) error {
						if s.RootModule().Resources[pub].Primary.ID == first {
							return fmt.Errorf("the publication was not made again")
						}
						return nil
					},
				),
			},
			{
				PreConfig: func() {
					mig := countMigrationsOf(t, e)
					if err := e.sb.DeleteCodeMigration(mig); err != nil {
						t.Fatal(err)
					}
				},
				// Only the migration is kept in the configuration: publications
				// and releases of its new revisions would need new versions.
				Config: e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, false, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("outsystems_code_migration.wave", plancheck.ResourceActionCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("outsystems_code_migration.wave", "status", "Finished"),
					func(s *terraform.State) error {
						if s.RootModule().Resources["outsystems_code_migration.wave"].Primary.ID == purged {
							return fmt.Errorf("the purged migration %s is still in state", purged)
						}
						return nil
					},
				),
			},
		},
	})
}

// migratedAssetKey is the ODC asset the sandbox's code migration made for a mapping.
func (e *testEnv) migratedAssetKey(name string) string {
	migrations, err := e.odcClient().ListCodeMigrations(context.Background(), "")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range migrations {
		for _, a := range m.Assets {
			if a.Name == name {
				return a.AssetKey
			}
		}
	}
	e.t.Fatalf("no migrated asset %q", name)
	return ""
}

func countMigrationsOf(t *testing.T, e *testEnv) string {
	t.Helper()
	migrations, err := e.odcClient().ListCodeMigrations(context.Background(), "")
	if err != nil || len(migrations) != 1 {
		t.Fatalf("want one migration, got %d (%v)", len(migrations), err)
	}
	return migrations[0].Key
}
