package odc

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// The build operations API: list, start, read and the log messages of
// builds. Every operation needs Asset management > Open, as documented.

const buildsBase = "/api/builds/v1"

func (s *Service) registerBuilds(mux *http.ServeMux) {
	open := func(h handler) http.HandlerFunc { return s.api(fixture.PermissionOpen, h) }
	ops := buildsBase + "/build-operations"
	s.route(mux, ops, map[string]http.HandlerFunc{http.MethodGet: open(s.listBuilds), http.MethodPost: open(s.handleStartBuild)})
	s.route(mux, ops+"/{operationKey}", map[string]http.HandlerFunc{http.MethodGet: open(s.getBuild)})
	s.route(mux, ops+"/{operationKey}/log-messages", map[string]http.HandlerFunc{http.MethodGet: open(s.listBuildMessages)})
}

// buildJSON is BuildDetails.
type buildJSON struct {
	BuildKey         string         `json:"buildKey"`
	AssetKey         string         `json:"assetKey"`
	AssetRevision    int            `json:"assetRevision"`
	BuildType        string         `json:"buildType"`
	StartedDateTime  *string        `json:"startedDateTime"`
	FinishedDateTime *string        `json:"finishedDateTime"`
	BuiltBy          *string        `json:"builtBy"`
	Status           string         `json:"status"`
	SecurityAudit    *securityAudit `json:"securityAudit"`
}

// securityAudit is SecurityVulnerabilities: the sandbox's builds find
// none, and a build shows its audit once finished.
type securityAudit struct {
	Vulnerabilities []any `json:"vulnerabilities"`
}

func buildDetails(b *Build, now time.Time) buildJSON {
	out := buildJSON{BuildKey: b.Key, AssetKey: b.AssetKey, AssetRevision: b.Revision, BuildType: b.BuildType,
		StartedDateTime: str(sqldb.FormatTime(b.StartedAt)), BuiltBy: str(b.BuiltBy), Status: b.status(now)}
	if out.Status != BuildStatusRunning {
		out.FinishedDateTime = str(sqldb.FormatTime(b.FinishesAt))
		out.SecurityAudit = &securityAudit{Vulnerabilities: []any{}}
	}
	return out
}

// listBuilds lists the builds matching the filters, newest first. An
// asset that does not exist is a 404.
func (s *Service) listBuilds(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	var f buildFilter
	var err error
	if v := q.Get("assetKey"); v != "" {
		if f.assetKey, err = httpx.ParseKey("assetKey", v); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if f.revision, err = queryInt(q, "assetRevision", 0, 1, 1<<31-1); err != nil {
		s.fail(w, r, err)
		return
	}
	if f.buildType = q.Get("byBuildType"); f.buildType != "" && f.buildType != BuildTypeDebug && f.buildType != BuildTypeRelease {
		s.fail(w, r, httpx.Invalidf("Unknown byBuildType '%s': use Debug or Release.", f.buildType))
		return
	}
	now := time.Now()
	var builds []*Build
	if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		if f.assetKey != "" {
			a, err := assetByKey(ctx, tx, f.assetKey)
			if err != nil {
				return err
			}
			if f.revision != 0 {
				if _, err := revisionOf(ctx, tx, a, f.revision); err != nil {
					return err
				}
			}
		}
		builds, err = queryBuilds(ctx, tx, f, now)
		return err
	}) {
		return
	}
	slices.Reverse(builds)
	out := make([]buildJSON, len(builds))
	for i, b := range builds {
		out[i] = buildDetails(b, now)
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"builds": out})
}

type buildRequestBody struct {
	AssetKey      *string `json:"assetKey"`
	AssetRevision *int    `json:"assetRevision"`
	BuildType     *string `json:"buildType"`
}

// handleStartBuild starts a build (default type Debug, as documented); it
// answers 201 with the build's key at once.
func (s *Service) handleStartBuild(w http.ResponseWriter, r *http.Request, caller string) {
	var body buildRequestBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	if err == nil {
		err = httpx.JSONEnd(dec)
	}
	if err != nil {
		s.fail(w, r, httpx.Invalidf(`Send a JSON object like {"buildType": "Release", "assetKey": "...", "assetRevision": 1}: %v.`, err))
		return
	}
	buildType := BuildTypeDebug
	if body.BuildType != nil {
		buildType = *body.BuildType
	}
	var assetKey string
	switch {
	case buildType != BuildTypeDebug && buildType != BuildTypeRelease:
		err = httpx.Invalidf("buildType '%s' is not valid: use Debug or Release (only Release builds can be deployed).", buildType)
	case body.AssetKey == nil || *body.AssetKey == "":
		err = httpx.Invalidf("assetKey is required.")
	case body.AssetRevision == nil || *body.AssetRevision < 1:
		err = httpx.Invalidf("assetRevision is required and must be 1 or more.")
	default:
		assetKey, err = httpx.ParseKey("assetKey", *body.AssetKey)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.startBuild(r.Context(), assetKey, *body.AssetRevision, buildType, caller, s.deployDuration, time.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", buildsBase+"/build-operations/"+b.Key)
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{"buildKey": b.Key, "isSuccessful": true})
}

func (s *Service) buildByKey(w http.ResponseWriter, r *http.Request, now time.Time) (*Build, bool) {
	key, err := httpx.ParseKey("operationKey", r.PathValue("operationKey"))
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	var b *Build
	ok := s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		b, err = loadBuild(ctx, tx, key, now)
		return err
	})
	return b, ok
}

func (s *Service) getBuild(w http.ResponseWriter, r *http.Request, _ string) {
	now := time.Now()
	if b, ok := s.buildByKey(w, r, now); ok {
		httpx.WriteJSON(w, http.StatusOK, buildDetails(b, now))
	}
}

// buildMessageJSON is BuildFeedbackDetails.
type buildMessageJSON struct {
	Timestamp string  `json:"timestamp"`
	Type      *string `json:"type"`
	Severity  *string `json:"severity"`
	Message   *string `json:"message"`
	StepID    *string `json:"stepId"`
	AssetKey  string  `json:"assetKey"`
	ErrorCode *string `json:"errorCode"`
}

// listBuildMessages lists the messages a build issued so far.
func (s *Service) listBuildMessages(w http.ResponseWriter, r *http.Request, _ string) {
	now := time.Now()
	b, ok := s.buildByKey(w, r, now)
	if !ok {
		return
	}
	msgs, err := s.buildMessages(r.Context(), b.Key, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]buildMessageJSON, len(msgs))
	for i, m := range msgs {
		out[i] = buildMessageJSON{Timestamp: sqldb.FormatTime(m.At), Type: str(m.Type), Severity: str(m.Severity), Message: str(m.Message),
			StepID: str(m.StepID), AssetKey: m.AssetKey, ErrorCode: optional(m.ErrorCode)}
	}
	writeList(w, out)
}
