package odc

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// The code quality API v1 (Mentor's code analyses), as far as gating a
// promotion needs it: start an analysis of an asset revision, read its
// status and findings, and read a revision's analysis summary (findings by
// category and severity, and the quality score).
//
// What an analysis finds is the revision's code: the findings the
// fixture's odc.codeQuality lists for the application the asset is named
// after, and those the admin surface added to the revision (AddCodeFindings,
// as when Mentor learns new patterns). An analysis takes the service's
// CodeAnalysisDuration and then Completes; its findings are a snapshot taken
// when it started. A revision's summary is that of its latest completed
// analysis; before one completes the summary answers 404.

const codeQualityBase = "/api/code-quality/v1"

// DefaultCodeAnalysisDuration is how long a code analysis runs by default.
const DefaultCodeAnalysisDuration = 5 * time.Second

// Code analysis statuses. The document gives status as a plain string; the
// CI/CD guidance polls until Completed, Failed or Timeout.
const (
	AnalysisInProgress = "InProgress"
	AnalysisCompleted  = "Completed"
	AnalysisFailed     = "Failed"
	AnalysisTimeout    = "Timeout"
)

// codeQualitySchema holds code analyses and the findings of revisions. Like
// publish operations, analyses are never updated: status derives from
// finishes_at and the current time.
const codeQualitySchema = `
CREATE TABLE IF NOT EXISTS odc_fixture_code_findings (
	application  TEXT NOT NULL, -- lower-cased O11 application name
	position     INTEGER NOT NULL,
	pattern_id   TEXT NOT NULL,
	category     TEXT NOT NULL,
	severity     TEXT NOT NULL,
	element_name TEXT NOT NULL,
	element_type TEXT NOT NULL,
	PRIMARY KEY (application, position)
);
CREATE TABLE IF NOT EXISTS odc_code_findings (
	id           TEXT PRIMARY KEY,
	asset_key    TEXT NOT NULL,
	revision     INTEGER NOT NULL,
	pattern_id   TEXT NOT NULL,
	category     TEXT NOT NULL CHECK (category IN ('security', 'performance', 'architecture', 'maintainability')),
	severity     TEXT NOT NULL CHECK (severity IN ('Low', 'Medium', 'High', 'Critical')),
	element_name TEXT NOT NULL,
	element_type TEXT NOT NULL,
	added_at     INTEGER NOT NULL,
	FOREIGN KEY (asset_key, revision) REFERENCES odc_revisions (asset_key, revision)
);
CREATE INDEX IF NOT EXISTS odc_code_findings_by_revision ON odc_code_findings (asset_key, revision);
CREATE TABLE IF NOT EXISTS odc_code_analyses (
	seq          INTEGER PRIMARY KEY,
	key          TEXT NOT NULL UNIQUE,
	asset_key    TEXT NOT NULL,
	revision     INTEGER NOT NULL,
	requested_by TEXT NOT NULL,
	started_at   INTEGER NOT NULL,
	finishes_at  INTEGER NOT NULL,
	outcome      TEXT NOT NULL CHECK (outcome IN ('Completed', 'Failed', 'Timeout')),
	findings     TEXT NOT NULL, -- JSON array of codeFinding: what it found
	FOREIGN KEY (asset_key, revision) REFERENCES odc_revisions (asset_key, revision)
);
CREATE INDEX IF NOT EXISTS odc_code_analyses_by_revision ON odc_code_analyses (asset_key, revision, finishes_at);
`

