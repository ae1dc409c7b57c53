package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// Registry addresses the harness's CLI configuration overrides.
const (
	ourAddress  = "registry.terraform.io/seed-1be1de96/outsystems"
	noopAddress = "registry.terraform.io/bench/noop"
	// shapedAddress is tools/bench/shapedprovider: our schemas, no code.
	shapedAddress = "registry.terraform.io/bench/outsystems"
)

// keyNamespace makes the fixture's keys deterministic: the same names give
// the same GUIDs on every run.
var keyNamespace = uuid.MustParse("5b0e7c2e-43a4-4c1e-9d7e-6f3b7a1d2c90")

func key(name string) string { return uuid.NewSHA1(keyNamespace, []byte(name)).String() }

// benchApp is one O11 application of the fixture: library-only (one
// library module), or a reactive web app (one reactive module).
type benchApp struct {
	ID   string // short id, used as for_each key (e.g. "p1-0001")
	Name string // application name in LifeTime, also the mapping (asset) name
	Key  string
	Web  bool
}

// assetType is the app's mapping's asset_type.
func (a benchApp) assetType() string {
	if a.Web {
		return "web_app"
	}
	return "library"
}

// appGroups are the fixture's applications, by the measurement that uses them.
type appGroups struct {
	P1     []benchApp // the refresh benchmark's migration (mapped, tagged, migrated, published, released)
	Paced  []benchApp // P3: migrated and published unpaced, released paced
	Timing []benchApp // P4: one code migration each
}

const (
	fixtureToken   = "lt-bench-admin-7d41c9"
	fixtureEnvName = "Development"
	fixtureOrg     = "bench"
)

var (
	fixtureEnvKey   = key("env/Development")
	fixtureStageKey = key("stage/Development")
)

// makeApps makes n library-only apps, the last `web` of them web apps.
func makeApps(prefix, label string, n, web int) []benchApp {
	apps := make([]benchApp, n)
	for i := range apps {
		id := fmt.Sprintf("%s-%04d", prefix, i+1)
		apps[i] = benchApp{ID: id, Name: fmt.Sprintf("%s %04d", label, i+1), Key: key("app/" + id), Web: i >= n-web}
		if apps[i].Web {
			apps[i].Name = fmt.Sprintf("%s Portal %04d", label, i+1)
		}
	}
	return apps
}

