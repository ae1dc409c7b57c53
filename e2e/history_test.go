package e2e

import (
	"strings"
	"testing"
)

// TestReviewHistory: testdata/review, migrated once and kept as history.
//
//  1. The mapping is applied alone and reviewed. The team renames the asset
//     and plans the rename and the migration in one saved plan; before it
//     is applied, someone renames the mapping in the assessment tool: the
//     apply fails with the provider's error saying what changed and to plan
//     again, never "inconsistent final plan", and migrates nothing (issue
//     12, class 2).
//  2. Planned again, the rename and the migration go through: the assets
//     are planned under the name the mapping will have, not the one the
//     tool holds before the apply.
//  3. The migration's record is purged from the Migration Kit while its
//     asset remains: the refresh warns, and the plan migrates nothing again
//     (class 6).
//  4. The wave is destroyed and applied again: ODC holds one asset of the
//     name, at revision 2, released once the team sets a higher version
//     (class 6).
func TestReviewHistory(t *testing.T) {
	t.Parallel()
	onCLIs(t, terraformCLIs, func(t *testing.T, c cli) {
		w := newWorld(t)
		d := w.workdir(c, "review")
		wave := func(mapping string) actions {
			a := actions{
				`outsystems_code_migration.utilities`:    "create",
				`outsystems_asset_publication.utilities`: "create",
				`outsystems_library_release.utilities`:   "create",
			}
			if mapping != "" {
				a[`outsystems_app_mapping.utilities`] = mapping
			}
			return a
		}

		// 1. The mapping alone; then rename and migrate in one saved plan, which the tool overtakes.
		d.plan("mapping.tfplan", "-target=outsystems_app_mapping.utilities")
		d.run("apply", "-input=false", "-no-color", "mapping.tfplan")
		id, _ := d.resource("outsystems_app_mapping.utilities")["id"].(string)
		d.vars(map[string]any{"asset_name": "Shared Utilities"})
		d.plan("wave.tfplan").expect(t, "plan of the rename and the migration", wave("update"))
		w.renameMapping(id, "Utilities (renamed in the tool)")
		out := d.fail("apply", "-input=false", "-no-color", "wave.tfplan")
		matches(t, "applying the saved plan after the rename in the tool", out, "Mapping Changed Since The Plan",
			`Mapping `+id+`: name was planned as "Utilities", but the assessment tool now says "Utilities (renamed in the tool)"`,
			"nothing was changed. Run terraform plan again")
		if strings.Contains(out, "inconsistent") {
			t.Errorf("the apply of the saved plan failed as a provider bug:\n%s", out)
		}
		if name := w.mapping(id).Name; name != "Utilities (renamed in the tool)" {
			t.Errorf("the refused apply left the mapping named %q in the tool, want the tool's own rename kept", name)
		}
		for _, name := range []string{"Utilities", "Shared Utilities", "Utilities (renamed in the tool)"} {
			if n := len(w.assetsNamed(name)); n != 0 {
				t.Errorf("ODC holds %d assets named %q after the refused apply, want none", n, name)
			}
		}

		// 2. Planned again: the mapping is renamed and migrated under its new name.
		d.plan("again.tfplan").expect(t, "plan after the rename in the tool", wave("update"))
		d.run("apply", "-input=false", "-no-color", "again.tfplan")
		if name := w.mapping(id).Name; name != "Shared Utilities" {
			t.Errorf("the mapping is named %q in the tool after the apply, want Shared Utilities", name)
		}
		lib := w.oneAsset("Shared Utilities")
		w.published(lib.Name, lib.Key, "Development")
		w.released(lib.Name, lib.Key)

		// 3. The migration's record is purged; the asset remains.
		migration, _ := d.resource("outsystems_code_migration.utilities")["id"].(string)
		w.deleteMigration(migration)
		plan, printed := d.planSays("purged.tfplan")
		plan.expect(t, "plan after the migration record was purged", actions{})
		matches(t, "plan after the migration record was purged", printed, "Warning: Code Migration Record Gone", migration,
			"the ODC assets it produced still exist", `"Shared Utilities"`, "A migration is history")
		if got := w.oneAsset("Shared Utilities"); got.LatestRevision != lib.LatestRevision {
			t.Errorf("Shared Utilities is at revision %d after the plan, was %d: nothing should migrate", got.LatestRevision, lib.LatestRevision)
		}

		// 4. Destroy, then apply again: the same asset, a new revision. Its
		// release 1.0.0 outlived the destroy (keep_on_destroy), so the new
		// revision's release must be higher.
		d.run("destroy", "-input=false", "-auto-approve", "-no-color")
		if left := w.mappings(); len(left) != 0 {
			t.Errorf("the assessment tool holds %d mappings after destroy, want none: %+v", len(left), left)
		}
		d.plan("reapply.tfplan").expect(t, "plan after destroy", wave("create"))
		out = d.fail("apply", "-input=false", "-no-color", "reapply.tfplan")
		matches(t, "releasing the new revision as 1.0.0 again", out, "Version Not Higher Than The Last Release",
			`"1.0.0" is not higher than "1.0.0", the highest existing tag of library "Shared Utilities"`, "set `version` above 1.0.0")
		d.vars(map[string]any{"asset_name": "Shared Utilities", "library_version": "1.1.0"})
		d.plan("release.tfplan").expect(t, "plan of the higher release", actions{`outsystems_library_release.utilities`: "create"})
		d.run("apply", "-input=false", "-no-color", "release.tfplan")
		got := w.oneAsset("Shared Utilities")
		if got.Key != lib.Key || got.LatestRevision != 2 || got.Tag != "1.1.0" {
			t.Errorf("after destroy and apply ODC holds Shared Utilities %s at revision %d tagged %q; want the same asset %s at revision 2, tagged 1.1.0",
				got.Key, got.LatestRevision, got.Tag, lib.Key)
		}
		if pub := d.resource("outsystems_asset_publication.utilities"); pub["revision"] != float64(2) {
			t.Errorf("the publication after the second apply is of revision %v, want 2", pub["revision"])
		}
		d.noChanges("after the second apply")
	})
}
