package provider

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// orderChain seeds a chain of three hand-migrated assets in ODC, each the
// producer of the next: library "Order Core" → library "Order Rules" →
// web app "Order Portal", and returns a configuration that publishes and
// releases them with the documented per-wave pattern (each wave's
// publications depend on the previous wave's releases) to the stage named
// with the purpose stagePurpose.
func orderChain(t *testing.T, e *testEnv) func(stageExpr string) string {
	t.Helper()
	const (
		coreKey   = "5e0b7a1c-2d3f-4e5a-9b8c-7d6e5f4a3b21"
		rulesKey  = "5e0b7a1c-2d3f-4e5a-9b8c-7d6e5f4a3b22"
		portalKey = "5e0b7a1c-2d3f-4e5a-9b8c-7d6e5f4a3b23"
	)
	for _, a := range []odc.MigratedAsset{
		{Key: coreKey, Name: "Order Core", AssetType: client.AssetTypeLibrary},
		{Key: rulesKey, Name: "Order Rules", AssetType: client.AssetTypeLibrary, Producers: []string{coreKey}},
		{Key: portalKey, Name: "Order Portal", AssetType: client.AssetTypeWebApplication, Producers: []string{rulesKey}},
	} {
		if err := e.sb.SeedODCAsset(a); err != nil {
			t.Fatal(err)
		}
	}
	return func(stagePurpose string) string {
		return e.providerConfig() + fmt.Sprintf(`
data "outsystems_odc_stage" "target" {
  purpose = %[4]q
}

locals {
  core   = { asset_key = %[1]q, revision = 1 }
  rules  = { asset_key = %[2]q, revision = 1 }
  portal = { asset_key = %[3]q, revision = 1 }
}

resource "outsystems_asset_publication" "wave1" {
  asset_key = local.core.asset_key
  revision  = local.core.revision
  stage_key = data.outsystems_odc_stage.target.key
}

resource "outsystems_library_release" "wave1" {
  asset_key       = outsystems_asset_publication.wave1.asset_key
  revision        = outsystems_asset_publication.wave1.revision
  version         = "1.0.0"
  keep_on_destroy = true
}

resource "outsystems_asset_publication" "wave2" {
  asset_key  = local.rules.asset_key
  revision   = local.rules.revision
  stage_key  = data.outsystems_odc_stage.target.key
  depends_on = [outsystems_library_release.wave1]
}

resource "outsystems_library_release" "wave2" {
  asset_key       = outsystems_asset_publication.wave2.asset_key
  revision        = outsystems_asset_publication.wave2.revision
  version         = "1.0.0"
  keep_on_destroy = true
}

resource "outsystems_asset_publication" "wave3" {
  asset_key  = local.portal.asset_key
  revision   = local.portal.revision
  stage_key  = data.outsystems_odc_stage.target.key
  depends_on = [outsystems_library_release.wave2]
}
`, coreKey, rulesKey, portalKey, stagePurpose)
	}
}

// TestAccOrder_onlyPublicationsReplaced is issue 12's class 1: with the
// per-wave depends_on pattern, replacing every publication while the
// releases stay (here the stage changes) must still publish producers
// first. Terraform 1.5 does not order through resources that have no
// change (the releases), so the three publications start at once; the
// provider must make the consumers wait for their producers' publishes
// rather than fail "Producers Not Published".
func TestAccOrder_onlyPublicationsReplaced(t *testing.T) {
	e := newTestEnv(t)
	config := orderChain(t, e)
	dev, qa := e.stageKey("Development"), e.stageKey("QA")
	pubs := []string{"outsystems_asset_publication.wave1", "outsystems_asset_publication.wave2", "outsystems_asset_publication.wave3"}
	stageIs := func(key string) []statecheck.StateCheck {
		var checks []statecheck.StateCheck
		for _, p := range pubs {
			checks = append(checks,
				statecheck.ExpectKnownValue(p, tfjsonpath.New("stage_key"), knownvalue.StringExact(key)),
				statecheck.ExpectKnownValue(p, tfjsonpath.New("status"), knownvalue.StringExact("Finished")))
		}
		return checks
	}
	var replaced []plancheck.PlanCheck
	for _, p := range pubs {
		replaced = append(replaced, plancheck.ExpectResourceAction(p, plancheck.ResourceActionDestroyBeforeCreate))
	}
	replaced = append(replaced,
		plancheck.ExpectResourceAction("outsystems_library_release.wave1", plancheck.ResourceActionNoop),
		plancheck.ExpectResourceAction("outsystems_library_release.wave2", plancheck.ResourceActionNoop))
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             resource.ComposeAggregateTestCheckFunc(checkPublicationsKept(e), checkReleasesDestroyed(e)),
		Steps: []resource.TestStep{
			{Config: config("Development"), ConfigStateChecks: stageIs(dev)},
			{ // only the publications are replaced: producers still go first
				Config:            config("NonProduction"),
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: replaced},
				ConfigStateChecks: stageIs(qa),
			},
		},
	})
}

