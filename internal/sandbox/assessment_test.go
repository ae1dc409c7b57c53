package sandbox

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/api"
	"github.com/seed-1be1de96/terraform-provider-outsystems/api/contracttest"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/migrationkit"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// fakeClock drives assessment timing in tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// assessEnv is a sandbox whose assessment API traffic is checked against the
// contract, api/migration-kit/v1/openapi.yaml.
type assessEnv struct {
	t        *testing.T
	sb       *Sandbox
	url      string // the sandbox
	api      string // url + assessment.Base
	contract *contracttest.Contract
}

// newAssessEnv starts a sandbox on a fresh database (unless opts names one);
// with a clock, assessments are timed by it.
func newAssessEnv(t *testing.T, opts Options, clock *fakeClock) *assessEnv {
	t.Helper()
	if opts.DBPath == "" {
		opts.DBPath = filepath.Join(t.TempDir(), "sb.db")
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if clock != nil {
		s.now = clock.Now
	}
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	c, err := contracttest.New(api.MigrationKitV1, url)
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	return &assessEnv{t: t, sb: s, url: url, api: url + assessment.Base, contract: c}
}

// exchange sends a request to the assessment API (path relative to its
// base, or a full URL) and checks the response against the contract; the
// request must conform to it when conforming, and must not otherwise. A
// string body is sent as is, anything else as JSON; contentType "" means
// application/json.
func (e *assessEnv) exchange(method, path, token string, body any, contentType string, conforming bool) response {
	e.t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case string:
		data = []byte(b)
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = e.api + path
	}
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, reader)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", cmpOr(contentType, "application/json"))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	reqErr, respErr := e.contract.Check(req, data, resp.StatusCode, resp.Header, respBody)
	switch {
	case conforming && reqErr != nil:
		e.t.Errorf("request %s %s breaks the contract: %v", method, path, reqErr)
	case !conforming && reqErr == nil:
		e.t.Errorf("request %s %s conforms to the contract, but the test meant to send one that does not", method, path)
	}
	if respErr != nil && !errors.Is(respErr, reqErr) {
		e.t.Errorf("answer %d to %s %s breaks the contract: %v", resp.StatusCode, method, path, respErr)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: respBody}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// call sends a conforming request as the Administrator service account.
func (e *assessEnv) call(method, path string, body any) response {
	e.t.Helper()
	return e.exchange(method, path, testAdminToken, body, "", true)
}

// callInvalid sends, as the Administrator, a request the contract rejects.
func (e *assessEnv) callInvalid(method, path string, body any) response {
	e.t.Helper()
	return e.exchange(method, path, testAdminToken, body, "", false)
}

func (e *assessEnv) appKey(name string) string {
	e.t.Helper()
	return fixtureApp(e.t, e.sb.Fixture(), name).Key
}

func (e *assessEnv) appKeys(names ...string) []string {
	e.t.Helper()
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = e.appKey(n)
	}
	return keys
}

func (e *assessEnv) create(name, assetType string, apps ...string) assessment.Mapping {
	e.t.Helper()
	return decode[assessment.Mapping](e.t, e.call(http.MethodPost, "/mappings",
		map[string]any{"name": name, "assetType": assetType, "applicationKeys": e.appKeys(apps...)}).expect(e.t, http.StatusCreated))
}

func (e *assessEnv) mapping(key string) assessment.Mapping {
	e.t.Helper()
	return decode[assessment.Mapping](e.t, e.call(http.MethodGet, "/mappings/"+key, nil).expect(e.t, http.StatusOK))
}

func (e *assessEnv) assessment(key string) assessment.Assessment {
	e.t.Helper()
	return decode[assessment.Assessment](e.t, e.call(http.MethodGet, "/assessments/"+key, nil).expect(e.t, http.StatusOK))
}

func (e *assessEnv) findings(mappingKey string) []assessment.Finding {
	e.t.Helper()
	return decode[assessment.Page[assessment.Finding]](e.t, e.call(http.MethodGet, "/mappings/"+mappingKey+"/findings", nil).expect(e.t, http.StatusOK)).Results
}

func (e *assessEnv) readiness(query string) []assessment.AssetReadiness {
	e.t.Helper()
	return decode[assessment.Page[assessment.AssetReadiness]](e.t, e.call(http.MethodGet, "/readiness"+query, nil).expect(e.t, http.StatusOK)).Results
}

func (e *assessEnv) application(key string) assessment.O11Application {
	e.t.Helper()
	return decode[assessment.O11Application](e.t, e.call(http.MethodGet, "/applications/"+key, nil).expect(e.t, http.StatusOK))
}

// expectProblem checks a ProblemDetails answer: status, content type, error
// code, the title and type of the code, a trace id, and a detail containing
// each of contains.
func (r response) expectProblem(t *testing.T, status int, code string, contains ...string) assessment.ProblemDetails {
	t.Helper()
	r.expect(t, status)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	p := decode[assessment.ProblemDetails](t, r)
	if p.Status != status || p.ErrorCode != code || p.Type != assessment.ProblemTypePrefix+code || p.Title != assessment.ProblemTitles[code] || p.Title == "" {
		t.Errorf("problem = %+v, want status %d, errorCode %s with its type and title", p, status, code)
	}
	if len(p.TraceID) != 32 || !strings.HasPrefix(p.Instance, "/") {
		t.Errorf("problem traceId %q, instance %q", p.TraceID, p.Instance)
	}
	for _, c := range contains {
		if !strings.Contains(p.Detail, c) {
			t.Errorf("detail %q does not contain %q", p.Detail, c)
		}
	}
	return p
}

func mappingNames(ms []assessment.Mapping) []string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return names
}

