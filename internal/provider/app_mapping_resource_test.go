package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

const mappingAddr = "outsystems_app_mapping.test"

// mappingConfig is one mapping of the named apps.
func (e *testEnv) mappingConfig(name, assetType, description string, apps ...string) string {
	keys := make([]string, len(apps))
	for i, a := range apps {
		keys[i] = fmt.Sprintf("%q", e.appKey(a))
	}
	desc := ""
	if description != "" {
		desc = fmt.Sprintf("description = %q", description)
	}
	return e.providerConfig() + fmt.Sprintf(`
resource "outsystems_app_mapping" "test" {
  name                 = %q
  asset_type           = %q
  o11_application_keys = [%s]
  %s
}
`, name, assetType, strings.Join(keys, ", "), desc)
}

func TestAccAppMapping_lifecycle(t *testing.T) {
	e := newTestEnv(t)
	var first, recreated string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkMappingsDestroyed(e),
			func(*terraform.State) error {
				switch _, err := e.as.GetMapping(context.Background(), recreated); {
				case err == nil:
					return fmt.Errorf("the mapping %s still exists after destroy", recreated)
				case !client.IsNotFound(err):
					return fmt.Errorf("reading the mapping %s after destroy: %w", recreated, err)
				}
				return nil
			},
		),
		Steps: []resource.TestStep{
			{ // create, waiting for the assessment
				Config: e.mappingConfig("Customer Portal", "web_app", "Customer-facing portal", "Customer Portal"),
				Check:  captureID(mappingAddr, &first),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mappingAddr, tfjsonpath.New("status"), knownvalue.StringExact("ReadyForOdc")),
					statecheck.ExpectKnownValue(mappingAddr, tfjsonpath.New("ready"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(mappingAddr, tfjsonpath.New("module_count"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(mappingAddr, tfjsonpath.New("o11_application_keys"), knownvalue.SetSizeExact(1)),
					statecheck.ExpectKnownValue(mappingAddr, tfjsonpath.New("description"), knownvalue.StringExact("Customer-facing portal")),
					statecheck.ExpectKnownValue(mappingAddr, tfjsonpath.New("consumes_mapping_ids"), knownvalue.SetSizeExact(0)),
				},
			},
			{
				ResourceName:      mappingAddr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{ // apps, name and description change in place, and a new assessment is awaited
				Config: e.mappingConfig("Customer Web", "web_app", "", "Customer Portal", "Broker Portal"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mappingAddr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.TestCheckResourceAttrPtr(mappingAddr, "id", &first),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mappingAddr, tfjsonpath.New("name"), knownvalue.StringExact("Customer Web")),
					statecheck.ExpectKnownValue(mappingAddr, tfjsonpath.New("module_count"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(mappingAddr, tfjsonpath.New("o11_application_keys"), knownvalue.SetSizeExact(2)),
					statecheck.ExpectKnownValue(mappingAddr, tfjsonpath.New("description"), knownvalue.Null()),
					statecheck.ExpectKnownValue(mappingAddr, tfjsonpath.New("status"), knownvalue.StringExact("ReadyForOdc")),
				},
			},
			{ // deleted out of band: the plan recreates it
				PreConfig: func() {
					if err := e.as.DeleteMapping(context.Background(), first); err != nil {
						t.Fatalf("out-of-band delete: %v", err)
					}
				},
				Config: e.mappingConfig("Customer Web", "web_app", "", "Customer Portal", "Broker Portal"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mappingAddr, plancheck.ResourceActionCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					captureID(mappingAddr, &recreated),
					func(*terraform.State) error {
						if recreated == first {
							return fmt.Errorf("recreated mapping kept the deleted id")
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccAppMapping_assetTypeChangeReplaces(t *testing.T) {
	e := newTestEnv(t)
	var lib string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMappingsDestroyed(e),
		Steps: []resource.TestStep{
			{
				Config: e.mappingConfig("Common Utils", "library", "", "Common Utils"),
				Check:  captureID(mappingAddr, &lib),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mappingAddr, tfjsonpath.New("asset_type"), knownvalue.StringExact("library")),
				},
			},
			{
				Config: e.mappingConfig("Common Utils", "web_app", "", "Common Utils"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mappingAddr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(mappingAddr, tfjsonpath.New("asset_type"), knownvalue.StringExact("web_app")),
				},
				Check: func(s *terraform.State) error {
					if s.RootModule().Resources[mappingAddr].Primary.ID == lib {
						return fmt.Errorf("asset_type change did not replace the mapping")
					}
					return nil
				},
			},
		},
	})
}

func TestAccAppMapping_producersAndNoWait(t *testing.T) {
	e := newTestEnv(t)
	cfg := e.providerConfig() + fmt.Sprintf(`
resource "outsystems_app_mapping" "common" {
  name                 = "Common Utils"
  asset_type           = "library"
  o11_application_keys = [%q]
}
resource "outsystems_app_mapping" "policy" {
  name                 = "Policy Core"
  asset_type           = "library"
  o11_application_keys = [%q]
}
resource "outsystems_app_mapping" "claims" {
  name                 = "Claims Core"
  asset_type           = "library"
  o11_application_keys = [%q]
  wait_for_assessment  = false
}
`, e.appKey("Common Utils"), e.appKey("Policy Core"), e.appKey("Claims Core"))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMappingsDestroyed(e),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("outsystems_app_mapping.claims", tfjsonpath.New("wait_for_assessment"), knownvalue.Bool(false)),
				},
			},
			{ // after a refresh every mapping knows its producers (Claims Core -> Policy Core -> Common Utils)
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckTypeSetElemAttrPair("outsystems_app_mapping.claims", "consumes_mapping_ids.*", "outsystems_app_mapping.policy", "id"),
					resource.TestCheckTypeSetElemAttrPair("outsystems_app_mapping.policy", "consumes_mapping_ids.*", "outsystems_app_mapping.common", "id"),
				),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("outsystems_app_mapping.common", tfjsonpath.New("consumes_mapping_ids"), knownvalue.SetSizeExact(0)),
					statecheck.ExpectKnownValue("outsystems_app_mapping.claims", tfjsonpath.New("status"), knownvalue.StringExact("ReadyForOdc")),
				},
			},
		},
	})
}