// TestAccOrder_destroyWithUnappliedMapping is issue 12's class 5: a
// mapping added to the configuration but never applied (here one that
// breaks a kit rule) must not keep `terraform destroy` from destroying what
// is in state. Before a destroy Terraform refreshes the state with a normal
// plan of the configuration (on 1.5 and on 1.11 alike), which the provider
// cannot tell from any other plan: the rule's error, which a plan must
// give (class 4), then stops the destroy too. So the error says how to
// destroy anyway, and both ways work: `terraform destroy -refresh=false`,
// which destroys what the state holds without planning the configuration,
// and removing the mapping from the configuration first. Checked on the
// pinned Terraform and on /usr/local/bin/terraform where present.
func TestAccOrder_destroyWithUnappliedMapping(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	applied := `
terraform {
  required_providers {
    outsystems = { source = "seed-1be1de96/outsystems" }
  }
}
` + e.mappingConfig("Order Portal", "web_app", "", "Customer Portal")
	broken := applied + fmt.Sprintf(`
resource "outsystems_app_mapping" "never_applied" {
  name                 = "Order Library"
  asset_type           = "library"
  o11_application_keys = [%q]
}
`, e.appKey("Broker Portal"))
	for i, cli := range importTerraforms(t) {
		t.Logf("destroy with a broken, never applied mapping, on %s", cli)
		c := newCLIDirFor(t, e.sb.Exports(), cli)
		if err := os.MkdirAll(c.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		c.write(applied)
		c.run("apply", "-input=false", "-auto-approve", "-no-color")
		mappings, err := e.as.ListMappings(context.Background())
		if err != nil || len(mappings) != 1 || mappings[0].Name != "Order Portal" {
			t.Fatalf("%s: after apply the assessment tool holds %+v (%v); want the mapping \"Order Portal\"", cli, mappings, err)
		}

		c.write(broken)
		out := c.runAll(1, "destroy", "-input=false", "-auto-approve", "-no-color")
		for _, want := range []string{"Library Needs Library-Only Apps", "This mapping is not applied yet",
			"terraform destroy -refresh=false", "remove this mapping from the configuration first"} {
			if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
				t.Errorf("%s: terraform destroy with a broken, never applied mapping: the output lacks %q:\n%s", cli, want, out)
			}
		}
		if i%2 == 0 {
			out = c.runAll(0, "destroy", "-input=false", "-auto-approve", "-no-color", "-refresh=false")
		} else { // the other way out: the mapping leaves the configuration first
			c.write(applied)
			out = c.runAll(0, "destroy", "-input=false", "-auto-approve", "-no-color")
		}
		if !strings.Contains(out, "Destroy complete! Resources: 1 destroyed.") {
			t.Errorf("%s: the destroy did not destroy the applied mapping:\n%s", cli, out)
		}
		if mappings, err = e.as.ListMappings(context.Background()); err != nil || len(mappings) != 0 {
			t.Errorf("%s: after destroy the assessment tool holds %+v (%v); want no mapping", cli, mappings, err)
		}
	}
}

