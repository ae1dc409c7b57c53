package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// testCodeAnalysisDuration is how long the sandbox's code analyses run in
// acceptance tests: short, but long enough that the provider waits.
const testCodeAnalysisDuration = 300 * time.Millisecond

// Migrated assets named after O11 applications: the fixture gives Claims
// Backoffice two critical findings (five in all) and Customer Core none.
const (
	cqClaimsKey = "5c0de0a1-0000-4000-8000-00000000c1a1"
	cqCleanKey  = "5c0de0a1-0000-4000-8000-00000000c0e1"
)

// newCodeQualityEnv is a sandbox with the two assets, its analyses short,
// and opts applied.
func newCodeQualityEnv(t *testing.T, opts ...func(*sandbox.Options)) *testEnv {
	t.Helper()
	e := newTestEnvOpts(t, append([]func(*sandbox.Options){func(o *sandbox.Options) { o.CodeAnalysisDuration = testCodeAnalysisDuration }}, opts...)...)
	for _, a := range []odc.MigratedAsset{
		{Key: cqClaimsKey, Name: "Claims Backoffice", AssetType: client.AssetTypeWebApplication},
		{Key: cqCleanKey, Name: "Customer Core", AssetType: client.AssetTypeLibrary},
	} {
		if err := e.sb.SeedODCAsset(a); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// codeQualityConfig reads both assets, each gated, when gated, by a
// postcondition on its critical findings; the clean one's critical count
// feeds a resource, so a change shows in the plan.
func codeQualityConfig(e *testEnv, gated bool) string {
	gate := func(name string) string {
		if !gated {
			return ""
		}
		return fmt.Sprintf(`
  lifecycle {
    postcondition {
      condition     = self.critical_findings == 0
      error_message = "%s revision 1 has ${self.critical_findings} critical code-quality findings: fix them before promoting it."
    }
  }`, name)
	}
	return unpaced(e.providerConfig()) + fmt.Sprintf(`
data "outsystems_code_quality" "claims" {
  asset_key = %q
  revision  = 1%s
}

data "outsystems_code_quality" "clean" {
  asset_key = %q
  revision  = 1%s
}

resource "terraform_data" "promotion" {
  input = data.outsystems_code_quality.clean.critical_findings
}
`, cqClaimsKey, gate("Claims Backoffice"), cqCleanKey, gate("Customer Core"))
}

// checkCodeQualityDestroy: the data source creates nothing destroy must
// remove (analyses stay in ODC, as in the portal), the assets it read are
// untouched, and nothing else was created (checkNothingCreated, but for the
// test's own terraform_data).
func checkCodeQualityDestroy(e *testEnv) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for _, m := range s.Modules {
			for addr := range m.Resources {
				if strings.HasPrefix(addr, "outsystems_") {
					return fmt.Errorf("%s was created", addr)
				}
			}
		}
		for _, key := range []string{cqClaimsKey, cqCleanKey} {
			a, err := e.odcClient().GetAsset(context.Background(), key)
			if err != nil {
				return fmt.Errorf("reading asset %s after destroy: %w", key, err)
			}
			if a.LatestRevision != 1 {
				return fmt.Errorf("asset %s after destroy: %+v, want its revision 1 untouched", key, a)
			}
		}
		return checkNothingCreated(e)(&terraform.State{})
	}
}

// unpaced is a provider block for the sandbox without the client's pace of
// POST /code-analyses (10 a minute, so a fresh provider waits 6 s before
// its first start): the limiter has tests of its own, and these stay short.
func unpaced(providerBlock string) string {
	out := strings.Replace(providerBlock, "  odc = {\n", "  odc = {\n    post_requests_per_minute = 0\n", 1)
	if out == providerBlock {
		panic("unpaced: no odc block in the provider configuration")
	}
	return out
}

func counts(kv map[string]int64) knownvalue.Check {
	m := map[string]knownvalue.Check{}
	for k, n := range kv {
		m[k] = knownvalue.Int64Exact(n)
	}
	return knownvalue.MapExact(m)
}

