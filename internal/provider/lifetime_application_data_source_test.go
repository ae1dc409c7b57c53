package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccLifeTimeApplicationDataSource(t *testing.T) {
	e := newTestEnv(t)
	const addr = "data.outsystems_lifetime_application.test"
	portal := e.appKey("Customer Portal")
	running, _ := e.runningVersionKey("Customer Portal")
	byName := e.providerConfig() + `data "outsystems_lifetime_application" "test" { name = "customer portal" }`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{
			{
				Config: byName,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "key", portal),
					resource.TestCheckResourceAttr(addr, "name", "Customer Portal"),
					resource.TestCheckResourceAttr(addr, "kind", "WebResponsive"),
					resource.TestCheckResourceAttr(addr, "environments.%", "3"),
					resource.TestCheckResourceAttr(addr, "environments.Development.environment_key", e.envKey("Development")),
					resource.TestCheckResourceAttr(addr, "environments.Development.running_version", "1.2.0"),
					resource.TestCheckResourceAttr(addr, "environments.Development.running_version_key", running),
					resource.TestCheckResourceAttr(addr, "environments.Development.is_modified", "true"),
					resource.TestCheckResourceAttr(addr, "environments.Development.module_version_keys.#", "2"),
					resource.TestCheckResourceAttr(addr, "environments.Production.running_version", "1.1.0"),
					resource.TestCheckResourceAttr(addr, "environments.Production.is_modified", "false"),
				),
			},
			{
				// After a tag the app no longer has changes since its last tag.
				PreConfig: func() {
					key, err := e.lt.CreateApplicationVersion(context.Background(), e.envKey("Development"), portal, clientTag("1.2.5"))
					if err != nil {
						t.Fatal(err)
					}
					e.waitRunning("Customer Portal", key) // LifeTime processes the tag first
				},
				Config: byName,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "environments.Development.running_version", "1.2.5"),
					resource.TestCheckResourceAttr(addr, "environments.Development.is_modified", "false"),
				),
			},
			{
				Config: e.providerConfig() + fmt.Sprintf(`data "outsystems_lifetime_application" "test" { key = %q }`, e.appKey("Agent Mobile")),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "name", "Agent Mobile"),
					resource.TestCheckResourceAttr(addr, "kind", "Mobile"),
					resource.TestCheckResourceAttr(addr, "environments.Development.is_modified", "true"),
				),
			},
			{
				Config:      e.providerConfig() + `data "outsystems_lifetime_application" "test" { name = "Payroll" }`,
				ExpectError: regexpS(`Application Not Found.*no application named "Payroll".*"Customer Portal"`),
			},
			{
				Config:      e.providerConfig() + `data "outsystems_lifetime_application" "test" { key = "0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d" }`,
				ExpectError: regexpS(`Application Not Found.*no application with key 0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d`),
			},
			{
				Config: e.providerConfig() + fmt.Sprintf(`
data "outsystems_lifetime_application" "test" {
  name = "Customer Portal"
  key  = %q
}`, portal),
				ExpectError: regexpS(`Invalid Attribute Combination.*key.*name`),
			},
			{
				Config:      e.providerConfig() + `data "outsystems_lifetime_application" "test" { key = "portal" }`,
				ExpectError: regexpS(`key.*must be the O11 application key: a GUID`),
			},
			{
				Config: byName,
				Check:  resource.TestCheckResourceAttr(addr, "key", portal),
			},
		},
	})
}