func TestAssessmentApplications(t *testing.T) {
	e := newAssessEnv(t, Options{}, nil)
	f := e.sb.Fixture()
	page := decode[assessment.Page[assessment.O11Application]](t, e.call(http.MethodGet, "/applications", nil).expect(t, http.StatusOK))
	var want []string
	for _, a := range f.LifeTime.Applications {
		want = append(want, a.Name)
	}
	slices.Sort(want)
	var got []string
	byName := map[string]assessment.O11Application{}
	for _, a := range page.Results {
		got = append(got, a.Name)
		byName[a.Name] = a
		if a.MappingKey != nil {
			t.Errorf("%s is mapped before any mapping exists", a.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("applications = %v, want every fixture application by name %v", got, want)
	}
	if p := page.Page; p.Count != len(want) || p.Limit != 100 || p.Offset != 0 || p.NextPageOffset != nil || p.TotalResults != len(want) || p.TotalPages != 1 {
		t.Errorf("page = %+v", p)
	}

	intranet := byName["Legacy Intranet"]
	if intranet.Kind != "WebResponsive" || intranet.ModuleCount != 11 || len(intranet.Modules) != 11 || intranet.IsLibraryOnly || intranet.HasExtensions ||
		intranet.Modules[0].Name != "Intranet" || intranet.Modules[0].Type != "Reactive" || intranet.Key != e.appKey("Legacy Intranet") {
		t.Errorf("Legacy Intranet = %+v", intranet)
	}
	if u := byName["Common Utils"]; !u.IsLibraryOnly || u.HasExtensions || u.ModuleCount != 2 {
		t.Errorf("Common Utils = %+v, want library-only", u)
	}
	if pdf := byName["PDF Toolkit"]; !pdf.HasExtensions || pdf.IsLibraryOnly || pdf.Modules[0] != (assessment.O11Module{Key: pdf.Modules[0].Key, Name: "PdfGenerator", Type: "Extension"}) {
		t.Errorf("PDF Toolkit = %+v, want an extension", pdf)
	}
	if m := byName["Agent Mobile"]; m.Kind != "Mobile" || m.IsLibraryOnly || len(m.Modules) != 2 || m.Modules[1].Name != "AgentMobile_Sync" || m.Modules[1].Type != "Mobile" {
		t.Errorf("Agent Mobile = %+v", m)
	}

	// Paging at limit 2 walks the same list.
	var walked []string
	offset, pages := 0, 0
	for {
		p := decode[assessment.Page[assessment.O11Application]](t, e.call(http.MethodGet, "/applications?limit=2&offset="+strconv.Itoa(offset), nil).expect(t, http.StatusOK))
		pages++
		if p.Page.Limit != 2 || p.Page.Offset != offset || p.Page.Count != len(p.Results) || p.Page.TotalResults != len(want) || p.Page.TotalPages != (len(want)+1)/2 {
			t.Fatalf("page at offset %d = %+v", offset, p.Page)
		}
		for _, a := range p.Results {
			walked = append(walked, a.Name)
		}
		if p.Page.NextPageOffset == nil {
			break
		}
		if *p.Page.NextPageOffset != offset+2 {
			t.Fatalf("nextPageOffset = %d at offset %d", *p.Page.NextPageOffset, offset)
		}
		offset = *p.Page.NextPageOffset
	}
	if !slices.Equal(walked, want) || pages != (len(want)+1)/2 {
		t.Errorf("paged walk = %v in %d pages, want %v", walked, pages, want)
	}
	beyond := decode[assessment.Page[assessment.O11Application]](t, e.call(http.MethodGet, "/applications?offset=50", nil).expect(t, http.StatusOK))
	if len(beyond.Results) != 0 || beyond.Page.Count != 0 || beyond.Page.NextPageOffset != nil || beyond.Page.TotalResults != len(want) {
		t.Errorf("page beyond the end = %+v", beyond)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=ten", "offset=-1", "limit=", "offset=1.5"} {
		e.callInvalid(http.MethodGet, "/applications?"+q, nil).expectProblem(t, http.StatusBadRequest, assessment.CodeValidation)
	}

	one := e.application(strings.ToUpper(intranet.Key))
	if !reflect.DeepEqual(one, intranet) {
		t.Errorf("GET one = %+v, want %+v", one, intranet)
	}
	unknown := uuid.NewString()
	e.call(http.MethodGet, "/applications/"+unknown, nil).expectProblem(t, http.StatusNotFound, assessment.CodeApplicationNotFound, unknown)
	e.callInvalid(http.MethodGet, "/applications/intranet", nil).expectProblem(t, http.StatusBadRequest, assessment.CodeValidation, "'intranet'", "GUID")

	// The newer console path serves the same API.
	conv := decode[assessment.Page[assessment.O11Application]](t, e.call(http.MethodGet, e.url+assessment.ConversionBase+"/applications", nil).expect(t, http.StatusOK))
	if !reflect.DeepEqual(conv, page) {
		t.Errorf("/ConversionAssessment answers differently from /MigrationAssessment")
	}
}

func TestAssessmentMappingLifecycle(t *testing.T) {
	clock := newFakeClock()
	e := newAssessEnv(t, Options{AssessmentDelay: time.Second}, clock)
	portal, broker := e.appKey("Customer Portal"), e.appKey("Broker Portal")
	start := clock.Now()

	r := e.call(http.MethodPost, "/mappings", map[string]any{
		"name": "Portals", "assetType": "WebApplication", "description": "Self-service portals",
		"applicationKeys": []string{portal, strings.ToUpper(broker)},
	}).expect(t, http.StatusCreated)
	m := decode[assessment.Mapping](t, r)
	if loc := r.header.Get("Location"); loc != assessment.Base+"/mappings/"+m.Key {
		t.Errorf("Location = %q", loc)
	}
	if m.Name != "Portals" || m.AssetType != "WebApplication" || m.Description != "Self-service portals" ||
		!slices.Equal(m.ApplicationKeys, []string{portal, broker}) || m.ModuleCount != 3 || m.Status != migrationkit.StatusAssessing ||
		len(m.ProducerMappingKeys) != 0 || len(m.ConsumerMappingKeys) != 0 || !m.CreatedAt.Equal(start) || !m.UpdatedAt.Equal(start) {
		t.Errorf("created mapping = %+v", m)
	}
	first := m.LatestAssessmentKey
	if got := e.mapping(strings.ToUpper(m.Key)); !reflect.DeepEqual(got, m) {
		t.Errorf("GET = %+v, want %+v", got, m)
	}
	if got := e.application(portal).MappingKey; got == nil || *got != m.Key {
		t.Errorf("Customer Portal's mappingKey = %v, want %s", got, m.Key)
	}
	if list := decode[assessment.Page[assessment.Mapping]](t, e.call(http.MethodGet, "/mappings", nil).expect(t, http.StatusOK)); len(list.Results) != 1 || list.Results[0].Key != m.Key {
		t.Errorf("list = %+v", list)
	}

	clock.Advance(time.Second)
	if got := e.mapping(m.Key); got.Status != migrationkit.StatusReadyForOdc || got.LatestAssessmentKey != first {
		t.Errorf("after the delay: status %s, latest %s; want ReadyForOdc (only an Optional finding), %s", got.Status, got.LatestAssessmentKey, first)
	}

	// Renaming and describing queue no assessment.
	clock.Advance(time.Minute)
	renamed := decode[assessment.Mapping](t, e.call(http.MethodPatch, "/mappings/"+m.Key, map[string]any{"name": "Customer Portals", "description": ""}).expect(t, http.StatusOK))
	if renamed.Name != "Customer Portals" || renamed.Description != "" || renamed.LatestAssessmentKey != first || renamed.Status != migrationkit.StatusReadyForOdc ||
		!renamed.UpdatedAt.Equal(clock.Now()) || !renamed.CreatedAt.Equal(start) {
		t.Errorf("renamed = %+v", renamed)
	}
	// The same applications in another order: no new assessment either.
	clock.Advance(time.Minute)
	reordered := decode[assessment.Mapping](t, e.call(http.MethodPatch, "/mappings/"+m.Key, map[string]any{"applicationKeys": []string{broker, portal}}).expect(t, http.StatusOK))
	if !slices.Equal(reordered.ApplicationKeys, []string{broker, portal}) || reordered.LatestAssessmentKey != first || reordered.Status != migrationkit.StatusReadyForOdc {
		t.Errorf("reordered = %+v", reordered)
	}
	// Nothing to change: nothing changes, updatedAt included.
	clock.Advance(time.Minute)
	same := decode[assessment.Mapping](t, e.call(http.MethodPatch, "/mappings/"+m.Key, map[string]any{"name": "Customer Portals", "applicationKeys": []string{broker, portal}}).expect(t, http.StatusOK))
	if !reflect.DeepEqual(same, reordered) {
		t.Errorf("no-op PATCH = %+v, want %+v", same, reordered)
	}
	e.call(http.MethodPatch, "/mappings/"+m.Key, map[string]any{}).expect(t, http.StatusOK)

	// New applications: a new assessment.
	changed := decode[assessment.Mapping](t, e.call(http.MethodPatch, "/mappings/"+m.Key, map[string]any{"applicationKeys": []string{portal}}).expect(t, http.StatusOK))
	if changed.LatestAssessmentKey == first || changed.Status != migrationkit.StatusAssessing || changed.ModuleCount != 2 || !slices.Equal(changed.ApplicationKeys, []string{portal}) {
		t.Errorf("after changing the applications = %+v", changed)
	}
	if got := e.application(broker).MappingKey; got != nil {
		t.Errorf("Broker Portal is still mapped to %s", *got)
	}
	if a := e.assessment(first); a.Status != assessment.StatusFinished || *a.Result != migrationkit.StatusReadyForOdc {
		t.Errorf("the first assessment changed: %+v", a)
	}

	r = e.call(http.MethodDelete, "/mappings/"+m.Key, nil).expect(t, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("204 with a body: %s", r.body)
	}
	e.call(http.MethodGet, "/mappings/"+m.Key, nil).expectProblem(t, http.StatusNotFound, assessment.CodeMappingNotFound, m.Key)
	e.call(http.MethodDelete, "/mappings/"+m.Key, nil).expectProblem(t, http.StatusNotFound, assessment.CodeMappingNotFound, m.Key)
	e.call(http.MethodPatch, "/mappings/"+m.Key, map[string]any{"name": "x"}).expectProblem(t, http.StatusNotFound, assessment.CodeMappingNotFound)
	e.call(http.MethodGet, "/mappings/"+m.Key+"/findings", nil).expectProblem(t, http.StatusNotFound, assessment.CodeMappingNotFound)
	e.call(http.MethodGet, "/assessments/"+first, nil).expectProblem(t, http.StatusNotFound, assessment.CodeAssessmentNotFound, first)
	if got := e.application(portal).MappingKey; got != nil {
		t.Errorf("Customer Portal is still mapped after the delete")
	}

	// Both console paths share one state.
	conv := decode[assessment.Mapping](t, e.call(http.MethodPost, e.url+assessment.ConversionBase+"/mappings",
		map[string]any{"name": "Portal", "assetType": "WebApplication", "applicationKeys": []string{portal}}).expect(t, http.StatusCreated))
	if got := e.mapping(conv.Key); got.Name != "Portal" {
		t.Errorf("mapping created under /ConversionAssessment = %+v", got)
	}
}

func TestAssessmentMappingRules(t *testing.T) {
	e := newAssessEnv(t, Options{}, nil)
	core := e.create("Core", "LowCodeLibrary", "Customer Core")
	web := e.create("Web", "WebApplication", "Broker Portal")
	unknown := uuid.NewString()
	body := func(name, assetType string, apps ...string) map[string]any {
		keys := e.appKeys(apps...)
		return map[string]any{"name": name, "assetType": assetType, "applicationKeys": keys}
	}
	label := func(name string) string { return "'" + name + "' (key " + e.appKey(name) + ")" }

	tests := []struct {
		name     string
		body     map[string]any
		status   int
		code     string
		contains []string
	}{
		{"unknown application", map[string]any{"name": "New", "assetType": "WebApplication", "applicationKeys": []string{e.appKey("HR Self Service"), unknown}},
			404, assessment.CodeApplicationNotFound, []string{unknown}},
		{"name taken, ignoring case", body("cORE", "LowCodeLibrary", "Common Utils"), 409, assessment.CodeMappingNameTaken, []string{"'cORE'", "'Core'", core.Key}},
		{"application already mapped", body("New", "LowCodeLibrary", "Common Utils", "Customer Core"), 409, assessment.CodeApplicationAlreadyMapped,
			[]string{label("Customer Core"), "'Core'", core.Key}},
		{"extension", body("New", "WebApplication", "PDF Toolkit"), 400, assessment.CodeExtensionNotMappable, []string{label("PDF Toolkit"), "PdfGenerator"}},
		{"library from a reactive app", body("New", "LowCodeLibrary", "Common Utils", "Customer Portal"), 400, assessment.CodeLibraryRequiresLibraryOnlyApps,
			[]string{label("Customer Portal")}},
		{"library from a mobile app", body("New", "LowCodeLibrary", "Agent Mobile"), 400, assessment.CodeLibraryRequiresLibraryOnlyApps, []string{label("Agent Mobile")}},
		{"mobile app in a web app", body("New", "WebApplication", "Customer Portal", "Agent Mobile"), 400, assessment.CodeMixedAppKinds,
			[]string{label("Agent Mobile"), "Mobile"}},
		{"reactive app in a mobile app", body("New", "MobileApplication", "Agent Mobile", "HR Self Service"), 400, assessment.CodeMixedAppKinds,
			[]string{label("HR Self Service"), "Reactive"}},
		{"mobile app without a mobile application", body("New", "MobileApplication", "Common Utils"), 400, assessment.CodeMixedAppKinds,
			[]string{"at least one Mobile", label("Common Utils")}},
		{"more than 20 modules", body("New", "WebApplication", "Legacy Intranet", "Claims Backoffice", "Policy Admin", "Customer Portal", "HR Self Service",
			"Sandbox Playground", "Notifications", "Acme Theme"), 400, assessment.CodeTooManyModules, []string{"23 O11 modules", "20", label("Legacy Intranet") + ": 11"}},
		// When several rules break, the first in the documented order answers.
		{"unknown before everything", map[string]any{"name": "Core", "assetType": "LowCodeLibrary", "applicationKeys": []string{unknown, e.appKey("PDF Toolkit")}},
			404, assessment.CodeApplicationNotFound, nil},
		{"name before mapped", body("Web", "WebApplication", "Broker Portal"), 409, assessment.CodeMappingNameTaken, nil},
		{"mapped before extension", body("New", "WebApplication", "Broker Portal", "PDF Toolkit"), 409, assessment.CodeApplicationAlreadyMapped, nil},
		{"extension before kinds", body("New", "MobileApplication", "PDF Toolkit", "Customer Portal"), 400, assessment.CodeExtensionNotMappable, nil},
		{"library rule before module count", body("New", "LowCodeLibrary", "Legacy Intranet", "Claims Backoffice", "Policy Admin", "Customer Portal",
			"HR Self Service", "Sandbox Playground", "Notifications", "Acme Theme"), 400, assessment.CodeLibraryRequiresLibraryOnlyApps, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.call(http.MethodPost, "/mappings", tt.body).expectProblem(t, tt.status, tt.code, tt.contains...)
			wantConflict := ""
			if tt.code == assessment.CodeApplicationAlreadyMapped {
				wantConflict = map[bool]string{true: core.Key, false: web.Key}[strings.Contains(p.Detail, "'Core'")]
			}
			if p.ConflictingMappingKey != wantConflict {
				t.Errorf("conflictingMappingKey = %q, want %q", p.ConflictingMappingKey, wantConflict)
			}
		})
	}
	if list := decode[assessment.Page[assessment.Mapping]](t, e.call(http.MethodGet, "/mappings", nil).expect(t, http.StatusOK)); !slices.Equal(mappingNames(list.Results), []string{"Core", "Web"}) {
		t.Errorf("mappings after refused requests = %v", mappingNames(list.Results))
	}

	// The rules allow library-only applications in apps of either kind, and
	// 20 modules exactly.
	e.create("Field", "MobileApplication", "Field Inspector", "Common Utils")
	e.create("HR", "WebApplication", "HR Self Service", "Acme Theme")
	twenty := e.create("Big", "WebApplication", "Legacy Intranet", "Claims Backoffice", "Policy Admin", "Customer Portal", "Sandbox Playground", "Notifications", "Claims Core")
	if twenty.ModuleCount != 20 {
		t.Errorf("moduleCount = %d, want 20", twenty.ModuleCount)
	}

	// PATCH checks the same rules, the mapping's own applications aside.
	patch := func(key string, body any) response { return e.call(http.MethodPatch, "/mappings/"+key, body) }
	patch(core.Key, map[string]any{"applicationKeys": e.appKeys("Customer Core", "Policy Core")}).expect(t, http.StatusOK)
	patch(core.Key, map[string]any{"applicationKeys": e.appKeys("Customer Core", "Agent Mobile")}).expectProblem(t, 400, assessment.CodeLibraryRequiresLibraryOnlyApps, label("Agent Mobile"))
	p := patch(web.Key, map[string]any{"applicationKeys": e.appKeys("Broker Portal", "Policy Core")}).expectProblem(t, 409, assessment.CodeApplicationAlreadyMapped, label("Policy Core"), "'Core'")
	if p.ConflictingMappingKey != core.Key {
		t.Errorf("conflictingMappingKey = %q, want %s", p.ConflictingMappingKey, core.Key)
	}
	patch(web.Key, map[string]any{"name": "CORE"}).expectProblem(t, 409, assessment.CodeMappingNameTaken, "'Core'")
	patch(web.Key, map[string]any{"applicationKeys": e.appKeys("Broker Portal", "Agent Mobile")}).expectProblem(t, 400, assessment.CodeMixedAppKinds, label("Agent Mobile"))
	e.callInvalid(http.MethodPatch, "/mappings/"+twenty.Key, map[string]any{"applicationKeys": append(slices.Clone(twenty.ApplicationKeys), e.appKey("Policy Admin"))}).
		expectProblem(t, 400, assessment.CodeValidation, "more than once") // duplicates are malformed, and not a rule
	patch(twenty.Key, map[string]any{"applicationKeys": append(slices.Clone(twenty.ApplicationKeys), e.appKey("Customer Core"))}).
		expectProblem(t, 409, assessment.CodeApplicationAlreadyMapped)
	patch(twenty.Key, map[string]any{"applicationKeys": append(slices.Clone(twenty.ApplicationKeys), e.appKey("Agent Mobile"))}).
		expectProblem(t, 400, assessment.CodeMixedAppKinds)
	patch(web.Key, map[string]any{"applicationKeys": e.appKeys("Broker Portal", "PDF Toolkit")}).expectProblem(t, 400, assessment.CodeExtensionNotMappable)
	patch(web.Key, map[string]any{"applicationKeys": []string{unknown}}).expectProblem(t, 404, assessment.CodeApplicationNotFound, unknown)
	patch(web.Key, map[string]any{"name": "web"}).expect(t, http.StatusOK) // a new case of its own name
	e.callInvalid(http.MethodPatch, "/mappings/"+core.Key, map[string]any{"assetType": "WebApplication"}).
		expectProblem(t, 400, assessment.CodeAssetTypeImmutable, core.Key)
	e.callInvalid(http.MethodPatch, "/mappings/"+core.Key, map[string]any{"assetType": "LowCodeLibrary", "name": "Core 2"}).
		expectProblem(t, 400, assessment.CodeAssetTypeImmutable)
	if got := e.mapping(core.Key); got.Name != "Core" || got.AssetType != "LowCodeLibrary" {
		t.Errorf("refused PATCH changed the mapping: %+v", got)
	}
}

func TestAssessmentRequestValidation(t *testing.T) {
	e := newAssessEnv(t, Options{}, nil)
	hr := e.appKey("HR Self Service")
	m := e.create("HR", "WebApplication", "HR Self Service")
	long := strings.Repeat("x", 101)
	tests := []struct {
		name     string
		body     any
		contains string
	}{
		{"not JSON", `{"name":`, "JSON object"},
		{"not an object", `[]`, "JSON object"},
		{"missing fields", map[string]any{}, "name is required"},
		{"empty name", map[string]any{"name": "", "assetType": "WebApplication", "applicationKeys": []string{hr}}, "name must not be empty"},
		{"name with spaces around", map[string]any{"name": " HR ", "assetType": "WebApplication", "applicationKeys": []string{hr}}, "white space"},
		{"name too long", map[string]any{"name": long, "assetType": "WebApplication", "applicationKeys": []string{hr}}, "at most 100 characters (got 101)"},
		{"null name", map[string]any{"name": nil, "assetType": "WebApplication", "applicationKeys": []string{hr}}, "name must be a string"},
		{"unknown asset type", map[string]any{"name": "X", "assetType": "Library", "applicationKeys": []string{hr}}, "assetType 'Library' must be one of"},
		{"description too long", map[string]any{"name": "X", "assetType": "WebApplication", "description": strings.Repeat("é", 501), "applicationKeys": []string{hr}}, "at most 500"},
		{"no applications", map[string]any{"name": "X", "assetType": "WebApplication", "applicationKeys": []string{}}, "at least one"},
		{"applications not an array", map[string]any{"name": "X", "assetType": "WebApplication", "applicationKeys": hr}, "array of GUIDs"},
		{"malformed key", map[string]any{"name": "X", "assetType": "WebApplication", "applicationKeys": []string{"hr-self-service"}}, "'hr-self-service' is not a GUID"},
		{"braced key", map[string]any{"name": "X", "assetType": "WebApplication", "applicationKeys": []string{"{" + hr + "}"}}, "is not a GUID"},
		{"duplicate key", map[string]any{"name": "X", "assetType": "WebApplication", "applicationKeys": []string{hr, hr}}, "more than once"},
		{"unknown field", map[string]any{"name": "X", "assetType": "WebApplication", "applicationKeys": []string{hr}, "icon": "x.png"}, "Unknown field(s) 'icon'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.callInvalid(http.MethodPost, "/mappings", tt.body).expectProblem(t, http.StatusBadRequest, assessment.CodeValidation, tt.contains)
		})
	}
	// Keys compare ignoring case, which the schema's uniqueItems cannot say.
	e.call(http.MethodPost, "/mappings", map[string]any{"name": "X", "assetType": "WebApplication", "applicationKeys": []string{hr, strings.ToUpper(hr)}}).
		expectProblem(t, http.StatusBadRequest, assessment.CodeValidation, "more than once")
	e.callInvalid(http.MethodPatch, "/mappings/"+m.Key, map[string]any{"name": long}).expectProblem(t, 400, assessment.CodeValidation, "name")
	e.callInvalid(http.MethodPatch, "/mappings/"+m.Key, map[string]any{"description": nil}).expectProblem(t, 400, assessment.CodeValidation, "description must be a string")
	e.callInvalid(http.MethodPatch, "/mappings/"+m.Key, map[string]any{"applicationKeys": []string{}}).expectProblem(t, 400, assessment.CodeValidation, "at least one")
	e.callInvalid(http.MethodPatch, "/mappings/hr", map[string]any{"name": "X"}).expectProblem(t, 400, assessment.CodeValidation, "'hr' is not a GUID")
	e.callInvalid(http.MethodDelete, "/mappings/hr", nil).expectProblem(t, 400, assessment.CodeValidation)
	e.callInvalid(http.MethodGet, "/mappings/hr/findings", nil).expectProblem(t, 400, assessment.CodeValidation)
	e.callInvalid(http.MethodGet, "/assessments/42", nil).expectProblem(t, 400, assessment.CodeValidation)
	e.exchange(http.MethodPost, "/mappings", testAdminToken, `name=X`, "application/x-www-form-urlencoded", false).
		expectProblem(t, http.StatusUnsupportedMediaType, assessment.CodeUnsupportedMediaType, "application/x-www-form-urlencoded")
	if got := e.mapping(m.Key); got.Name != "HR" {
		t.Errorf("mapping after refused PATCHes = %+v", got)
	}
}