// prepareCodeQuality creates the code quality tables and loads the
// fixture's findings once per database.
func prepareCodeQuality(ctx context.Context, db *sqldb.DB, f *fixture.ODC) error {
	if _, err := db.ExecContext(ctx, codeQualitySchema); err != nil {
		return fmt.Errorf("create the code quality schema: %w", err)
	}
	_, err := db.SeedOnce(ctx, "odc_code_quality_fixture", f.Organization, func(tx *sql.Tx) error {
		for _, e := range f.CodeQuality {
			for i, c := range e.Findings {
				if _, err := tx.ExecContext(ctx, `INSERT INTO odc_fixture_code_findings
					(application, position, pattern_id, category, severity, element_name, element_type) VALUES (?, ?, ?, ?, ?, ?, ?)`,
					strings.ToLower(e.Application), i, c.PatternID, c.Category, c.Severity, c.ElementName, c.ElementType); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed the code quality findings: %w", err)
	}
	return nil
}

func (s *Service) registerCodeQuality(mux *http.ServeMux) {
	view := func(h handler) http.HandlerFunc { return s.api(fixture.PermissionViewCodeQuality, h) }
	s.route(mux, codeQualityBase+"/assets/{assetKey}/revisions/{revision}/analysis-summary",
		map[string]http.HandlerFunc{http.MethodGet: view(s.getAnalysisSummary)})
	s.route(mux, codeQualityBase+"/code-analyses", map[string]http.HandlerFunc{
		http.MethodPost: s.api(fixture.PermissionManageCodeQuality, s.handleStartCodeAnalysis),
	})
	s.route(mux, codeQualityBase+"/code-analyses/{analysisKey}", map[string]http.HandlerFunc{http.MethodGet: view(s.getCodeAnalysis)})
}

// codeFinding is one finding as an analysis recorded it.
type codeFinding struct {
	ID           string    `json:"id"`
	PatternID    string    `json:"patternId"`
	Category     string    `json:"category"`
	Severity     string    `json:"severity"`
	ElementKey   string    `json:"elementKey"`
	ElementName  string    `json:"elementName"`
	ElementType  string    `json:"elementType"`
	DiscoveredOn time.Time `json:"discoveredOn"`
}

// codeAnalysis is one analysis of an asset revision.
type codeAnalysis struct {
	Key, AssetKey, RequestedBy string
	Revision                   int
	StartedAt, FinishesAt      time.Time
	Outcome                    string
	Findings                   []codeFinding
}

func (a *codeAnalysis) status(now time.Time) string {
	if now.Before(a.FinishesAt) {
		return AnalysisInProgress
	}
	return a.Outcome
}

// severityWeights lower the quality score per finding. ODC does not publish
// its formula; the sandbox's is 100 less these weights, floored at 0.
var severityWeights = map[string]float64{"Critical": 15, "High": 7, "Medium": 3, "Low": 1}

func qualityScore(findings []codeFinding) float64 {
	score := 100.0
	for _, f := range findings {
		score -= severityWeights[f.Severity]
	}
	return math.Max(score, 0)
}

// --- wire types ---

type severityBreakdownJSON struct {
	LowSeverity      int64 `json:"lowSeverity"`
	MediumSeverity   int64 `json:"mediumSeverity"`
	HighSeverity     int64 `json:"highSeverity"`
	CriticalSeverity int64 `json:"criticalSeverity"`
}

type codeAnalysisCategoriesJSON struct {
	Security        *severityBreakdownJSON `json:"security"`
	Performance     *severityBreakdownJSON `json:"performance"`
	Architecture    *severityBreakdownJSON `json:"architecture"`
	Maintainability *severityBreakdownJSON `json:"maintainability"`
}

type findingsSummaryJSON struct {
	Categories *codeAnalysisCategoriesJSON `json:"categories"`
}

func summaryOf(findings []codeFinding) *findingsSummaryJSON {
	c := &codeAnalysisCategoriesJSON{Security: &severityBreakdownJSON{}, Performance: &severityBreakdownJSON{},
		Architecture: &severityBreakdownJSON{}, Maintainability: &severityBreakdownJSON{}}
	byCategory := map[string]*severityBreakdownJSON{"security": c.Security, "performance": c.Performance,
		"architecture": c.Architecture, "maintainability": c.Maintainability}
	for _, f := range findings {
		b := byCategory[f.Category]
		if b == nil {
			continue
		}
		switch f.Severity {
		case "Low":
			b.LowSeverity++
		case "Medium":
			b.MediumSeverity++
		case "High":
			b.HighSeverity++
		case "Critical":
			b.CriticalSeverity++
		}
	}
	return &findingsSummaryJSON{Categories: c}
}

type assetRevisionSummaryJSON struct {
	AssetKey      *string              `json:"assetKey"`
	AssetRevision int64                `json:"assetRevision"`
	AnalysisDate  string               `json:"analysisDate"`
	QualityScore  *float64             `json:"qualityScore"`
	Summary       *findingsSummaryJSON `json:"summary"`
}

type elementPathJSON struct {
	ElementKey  *string `json:"elementKey"`
	ElementName *string `json:"elementName"`
	ElementType *string `json:"elementType"`
}

// revisionFindingJSON is RevisionFindingsResponseV1: every property, null
// where the sandbox has no value.
type revisionFindingJSON struct {
	ID                         *string           `json:"id"`
	PatternID                  *string           `json:"patternId"`
	DiscoveredOn               *string           `json:"discoveredOn"`
	RediscoveredOn             *string           `json:"rediscoveredOn"`
	ElementKey                 *string           `json:"elementKey"`
	ElementName                *string           `json:"elementName"`
	ElementType                *string           `json:"elementType"`
	ElementPath                []elementPathJSON `json:"elementPath"`
	ElementLastModifiedBy      *string           `json:"elementLastModifiedBy"`
	ElementLastModifiedOn      *string           `json:"elementLastModifiedOn"`
	WhereElementKey            *string           `json:"whereElementKey"`
	WhereElementName           *string           `json:"whereElementName"`
	WhereElementType           *string           `json:"whereElementType"`
	WhereElementPath           []elementPathJSON `json:"whereElementPath"`
	WhereElementLastModifiedBy *string           `json:"whereElementLastModifiedBy"`
	WhereElementLastModifiedOn *string           `json:"whereElementLastModifiedOn"`
	Status                     *string           `json:"status"`
	DismissReason              *string           `json:"dismissReason"`
	SnoozedUntil               *string           `json:"snoozedUntil"`
	Severity                   *string           `json:"severity"`
	AssetKey                   *string           `json:"assetKey"`
	AssetRevision              *int              `json:"assetRevision"`
	Category                   *string           `json:"category"`
}

func findingJSON(a *codeAnalysis, f codeFinding) revisionFindingJSON {
	path := []elementPathJSON{{ElementKey: str(f.ElementKey), ElementName: str(f.ElementName), ElementType: str(f.ElementType)}}
	rev := a.Revision
	return revisionFindingJSON{
		ID: str(f.ID), PatternID: str(f.PatternID), DiscoveredOn: str(sqldb.FormatTime(f.DiscoveredOn)),
		ElementKey: str(f.ElementKey), ElementName: str(f.ElementName), ElementType: str(f.ElementType), ElementPath: path,
		ElementLastModifiedBy: str(migrationCreatedBy), ElementLastModifiedOn: str(sqldb.FormatTime(a.StartedAt)),
		WhereElementKey: str(f.ElementKey), WhereElementName: str(f.ElementName), WhereElementType: str(f.ElementType), WhereElementPath: path,
		WhereElementLastModifiedBy: str(migrationCreatedBy), WhereElementLastModifiedOn: str(sqldb.FormatTime(a.StartedAt)),
		Status: str("Open"), Severity: str(f.Severity), AssetKey: str(a.AssetKey), AssetRevision: &rev, Category: str(f.Category),
	}
}

type codeAnalysisJSON struct {
	AnalysisKey string  `json:"analysisKey"`
	Status      *string `json:"status"`
}

type codeAnalysisStatusJSON struct {
	AnalysisKey  string                `json:"analysisKey"`
	Status       *string               `json:"status"`
	Findings     []revisionFindingJSON `json:"findings"`
	QualityScore float64               `json:"qualityScore"`
	Summary      *findingsSummaryJSON  `json:"summary"`
}

// --- handlers ---

// getAnalysisSummary: GET …/assets/{assetKey}/revisions/{revision}/analysis-summary.
func (s *Service) getAnalysisSummary(w http.ResponseWriter, r *http.Request, _ string) {
	now := time.Now()
	v := r.PathValue("revision")
	revision, err := strconv.ParseInt(v, 10, 64)
	if err != nil || revision < 1 || revision > math.MaxInt32 {
		// The document lists no 400: a path that names no revision is not found.
		s.fail(w, r, httpx.NotFoundf("Revision '%s' was not found: revisions are numbered from 1.", v))
		return
	}
	var a *codeAnalysis
	if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) error {
		rev, err := codeRevision(ctx, tx, r.PathValue("assetKey"), int(revision))
		if err != nil {
			return err
		}
		a, err = latestCompletedAnalysis(ctx, tx, rev.AssetKey, rev.Revision, now)
		if err == nil && a == nil {
			err = httpx.NotFoundf("Revision %d of asset '%s' has no completed code analysis: start one with POST %s/code-analyses.",
				rev.Revision, rev.Name, codeQualityBase)
		}
		return err
	}) {
		return
	}
	score := qualityScore(a.Findings)
	httpx.WriteJSON(w, http.StatusOK, assetRevisionSummaryJSON{AssetKey: str(a.AssetKey), AssetRevision: int64(a.Revision),
		AnalysisDate: a.FinishesAt.Format(time.DateOnly), QualityScore: &score, Summary: summaryOf(a.Findings)})
}

type codeAnalysisRequestBody struct {
	AssetKey      *string `json:"assetKey"`
	AssetRevision *int    `json:"assetRevision"`
}

// handleStartCodeAnalysis: POST …/code-analyses {assetKey, assetRevision}.
// It answers 200 at once; the analysis runs for the service's
// CodeAnalysisDuration.
func (s *Service) handleStartCodeAnalysis(w http.ResponseWriter, r *http.Request, caller string) {
	var body codeAnalysisRequestBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	if err == nil {
		err = httpx.JSONEnd(dec)
	}
	switch {
	case err != nil:
		err = httpx.Invalidf(`Send a JSON object like {"assetKey": "...", "assetRevision": 1}: %v.`, err)
	case body.AssetKey == nil || *body.AssetKey == "":
		err = httpx.Invalidf("assetKey is required.")
	case body.AssetRevision == nil || *body.AssetRevision < 1:
		err = httpx.Invalidf("assetRevision is required and must be 1 or more.")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.startCodeAnalysis(r.Context(), *body.AssetKey, *body.AssetRevision, caller, s.codeAnalysisDuration, time.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, codeAnalysisJSON{AnalysisKey: a.Key, Status: str(AnalysisInProgress)})
}

// getCodeAnalysis: GET …/code-analyses/{analysisKey}?Limit=&Offset=.
func (s *Service) getCodeAnalysis(w http.ResponseWriter, r *http.Request, _ string) {
	now := time.Now()
	key, err := httpx.ParseKey("analysisKey", r.PathValue("analysisKey"))
	if err != nil {
		// The document lists no 400: a key that is not a GUID names nothing.
		s.fail(w, r, httpx.NotFoundf("Code analysis with key '%s' was not found: analysis keys are GUIDs.", r.PathValue("analysisKey")))
		return
	}
	q := r.URL.Query()
	limit, err := queryInt(q, "Limit", 25, 1, math.MaxInt32)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	offset, err := queryInt(q, "Offset", 0, 0, math.MaxInt32)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var a *codeAnalysis
	if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) error {
		found, err := queryAnalyses(ctx, tx, `key = ?`, key)
		if err == nil && len(found) == 0 {
			err = httpx.NotFoundf("Code analysis with key '%s' was not found.", key)
		}
		if err == nil {
			a = found[0]
		}
		return err
	}) {
		return
	}
	status := a.status(now)
	out := codeAnalysisStatusJSON{AnalysisKey: a.Key, Status: &status}
	if status == AnalysisCompleted {
		page, _ := pageOf(a.Findings, paging{limit: limit, offset: offset})
		out.Findings = make([]revisionFindingJSON, len(page))
		for i, f := range page {
			out.Findings[i] = findingJSON(a, f)
		}
		out.QualityScore, out.Summary = qualityScore(a.Findings), summaryOf(a.Findings)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// --- store ---

// codeRevision reads the revision a code quality path names; an asset key
// that is not a GUID names no asset.
func codeRevision(ctx context.Context, tx *sql.Tx, assetKey string, revision int) (*Revision, error) {
	if _, err := uuid.Parse(assetKey); err != nil {
		return nil, httpx.NotFoundf("Asset with key '%s' was not found.", assetKey)
	}
	_, r, err := loadRevision(ctx, tx, strings.ToLower(assetKey), revision)
	return r, err
}

const analysisColumns = `key, asset_key, revision, requested_by, started_at, finishes_at, outcome, findings`

func queryAnalyses(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]*codeAnalysis, error) {
	var out []*codeAnalysis
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		a := &codeAnalysis{}
		var started, finishes int64
		var findings string
		if err := rows.Scan(&a.Key, &a.AssetKey, &a.Revision, &a.RequestedBy, &started, &finishes, &a.Outcome, &findings); err != nil {
			return err
		}
		a.StartedAt, a.FinishesAt = fromNanos(started), fromNanos(finishes)
		out = append(out, a)
		return json.Unmarshal([]byte(findings), &a.Findings)
	}, `SELECT `+analysisColumns+` FROM odc_code_analyses WHERE `+where, args...)
	return out, err
}

