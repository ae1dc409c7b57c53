package odc

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Assets named after O11 applications the default fixture gives findings
// (Claims Backoffice: two critical security findings among five) or none
// (Customer Core).
var (
	keyClaims = sqldb.DerivedKey("odc-test", "claims-backoffice")
	keyClean  = sqldb.DerivedKey("odc-test", "customer-core-clean")
)

func summaryPath(assetKey string, revision int) string {
	return codeQualityBase + "/assets/" + assetKey + "/revisions/" + strconv.Itoa(revision) + "/analysis-summary"
}

// analyze starts an analysis of revision 1 and polls it until it is no longer in
// progress.
func (e *testEnv) analyze(token, assetKey string) codeAnalysisStatusJSON {
	e.t.Helper()
	started := decode[codeAnalysisJSON](e.t, e.api(http.MethodPost, codeQualityBase+"/code-analyses", token,
		map[string]any{"assetKey": assetKey, "assetRevision": 1}).expect(e.t, http.StatusOK))
	if started.Status == nil || *started.Status != AnalysisInProgress {
		e.t.Errorf("a started analysis has status %v, want %s", started.Status, AnalysisInProgress)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := decode[codeAnalysisStatusJSON](e.t, e.api(http.MethodGet, codeQualityBase+"/code-analyses/"+started.AnalysisKey, token, nil).expect(e.t, http.StatusOK))
		if *a.Status != AnalysisInProgress {
			return a
		}
		if a.Findings != nil || a.Summary != nil {
			e.t.Errorf("an analysis in progress shows findings or a summary: %+v", a)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("analysis %s still in progress", started.AnalysisKey)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCodeQualityAnalysisAndSummary(t *testing.T) {
	e := startODC(t, testOptions{CodeAnalysisDuration: 150 * time.Millisecond})
	tok := e.token(clientMigration)
	e.seed(MigratedAsset{Key: keyClaims, Name: "Claims Backoffice", AssetType: AssetTypeWebApp})
	e.seed(MigratedAsset{Key: keyClean, Name: "Customer Core", AssetType: AssetTypeLibrary})

	// No analysis yet: 404 naming what to do.
	e.api(http.MethodGet, summaryPath(keyClaims, 1), tok, nil).expectODCProblem(t, http.StatusNotFound,
		"Revision 1 of asset 'Claims Backoffice' has no completed code analysis", "POST /api/code-quality/v1/code-analyses")

	a := e.analyze(tok, keyClaims)
	if *a.Status != AnalysisCompleted || len(a.Findings) != 5 || a.QualityScore != 100-15-15-7-3-1 {
		t.Fatalf("analysis = %+v", a)
	}
	var severities []string
	for _, f := range a.Findings {
		severities = append(severities, *f.Severity)
		if *f.AssetKey != keyClaims || *f.AssetRevision != 1 || *f.Status != "Open" {
			t.Errorf("finding = %+v", f)
		}
	}
	for _, want := range fixture.CodeQualitySeverities {
		if !slices.Contains(severities, want) {
			t.Errorf("the findings' severities %q lack %s", severities, want)
		}
	}
	// Paging of the findings.
	page := decode[codeAnalysisStatusJSON](t, e.api(http.MethodGet, codeQualityBase+"/code-analyses/"+a.AnalysisKey+"?Limit=2&Offset=4", tok, nil).expect(t, http.StatusOK))
	if len(page.Findings) != 1 || *page.Findings[0].ID != *a.Findings[4].ID {
		t.Errorf("page Limit=2 Offset=4 = %+v", page.Findings)
	}

	sum := decode[assetRevisionSummaryJSON](t, e.api(http.MethodGet, summaryPath(keyClaims, 1), tok, nil).expect(t, http.StatusOK))
	c := sum.Summary.Categories
	if *sum.AssetKey != keyClaims || sum.AssetRevision != 1 || *sum.QualityScore != 59 || sum.AnalysisDate != time.Now().UTC().Format(time.DateOnly) ||
		*c.Security != (severityBreakdownJSON{CriticalSeverity: 2}) || *c.Performance != (severityBreakdownJSON{HighSeverity: 1}) ||
		*c.Architecture != (severityBreakdownJSON{MediumSeverity: 1}) || *c.Maintainability != (severityBreakdownJSON{LowSeverity: 1}) {
		t.Errorf("summary = %+v, categories %+v %+v %+v %+v", sum, *c.Security, *c.Performance, *c.Architecture, *c.Maintainability)
	}

	// An asset no fixture entry names analyzes clean.
	clean := e.analyze(tok, keyClean)
	if len(clean.Findings) != 0 || clean.QualityScore != 100 {
		t.Errorf("clean analysis = %+v", clean)
	}
	sum = decode[assetRevisionSummaryJSON](t, e.api(http.MethodGet, summaryPath(keyClean, 1), tok, nil).expect(t, http.StatusOK))
	if *sum.QualityScore != 100 || *sum.Summary.Categories.Security != (severityBreakdownJSON{}) {
		t.Errorf("clean summary = %+v", sum)
	}

	// Out of band: new findings show in the summary at once, and keep the
	// discovery date of the findings seen before.
	key, err := e.sb.svc.AddCodeFindings(t.Context(), keyClean, 1, []fixture.CodeFinding{
		{PatternID: "SEC-X", Category: "security", Severity: "Critical", ElementName: "Login", ElementType: "Screen"}})
	if err != nil || key == "" {
		t.Fatalf("AddCodeFindings = %q, %v", key, err)
	}
	sum = decode[assetRevisionSummaryJSON](t, e.api(http.MethodGet, summaryPath(keyClean, 1), tok, nil).expect(t, http.StatusOK))
	if *sum.Summary.Categories.Security != (severityBreakdownJSON{CriticalSeverity: 1}) || *sum.QualityScore != 85 {
		t.Errorf("summary after new findings = %+v", sum)
	}
	again := e.analyze(tok, keyClaims)
	if *again.Findings[0].DiscoveredOn != *a.Findings[0].DiscoveredOn || *again.Findings[0].ID != *a.Findings[0].ID {
		t.Errorf("a re-analysis rediscovered %+v as %+v", a.Findings[0], again.Findings[0])
	}
}

func TestCodeQualityErrors(t *testing.T) {
	f := fixture.Default()
	for i := range f.ODC.APIClients {
		c := &f.ODC.APIClients[i]
		switch c.Name {
		case clientNoMigrate:
			c.Permissions = slices.DeleteFunc(c.Permissions, func(p string) bool { return p == fixture.PermissionViewCodeQuality })
		case clientNoRelease:
			c.Permissions = slices.DeleteFunc(c.Permissions, func(p string) bool { return p == fixture.PermissionManageCodeQuality })
		}
	}
	e := startODC(t, testOptions{Fixture: f, CodeAnalysisDuration: time.Millisecond})
	tok := e.token(clientMigration)
	e.seed(MigratedAsset{Key: keyClaims, Name: "Claims Backoffice", AssetType: AssetTypeWebApp})
	analyses := codeQualityBase + "/code-analyses"

	e.api(http.MethodGet, summaryPath(keyClaims, 1), e.token(clientNoMigrate), nil).expectODCProblem(t, http.StatusForbidden, "'Analyze > View Code Quality findings'")
	e.api(http.MethodPost, analyses, e.token(clientNoRelease), map[string]any{"assetKey": keyClaims, "assetRevision": 1}).
		expectODCProblem(t, http.StatusForbidden, "'Analyze > Manage code quality findings'")
	e.apiOutsideContract(http.MethodGet, summaryPath(keyClaims, 1), "", nil).expect(t, http.StatusUnauthorized)

	e.api(http.MethodGet, summaryPath(keyClaims, 2), tok, nil).expect(t, http.StatusNotFound)
	e.api(http.MethodGet, summaryPath(keyCore, 1), tok, nil).expect(t, http.StatusNotFound)
	e.api(http.MethodGet, summaryPath("not-a-key", 1), tok, nil).expect(t, http.StatusNotFound)
	e.apiOutsideContract(http.MethodGet, codeQualityBase+"/assets/"+keyClaims+"/revisions/x/analysis-summary", tok, nil).expect(t, http.StatusNotFound)
	e.apiOutsideContract(http.MethodGet, summaryPath(keyClaims, 0), tok, nil).expect(t, http.StatusNotFound)

	e.api(http.MethodPost, analyses, tok, map[string]any{"assetKey": keyCore, "assetRevision": 1}).expect(t, http.StatusNotFound)
	e.api(http.MethodPost, analyses, tok, map[string]any{"assetKey": keyClaims, "assetRevision": 3}).expect(t, http.StatusNotFound)
	// Bodies the schema refuses: 400 ProblemDetails, as ODC's other APIs
	// answer. The document lists no 400 (its default answer is the success
	// shape), so these answers are not held to it.
	do(t, http.MethodPost, e.base+analyses, tok, map[string]any{"assetKey": keyClaims}).expectODCProblem(t, http.StatusBadRequest, "assetRevision is required")
	do(t, http.MethodPost, e.base+analyses, tok, map[string]any{"assetRevision": 1}).expectODCProblem(t, http.StatusBadRequest, "assetKey is required")
	do(t, http.MethodPost, e.base+analyses, tok, map[string]any{"assetKey": keyClaims, "assetRevision": 1, "x": 1}).expect(t, http.StatusBadRequest)

	e.apiOutsideContract(http.MethodGet, analyses+"/nope", tok, nil).expect(t, http.StatusNotFound)
	e.api(http.MethodGet, analyses+"/"+keyCore, tok, nil).expectODCProblem(t, http.StatusNotFound, "Code analysis with key")
	do(t, http.MethodDelete, e.base+analyses, tok, nil).expect(t, http.StatusMethodNotAllowed)

	// Bad findings are refused, naming the field.
	_, err := e.sb.svc.AddCodeFindings(t.Context(), keyClaims, 1, []fixture.CodeFinding{{PatternID: "P", Category: "style", Severity: "Blocker", ElementName: "X"}})
	if err == nil || !strings.Contains(err.Error(), `category "style"`) || !strings.Contains(err.Error(), `severity "Blocker"`) {
		t.Errorf("AddCodeFindings with bad values: %v", err)
	}
}

// The fixture's findings survive a restart and are seeded once.
func TestCodeQualityFixtureSeededOnce(t *testing.T) {
	path := t.TempDir() + "/sb.db"
	for range 2 {
		sb, _ := startSandbox(t, testOptions{DBPath: path})
		var n int
		if err := sb.db.QueryRowContext(t.Context(), `SELECT count(*) FROM odc_fixture_code_findings`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, c := range sb.fixture.ODC.CodeQuality {
			want += len(c.Findings)
		}
		if n != want || n == 0 {
			t.Errorf("fixture findings = %d, want %d", n, want)
		}
		sb.Close()
	}
}
