package codemigration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// The Migration Kit's code migration has no public API either; the
// project's contract (api/migration-kit/v1/openapi.yaml, tag CodeMigration)
// puts it on the ODC portal, authenticated with ODC access tokens. The state
// is in store.go.

// Base is the path the code migration API is served under.
const Base = "/api/migration-kit/v1"

// Error codes the code migration operations add to the contract's.
const (
	CodeEnvironmentNotFound         = "ENVIRONMENT_NOT_FOUND"
	CodeMigrationNotFound           = "CODE_MIGRATION_NOT_FOUND"
	CodeMigrationInProgress         = "MIGRATION_IN_PROGRESS"
	CodeAssetsNotReady              = "ASSETS_NOT_READY"
	CodeApplicationNotInEnvironment = "APPLICATION_NOT_IN_ENVIRONMENT"
	CodeMappingInUse                = "MAPPING_IN_USE"
)

func init() {
	maps.Copy(assessment.ProblemTitles, map[string]string{
		CodeEnvironmentNotFound:         "LifeTime environment not found",
		CodeMigrationNotFound:           "Code migration not found",
		CodeMigrationInProgress:         "A code migration of the mappings is in progress",
		CodeAssetsNotReady:              "Assets not ready for ODC",
		CodeApplicationNotInEnvironment: "O11 application not in the source environment",
		CodeMappingInUse:                "Mapping in use by a code migration",
		CodeAssetNameTaken:              "An ODC asset of another kind has the mapping's name",
	})
}

// problem is a problem with the extensions of the code migration errors.
type problem struct {
	assessment.Problem
	notReadyMappingKeys []string
	migrationKey        string
}

// ProblemDetails is the contract's ProblemDetails with the code migration
// extensions.
type ProblemDetails struct {
	assessment.ProblemDetails
	NotReadyMappingKeys []string `json:"notReadyMappingKeys,omitempty"`
	MigrationKey        string   `json:"migrationKey,omitempty"`
}

// fail answers an error: a problem as it is, anything else as
// assessment.Fail does.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *problem
	if !errors.As(err, &p) {
		assessment.Fail(s.logger, w, r, err)
		return
	}
	doc := ProblemDetails{
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

// Register adds the code migration API to mux.
func (s *Service) Register(mux *http.ServeMux) {
	api := http.NewServeMux()
	httpx.Route(api, Base+"/code-migrations", map[string]http.HandlerFunc{
		http.MethodGet:  s.list,
		http.MethodPost: s.start,
	}, assessment.WriteError)
	httpx.Route(api, Base+"/code-migrations/{migrationKey}", map[string]http.HandlerFunc{http.MethodGet: s.get}, assessment.WriteError)
	httpx.Route(api, Base+"/migration-previews", map[string]http.HandlerFunc{http.MethodPost: s.preview}, assessment.WriteError)
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		assessment.WriteProblem(w, r, &assessment.Problem{Status: http.StatusNotFound, Code: assessment.CodeEndpointNotFound,
			Detail: fmt.Sprintf("There is no Migration Kit code migration API endpoint at %s.", r.URL.Path)})
	})
	mux.Handle(Base+"/", assessment.WithRequest(s.authenticate(api)))
}

type callerKey struct{}

// authenticate admits requests carrying a valid ODC access token; any API
// client may read code migrations.
func (s *Service) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, ok := s.authorize(w, r, "")
		if !ok {
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller)))
	})
}

// authorize runs odc.Service.Authorize (ODC tokens and permissions) and answers
// its 401 and 403 in the contract's shape: a ProblemDetails document with
// errorCode UNAUTHORIZED or FORBIDDEN, the same detail (for 403 it names the
// API client and the permission under its old and new names) and the same
// WWW-Authenticate challenge.
func (s *Service) authorize(w http.ResponseWriter, r *http.Request, permission string) (string, bool) {
	rec := &capture{header: http.Header{}}
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

// capture records an answer so authorize can reshape it.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capture) Header() http.Header { return c.header }

func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

// --- handlers ---

func (s *Service) start(w http.ResponseWriter, r *http.Request) {
	caller, ok := s.authorize(w, r, fixture.PermissionMigrate)
	if !ok {
		return
	}
	req, err := ParseStart(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.startCodeMigration(r.Context(), s.now(), s.duration, req, caller)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+m.Key)
	httpx.WriteJSON(w, http.StatusCreated, m)
}

// ParseStart reads and checks a POST /code-migrations body.
func ParseStart(w http.ResponseWriter, r *http.Request) (StartRequest, error) {
	var req StartRequest
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
		req.SourceEnvironmentKey = key
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
		case slices.Contains(req.MappingKeys, key):
			p.Addf("mappingKeys lists '%s' more than once.", v)
		default:
			req.MappingKeys = append(req.MappingKeys, key)
		}
	}
	return req, p.Err()
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	assessment.WritePage(w, r, func() ([]Migration, error) {
		status := r.URL.Query().Get("status")
		if r.URL.Query().Has("status") && !slices.Contains(statuses, status) {
			return nil, assessment.ValidationProblem(fmt.Sprintf("status '%s' must be one of %s.", status, strings.Join(statuses, ", ")))
		}
		return s.codeMigrations(r.Context(), s.now(), time.Now(), "", status, kindKit)
	}, s.fail)
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	key, err := assessment.PathGUID(r, "migrationKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := s.codeMigrations(r.Context(), s.now(), time.Now(), key, "", kindKit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// While it runs, the answer says when to look again: the kit knows
	// roughly how long a migration takes (the contract's polling hint).
	if ms[0].Status == StatusMigrating {
		if finishes, ok, err := s.finishesAt(r.Context(), key); err == nil && ok {
			secs := int(math.Ceil(finishes.Sub(s.now()).Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		}
	}
	httpx.WriteJSON(w, http.StatusOK, ms[0])
}
