package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The Migration Kit's assessment tool has no public API, so the project
// defines one: api/migration-kit/v1/openapi.yaml. The sandbox serves it as
// the tool's console on the O11 Development host would, under both names the
// kit has had.
const (
	assessmentBase           = "/MigrationAssessment/api/v1"
	conversionAssessmentBase = "/ConversionAssessment/api/v1"

	// DefaultAssessmentDelay is how long an assessment takes when
	// Options.AssessmentDelay is zero: Queued, Running after half of it,
	// Finished after all of it.
	DefaultAssessmentDelay = 2 * time.Second

	maProblemTypePrefix = "urn:terraform-provider-outsystems:migration-kit:v1:"

	maxMappingName        = 100
	maxMappingDescription = 500
	maMaxPageLimit        = 100
)

// Error codes of the contract (ProblemDetails.errorCode).
const (
	maCodeValidation                     = "VALIDATION_ERROR"
	maCodeUnauthorized                   = "UNAUTHORIZED"
	maCodeForbidden                      = "FORBIDDEN"
	maCodeApplicationNotFound            = "APPLICATION_NOT_FOUND"
	maCodeMappingNotFound                = "MAPPING_NOT_FOUND"
	maCodeAssessmentNotFound             = "ASSESSMENT_NOT_FOUND"
	maCodeEndpointNotFound               = "ENDPOINT_NOT_FOUND"
	maCodeMethodNotAllowed               = "METHOD_NOT_ALLOWED"
	maCodeUnsupportedMediaType           = "UNSUPPORTED_MEDIA_TYPE"
	maCodeMappingNameTaken               = "MAPPING_NAME_TAKEN"
	maCodeApplicationAlreadyMapped       = "APPLICATION_ALREADY_MAPPED"
	maCodeAssetTypeImmutable             = "ASSET_TYPE_IMMUTABLE"
	maCodeExtensionNotMappable           = "EXTENSION_NOT_MAPPABLE"
	maCodeLibraryRequiresLibraryOnlyApps = "LIBRARY_REQUIRES_LIBRARY_ONLY_APPS"
	maCodeMixedAppKinds                  = "MIXED_APP_KINDS"
	maCodeTooManyModules                 = "TOO_MANY_MODULES"
	maCodeInternal                       = "INTERNAL_ERROR"
)

// maProblemTitles is the title of each error code, the same for every occurrence.
var maProblemTitles = map[string]string{
	maCodeValidation:                     "The request is not valid",
	maCodeUnauthorized:                   "Authentication required",
	maCodeForbidden:                      "Permission denied",
	maCodeApplicationNotFound:            "O11 application not found",
	maCodeMappingNotFound:                "Mapping not found",
	maCodeAssessmentNotFound:             "Assessment not found",
	maCodeEndpointNotFound:               "No such endpoint",
	maCodeMethodNotAllowed:               "Method not allowed",
	maCodeUnsupportedMediaType:           "Unsupported media type",
	maCodeMappingNameTaken:               "Mapping name already taken",
	maCodeApplicationAlreadyMapped:       "O11 application already mapped",
	maCodeAssetTypeImmutable:             "Asset type cannot change",
	maCodeExtensionNotMappable:           "Extensions cannot be mapped",
	maCodeLibraryRequiresLibraryOnlyApps: "A library takes only library-only applications",
	maCodeMixedAppKinds:                  "Application kinds do not fit the asset type",
	maCodeTooManyModules:                 "Too many O11 modules for one asset",
	maCodeInternal:                       "Internal error",
}

// maProblem is an error answered as a ProblemDetails document.
type maProblem struct {
	status                int
	code                  string
	detail                string
	conflictingMappingKey string
}

func (p *maProblem) Error() string { return p.detail }

func maValidationProblem(details ...string) error {
	return &maProblem{status: http.StatusBadRequest, code: maCodeValidation, detail: strings.Join(details, " ")}
}

