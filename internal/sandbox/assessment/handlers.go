package assessment

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// The Migration Kit's assessment tool has no public API, so the project
// defines one: api/migration-kit/v1/openapi.yaml. The sandbox serves it as
// the tool's console on the O11 Development host would, under both names the
// kit has had.
const (
	Base           = "/MigrationAssessment/api/v1"
	ConversionBase = "/ConversionAssessment/api/v1"

	// DefaultDelay is how long an assessment takes when Options.Delay is
	// nil: Queued, Running after half of it, Finished after all of it.
	DefaultDelay = 2 * time.Second

	ProblemTypePrefix = "urn:terraform-provider-outsystems:migration-kit:v1:"

	maxMappingName        = 100
	maxMappingDescription = 500
	MaxPageLimit          = 100
	// MaxReadinessLimit is GET /readiness's larger page (contract 1.2.0).
	MaxReadinessLimit = 1000
)

// Error codes of the contract (ProblemDetails.errorCode).
const (
	CodeValidation                     = "VALIDATION_ERROR"
	CodeUnauthorized                   = "UNAUTHORIZED"
	CodeForbidden                      = "FORBIDDEN"
	CodeApplicationNotFound            = "APPLICATION_NOT_FOUND"
	CodeMappingNotFound                = "MAPPING_NOT_FOUND"
	CodeAssessmentNotFound             = "ASSESSMENT_NOT_FOUND"
	CodeEndpointNotFound               = "ENDPOINT_NOT_FOUND"
	CodeMethodNotAllowed               = "METHOD_NOT_ALLOWED"
	CodeUnsupportedMediaType           = "UNSUPPORTED_MEDIA_TYPE"
	CodeMappingNameTaken               = "MAPPING_NAME_TAKEN"
	CodeApplicationAlreadyMapped       = "APPLICATION_ALREADY_MAPPED"
	CodeAssetTypeImmutable             = "ASSET_TYPE_IMMUTABLE"
	CodeExtensionNotMappable           = "EXTENSION_NOT_MAPPABLE"
	CodeLibraryRequiresLibraryOnlyApps = "LIBRARY_REQUIRES_LIBRARY_ONLY_APPS"
	CodeMixedAppKinds                  = "MIXED_APP_KINDS"
	CodeTooManyModules                 = "TOO_MANY_MODULES"
	CodeInternal                       = "INTERNAL_ERROR"
)

// ProblemTitles is the title of each error code, the same for every occurrence.
var ProblemTitles = map[string]string{
	CodeValidation:                     "The request is not valid",
	CodeUnauthorized:                   "Authentication required",
	CodeForbidden:                      "Permission denied",
	CodeApplicationNotFound:            "O11 application not found",
	CodeMappingNotFound:                "Mapping not found",
	CodeAssessmentNotFound:             "Assessment not found",
	CodeEndpointNotFound:               "No such endpoint",
	CodeMethodNotAllowed:               "Method not allowed",
	CodeUnsupportedMediaType:           "Unsupported media type",
	CodeMappingNameTaken:               "Mapping name already taken",
	CodeApplicationAlreadyMapped:       "O11 application already mapped",
	CodeAssetTypeImmutable:             "Asset type cannot change",
	CodeExtensionNotMappable:           "Extensions cannot be mapped",
	CodeLibraryRequiresLibraryOnlyApps: "A library takes only library-only applications",
	CodeMixedAppKinds:                  "Application kinds do not fit the asset type",
	CodeTooManyModules:                 "Too many O11 modules for one asset",
	CodeInternal:                       "Internal error",
}

// Problem is an error answered as a ProblemDetails document.
type Problem struct {
	Status                int
	Code                  string
	Detail                string
	ConflictingMappingKey string
}

// Error returns the problem's detail.
func (p *Problem) Error() string { return p.Detail }

// ValidationProblem is a VALIDATION_ERROR problem with the details.
func ValidationProblem(details ...string) error {
	return &Problem{Status: http.StatusBadRequest, Code: CodeValidation, Detail: strings.Join(details, " ")}
}

func mappingNotFound(key string) error {
	return &Problem{Status: http.StatusNotFound, Code: CodeMappingNotFound, Detail: fmt.Sprintf("Mapping with key '%s' was not found.", key)}
}

// --- wire types (camelCase, as in the contract) ---

// ProblemDetails is the contract's error document.
type ProblemDetails struct {
	Type                  string `json:"type"`
	Title                 string `json:"title"`
	Status                int    `json:"status"`
	Detail                string `json:"detail"`
	Instance              string `json:"instance,omitempty"`
	TraceID               string `json:"traceId"`
	ErrorCode             string `json:"errorCode"`
	ConflictingMappingKey string `json:"conflictingMappingKey,omitempty"`
}

