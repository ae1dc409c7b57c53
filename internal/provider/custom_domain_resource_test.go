package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// The environment configurations API takes 10 requests a minute; at that
// rate a domain test would wait 6 s a call. These tests shrink the minute:
// the sandbox counts its limits in testRateWindow and enforces them
// (RateLimit set, so a 429 would show in its counters), and the provider
// paces in a window 10 % longer. At the real scale the client's 2 % margin
// is 120 ms a call; at this scale it would be 6 ms, less than the jitter of
// a loaded test machine, so the test keeps a margin of the real size.
const (
	testRateWindow       = 3 * time.Second
	testClientRateWindow = testRateWindow + testRateWindow/10
)

var shortWindowProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"outsystems": providerserver.NewProtocol6WithError(&outsystemsProvider{version: "test", rateWindow: testClientRateWindow}),
}

// withShortRateWindow makes the sandbox enforce ODC's limits in
// testRateWindow.
func withShortRateWindow(o *sandbox.Options) {
	o.RateLimit = 100
	o.RateWindow = testRateWindow
}

// checkDomainsDestroyed: destroy removes every custom domain of the state,
// so QA has none but those listed.
func checkDomainsDestroyed(e *testEnv, keep ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		hosts, err := e.sb.CustomDomains(context.Background(), e.stageKey("QA"))
		if err != nil {
			return err
		}
		var left []string
		for _, h := range hosts {
			if !strings.Contains(strings.Join(keep, ","), h) {
				left = append(left, h)
			}
		}
		if len(left) > 0 {
			return fmt.Errorf("custom domains left in QA after destroy: %v", left)
		}
		return nil
	}
}

// noThrottling fails when the sandbox answered any ODC call 429.
func noThrottling(e *testEnv) error {
	if n := e.sb.RequestStats().ByFamily[sandbox.FamilyODC].Throttled; n > 0 {
		return fmt.Errorf("the sandbox answered %d ODC calls 429 Too Many Requests; the provider must pace them", n)
	}
	return nil
}

// deployedApp seeds an app and publishes it to QA, where a domain may open it.
func (e *testEnv) deployedApp(name string) string {
	e.t.Helper()
	key := sqldb.DerivedKey("custom-domain-test", name)
	if err := e.sb.SeedODCAsset(odc.MigratedAsset{Key: key, Name: name, AssetType: odc.AssetTypeWebApp}); err != nil {
		e.t.Fatal(err)
	}
	c := e.odcClient()
	op, err := c.StartPublish(context.Background(), key, 1, e.stageKey("QA"))
	for deadline := time.Now().Add(10 * time.Second); err == nil && !op.Done() && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		op, err = c.GetPublishOperation(context.Background(), op.Key)
	}
	if err != nil || !op.Succeeded() {
		e.t.Fatalf("publishing %s to QA: %+v %v", name, op, err)
	}
	return key
}

func TestAccCustomDomain(t *testing.T) {
	testAccCustomDomain(t, newTestEnvOpts(t, withShortRateWindow))
}

func TestAccCustomDomain_tenant(t *testing.T) {
	testAccCustomDomain(t, newTestEnvOpts(t, withShortRateWindow, withoutMigrationKit))
}

// testAccCustomDomain: create, import by hostname, update (default app,
// redirect), an out-of-band change the plan shows and the apply undoes, a
// bad hostname refused at plan time, no 429 throughout.
func testAccCustomDomain(t *testing.T, e *testEnv) {
	const addr = "outsystems_custom_domain.portal"
	qa := e.stageKey("QA")
	app := e.deployedApp("Customer Portal")
	domain := func(extra string) string {
		return e.providerConfig() + fmt.Sprintf(`
resource "outsystems_custom_domain" "portal" {
  stage_key = %q
  hostname  = "portal.example.com"
  name      = "Customer portal"
%s
}
`, qa, extra)
	}
	var domainKey string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: shortWindowProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(checkDomainsDestroyed(e),
			func(*terraform.State) error { return noThrottling(e) }),
		Steps: []resource.TestStep{
			{
				Config: domain(`  redirect_option = "Temporary"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact("Customer portal")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("redirect_option"), knownvalue.StringExact("Temporary")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("default_app_key"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("cname_value"), nonEmptyString()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("domain_key"), nonEmptyString()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("is_default"), knownvalue.Bool(false)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrWith(addr, "domain_key", func(v string) error { domainKey = v; return nil }),
					func(*terraform.State) error {
						hosts, err := e.sb.CustomDomains(context.Background(), qa)
						if err != nil {
							return err
						}
						if strings.Join(hosts, ",") != "portal.example.com" {
							return fmt.Errorf("QA's domains = %v, want portal.example.com", hosts)
						}
						return nil
					}),
			},
			{
				ResourceName: addr, ImportState: true, ImportStateId: qa + "/portal.example.com", ImportStateVerify: true,
				// The certificate moves on by itself (Creating, then
				// PendingValidation) between the apply and the import.
				ImportStateVerifyIgnore: []string{"certificate_status", "certificate_validation_cname_name", "certificate_validation_cname_value"},
			},
			{
				Config:      domain(`  default_app_key = "not-a-key"`),
				ExpectError: regexpS(`default_app_key`),
			},
			{
				Config:      strings.Replace(domain(""), "portal.example.com", "Portal.Example.com", 1),
				ExpectError: regexpS(`Invalid Hostname.*"Portal.Example.com" has upper-case letters: write it in lower case`),
			},
			{
				Config: domain(fmt.Sprintf("  default_app_key = %q\n  redirect_option = \"None\"", app)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("default_app_key"), knownvalue.StringExact(app)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("redirect_option"), knownvalue.StringExact("None")),
				},
			},
			{
				PreConfig: func() {
					if _, err := e.odcClient().UpdateDomain(context.Background(), qa, domainKey, "", client.RedirectPermanent); err != nil {
						t.Fatal(err)
					}
				},
				Config: domain(fmt.Sprintf("  default_app_key = %q\n  redirect_option = \"None\"", app)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("redirect_option"), knownvalue.StringExact("None")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("default_app_key"), knownvalue.StringExact(app)),
				},
			},
		},
	})
}

// TestAccCustomDomain_manyDomainsArePaced: twelve domains, more than the
// environment configurations API takes in a window, apply, refresh and
// destroy without one 429: the provider paces the pool, and a refresh
// lists the stage's domains instead of reading each one.
func TestAccCustomDomain_manyDomainsArePaced(t *testing.T) {
	e := newTestEnvOpts(t, withShortRateWindow)
	const n = 12
	config := e.providerConfig() + fmt.Sprintf(`
resource "outsystems_custom_domain" "many" {
  count     = %d
  stage_key = %q
  hostname  = "app${count.index}.example.com"
}
`, n, e.stageKey("QA"))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: shortWindowProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(checkDomainsDestroyed(e),
			func(*terraform.State) error { return noThrottling(e) }),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("outsystems_custom_domain.many[11]", tfjsonpath.New("name"), knownvalue.StringExact("app11.example.com")),
				},
				Check: func(*terraform.State) error {
					hosts, err := e.sb.CustomDomains(context.Background(), e.stageKey("QA"))
					if err != nil {
						return err
					}
					if len(hosts) != n {
						return fmt.Errorf("QA has %d custom domains, want %d: %v", len(hosts), n, hosts)
					}
					return errors.Join(noThrottling(e))
				},
			},
		},
	})
}