func maMappingNotFound(key string) error {
	return &maProblem{status: http.StatusNotFound, code: maCodeMappingNotFound, detail: fmt.Sprintf("Mapping with key '%s' was not found.", key)}
}

// --- wire types (camelCase, as in the contract) ---

type maProblemDetails struct {
	Type                  string `json:"type"`
	Title                 string `json:"title"`
	Status                int    `json:"status"`
	Detail                string `json:"detail"`
	Instance              string `json:"instance,omitempty"`
	TraceID               string `json:"traceId"`
	ErrorCode             string `json:"errorCode"`
	ConflictingMappingKey string `json:"conflictingMappingKey,omitempty"`
}

type maPageInfo struct {
	Count          int  `json:"count"`
	Limit          int  `json:"limit"`
	Offset         int  `json:"offset"`
	NextPageOffset *int `json:"nextPageOffset"`
	TotalResults   int  `json:"totalResults"`
	TotalPages     int  `json:"totalPages"`
}

type maPage[T any] struct {
	Results []T        `json:"results"`
	Page    maPageInfo `json:"page"`
}

type maO11Module struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Type string `json:"type"`
}

type maO11Application struct {
	Key           string        `json:"key"`
	Name          string        `json:"name"`
	Kind          string        `json:"kind"`
	IsLibraryOnly bool          `json:"isLibraryOnly"`
	HasExtensions bool          `json:"hasExtensions"`
	ModuleCount   int           `json:"moduleCount"`
	Modules       []maO11Module `json:"modules"`
	MappingKey    *string       `json:"mappingKey"`
}

type maMapping struct {
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

type maAssessment struct {
	Key        string     `json:"key"`
	MappingKey string     `json:"mappingKey"`
	Status     string     `json:"status"`
	Result     *string    `json:"result"`
	QueuedAt   time.Time  `json:"queuedAt"`
	StartedAt  *time.Time `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt"`
}

type maFinding struct {
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

type maAssetReadiness struct {
	MappingKey          string      `json:"mappingKey"`
	Name                string      `json:"name"`
	AssetType           string      `json:"assetType"`
	Status              string      `json:"status"`
	Ready               bool        `json:"ready"`
	OpenFindings        []maFinding `json:"openFindings"`
	ProducerMappingKeys []string    `json:"producerMappingKeys"`
}

// --- routes, authentication, errors ---

func (s *Sandbox) registerAssessment(mux *http.ServeMux) {
	for _, base := range []string{assessmentBase, conversionAssessmentBase} {
		api := http.NewServeMux()
		handle := func(path string, handlers map[string]http.HandlerFunc) {
			route(api, base+path, handlers, writeAssessmentError)
		}
		get := http.MethodGet
		handle("/applications", map[string]http.HandlerFunc{get: s.maListApplications})
		handle("/applications/{applicationKey}", map[string]http.HandlerFunc{get: s.maGetApplication})
		handle("/mappings", map[string]http.HandlerFunc{get: s.maListMappings, http.MethodPost: s.maCreateMapping})
		handle("/mappings/{mappingKey}", map[string]http.HandlerFunc{
			get:               s.maGetMapping,
			http.MethodPatch:  s.maUpdateMapping,
			http.MethodDelete: s.maDeleteMapping,
		})
		handle("/mappings/{mappingKey}/findings", map[string]http.HandlerFunc{get: s.maListFindings})
		handle("/assessments/{assessmentKey}", map[string]http.HandlerFunc{get: s.maGetAssessment})
		handle("/readiness", map[string]http.HandlerFunc{get: s.maReadiness})
		api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			maWriteProblem(w, r, &maProblem{status: http.StatusNotFound, code: maCodeEndpointNotFound,
				detail: fmt.Sprintf("There is no Migration Kit assessment API endpoint at %s.", r.URL.Path)})
		})
		mux.Handle(base+"/", maWithRequest(s.requireAssessmentAccount(api)))
	}
}

// maRequestWriter carries the request to writeAssessmentError, which route()
// calls with the response writer only.
type maRequestWriter struct {
	http.ResponseWriter
	r *http.Request
}

func maWithRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&maRequestWriter{ResponseWriter: w, r: r}, r)
	})
}

// writeAssessmentError is the errorWriter of route(), which calls it for
// 405 answers.
func writeAssessmentError(w http.ResponseWriter, status int, messages ...string) {
	code := maCodeMethodNotAllowed
	if status != http.StatusMethodNotAllowed {
		code = maCodeInternal
	}
	var r *http.Request
	if rw, ok := w.(*maRequestWriter); ok {
		r = rw.r
	}
	maWriteProblem(w, r, &maProblem{status: status, code: code, detail: strings.Join(messages, " ")})
}

// maWriteProblem answers an RFC 7807 ProblemDetails document.
func maWriteProblem(w http.ResponseWriter, r *http.Request, p *maProblem) {
	doc := maProblemDetails{
		Type: maProblemTypePrefix + p.code, Title: maProblemTitles[p.code], Status: p.status, Detail: p.detail,
		TraceID: maNewTraceID(), ErrorCode: p.code, ConflictingMappingKey: p.conflictingMappingKey,
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
	w.WriteHeader(p.status)
	w.Write(body.Bytes())
}

// maNewTraceID returns a W3C-style trace id: 32 hexadecimal digits.
func maNewTraceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// maFail answers an error: a problem as it is, anything else as a 500 (and
// a log line).
func (s *Sandbox) maFail(w http.ResponseWriter, r *http.Request, err error) {
	var p *maProblem
	switch {
	case errors.As(err, &p):
		maWriteProblem(w, r, p)
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
	default:
		s.logger.Printf("%s %s: internal error: %v", r.Method, r.URL.Path, err)
		maWriteProblem(w, r, &maProblem{status: http.StatusInternalServerError, code: maCodeInternal,
			detail: "Internal error in the sandbox; see its log."})
	}
}

// requireAssessmentAccount admits requests carrying the bearer token of a
// LifeTime service account; only Administrator accounts may do more than
// read.
func (s *Sandbox) requireAssessmentAccount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="MigrationAssessment"`)
			maWriteProblem(w, r, &maProblem{status: http.StatusUnauthorized, code: maCodeUnauthorized,
				detail: "Send the token of a LifeTime service account as 'Authorization: Bearer <token>'."})
			return
		}
		account, err := s.store.accountByToken(r.Context(), token)
		if errors.Is(err, errNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="MigrationAssessment", error="invalid_token"`)
			maWriteProblem(w, r, &maProblem{status: http.StatusUnauthorized, code: maCodeUnauthorized,
				detail: "The token is not the token of a LifeTime service account, or it was revoked."})
			return
		}
		if err != nil {
			s.maFail(w, r, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && account.Role != RoleAdministrator {
			maWriteProblem(w, r, &maProblem{status: http.StatusForbidden, code: maCodeForbidden, detail: fmt.Sprintf(
				"Service account '%s' (role %s) may only read: %s %s needs a LifeTime service account with the %s role.",
				account.Name, account.Role, r.Method, r.URL.Path, RoleAdministrator)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// --- request parsing ---

// maParseGUID checks a GUID in the 8-4-4-4-12 form and returns it in lower case.
func maParseGUID(name, value string) (string, error) {
	id, err := uuid.Parse(value)
	if err != nil || len(value) != 36 {
		return "", fmt.Errorf("%s '%s' is not a GUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6", name, value)
	}
	return id.String(), nil
}

func maPathGUID(r *http.Request, name string) (string, error) {
	key, err := maParseGUID(name, r.PathValue(name))
	if err != nil {
		return "", maValidationProblem(err.Error() + ".")
	}
	return key, nil
}

type maPaging struct{ limit, offset int }

// maParsePaging reads limit (1-100, default 100) and offset (default 0).
func maParsePaging(r *http.Request) (maPaging, error) {
	p := maPaging{limit: maMaxPageLimit}
	q := r.URL.Query()
	var problems []string
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > maMaxPageLimit {
			problems = append(problems, fmt.Sprintf("limit '%s' must be a whole number from 1 to %d.", q.Get("limit"), maMaxPageLimit))
		}
		p.limit = n
	}
	if q.Has("offset") {
		n, err := strconv.Atoi(q.Get("offset"))
		if err != nil || n < 0 {
			problems = append(problems, fmt.Sprintf("offset '%s' must be a whole number, 0 or more.", q.Get("offset")))
		}
		p.offset = n
	}
	if len(problems) > 0 {
		return p, maValidationProblem(problems...)
	}
	return p, nil
}

func maPageOf[T any](items []T, p maPaging) maPage[T] {
	total := len(items)
	start := min(p.offset, total)
	end := min(start+p.limit, total)
	page := maPage[T]{Results: maNonNil(items[start:end]), Page: maPageInfo{
		Count: end - start, Limit: p.limit, Offset: p.offset, TotalResults: total, TotalPages: (total + p.limit - 1) / p.limit,
	}}
	if end < total {
		page.Page.NextPageOffset = &end
	}
	return page
}

// maWritePage answers one page of the list load returns, after checking
// the paging parameters.
func maWritePage[T any](s *Sandbox, w http.ResponseWriter, r *http.Request, load func() ([]T, error)) {
	p, err := maParsePaging(r)
	var items []T
	if err == nil {
		items, err = load()
	}
	if err != nil {
		s.maFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, maPageOf(items, p))
}

// mappingNamePattern is the contract's: no leading or trailing white space.
var mappingNamePattern = regexp.MustCompile(`^\S(.*\S)?$`)

// maReadObject reads a JSON object body and checks its members are among
// allowed.
func maReadObject(w http.ResponseWriter, r *http.Request, allowed ...string) (map[string]json.RawMessage, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, &maProblem{status: http.StatusUnsupportedMediaType, code: maCodeUnsupportedMediaType, detail: fmt.Sprintf(
			"Send the body as application/json (Content-Type was '%s').", r.Header.Get("Content-Type"))}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return nil, maValidationProblem(fmt.Sprintf("The body cannot be read (at most %d bytes): %v.", maxBodyBytes, err))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, maValidationProblem("The body must be a JSON object.")
	}
	var unknown []string
	for k := range obj {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, "'"+k+"'")
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, maValidationProblem(fmt.Sprintf("Unknown field(s) %s; allowed: %s.", strings.Join(unknown, ", "), strings.Join(allowed, ", ")))
	}
	return obj, nil
}

// maFieldParser collects the problems of a body's fields.
type maFieldParser struct {
	obj      map[string]json.RawMessage
	problems []string
}

func (p *maFieldParser) addf(format string, args ...any) {
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

// text returns a string member of at most maxLen characters (0: any); nil
// when absent, or when it is not a string (a problem then).
func (p *maFieldParser) text(name string, required bool, maxLen int) *string {
	raw, ok := p.obj[name]
	if !ok {
		if required {
			p.addf("%s is required.", name)
		}
		return nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		p.addf("%s must be a string.", name)
		return nil
	}
	if n := utf8.RuneCountInString(v); maxLen > 0 && n > maxLen {
		p.addf("%s must be at most %d characters (got %d).", name, maxLen, n)
	}
	return &v
}

func (p *maFieldParser) mappingName(required bool) *string {
	v := p.text("name", required, maxMappingName)
	if v != nil && !mappingNamePattern.MatchString(*v) {
		p.addf("name must not be empty nor start or end with white space.")
	}
	return v
}

func (p *maFieldParser) assetType() string {
	v := p.text("assetType", true, 0)
	if v == nil {
		return ""
	}
	if !slices.Contains(maAssetTypes, *v) {
		p.addf("assetType '%s' must be one of %s.", *v, strings.Join(maAssetTypes, ", "))
	}
	return *v
}

// applicationKeys returns the keys in lower case; nil when absent.
func (p *maFieldParser) applicationKeys(required bool) []string {
	raw, ok := p.obj["applicationKeys"]
	if !ok {
		if required {
			p.addf("applicationKeys is required.")
		}
		return nil
	}
	var values []string
	if err := json.Unmarshal(raw, &values); err != nil || values == nil {
		p.addf("applicationKeys must be an array of GUIDs.")
		return nil
	}
	if len(values) == 0 {
		p.addf("applicationKeys must name at least one O11 application.")
		return nil
	}
	keys := make([]string, 0, len(values))
	for i, v := range values {
		key, err := maParseGUID(fmt.Sprintf("applicationKeys[%d]", i), v)
		switch {
		case err != nil:
			p.addf("%v.", err)
		case slices.Contains(keys, key):
			p.addf("applicationKeys lists '%s' more than once.", v)
		default:
			keys = append(keys, key)
		}
	}
	return keys
}

func (p *maFieldParser) err() error {
	if len(p.problems) > 0 {
		return maValidationProblem(p.problems...)
	}
	return nil
}

// --- handlers ---

func (s *Sandbox) maListApplications(w http.ResponseWriter, r *http.Request) {
	maWritePage(s, w, r, func() ([]maO11Application, error) { return s.store.o11Applications(r.Context(), "") })
}

func (s *Sandbox) maGetApplication(w http.ResponseWriter, r *http.Request) {
	key, err := maPathGUID(r, "applicationKey")
	if err != nil {
		s.maFail(w, r, err)
		return
	}
	apps, err := s.store.o11Applications(r.Context(), key)
	if err != nil {
		s.maFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apps[0])
}

func (s *Sandbox) maListMappings(w http.ResponseWriter, r *http.Request) {
	maWritePage(s, w, r, func() ([]maMapping, error) { return s.store.mappingList(r.Context(), s.now()) })
}

func (s *Sandbox) maGetMapping(w http.ResponseWriter, r *http.Request) {
	key, err := maPathGUID(r, "mappingKey")
	if err != nil {
		s.maFail(w, r, err)
		return
	}
	m, err := s.store.mapping(r.Context(), s.now(), key)
	if err != nil {
		s.maFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Sandbox) maCreateMapping(w http.ResponseWriter, r *http.Request) {
	obj, err := maReadObject(w, r, "name", "assetType", "description", "applicationKeys")
	if err != nil {
		s.maFail(w, r, err)
		return
	}
	p := &maFieldParser{obj: obj}
	c := mappingChange{name: p.mappingName(true), assetType: p.assetType(),
		description: p.text("description", false, maxMappingDescription), appKeys: p.applicationKeys(true)}
	if err := p.err(); err != nil {
		s.maFail(w, r, err)
		return
	}
	m, err := s.store.createMapping(r.Context(), s.now(), s.assessmentDelay, c)
	if err != nil {
		s.maFail(w, r, err)
		return
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+m.Key)
	writeJSON(w, http.StatusCreated, m)
}

func (s *Sandbox) maUpdateMapping(w http.ResponseWriter, r *http.Request) {
	key, err := maPathGUID(r, "mappingKey")
	if err != nil {
		s.maFail(w, r, err)
		return
	}
	obj, err := maReadObject(w, r, "name", "description", "applicationKeys", "assetType")
	if err != nil {
		s.maFail(w, r, err)
		return
	}
	p := &maFieldParser{obj: obj}
	c := mappingChange{name: p.mappingName(false), description: p.text("description", false, maxMappingDescription),
		appKeys: p.applicationKeys(false)}
	if err := p.err(); err != nil {
		s.maFail(w, r, err)
		return
	}
	if _, ok := obj["assetType"]; ok {
		s.maFail(w, r, &maProblem{status: http.StatusBadRequest, code: maCodeAssetTypeImmutable, detail: fmt.Sprintf(
			"The asset type of mapping '%s' cannot change: leave assetType out, or delete the mapping and create one with the new type.", key)})
		return
	}
	m, err := s.store.updateMapping(r.Context(), s.now(), s.assessmentDelay, key, c)
	if err != nil {
		s.maFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Sandbox) maDeleteMapping(w http.ResponseWriter, r *http.Request) {
	key, err := maPathGUID(r, "mappingKey")
	if err == nil {
		err = s.store.deleteMapping(r.Context(), s.now(), key)
	}
	if err != nil {
		s.maFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sandbox) maListFindings(w http.ResponseWriter, r *http.Request) {
	maWritePage(s, w, r, func() ([]maFinding, error) {
		key, err := maPathGUID(r, "mappingKey")
		if err != nil {
			return nil, err
		}
		return s.store.findings(r.Context(), key)
	})
}

func (s *Sandbox) maGetAssessment(w http.ResponseWriter, r *http.Request) {
	key, err := maPathGUID(r, "assessmentKey")
	if err != nil {
		s.maFail(w, r, err)
		return
	}
	a, err := s.store.assessment(r.Context(), s.now(), key)
	if err != nil {
		s.maFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Sandbox) maReadiness(w http.ResponseWriter, r *http.Request) {
	maWritePage(s, w, r, func() ([]maAssetReadiness, error) {
		var keys, invalid []string
		for _, v := range r.URL.Query()["mappingKeys"] {
			key, err := maParseGUID("mappingKeys", v)
			switch {
			case err != nil:
				invalid = append(invalid, err.Error()+".")
			case !slices.Contains(keys, key):
				keys = append(keys, key)
			}
		}
		if len(invalid) > 0 {
			return nil, maValidationProblem(invalid...)
		}
		return s.store.readiness(r.Context(), s.now(), keys)
	})
}

// --- simulating developers fixing the O11 code (admin surface and tests) ---

// FixFinding marks a finding fixed, as if developers changed the O11 code,
// and queues a new assessment of the mapping holding its application.
func (s *Sandbox) FixFinding(findingKey string) error {
	key, err := parseKey("findingKey", findingKey)
	if err != nil {
		return err
	}
	_, _, err = s.store.fixFindings(context.Background(), s.now(), s.assessmentDelay, key, "")
	return err
}

// FixAllFindings marks every finding of a mapping's applications fixed and
// queues a new assessment of the mapping.
func (s *Sandbox) FixAllFindings(mappingKey string) error {
	key, err := parseKey("mappingKey", mappingKey)
	if err != nil {
		return err
	}
	_, _, err = s.store.fixFindings(context.Background(), s.now(), s.assessmentDelay, "", key)
	return err
}

type adminFixResponse struct {
	FixedFindingKeys     []string `json:"fixedFindingKeys"`
	QueuedAssessmentKeys []string `json:"queuedAssessmentKeys"`
}

// adminFixFinding: POST /_sandbox/assessment/findings/{findingKey}/fix.
func (s *Sandbox) adminFixFinding(w http.ResponseWriter, r *http.Request) {
	key, err := parseKey("findingKey", r.PathValue("findingKey"))
	if err != nil {
		s.writeStoreError(w, r, err, writeAdminError)
		return
	}
	s.adminFix(w, r, key, "")
}

// adminFixAllFindings: POST /_sandbox/assessment/mappings/{mappingKey}/fix-all.
func (s *Sandbox) adminFixAllFindings(w http.ResponseWriter, r *http.Request) {
	key, err := parseKey("mappingKey", r.PathValue("mappingKey"))
	if err != nil {
		s.writeStoreError(w, r, err, writeAdminError)
		return
	}
	s.adminFix(w, r, "", key)
}

func (s *Sandbox) adminFix(w http.ResponseWriter, r *http.Request, findingKey, mappingKey string) {
	fixed, queued, err := s.store.fixFindings(r.Context(), s.now(), s.assessmentDelay, findingKey, mappingKey)
	if err != nil {
		s.writeStoreError(w, r, err, writeAdminError)
		return
	}
	writeJSON(w, http.StatusOK, adminFixResponse{FixedFindingKeys: fixed, QueuedAssessmentKeys: queued})
}
