package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// portalMigrate runs a migration in the (sandbox's) ODC portal from the
// Development environment, each asset holding the O11 application of its
// name, and returns the assets' keys by name.
func (e *testEnv) portalMigrate(assets map[string]string) map[string]string {
	e.t.Helper()
	req := codemigration.PortalRequest{SourceEnvironmentKey: e.envKey("Development"), Wait: true}
	for name, typ := range assets {
		req.Assets = append(req.Assets, codemigration.PortalAsset{Name: name, Type: typ, ApplicationKeys: []string{e.appKey(name)}})
	}
	m, err := e.sb.PortalMigrate(req)
	if err != nil {
		e.t.Fatalf("portal migration: %v", err)
	}
	keys := map[string]string{}
	for _, a := range m.Assets {
		if len(a.Errors) > 0 {
			e.t.Fatalf("portal migration of %s: %+v", a.Name, a.Errors)
		}
		keys[a.Name] = a.AssetKey
	}
	return keys
}

// checkAssetsOnlyRead is the CheckDestroy of the ODC assets data source: it
// only reads, so the state holds no managed resource and no asset of keys
// was published.
func checkAssetsOnlyRead(e *testEnv, keys map[string]string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		errs := []error{checkNoResources(s)}
		for name, key := range keys {
			ops, err := e.odcClient().ListPublishOperations(context.Background(), key, "")
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("listing the publications of %s: %w", name, err))
			case len(ops) > 0:
				errs = append(errs, fmt.Errorf("%s was published %d times by a configuration that only reads", name, len(ops)))
			}
		}
		return errors.Join(errs...)
	}
}