func latestCompletedAnalysis(ctx context.Context, tx *sql.Tx, assetKey string, revision int, now time.Time) (*codeAnalysis, error) {
	found, err := queryAnalyses(ctx, tx, `asset_key = ? AND revision = ? AND outcome = 'Completed' AND finishes_at <= ?
		ORDER BY finishes_at DESC, seq DESC LIMIT 1`, assetKey, revision, nanos(now))
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return found[0], nil
}

// revisionFindings is what an analysis of the revision finds now: the
// fixture's findings for the application the asset is named after, then
// the findings added to the revision. A finding keeps the discovery time
// an earlier analysis of the revision gave it.
func revisionFindings(ctx context.Context, tx *sql.Tx, rev *Revision, now time.Time) ([]codeFinding, error) {
	var out []codeFinding
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var f codeFinding
		var position int
		if err := rows.Scan(&position, &f.PatternID, &f.Category, &f.Severity, &f.ElementName, &f.ElementType); err != nil {
			return err
		}
		f.ID = sqldb.DerivedKey("odc-code-finding", rev.AssetKey, strconv.Itoa(rev.Revision), strconv.Itoa(position))
		out = append(out, f)
		return nil
	}, `SELECT position, pattern_id, category, severity, element_name, element_type FROM odc_fixture_code_findings
		WHERE application = ? ORDER BY position`, strings.ToLower(rev.Name))
	if err != nil {
		return nil, err
	}
	err = sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var f codeFinding
		var added int64
		if err := rows.Scan(&f.ID, &f.PatternID, &f.Category, &f.Severity, &f.ElementName, &f.ElementType, &added); err != nil {
			return err
		}
		f.DiscoveredOn = fromNanos(added)
		out = append(out, f)
		return nil
	}, `SELECT id, pattern_id, category, severity, element_name, element_type, added_at FROM odc_code_findings
		WHERE asset_key = ? AND revision = ? ORDER BY added_at, id`, rev.AssetKey, rev.Revision)
	if err != nil {
		return nil, err
	}
	earlier, err := queryAnalyses(ctx, tx, `asset_key = ? AND revision = ? ORDER BY seq LIMIT 1`, rev.AssetKey, rev.Revision)
	if err != nil {
		return nil, err
	}
	first := map[string]time.Time{}
	if len(earlier) > 0 {
		for _, f := range earlier[0].Findings {
			first[f.ID] = f.DiscoveredOn
		}
	}
	for i := range out {
		out[i].ElementKey = sqldb.DerivedKey("odc-code-element", rev.AssetKey, out[i].ElementType, out[i].ElementName)
		if t, ok := first[out[i].ID]; ok {
			out[i].DiscoveredOn = t
		} else if out[i].DiscoveredOn.IsZero() {
			out[i].DiscoveredOn = now
		}
	}
	return out, nil
}

