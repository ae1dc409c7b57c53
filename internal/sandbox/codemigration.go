package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// The Migration Kit's code migration has no public API either; the
// project's contract (api/migration-kit/v1/openapi.yaml, tag CodeMigration)
// puts it on the ODC portal, authenticated with ODC access tokens. The state
// is in codemigration_store.go.
const (
	codeMigrationBase = "/api/migration-kit/v1"

	// DefaultMigrationDuration is how long a code migration runs when
	// Options.MigrationDuration is zero.
	DefaultMigrationDuration = 5 * time.Second
)

// Error codes the code migration operations add to the contract's.
const (
	maCodeEnvironmentNotFound         = "ENVIRONMENT_NOT_FOUND"
	maCodeCodeMigrationNotFound       = "CODE_MIGRATION_NOT_FOUND"
	maCodeMigrationInProgress         = "MIGRATION_IN_PROGRESS"
	maCodeAssetsNotReady              = "ASSETS_NOT_READY"
	maCodeApplicationNotInEnvironment = "APPLICATION_NOT_IN_ENVIRONMENT"
	maCodeMappingInUse                = "MAPPING_IN_USE"
)

func init() {
	maps.Copy(assessment.ProblemTitles, map[string]string{
		maCodeEnvironmentNotFound:         "LifeTime environment not found",
		maCodeCodeMigrationNotFound:       "Code migration not found",
		maCodeMigrationInProgress:         "A code migration of the mappings is in progress",
		maCodeAssetsNotReady:              "Assets not ready for ODC",
		maCodeApplicationNotInEnvironment: "O11 application not in the source environment",
		maCodeMappingInUse:                "Mapping in use by a code migration",
	})
}

// cmProblem is a problem with the extensions of the code migration errors.
type cmProblem struct {
	assessment.Problem
	notReadyMappingKeys []string
	migrationKey        string
}

type cmProblemDetails struct {
	assessment.ProblemDetails
	NotReadyMappingKeys []string `json:"notReadyMappingKeys,omitempty"`
	MigrationKey        string   `json:"migrationKey,omitempty"`
}

// cmFail answers an error: a problem as it is, anything else as
// maFail does.
func (s *Sandbox) cmFail(w http.ResponseWriter, r *http.Request, err error) {
	var p *cmProblem
	if !errors.As(err, &p) {
		s.maFail(w, r, err)
		return
	}
	doc := cmProblemDetails{
		ProblemDetails: assessment.ProblemDetails{
			Type: assessment.ProblemTypePrefix + p.Code, Title: assessment.ProblemTitles[p.Code], Status: p.Status, Detail: p.Detail,
			Instance: r.URL.Path, TraceID: assessment.NewTraceID(), ErrorCode: p.Code,
		},
		NotReadyMappingKeys: p.notReadyMappingKeys, MigrationKey: p.migrationKey,
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		http.Error(w, "cannot encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	w.Write(body.Bytes())
}

// --- routes and authorization ---

func (s *Sandbox) registerCodeMigration(mux *http.ServeMux) {
	api := http.NewServeMux()
	route(api, codeMigrationBase+"/code-migrations", map[string]http.HandlerFunc{
		http.MethodGet:  s.cmList,
		http.MethodPost: s.cmStart,
	}, assessment.WriteError)
	route(api, codeMigrationBase+"/code-migrations/{migrationKey}", map[string]http.HandlerFunc{http.MethodGet: s.cmGet}, assessment.WriteError)
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		assessment.WriteProblem(w, r, &assessment.Problem{Status: http.StatusNotFound, Code: assessment.CodeEndpointNotFound,
			Detail: fmt.Sprintf("There is no Migration Kit code migration API endpoint at %s.", r.URL.Path)})
	})
	mux.Handle(codeMigrationBase+"/", assessment.WithRequest(s.cmAuthenticate(api)))
}

type cmCallerKey struct{}

// cmAuthenticate admits requests carrying a valid ODC access token; any API
// client may read code migrations.
func (s *Sandbox) cmAuthenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, ok := s.cmAuthorize(w, r, "")
		if !ok {
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), cmCallerKey{}, caller)))
	})
}

// cmAuthorize runs odc.Service.Authorize (ODC tokens and permissions) and answers
// its 401 and 403 in the contract's shape: a ProblemDetails document with
// errorCode UNAUTHORIZED or FORBIDDEN, the same detail (for 403 it names the
// API client and the permission under its old and new names) and the same
// WWW-Authenticate challenge.
func (s *Sandbox) cmAuthorize(w http.ResponseWriter, r *http.Request, permission string) (string, bool) {
	rec := &cmCapture{header: http.Header{}}
	caller, ok := s.odc.Authorize(rec, r, permission)
	if ok {
		return caller, true
	}
	if rec.status == 0 {
		return "", false // the client went away; nothing was answered
	}
	var p odc.Problem
	detail := http.StatusText(rec.status)
	if err := json.Unmarshal(rec.body.Bytes(), &p); err == nil && p.Detail != "" {
		detail = p.Detail
	}
	code := assessment.CodeInternal
	switch rec.status {
	case http.StatusUnauthorized:
		code = assessment.CodeUnauthorized
	case http.StatusForbidden:
		code = assessment.CodeForbidden
	}
	if c := rec.header.Get("WWW-Authenticate"); c != "" {
		w.Header().Set("WWW-Authenticate", c)
	}
	assessment.WriteProblem(w, r, &assessment.Problem{Status: rec.status, Code: code, Detail: detail})
	return "", false
}