// TestAccCodeQualityDataSource: the first read starts the analyses and
// waits; the summary's counts and score land in state; a finding added out
// of band changes what the next plan shows; a postcondition on
// critical_findings stops the plan for the app with critical findings,
// with its message.
func TestAccCodeQualityDataSource(t *testing.T) {
	e := newCodeQualityEnv(t)
	const claims, clean = "data.outsystems_code_quality.claims", "data.outsystems_code_quality.clean"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkCodeQualityDestroy(e),
		Steps: []resource.TestStep{
			{
				// The gate on the app with critical findings stops the
				// plan with its message; the clean app's gate passes.
				Config:      codeQualityConfig(e, true),
				ExpectError: regexpS(`Resource postcondition failed.*Claims Backoffice revision 1 has 2 critical code-quality findings: fix them before promoting it`),
			},
			{
				Config: codeQualityConfig(e, false),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(claims, tfjsonpath.New("critical_findings"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(claims, tfjsonpath.New("total_findings"), knownvalue.Int64Exact(5)),
					statecheck.ExpectKnownValue(claims, tfjsonpath.New("score"), knownvalue.Float64Exact(59)),
					statecheck.ExpectKnownValue(claims, tfjsonpath.New("findings_by_severity"),
						counts(map[string]int64{"Critical": 2, "High": 1, "Medium": 1, "Low": 1})),
					statecheck.ExpectKnownValue(claims, tfjsonpath.New("findings_by_category"),
						counts(map[string]int64{"security": 2, "performance": 1, "architecture": 1, "maintainability": 1})),
					// The analyses the first step started exist: this read
					// started none.
					statecheck.ExpectKnownValue(claims, tfjsonpath.New("analysis_key"), knownvalue.Null()),
					statecheck.ExpectKnownValue(claims, tfjsonpath.New("analysis_status"), knownvalue.StringExact("Completed")),
					statecheck.ExpectKnownValue(claims, tfjsonpath.New("analysis_date"), knownvalue.StringExact(time.Now().UTC().Format(time.DateOnly))),
					statecheck.ExpectKnownValue(clean, tfjsonpath.New("critical_findings"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(clean, tfjsonpath.New("score"), knownvalue.Float64Exact(100)),
					statecheck.ExpectKnownValue(clean, tfjsonpath.New("findings_by_severity"),
						counts(map[string]int64{"Critical": 0, "High": 0, "Medium": 0, "Low": 0})),
					statecheck.ExpectKnownValue("terraform_data.promotion", tfjsonpath.New("output"), knownvalue.Int64Exact(0)),
				},
			},
			{
				// Out of band: ODC finds a critical finding in Customer
				// Core. The next plan carries the new count to the
				// resource that depends on it.
				PreConfig: func() {
					if _, err := e.sb.AddCodeFindings(cqCleanKey, 1, fixture.CodeFinding{PatternID: "SEC-NEW", Category: "security",
						Severity: "Critical", ElementName: "GetCustomer", ElementType: "ServerAction"}); err != nil {
						t.Fatal(err)
					}
				},
				Config: codeQualityConfig(e, false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("terraform_data.promotion", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("terraform_data.promotion", tfjsonpath.New("input"), knownvalue.Int64Exact(1)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clean, tfjsonpath.New("critical_findings"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(clean, tfjsonpath.New("score"), knownvalue.Float64Exact(85)),
				},
			},
		},
	})
}

// TestAccCodeQualityDataSourceTenant: on the tenant profile, as a real
// organization: an API client without the permission gets an error naming
// it; the read starts an analysis and waits; a finding added in ODC shows
// in the next plan as a change of what depends on the data source.
func TestAccCodeQualityDataSourceTenant(t *testing.T) {
	f := fixture.Default()
	for i := range f.ODC.APIClients {
		if c := &f.ODC.APIClients[i]; c.Name == "publisher-no-migrate" {
			c.Permissions = slices.DeleteFunc(c.Permissions, func(p string) bool { return p == fixture.PermissionViewCodeQuality })
		}
	}
	e := newCodeQualityEnv(t, withoutMigrationKit, func(o *sandbox.Options) { o.Fixture = f })
	config := func(providerBlock string) string {
		return unpaced(providerBlock) + fmt.Sprintf(`
data "outsystems_code_quality" "clean" {
  asset_key = %q
  revision  = 1
}

resource "terraform_data" "promotion" {
  input = data.outsystems_code_quality.clean.findings_by_severity["High"]
}
`, cqCleanKey)
	}
	const clean = "data.outsystems_code_quality.clean"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkCodeQualityDestroy(e),
		Steps: []resource.TestStep{
			{
				Config:      config(e.providerConfigWith(e.token(fixture.RoleAdministrator), "publisher-no-migrate")),
				ExpectError: regexpS(`Failed To Read The Code Quality Summary.*lack a permission.*'Analyze > View Code Quality findings'`),
			},
			{
				Config: config(e.providerConfig()),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clean, tfjsonpath.New("total_findings"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(clean, tfjsonpath.New("analysis_key"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue("terraform_data.promotion", tfjsonpath.New("output"), knownvalue.Int64Exact(0)),
				},
			},
			{
				PreConfig: func() {
					if _, err := e.sb.AddCodeFindings(cqCleanKey, 1, fixture.CodeFinding{PatternID: "PERF-NEW", Category: "performance",
						Severity: "High", ElementName: "ListOrders", ElementType: "Aggregate"}); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(e.providerConfig()),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("terraform_data.promotion", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("terraform_data.promotion", tfjsonpath.New("input"), knownvalue.Int64Exact(1)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(clean, tfjsonpath.New("score"), knownvalue.Float64Exact(93)),
					statecheck.ExpectKnownValue(clean, tfjsonpath.New("findings_by_category"),
						counts(map[string]int64{"security": 0, "performance": 1, "architecture": 0, "maintainability": 0})),
				},
			},
		},
	})
}

// TestAccCodeQualityDataSourceWaitTimesOut: an analysis longer than
// timeouts.read fails the read, naming the analysis, the revision and the
// last status, and saying what to do.
func TestAccCodeQualityDataSourceWaitTimesOut(t *testing.T) {
	e := newCodeQualityEnv(t, func(o *sandbox.Options) { o.CodeAnalysisDuration = time.Hour })
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkCodeQualityDestroy(e),
		Steps: []resource.TestStep{{
			Config: unpaced(e.providerConfig()) + fmt.Sprintf(`
data "outsystems_code_quality" "claims" {
  asset_key = %q
  revision  = 1
  timeouts  = { read = "4s" }
}
`, cqClaimsKey),
			ExpectError: regexpS(`Code Analysis Still Running.*timed out after .* waiting for code analysis [0-9a-f-]+ of revision 1 of asset ` +
				cqClaimsKey + `; the last status seen was "InProgress".*raise .timeouts.read.`),
		}},
	})
}