func TestAssessmentTimingAndReadiness(t *testing.T) {
	clock := newFakeClock()
	const delay = time.Second
	e := newAssessEnv(t, Options{AssessmentDelay: delay}, clock)
	queued := clock.Now()
	field := e.create("Field Inspector", "MobileApplication", "Field Inspector")

	a := e.assessment(field.LatestAssessmentKey)
	if a.Status != assessment.StatusQueued || a.Result != nil || a.StartedAt != nil || a.FinishedAt != nil || !a.QueuedAt.Equal(queued) || a.MappingKey != field.Key {
		t.Errorf("new assessment = %+v", a)
	}
	clock.Advance(delay/2 - time.Nanosecond)
	if a := e.assessment(field.LatestAssessmentKey); a.Status != assessment.StatusQueued {
		t.Errorf("just before half the delay: %s", a.Status)
	}
	clock.Advance(time.Nanosecond)
	a = e.assessment(field.LatestAssessmentKey)
	if a.Status != assessment.StatusRunning || a.StartedAt == nil || !a.StartedAt.Equal(queued.Add(delay/2)) || a.FinishedAt != nil || a.Result != nil {
		t.Errorf("at half the delay = %+v", a)
	}
	if s := e.mapping(field.Key).Status; s != migrationkit.StatusAssessing {
		t.Errorf("mapping status while running = %s", s)
	}
	clock.Advance(delay / 2)
	a = e.assessment(field.LatestAssessmentKey)
	if a.Status != assessment.StatusFinished || a.FinishedAt == nil || !a.FinishedAt.Equal(queued.Add(delay)) || a.Result == nil || *a.Result != migrationkit.StatusNotReady {
		t.Errorf("after the delay = %+v, want Finished with NotReady", a)
	}
	if s := e.mapping(field.Key).Status; s != migrationkit.StatusNotReady {
		t.Errorf("mapping status = %s, want NotReady (an open FixInO11 finding)", s)
	}

	findings := e.findings(field.Key)
	fieldApp := fixtureApp(t, e.sb.Fixture(), "Field Inspector")
	if len(findings) != 1 {
		t.Fatalf("findings = %+v", findings)
	}
	fd := findings[0]
	module := e.application(fieldApp.Key).Modules[0]
	if fd.Key != sqldb.DerivedKey("assessment-finding", fieldApp.Key, module.Key, fd.CodePattern) || fd.MappingKey != field.Key ||
		fd.ApplicationKey != fieldApp.Key || fd.ApplicationName != "Field Inspector" || fd.ModuleKey != module.Key || fd.ModuleName != "FieldInspector" ||
		fd.CodePattern != "Server action called from client in a loop" || fd.Category != "Performance" || fd.PatternClass != fixture.PatternFixInO11 ||
		fd.WhereToFix != "O11" || fd.Count != 2 || fd.Status != "Open" || fd.Message == "" {
		t.Errorf("finding = %+v", fd)
	}
	ready := e.readiness("?mappingKeys=" + field.Key)
	if len(ready) != 1 || ready[0].Ready || ready[0].Status != migrationkit.StatusNotReady || len(ready[0].OpenFindings) != 1 || ready[0].OpenFindings[0] != fd ||
		ready[0].Name != "Field Inspector" || ready[0].AssetType != "MobileApplication" {
		t.Errorf("readiness = %+v", ready)
	}

	// Fixing everything queues a new assessment, which finds nothing open.
	fixedAt := clock.Now()
	r := do(t, http.MethodPost, e.url+"/_sandbox/assessment/mappings/"+field.Key+"/fix-all", "", nil).expect(t, http.StatusOK)
	fix := decode[assessment.AdminFixResponse](t, r)
	if !slices.Equal(fix.FixedFindingKeys, []string{fd.Key}) || len(fix.QueuedAssessmentKeys) != 1 {
		t.Fatalf("fix-all = %s", r.body)
	}
	after := e.mapping(field.Key)
	if after.Status != migrationkit.StatusAssessing || after.LatestAssessmentKey != fix.QueuedAssessmentKeys[0] {
		t.Errorf("after fix-all = %+v", after)
	}
	if old := e.assessment(field.LatestAssessmentKey); *old.Result != migrationkit.StatusNotReady {
		t.Errorf("the earlier assessment's result changed to %s", *old.Result)
	}
	clock.Advance(delay)
	if s := e.mapping(field.Key).Status; s != migrationkit.StatusReadyForOdc {
		t.Errorf("status after the re-assessment = %s, want ReadyForOdc", s)
	}
	if a := e.assessment(after.LatestAssessmentKey); !a.QueuedAt.Equal(fixedAt) || *a.Result != migrationkit.StatusReadyForOdc {
		t.Errorf("re-assessment = %+v", a)
	}
	if got := e.findings(field.Key); len(got) != 1 || got[0].Status != "Fixed" {
		t.Errorf("findings after fix-all = %+v", got)
	}
	if got := e.readiness("?mappingKeys=" + field.Key); !got[0].Ready || len(got[0].OpenFindings) != 0 {
		t.Errorf("readiness after fix-all = %+v", got)
	}
	// Nothing left to fix: nothing happens.
	again := decode[assessment.AdminFixResponse](t, do(t, http.MethodPost, e.url+"/_sandbox/assessment/mappings/"+field.Key+"/fix-all", "", nil).expect(t, http.StatusOK))
	if len(again.FixedFindingKeys) != 0 || len(again.QueuedAssessmentKeys) != 0 || e.mapping(field.Key).Status != migrationkit.StatusReadyForOdc {
		t.Errorf("second fix-all = %+v", again)
	}

	// The other statuses, and Optional findings, which never block.
	claims := e.create("Claims Backoffice", "WebApplication", "Claims Backoffice")
	portal := e.create("Customer Portal", "WebApplication", "Customer Portal")
	intranet := e.create("Intranet", "WebApplication", "Legacy Intranet")
	policy := e.create("Policy Admin", "WebApplication", "Policy Admin")
	agent := e.create("Agent Mobile", "MobileApplication", "Agent Mobile")
	plain := e.create("Broker Portal", "WebApplication", "Broker Portal")
	clock.Advance(delay)
	want := map[string]struct {
		status string
		open   []string
	}{
		claims.Key:   {migrationkit.StatusChangeInOdc, []string{fixture.PatternFixInOdc}},
		portal.Key:   {migrationkit.StatusReadyForOdc, []string{fixture.PatternOptional}},
		intranet.Key: {migrationkit.StatusNotReady, []string{fixture.PatternNotYetSupported, fixture.PatternNotYetSupported}},
		policy.Key:   {migrationkit.StatusNotReady, []string{fixture.PatternNotYetSupported}},
		agent.Key:    {migrationkit.StatusReadyForOdc, []string{fixture.PatternOptional}},
		plain.Key:    {migrationkit.StatusReadyForOdc, nil},
		field.Key:    {migrationkit.StatusReadyForOdc, nil},
	}
	all := e.readiness("")
	if got := len(all); got != len(want) {
		t.Fatalf("readiness of every mapping has %d entries, want %d", got, len(want))
	}
	var names []string
	for _, r := range all {
		names = append(names, r.Name)
		w := want[r.MappingKey]
		var classes []string
		for _, f := range r.OpenFindings {
			classes = append(classes, f.PatternClass)
			if f.MappingKey != r.MappingKey || f.Status != "Open" {
				t.Errorf("%s: open finding %+v", r.Name, f)
			}
		}
		if r.Status != w.status || r.Ready != (w.status != migrationkit.StatusNotReady) || !slices.Equal(classes, w.open) {
			t.Errorf("%s: status %s, ready %v, open %v; want %s, %v", r.Name, r.Status, r.Ready, classes, w.status, w.open)
		}
	}
	if !slices.IsSortedFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) {
		t.Errorf("readiness is not by name: %v", names)
	}
	if m := e.mapping(claims.Key); m.Status != migrationkit.StatusChangeInOdc {
		t.Errorf("Claims Backoffice = %s", m.Status)
	}

	// Fixing one of two blocking findings is not enough.
	intranetFindings := e.findings(intranet.Key)
	if len(intranetFindings) != 2 || intranetFindings[0].ModuleName != "Intranet_Forms" || intranetFindings[1].ModuleName != "Intranet_Admin" {
		t.Fatalf("Legacy Intranet findings (by module position) = %+v", intranetFindings)
	}
	if err := e.sb.FixFinding(strings.ToUpper(intranetFindings[0].Key)); err != nil {
		t.Fatal(err)
	}
	if s := e.mapping(intranet.Key).Status; s != migrationkit.StatusAssessing {
		t.Errorf("after FixFinding: %s", s)
	}
	clock.Advance(delay)
	if s := e.mapping(intranet.Key).Status; s != migrationkit.StatusNotReady {
		t.Errorf("one blocking finding left: %s", s)
	}
	r = do(t, http.MethodPost, e.url+"/_sandbox/assessment/findings/"+intranetFindings[1].Key+"/fix", "", nil).expect(t, http.StatusOK)
	if fix := decode[assessment.AdminFixResponse](t, r); !slices.Equal(fix.FixedFindingKeys, []string{intranetFindings[1].Key}) || len(fix.QueuedAssessmentKeys) != 1 {
		t.Errorf("fix = %s", r.body)
	}
	clock.Advance(delay)
	if s := e.mapping(intranet.Key).Status; s != migrationkit.StatusReadyForOdc {
		t.Errorf("no blocking finding left: %s", s)
	}
	if err := e.sb.FixAllFindings(policy.Key); err != nil {
		t.Fatal(err)
	}
	clock.Advance(delay)
	if got := e.readiness("?mappingKeys=" + policy.Key + "&mappingKeys=" + strings.ToUpper(policy.Key) + "&mappingKeys=" + claims.Key); len(got) != 2 ||
		got[0].MappingKey != claims.Key || got[1].Status != migrationkit.StatusReadyForOdc || !got[1].Ready {
		t.Errorf("readiness of two mappings = %+v", got)
	}
	// Readiness paging and errors.
	page := decode[assessment.Page[assessment.AssetReadiness]](t, e.call(http.MethodGet, "/readiness?limit=3&offset=3", nil).expect(t, http.StatusOK))
	if len(page.Results) != 3 || page.Results[0].MappingKey != all[3].MappingKey || page.Page.TotalResults != len(all) || *page.Page.NextPageOffset != 6 {
		t.Errorf("readiness page = %+v", page.Page)
	}
	u1, u2 := uuid.NewString(), uuid.NewString()
	e.call(http.MethodGet, "/readiness?mappingKeys="+u1+"&mappingKeys="+field.Key+"&mappingKeys="+u2, nil).
		expectProblem(t, http.StatusNotFound, assessment.CodeMappingNotFound, u1, u2)
	e.callInvalid(http.MethodGet, "/readiness?mappingKeys=field", nil).expectProblem(t, http.StatusBadRequest, assessment.CodeValidation, "'field'")
	// Readiness reads up to 1000 a page (contract 1.2.0), the other lists 100.
	if page := decode[assessment.Page[assessment.AssetReadiness]](t, e.call(http.MethodGet, "/readiness?limit=1000", nil).expect(t, http.StatusOK)); page.Page.Limit != 1000 || len(page.Results) != len(all) {
		t.Errorf("readiness page of 1000 = %+v", page.Page)
	}
	e.callInvalid(http.MethodGet, "/readiness?limit=1001", nil).expectProblem(t, http.StatusBadRequest, assessment.CodeValidation, "limit")
	e.callInvalid(http.MethodGet, "/mappings?limit=101", nil).expectProblem(t, http.StatusBadRequest, assessment.CodeValidation, "limit")
	e.callInvalid(http.MethodGet, "/mappings/"+field.Key+"/findings?offset=x", nil).expectProblem(t, http.StatusBadRequest, assessment.CodeValidation, "offset")
	e.call(http.MethodGet, "/assessments/"+u1, nil).expectProblem(t, http.StatusNotFound, assessment.CodeAssessmentNotFound, u1)
}