// startCodeAnalysis records an analysis of a revision that completes
// duration after now with what the revision's code holds now.
func (s *Service) startCodeAnalysis(ctx context.Context, assetKey string, revision int, caller string, duration time.Duration, now time.Time) (*codeAnalysis, error) {
	var a *codeAnalysis
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = insertAnalysis(ctx, tx, assetKey, revision, caller, duration, now)
		return err
	})
	return a, err
}

func insertAnalysis(ctx context.Context, tx *sql.Tx, assetKey string, revision int, caller string, duration time.Duration, now time.Time) (*codeAnalysis, error) {
	rev, err := codeRevision(ctx, tx, assetKey, revision)
	if err != nil {
		return nil, err
	}
	findings, err := revisionFindings(ctx, tx, rev, now.Add(duration))
	if err != nil {
		return nil, err
	}
	if findings == nil {
		findings = []codeFinding{}
	}
	a := &codeAnalysis{Key: uuid.NewString(), AssetKey: rev.AssetKey, Revision: rev.Revision, RequestedBy: caller,
		StartedAt: now, FinishesAt: now.Add(duration), Outcome: AnalysisCompleted, Findings: findings}
	data, err := sqldb.MarshalJSON(a.Findings)
	if err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO odc_code_analyses (`+analysisColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Key, a.AssetKey, a.Revision, a.RequestedBy, nanos(a.StartedAt), nanos(a.FinishesAt), a.Outcome, data)
	return a, err
}

// --- out of band ---

// AddCodeFindings adds findings to a revision's code and records an
// analysis of it that completed now, as when Mentor re-analyzes a revision
// with new patterns: the revision's summary shows them at once. It returns
// the analysis key. Invalid findings are refused with httpx.ErrInvalid,
// an unknown revision with httpx.ErrNotFound.
func (s *Service) AddCodeFindings(ctx context.Context, assetKey string, revision int, findings []fixture.CodeFinding) (string, error) {
	if len(findings) == 0 {
		return "", httpx.Invalidf("Send at least one finding.")
	}
	var problems []string
	for i, f := range findings {
		problems = append(problems, f.Validate(fmt.Sprintf("findings[%d]", i))...)
	}
	if len(problems) > 0 {
		return "", httpx.Invalidf("%s.", strings.Join(problems, "; "))
	}
	now := time.Now()
	var key string
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		rev, err := codeRevision(ctx, tx, assetKey, revision)
		if err != nil {
			return err
		}
		for i, f := range findings {
			if _, err := tx.ExecContext(ctx, `INSERT INTO odc_code_findings
				(id, asset_key, revision, pattern_id, category, severity, element_name, element_type, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				uuid.NewString(), rev.AssetKey, rev.Revision, f.PatternID, f.Category, f.Severity, f.ElementName, f.ElementType, nanos(now)+int64(i)); err != nil {
				return err
			}
		}
		a, err := insertAnalysis(ctx, tx, rev.AssetKey, rev.Revision, "ODC Portal", 0, now)
		if a != nil {
			key = a.Key
		}
		return err
	})
	return key, err
}

