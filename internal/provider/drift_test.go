package provider

// Drift: what changes outside Terraform each resource's refresh notices,
// and the plan that brings it back.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	tfresource "github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
)

// TestAccDrift_libraryUnpublished: a library whose publication was removed
// from its stage out of band (a stage reset) is planned to be published
// again, as an app is; the apply publishes it and the plan after is empty.
// Before, a library's publication was never checked: the plan said "No
// changes" while the producers-first gate refused the library's consumers.
func TestAccDrift_libraryUnpublished(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{"Acme Theme": {"library", []string{"Acme Theme"}, 1}}
	full := e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, true)
	const pub = "outsystems_asset_publication.acme_theme"
	var first string
	tfresource.ParallelTest(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []tfresource.TestStep{
			{Config: full, Check: captureID(pub, &first)},
			{
				PreConfig: func() {
					lib := e.migratedAssetKey("Acme Theme")
					if err := e.sb.UnpublishAsset(e.stageKey("Development"), lib); err != nil {
						t.Fatal(err)
					}
					if published, err := (&providerData{}).publishedIn(context.Background(), e.odcClient(), e.stageKey("Development"), lib, client.AssetTypeLibrary); err != nil || published {
						t.Fatalf("after the unpublish, the gate's check says published=%v (%v); the test needs it to say false", published, err)
					}
				},
				Config: full,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(pub, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(pub, tfjsonpath.New("status"), knownvalue.StringExact("Finished")),
				},
				Check: func(s *terraform.State) error {
					if s.RootModule().Resources[pub].Primary.ID == first {
						return fmt.Errorf("the library's publication was not made again")
					}
					lib := e.migratedAssetKey("Acme Theme")
					ops, err := e.odcClient().ListPublishOperations(context.Background(), lib, e.stageKey("Development"))
					if err != nil {
						return err
					}
					for _, op := range ops {
						if op.Succeeded() && op.Key == s.RootModule().Resources[pub].Primary.ID {
							return nil
						}
					}
					return fmt.Errorf("the sandbox lists no finished publish %s of library %s in Development after the apply", s.RootModule().Resources[pub].Primary.ID, lib)
				},
			},
		},
	})
}

// TestAccDrift_tagAppModifiedSinceTag: an app running its tag plans
// nothing; once it changes in LifeTime (IsModified) the plan replaces the
// tag with the next version, and after the apply the plan is empty again.
func TestAccDrift_tagAppModifiedSinceTag(t *testing.T) {
	e := newTestEnv(t)
	cfg := e.tagConfig("Claims Core", "", "Ready for ODC")
	var first, second string
	var ltBefore int64
	tfresource.ParallelTest(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkTagsDestroyed(e),
		Steps: []tfresource.TestStep{
			{
				Config: cfg,
				Check:  tfresource.ComposeAggregateTestCheckFunc(captureID(tagAddr, &first), e.checkRunning("Claims Core", &first)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(tagAddr, tfjsonpath.New("application_modified"), knownvalue.Bool(false)),
				},
			},
			{ // the refresh of a tag that runs is one LifeTime request
				PreConfig:    func() { ltBefore = e.sb.RequestStats().ByFamily[sandbox.FamilyLifeTime].Requests },
				RefreshState: true,
				Check: func(*terraform.State) error {
					if n := e.sb.RequestStats().ByFamily[sandbox.FamilyLifeTime].Requests - ltBefore; n != 1 {
						return fmt.Errorf("the refresh of one tag made %d LifeTime requests; want 1", n)
					}
					return nil
				},
			},
			{ // merely running the tag: nothing to do
				Config: cfg,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{
				PreConfig: func() {
					if err := e.sb.MarkModified(e.envKey("Development"), e.appKey("Claims Core"), true); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(tagAddr, plancheck.ResourceActionDestroyBeforeCreate),
					plancheck.ExpectUnknownValue(tagAddr, tfjsonpath.New("version")), // picked at apply (saved plans)
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(tagAddr, tfjsonpath.New("version"), knownvalue.StringExact("1.0.2")),
					statecheck.ExpectKnownValue(tagAddr, tfjsonpath.New("application_modified"), knownvalue.Bool(false)),
				},
				Check: tfresource.ComposeAggregateTestCheckFunc(
					captureID(tagAddr, &second),
					e.checkRunning("Claims Core", &second),
					func(*terraform.State) error {
						if second == first {
							return fmt.Errorf("the application was not tagged again")
						}
						return nil
					},
				),
			},
		},
	})
}

