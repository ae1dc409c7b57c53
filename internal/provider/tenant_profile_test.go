package provider

// Acceptance tests on the sandbox's tenant profile: an organization as
// OutSystems runs it, with LifeTime, ODC and identity and no Migration Kit
// API. The kit's resources fail at plan time with one error saying what to
// do instead; what is built on the public APIs works.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// noKitError matches the one error the kit's resources fail with on the
// tenant profile: what needs the kit, the request made and the 404 seen,
// and what to do instead.
func noKitError(e *testEnv, kind string) *regexp.Regexp {
	return regexpS(`No Migration Kit API.*exposes no Migration Kit API.*` + regexp.QuoteMeta(kind) + `.*assessment tool.*GET ` +
		regexp.QuoteMeta(e.assessmentURL()+"/api/v1/mappings?limit=1&offset=0") + `.*404 Not Found.*not the kit's own error.*` +
		`ODC portal.*outsystems_odc_assets.*outsystems_asset_publication.*Migrating with the portal, publishing with Terraform`)
}

func TestAccTenantProfile_appMappingFailsAtPlan(t *testing.T) {
	e := newTestEnvTenant(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{{
			Config: e.providerConfig() + fmt.Sprintf(`
resource "outsystems_app_mapping" "test" {
  name                 = "Customer Portal"
  asset_type           = "web_app"
  o11_application_keys = [%q]
}`, e.appKey("Customer Portal")),
			PlanOnly:    true,
			ExpectError: noKitError(e, "outsystems_app_mapping"),
		}},
	})
}

func TestAccTenantProfile_codeMigrationFailsAtPlan(t *testing.T) {
	e := newTestEnvTenant(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{{
			Config: e.providerConfig() + fmt.Sprintf(`
resource "outsystems_code_migration" "test" {
  source_environment_key = %q
  mapping_ids            = ["5d0c8a52-3f4e-4b8a-9a43-0f2d9f1c7e11"]
}`, e.envKey("Development")),
			PlanOnly:    true,
			ExpectError: noKitError(e, "outsystems_code_migration"),
		}},
	})
}

func TestAccTenantProfile_migrationReadinessFailsAtPlan(t *testing.T) {
	e := newTestEnvTenant(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{{
			Config:      e.providerConfig() + `data "outsystems_migration_readiness" "test" {}`,
			PlanOnly:    true,
			ExpectError: noKitError(e, "data.outsystems_migration_readiness"),
		}},
	})
}

// requestLog collects the sandbox's request log lines (method, path, status).
type requestLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *requestLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *requestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// What is built on OutSystems' public APIs (LifeTime tags and look-ups, ODC
// stages) works on the tenant profile, and never probes for the kit.
func TestAccTenantProfile_publicAPIsWork(t *testing.T) {
	requests := &requestLog{}
	e := newTestEnvOpts(t, withoutMigrationKit, func(o *sandbox.Options) { o.Logger = log.New(requests, "", 0) })
	const tag = "outsystems_lifetime_tag.test"
	config := e.providerConfig() + `
data "outsystems_lifetime_environment" "dev" { name = "Development" }
data "outsystems_lifetime_application" "portal" { name = "Customer Portal" }
data "outsystems_odc_stage" "qa" { name = "QA" }

resource "outsystems_lifetime_tag" "test" {
  environment_key = data.outsystems_lifetime_environment.dev.key
  application_key = data.outsystems_lifetime_application.portal.key
  version         = "9.1.0"
  change_log      = "Tagged on a real tenant"
}
`
	var id string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkTagsDestroyed(e),
			func(*terraform.State) error {
				for _, line := range strings.Split(requests.String(), "\n") {
					if strings.Contains(line, "/MigrationAssessment/") || strings.Contains(line, "/ConversionAssessment/") ||
						strings.Contains(line, client.CodeMigrationAPIPrefix) {
						return fmt.Errorf("a resource built on public APIs called the Migration Kit: %q", line)
					}
				}
				return nil
			},
		),
		Steps: []resource.TestStep{
			{ // create
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.outsystems_lifetime_environment.dev", tfjsonpath.New("key"), knownvalue.StringExact(e.envKey("Development"))),
					statecheck.ExpectKnownValue("data.outsystems_lifetime_application.portal", tfjsonpath.New("key"), knownvalue.StringExact(e.appKey("Customer Portal"))),
					statecheck.ExpectKnownValue("data.outsystems_odc_stage.qa", tfjsonpath.New("key"), knownvalue.StringExact(e.stageKey("QA"))),
					statecheck.ExpectKnownValue(tag, tfjsonpath.New("version"), knownvalue.StringExact("9.1.0")),
					statecheck.ExpectKnownValue(tag, tfjsonpath.New("application_name"), knownvalue.StringExact("Customer Portal")),
				},
				Check: resource.ComposeAggregateTestCheckFunc(captureID(tag, &id), e.checkRunning("Customer Portal", &id)),
			},
			{ // import by <application_key>/<version_key>
				ResourceName:      tag,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					return e.appKey("Customer Portal") + "/" + s.RootModule().Resources[tag].Primary.ID, nil
				},
			},
			{ // nothing to change
				Config:   config,
				PlanOnly: true,
			},
		},
	})
}