// writeFixture writes a sandbox fixture with one application (one library
// or reactive module, tagged 1.0.0, running unmodified in Development) per
// app of the groups, no assessment findings (every mapping assesses Ready
// for ODC), and an ODC organization with one full-rights API client.
func writeFixture(path string, g appGroups) error {
	created := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	f := fixture.Fixture{
		Name: "Benchmark portfolio",
		LifeTime: fixture.LifeTime{
			ServiceAccounts: []fixture.ServiceAccount{{Name: "bench-pipeline", Token: fixtureToken, Role: fixture.RoleAdministrator}},
			Environments: []fixture.Environment{{
				Key: fixtureEnvKey, Name: fixtureEnvName, Order: 1, HostName: "dev.bench.example", EnvironmentType: "Development",
				OSVersion: "11.31.0.45821", UseHTTPS: true, IsCloudEnvironment: true, NumberOfFrontEnds: 1,
				ApplicationServerType: ".NET", ApplicationServer: "IIS", DatabaseProvider: "SqlServer",
			}},
		},
		ODC: fixture.ODC{
			Organization: fixtureOrg,
			APIClients: []fixture.APIClient{{
				Name: "bench-pipeline", ClientID: "bench-pipeline-1a2b3c", ClientSecret: "odc-bench-secret-Qm9vZ2xlZ3Jvb3Zl",
				Permissions: []string{fixture.PermissionMigrate, fixture.PermissionPublish, fixture.PermissionRelease, fixture.PermissionViewPortfolio, fixture.PermissionOpen},
			}},
			Stages: []fixture.Stage{
				{Key: fixtureStageKey, Name: "Development", Purpose: fixture.PurposeDevelopment, Order: 1},
				{Key: key("stage/QA"), Name: "QA", Purpose: fixture.PurposeNonProduction, Order: 2},
				{Key: key("stage/Production"), Name: "Production", Purpose: fixture.PurposeProduction, Order: 3},
			},
		},
	}
	for _, group := range [][]benchApp{g.P1, g.Paced, g.Timing} {
		for _, a := range group {
			module, typ := strings.ReplaceAll(a.Name, " ", "")+"_Lib", "Library"
			if a.Web {
				module, typ = strings.ReplaceAll(a.Name, " ", ""), "Reactive"
			}
			f.LifeTime.Modules = append(f.LifeTime.Modules, fixture.Module{
				Key: key("module/" + a.ID), Name: module, Kind: "eSpace", Type: typ,
				Description: "Benchmark module " + a.ID, References: []string{},
			})
			f.LifeTime.Applications = append(f.LifeTime.Applications, fixture.Application{
				Key: a.Key, Name: a.Name, Kind: "WebResponsive", Team: "Bench", Description: "Benchmark library " + a.ID,
				URLPath: strings.ReplaceAll(a.Name, " ", ""), Modules: []string{module},
				Versions:     []fixture.Version{{Key: key("version/" + a.ID + "/1.0.0"), Version: "1.0.0", ChangeLog: "First version.", CreatedOn: created}},
				Environments: map[string]fixture.Deployment{fixtureEnvName: {Version: "1.0.0"}},
			})
		}
	}
	if err := f.Validate(); err != nil {
		return fmt.Errorf("generated fixture: %w", err)
	}
	data, err := json.MarshalIndent(&f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// --- configurations ---

const ourHeader = `terraform {
  required_providers {
    outsystems = {
      source = "seed-1be1de96/outsystems"
    }
  }
}

`

// shaped turns a configuration of ours into the same configuration on the
// same-schema no-op provider (tools/bench/shapedprovider): only the source
// changes.
func shaped(config string) string {
	return strings.Replace(config, `source = "seed-1be1de96/outsystems"`, `source = "bench/outsystems"`, 1)
}

// ourProvider is the provider block: settings from the sandbox's exports,
// ODC pacing as given (0 turns it off).
func ourProvider(odcPerMinute int) string {
	return fmt.Sprintf("provider \"outsystems\" {\n  odc = {\n    requests_per_minute = %d\n  }\n}\n\n", odcPerMinute)
}

func hclMap(name string, apps []benchApp) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %s = {\n", name)
	for _, a := range apps {
		fmt.Fprintf(&b, "    %q = { name = %q, key = %q, type = %q }\n", a.ID, a.Name, a.Key, a.assetType())
	}
	b.WriteString("  }\n")
	return b.String()
}

func releasedIDs(apps []benchApp, released int) []string {
	ids := make([]string, 0, released)
	for _, a := range apps[:released] {
		if a.Web {
			panic("bench: a web app cannot be released")
		}
		ids = append(ids, a.ID)
	}
	return ids
}

func hclSet(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = fmt.Sprintf("%q", v)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// migrationWave is the HCL of one migration wave over the apps of local.<set>:
// a mapping and a tag per app, one code migration, a publication per asset,
// and a release for the ids in local.<set>_released (omitted when
// withReleases is false). Resource names are suffixed with sfx.
func migrationWave(set, sfx string, withReleases bool) string {
	s := fmt.Sprintf(`resource "outsystems_app_mapping" "%[2]s" {
  for_each             = local.%[1]s
  name                 = each.value.name
  asset_type           = each.value.type
  o11_application_keys = [each.value.key]
}

resource "outsystems_lifetime_tag" "%[2]s" {
  for_each        = local.%[1]s
  environment_key = local.env
  application_key = each.value.key
  change_log      = "Ready for ODC"
  depends_on      = [outsystems_app_mapping.%[2]s]
}

resource "outsystems_code_migration" "%[2]s" {
  source_environment_key = local.env
  mapping_ids            = [for m in outsystems_app_mapping.%[2]s : m.id]
  depends_on             = [outsystems_lifetime_tag.%[2]s]
}

# As examples/complete does: the migration's assets through a local, which
# Terraform evaluates once (a reference to the resource itself in every
# publication costs Terraform core a decode of the whole map each).
locals {
  %[2]s_assets = outsystems_code_migration.%[2]s.assets
}

resource "outsystems_asset_publication" "%[2]s" {
  for_each  = local.%[1]s
  asset_key = local.%[2]s_assets[each.value.name].asset_key
  revision  = local.%[2]s_assets[each.value.name].revision
  stage_key = local.stage
}

`, set, sfx)
	if withReleases {
		s += fmt.Sprintf(`resource "outsystems_library_release" "%[2]s" {
  for_each        = local.%[1]s_released
  asset_key       = outsystems_asset_publication.%[2]s[each.key].asset_key
  revision        = outsystems_asset_publication.%[2]s[each.key].revision
  version         = "1.0.0"
  release_notes   = "First release after the migration from O11."
  keep_on_destroy = true
}

`, set, sfx)
	}
	return s
}

func locals(body string) string {
	return fmt.Sprintf("locals {\n  env   = %q\n  stage = %q\n%s}\n\n", fixtureEnvKey, fixtureStageKey, body)
}

// p1Config is the refresh benchmark's configuration: for A apps, A mappings,
// A tags, one code migration, A publications and releases of the first
// `released` apps (libraries).
func p1Config(apps []benchApp, released int) string {
	ids := releasedIDs(apps, released)
	return ourHeader + ourProvider(0) + locals(hclMap("apps", apps)+"  apps_released = toset("+hclSet(ids)+")\n") + migrationWave("apps", "bench", true)
}

// auxConfig sets up P3 and P4 unpaced: the paced group migrated and
// published (not released), the timing group mapped and tagged.
func auxConfig(g appGroups) string {
	return ourHeader + ourProvider(0) + locals(hclMap("paced", g.Paced)+hclMap("timing", g.Timing)) + migrationWave("paced", "paced", false) +
		`resource "outsystems_app_mapping" "timing" {
  for_each             = local.timing
  name                 = each.value.name
  asset_type           = each.value.type
  o11_application_keys = [each.value.key]
}

resource "outsystems_lifetime_tag" "timing" {
  for_each        = local.timing
  environment_key = local.env
  application_key = each.value.key
  change_log      = "Ready for ODC"
  depends_on      = [outsystems_app_mapping.timing]
}
`
}

// pacedConfig releases published library revisions with the provider paced
// at perMinute ODC requests.
func pacedConfig(libs map[string]revisionRef, perMinute int) string {
	var b strings.Builder
	b.WriteString(ourHeader + ourProvider(perMinute) + "locals {\n  libs = {\n")
	for _, id := range sortedKeys(libs) {
		fmt.Fprintf(&b, "    %q = { asset_key = %q, revision = %d }\n", id, libs[id].AssetKey, libs[id].Revision)
	}
	b.WriteString("  }\n}\n\n")
	b.WriteString(`resource "outsystems_library_release" "paced" {
  for_each        = local.libs
  asset_key       = each.value.asset_key
  revision        = each.value.revision
  version         = "1.0.0"
  release_notes   = "First release after the migration from O11."
  keep_on_destroy = true
}
`)
	return b.String()
}

type revisionRef struct {
	AssetKey string
	Revision int
}

// timingConfig is one code migration of one mapping.
func timingConfig(mappingID string) string {
	return ourHeader + ourProvider(0) + fmt.Sprintf(`resource "outsystems_code_migration" "timed" {
  source_environment_key = %q
  mapping_ids            = [%q]
}
`, fixtureEnvKey, mappingID)
}

// longMigrationConfig maps and tags one app and migrates it, on a sandbox
// of its own.
func longMigrationConfig(app benchApp) string {
	return ourHeader + ourProvider(0) + locals(hclMap("apps", []benchApp{app})) + `resource "outsystems_app_mapping" "long" {
  for_each             = local.apps
  name                 = each.value.name
  asset_type           = each.value.type
  o11_application_keys = [each.value.key]
}

resource "outsystems_lifetime_tag" "long" {
  for_each        = local.apps
  environment_key = local.env
  application_key = each.value.key
  change_log      = "Ready for ODC"
  depends_on      = [outsystems_app_mapping.long]
}

resource "outsystems_code_migration" "long" {
  source_environment_key = local.env
  mapping_ids            = [for m in outsystems_app_mapping.long : m.id]
  depends_on             = [outsystems_lifetime_tag.long]
}
`
}

// dataSourcesConfig reads one LifeTime environment, one ODC stage, the
// readiness of the given mappings and `apps` O11 applications by name.
func dataSourcesConfig(apps []benchApp, mappingIDs []string) string {
	names := make([]string, len(apps))
	for i, a := range apps {
		names[i] = a.Name
	}
	return ourHeader + ourProvider(0) + fmt.Sprintf(`data "outsystems_lifetime_environment" "dev" {
  name = %q
}

data "outsystems_odc_stage" "dev" {
  purpose = "Development"
}

data "outsystems_lifetime_application" "app" {
  for_each = toset(%s)
  name     = each.value
}

data "outsystems_migration_readiness" "wave" {
  mapping_ids = %s
}
`, fixtureEnvName, hclSet(names), hclSet(mappingIDs))
}

// floorConfig is the shape of p1Config — the same locals, the same
// for_each blocks over them, the same chain of references (tags after
// mappings, the migration over the mappings' ids, publications reading the
// migration, releases reading the publications) — with each resource
// replaced by a resource that does nothing: noop_thing (the plugin-protocol
// floor) or terraform_data (Terraform core's floor). Terraform core's own
// cost depends on that shape (for_each over a local costs several times
// what count does), so only the resources differ between ours and the floors.
func floorConfig(typ string, apps []benchApp, released int) string {
	attr, header := "name", `terraform {
  required_providers {
    noop = {
      source = "bench/noop"
    }
  }
}

`
	if typ == "terraform_data" {
		attr, header = "input", ""
	}
	ids := releasedIDs(apps, released)
	return header + locals(hclMap("apps", apps)+"  apps_released = toset("+hclSet(ids)+")\n") + fmt.Sprintf(`resource "%[1]s" "mapping" {
  for_each = local.apps
  %[2]s = each.value.name
}

resource "%[1]s" "tag" {
  for_each   = local.apps
  %[2]s = "${local.env}/${each.value.key}"
  depends_on = [%[1]s.mapping]
}

resource "%[1]s" "migration" {
  %[2]s = "migration of ${length([for m in %[1]s.mapping : m.id])} mappings"
  depends_on = [%[1]s.tag]
}

locals {
  migration = %[1]s.migration.id
}

resource "%[1]s" "publication" {
  for_each = local.apps
  %[2]s = "${local.stage}/${local.migration}/${each.value.name}"
}

resource "%[1]s" "release" {
  for_each = local.apps_released
  %[2]s = %[1]s.publication[each.key].id
}
`, typ, attr)
}

// schemaConfig is a configuration with nothing but the provider, to time
// its schema load.
func schemaConfig(ours bool) string {
	if ours {
		return ourHeader + "provider \"outsystems\" {}\n"
	}
	return "terraform {\n  required_providers {\n    noop = {\n      source = \"bench/noop\"\n    }\n  }\n}\n\nprovider \"noop\" {}\n"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// typeConfig is a configuration of one resource type of P1, named as in
// p1Config so P1's state of that type matches it, with literal arguments
// instead of references to the other types: what a plan of that type alone
// costs. refs gives publications and releases their asset and revision.
func typeConfig(typ string, apps []benchApp, refs map[string]revisionRef) string {
	var body string
	switch typ {
	case "outsystems_app_mapping":
		body = `resource "outsystems_app_mapping" "bench" {
  for_each             = local.apps
  name                 = each.value.name
  asset_type           = each.value.type
  o11_application_keys = [each.value.key]
}
`
	case "outsystems_lifetime_tag":
		body = `resource "outsystems_lifetime_tag" "bench" {
  for_each        = local.apps
  environment_key = local.env
  application_key = each.value.key
  change_log      = "Ready for ODC"
}
`
	case "outsystems_asset_publication":
		body = `resource "outsystems_asset_publication" "bench" {
  for_each  = local.refs
  asset_key = each.value.asset_key
  revision  = each.value.revision
  stage_key = local.stage
}
`
	case "outsystems_library_release":
		body = `resource "outsystems_library_release" "bench" {
  for_each        = local.refs
  asset_key       = each.value.asset_key
  revision        = each.value.revision
  version         = "1.0.0"
  release_notes   = "First release after the migration from O11."
  keep_on_destroy = true
}
`
	}
	return ourHeader + ourProvider(0) + locals(hclMap("apps", apps)+hclRefs(refs)) + body
}

func hclRefs(refs map[string]revisionRef) string {
	var b strings.Builder
	b.WriteString("  refs = {\n")
	for _, id := range sortedKeys(refs) {
		fmt.Fprintf(&b, "    %q = { asset_key = %q, revision = %d }\n", id, refs[id].AssetKey, refs[id].Revision)
	}
	b.WriteString("  }\n")
	return b.String()
}

// noopTypeConfig is n no-op resources over the same locals.
func noopTypeConfig(apps []benchApp) string {
	return `terraform {
  required_providers {
    noop = {
      source = "bench/noop"
    }
  }
}

` + locals(hclMap("apps", apps)) + `resource "noop_thing" "x" {
  for_each = local.apps
  name     = each.value.name
}
`
}
