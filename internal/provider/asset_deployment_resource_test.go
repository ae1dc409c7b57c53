package provider

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// Assets of the deployment tests, seeded as if migrated by hand: a library,
// an app other apps consume, and an app consuming both.
const (
	deployCoreKey   = "5c0e2b7a-1d4f-4e8a-9b3c-6a7d8e9f0a11"
	deployAPIKey    = "5c0e2b7a-1d4f-4e8a-9b3c-6a7d8e9f0a12"
	deployPortalKey = "5c0e2b7a-1d4f-4e8a-9b3c-6a7d8e9f0a13"
)

func (e *testEnv) seedDeploymentAssets() {
	e.t.Helper()
	for _, a := range []odc.MigratedAsset{
		{Key: deployCoreKey, Name: "Orders Core", AssetType: client.AssetTypeLibrary},
		{Key: deployAPIKey, Name: "Orders API", AssetType: client.AssetTypeWebApplication, Producers: []string{deployCoreKey}},
		{Key: deployPortalKey, Name: "Orders Portal", AssetType: client.AssetTypeWebApplication, Producers: []string{deployAPIKey, deployCoreKey}},
	} {
		if err := e.sb.SeedODCAsset(a); err != nil {
			e.t.Fatal(err)
		}
	}
}

// The tests' provider blocks are unpaced: a fresh provider process
// otherwise waits 6 s before its first POST of builds, deployment analyses
// and deployment operations each (10 a minute per endpoint), which made
// most of these tests' time. The limiter has tests of its own.

// deploymentConfig is an outsystems_asset_deployment block.
func deploymentConfig(name, assetKey string, revision int, stageKey, extra string) string {
	return fmt.Sprintf(`
resource "outsystems_asset_deployment" %q {
  stage_key           = %q
  asset_key           = %q
  revision            = %d
  undeploy_on_destroy = true
  %s
}
`, name, stageKey, assetKey, revision, extra)
}

// checkDeploymentsDestroyed: destroy undeploys the apps whose deployment
// says undeploy_on_destroy, and leaves the others deployed.
func checkDeploymentsDestroyed(e *testEnv) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx := context.Background()
		c := e.odcClient()
		var errs []error
		for _, rs := range resourcesOfType(s, "outsystems_asset_deployment") {
			a := rs.Primary.Attributes
			deployed, err := c.DeployedAssets(ctx, a["stage_key"])
			if err != nil {
				return err
			}
			var found *client.DeployedAsset
			for i := range deployed {
				if deployed[i].AssetKey == a["asset_key"] {
					found = &deployed[i]
				}
			}
			switch {
			case a["undeploy_on_destroy"] == "true" && found != nil:
				errs = append(errs, fmt.Errorf("%q is still deployed in stage %s after destroy with undeploy_on_destroy", a["asset_name"], a["stage_key"]))
			case a["undeploy_on_destroy"] != "true" && (found == nil || strconv.Itoa(found.Revision) != a["revision"]):
				errs = append(errs, fmt.Errorf("%q should stay deployed in stage %s (revision %s); the stage has %+v", a["asset_name"], a["stage_key"], a["revision"], found))
			}
		}
		return errors.Join(errs...)
	}
}

// undeployOutOfBand undeploys an app from a stage through the API, as
// someone in the ODC Portal would.
func (e *testEnv) undeployOutOfBand(stageKey, assetKey string) {
	e.t.Helper()
	c := e.odcClient()
	op, err := c.StartUndeploy(context.Background(), assetKey, stageKey)
	if err == nil {
		_, err = c.WaitDeploymentOperation(context.Background(), op.Key, stageKey, client.FixedPoll(50*time.Millisecond))
	}
	if err != nil {
		e.t.Fatalf("undeploying %s out of band: %v", assetKey, err)
	}
}

// TestAccAssetDeployment_lifecycle runs on the default profile, with the
// plan-time refusals and a bad import ID; the consumer's deployment does
// not reference the producer's, which the same apply makes (the consumer
// waits for it); the producer's deployment says nothing of
// undeploy_on_destroy, so destroy leaves it in place.
func TestAccAssetDeployment_lifecycle(t *testing.T) {
	testAccAssetDeploymentLifecycle(t, newTestEnv(t), true)
}

