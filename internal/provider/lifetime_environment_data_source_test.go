package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccLifeTimeEnvironmentDataSource(t *testing.T) {
	e := newTestEnv(t)
	const addr = "data.outsystems_lifetime_environment.test"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{
			{
				// Names are matched case-insensitively; the answer carries LifeTime's spelling.
				Config: e.providerConfig() + `data "outsystems_lifetime_environment" "test" { name = "development" }`,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "key", e.envKey("Development")),
					resource.TestCheckResourceAttr(addr, "name", "Development"),
					resource.TestCheckResourceAttr(addr, "order", "1"),
					resource.TestCheckResourceAttr(addr, "environment_type", "Development"),
					resource.TestCheckResourceAttrSet(addr, "host_name"),
					resource.TestCheckResourceAttrSet(addr, "os_version"),
				),
			},
			{
				Config: e.providerConfig() + `data "outsystems_lifetime_environment" "test" { name = "Production" }`,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "key", e.envKey("Production")),
					resource.TestCheckResourceAttr(addr, "order", "3"),
				),
			},
			{
				Config:      e.providerConfig() + `data "outsystems_lifetime_environment" "test" { name = "Staging" }`,
				ExpectError: regexpS(`Environment Not Found.*no environment named "Staging".*"Development", "Production", "Test"`),
			},
			{
				Config:      e.providerConfig() + `data "outsystems_lifetime_environment" "test" { name = "" }`,
				ExpectError: regexpS(`name.*string length must be at least 1`),
			},
			{
				Config: e.providerConfig() + `data "outsystems_lifetime_environment" "test" { name = "Test" }`,
				Check:  resource.TestCheckResourceAttr(addr, "key", e.envKey("Test")),
			},
		},
	})
}
