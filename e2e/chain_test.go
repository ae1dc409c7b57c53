package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestChainModules: a chain of producers published by a local module with
// module-level depends_on. The mobile app at the end of the chain is not
// ready for ODC: the first apply stops before migrating anything, naming the
// app and its finding. Once the findings are fixed in O11 (the sandbox's
// admin API), the apply migrates, but the app fails to publish in ODC: the
// apply stops with ODC's message, the three libraries before it are
// published and released in order, and the next plan offers to publish only
// the app again.
func TestChainModules(t *testing.T) {
	t.Parallel()
	onCLIs(t, pinnedCLI, func(t *testing.T, c cli) {
		w := newWorld(t)
		d := w.workdir(c, "chain")
		d.run("get", "-no-color")

		want := actions{`outsystems_code_migration.chain`: "create"}
		for _, name := range []string{"Common Utils", "Policy Core", "Claims Core", "Field Inspector"} {
			want[`outsystems_app_mapping.asset["`+name+`"]`] = "create"
		}
		for _, m := range []string{"common_utils", "policy_core", "claims_core"} {
			want[`module.`+m+`.outsystems_asset_publication.this`] = "create"
			want[`module.`+m+`.outsystems_library_release.this[0]`] = "create"
		}
		want[`module.field_inspector.outsystems_asset_publication.this`] = "create"
		d.plan("chain.tfplan").expect(t, "first plan", want)

		out := d.fail("apply", "-input=false", "-no-color", "chain.tfplan")
		matches(t, "migrating with Field Inspector not ready", out, "Assets Not Ready For ODC", "Field Inspector (mobile_app", "NotReady",
			"Server action called from client in a loop")
		if n := len(w.assetsNamed("Common Utils")); n != 0 {
			t.Errorf("ODC holds %d assets named Common Utils after the refused migration, want none", n)
		}

		// The developers fix Field Inspector in O11; the assessment passes.
		var mappings map[string]string
		d.output("mapping_ids", &mappings)
		w.admin(http.MethodPost, "/_sandbox/assessment/mappings/"+mappings["Field Inspector"]+"/fix-all", nil)
		fixed := actions{}
		for addr, a := range want {
			if !strings.HasPrefix(addr, "outsystems_app_mapping.") {
				fixed[addr] = a
			}
		}
		d.plan("fixed.tfplan").expect(t, "plan after the fix", fixed)
		out = d.fail("apply", "-input=false", "-no-color", "fixed.tfplan")
		matches(t, "publishing Field Inspector", out, "module.field_inspector.outsystems_asset_publication.this",
			"Local storage entity 'LocalInspection' has the Binary Data attribute 'Photo'")

		utils, policy, claims, app := w.oneAsset("Common Utils"), w.oneAsset("Policy Core"), w.oneAsset("Claims Core"), w.oneAsset("Field Inspector")
		w.before(utils, policy)
		w.before(policy, claims)
		if at, ok := w.sb.PublishedAt(app.Key, w.stageKey("Development")); ok {
			t.Errorf("Field Inspector is published (at %v) though its publish failed", at)
		}
		w.released("Claims Core", claims.Key)

		// The next plan retries the failed publish and nothing else.
		again := d.plan("retry.tfplan")
		if a := again[`module.field_inspector.outsystems_asset_publication.this`]; a != "create" && a != "replace" {
			t.Errorf("plan after the failed publish: Field Inspector's publication %q, want create or replace (whole plan %v)", a, again)
		}
		delete(again, `module.field_inspector.outsystems_asset_publication.this`)
		again.expect(t, "plan after the failed publish, the rest", actions{})
	})
}