// TestAccAssetDeployment_tenantProfile runs on the tenant profile; both
// deployments say undeploy_on_destroy, so an undeploy of the producer is
// refused while its consumer is deployed, and destroy undeploys both.
func TestAccAssetDeployment_tenantProfile(t *testing.T) {
	testAccAssetDeploymentLifecycle(t, newTestEnvTenant(t), false)
}

// testAccAssetDeploymentLifecycle deploys two apps producers first to QA:
// the producers gate, import, a new revision in place, an out-of-band
// undeploy the plan shows, and destroy (CheckDestroy asks the stage what it
// holds). onDefault adds the refusals that need no second run; otherwise
// the producer is undeployed on destroy, which is refused while its
// consumer is deployed.
func testAccAssetDeploymentLifecycle(t *testing.T, e *testEnv, onDefault bool) {
	e.seedDeploymentAssets()
	qa := e.stageKey("QA")
	const api, portal = "outsystems_asset_deployment.api", "outsystems_asset_deployment.portal"
	apiConfig := deploymentConfig("api", deployAPIKey, 1, qa, "")
	if onDefault {
		apiConfig = fmt.Sprintf(`
resource "outsystems_asset_deployment" "api" {
  stage_key = %q
  asset_key = %q
  revision  = 1
}
`, qa, deployAPIKey)
	}
	// On the default profile the consumer does not reference its producer:
	// Terraform starts both at once, and the consumer waits for the
	// producer's deployment this apply is making.
	portalConfig := func(revision int) string {
		if onDefault {
			return deploymentConfig("portal", deployPortalKey, revision, qa, "")
		}
		return deploymentConfig("portal", deployPortalKey, revision, qa, "depends_on = [outsystems_asset_deployment.api]")
	}
	var firstID string
	steps := []resource.TestStep{}
	if onDefault {
		// One plan, three refusals: the Development stage, a library, a
		// revision that does not exist.
		steps = append(steps, resource.TestStep{
			Config: unpaced(e.providerConfig()) + deploymentConfig("dev", deployAPIKey, 1, e.stageKey("Development"), "") +
				deploymentConfig("core", deployCoreKey, 1, qa, "") + deploymentConfig("api", deployAPIKey, 7, qa, ""),
			PlanOnly: true,
			ExpectError: regexp.MustCompile(`(?s)(Development Is Published To, Not Deployed To.*Stage "Development".*Use\s+outsystems_asset_publication\s+for\s+the\s+Development\s+stage.*` +
				`|Libraries Are Not Deployed.*"Orders Core".*|No Such Revision.*no revision 7 of asset.*){3}`),
		})
	}
	steps = append(steps,
		resource.TestStep{ // the consumer alone: refused, naming the producer app (not the bundled library) and what to reference
			Config: unpaced(e.providerConfig()) + deploymentConfig("portal", deployPortalKey, 1, qa, ""),
			ExpectError: regexpS(`Producers Not Deployed.*"Orders Portal" \(` + deployPortalKey + `\) revision 1 consumes apps that are not deployed in stage "QA" \(` +
				qa + `\): "Orders API" \(asset ` + deployAPIKey + `\)\..*Reference the outsystems_asset_deployment of each of these producers`),
		},
		resource.TestStep{ // producers first: both deployed
			Config: unpaced(e.providerConfig()) + apiConfig + portalConfig(1),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(portal, tfjsonpath.New("status"), knownvalue.StringExact("Finished")),
				statecheck.ExpectKnownValue(portal, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
				statecheck.ExpectKnownValue(portal, tfjsonpath.New("asset_name"), knownvalue.StringExact("Orders Portal")),
				statecheck.ExpectKnownValue(portal, tfjsonpath.New("asset_type"), knownvalue.StringExact("web_app")),
				statecheck.ExpectKnownValue(portal, tfjsonpath.New("id"), knownvalue.StringRegexp(guidRegexp)),
				statecheck.ExpectKnownValue(portal, tfjsonpath.New("build_key"), knownvalue.StringRegexp(guidRegexp)),
				statecheck.ExpectKnownValue(portal, tfjsonpath.New("finished_at"), nonEmptyString()),
				statecheck.ExpectKnownValue(api, tfjsonpath.New("status"), knownvalue.StringExact("Finished")),
			},
			Check: resource.ComposeAggregateTestCheckFunc(captureID(portal, &firstID), e.checkDeployed(qa, deployPortalKey, 1)),
		},
		resource.TestStep{
			ResourceName:            portal,
			ImportState:             true,
			ImportStateVerify:       true,
			ImportStateIdFunc:       func(*terraform.State) (string, error) { return qa + "/" + deployPortalKey, nil },
			ImportStateVerifyIgnore: []string{"timeouts", "undeploy_on_destroy"},
		},
		resource.TestStep{ // a new revision is deployed over the first, in place
			PreConfig: func() {
				if err := e.sb.SeedODCAsset(odc.MigratedAsset{Key: deployPortalKey, Name: "Orders Portal", AssetType: client.AssetTypeWebApplication,
					Producers: []string{deployAPIKey, deployCoreKey}}); err != nil {
					t.Fatal(err)
				}
			},
			Config: unpaced(e.providerConfig()) + apiConfig + portalConfig(2),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(portal, plancheck.ResourceActionUpdate),
				plancheck.ExpectUnknownValue(portal, tfjsonpath.New("id")),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(portal, tfjsonpath.New("revision"), knownvalue.Int64Exact(2)),
			},
			Check: resource.ComposeAggregateTestCheckFunc(e.checkDeployed(qa, deployPortalKey, 2), func(s *terraform.State) error {
				if s.RootModule().Resources[portal].Primary.ID == firstID {
					return fmt.Errorf("the deployment of revision 2 kept the first operation's id %s", firstID)
				}
				return nil
			}),
		},
		resource.TestStep{ // undeployed out of band: the plan deploys it again
			PreConfig: func() { e.undeployOutOfBand(qa, deployPortalKey) },
			Config:    unpaced(e.providerConfig()) + apiConfig + portalConfig(2),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(portal, plancheck.ResourceActionCreate),
			}},
			Check: e.checkDeployed(qa, deployPortalKey, 2),
		},
	)
	if onDefault {
		steps = slices.Insert(steps, 3, resource.TestStep{
			ResourceName:  portal,
			ImportState:   true,
			ImportStateId: deployPortalKey,
			ExpectError:   regexpS(`Invalid Import ID.*is not "<stage_key>/<asset_key>"`),
		})
	} else {
		steps = append(steps,
			resource.TestStep{ // the producer's deployment destroyed while its consumer stays: refused, naming the consumer
				Config:      unpaced(e.providerConfig()) + deploymentConfig("portal", deployPortalKey, 2, qa, ""),
				ExpectError: regexpS(`Consumers Still Deployed.*"Orders API".*cannot be undeployed from stage "QA".*"Orders Portal" \(asset ` + deployPortalKey + `\) revision 2`),
			},
			resource.TestStep{ // nothing changed: the full configuration (consumer after producer, for destroy) plans empty
				Config: unpaced(e.providerConfig()) + apiConfig + portalConfig(2),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
		)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkDeploymentsDestroyed(e),
		Steps:                    steps,
	})
}

// checkDeployed asks the stage which revision of the app it holds.
func (e *testEnv) checkDeployed(stageKey, assetKey string, revision int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		deployed, err := e.odcClient().DeployedAssets(context.Background(), stageKey)
		if err != nil {
			return err
		}
		for _, d := range deployed {
			if d.AssetKey == assetKey {
				if d.Revision != revision {
					return fmt.Errorf("stage %s holds revision %d of %s, want %d", stageKey, d.Revision, assetKey, revision)
				}
				return nil
			}
		}
		return fmt.Errorf("stage %s holds no deployment of %s", stageKey, assetKey)
	}
}
