package sandbox

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
)

// A code migration never makes a second ODC asset of one name: a mapping no
// earlier migration produced an asset for migrates into the asset of its
// name as a new revision, and is refused when that asset is of another
// type.
func TestCodeMigrationNeverDuplicatesAName(t *testing.T) {
	e := newMigrationEnv(t, Options{})
	claims, portal := uuid.NewString(), uuid.NewString()
	if err := e.sb.SeedODCAsset(MigratedAsset{Key: claims, Name: "claims core", AssetType: AssetTypeLibrary}); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.SeedODCAsset(MigratedAsset{Key: portal, Name: "Customer Portal", AssetType: AssetTypeLibrary}); err != nil {
		t.Fatal(err)
	}
	keys := e.ready(
		[3]string{"Claims Core", AssetTypeLibrary, "Claims Core"},
		[3]string{"Customer Portal", AssetTypeWebApp, "Customer Portal"},
	)
	// A web app cannot be migrated into the library of its name: refused.
	e.cm(http.MethodPost, "/code-migrations", clientMigration, map[string]any{
		"sourceEnvironmentKey": envKey(t, e.sb.Fixture(), "Development"), "mappingKeys": []string{keys["Claims Core"], keys["Customer Portal"]},
	}).expectProblem(t, http.StatusConflict, codemigration.CodeAssetNameTaken, "'Customer Portal'", portal)

	// A library migrates into the library of its name (any case) as a new revision.
	m := e.start(keys["Claims Core"])
	e.clock.Advance(testMigrationDuration)
	done := e.get(m.Key)
	if done.Status != codemigration.StatusFinished || len(done.Assets) != 1 {
		t.Fatalf("migration = %+v", done)
	}
	if a := done.Assets[0]; a.AssetKey != claims || a.Revision != 2 || len(a.Errors) != 0 {
		t.Errorf("Claims Core = %+v, want revision 2 of the existing asset %s", a, claims)
	}
	if got := e.cloudAsset(portal); got.AssetType != AssetTypeLibrary || len(got.Revisions) != 1 || !strings.EqualFold(got.latest().Name, "Customer Portal") {
		t.Errorf("the library named Customer Portal changed: %+v", got)
	}
}
