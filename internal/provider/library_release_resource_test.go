package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccLibraryRelease_lifecycle: version rules, drift and destroy of a
// library no one consumes.
func TestAccLibraryRelease_lifecycle(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{"Common Utils": {"library", []string{"Common Utils"}, 1}}
	// No stage_key: the publication goes to the Development stage.
	base := e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, false) + `
resource "outsystems_asset_publication" "utils" {
  asset_key = local.assets["Common Utils"].asset_key
  revision  = local.assets["Common Utils"].revision
}
`
	release := func(version string) string {
		return base + fmt.Sprintf(`
resource "outsystems_library_release" "utils" {
  asset_key     = outsystems_asset_publication.utils.asset_key
  revision      = outsystems_asset_publication.utils.revision
  version       = %q
  release_notes = "Release %s"
}
`, version, version)
	}
	const rel = "outsystems_library_release.utils"
	var assetKey string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			checkWaveDestroyed(e),
			func(*terraform.State) error {
				h, err := e.odcClient().HighestTagRevision(context.Background(), assetKey)
				if err != nil {
					return fmt.Errorf("reading the highest tagged revision after destroy: %w", err)
				}
				if h != nil {
					return fmt.Errorf("destroy should clear the tag of a library no one consumes: %+v", h)
				}
				return nil
			},
		),
		Steps: []resource.TestStep{
			{Config: e.providerConfig() + e.mappingsAndTags(plan)},
			{
				Config: release("1.0.0"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(rel, tfjsonpath.New("version"), knownvalue.StringExact("1.0.0")),
					statecheck.ExpectKnownValue(rel, tfjsonpath.New("release_notes"), knownvalue.StringExact("Release 1.0.0")),
					statecheck.ExpectKnownValue(rel, tfjsonpath.New("tagged_at"), nonEmptyString()),
					statecheck.ExpectKnownValue("outsystems_asset_publication.utils", tfjsonpath.New("stage_key"), knownvalue.StringExact(e.stageKey("Development"))),
				},
				Check: resource.TestCheckResourceAttrWith(rel, "asset_key", func(v string) error { assetKey = v; return nil }),
			},
			{ // a new version replaces the release
				Config: release("1.1.0"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(rel, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(rel, tfjsonpath.New("version"), knownvalue.StringExact("1.1.0")),
				},
			},
			{ // tag removed out of band: the next apply releases it again
				PreConfig: func() {
					if err := e.odcClient().TagRevision(context.Background(), assetKey, 1, nil, "", "removed out of band"); err != nil {
						t.Fatal(err)
					}
				},
				Config: release("1.1.0"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(rel, plancheck.ResourceActionCreate),
				}},
				// No commit_message: the release sends none, so ODC keeps the
				// revision's commit message (the one set out of band).
				Check: func(*terraform.State) error {
					rev, err := e.odcClient().GetRevision(context.Background(), assetKey, 1)
					if err != nil {
						return fmt.Errorf("reading the revision after a release without commit_message: %w", err)
					}
					if rev.Tag != "1.1.0" || rev.CommitMessage != "removed out of band" {
						return fmt.Errorf("revision after a release without commit_message = %+v; want tag 1.1.0 and the commit message kept", rev)
					}
					return nil
				},
			},
			{Config: release("1.1.0")},
		},
	})
}

func TestAccLibraryRelease_versionMustBeHigher(t *testing.T) {
	e := newTestEnv(t)
	plan := migrationPlan{"Common Utils": {"library", []string{"Common Utils"}, 1}}
	// No stage_key: the publication goes to the Development stage.
	base := e.providerConfig() + e.mappingsAndTags(plan) + e.migrationConfig(plan, false) + `
resource "outsystems_asset_publication" "utils" {
  asset_key = local.assets["Common Utils"].asset_key
  revision  = local.assets["Common Utils"].revision
}
`
	release := func(version string) string {
		return base + fmt.Sprintf(`
resource "outsystems_library_release" "utils" {
  asset_key = outsystems_asset_publication.utils.asset_key
  revision  = outsystems_asset_publication.utils.revision
  version   = %q
}
`, version)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkWaveDestroyed(e),
		Steps: []resource.TestStep{
			{Config: e.providerConfig() + e.mappingsAndTags(plan)},
			{
				Config: base,
				Check: func(s *terraform.State) error { // someone releases 3.0.0 in ODC Studio
					v := "3.0.0"
					return e.odcClient().TagRevision(context.Background(), s.RootModule().Resources["outsystems_asset_publication.utils"].Primary.Attributes["asset_key"], 1, &v, "", "out of band")
				},
			},
			{
				Config:      release("1.0.0"),
				ExpectError: regexpS(`Version Not Higher Than The Last Release.*"1\.0\.0" is not higher than "3\.0\.0", the highest existing tag of library "Common Utils"`),
			},
			{
				Config:      release("not-a-version"),
				ExpectError: regexpS(`version.*must be Major\.Minor\.Patch`),
			},
			{Config: release("3.1.0")},
		},
	})
}
