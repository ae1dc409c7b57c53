package odc

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Dependency management's deployment analyses: ODC's own answer to "are
// this revision's producers in place in that stage, and what does
// deploying it do to its consumers there". The report is decided when the
// analysis starts and shown once it finishes (after the deployment
// duration): an app the revision consumes that is not deployed in the
// stage is a MissingApplication error (libraries are bundled into their
// consumers, so they are never missing); the apps deployed in the stage
// that consume the asset are listed as consumers, without issues.

// Analysis report values (AnalysisStatus, ReferenceType, ...).
const (
	analysisNoIssues      = "NoIssuesFound"
	analysisErrorsFound   = "ErrorsFound"
	referenceProducer     = "Producer"
	referenceConsumer     = "Consumer"
	conflictMissingApp    = "MissingApplication"
	conflictSeverityError = "Error"
)

func (s *Service) registerDeploymentAnalyses(mux *http.ServeMux) {
	// The POST documents Release management > Deploy assets; the GET names
	// no permission, so the sandbox asks the same of it.
	deploy := func(h handler) http.HandlerFunc { return s.api(fixture.PermissionDeploy, h) }
	base := dependencyBase + "/deployment-analyses"
	s.route(mux, base, map[string]http.HandlerFunc{http.MethodPost: deploy(s.handleStartAnalysis)})
	s.route(mux, base+"/{analysisKey}", map[string]http.HandlerFunc{http.MethodGet: deploy(s.getAnalysis)})
}

// analysisReport is PublicDeploymentAnalysisReport.
type analysisReport struct {
	Status         string              `json:"status"`
	ImpactedAssets []applicationReport `json:"impactedAssets"`
}

// applicationReport is PublicApplicationReport.
type applicationReport struct {
	Revision               *int               `json:"revision"`
	Type                   *string            `json:"type"`
	ReferenceType          string             `json:"referenceType"`
	ElementLevelIssues     []any              `json:"elementLevelIssues"`
	ApplicationLevelIssues []applicationIssue `json:"applicationLevelIssues"`
	AssetKey               *string            `json:"assetKey"`
}

// applicationIssue is ApplicationIssue.
type applicationIssue struct {
	ConflictType     string  `json:"conflictType"`
	ConflictSeverity string  `json:"conflictSeverity"`
	Hint             *string `json:"hint"`
}

// analysisResult is PublicDeploymentAnalysisReportPublicAnalysisResult.
type analysisResult struct {
	AnalysisKey    *string         `json:"analysisKey"`
	Type           *string         `json:"type"`
	ProcessStatus  string          `json:"processStatus"`
	Error          *Problem        `json:"error"`
	Report         *analysisReport `json:"report"`
	EnvironmentKey *string         `json:"environmentKey"`
	StartedAt      string          `json:"startedAt"`
	AssetKey       string          `json:"assetKey"`
}

// analyzeDeployment decides the report of deploying revision r of a to
// the stage by now.
func analyzeDeployment(ctx context.Context, tx *sql.Tx, a *Asset, r *Revision, stage Stage, now time.Time) (analysisReport, error) {
	report := analysisReport{Status: analysisNoIssues, ImpactedAssets: []applicationReport{}}
	missing, err := undeployedProducers(ctx, tx, r, stage.Key, now)
	if err != nil {
		return report, err
	}
	for _, p := range missing {
		if p.AssetType == AssetTypeLibrary {
			continue
		}
		report.Status = analysisErrorsFound
		report.ImpactedAssets = append(report.ImpactedAssets, applicationReport{
			Type: str(p.AssetType), ReferenceType: referenceProducer, ElementLevelIssues: []any{}, AssetKey: str(p.Key),
			ApplicationLevelIssues: []applicationIssue{{ConflictType: conflictMissingApp, ConflictSeverity: conflictSeverityError,
				Hint: str(fmt.Sprintf("Producer '%s' (key %s) of '%s' revision %d is not deployed in stage '%s'. Deploy it first.",
					p.latest().Name, p.Key, r.Name, r.Revision, stage.Name))}},
		})
	}
	consumers, err := loadDeployments(ctx, tx, deployedFilter{stageKeys: []string{stage.Key}, consumes: a.Key}, now)
	if err != nil {
		return report, err
	}
	for _, c := range consumers {
		report.ImpactedAssets = append(report.ImpactedAssets, applicationReport{
			Revision: &c.Revision.Revision, Type: str(c.Asset.AssetType), ReferenceType: referenceConsumer,
			ElementLevelIssues: []any{}, ApplicationLevelIssues: []applicationIssue{}, AssetKey: str(c.Asset.Key),
		})
	}
	return report, nil
}