// PageInfo describes one page of a list.
type PageInfo struct {
	Count          int  `json:"count"`
	Limit          int  `json:"limit"`
	Offset         int  `json:"offset"`
	NextPageOffset *int `json:"nextPageOffset"`
	TotalResults   int  `json:"totalResults"`
	TotalPages     int  `json:"totalPages"`
}

// Page is one page of a list.
type Page[T any] struct {
	Results []T      `json:"results"`
	Page    PageInfo `json:"page"`
}

// O11Module is a module of an O11 application.
type O11Module struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// O11Application is an O11 application as the tool sees it.
type O11Application struct {
	Key           string      `json:"key"`
	Name          string      `json:"name"`
	Kind          string      `json:"kind"`
	IsLibraryOnly bool        `json:"isLibraryOnly"`
	HasExtensions bool        `json:"hasExtensions"`
	ModuleCount   int         `json:"moduleCount"`
	Modules       []O11Module `json:"modules"`
	MappingKey    *string     `json:"mappingKey"`
}

// Mapping maps O11 applications to one ODC asset.
type Mapping struct {
	Key                 string    `json:"key"`
	Name                string    `json:"name"`
	AssetType           string    `json:"assetType"`
	Description         string    `json:"description"`
	ApplicationKeys     []string  `json:"applicationKeys"`
	ModuleCount         int       `json:"moduleCount"`
	Status              string    `json:"status"`
	LatestAssessmentKey string    `json:"latestAssessmentKey"`
	ProducerMappingKeys []string  `json:"producerMappingKeys"`
	ConsumerMappingKeys []string  `json:"consumerMappingKeys"`
	CreatedAt           time.Time `json:"createdAt"`
	UpdatedAt           time.Time `json:"updatedAt"`
}

// Assessment is one assessment of a mapping's applications.
type Assessment struct {
	Key        string     `json:"key"`
	MappingKey string     `json:"mappingKey"`
	Status     string     `json:"status"`
	Result     *string    `json:"result"`
	QueuedAt   time.Time  `json:"queuedAt"`
	StartedAt  *time.Time `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt"`
}

// Finding is a code pattern the tool found in a module.
type Finding struct {
	Key             string `json:"key"`
	MappingKey      string `json:"mappingKey"`
	ApplicationKey  string `json:"applicationKey"`
	ApplicationName string `json:"applicationName"`
	ModuleKey       string `json:"moduleKey"`
	ModuleName      string `json:"moduleName"`
	CodePattern     string `json:"codePattern"`
	Category        string `json:"category"`
	PatternClass    string `json:"patternClass"`
	WhereToFix      string `json:"whereToFix"`
	Count           int    `json:"count"`
	Message         string `json:"message"`
	Status          string `json:"status"`
}

// AssetReadiness says whether a mapping's asset can be migrated.
type AssetReadiness struct {
	MappingKey          string    `json:"mappingKey"`
	Name                string    `json:"name"`
	AssetType           string    `json:"assetType"`
	Status              string    `json:"status"`
	Ready               bool      `json:"ready"`
	OpenFindings        []Finding `json:"openFindings"`
	ProducerMappingKeys []string  `json:"producerMappingKeys"`
}

// --- routes, authentication, errors ---

// Register adds the assessment API under both names the kit has had.
func (s *Service) Register(mux *http.ServeMux) {
	for _, base := range []string{Base, ConversionBase} {
		api := http.NewServeMux()
		handle := func(path string, handlers map[string]http.HandlerFunc) {
			httpx.Route(api, base+path, handlers, WriteError)
		}
		get := http.MethodGet
		handle("/applications", map[string]http.HandlerFunc{get: s.serveListApplications})
		handle("/applications/{applicationKey}", map[string]http.HandlerFunc{get: s.serveGetApplication})
		handle("/mappings", map[string]http.HandlerFunc{get: s.serveListMappings, http.MethodPost: s.serveCreateMapping})
		handle("/mappings/{mappingKey}", map[string]http.HandlerFunc{
			get:               s.serveGetMapping,
			http.MethodPatch:  s.serveUpdateMapping,
			http.MethodDelete: s.serveDeleteMapping,
		})
		handle("/mappings/{mappingKey}/findings", map[string]http.HandlerFunc{get: s.serveListFindings})
		handle("/assessments/{assessmentKey}", map[string]http.HandlerFunc{get: s.serveGetAssessment})
		handle("/readiness", map[string]http.HandlerFunc{get: s.serveReadiness})
		api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			WriteProblem(w, r, &Problem{Status: http.StatusNotFound, Code: CodeEndpointNotFound,
				Detail: fmt.Sprintf("There is no Migration Kit assessment API endpoint at %s.", r.URL.Path)})
		})
		mux.Handle(base+"/", WithRequest(s.requireAccount(api)))
	}
}

