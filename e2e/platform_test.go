package e2e

import (
	"testing"
)

// platformCreates is the first plan of testdata/platform.
var platformCreates = actions{
	`outsystems_app_mapping.this["foundation"]`:     "create",
	`outsystems_app_mapping.this["customer"]`:       "create",
	`outsystems_app_mapping.this["policy"]`:         "create",
	`outsystems_app_mapping.this["broker"]`:         "create",
	`outsystems_lifetime_tag.this["Common Utils"]`:  "create",
	`outsystems_lifetime_tag.this["Acme Theme"]`:    "create",
	`outsystems_lifetime_tag.this["Customer Core"]`: "create",
	`outsystems_lifetime_tag.this["Policy Core"]`:   "create",
	`outsystems_lifetime_tag.this["Broker Portal"]`: "create",
	`outsystems_code_migration.this`:                "create",
	`outsystems_asset_publication.foundation`:       "create",
	`outsystems_library_release.foundation`:         "create",
	`outsystems_asset_publication.customer`:         "create",
	`outsystems_library_release.customer`:           "create",
	`outsystems_asset_publication.policy`:           "create",
	`outsystems_library_release.policy`:             "create",
	`outsystems_asset_publication.broker`:           "create",
}

// TestPlatformDiamond: a many-to-one library and a diamond of producers in
// one state, planned and applied from a saved plan; an app unpublished out
// of band is published again and nothing else moves; of two plans saved
// from the same state, the second to be applied is refused as stale; and
// destroy forgets what ODC cannot undo.
func TestPlatformDiamond(t *testing.T) {
	t.Parallel()
	onCLIs(t, allCLIs, func(t *testing.T, c cli) {
		w := newWorld(t)
		d := w.workdir(c, "platform")

		// 1. The reviewed plan, applied as saved.
		d.plan("wave.tfplan").expect(t, "first plan", platformCreates)
		d.run("apply", "-input=false", "-no-color", "wave.tfplan")

		foundation, customer, policy, broker := w.oneAsset("Foundation"), w.oneAsset("Customer Core"), w.oneAsset("Policy Core"), w.oneAsset("Broker Portal")
		if foundation.AssetType != "LowCodeLibrary" || broker.AssetType != "WebApplication" {
			t.Errorf("asset types: Foundation %s, Broker Portal %s; want LowCodeLibrary, WebApplication", foundation.AssetType, broker.AssetType)
		}
		for _, name := range []string{"Common Utils", "Acme Theme"} {
			if n := len(w.assetsNamed(name)); n != 0 {
				t.Errorf("ODC holds %d assets named %q: the app was merged into Foundation, want none", n, name)
			}
		}
		w.before(foundation, customer)
		w.before(foundation, policy)
		w.before(customer, broker)
		w.before(policy, broker)
		var keys map[string]string
		d.output("asset_keys", &keys)
		if keys["foundation"] != foundation.Key || keys["broker"] != broker.Key {
			t.Errorf("output asset_keys = %v; ODC has Foundation %s, Broker Portal %s", keys, foundation.Key, broker.Key)
		}
		d.noChanges("after the first apply")

		// 2. Someone resets Broker Portal in the Development stage: the plan
		// publishes it again, and only it.
		brokerAt := w.published("Broker Portal", broker.Key, "Development")
		foundationAt := w.published("Foundation", foundation.Key, "Development")
		w.unpublish("Development", broker.Key)
		d.plan("drift.tfplan").expect(t, "plan after Broker Portal was unpublished", actions{
			`outsystems_asset_publication.broker`: "create",
		})
		// A second plan of the same change, saved from the same state.
		d.plan("twice.tfplan")
		d.run("apply", "-input=false", "-no-color", "drift.tfplan")
		if at := w.published("Broker Portal", broker.Key, "Development"); !at.After(brokerAt) {
			t.Errorf("Broker Portal published at %v, not republished after %v", at, brokerAt)
		}
		if at := w.published("Foundation", foundation.Key, "Development"); !at.Equal(foundationAt) {
			t.Errorf("Foundation published again at %v (was %v): only Broker Portal had drifted", at, foundationAt)
		}
		d.noChanges("after publishing Broker Portal again")

		// 3. The other saved plan is stale now: the CLI refuses it.
		out := d.fail("apply", "-input=false", "-no-color", "twice.tfplan")
		matches(t, "applying a plan saved before the last apply", out, "Saved plan is stale")

		// 4. Destroy forgets: ODC cannot unpublish, and the releases keep_on_destroy.
		d.plan("destroy.tfplan", "-destroy").expect(t, "destroy plan", func() actions {
			want := actions{}
			for addr := range platformCreates {
				want[addr] = "delete"
			}
			return want
		}())
		d.run("apply", "-input=false", "-no-color", "destroy.tfplan")
		if left := d.state(); len(left) != 0 {
			t.Errorf("state after destroy: %v", left)
		}
		for _, a := range []struct {
			name string
			key  string
			lib  bool
		}{{"Foundation", foundation.Key, true}, {"Customer Core", customer.Key, true}, {"Policy Core", policy.Key, true}, {"Broker Portal", broker.Key, false}} {
			w.published(a.name, a.key, "Development")
			if a.lib {
				w.released(a.name, a.key)
			}
		}
	})
}
