package provider

// Class 4 of issue 12: what the plan can know, the plan says. Mappings of
// one configuration that would collide in the tool, a name the tool already
// holds, and mapped apps with changes since their last tag are reported by
// `terraform plan`, not half-way through the apply.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// TestAccPlanKnows_oneAppInTwoMappings: before, both mappings passed the
// plan (neither existed yet) and the apply created "Broker A" and failed on
// "Broker B" (409, or the kit rule when planned again at apply).
func TestAccPlanKnows_oneAppInTwoMappings(t *testing.T) {
	e := newTestEnv(t)
	cfg := e.providerConfig() + fmt.Sprintf(`
resource "outsystems_app_mapping" "a" {
  name                 = "Broker A"
  asset_type           = "web_app"
  o11_application_keys = [%[1]q]
}
resource "outsystems_app_mapping" "b" {
  name                 = "Broker B"
  asset_type           = "web_app"
  o11_application_keys = [%[1]q]
}
`, e.appKey("Broker Portal"))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMappingsDestroyed(e),
		Steps: []resource.TestStep{{
			Config:      cfg,
			PlanOnly:    true,
			ExpectError: regexpS(`One O11 App In Two Mappings.*` + e.appKey("Broker Portal") + `.*"Broker (A|B)" and "Broker (A|B)"`),
		}},
	})
}

// TestAccPlanKnows_twoMappingsOneName: two mappings whose names differ only
// in letter case (the tool compares names ignoring case).
func TestAccPlanKnows_twoMappingsOneName(t *testing.T) {
	e := newTestEnv(t)
	cfg := e.providerConfig() + fmt.Sprintf(`
resource "outsystems_app_mapping" "a" {
  name                 = "Claims"
  asset_type           = "web_app"
  o11_application_keys = [%q]
}
resource "outsystems_app_mapping" "b" {
  name                 = "CLAIMS"
  asset_type           = "web_app"
  o11_application_keys = [%q]
}
`, e.appKey("Claims Core"), e.appKey("Customer Portal"))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMappingsDestroyed(e),
		Steps: []resource.TestStep{{
			Config:      cfg,
			PlanOnly:    true,
			ExpectError: regexpS(`Two Mappings With One Name.*two outsystems_app_mapping resources named "(Claims|CLAIMS)"`),
		}},
	})
}

// TestAccPlanKnows_nameTakenInTheTool: a mapping outside this configuration
// already has the name.
func TestAccPlanKnows_nameTakenInTheTool(t *testing.T) {
	e := newTestEnv(t)
	held, err := e.as.CreateMapping(context.Background(), client.MappingCreate{
		Name: "HR", AssetType: client.AssetTypeWebApplication, ApplicationKeys: []string{e.appKey("HR Self Service")},
	})
	if err != nil {
		t.Fatal(err)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMappingsDestroyed(e, held.Key),
		Steps: []resource.TestStep{{
			Config:      e.mappingConfig("hr", "web_app", "", "Customer Portal"),
			PlanOnly:    true,
			ExpectError: regexpS(`Mapping Name Taken.*already has a mapping named "HR" \(key ` + held.Key + `.*terraform import`),
		}},
	})
}

// TestPlanKnows_untaggedAppsWarnAtPlan: a new code migration's plan warns
// about a mapped app with changes since its last tag, naming the app and
// the resource that fixes it, unless this plan tags the app first (a tag
// planned before the migration, as depends_on makes Terraform do). Before,
// only the apply's preflight said so.
func TestPlanKnows_untaggedAppsWarnAtPlan(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	dev, claims := e.envKey("Development"), e.appKey("Claims Core")
	mp, err := e.as.CreateMapping(ctx, client.MappingCreate{Name: "Claims", AssetType: client.AssetTypeWebApplication, ApplicationKeys: []string{claims}})
	if err != nil {
		t.Fatal(err)
	}
	warnings := func(tagged bool) diag.Diagnostics {
		d := &providerData{lifeTime: e.lt, assessment: e.as}
		if tagged {
			d.registerPlannedTag(dev, claims)
		}
		var diags diag.Diagnostics
		(&codeMigrationResource{data: d}).warnUntagged(ctx, dev, []string{mp.Key}, &diags)
		return diags
	}
	if got := warnings(false); len(got) != 0 {
		t.Fatalf("Claims Core runs its last tag: want no diagnostic, got %v", got)
	}
	if err := e.sb.MarkModified(dev, claims, true); err != nil {
		t.Fatal(err)
	}
	got := warnings(false)
	if len(got) != 1 || got.HasError() || got.WarningsCount() != 1 {
		t.Fatalf("want one warning, got %v", got)
	}
	for _, want := range []string{`"Claims Core"`, `mapping "Claims"`, "has changes since its last tag", "outsystems_lifetime_tag", "depends_on"} {
		if !strings.Contains(got[0].Detail(), want) {
			t.Errorf("the warning does not say %q:\n%s", want, got[0].Detail())
		}
	}
	if got := warnings(true); len(got) != 0 {
		t.Fatalf("the plan tags Claims Core before the migration: want no diagnostic, got %v", got)
	}
}

// TestRegisterPlannedMapping: the per-process registry reports a name
// (ignoring case) or an app planned twice, forgets an entry planned again
// under its key, and takes a new entry identical to a keyed one for its
// replacement.
func TestRegisterPlannedMapping(t *testing.T) {
	d := &providerData{}
	if n, a := d.registerPlannedMapping(plannedMapping{id: "k1", name: "Claims", apps: []string{"a1"}}); len(n)+len(a) != 0 {
		t.Fatalf("first mapping: got %v %v", n, a)
	}
	if n, a := d.registerPlannedMapping(plannedMapping{id: "K1", name: "Claims", apps: []string{"a1"}}); len(n)+len(a) != 0 {
		t.Fatalf("the same mapping planned again: got %v %v", n, a)
	}
	if n, a := d.registerPlannedMapping(plannedMapping{name: "Claims", apps: []string{"a1"}}); len(n)+len(a) != 0 {
		t.Fatalf("its replacement: got %v %v", n, a)
	}
	n, a := d.registerPlannedMapping(plannedMapping{name: "CLAIMS", apps: []string{"a2"}})
	if len(n) != 2 || len(a) != 0 {
		t.Fatalf("another mapping with the name: got %v %v", n, a)
	}
	n, a = d.registerPlannedMapping(plannedMapping{name: "Portal", apps: []string{"a3", "a2"}})
	if len(n) != 0 || len(a["a2"]) != 1 || a["a2"][0].name != "CLAIMS" {
		t.Fatalf("another mapping with app a2: got %v %v", n, a)
	}
}

// TestAccPlanKnows_taintedMappingIsNotItsOwnConflict: a tainted mapping is
// planned again without prior state; it must not collide with itself (its
// name in the tool, its entry in the registry).
func TestAccPlanKnows_taintedMappingIsNotItsOwnConflict(t *testing.T) {
	e := newTestEnv(t)
	cfg := e.mappingConfig("Customer Portal", "web_app", "", "Customer Portal")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMappingsDestroyed(e),
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				Config: cfg,
				Taint:  []string{mappingAddr},
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(mappingAddr, plancheck.ResourceActionReplace),
				}},
			},
		},
	})
}
