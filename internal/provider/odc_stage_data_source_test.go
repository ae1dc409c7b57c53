package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccODCStageDataSource(t *testing.T) {
	e := newTestEnv(t)
	const addr = "data.outsystems_odc_stage.test"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{
			{
				Config: e.providerConfig() + `data "outsystems_odc_stage" "test" { name = "qa" }`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("key"), knownvalue.StringExact(e.stageKey("QA"))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact("QA")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("purpose"), knownvalue.StringExact("NonProduction")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("order"), knownvalue.Int64Exact(2)),
				},
			},
			{
				Config: e.providerConfig() + `data "outsystems_odc_stage" "test" { purpose = "Production" }`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("key"), knownvalue.StringExact(e.stageKey("Production"))),
				},
			},
			{
				Config:      e.providerConfig() + `data "outsystems_odc_stage" "test" { name = "Staging" }`,
				ExpectError: regexpS(`Stage Not Found.*no stage matching "Staging".*"Development" \(Development\), "QA" \(NonProduction\), "Production" \(Production\)`),
			},
			{
				Config:      e.providerConfig() + `data "outsystems_odc_stage" "test" { purpose = "Test" }`,
				ExpectError: regexpS(`purpose.*value must be one of`),
			},
			{
				Config:      e.providerConfig() + `data "outsystems_odc_stage" "test" {}`,
				ExpectError: regexpS(`Missing Attribute Configuration.*Exactly one of these attributes must be configured: \[name,purpose\]`),
			},
			{
				Config: e.providerConfig() + `data "outsystems_odc_stage" "test" { name = "Development" }`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("key"), knownvalue.StringExact(e.stageKey("Development"))),
				},
			},
		},
	})
}
