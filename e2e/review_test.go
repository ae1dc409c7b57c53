package e2e

import (
	"testing"
)

// TestReviewRenameStage: the mapping is applied alone first (-target) and
// reviewed; the team renames the asset before migrating (the plan updates
// the mapping in place and migrates under the new name), then moves the
// library to another stage (the plan replaces the publication only, and the
// release stays).
func TestReviewRenameStage(t *testing.T) {
	t.Parallel()
	onCLIs(t, pinnedCLI, func(t *testing.T, c cli) {
		w := newWorld(t)
		d := w.workdir(c, "review")

		// 1. The mapping alone, for review.
		d.plan("mapping.tfplan", "-target=outsystems_app_mapping.utilities").expect(t, "targeted plan", actions{
			`outsystems_app_mapping.utilities`: "create",
		})
		d.run("apply", "-input=false", "-no-color", "mapping.tfplan")
		var status string
		d.output("status", &status)
		if status != "ReadyForOdc" && status != "ChangeInOdc" {
			t.Errorf("status of the merged mapping = %q, want ReadyForOdc or ChangeInOdc", status)
		}

		// 2. Renamed in review: the mapping is updated in place. Then migrated.
		d.vars(map[string]any{"asset_name": "Shared Utilities"})
		d.plan("rename.tfplan", "-target=outsystems_app_mapping.utilities").expect(t, "plan of the rename", actions{
			`outsystems_app_mapping.utilities`: "update",
		})
		d.run("apply", "-input=false", "-no-color", "rename.tfplan")
		d.plan("migrate.tfplan").expect(t, "plan of the migration", actions{
			`outsystems_code_migration.utilities`:    "create",
			`outsystems_asset_publication.utilities`: "create",
			`outsystems_library_release.utilities`:   "create",
		})
		d.run("apply", "-input=false", "-no-color", "migrate.tfplan")
		lib := w.oneAsset("Shared Utilities")
		if n := len(w.assetsNamed("Utilities")); n != 0 {
			t.Errorf("ODC holds %d assets under the old name Utilities, want none", n)
		}
		devAt := w.published("Shared Utilities", lib.Key, "Development")
		releasedAt := w.released("Shared Utilities", lib.Key)
		d.noChanges("after the migration")

		// 3. Another stage: the publication is replaced, the release stays.
		d.vars(map[string]any{"asset_name": "Shared Utilities", "stage": "QA"})
		d.plan("stage.tfplan").expect(t, "plan after the stage change", actions{
			`outsystems_asset_publication.utilities`: "replace",
		})
		d.run("apply", "-input=false", "-no-color", "stage.tfplan")
		if at := w.published("Shared Utilities", lib.Key, "QA"); at.Before(devAt) {
			t.Errorf("published in QA at %v, before the first publish at %v", at, devAt)
		}
		// ODC cannot unpublish: the replaced publication is only forgotten.
		if at := w.published("Shared Utilities", lib.Key, "Development"); !at.Equal(devAt) {
			t.Errorf("the Development publication changed (%v, was %v)", at, devAt)
		}
		if at := w.released("Shared Utilities", lib.Key); !at.Equal(releasedAt) {
			t.Errorf("released again at %v (first at %v): the release had no change", at, releasedAt)
		}
		w.oneAsset("Shared Utilities")
		d.noChanges("after the stage change")
	})
}
