package provider

// Class 2 of issue 12: a plan saved with `terraform plan -out`, reviewed,
// and applied after the world moved. terraform-plugin-testing applies each
// step's saved plan file; a pre-apply plan check that changes the sandbox
// acts out what happens between `plan -out` and `apply`. Terraform plans
// every resource again during the apply and compares with the saved plan,
// so a value the plan showed must either hold or the apply must fail with
// the provider's own error saying what changed.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// betweenPlanAndApply is a plan check that changes the world instead of
// checking the plan: it runs after `plan -out` and before the apply.
type betweenPlanAndApply func(ctx context.Context) error

func (f betweenPlanAndApply) CheckPlan(ctx context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	resp.Error = f(ctx)
}

// TestAccSavedPlan_tagAfterTheAppMoved: two tags without `version`, applied
// from a saved plan after LifeTime moved: Claims Core (unmodified at plan
// time) was changed by a developer, and Customer Portal (modified at plan
// time) was tagged out of band with the version the plan would have taken
// and then changed again. Before the fix the plan showed 1.0.1 (adopt) and
// the next free version, and the apply failed with Terraform's
// "inconsistent final plan"; now the plan promises no version and the apply
// tags what LifeTime allows then.
func TestAccSavedPlan_tagAfterTheAppMoved(t *testing.T) {
	e := newTestEnv(t)
	dev := e.envKey("Development")
	if err := e.sb.MarkModified(dev, e.appKey("Customer Portal"), true); err != nil {
		t.Fatal(err)
	}
	cfg := e.providerConfig() + fmt.Sprintf(`
resource "outsystems_lifetime_tag" "claims" {
  environment_key = %[1]q
  application_key = %[2]q
  change_log      = "Ready for ODC"
}

resource "outsystems_lifetime_tag" "portal" {
  environment_key = %[1]q
  application_key = %[3]q
  change_log      = "Ready for ODC"
}
`, dev, e.appKey("Claims Core"), e.appKey("Customer Portal"))
	var outOfBand string
	moved := betweenPlanAndApply(func(ctx context.Context) error {
		// A developer publishes Claims Core: it has changes since its tag.
		if err := e.sb.MarkModified(dev, e.appKey("Claims Core"), true); err != nil {
			return err
		}
		// Someone tags Customer Portal with the next free patch version,
		// then publishes it again.
		app, err := e.lt.GetEnvironmentApplication(ctx, dev, e.appKey("Customer Portal"), false)
		if err != nil {
			return err
		}
		st, _ := app.StatusIn(dev)
		next, err := bumpPatch(st.BaseApplicationVersionLabel)
		if err != nil {
			return err
		}
		if outOfBand, err = e.lt.CreateApplicationVersion(ctx, dev, e.appKey("Customer Portal"), clientTag(next)); err != nil {
			return err
		}
		e.waitRunning("Customer Portal", outOfBand)
		return e.sb.MarkModified(dev, e.appKey("Customer Portal"), true)
	})
	var claims, portal string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkTagsDestroyed(e),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				moved, // the plan's own content is checked by the tag's tests
			}},
			Check: resource.ComposeAggregateTestCheckFunc(
				captureID("outsystems_lifetime_tag.claims", &claims),
				captureID("outsystems_lifetime_tag.portal", &portal),
				// Claims Core changed since 1.0.1: a new tag, not the adoption.
				resource.TestCheckResourceAttr("outsystems_lifetime_tag.claims", "version", "1.0.2"),
				e.checkRunning("Claims Core", &claims),
				e.checkRunning("Customer Portal", &portal),
				func(*terraform.State) error {
					if portal == outOfBand {
						return fmt.Errorf("the tag adopted the out-of-band version %s although the app changed since", outOfBand)
					}
					return nil
				},
			),
		}},
	})
}

// TestAccSavedPlan_mappingChangedInTheTool: a saved plan changes a
// mapping's description; before the apply, someone renames the mapping in
// the assessment tool. Before the fix the update sent the description and
// returned the new name, and Terraform failed with "inconsistent result
// after apply"; now the apply fails with the provider's error naming the
// attribute, both values and what to do, and changes nothing.
func TestAccSavedPlan_mappingChangedInTheTool(t *testing.T) {
	e := newTestEnv(t)
	var id string
	renamed := betweenPlanAndApply(func(ctx context.Context) error {
		n := "Portal (renamed in the tool)"
		_, err := e.as.UpdateMapping(ctx, id, client.MappingPatch{Name: &n})
		return err
	})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkMappingsDestroyed(e),
		Steps: []resource.TestStep{
			{
				Config: e.mappingConfig("Customer Portal", "web_app", "first", "Customer Portal"),
				Check:  captureID(mappingAddr, &id),
			},
			{
				Config:           e.mappingConfig("Customer Portal", "web_app", "second", "Customer Portal"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{renamed}},
				ExpectError: errorRe(`name was planned as "Customer Portal"`, `assessment tool now says "Portal (renamed in the tool)"`,
					"changed since the plan", "terraform plan", "again"),
			},
			{ // the description was not sent: the tool still has "first"; a new plan shows the rename to undo
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: func(*terraform.State) error {
					mp, err := e.as.GetMapping(context.Background(), id)
					if err != nil {
						return err
					}
					if mp.Description != "first" {
						return fmt.Errorf("the failed apply changed the description to %q", mp.Description)
					}
					return nil
				},
			},
		},
	})
}

// TestAssetsMovedSincePlan: a migration's Create compares the assets the
// plan showed with what the mappings give now, and names what changed.
func TestAssetsMovedSincePlan(t *testing.T) {
	asset := func(mappingID, assetType string, wave int64) attr.Value {
		return types.ObjectValueMust(migratedAssetAttrTypes, map[string]attr.Value{
			"mapping_id": types.StringValue(mappingID), "asset_key": types.StringUnknown(), "name": types.StringUnknown(),
			"asset_type": types.StringValue(assetType), "revision": types.Int64Unknown(),
			"producer_asset_keys": types.ListUnknown(types.StringType), "publish_wave": types.Int64Value(wave),
			"publish_order": types.Int64Value(1), "errors": types.ListUnknown(types.StringType),
			"o11_application_keys": types.ListUnknown(types.StringType), "stale": types.BoolValue(false),
		})
	}
	planned := types.MapValueMust(migratedAssetType, map[string]attr.Value{
		"Claims": asset("m1", "web_app", 1), "Core": asset("m2", "library", 1),
	})
	same := map[string]*plannedAsset{
		"Claims": {mappingID: "M1", name: "Claims", assetType: "web_app", wave: 1},
		"Core":   {mappingID: "m2", name: "Core", assetType: "library", wave: 1},
	}
	if got := assetsMovedSincePlan(planned, same); len(got) != 0 {
		t.Fatalf("nothing changed: got %q", got)
	}
	if got := assetsMovedSincePlan(types.MapUnknown(migratedAssetType), same); len(got) != 0 {
		t.Fatalf("the plan did not know the assets: got %q", got)
	}
	moved := map[string]*plannedAsset{
		"Claims Web": {mappingID: "m1", name: "Claims Web", assetType: "web_app", wave: 1},
		"Core":       {mappingID: "m2", name: "Core", assetType: "library", wave: 2},
	}
	got := strings.Join(assetsMovedSincePlan(planned, moved), "\n")
	for _, want := range []string{
		`assets["Claims"]: the name of mapping m1 was planned as "Claims", but the assessment tool now says "Claims Web"`,
		`assets["Core"]: publish_wave was planned as 1, but the mappings' producers now give 2`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}
