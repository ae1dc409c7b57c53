package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// TestAccBadInput runs invalid configurations across the provider block and
// every resource and data source. Each must fail with an error that names
// the attribute or value and says what to do — at plan time (PlanOnly)
// wherever the value is known then; the few that can only be known by
// acting fail at apply.
func TestAccBadInput(t *testing.T) {
	e := newTestEnv(t)
	dev, prod := e.envKey("Development"), e.envKey("Production")
	portal := e.appKey("Customer Portal")
	stage := e.stageKey("Development")
	const guid = "0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"
	p := e.providerConfig()
	ds := `data "outsystems_lifetime_environment" "dev" { name = "Development" }`
	providerBlock := func(body string) string { return "provider \"outsystems\" {\n" + body + "\n}\n" }
	tag := func(env, app, extra string) string {
		return p + fmt.Sprintf(`
resource "outsystems_lifetime_tag" "bad" {
  environment_key = %q
  application_key = %q
  %s
}`, env, app, extra)
	}
	mapping := func(name, assetType, keys, extra string) string {
		return p + fmt.Sprintf(`
resource "outsystems_app_mapping" "bad" {
  name                 = %q
  asset_type           = %q
  o11_application_keys = %s
  %s
}`, name, assetType, keys, extra)
	}
	migration := func(env, ids string) string {
		return p + fmt.Sprintf(`
resource "outsystems_code_migration" "bad" {
  source_environment_key = %q
  mapping_ids            = %s
}`, env, ids)
	}
	publication := func(asset, revision, stageKey string) string {
		return p + fmt.Sprintf(`
resource "outsystems_asset_publication" "bad" {
  asset_key = %q
  revision  = %s
  stage_key = %q
}`, asset, revision, stageKey)
	}
	release := func(asset, revision, version string) string {
		return p + fmt.Sprintf(`
resource "outsystems_library_release" "bad" {
  asset_key = %q
  revision  = %s
  version   = %q
}`, asset, revision, version)
	}
	lifeTimeOnly := providerBlock(fmt.Sprintf(`lifetime = { url = %q, token = %q }`, e.url, e.token(fixture.RoleAdministrator)))

	cases := []struct {
		name   string
		config string
		apply  bool // the error can only show at apply
		want   string
	}{
		// The provider block.
		{"lifetime plain http off loopback", providerBlock(`lifetime = { url = "http://lifetime.example.com", token = "x" }`) + ds, false, `Invalid LifeTime URL.*plain http://.*not loopback`},
		{"lifetime url not absolute", providerBlock(`lifetime = { url = "lifetime.example.com", token = "x" }`) + ds, false, `Invalid LifeTime URL.*must start with https://`},
		{"lifetime url with credentials", providerBlock(`lifetime = { url = "https://me:pw@lifetime.example.com", token = "x" }`) + ds, false, `Invalid LifeTime URL.*must not carry credentials`},
		{"lifetime url without token", providerBlock(`lifetime = { url = "https://lifetime.example.com" }`) + ds, false, `Missing LifeTime Token.*lifetime.token.*` + EnvLifeTimeToken},
		{"lifetime token without url", providerBlock(`lifetime = { token = "x" }`) + ds, false, `Missing LifeTime URL.*lifetime.url.*` + EnvLifeTimeURL},
		{"max_retries out of range", providerBlock(`max_retries = 99`) + ds, false, `max_retries.*between 0 and 20`},
		{"assessment plain http off loopback", providerBlock(`assessment = { url = "http://dev.example.com/MigrationAssessment", token = "x" }`) + ds, false, `Invalid Assessment Tool URL.*plain http://`},
		{"assessment url without any token", providerBlock(`assessment = { url = "https://dev.example.com/MigrationAssessment" }`) + ds, false, `Missing Assessment Tool Token.*assessment.token.*lifetime.token`},
		{"odc without secret", providerBlock(`odc = { portal_url = "https://acme.outsystems.dev", client_id = "x" }`) + ds, false, `Missing ODC Client Secret.*odc.client_secret.*` + EnvODCClientSecret},
		{"odc without portal url", providerBlock(`odc = { client_id = "x", client_secret = "y" }`) + ds, false, `Missing ODC Portal URL.*odc.portal_url.*` + EnvODCPortalURL},
		{"odc portal url not http", providerBlock(`odc = { portal_url = "ftp://acme", client_id = "x", client_secret = "y" }`) + ds, false, `Invalid ODC Portal URL.*must start with https://`},
		{"negative requests_per_minute", providerBlock(`odc = { portal_url = "https://acme.outsystems.dev", client_id = "x", client_secret = "y", requests_per_minute = -1 }`) + ds, false, `requests_per_minute.*between 0 and 100000`},
		// A service the configuration uses but did not configure.
		{"LifeTime not configured", providerBlock(``) + ds, false, `LifeTime API Not Configured.*lifetime.url.*` + EnvLifeTimeURL},
		{"assessment tool not configured", lifeTimeOnly + `
resource "outsystems_app_mapping" "bad" {
  name                 = "x"
  asset_type           = "web_app"
  o11_application_keys = ["` + portal + `"]
}`, false, `Assessment Tool Not Configured.*assessment.url.*` + EnvAssessmentURL},
		{"ODC not configured for a publication", lifeTimeOnly + fmt.Sprintf(`
resource "outsystems_asset_publication" "bad" {
  asset_key = %q
  revision  = 1
  stage_key = %q
}`, guid, stage), false, `ODC API Not Configured.*odc.portal_url.*odc.client_id.*odc.client_secret`},
		{"ODC not configured for a stage look-up", lifeTimeOnly + `data "outsystems_odc_stage" "x" { name = "QA" }`, false, `ODC API Not Configured`},
		// outsystems_lifetime_tag
		{"tag: malformed application key", tag(dev, "not-a-guid", ""), false, `application_key.*must be the O11 application key: a GUID`},
		{"tag: malformed environment key", tag("1234", portal, ""), false, `environment_key.*must be the LifeTime environment key: a GUID`},
		{"tag: version with letters", tag(dev, portal, `version = "v1.2"`), false, `version.*must be 1 to 4 dot-separated numbers`},
		{"tag: version with five parts", tag(dev, portal, `version = "1.2.3.4.5"`), false, `version.*must be 1 to 4 dot-separated numbers`},
		{"tag: version already used", tag(dev, portal, `version = "1.1.0"`), false, `Version Already Used.*"Customer Portal" already has a version "1\.1\.0".*Set .version. to a version that was not used before`},
		{"tag: unknown mobile platform", tag(dev, portal, `mobile_versions = [{ platform = "Windows", version_number = "1" }]`), false, `platform.*value must be one of`},
		{"tag: mobile platform twice", tag(dev, portal, `mobile_versions = [{ platform = "iOS", version_number = "1" }, { platform = "iOS", version_number = "2" }]`), false, `Duplicate Mobile Platform.*"iOS" more than once`},
		{"tag: three mobile versions", tag(dev, portal, `mobile_versions = [{ platform = "iOS", version_number = "1" }, { platform = "Android", version_number = "1" }, { platform = "Android", version_number = "2" }]`), false, `mobile_versions.*list must contain at most 2 elements`},
		{"tag: change log too long", tag(dev, portal, `change_log = "`+strings.Repeat("x", 2001)+`"`), false, `change_log.*string length must be at most 2000`},
		{"tag: app not in the environment", tag(prod, e.appKey("Sandbox Playground"), ""), false, `Application Not Found In Environment.*running in environment`},
		{"tag: wrong token", e.providerConfigWithToken("lt-wrong-token") + tag(dev, portal, "")[len(p):], false, `LifeTime did not accept the service account token.*lifetime.token.*401`},
		{"tag: read-only service account", e.providerConfigWithToken(e.token(fixture.RoleReadOnly)) + tag(dev, portal, `version = "7.0.0"`)[len(p):], true, `Failed To Tag The Application.*lack a permission.*403.*auditor`},
		// outsystems_app_mapping
		{"mapping: no apps", mapping("x", "web_app", `[]`, ""), false, `o11_application_keys.*set must contain at least 1 elements`},
		{"mapping: unknown asset type", mapping("x", "service", fmt.Sprintf("[%q]", portal), ""), false, `asset_type.*value must be one of`},
		{"mapping: app key not a GUID", mapping("x", "web_app", `["customer-portal"]`, ""), false, `must be the O11 application key: a GUID`},
		{"mapping: empty name", mapping("", "web_app", fmt.Sprintf("[%q]", portal), ""), false, `name.*string length must be between 1 and 100`},
		{"mapping: description too long", mapping("x", "web_app", fmt.Sprintf("[%q]", portal), `description = "`+strings.Repeat("d", 501)+`"`), false, `description.*string length must be at most 500`},
		{"mapping: library from a non-library app", mapping("x", "library", fmt.Sprintf("[%q]", portal), ""), false, `Library Needs Library-Only Apps.*"Customer Portal"`},
		{"mapping: unknown app", mapping("x", "web_app", fmt.Sprintf("[%q]", guid), ""), false, `Unknown O11 Applications.*` + guid},
		// data.outsystems_migration_readiness
		{"readiness: mapping id not a GUID", p + `data "outsystems_migration_readiness" "x" { mapping_ids = ["wave-1"] }`, false, `mapping_ids.*must be the mapping id: a GUID`},
		{"readiness: unknown mapping", p + fmt.Sprintf(`data "outsystems_migration_readiness" "x" { mapping_ids = [%q] }`, guid), false, `Unknown Mappings.*` + guid},
		// outsystems_code_migration
		{"migration: malformed environment key", migration("dev", fmt.Sprintf("[%q]", guid)), false, `source_environment_key.*must be the LifeTime environment key: a GUID`},
		{"migration: no mappings", migration(dev, `[]`), false, `mapping_ids.*set must contain at least 1 elements`},
		{"migration: mapping id not a GUID", migration(dev, `["portal"]`), false, `mapping_ids.*must be the mapping id: a GUID`},
		{"migration: unknown mapping", migration(dev, fmt.Sprintf("[%q]", guid)), false, `Unknown Mappings.*` + guid},
		// outsystems_asset_publication
		{"publication: malformed asset key", publication("asset", "1", stage), false, `asset_key.*must be the ODC asset key: a GUID`},
		{"publication: revision 0", publication(guid, "0", stage), false, `revision.*value must be at least 1`},
		{"publication: malformed stage key", publication(guid, "1", "Development"), false, `stage_key.*must be the ODC stage key: a GUID`},
		// outsystems_library_release
		{"release: version not Major.Minor.Patch", release(guid, "1", "1.0"), false, `version.*must be Major\.Minor\.Patch`},
		{"release: version with a leading zero", release(guid, "1", "01.0.0"), false, `version.*must be Major\.Minor\.Patch`},
		{"release: negative revision", release(guid, "-1", "1.0.0"), false, `revision.*value must be at least 1`},
		{"release: malformed asset key", release("lib", "1", "1.0.0"), false, `asset_key.*must be the ODC asset key: a GUID`},
		// LifeTime and ODC look-ups
		{"application: both key and name", p + fmt.Sprintf(`
data "outsystems_lifetime_application" "x" {
  name = "Customer Portal"
  key  = %q
}`, portal), false, `Invalid Attribute Combination.*key.*name`},
		{"application: neither key nor name", p + `data "outsystems_lifetime_application" "x" {}`, false, `Missing Attribute Configuration`},
		{"application: unknown name", p + `data "outsystems_lifetime_application" "x" { name = "Payroll" }`, false, `Application Not Found.*no application named "Payroll".*"Customer Portal"`},
		{"environment: empty name", p + `data "outsystems_lifetime_environment" "x" { name = "" }`, false, `name.*string length must be at least 1`},
		{"environment: unknown name", p + `data "outsystems_lifetime_environment" "x" { name = "Staging" }`, false, `Environment Not Found.*"Staging".*"Development", "Production", "Test"`},
		{"stage: unknown purpose", p + `data "outsystems_odc_stage" "x" { purpose = "Test" }`, false, `purpose.*value must be one of`},
		{"stage: name and purpose", p + `
data "outsystems_odc_stage" "x" {
  name    = "QA"
  purpose = "NonProduction"
}`, false, `Invalid Attribute Combination`},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d bad-input cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				CheckDestroy:             checkNothingCreated(e),
				Steps: []resource.TestStep{{
					Config:      tc.config,
					PlanOnly:    !tc.apply,
					ExpectError: regexpS(tc.want),
				}},
			})
		})
	}
}