type analysisRequestBody struct {
	Revision       *int    `json:"revision"`
	EnvironmentKey *string `json:"environmentKey"`
	AssetKey       *string `json:"assetKey"`
}

// handleStartAnalysis starts a deployment analysis and answers its key.
func (s *Service) handleStartAnalysis(w http.ResponseWriter, r *http.Request, caller string) {
	var body analysisRequestBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	if err == nil {
		err = httpx.JSONEnd(dec)
	}
	if err != nil {
		s.fail(w, r, httpx.Invalidf(`Send a JSON object like {"assetKey": "...", "revision": 1, "environmentKey": "..."}: %v.`, err))
		return
	}
	var assetKey, stageKey string
	switch {
	case body.AssetKey == nil || *body.AssetKey == "":
		err = httpx.Invalidf("assetKey is required: the asset to analyze.")
	case body.Revision == nil || *body.Revision < 1:
		err = httpx.Invalidf("revision is required and must be 1 or more: the revision you intend to deploy.")
	case body.EnvironmentKey == nil || *body.EnvironmentKey == "":
		err = httpx.Invalidf("environmentKey is required: the stage you intend to deploy to.")
	default:
		if assetKey, err = httpx.ParseKey("assetKey", *body.AssetKey); err == nil {
			stageKey, err = httpx.ParseKey("environmentKey", *body.EnvironmentKey)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := time.Now()
	key := uuid.NewString()
	err = s.db.Write(r.Context(), func(tx *sql.Tx) error {
		ctx := r.Context()
		a, rev, err := loadRevision(ctx, tx, assetKey, *body.Revision)
		if err != nil {
			return err
		}
		stage, err := loadStage(ctx, tx, stageKey)
		if err != nil {
			return err
		}
		report, err := analyzeDeployment(ctx, tx, a, rev, stage, now)
		if err != nil {
			return err
		}
		data, err := sqldb.MarshalJSON(report)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO odc_deployment_analyses (key, asset_key, revision, environment_key, requested_by, started_at, finishes_at, report)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, key, a.Key, rev.Revision, stage.Key, caller, nanos(now), nanos(now.Add(s.deployDuration)), data)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", dependencyBase+"/deployment-analyses/"+key)
	httpx.WriteJSON(w, http.StatusCreated, map[string]*string{"analysisKey": &key})
}

// getAnalysis answers an analysis: InProgress without a report until it
// finishes, then Finished with it.
func (s *Service) getAnalysis(w http.ResponseWriter, r *http.Request, _ string) {
	key := r.PathValue("analysisKey")
	var out analysisResult
	var reportJSON string
	var started, finishes int64
	err := s.db.QueryRowContext(r.Context(), `SELECT key, asset_key, environment_key, started_at, finishes_at, report FROM odc_deployment_analyses WHERE key = ?`,
		key).Scan(&key, &out.AssetKey, &out.EnvironmentKey, &started, &finishes, &reportJSON)
	if errors.Is(err, sql.ErrNoRows) {
		err = httpx.NotFoundf("Deployment analysis with key '%s' was not found.", key)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out.AnalysisKey, out.Type, out.StartedAt, out.ProcessStatus = &key, str("Deployment"), sqldb.FormatTime(fromNanos(started)), "InProgress"
	if !time.Now().Before(fromNanos(finishes)) {
		out.ProcessStatus, out.Report = "Finished", &analysisReport{}
		if err := json.Unmarshal([]byte(reportJSON), out.Report); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}