func TestAssessmentWithRealClock(t *testing.T) {
	const delay = 50 * time.Millisecond
	e := newAssessEnv(t, Options{AssessmentDelay: delay}, nil)
	m := e.create("Field Inspector", "MobileApplication", "Field Inspector")
	if m.Status != migrationkit.StatusAssessing {
		t.Fatalf("status at creation = %s", m.Status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for m.Status == migrationkit.StatusAssessing && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		m = e.mapping(m.Key)
	}
	if m.Status != migrationkit.StatusNotReady {
		t.Fatalf("status after the delay = %s, want NotReady", m.Status)
	}
	a := e.assessment(m.LatestAssessmentKey)
	if a.FinishedAt.Sub(a.QueuedAt) != delay || a.StartedAt.Sub(a.QueuedAt) != delay/2 {
		t.Errorf("assessment timestamps = %+v", a)
	}
	if err := e.sb.FixAllFindings(m.Key); err != nil {
		t.Fatal(err)
	}
	if s := e.mapping(m.Key).Status; s != migrationkit.StatusAssessing {
		t.Errorf("after fixing: %s", s)
	}
	for m = e.mapping(m.Key); m.Status == migrationkit.StatusAssessing && time.Now().Before(deadline); m = e.mapping(m.Key) {
		time.Sleep(10 * time.Millisecond)
	}
	if m.Status != migrationkit.StatusReadyForOdc {
		t.Errorf("status after the re-assessment = %s", m.Status)
	}
}

func TestAssessmentProducersAndConsumers(t *testing.T) {
	e := newAssessEnv(t, Options{}, nil)
	customerCore := e.create("Customer Core", "LowCodeLibrary", "Customer Core")
	policyCore := e.create("Policy Core", "LowCodeLibrary", "Policy Core")
	claimsCore := e.create("Claims Core", "LowCodeLibrary", "Claims Core")
	portal := e.create("Customer Portal", "WebApplication", "Customer Portal")
	check := func(m assessment.Mapping, producers, consumers []string) {
		t.Helper()
		got := e.mapping(m.Key)
		if !slices.Equal(got.ProducerMappingKeys, producers) || !slices.Equal(got.ConsumerMappingKeys, consumers) {
			t.Errorf("%s: producers %v, consumers %v; want %v, %v", m.Name, got.ProducerMappingKeys, got.ConsumerMappingKeys, producers, consumers)
		}
	}
	// References to applications that are not mapped (Common Utils, Acme Theme) are ignored.
	check(portal, []string{customerCore.Key, policyCore.Key}, []string{})
	check(claimsCore, []string{policyCore.Key}, []string{})
	check(policyCore, []string{}, []string{claimsCore.Key, portal.Key})
	check(customerCore, []string{}, []string{portal.Key})
	if got := e.readiness("?mappingKeys=" + portal.Key); !slices.Equal(got[0].ProducerMappingKeys, []string{customerCore.Key, policyCore.Key}) {
		t.Errorf("readiness producers = %v", got[0].ProducerMappingKeys)
	}

	// Acme Theme's modules reference each other: no self reference.
	acme := e.create("Acme Theme", "LowCodeLibrary", "Acme Theme")
	check(acme, []string{}, []string{portal.Key})
	check(portal, []string{acme.Key, customerCore.Key, policyCore.Key}, []string{})
	utils := e.create("Common Utils", "LowCodeLibrary", "Common Utils")
	check(policyCore, []string{utils.Key}, []string{claimsCore.Key, portal.Key})
	check(utils, []string{}, []string{customerCore.Key, policyCore.Key})

	// Moving applications moves the relations.
	e.call(http.MethodDelete, "/mappings/"+policyCore.Key, nil).expect(t, http.StatusNoContent)
	check(portal, []string{acme.Key, customerCore.Key}, []string{})
	check(claimsCore, []string{}, []string{})
	e.call(http.MethodPatch, "/mappings/"+claimsCore.Key, map[string]any{"applicationKeys": e.appKeys("Claims Core", "Policy Core")}).expect(t, http.StatusOK)
	check(claimsCore, []string{utils.Key}, []string{portal.Key})
	check(portal, []string{acme.Key, claimsCore.Key, customerCore.Key}, []string{})
}

func TestAssessmentAuthentication(t *testing.T) {
	e := newAssessEnv(t, Options{}, nil)
	m := e.create("HR", "WebApplication", "HR Self Service")

	r := e.exchange(http.MethodGet, "/mappings", "", nil, "", false)
	r.expectProblem(t, http.StatusUnauthorized, assessment.CodeUnauthorized, "Bearer")
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
	}
	r = e.exchange(http.MethodPost, "/mappings", "wrong-token", map[string]any{"name": "X", "assetType": "WebApplication", "applicationKeys": e.appKeys("Broker Portal")}, "", true)
	r.expectProblem(t, http.StatusUnauthorized, assessment.CodeUnauthorized)
	if !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
	}

	ro := func(method, path string, body any) response {
		return e.exchange(method, path, testReadOnlyToken, body, "", true)
	}
	for _, path := range []string{"/applications", "/mappings", "/mappings/" + m.Key, "/mappings/" + m.Key + "/findings", "/assessments/" + m.LatestAssessmentKey, "/readiness"} {
		ro(http.MethodGet, path, nil).expect(t, http.StatusOK)
	}
	ro(http.MethodPost, "/mappings", map[string]any{"name": "X", "assetType": "WebApplication", "applicationKeys": e.appKeys("Broker Portal")}).
		expectProblem(t, http.StatusForbidden, assessment.CodeForbidden, "'auditor'", "Administrator", "POST")
	ro(http.MethodPatch, "/mappings/"+m.Key, map[string]any{"name": "Y"}).expectProblem(t, http.StatusForbidden, assessment.CodeForbidden, "'auditor'")
	ro(http.MethodDelete, "/mappings/"+m.Key, nil).expectProblem(t, http.StatusForbidden, assessment.CodeForbidden, "'auditor'", "DELETE")
	if got := decode[assessment.Page[assessment.Mapping]](t, e.call(http.MethodGet, "/mappings", nil)); len(got.Results) != 1 || got.Results[0].Name != "HR" {
		t.Errorf("refused writes changed the mappings: %+v", got.Results)
	}
}