// TestAccAppMapping_kitRules checks one error per Migration Kit rule, at
// plan time, naming the attribute and the offending apps.
func TestAccAppMapping_kitRules(t *testing.T) {
	e := newTestEnv(t)
	held, err := e.as.CreateMapping(context.Background(), client.MappingCreate{
		Name: "HR", AssetType: client.AssetTypeWebApplication, ApplicationKeys: []string{e.appKey("HR Self Service")},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		config string
		want   string
	}{
		{"an extension cannot be mapped", e.mappingConfig("PDF", "library", "", "PDF Toolkit"),
			`Extensions Cannot Be Mapped.*o11_application_keys.*"PDF Toolkit"`},
		{"a library takes only library-only apps", e.mappingConfig("Portal lib", "library", "", "Customer Portal", "Common Utils"),
			`Library Needs Library-Only Apps.*o11_application_keys.*"Customer Portal"`},
		{"reactive and mobile are never mixed", e.mappingConfig("Mixed", "web_app", "", "Customer Portal", "Agent Mobile"),
			`Reactive And Mobile Apps Mixed.*o11_application_keys.*reactive "Customer Portal".*mobile "Agent Mobile"`},
		{"mobile apps do not go to a web app", e.mappingConfig("Inspector", "web_app", "", "Field Inspector"),
			`Mobile Apps In A Web App.*"Field Inspector"`},
		{"a mobile app needs a mobile O11 app", e.mappingConfig("Utils app", "mobile_app", "", "Common Utils"),
			`No Mobile App In A Mobile App.*at least one mobile O11 application`},
		{"at most 20 modules per asset", e.mappingConfig("Everything", "web_app", "",
			"Legacy Intranet", "Customer Portal", "Claims Backoffice", "Policy Admin", "Broker Portal", "HR Self Service", "Sandbox Playground"),
			`Too Many Modules For One Asset.*hold 21 O11 modules.*at most 20`},
		{"an app belongs to at most one mapping", e.mappingConfig("HR again", "web_app", "", "HR Self Service"),
			`O11 App Already Mapped.*"HR Self Service".*already belongs to mapping "HR" \(` + held.Key + `\)`},
		{"unknown app keys", e.providerConfig() + `
resource "outsystems_app_mapping" "test" {
  name                 = "Ghost"
  asset_type           = "web_app"
  o11_application_keys = ["0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"]
}`, `Unknown O11 Applications.*0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d`},
		{"at least one app", e.providerConfig() + `
resource "outsystems_app_mapping" "test" {
  name                 = "Empty"
  asset_type           = "web_app"
  o11_application_keys = []
}`, `o11_application_keys.*set must contain at least 1 elements`},
		{"asset type is one of three", e.mappingConfig("Odd", "service", "", "Customer Portal"),
			`asset_type.*value must be one of.*"web_app".*"mobile_app".*"library"`},
		{"keys are GUIDs", e.providerConfig() + `
resource "outsystems_app_mapping" "test" {
  name                 = "Bad"
  asset_type           = "web_app"
  o11_application_keys = ["customer-portal"]
}`, `must be the O11 application key: a GUID`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				CheckDestroy:             checkMappingsDestroyed(e, held.Key),
				Steps:                    []resource.TestStep{{Config: tc.config, PlanOnly: true, ExpectError: regexpS(tc.want)}},
			})
		})
	}
}