// cmCapture records an answer so cmAuthorize can reshape it.
type cmCapture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *cmCapture) Header() http.Header { return c.header }

func (c *cmCapture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *cmCapture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

// --- handlers ---

func (s *Sandbox) cmStart(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.cmAuthorize(w, r, PermissionMigrate)
	if !ok {
		return
	}
	req, err := cmParseStart(w, r)
	if err != nil {
		s.cmFail(w, r, err)
		return
	}
	m, err := s.store.startCodeMigration(r.Context(), s.odc, s.now(), s.migrationDuration, req, caller)
	if err != nil {
		s.cmFail(w, r, err)
		return
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+m.Key)
	writeJSON(w, http.StatusCreated, m)
}

// cmParseStart reads and checks a POST /code-migrations body.
func cmParseStart(w http.ResponseWriter, r *http.Request) (cmStartRequest, error) {
	var req cmStartRequest
	obj, err := assessment.ReadObject(w, r, "sourceEnvironmentKey", "mappingKeys")
	if err != nil {
		return req, err
	}
	p := &assessment.FieldParser{Obj: obj}
	if v := p.Text("sourceEnvironmentKey", true, 0); v != nil {
		key, err := assessment.ParseGUID("sourceEnvironmentKey", *v)
		if err != nil {
			p.Addf("%v.", err)
		}
		req.sourceEnvKey = key
	}
	raw, ok := obj["mappingKeys"]
	var values []string
	switch {
	case !ok:
		p.Addf("mappingKeys is required.")
	case json.Unmarshal(raw, &values) != nil || values == nil:
		p.Addf("mappingKeys must be an array of GUIDs.")
	case len(values) == 0:
		p.Addf("mappingKeys must name at least one mapping.")
	}
	for i, v := range values {
		key, err := assessment.ParseGUID(fmt.Sprintf("mappingKeys[%d]", i), v)
		switch {
		case err != nil:
			p.Addf("%v.", err)
		case slices.Contains(req.mappingKeys, key):
			p.Addf("mappingKeys lists '%s' more than once.", v)
		default:
			req.mappingKeys = append(req.mappingKeys, key)
		}
	}
	return req, p.Err()
}

func (s *Sandbox) cmList(w http.ResponseWriter, r *http.Request) {
	maWritePage(s, w, r, func() ([]cmCodeMigration, error) {
		status := r.URL.Query().Get("status")
		if r.URL.Query().Has("status") && !slices.Contains(migrationStatuses, status) {
			return nil, assessment.ValidationProblem(fmt.Sprintf("status '%s' must be one of %s.", status, strings.Join(migrationStatuses, ", ")))
		}
		return s.store.codeMigrations(r.Context(), s.odc, s.now(), time.Now(), "", status)
	})
}

func (s *Sandbox) cmGet(w http.ResponseWriter, r *http.Request) {
	key, err := assessment.PathGUID(r, "migrationKey")
	if err != nil {
		s.cmFail(w, r, err)
		return
	}
	ms, err := s.store.codeMigrations(r.Context(), s.odc, s.now(), time.Now(), key, "")
	if err != nil {
		s.cmFail(w, r, err)
		return
	}
	// While it runs, the answer says when to look again: the kit knows
	// roughly how long a migration takes (the contract's polling hint).
	if ms[0].Status == migrationMigrating {
		if finishes, ok, err := s.store.migrationFinishesAt(r.Context(), key); err == nil && ok {
			secs := int(math.Ceil(finishes.Sub(s.now()).Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		}
	}
	writeJSON(w, http.StatusOK, ms[0])
}

// --- helpers for tests and demos ---

// MigrationFinishedAt returns when the sandbox marks a code migration
// finished (its start plus the migration duration), whether or not that
// moment has passed, and false when there is no such migration.
func (s *Sandbox) MigrationFinishedAt(key string) (time.Time, bool) {
	k, err := parseKey("migrationKey", key)
	if err != nil {
		return time.Time{}, false
	}
	at, ok, err := s.store.migrationFinishesAt(context.Background(), k)
	if err != nil {
		s.logger.Printf("MigrationFinishedAt: %v", err)
		return time.Time{}, false
	}
	return at, ok
}