func TestAssessmentOutsideTheContract(t *testing.T) {
	e := newAssessEnv(t, Options{}, nil)
	problemAt := func(method, url string, status int, code string) response {
		t.Helper()
		r := do(t, method, url, testAdminToken, nil)
		r.expectProblem(t, status, code)
		if err := e.contract.CheckSchema("ProblemDetails", r.body); err != nil {
			t.Errorf("%s %s: %v", method, url, err)
		}
		return r
	}
	problemAt(http.MethodGet, e.api+"/nothing", http.StatusNotFound, assessment.CodeEndpointNotFound)
	problemAt(http.MethodGet, e.url+"/ConversionAssessment/api/v1/", http.StatusNotFound, assessment.CodeEndpointNotFound)
	r := problemAt(http.MethodPut, e.api+"/mappings", http.StatusMethodNotAllowed, assessment.CodeMethodNotAllowed)
	if allow := r.header.Get("Allow"); allow != "GET, POST" {
		t.Errorf("Allow = %q", allow)
	}
	if p := decode[assessment.ProblemDetails](t, r); p.Instance != assessment.Base+"/mappings" {
		t.Errorf("instance = %q", p.Instance)
	}
	problemAt(http.MethodPost, e.api+"/readiness", http.StatusMethodNotAllowed, assessment.CodeMethodNotAllowed)
}