// requireMigrationKit probes each API once per provider process: with an
// assessment tool that answers and an ODC portal without the code-migration
// API, the code migration fails on the portal's 404, and a second check
// asks nothing again.
func TestRequireMigrationKitProbesOncePerProcess(t *testing.T) {
	ctx := context.Background()
	start := func(without bool) (*sandbox.Sandbox, string) {
		sb, err := sandbox.New(sandbox.Options{DBPath: filepath.Join(t.TempDir(), "sb.db"), WithoutMigrationKit: without})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sb.Close() })
		url, err := sb.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return sb, url
	}
	full, fullURL := start(false)
	tenant, tenantURL := start(true)
	var token string
	for _, sa := range full.Fixture().LifeTime.ServiceAccounts {
		if sa.Role == fixture.RoleAdministrator {
			token = sa.Token
		}
	}
	as, err := client.NewAssessment(client.Config{BaseURL: fullURL + "/MigrationAssessment", MaxRetries: 0}, token)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := tenant.Fixture().ODC.Client("migration-pipeline")
	odc, err := client.NewODC(client.Config{BaseURL: tenantURL, MaxRetries: 0}, c.ClientID, c.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	d := &providerData{assessment: as, odc: odc}

	var diags diag.Diagnostics
	if !d.requireMigrationKit(ctx, &diags, "data.outsystems_migration_readiness", false) || diags.HasError() {
		t.Fatalf("the assessment tool answers, yet requireMigrationKit failed: %v", diags)
	}
	if d.requireMigrationKit(ctx, &diags, "outsystems_code_migration", true) || diags.ErrorsCount() != 1 {
		t.Fatalf("the portal has no code-migration API, yet requireMigrationKit = true with %v", diags)
	}
	detail := diags.Errors()[0].Detail()
	want := "GET " + tenantURL + client.CodeMigrationAPIPrefix + "/code-migrations?limit=1"
	for _, s := range []string{"outsystems_code_migration", "code migration", want, "404 Not Found", portalMigrationDataSource, portalMigrationGuide} {
		if !strings.Contains(detail, s) {
			t.Errorf("error %q does not say %q", detail, s)
		}
	}

	assessmentCalls := full.RequestStats().ByFamily[sandbox.FamilyAssessment].Requests
	odcCalls := tenant.RequestStats().ByFamily[sandbox.FamilyODC].Requests
	diags = nil
	if d.requireMigrationKit(ctx, &diags, "outsystems_code_migration", true) || diags.ErrorsCount() != 1 {
		t.Errorf("second check = %v, want the same one error", diags)
	}
	if got := full.RequestStats().ByFamily[sandbox.FamilyAssessment].Requests; got != assessmentCalls {
		t.Errorf("the second check probed the assessment tool again (%d requests, was %d)", got, assessmentCalls)
	}
	if got := tenant.RequestStats().ByFamily[sandbox.FamilyODC].Requests; got != odcCalls {
		t.Errorf("the second check probed the ODC portal again (%d requests, was %d)", got, odcCalls)
	}

	// Any other failure is reported as it is, each time: it is no "no kit".
	_ = full.Close()
	d = &providerData{assessment: as, odc: odc}
	for range 2 {
		diags = nil
		if d.requireMigrationKit(ctx, &diags, "outsystems_app_mapping", false) || diags.ErrorsCount() != 1 ||
			diags.Errors()[0].Summary() != "Failed To Reach The Migration Kit" {
			t.Errorf("with the assessment tool down: %v, want one \"Failed To Reach The Migration Kit\" error", diags)
		}
	}
	var noKit *client.NoMigrationKitError
	if err := as.ProbeMigrationKit(ctx); err == nil || errors.As(err, &noKit) {
		t.Errorf("ProbeMigrationKit with the tool down = %v, want a transport error", err)
	}
}
