package sandbox

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// deployedIn lists the keys of the assets deployed in a stage.
func (e *cloudEnv) deployedIn(token, stageKey string) []string {
	e.t.Helper()
	r := e.api(http.MethodGet, portfolioBase+"/deployed-assets?environmentKey="+stageKey, token, nil).expect(e.t, http.StatusOK)
	var keys []string
	for _, a := range decode[pagedList[deployedAsset]](e.t, r).Results {
		keys = append(keys, a.Key)
	}
	return keys
}

func TestAdminUnpublishAsset(t *testing.T) {
	e := startODC(t, Options{PublishDuration: 50 * time.Millisecond})
	tok := e.token(clientMigration)
	for _, a := range testAssets {
		e.seed(a)
	}
	dev, qa := e.stage("Development"), e.stage("QA")
	e.publish(tok, keyCore, dev)
	e.publish(tok, keyPolicy, dev)
	portalDev := e.publish(tok, keyPortal, dev)
	coreQA := e.publish(tok, keyCore, qa)
	if got := e.deployedIn(tok, dev); !slices.Contains(got, keyPortal) {
		t.Fatalf("deployed in Development = %v, want Customer Portal", got)
	}
	url := func(stage, asset string) string { return e.base + "/_sandbox/odc/stages/" + stage + "/assets/" + asset }

	do(t, http.MethodDelete, url(dev, strings.ToUpper(keyPortal)), "", nil).expect(t, http.StatusNoContent)
	if got := e.deployedIn(tok, dev); slices.Contains(got, keyPortal) {
		t.Errorf("deployed in Development after unpublishing = %v", got)
	}
	if _, ok := e.sb.PublishedAt(keyPortal, dev); ok {
		t.Error("PublishedAt still reports the unpublished asset")
	}
	// The operations that published it there are gone; others stay.
	e.api(http.MethodGet, deploymentBase+"/publish-operations/"+portalDev.Key, tok, nil).expectODCProblem(t, http.StatusNotFound)
	e.api(http.MethodGet, deploymentBase+"/publish-operations/"+coreQA.Key, tok, nil).expect(t, http.StatusOK)
	// It can be published again.
	if op := e.publish(tok, keyPortal, dev); op.Status != odc.StatusFinished {
		t.Errorf("publishing again = %+v", op)
	}

	// A producer removed from the stage breaks publishing its consumers there.
	if err := e.sb.UnpublishAsset(dev, keyCore); err != nil {
		t.Fatal(err)
	}
	if op := e.publish(tok, keyPolicy, dev); op.Status != odc.StatusFinishedWithError {
		t.Errorf("publishing a consumer of an unpublished producer = %+v, want FinishedWithError", op)
	}
	if _, ok := e.sb.PublishedAt(keyCore, qa); !ok {
		t.Error("unpublishing from Development unpublished from QA too")
	}

	// Errors.
	for _, tt := range []struct {
		stage, asset string
		status       int
		contains     string
	}{
		{dev, keyCore, http.StatusNotFound, "is not published in stage 'Development'"},
		{uuid.NewString(), keyCore, http.StatusNotFound, "Stage"},
		{dev, uuid.NewString(), http.StatusNotFound, "Asset"},
		{"dev", keyCore, http.StatusBadRequest, "stageKey"},
		{dev, "portal", http.StatusBadRequest, "assetKey"},
	} {
		r := do(t, http.MethodDelete, url(tt.stage, tt.asset), "", nil).expect(t, tt.status)
		if msg := decode[map[string]string](t, r)["error"]; !strings.Contains(msg, tt.contains) {
			t.Errorf("DELETE %s/%s: error %q does not contain %q", tt.stage, tt.asset, msg, tt.contains)
		}
	}
	do(t, http.MethodPost, url(dev, keyPortal), "", nil).expect(t, http.StatusMethodNotAllowed)
	if err := e.sb.UnpublishAsset(dev, "portal"); !errors.Is(err, httpx.ErrInvalid) {
		t.Errorf("UnpublishAsset(bad key) = %v", err)
	}

	// Not while a publish of the asset to the stage runs.
	running := decode[publishOperation](t, e.api(http.MethodPost, deploymentBase+"/publish-operations", tok,
		map[string]any{"operation": "Publish", "assetKey": keyPortal, "revision": 1, "environmentKey": dev}).expect(t, http.StatusCreated))
	startedAt, err := time.Parse(time.RFC3339Nano, running.StartedDateTime)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sb.odc.UnpublishAsset(context.Background(), dev, keyPortal, startedAt); !errors.Is(err, httpx.ErrConflict) {
		t.Errorf("unpublishing during a publish = %v, want a conflict", err)
	}
	e.waitPublish(tok, running.Key)
	do(t, http.MethodDelete, url(dev, keyPortal), "", nil).expect(t, http.StatusNoContent)
}

func TestAdminDeleteCodeMigration(t *testing.T) {
	e := newMigrationEnv(t, Options{})
	keys := e.ready([3]string{"Common Utils", AssetTypeLibrary, "Common Utils"}, [3]string{"Claims Core", AssetTypeLibrary, "Claims Core"})
	url := func(key string) string { return e.url + "/_sandbox/code-migrations/" + key }

	// A migration in progress: purged, its mapping is free again.
	m := e.start(keys["Common Utils"])
	e.call(http.MethodDelete, "/mappings/"+keys["Common Utils"], nil).expectProblem(t, http.StatusConflict, codemigration.CodeMappingInUse)
	do(t, http.MethodDelete, url(strings.ToUpper(m.Key)), "", nil).expect(t, http.StatusNoContent)
	e.cm(http.MethodGet, "/code-migrations/"+m.Key, clientMigration, nil).expectProblem(t, http.StatusNotFound, codemigration.CodeMigrationNotFound)
	if _, ok := e.sb.MigrationFinishedAt(m.Key); ok {
		t.Error("MigrationFinishedAt still knows the purged migration")
	}
	e.call(http.MethodDelete, "/mappings/"+keys["Common Utils"], nil).expect(t, http.StatusNoContent)

	// A finished one: purged, the ODC assets it made stay.
	done := e.start(keys["Claims Core"])
	e.clock.Advance(testMigrationDuration)
	finished := e.get(done.Key)
	if finished.Status != codemigration.StatusFinished || len(finished.Assets) != 1 {
		t.Fatalf("finished = %+v", finished)
	}
	if err := e.sb.DeleteCodeMigration(done.Key); err != nil {
		t.Fatal(err)
	}
	if got := e.list(""); len(got.Results) != 0 {
		t.Errorf("code migrations after purging = %+v", got.Results)
	}
	e.cloudAsset(finished.Assets[0].AssetKey)

	// Errors.
	r := do(t, http.MethodDelete, url(done.Key), "", nil).expect(t, http.StatusNotFound)
	if msg := decode[map[string]string](t, r)["error"]; !strings.Contains(msg, done.Key) {
		t.Errorf("404 error = %q", msg)
	}
	do(t, http.MethodDelete, url("nope"), "", nil).expect(t, http.StatusBadRequest)
	do(t, http.MethodGet, url(done.Key), "", nil).expect(t, http.StatusMethodNotAllowed)
	if err := e.sb.DeleteCodeMigration(uuid.NewString()); !errors.Is(err, httpx.ErrNotFound) {
		t.Errorf("DeleteCodeMigration(unknown) = %v", err)
	}
}