func TestAssessmentStateSurvivesRestart(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "sb.db")
	clock := newFakeClock()
	e := newAssessEnv(t, Options{DBPath: dbPath, AssessmentDelay: time.Second}, clock)
	policy := e.create("Policy Admin", "WebApplication", "Policy Admin")
	field := e.create("Field", "MobileApplication", "Field Inspector")
	clock.Advance(time.Second)
	if err := e.sb.FixAllFindings(field.Key); err != nil {
		t.Fatal(err)
	}
	before := decode[assessment.Page[assessment.Mapping]](t, e.call(http.MethodGet, "/mappings", nil).expect(t, http.StatusOK))
	beforeFindings := e.findings(field.Key)
	if err := e.sb.Close(); err != nil {
		t.Fatal(err)
	}

	// Another fixture, with other findings: the database keeps its own.
	other := fixture.Default()
	other.Assessment.Findings = other.Assessment.Findings[:1]
	e2 := newAssessEnv(t, Options{DBPath: dbPath, AssessmentDelay: time.Hour, Fixture: other}, clock)
	after := decode[assessment.Page[assessment.Mapping]](t, e2.call(http.MethodGet, "/mappings", nil).expect(t, http.StatusOK))
	if !reflect.DeepEqual(after, before) {
		t.Errorf("mappings after restart = %+v, want %+v", after, before)
	}
	if got := e2.findings(field.Key); !reflect.DeepEqual(got, beforeFindings) || got[0].Status != "Fixed" {
		t.Errorf("findings after restart = %+v", got)
	}
	if s := e2.mapping(policy.Key).Status; s != migrationkit.StatusNotReady {
		t.Errorf("Policy Admin after restart = %s", s)
	}
	// A queued assessment keeps the delay it was queued with.
	clock.Advance(time.Second)
	if s := e2.mapping(field.Key).Status; s != migrationkit.StatusReadyForOdc {
		t.Errorf("Field after restart and the old delay = %s", s)
	}
	e2.create("Claims", "WebApplication", "Claims Backoffice")
	clock.Advance(time.Minute)
	if got := e2.readiness("?limit=1"); got[0].Name != "Claims" || got[0].Status != migrationkit.StatusAssessing {
		t.Errorf("an assessment queued after restart uses the new delay: %+v", got)
	}
}

