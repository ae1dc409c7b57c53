package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestODCBuildsClient(t *testing.T) {
	gets := 0
	c := newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/builds/v1/build-operations" && r.Method == http.MethodGet:
			if q := r.URL.Query(); q.Get("assetKey") != "a" || q.Get("assetRevision") != "2" || q.Get("byBuildType") != "Release" {
				t.Errorf("query = %v", q)
			}
			writeTestJSON(w, http.StatusOK, map[string]any{"builds": []map[string]any{
				{"buildKey": "old", "assetKey": "a", "assetRevision": 2, "buildType": "Release", "status": "Finished", "finishedDateTime": "2026-11-01T00:00:00Z"},
				{"buildKey": "new", "assetKey": "a", "assetRevision": 2, "buildType": "Release", "status": "Finished", "finishedDateTime": "2026-11-02T00:00:00Z"},
				{"buildKey": "failed", "assetKey": "a", "assetRevision": 2, "buildType": "Release", "status": "FinishedWithErrors", "finishedDateTime": "2026-11-03T00:00:00Z"},
			}})
		case r.URL.Path == "/api/builds/v1/build-operations/b1":
			gets++
			status := "Running"
			if gets > 1 {
				status = "FinishedWithErrors"
			}
			writeTestJSON(w, http.StatusOK, map[string]any{"buildKey": "b1", "assetKey": "a", "assetRevision": 2, "buildType": "Release", "status": status})
		case r.URL.Path == "/api/builds/v1/build-operations/b1/log-messages":
			writeTestJSON(w, http.StatusOK, map[string]any{"results": []map[string]any{
				{"timestamp": "2026-11-30T10:00:00Z", "severity": "Error", "message": "TrueChange error in 'Orders': Invalid Data Type.", "assetKey": "a"}}})
		case r.URL.Path == "/api/dependency-management/v1/deployment-analyses":
			writeTestJSON(w, http.StatusCreated, map[string]any{"analysisKey": "an-1"})
		case r.URL.Path == "/api/dependency-management/v1/deployment-analyses/an-1":
			writeTestJSON(w, http.StatusOK, map[string]any{"analysisKey": "an-1", "processStatus": "Finished", "assetKey": "a", "report": map[string]any{
				"status": "ErrorsFound", "impactedAssets": []map[string]any{{"referenceType": "Producer", "assetKey": "p",
					"applicationLevelIssues": []map[string]any{{"conflictType": "MissingApplication", "conflictSeverity": "Error"}},
					"elementLevelIssues":     []map[string]any{{"name": "GetOrders", "conflictType": "IncompatibleElement", "conflictSeverity": "Warning", "hint": "changed"}}}}}})
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL)
		}
	}).client(t)
	ctx := context.Background()
	b, err := c.FindReleaseBuild(ctx, "a", 2)
	if err != nil || b == nil || b.Key != "new" {
		t.Errorf("FindReleaseBuild = %+v, %v", b, err)
	}
	_, err = c.WaitBuild(ctx, "b1", FixedPoll(time.Millisecond))
	var failed *OperationFailedError
	if !errors.As(err, &failed) || !strings.Contains(err.Error(), "the Release build b1 (asset a revision 2)") || !strings.Contains(err.Error(), "Invalid Data Type") {
		t.Errorf("WaitBuild = %v", err)
	}
	a, err := c.AnalyzeDeployment(ctx, "a", 2, "qa", FixedPoll(time.Millisecond))
	if err != nil || a.Status != AnalysisErrorsFound || len(a.Impacted) != 1 || len(a.Impacted[0].Issues) != 2 {
		t.Fatalf("AnalyzeDeployment = %+v, %v", a, err)
	}
	if errs := a.Errors(); len(errs) != 1 || errs[0] != "Producer p: MissingApplication" {
		t.Errorf("Errors = %q", errs)
	}
}
