package odc

import (
	"context"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// The client's code quality calls against the sandbox, every request and
// answer checked against the code quality API's OpenAPI document.
func TestODCClientCodeQualityAgainstSandbox(t *testing.T) {
	sb, v, base := startODCSandbox(t, testOptions{CodeAnalysisDuration: 100 * time.Millisecond})
	c := newTestClient(t, sb, v, base, clientMigration)
	ctx := context.Background()
	if err := sb.SeedODCAsset(MigratedAsset{Key: keyClaims, Name: "Claims Backoffice", AssetType: AssetTypeWebApp}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CodeQualitySummary(ctx, keyClaims, 1); !client.IsNotFound(err) {
		t.Fatalf("summary before any analysis = %v, want 404", err)
	}
	started, err := c.StartCodeAnalysis(ctx, keyClaims, 1)
	if err != nil || started.Done() {
		t.Fatalf("start = %+v, %v", started, err)
	}
	done, err := c.WaitCodeAnalysis(ctx, started.Key, "revision 1 of Claims Backoffice", func(time.Duration) time.Duration { return 20 * time.Millisecond })
	if err != nil || done.Status != client.CodeAnalysisCompleted || done.QualityScore != 59 || done.Findings["security"]["Critical"] != 2 {
		t.Fatalf("wait = %+v, %v", done, err)
	}
	s, err := c.CodeQualitySummary(ctx, keyClaims, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s.QualityScore == nil || *s.QualityScore != 59 || s.BySeverity()["Critical"] != 2 || s.ByCategory()["performance"] != 1 || s.AnalysisDate == "" {
		t.Errorf("summary = %+v", s)
	}
	for _, op := range []string{"FindingsOverviewControllerV_GetAssetRevisionFindingsSummary", "CodeAnalysisControllerV_SubmitCodeAnalysisRequest", "CodeAnalysisControllerV_GetAnalysisRequestStatus"} {
		if v.Calls(op) == 0 {
			t.Errorf("%s was never checked", op)
		}
	}
}