func TestAssessmentAdminErrors(t *testing.T) {
	e := newAssessEnv(t, Options{}, nil)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodPost, "/_sandbox/assessment/findings/" + uuid.NewString() + "/fix", http.StatusNotFound},
		{http.MethodPost, "/_sandbox/assessment/findings/nope/fix", http.StatusBadRequest},
		{http.MethodGet, "/_sandbox/assessment/findings/" + uuid.NewString() + "/fix", http.StatusMethodNotAllowed},
		{http.MethodPost, "/_sandbox/assessment/mappings/" + uuid.NewString() + "/fix-all", http.StatusNotFound},
		{http.MethodPost, "/_sandbox/assessment/mappings/nope/fix-all", http.StatusBadRequest},
	} {
		r := do(t, tc.method, e.url+tc.path, "", nil).expect(t, tc.status)
		if got := decode[map[string]string](t, r); got["error"] == "" {
			t.Errorf("%s %s: %s, want the admin error shape", tc.method, tc.path, r.body)
		}
	}
	if err := e.sb.FixFinding("nope"); err == nil {
		t.Error("FixFinding accepted a malformed key")
	}
	if err := e.sb.FixAllFindings(uuid.NewString()); !strings.Contains(fmtErr(err), "was not found") {
		t.Errorf("FixAllFindings of an unknown mapping = %v", err)
	}
	// Fixing a finding of an application that is not mapped queues nothing.
	key := assessment.DeriveFindingKey(e.appKey("Policy Admin"), fixtureModuleKey(t, e.sb.Fixture(), "PolicyAdmin_Workflows"), "Business Process Technology (BPT) processes")
	r := do(t, http.MethodPost, e.url+"/_sandbox/assessment/findings/"+key+"/fix", "", nil).expect(t, http.StatusOK)
	if fix := decode[assessment.AdminFixResponse](t, r); !slices.Equal(fix.FixedFindingKeys, []string{key}) || len(fix.QueuedAssessmentKeys) != 0 {
		t.Errorf("fix of an unmapped application's finding = %s", r.body)
	}
	m := e.create("Policy Admin", "WebApplication", "Policy Admin")
	if got := e.findings(m.Key); len(got) != 1 || got[0].Status != "Fixed" {
		t.Errorf("findings of the fixed application = %+v", got)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func fixtureModuleKey(t *testing.T, f *fixture.Fixture, name string) string {
	t.Helper()
	for _, m := range f.LifeTime.Modules {
		if m.Name == name {
			return m.Key
		}
	}
	t.Fatalf("no module %q in the fixture", name)
	return ""
}

func TestAssessmentOptions(t *testing.T) {
	if _, err := New(Options{AssessmentDelay: -time.Second}); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("New with a negative delay = %v", err)
	}
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.assessmentDelay != DefaultAssessmentDelay {
		t.Errorf("default delay = %s", s.assessmentDelay)
	}
}

