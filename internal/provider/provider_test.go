package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"outsystems": providerserver.NewProtocol6WithError(New("test")()),
}

// TestSchemasAreValid checks every schema the way the framework does at
// run time (attribute names, defaults, plan modifiers on computed values).
func TestSchemasAreValid(t *testing.T) {
	ctx := context.Background()
	p := New("test")()
	for _, f := range p.Resources(ctx) {
		r := f()
		var meta fwresource.MetadataResponse
		r.Metadata(ctx, fwresource.MetadataRequest{ProviderTypeName: "outsystems"}, &meta)
		var resp fwresource.SchemaResponse
		r.Schema(ctx, fwresource.SchemaRequest{}, &resp)
		if diags := resp.Schema.ValidateImplementation(ctx); diags.HasError() || resp.Diagnostics.HasError() {
			t.Errorf("%s: %v %v", meta.TypeName, diags, resp.Diagnostics)
		}
	}
	for _, f := range p.DataSources(ctx) {
		d := f()
		var meta datasource.MetadataResponse
		d.Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: "outsystems"}, &meta)
		var resp datasource.SchemaResponse
		d.Schema(ctx, datasource.SchemaRequest{}, &resp)
		if diags := resp.Schema.ValidateImplementation(ctx); diags.HasError() || resp.Diagnostics.HasError() {
			t.Errorf("%s: %v %v", meta.TypeName, diags, resp.Diagnostics)
		}
	}
}

func TestAccProvider_unconfiguredServiceNamesTheSettings(t *testing.T) {
	t.Setenv(EnvLifeTimeURL, "")
	t.Setenv(EnvLifeTimeToken, "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNoResources,
		Steps: []resource.TestStep{{
			Config: `
provider "outsystems" {}
data "outsystems_lifetime_environment" "dev" { name = "Development" }
`,
			ExpectError: errorRe("LifeTime API Not Configured", "lifetime.url", "lifetime.token", EnvLifeTimeURL, EnvLifeTimeToken),
		}},
	})
}

func TestAccProvider_settingsFromEnvironment(t *testing.T) {
	e := newTestEnv(t)
	t.Setenv(EnvLifeTimeURL, e.url)
	t.Setenv(EnvLifeTimeToken, e.token(fixture.RoleReadOnly))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{{
			Config: `
provider "outsystems" {}
data "outsystems_lifetime_environment" "dev" { name = "Development" }
`,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.outsystems_lifetime_environment.dev", tfjsonpath.New("key"), knownvalue.StringExact(e.envKey("Development"))),
			},
		}},
	})
}
