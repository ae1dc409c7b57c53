package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
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
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "key", e.stageKey("QA")),
					resource.TestCheckResourceAttr(addr, "name", "QA"),
					resource.TestCheckResourceAttr(addr, "purpose", "NonProduction"),
					resource.TestCheckResourceAttr(addr, "order", "2"),
				),
			},
			{
				Config: e.providerConfig() + `data "outsystems_odc_stage" "test" { purpose = "Production" }`,
				Check:  resource.TestCheckResourceAttr(addr, "key", e.stageKey("Production")),
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
				Check:  resource.TestCheckResourceAttr(addr, "key", e.stageKey("Development")),
			},
		},
	})
}