func TestAssessmentFixture(t *testing.T) {
	f := fixture.Default()
	if n := len(f.Assessment.Findings); n != 7 {
		t.Errorf("default fixture has %d findings, want 7", n)
	}
	withFindings := func(findings string) []byte {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(fixture.DefaultJSON(), &doc); err != nil {
			t.Fatal(err)
		}
		doc["assessment"] = json.RawMessage(`{"findings": [` + findings + `]}`)
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	ok := `{"application": "Policy Admin", "module": "PolicyAdmin", "codePattern": "P", "category": "C", "patternClass": "Optional", "whereToFix": "ODC", "count": 1, "message": "M"}`
	if _, err := fixture.Parse(withFindings(ok)); err != nil {
		t.Errorf("valid finding refused: %v", err)
	}
	for _, tc := range []struct{ finding, want string }{
		{strings.Replace(ok, `"Policy Admin"`, `"Nope"`, 1), `application "Nope" is not an application`},
		{strings.Replace(ok, `"PolicyAdmin"`, `"ClaimsBackoffice"`, 1), `module "ClaimsBackoffice" is not a module of application "Policy Admin"`},
		{strings.Replace(ok, `"Optional"`, `"Blocker"`, 1), `patternClass "Blocker" must be one of`},
		{strings.Replace(ok, `"Optional", "whereToFix": "ODC"`, `"FixInO11", "whereToFix": "ODC"`, 1), `FixInO11 findings are fixed in O11`},
		{strings.Replace(ok, `"Optional", "whereToFix": "ODC"`, `"NotYetSupported", "whereToFix": "ODC"`, 1), `NotYetSupported findings are fixed in O11`},
		{strings.Replace(ok, `"whereToFix": "ODC"`, `"whereToFix": "Both"`, 1), `whereToFix "Both" must be one of`},
		{strings.Replace(ok, `"count": 1`, `"count": 0`, 1), `count must be at least 1`},
		{strings.Replace(ok, `"codePattern": "P"`, `"codePattern": ""`, 1), `codePattern is required`},
		{strings.Replace(ok, `"message": "M"`, `"message": ""`, 1), `message is required`},
		{strings.Replace(ok, `"category": "C"`, `"category": ""`, 1), `category is required`},
		{ok + "," + ok, `listed twice`},
		{strings.Replace(ok, `"count": 1`, `"count": 1, "severity": "High"`, 1), `unknown field "severity"`},
	} {
		_, err := fixture.Parse(withFindings(tc.finding))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("finding %s: error %v, want %q", tc.finding, err, tc.want)
		}
	}
}

func TestAssessmentUpgradesAnOlderDatabase(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "sb.db")
	s, err := New(Options{DBPath: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// A database seeded before the sandbox served the assessment API.
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TABLE ma_assessments; DROP TABLE ma_mapping_apps; DROP TABLE ma_mappings; DROP TABLE ma_findings;
		DELETE FROM sandbox_meta WHERE key = 'assessment_fixture'`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	e := newAssessEnv(t, Options{DBPath: dbPath}, nil)
	m := e.create("Policy Admin", "WebApplication", "Policy Admin")
	if got := e.findings(m.Key); len(got) != 1 || got[0].PatternClass != fixture.PatternNotYetSupported {
		t.Errorf("findings after the upgrade = %+v", got)
	}

	// A fixture whose findings name what the database does not have is refused.
	f := fixture.Default()
	f.Assessment.Findings[0].Module = "PolicyAdmin"
	e.sb.Close()
	db, err = sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM ma_assessments; DELETE FROM ma_mapping_apps; DELETE FROM ma_mappings; DELETE FROM ma_findings;
		DELETE FROM sandbox_meta WHERE key = 'assessment_fixture'; DELETE FROM lt_application_modules WHERE module_key =
		(SELECT key FROM lt_modules WHERE name = 'PolicyAdmin')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := New(Options{DBPath: dbPath, Fixture: f}); err == nil || !strings.Contains(err.Error(), `no application "Policy Admin" with module "PolicyAdmin"`) {
		t.Errorf("New with findings the database cannot hold = %v", err)
	}
}
