package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// TestPlatformWorldMoves: testdata/platform over the weeks of a migration,
// while people keep working in OutSystems.
//
//  1. The reviewed plan is applied after a colleague tagged Customer Core
//     by hand and published it again: the apply does what the plan showed
//     (a tag whose version is known after apply) and tags the next free
//     version, never "inconsistent final plan" (issue 12, class 2).
//  2. Policy Core changes in O11 since its tag: the plan offers the
//     replacement tag, and only it (class 3).
//  3. The wave moves to QA: every publication is replaced while the
//     releases stay, and producers are still published first; on
//     Terraform 1.5 the four publications start at once (class 1).
//  4. QA is reset out of band: the plan publishes every asset again, the
//     libraries included, and the apply does it producers first (classes 1
//     and 3).
//  5. A mapping is added to the configuration and, before it is ever
//     applied, the team destroys the wave: the destroy stops at the
//     mapping's error, which says to run `terraform destroy -refresh=false`;
//     that destroy succeeds and leaves no mapping in the tool (class 5).
func TestPlatformWorldMoves(t *testing.T) {
	t.Parallel()
	onCLIs(t, terraformCLIs, func(t *testing.T, c cli) {
		w := newWorld(t)
		d := w.workdir(c, "platform")

		// 1. Between plan and apply, Customer Core is tagged 2.0.1 by hand and changed again.
		d.plan("wave.tfplan").expect(t, "first plan", platformCreates)
		byHand := w.tagOutOfBand("Customer Core", "2.0.1")
		w.modify("Customer Core")
		d.run("apply", "-input=false", "-no-color", "wave.tfplan")
		tag := d.resource(`outsystems_lifetime_tag.this["Customer Core"]`)
		version, key, modified := w.running("Customer Core")
		if tag["version"] != "2.0.2" || tag["id"] != key || key == byHand || modified {
			t.Errorf("Customer Core: the tag in state is %v (%v); LifeTime runs %s (%s, modified %v), the version tagged by hand is %s; "+
				"want the tag 2.0.2 running, without changes since", tag["version"], tag["id"], version, key, modified, byHand)
		}
		foundation, customer, policy, broker := w.oneAsset("Foundation"), w.oneAsset("Customer Core"), w.oneAsset("Policy Core"), w.oneAsset("Broker Portal")
		assets := []client.Asset{foundation, customer, policy, broker}
		released := map[string]time.Time{}
		for _, a := range assets {
			w.published(a.Name, a.Key, "Development")
			if a.AssetType == "LowCodeLibrary" {
				released[a.Name] = w.released(a.Name, a.Key)
			}
		}

		// 2. Policy Core changes in O11 after its tag (1.1.0, adopted): the plan replaces the tag.
		w.modify("Policy Core")
		d.plan("retag.tfplan").expect(t, "plan after Policy Core changed in O11", actions{
			`outsystems_lifetime_tag.this["Policy Core"]`: "replace",
		})
		d.run("apply", "-input=false", "-no-color", "retag.tfplan")
		tag = d.resource(`outsystems_lifetime_tag.this["Policy Core"]`)
		if version, key, modified := w.running("Policy Core"); tag["version"] != "1.1.1" || tag["id"] != key || modified {
			t.Errorf("Policy Core: the tag in state is %v (%v); LifeTime runs %s (%s, modified %v); want the new tag 1.1.1 running",
				tag["version"], tag["id"], version, key, modified)
		}

		// 3. To QA: only the publications are replaced; producers first.
		d.vars(map[string]any{"stage": "QA"})
		d.plan("qa.tfplan").expect(t, "plan of the move to QA", publications("replace"))
		d.run("apply", "-input=false", "-no-color", "qa.tfplan")
		w.platformOrderIn("QA", foundation, customer, policy, broker)
		for _, a := range assets {
			if a.AssetType == "LowCodeLibrary" {
				if at := w.released(a.Name, a.Key); !at.Equal(released[a.Name]) {
					t.Errorf("%s released again at %v (first at %v): its release had no change", a.Name, at, released[a.Name])
				}
			}
		}

		// 4. QA is reset: every asset, libraries included, is published again.
		reset := time.Now()
		for _, a := range assets {
			w.unpublish("QA", a.Key)
		}
		d.plan("reset.tfplan").expect(t, "plan after QA was reset", publications("create"))
		d.run("apply", "-input=false", "-no-color", "reset.tfplan")
		for _, a := range assets {
			if at := w.published(a.Name, a.Key, "QA"); !at.After(reset) {
				t.Errorf("%s published in QA at %v, not again after the reset at %v", a.Name, at, reset)
			}
		}
		w.platformOrderIn("QA", foundation, customer, policy, broker)
		d.noChanges("after QA was published again")

		// 5. A mapping added, never applied (a library made of a web app), then destroy.
		d.vars(map[string]any{"stage": "QA", "mappings": map[string]any{
			"foundation": map[string]any{"name": "Foundation", "type": "library", "apps": []string{"Common Utils", "Acme Theme"}},
			"customer":   map[string]any{"name": "Customer Core", "type": "library", "apps": []string{"Customer Core"}},
			"policy":     map[string]any{"name": "Policy Core", "type": "library", "apps": []string{"Policy Core"}},
			"broker":     map[string]any{"name": "Broker Portal", "type": "web_app", "apps": []string{"Broker Portal"}},
			"portal":     map[string]any{"name": "Portal Library", "type": "library", "apps": []string{"Customer Portal"}},
		}})
		out := d.fail("destroy", "-input=false", "-auto-approve", "-no-color")
		matches(t, "destroy with a mapping never applied", out, "Library Needs Library-Only Apps", `outsystems_app_mapping.this["portal"]`,
			"This mapping is not applied yet", "terraform destroy -refresh=false")
		managed := 0
		for _, addr := range d.state() {
			if !strings.HasPrefix(addr, "data.") {
				managed++
			}
		}
		if managed != len(platformCreates) {
			t.Errorf("the refused destroy left %d resources in state, want all %d", managed, len(platformCreates))
		}
		out = d.run("destroy", "-input=false", "-auto-approve", "-no-color", "-refresh=false")
		matches(t, "destroy -refresh=false", out, "Destroy complete! Resources: 17 destroyed.")
		if left := d.state(); len(left) != 0 {
			t.Errorf("state after destroy -refresh=false: %v", left)
		}
		if left := w.mappings(); len(left) != 0 {
			var names []string
			for _, m := range left {
				names = append(names, m.Name)
			}
			t.Errorf("the assessment tool still holds %d mappings after destroy: %s", len(left), strings.Join(names, ", "))
		}
		// ODC cannot unpublish, and the releases keep_on_destroy.
		for _, a := range assets {
			w.published(a.Name, a.Key, "QA")
			if a.AssetType == "LowCodeLibrary" {
				w.released(a.Name, a.Key)
			}
		}
	})
}

// publications is the plan of testdata/platform where only the four
// publications have that action.
func publications(action string) actions {
	return actions{
		`outsystems_asset_publication.foundation`: action,
		`outsystems_asset_publication.customer`:   action,
		`outsystems_asset_publication.policy`:     action,
		`outsystems_asset_publication.broker`:     action,
	}
}

// platformOrderIn checks testdata/platform's diamond in the stage: each
// library published and released before its consumers were published.
func (w *world) platformOrderIn(stage string, foundation, customer, policy, broker client.Asset) {
	w.t.Helper()
	w.beforeIn(stage, foundation, customer)
	w.beforeIn(stage, foundation, policy)
	w.beforeIn(stage, customer, broker)
	w.beforeIn(stage, policy, broker)
}
