package provider

// Helpers of the acceptance tests that run a migration wave: mappings and
// tags of a plan's apps, the code migration, publications and releases.

import (
	"context"
	"fmt"
	"sort"
	"strings"
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

// migrationConfig adds the migration and, when
// publish is set, a publication of every asset and a release of every
// library, wave by wave: each wave depends on the releases of the one before.
func (e *testEnv) migrationConfig(plan migrationPlan, publish bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
resource "outsystems_code_migration" "wave" {
  source_environment_key = %q
  mapping_ids            = local.mapping_ids
  depends_on             = [local.tags]
}

locals {
  assets = outsystems_code_migration.wave.assets
}
`, e.envKey("Development"))
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
