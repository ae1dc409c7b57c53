package e2e

import (
	"path/filepath"
	"testing"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// TestTwoWavesTwoStates: wave 1 (libraries) and wave 2 (the apps consuming
// them) in two working directories with two states; wave 2 reads wave 1's
// outputs from its state and the libraries from ODC. Each plan holds only
// its own wave, the apps are published after the libraries they consume
// were released, and neither state sees the other's apply as drift.
func TestTwoWavesTwoStates(t *testing.T) {
	t.Parallel()
	onCLIs(t, allCLIs, func(t *testing.T, c cli) {
		w := newWorld(t)
		w1 := w.workdir(c, "waves/wave1")
		w2 := w.workdir(c, "waves/wave2")
		w2.vars(map[string]any{"wave1_state": filepath.Join(w1.dir, "terraform.tfstate")})

		// Wave 2 before wave 1: its plan stops at the missing state of wave 1.
		out := w2.fail("plan", "-input=false", "-no-color")
		matches(t, "wave 2 planned before wave 1 was applied", out, "Unable to find remote state", "terraform_remote_state")

		libs := []string{"Acme Theme", "Common Utils", "Customer Core", "Policy Core"}
		want := actions{`outsystems_code_migration.wave1`: "create"}
		for _, name := range libs {
			want[`outsystems_app_mapping.lib["`+name+`"]`] = "create"
			want[`outsystems_lifetime_tag.lib["`+name+`"]`] = "create"
		}
		for _, name := range libs[:2] {
			want[`outsystems_asset_publication.first["`+name+`"]`] = "create"
			want[`outsystems_library_release.first["`+name+`"]`] = "create"
		}
		for _, name := range libs[2:] {
			want[`outsystems_asset_publication.second["`+name+`"]`] = "create"
			want[`outsystems_library_release.second["`+name+`"]`] = "create"
		}
		w1.plan("wave1.tfplan").expect(t, "wave 1's plan", want)
		w1.run("apply", "-input=false", "-no-color", "wave1.tfplan")
		lib := map[string]client.Asset{}
		for _, name := range libs {
			a := w.oneAsset(name)
			lib[name] = a
			w.published(name, a.Key, "Development")
			w.released(name, a.Key)
		}
		w.before(lib["Common Utils"], lib["Customer Core"])
		w.before(lib["Common Utils"], lib["Policy Core"])

		// Wave 2: its own mappings, tags, migration and publications only.
		w2.plan("wave2.tfplan").expect(t, "wave 2's plan", actions{
			`outsystems_app_mapping.app["Customer Portal"]`:       "create",
			`outsystems_app_mapping.app["Broker Portal"]`:         "create",
			`outsystems_lifetime_tag.app["Customer Portal"]`:      "create",
			`outsystems_lifetime_tag.app["Broker Portal"]`:        "create",
			`outsystems_code_migration.wave2`:                     "create",
			`outsystems_asset_publication.app["Customer Portal"]`: "create",
			`outsystems_asset_publication.app["Broker Portal"]`:   "create",
		})
		w2.run("apply", "-input=false", "-no-color", "wave2.tfplan")
		portal, broker := w.oneAsset("Customer Portal"), w.oneAsset("Broker Portal")
		for _, app := range []client.Asset{portal, broker} {
			for _, name := range []string{"Customer Core", "Policy Core"} {
				w.before(lib[name], app)
			}
		}
		w.before(lib["Acme Theme"], portal)
		// Customer Portal had changes since its last tag (1.2.0): tagged 1.2.1.
		// Broker Portal had none: its running 1.1.0 is adopted.
		var tags map[string]string
		w2.output("tags", &tags)
		if tags["Customer Portal"] != "1.2.1" || tags["Broker Portal"] != "1.1.0" {
			t.Errorf("wave 2's tags = %v, want Customer Portal 1.2.1 and Broker Portal 1.1.0", tags)
		}
		// Wave 1's libraries are still one asset each: wave 2 migrated no copy.
		for _, name := range libs {
			w.oneAsset(name)
		}

		w1.noChanges("wave 1 after wave 2's apply")
		w2.noChanges("wave 2 after its apply")
	})
}