type adminCodeFindingsRequest struct {
	Findings []fixture.CodeFinding `json:"findings"`
}

type adminCodeFindingsResponse struct {
	AnalysisKey string `json:"analysisKey"`
}

// AdminAddCodeFindings serves the admin surface's
// POST /_sandbox/odc/assets/{assetKey}/revisions/{revision}/code-findings
// {"findings": [{"patternId", "category", "severity", "elementName", "elementType"}]}
// (AddCodeFindings), answering errors with onError.
func (s *Service) AdminAddCodeFindings(onError httpx.ErrorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req adminCodeFindingsRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			onError(w, http.StatusBadRequest, `send a JSON body like {"findings": [{"patternId": "SEC-001", "category": "security", "severity": "Critical", "elementName": "GetOrders", "elementType": "ServerAction"}]}`)
			return
		}
		revision, err := strconv.Atoi(r.PathValue("revision"))
		if err != nil || revision < 1 {
			onError(w, http.StatusBadRequest, "the revision must be a number from 1")
			return
		}
		key, err := s.AddCodeFindings(r.Context(), r.PathValue("assetKey"), revision, req.Findings)
		if err != nil {
			httpx.WriteStoreError(s.logger, w, r, err, onError)
			return
		}
		httpx.WriteJSON(w, http.StatusCreated, adminCodeFindingsResponse{AnalysisKey: key})
	}
}