// TestAwaitProducers: the gate's wait. A consumer waits for a producer a
// create of the same process has under way, keeps waiting while another
// create works, gives up a grace after nothing suggests the producer is
// coming, accepts a fallback (a released library) only after the grace, and
// stops when its context ends.
func TestAwaitProducers(t *testing.T) {
	const stage = "96d227a4-d434-44d1-b16b-ecab41a81d37"
	producer := client.ReferencedProducer{AssetKey: "5e0b7a1c-2d3f-4e5a-9b8c-7d6e5f4a3b21", Name: "Order Core", AssetType: client.AssetTypeLibrary}
	grace := orderGrace()
	// gate runs awaitProducers for a consumer recorded as a create of d;
	// check says the producer is missing (under way when a create of d has
	// it under way) until published is closed.
	gate := func(ctx context.Context, d *providerData, published <-chan struct{}, fallback bool) ([]client.ReferencedProducer, time.Duration, error) {
		defer d.order.begin(publishOrderKey(stage, "consumer"))()
		start := time.Now()
		missing, err := d.awaitProducers(ctx, "test", func(context.Context) (producerCheck, error) {
			select {
			case <-published:
				return producerCheck{}, nil
			default:
			}
			if fallback {
				return producerCheck{fallback: []client.ReferencedProducer{producer}}, nil
			}
			return producerCheck{missing: []client.ReferencedProducer{producer},
				underway: d.order.underway(publishOrderKey(stage, producer.AssetKey))}, nil
		})
		return missing, time.Since(start), err
	}
	t.Run("waits for a producer under way in this apply", func(t *testing.T) {
		t.Parallel()
		d := &providerData{}
		published := make(chan struct{})
		end := d.order.begin(publishOrderKey(stage, producer.AssetKey))
		go func() { time.Sleep(grace + time.Second); close(published); end() }()
		missing, took, err := gate(context.Background(), d, published, false)
		if err != nil || len(missing) != 0 || took < grace+time.Second {
			t.Errorf("got missing %v, err %v after %s; want none after the producer's publish (%s)", missing, err, took, grace+time.Second)
		}
	})
	t.Run("keeps waiting while another create works", func(t *testing.T) {
		t.Parallel()
		d := &providerData{}
		published := make(chan struct{})
		end := d.order.begin(publishOrderKey(stage, "another asset"))
		go func() { time.Sleep(grace + time.Second); close(published); end() }()
		missing, took, err := gate(context.Background(), d, published, false)
		if err != nil || len(missing) != 0 || took < grace+time.Second {
			t.Errorf("got missing %v, err %v after %s; want none once the producer is published (%s)", missing, err, took, grace+time.Second)
		}
	})
	t.Run("gives up a grace after nothing is under way", func(t *testing.T) {
		t.Parallel()
		missing, took, err := gate(context.Background(), &providerData{}, nil, false)
		if err != nil || len(missing) != 1 || missing[0] != producer || took < grace || took > grace+2*time.Second {
			t.Errorf("got missing %v, err %v after %s; want %q missing after the grace of %s", missing, err, took, producer.Name, grace)
		}
	})
	t.Run("a fallback counts only after the grace", func(t *testing.T) {
		t.Parallel()
		missing, took, err := gate(context.Background(), &providerData{}, nil, true)
		if err != nil || len(missing) != 0 || took < grace || took > grace+2*time.Second {
			t.Errorf("got missing %v, err %v after %s; want none after the grace of %s", missing, err, took, grace)
		}
	})
	t.Run("stops when the context ends", func(t *testing.T) {
		t.Parallel()
		d := &providerData{}
		defer d.order.begin(publishOrderKey(stage, producer.AssetKey))()
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, took, err := gate(ctx, d, nil, false)
		if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "Order Core") || took > 2*time.Second {
			t.Errorf("got err %v after %s; want a timeout naming the missing producer", err, took)
		}
		d.order.mu.Lock()
		defer d.order.mu.Unlock()
		if d.order.active != 1 { // the producer's create only: the consumer has ended
			t.Errorf("after the consumer ended, %d creates count as working; want 1", d.order.active)
		}
	})
}
