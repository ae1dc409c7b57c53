package e2e

import (
	"testing"
)

// TestRenameBeforeAndAfterMigrating: a configuration that indexes the
// migration's assets by the mapping's name (assets[outsystems_app_mapping.x.name]).
// Renaming the mapping in the plan that migrates it plans and applies
// (it failed with "Invalid index"); renaming it after the migration is an
// in-place update of the migration's keys, with a warning that the ODC
// asset keeps its name, and publishes and releases nothing again.
func TestRenameBeforeAndAfterMigrating(t *testing.T) {
	t.Parallel()
	onCLIs(t, allCLIs, func(t *testing.T, c cli) {
		w := newWorld(t)
		d := w.workdir(c, "review")
		d.plan("mapping.tfplan", "-target=outsystems_app_mapping.utilities")
		d.run("apply", "-input=false", "-no-color", "mapping.tfplan")

		// 1. Renamed and migrated in one plan.
		d.vars(map[string]any{"asset_name": "Shared Utilities"})
		d.plan("migrate.tfplan").expect(t, "plan of the rename and the migration", actions{
			`outsystems_app_mapping.utilities`:       "update",
			`outsystems_code_migration.utilities`:    "create",
			`outsystems_asset_publication.utilities`: "create",
			`outsystems_library_release.utilities`:   "create",
		})
		d.run("apply", "-input=false", "-no-color", "migrate.tfplan")
		lib := w.oneAsset("Shared Utilities")
		if n := len(w.assetsNamed("Utilities")); n != 0 {
			t.Errorf("ODC holds %d assets under the old name Utilities, want none", n)
		}
		releasedAt := w.released("Shared Utilities", lib.Key)

		// 2. Renamed after the migration: the keys move, nothing else.
		d.vars(map[string]any{"asset_name": "Common Library"})
		out := d.run("plan", "-input=false", "-no-color", "-out=rename.tfplan")
		matches(t, "plan of the rename after the migration", out, "Migrated Mappings Renamed",
			`assets["Shared Utilities"] becomes assets["Common Library"]`, `keeps its name "Shared Utilities"`)
		d.showPlan("rename.tfplan").expect(t, "plan of the rename after the migration", actions{
			`outsystems_app_mapping.utilities`:    "update",
			`outsystems_code_migration.utilities`: "update",
		})
		d.run("apply", "-input=false", "-no-color", "rename.tfplan")
		if got := w.oneAsset("Shared Utilities"); got.Key != lib.Key {
			t.Errorf("the asset is now %s, want %s kept", got.Key, lib.Key)
		}
		if n := len(w.assetsNamed("Common Library")); n != 0 {
			t.Errorf("ODC holds %d assets named Common Library, want none: a rename migrates nothing", n)
		}
		if at := w.released("Shared Utilities", lib.Key); !at.Equal(releasedAt) {
			t.Errorf("released again at %v (first at %v)", at, releasedAt)
		}
		d.noChanges("after the rename")
	})
}