// TestAccDrift_tagPinnedVersionModified: with `version` pinned, an app
// changed since its tag is seen (application_modified) but not tagged by
// itself, since LifeTime refuses a version used before; bumping `version`
// tags it.
func TestAccDrift_tagPinnedVersionModified(t *testing.T) {
	e := newTestEnv(t)
	var first string
	tfresource.ParallelTest(t, tfresource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkTagsDestroyed(e),
		Steps: []tfresource.TestStep{
			{Config: e.tagConfig("Claims Core", "2.0.0", "Ready for ODC"), Check: captureID(tagAddr, &first)},
			{
				PreConfig: func() {
					if err := e.sb.MarkModified(e.envKey("Development"), e.appKey("Claims Core"), true); err != nil {
						t.Fatal(err)
					}
				},
				RefreshState: true,
				Check: tfresource.ComposeAggregateTestCheckFunc(
					tfresource.TestCheckResourceAttr(tagAddr, "application_modified", "true"),
					tfresource.TestCheckResourceAttrPtr(tagAddr, "id", &first),
				),
			},
			{ // pinned: no replacement (it would fail: 2.0.0 is used); the warning says to bump it
				Config: e.tagConfig("Claims Core", "2.0.0", "Ready for ODC"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{ // bumped: a new tag holds the changes
				Config: e.tagConfig("Claims Core", "2.0.1", "Ready for ODC"),
				ConfigPlanChecks: tfresource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(tagAddr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(tagAddr, tfjsonpath.New("version"), knownvalue.StringExact("2.0.1")),
					statecheck.ExpectKnownValue(tagAddr, tfjsonpath.New("application_modified"), knownvalue.Bool(false)),
				},
			},
		},
	})
}

// TestRetagWhenModified: the plan modifier behind the tag's drift. A tag of
// a modified app is replaced when `version` is unset; with `version` set it
// is kept, with a warning that names the version and says to set a new one.
func TestRetagWhenModified(t *testing.T) {
	ctx := context.Background()
	r := NewLifeTimeTagResource()
	var sr resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sr)
	sch := sr.Schema
	model := func(version string, modified bool) *lifeTimeTagModel {
		tt := sch.Attributes["timeouts"].GetType().(attr.TypeWithAttributeTypes) //nolint:forcetypeassert // the schema's own type
		return &lifeTimeTagModel{
			ID: types.StringValue("a0000000-0000-0000-0000-000000000001"), EnvironmentKey: types.StringValue("e"), ApplicationKey: types.StringValue("a"),
			Version: types.StringValue(version), ChangeLog: types.StringNull(), ApplicationName: types.StringValue("Claims Core"),
			MobileVersions:  types.ListNull(types.ObjectType{AttrTypes: mobileVersionAttrTypes}),
			ForceNewVersion: types.BoolNull(), CreatedOn: types.StringValue(""), AppModified: types.BoolValue(modified),
			Timeouts: timeouts.Value{Object: types.ObjectNull(tt.AttributeTypes())},
		}
	}
	run := func(configVersion string, modified bool) *planmodifier.BoolResponse {
		t.Helper()
		state := tfsdk.State{Schema: sch}
		if d := state.Set(ctx, model("2.0.0", modified)); d.HasError() {
			t.Fatal(d)
		}
		cfgModel := model(configVersion, false)
		if configVersion == "" {
			cfgModel.Version = types.StringNull()
		}
		cfgState := tfsdk.State{Schema: sch}
		if d := cfgState.Set(ctx, cfgModel); d.HasError() {
			t.Fatal(d)
		}
		req := planmodifier.BoolRequest{
			State: state, Plan: tfsdk.Plan{Schema: sch, Raw: state.Raw}, Config: tfsdk.Config{Schema: sch, Raw: cfgState.Raw},
			StateValue: types.BoolValue(modified), PlanValue: types.BoolValue(modified), ConfigValue: types.BoolNull(),
		}
		resp := &planmodifier.BoolResponse{PlanValue: req.PlanValue}
		retagWhenModified{}.PlanModifyBool(ctx, req, resp)
		if resp.Diagnostics.HasError() {
			t.Fatal(resp.Diagnostics)
		}
		return resp
	}
	if resp := run("", false); resp.RequiresReplace || resp.PlanValue.ValueBool() || resp.Diagnostics.WarningsCount() != 0 {
		t.Errorf("unmodified app: replace=%v plan=%v warnings=%d, want nothing", resp.RequiresReplace, resp.PlanValue, resp.Diagnostics.WarningsCount())
	}
	if resp := run("", true); !resp.RequiresReplace || resp.PlanValue.ValueBool() {
		t.Errorf("modified app, version unset: replace=%v plan=%v, want a replacement planned false", resp.RequiresReplace, resp.PlanValue)
	}
	resp := run("2.0.0", true)
	if resp.RequiresReplace || resp.Diagnostics.WarningsCount() != 1 {
		t.Fatalf("modified app, version pinned: replace=%v warnings=%d, want one warning and no replacement", resp.RequiresReplace, resp.Diagnostics.WarningsCount())
	}
	w := resp.Diagnostics.Warnings()[0]
	for _, want := range []string{`"Claims Core"`, `"2.0.0"`, "set `version` to a new version", "remove `version`"} {
		if !strings.Contains(w.Detail(), want) {
			t.Errorf("the warning does not say %s:\n%s", want, w.Detail())
		}
	}
}