func TestAccODCAssetsDataSource(t *testing.T) {
	e := newTestEnvTenant(t)
	// Policy Core first, on its own: a producer outside the set below.
	keys := e.portalMigrate(map[string]string{"Policy Core": "library"})
	for k, v := range e.portalMigrate(map[string]string{"Acme Theme": "library", "Customer Core": "library", "Customer Portal": "app"}) {
		keys[k] = v
	}
	const addr = "data.outsystems_odc_assets.wave"
	config := func(names, extra string) string {
		return e.providerConfig() + fmt.Sprintf(`
data "outsystems_odc_assets" "wave" {
  names = [%s]
  %s
}
`, names, extra)
	}
	asset := func(name, attr string) tfjsonpath.Path { return tfjsonpath.New("assets").AtMapKey(name).AtMapKey(attr) }
	producer := func(name, typ string, inSet bool) knownvalue.Check {
		return knownvalue.ObjectExact(map[string]knownvalue.Check{"key": knownvalue.StringExact(keys[name]), "name": knownvalue.StringExact(name),
			"asset_type": knownvalue.StringExact(typ), "in_set": knownvalue.Bool(inSet)})
	}
	names := `"Customer Portal", "customer core", "Acme Theme"`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkAssetsOnlyRead(e, keys),
		Steps: []resource.TestStep{
			{
				Config: config(names, `asset_types = { "Customer Portal" = "app", "customer core" = "library" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, asset("Customer Portal", "key"), knownvalue.StringExact(keys["Customer Portal"])),
					statecheck.ExpectKnownValue(addr, asset("Customer Portal", "asset_type"), knownvalue.StringExact("web_app")),
					statecheck.ExpectKnownValue(addr, asset("customer core", "name"), knownvalue.StringExact("Customer Core")),
					statecheck.ExpectKnownValue(addr, asset("customer core", "asset_type"), knownvalue.StringExact("library")),
					statecheck.ExpectKnownValue(addr, asset("customer core", "revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(addr, asset("Customer Portal", "producers"), knownvalue.ListExact([]knownvalue.Check{
						producer("Acme Theme", "library", true), producer("Customer Core", "library", true), producer("Policy Core", "library", false)})),
					statecheck.ExpectKnownValue(addr, asset("Acme Theme", "publish_wave"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(addr, asset("Customer Portal", "publish_wave"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(addr, asset("Customer Portal", "publish_order"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("publish_order"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.StringExact("Acme Theme"), knownvalue.StringExact("customer core"), knownvalue.StringExact("Customer Portal")})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("waves"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("Acme Theme"), knownvalue.StringExact("customer core")}),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("Customer Portal")})})),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("external_producers"), knownvalue.ListExact([]knownvalue.Check{
						knownvalue.ObjectExact(map[string]knownvalue.Check{"key": knownvalue.StringExact(keys["Policy Core"]),
							"name": knownvalue.StringExact("Policy Core"), "asset_type": knownvalue.StringExact("library"),
							"consumers": knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("Customer Portal")})})})),
					// The graph: two waves, the external producer left out.
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("mermaid"), knownvalue.StringExact("flowchart LR\n"+
						"  subgraph wave1[\"Wave 1\"]\n    n1[\"1. Acme Theme (library)\"]\n    n2[\"2. customer core (library)\"]\n  end\n"+
						"  subgraph wave2[\"Wave 2\"]\n    n3[\"3. Customer Portal (web_app)\"]\n  end\n"+
						"  n1 --> n3\n  n2 --> n3\n")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("dot"), knownvalue.StringRegexp(regexpS(`cluster_wave2 .*n1 -> n3;\n  n2 -> n3;\n\}\n$`))),
				},
			},
			{
				// Out of band: Customer Core migrated again in the portal.
				PreConfig: func() { e.portalMigrate(map[string]string{"Customer Core": "library"}) },
				Config:    config(names, ""),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, asset("customer core", "revision"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue(addr, asset("customer core", "key"), knownvalue.StringExact(keys["Customer Core"])),
				},
			},
			{
				Config:      config(`"Customer Cor"`, ""),
				ExpectError: regexpS(`ODC Asset Not Found.*no asset named "Customer Cor".*Close names: "Customer Core"`),
			},
			{
				Config:      config(`"Custmer Core"`, ""),
				ExpectError: regexpS(`no asset named "Custmer Core".*Close names: "Customer Core"`),
			},
			{
				Config:      config(names, `asset_types = { "Customer Portal" = "library" }`),
				ExpectError: regexpS(`ODC Asset Of Another Type.*"Customer Portal".*is a web_app, and asset_types expects a library`),
			},
			{
				Config:      config(names, `asset_types = { "Claims Core" = "library" }`),
				ExpectError: regexpS(`asset_types names "Claims Core", which is not in names`),
			},
			{
				Config:      config(names, `asset_types = { "Acme Theme" = "service" }`),
				ExpectError: regexpS(`asset_types.*value must be one of`),
			},
			{
				Config:      config(`" "`, ""),
				ExpectError: regexpS(`names.*must not be blank`),
			},
			{
				// Out of band: a second asset named Acme Theme.
				PreConfig: func() {
					if err := e.sb.SeedODCAsset(odc.MigratedAsset{Key: uuid.NewString(), Name: "Acme Theme", AssetType: "LowCodeLibrary"}); err != nil {
						t.Fatal(err)
					}
				},
				Config:      config(names, ""),
				ExpectError: regexpS(`Two ODC Assets Have One Name.*2 ODC assets are named "Acme Theme".*` + strings.ToLower(keys["Acme Theme"][:8])),
			},
		},
	})
}

// The data source's cost: per name one asset repository request and one
// referenced-elements request, whatever the number of assets in the
// organization; counted by a proxy in front of the sandbox.
func TestAccODCAssetsDataSourceRequests(t *testing.T) {
	e := newTestEnvTenant(t)
	keys := e.portalMigrate(map[string]string{"Acme Theme": "library", "Customer Core": "library", "Customer Portal": "app"})
	target, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	counts := map[string]int{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := "identity" // discovery and the token
		switch {
		case r.URL.Path == "/api/asset-repository/v1/assets":
			kind = "find"
		case strings.HasSuffix(r.URL.Path, "/referenced-elements"):
			kind = "referenced-elements"
		case strings.HasPrefix(r.URL.Path, "/api/"):
			kind = r.Method + " " + r.URL.Path
		}
		mu.Lock()
		counts[kind]++
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, _ := e.fixture.ODC.Client("migration-pipeline")
	config := fmt.Sprintf(`
provider "outsystems" {
  odc = {
    portal_url    = %q
    client_id     = %q
    client_secret = %q
  }
}

data "outsystems_odc_assets" "wave" {
  names = ["Acme Theme", "Customer Core", "Customer Portal"]
}
`, srv.URL, c.ClientID, c.ClientSecret)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkAssetsOnlyRead(e, keys),
		Steps: []resource.TestStep{{
			PreConfig: func() {
				mu.Lock()
				clear(counts)
				mu.Unlock()
			},
			Config: config,
			Check: func(*terraform.State) error {
				mu.Lock()
				defer mu.Unlock()
				// Each read of the data source costs 3 + 3 requests and no
				// other ODC API request.
				delete(counts, "identity")
				reads := counts["find"] / 3
				if reads == 0 || counts["find"] != 3*reads || counts["referenced-elements"] != 3*reads || len(counts) != 2 {
					return fmt.Errorf("requests per kind %v: want 3 look-ups and 3 referenced-elements reads per read of the data source, and nothing else", counts)
				}
				return nil
			},
		}},
	})
}