// requestWriter carries the request to WriteError, which httpx.Route()
// calls with the response writer only.
type requestWriter struct {
	http.ResponseWriter
	r *http.Request
}

// WithRequest lets WriteError, which httpx.Route calls with the response
// writer only, see the request.
func WithRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&requestWriter{ResponseWriter: w, r: r}, r)
	})
}

// WriteError is the errorWriter of httpx.Route, which calls it for
// 405 answers.
func WriteError(w http.ResponseWriter, status int, messages ...string) {
	code := CodeMethodNotAllowed
	if status != http.StatusMethodNotAllowed {
		code = CodeInternal
	}
	var r *http.Request
	if rw, ok := w.(*requestWriter); ok {
		r = rw.r
	}
	WriteProblem(w, r, &Problem{Status: status, Code: code, Detail: strings.Join(messages, " ")})
}

// WriteProblem answers an RFC 7807 ProblemDetails document.
func WriteProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	doc := ProblemDetails{
		Type: ProblemTypePrefix + p.Code, Title: ProblemTitles[p.Code], Status: p.Status, Detail: p.Detail,
		TraceID: NewTraceID(), ErrorCode: p.Code, ConflictingMappingKey: p.ConflictingMappingKey,
	}
	if r != nil {
		doc.Instance = r.URL.Path
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

// NewTraceID returns a W3C-style trace id: 32 hexadecimal digits.
func NewTraceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Fail answers an error in the contract's shape: a problem as it is,
// anything else as a 500 (and a line in logger).
func Fail(logger *log.Logger, w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	switch {
	case errors.As(err, &p):
		WriteProblem(w, r, p)
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
	default:
		logger.Printf("%s %s: internal error: %v", r.Method, r.URL.Path, err)
		WriteProblem(w, r, &Problem{Status: http.StatusInternalServerError, Code: CodeInternal,
			Detail: "Internal error in the sandbox; see its log."})
	}
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) { Fail(s.logger, w, r, err) }

// requireAccount admits requests carrying the bearer token of a
// LifeTime service account; only Administrator accounts may do more than
// read.
func (s *Service) requireAccount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := httpx.BearerToken(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="MigrationAssessment"`)
			WriteProblem(w, r, &Problem{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
				Detail: "Send the token of a LifeTime service account as 'Authorization: Bearer <token>'."})
			return
		}
		account, err := s.lt.AccountByToken(r.Context(), token)
		if errors.Is(err, httpx.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="MigrationAssessment", error="invalid_token"`)
			WriteProblem(w, r, &Problem{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
				Detail: "The token is not the token of a LifeTime service account, or it was revoked."})
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && account.Role != fixture.RoleAdministrator {
			WriteProblem(w, r, &Problem{Status: http.StatusForbidden, Code: CodeForbidden, Detail: fmt.Sprintf(
				"Service account '%s' (role %s) may only read: %s %s needs a LifeTime service account with the %s role.",
				account.Name, account.Role, r.Method, r.URL.Path, fixture.RoleAdministrator)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// --- request parsing ---

// ParseGUID checks a GUID in the 8-4-4-4-12 form and returns it in lower case.
func ParseGUID(name, value string) (string, error) {
	id, err := uuid.Parse(value)
	if err != nil || len(value) != 36 {
		return "", fmt.Errorf("%s '%s' is not a GUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6", name, value)
	}
	return id.String(), nil
}

// PathGUID reads a GUID path parameter, answering VALIDATION_ERROR when it
// is not one.
func PathGUID(r *http.Request, name string) (string, error) {
	key, err := ParseGUID(name, r.PathValue(name))
	if err != nil {
		return "", ValidationProblem(err.Error() + ".")
	}
	return key, nil
}

// Paging is a checked limit and offset.
type Paging struct{ Limit, Offset int }

// ParsePaging reads limit (1-100, default 100) and offset (default 0).
func ParsePaging(r *http.Request) (Paging, error) { return parsePaging(r, MaxPageLimit) }

// parsePaging reads limit (1-maxLimit, default 100) and offset (default 0).
func parsePaging(r *http.Request, maxLimit int) (Paging, error) {
	p := Paging{Limit: MaxPageLimit}
	q := r.URL.Query()
	var problems []string
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > maxLimit {
			problems = append(problems, fmt.Sprintf("limit '%s' must be a whole number from 1 to %d.", q.Get("limit"), maxLimit))
		}
		p.Limit = n
	}
	if q.Has("offset") {
		n, err := strconv.Atoi(q.Get("offset"))
		if err != nil || n < 0 {
			problems = append(problems, fmt.Sprintf("offset '%s' must be a whole number, 0 or more.", q.Get("offset")))
		}
		p.Offset = n
	}
	if len(problems) > 0 {
		return p, ValidationProblem(problems...)
	}
	return p, nil
}

func pageOf[T any](items []T, p Paging) Page[T] {
	total := len(items)
	start := min(p.Offset, total)
	end := min(start+p.Limit, total)
	page := Page[T]{Results: NonNil(items[start:end]), Page: PageInfo{
		Count: end - start, Limit: p.Limit, Offset: p.Offset, TotalResults: total, TotalPages: (total + p.Limit - 1) / p.Limit,
	}}
	if end < total {
		page.Page.NextPageOffset = &end
	}
	return page
}

// WritePage answers one page of the list load returns, after checking
// the paging parameters; fail answers errors.
func WritePage[T any](w http.ResponseWriter, r *http.Request, load func() ([]T, error), fail func(http.ResponseWriter, *http.Request, error)) {
	writePage(w, r, MaxPageLimit, load, fail)
}

// writePage is WritePage with a limit of at most maxLimit.
func writePage[T any](w http.ResponseWriter, r *http.Request, maxLimit int, load func() ([]T, error), fail func(http.ResponseWriter, *http.Request, error)) {
	p, err := parsePaging(r, maxLimit)
	var items []T
	if err == nil {
		items, err = load()
	}
	if err != nil {
		fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, pageOf(items, p))
}

// mappingNamePattern is the contract's: no leading or trailing white space.
var mappingNamePattern = regexp.MustCompile(`^\S(.*\S)?$`)

// ReadObject reads a JSON object body and checks its members are among
// allowed.
func ReadObject(w http.ResponseWriter, r *http.Request, allowed ...string) (map[string]json.RawMessage, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, &Problem{Status: http.StatusUnsupportedMediaType, Code: CodeUnsupportedMediaType, Detail: fmt.Sprintf(
			"Send the body as application/json (Content-Type was '%s').", r.Header.Get("Content-Type"))}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	if err != nil {
		return nil, ValidationProblem(fmt.Sprintf("The body cannot be read (at most %d bytes): %v.", httpx.MaxBodyBytes, err))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, ValidationProblem("The body must be a JSON object.")
	}
	var unknown []string
	for k := range obj {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, "'"+k+"'")
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, ValidationProblem(fmt.Sprintf("Unknown field(s) %s; allowed: %s.", strings.Join(unknown, ", "), strings.Join(allowed, ", ")))
	}
	return obj, nil
}

// FieldParser collects the problems of a body's fields.
type FieldParser struct {
	Obj      map[string]json.RawMessage
	problems []string
}

// Addf adds a problem.
func (p *FieldParser) Addf(format string, args ...any) {
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

// Text returns a string member of at most maxLen characters (0: any); nil
// when absent, or when it is not a string (a problem then).
func (p *FieldParser) Text(name string, required bool, maxLen int) *string {
	raw, ok := p.Obj[name]
	if !ok {
		if required {
			p.Addf("%s is required.", name)
		}
		return nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		p.Addf("%s must be a string.", name)
		return nil
	}
	if n := utf8.RuneCountInString(v); maxLen > 0 && n > maxLen {
		p.Addf("%s must be at most %d characters (got %d).", name, maxLen, n)
	}
	return &v
}

func (p *FieldParser) mappingName(required bool) *string {
	v := p.Text("name", required, maxMappingName)
	if v != nil && !mappingNamePattern.MatchString(*v) {
		p.Addf("name must not be empty nor start or end with white space.")
	}
	return v
}

func (p *FieldParser) assetType() string {
	v := p.Text("assetType", true, 0)
	if v == nil {
		return ""
	}
	if !slices.Contains(assetTypes, *v) {
		p.Addf("assetType '%s' must be one of %s.", *v, strings.Join(assetTypes, ", "))
	}
	return *v
}

// applicationKeys returns the keys in lower case; nil when absent.
func (p *FieldParser) applicationKeys(required bool) []string {
	raw, ok := p.Obj["applicationKeys"]
	if !ok {
		if required {
			p.Addf("applicationKeys is required.")
		}
		return nil
	}
	var values []string
	if err := json.Unmarshal(raw, &values); err != nil || values == nil {
		p.Addf("applicationKeys must be an array of GUIDs.")
		return nil
	}
	if len(values) == 0 {
		p.Addf("applicationKeys must name at least one O11 application.")
		return nil
	}
	keys := make([]string, 0, len(values))
	for i, v := range values {
		key, err := ParseGUID(fmt.Sprintf("applicationKeys[%d]", i), v)
		switch {
		case err != nil:
			p.Addf("%v.", err)
		case slices.Contains(keys, key):
			p.Addf("applicationKeys lists '%s' more than once.", v)
		default:
			keys = append(keys, key)
		}
	}
	return keys
}

// Err is the problems as one VALIDATION_ERROR, nil when there are none.
func (p *FieldParser) Err() error {
	if len(p.problems) > 0 {
		return ValidationProblem(p.problems...)
	}
	return nil
}

// --- handlers ---

func (s *Service) serveListApplications(w http.ResponseWriter, r *http.Request) {
	WritePage(w, r, func() ([]O11Application, error) { return s.o11Applications(r.Context(), "") }, s.fail)
}

func (s *Service) serveGetApplication(w http.ResponseWriter, r *http.Request) {
	key, err := PathGUID(r, "applicationKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	apps, err := s.o11Applications(r.Context(), key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, apps[0])
}

func (s *Service) serveListMappings(w http.ResponseWriter, r *http.Request) {
	WritePage(w, r, func() ([]Mapping, error) { return s.mappingList(r.Context(), s.now()) }, s.fail)
}

func (s *Service) serveGetMapping(w http.ResponseWriter, r *http.Request) {
	key, err := PathGUID(r, "mappingKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.mapping(r.Context(), s.now(), key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, m)
}

func (s *Service) serveCreateMapping(w http.ResponseWriter, r *http.Request) {
	obj, err := ReadObject(w, r, "name", "assetType", "description", "applicationKeys")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &FieldParser{Obj: obj}
	c := mappingChange{name: p.mappingName(true), assetType: p.assetType(),
		description: p.Text("description", false, maxMappingDescription), appKeys: p.applicationKeys(true)}
	if err := p.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.createMapping(r.Context(), s.now(), s.delay(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+m.Key)
	httpx.WriteJSON(w, http.StatusCreated, m)
}

func (s *Service) serveUpdateMapping(w http.ResponseWriter, r *http.Request) {
	key, err := PathGUID(r, "mappingKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	obj, err := ReadObject(w, r, "name", "description", "applicationKeys", "assetType")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := &FieldParser{Obj: obj}
	c := mappingChange{name: p.mappingName(false), description: p.Text("description", false, maxMappingDescription),
		appKeys: p.applicationKeys(false)}
	if err := p.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	if _, ok := obj["assetType"]; ok {
		s.fail(w, r, &Problem{Status: http.StatusBadRequest, Code: CodeAssetTypeImmutable, Detail: fmt.Sprintf(
			"The asset type of mapping '%s' cannot change: leave assetType out, or delete the mapping and create one with the new type.", key)})
		return
	}
	m, err := s.updateMapping(r.Context(), s.now(), s.delay(), key, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, m)
}

func (s *Service) serveDeleteMapping(w http.ResponseWriter, r *http.Request) {
	key, err := PathGUID(r, "mappingKey")
	if err == nil {
		err = s.deleteMapping(r.Context(), s.now(), key)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) serveListFindings(w http.ResponseWriter, r *http.Request) {
	WritePage(w, r, func() ([]Finding, error) {
		key, err := PathGUID(r, "mappingKey")
		if err != nil {
			return nil, err
		}
		return s.findings(r.Context(), key)
	}, s.fail)
}

func (s *Service) serveGetAssessment(w http.ResponseWriter, r *http.Request) {
	key, err := PathGUID(r, "assessmentKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.assessment(r.Context(), s.now(), key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, a)
}

func (s *Service) serveReadiness(w http.ResponseWriter, r *http.Request) {
	writePage(w, r, MaxReadinessLimit, func() ([]AssetReadiness, error) {
		var keys, invalid []string
		for _, v := range r.URL.Query()["mappingKeys"] {
			key, err := ParseGUID("mappingKeys", v)
			switch {
			case err != nil:
				invalid = append(invalid, err.Error()+".")
			case !slices.Contains(keys, key):
				keys = append(keys, key)
			}
		}
		if len(invalid) > 0 {
			return nil, ValidationProblem(invalid...)
		}
		return s.readiness(r.Context(), s.now(), keys)
	}, s.fail)
}
