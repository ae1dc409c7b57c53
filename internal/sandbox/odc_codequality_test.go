package sandbox

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// The admin surface adds code-quality findings to a revision; its analysis
// summary shows them at once.
func TestAdminAddCodeFindings(t *testing.T) {
	e := startODC(t, Options{CodeAnalysisDuration: time.Millisecond})
	// An API client that may read code quality but not migrate.
	tok := e.token(clientNoMigrate)
	e.seed(testAssets[0])
	summary := "/api/code-quality/v1/assets/" + keyCore + "/revisions/1/analysis-summary"
	e.api(http.MethodGet, summary, tok, nil).expect(t, http.StatusNotFound)

	url := e.base + "/_sandbox/odc/assets/" + keyCore + "/revisions/1/code-findings"
	body := map[string]any{"findings": []fixture.CodeFinding{
		{PatternID: "SEC-1", Category: "security", Severity: "Critical", ElementName: "Login", ElementType: "Screen"},
		{PatternID: "PERF-1", Category: "performance", Severity: "Low", ElementName: "GetAll", ElementType: "Aggregate"},
	}}
	r := do(t, http.MethodPost, url, "", body).expect(t, http.StatusCreated)
	if !strings.Contains(string(r.body), `"analysisKey"`) {
		t.Errorf("answer = %s", r.body)
	}
	got := string(e.api(http.MethodGet, summary, tok, nil).expect(t, http.StatusOK).body)
	for _, want := range []string{`"qualityScore":84`, `"security":{"lowSeverity":0,"mediumSeverity":0,"highSeverity":0,"criticalSeverity":1}`,
		`"performance":{"lowSeverity":1,`} {
		if !strings.Contains(got, want) {
			t.Errorf("summary %s lacks %s", got, want)
		}
	}

	do(t, http.MethodPost, url, "", map[string]any{"findings": []map[string]string{{"patternId": "X", "category": "style", "severity": "Low", "elementName": "Y"}}}).
		expect(t, http.StatusBadRequest)
	do(t, http.MethodPost, url, "", `{"nope": 1}`).expect(t, http.StatusBadRequest)
	do(t, http.MethodPost, e.base+"/_sandbox/odc/assets/"+keyCore+"/revisions/9/code-findings", "", body).expect(t, http.StatusNotFound)
	if _, err := e.sb.AddCodeFindings(keyCore, 1); err == nil {
		t.Error("AddCodeFindings without findings succeeded")
	}
}

// POST /code-analyses has a limit of its own (10 a minute at ODC); reads of
// the code quality API are not held by it.
func TestRateLimitCodeAnalyses(t *testing.T) {
	clock := newFakeClock()
	e := startLimited(t, Options{RateLimit: 100, DeploymentRateLimit: 2, RetryAfter: true, CodeAnalysisDuration: time.Millisecond}, clock)
	if err := e.sb.SeedODCAsset(MigratedAsset{Key: keyCore, Name: "Customer Core", AssetType: AssetTypeLibrary}); err != nil {
		t.Fatal(err)
	}
	analyses := e.base + "/api/code-quality/v1/code-analyses"
	body := map[string]any{"assetKey": keyCore, "assetRevision": 1}
	e.must(http.MethodPost, analyses, e.accessToken, body, nil).expect(t, http.StatusOK)
	e.must(http.MethodPost, analyses, e.accessToken, body, nil).expect(t, http.StatusOK)
	expectThrottled(t, "odc", e.must(http.MethodPost, analyses, e.accessToken, body, nil), 60)
	clock.Advance(2 * time.Second)
	e.must(http.MethodGet, e.base+"/api/code-quality/v1/assets/"+keyCore+"/revisions/1/analysis-summary", e.accessToken, nil, nil).expect(t, http.StatusOK)
}
