package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/api"
	"github.com/seed-1be1de96/terraform-provider-outsystems/api/contracttest"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// assessmentEnv runs the client against the sandbox through a transport
// that fails the test on any request or answer that breaks the contract.
type assessmentEnv struct {
	t        *testing.T
	sb       *sandbox.Sandbox
	url      string
	contract *contracttest.Contract
	requests atomic.Int64
}

func newAssessmentEnv(t *testing.T, delay time.Duration) *assessmentEnv {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{DBPath: filepath.Join(t.TempDir(), "sb.db"), AssessmentDelay: delay})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := contracttest.New(api.MigrationKitV1, url)
	if err != nil {
		t.Fatal(err)
	}
	return &assessmentEnv{t: t, sb: sb, url: url, contract: c}
}

type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// client returns a client for the console path (MigrationAssessment or
// ConversionAssessment) with the token of the service account with role.
func (e *assessmentEnv) client(console, role string) *Assessment {
	e.t.Helper()
	transport := countingTransport{next: e.contract.Transport(e.t, nil), n: &e.requests}
	c, err := NewAssessment(Config{BaseURL: e.url + "/" + console, MaxRetries: 0, HTTPClient: &http.Client{Transport: transport}}, e.token(role))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *assessmentEnv) token(role string) string {
	e.t.Helper()
	for _, a := range e.sb.Fixture().LifeTime.ServiceAccounts {
		if a.Role == role {
			return a.Token
		}
	}
	e.t.Fatalf("no %s service account", role)
	return ""
}

func (e *assessmentEnv) appKeys(names ...string) []string {
	e.t.Helper()
	var keys []string
	for _, n := range names {
		i := slices.IndexFunc(e.sb.Fixture().LifeTime.Applications, func(a fixture.Application) bool { return a.Name == n })
		if i < 0 {
			e.t.Fatalf("no application %q", n)
		}
		keys = append(keys, e.sb.Fixture().LifeTime.Applications[i].Key)
	}
	return keys
}

// waitFinished polls an assessment until it finishes.
func waitFinished(t *testing.T, c *Assessment, key string) *AssessmentRun {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		run, err := c.GetAssessment(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status == "Finished" {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("assessment %s did not finish: %+v", key, run)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func apiErrorOf(t *testing.T, err error, status int, code string) *APIError {
	t.Helper()
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %T %v, want an *APIError", err, err)
	}
	if apiErr.StatusCode != status || apiErr.ErrorCode != code || apiErr.Service != "Migration Kit assessment" || apiErr.Title == "" || len(apiErr.TraceID) != 32 {
		t.Errorf("APIError = %+v, want %d %s", apiErr, status, code)
	}
	for _, want := range []string{http.StatusText(status), "errorCode " + code, apiErr.Detail} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	return apiErr
}

func TestAssessmentClientApplications(t *testing.T) {
	e := newAssessmentEnv(t, 50*time.Millisecond)
	c := e.client("MigrationAssessment", fixture.RoleAdministrator)
	if got, want := c.BaseURL(), e.url+"/MigrationAssessment/api/v1"; got != want {
		t.Errorf("BaseURL = %q, want %q", got, want)
	}
	ctx := context.Background()
	apps, err := c.ListApplications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != len(e.sb.Fixture().LifeTime.Applications) || !slices.IsSortedFunc(apps, func(a, b O11Application) int { return strings.Compare(a.Name, b.Name) }) {
		t.Fatalf("applications = %+v", apps)
	}
	var pdf O11Application
	for _, a := range apps {
		if a.Name == "PDF Toolkit" {
			pdf = a
		}
		if a.MappingKey != "" {
			t.Errorf("%s has mappingKey %q before any mapping", a.Name, a.MappingKey)
		}
	}
	if !pdf.HasExtensions || pdf.IsLibraryOnly || pdf.Kind != "WebResponsive" || pdf.ModuleCount != 1 ||
		len(pdf.Modules) != 1 || pdf.Modules[0].Name != "PdfGenerator" || pdf.Modules[0].Type != "Extension" || !IsGUID(pdf.Modules[0].Key) {
		t.Errorf("PDF Toolkit = %+v", pdf)
	}
	one, err := c.GetApplication(ctx, pdf.Key)
	if err != nil || one.Name != "PDF Toolkit" || len(one.Modules) != 1 {
		t.Errorf("GetApplication = %+v, %v", one, err)
	}
	_, err = c.GetApplication(ctx, "00000000-0000-4000-8000-000000000000")
	if !IsNotFound(err) {
		t.Errorf("GetApplication of an unknown key = %v", err)
	}
	_ = apiErrorOf(t, err, http.StatusNotFound, "APPLICATION_NOT_FOUND")

	// Paging: two per page walks the same list, one request per page.
	c.pageSize = 2
	before := e.requests.Load()
	paged, err := c.ListApplications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(paged, apps, func(a, b O11Application) bool { return a.Key == b.Key && a.ModuleCount == b.ModuleCount }) {
		t.Errorf("paged list differs: %d applications", len(paged))
	}
	if n, want := e.requests.Load()-before, int64((len(apps)+1)/2); n != want {
		t.Errorf("paged list took %d requests, want %d", n, want)
	}
}

func TestAssessmentClientMappings(t *testing.T) {
	e := newAssessmentEnv(t, time.Second)
	c := e.client("MigrationAssessment", fixture.RoleAdministrator)
	ctx := context.Background()
	create := func(name, assetType string, description *string, apps ...string) *Mapping {
		t.Helper()
		m, err := c.CreateMapping(ctx, MappingCreate{Name: name, AssetType: assetType, Description: description, ApplicationKeys: e.appKeys(apps...)})
		if err != nil {
			t.Fatalf("CreateMapping %s: %v", name, err)
		}
		return m
	}
	desc := "Policyholders' self-service portal"
	core := create("Customer Core", AssetTypeLibrary, nil, "Customer Core")
	policy := create("Policy Core", AssetTypeLibrary, nil, "Policy Core")
	portal := create("Customer Portal", AssetTypeWebApplication, &desc, "Customer Portal")
	if portal.Name != "Customer Portal" || portal.AssetType != AssetTypeWebApplication || portal.Description != desc || portal.ModuleCount != 2 ||
		portal.Status != MappingStatusAssessing || !IsGUID(portal.LatestAssessmentKey) || !slices.Equal(portal.ApplicationKeys, e.appKeys("Customer Portal")) ||
		!slices.Equal(portal.ProducerMappingKeys, []string{core.Key, policy.Key}) || len(portal.ConsumerMappingKeys) != 0 {
		t.Errorf("created = %+v", portal)
	}
	if _, err := time.Parse(time.RFC3339Nano, portal.CreatedAt); err != nil || portal.UpdatedAt != portal.CreatedAt {
		t.Errorf("createdAt %q, updatedAt %q", portal.CreatedAt, portal.UpdatedAt)
	}
	if core.Description != "" {
		t.Errorf("description without one = %q", core.Description)
	}

	run, err := c.GetAssessment(ctx, portal.LatestAssessmentKey)
	if err != nil {
		t.Fatal(err)
	}
	if run.Key != portal.LatestAssessmentKey || run.MappingKey != portal.Key || run.Status == "Finished" || run.Result != "" || run.FinishedAt != "" || run.QueuedAt == "" {
		t.Errorf("fresh assessment = %+v", run)
	}
	run = waitFinished(t, c, portal.LatestAssessmentKey)
	if run.Result != MappingStatusReady || run.StartedAt == "" || run.FinishedAt == "" {
		t.Errorf("finished assessment = %+v", run)
	}
	got, err := c.GetMapping(ctx, portal.Key)
	if err != nil || got.Status != MappingStatusReady {
		t.Fatalf("GetMapping = %+v, %v", got, err)
	}
	app, err := c.GetApplication(ctx, e.appKeys("Customer Portal")[0])
	if err != nil || app.MappingKey != portal.Key {
		t.Errorf("Customer Portal's mapping = %+v, %v", app, err)
	}

	// Renaming keeps the assessment; new applications queue one.
	name, empty := "Portals", ""
	renamed, err := c.UpdateMapping(ctx, portal.Key, MappingPatch{Name: &name, Description: &empty})
	if err != nil || renamed.Name != "Portals" || renamed.Description != "" || renamed.LatestAssessmentKey != portal.LatestAssessmentKey || renamed.Status != MappingStatusReady {
		t.Errorf("renamed = %+v, %v", renamed, err)
	}
	moved, err := c.UpdateMapping(ctx, portal.Key, MappingPatch{ApplicationKeys: e.appKeys("Customer Portal", "Broker Portal")})
	if err != nil || moved.LatestAssessmentKey == portal.LatestAssessmentKey || moved.Status != MappingStatusAssessing || moved.ModuleCount != 3 || moved.Name != "Portals" {
		t.Errorf("with new applications = %+v, %v", moved, err)
	}
	waitFinished(t, c, moved.LatestAssessmentKey)

	c.pageSize = 2
	before := e.requests.Load()
	list, err := c.ListMappings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range list {
		names = append(names, m.Name)
	}
	if !slices.Equal(names, []string{"Customer Core", "Policy Core", "Portals"}) || e.requests.Load()-before != 2 {
		t.Errorf("ListMappings = %v in %d requests", names, e.requests.Load()-before)
	}
	if list[0].Key != core.Key || !slices.Equal(list[0].ConsumerMappingKeys, []string{portal.Key}) {
		t.Errorf("Customer Core = %+v", list[0])
	}

	// A mobile app with a blocking finding: NotReady until it is fixed.
	field := create("Field Inspector", AssetTypeMobileApplication, nil, "Field Inspector")
	if run := waitFinished(t, c, field.LatestAssessmentKey); run.Result != MappingStatusNotReady {
		t.Errorf("Field Inspector assessment = %+v", run)
	}
	ready, err := c.Readiness(ctx, []string{field.Key, portal.Key})
	if err != nil || len(ready) != 2 {
		t.Fatalf("Readiness = %+v, %v", ready, err)
	}
	if r := ready[0]; r.Name != "Field Inspector" || r.Ready || r.Status != MappingStatusNotReady || len(r.OpenFindings) != 1 ||
		r.OpenFindings[0].PatternClass != "FixInO11" || r.AssetType != AssetTypeMobileApplication || len(r.ProducerMappingKeys) != 0 {
		t.Errorf("Field Inspector readiness = %+v", r)
	}
	if r := ready[1]; r.MappingKey != portal.Key || !r.Ready || r.Status != MappingStatusReady || len(r.OpenFindings) != 1 || !slices.Equal(r.ProducerMappingKeys, []string{core.Key, policy.Key}) {
		t.Errorf("Portals readiness = %+v", r)
	}
	if err := e.sb.FixAllFindings(field.Key); err != nil {
		t.Fatal(err)
	}
	fixed, err := c.GetMapping(ctx, field.Key)
	if err != nil || fixed.Status != MappingStatusAssessing {
		t.Fatalf("after fixing = %+v, %v", fixed, err)
	}
	waitFinished(t, c, fixed.LatestAssessmentKey)
	all, err := c.Readiness(ctx, nil)
	if err != nil || len(all) != 4 {
		t.Fatalf("Readiness(nil) = %+v, %v", all, err)
	}
	for _, r := range all {
		if !r.Ready {
			t.Errorf("%s is not ready: %+v", r.Name, r)
		}
	}
	_, err = c.Readiness(ctx, []string{field.Key, "00000000-0000-4000-8000-000000000001"})
	_ = apiErrorOf(t, err, http.StatusNotFound, "MAPPING_NOT_FOUND")

	if err := c.DeleteMapping(ctx, field.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetMapping(ctx, field.Key); !IsNotFound(err) {
		t.Errorf("GetMapping after delete = %v", err)
	}
	if err := c.DeleteMapping(ctx, field.Key); !IsNotFound(err) {
		t.Errorf("second DeleteMapping = %v", err)
	}
}

func TestAssessmentClientRuleErrors(t *testing.T) {
	e := newAssessmentEnv(t, 50*time.Millisecond)
	c := e.client("ConversionAssessment", fixture.RoleAdministrator)
	ctx := context.Background()
	core, err := c.CreateMapping(ctx, MappingCreate{Name: "Core", AssetType: AssetTypeLibrary, ApplicationKeys: e.appKeys("Customer Core")})
	if err != nil {
		t.Fatal(err)
	}
	attempt := func(name, assetType string, apps ...string) error {
		_, err := c.CreateMapping(ctx, MappingCreate{Name: name, AssetType: assetType, ApplicationKeys: e.appKeys(apps...)})
		return err
	}

	apiErr := apiErrorOf(t, attempt("New", AssetTypeLibrary, "Common Utils", "Customer Core"), http.StatusConflict, "APPLICATION_ALREADY_MAPPED")
	if apiErr.Extensions["conflictingMappingKey"] != core.Key || !strings.Contains(apiErr.Detail, "'Customer Core' (key "+e.appKeys("Customer Core")[0]+")") ||
		!strings.Contains(apiErr.Detail, core.Key) || apiErr.Instance != "/ConversionAssessment/api/v1/mappings" {
		t.Errorf("APIError = %+v", apiErr)
	}
	_ = apiErrorOf(t, attempt("core", AssetTypeLibrary, "Common Utils"), http.StatusConflict, "MAPPING_NAME_TAKEN")
	_ = apiErrorOf(t, attempt("New", AssetTypeWebApplication, "PDF Toolkit"), http.StatusBadRequest, "EXTENSION_NOT_MAPPABLE")
	_ = apiErrorOf(t, attempt("New", AssetTypeLibrary, "HR Self Service"), http.StatusBadRequest, "LIBRARY_REQUIRES_LIBRARY_ONLY_APPS")
	_ = apiErrorOf(t, attempt("New", AssetTypeWebApplication, "HR Self Service", "Agent Mobile"), http.StatusBadRequest, "MIXED_APP_KINDS")
	apiErr = apiErrorOf(t, attempt("New", AssetTypeWebApplication, "Legacy Intranet", "Claims Backoffice", "Policy Admin", "Customer Portal",
		"HR Self Service", "Broker Portal", "Sandbox Playground"), http.StatusBadRequest, "TOO_MANY_MODULES")
	if !strings.Contains(apiErr.Detail, "21 O11 modules") || !strings.Contains(apiErr.Detail, "'Legacy Intranet'") {
		t.Errorf("detail = %q", apiErr.Detail)
	}
	_, err = c.CreateMapping(ctx, MappingCreate{Name: "New", AssetType: AssetTypeWebApplication, ApplicationKeys: []string{"00000000-0000-4000-8000-000000000002"}})
	_ = apiErrorOf(t, err, http.StatusNotFound, "APPLICATION_NOT_FOUND")
	if !IsNotFound(err) {
		t.Error("IsNotFound(APPLICATION_NOT_FOUND) = false")
	}
	_, err = c.UpdateMapping(ctx, core.Key, MappingPatch{ApplicationKeys: e.appKeys("Customer Core", "Agent Mobile")})
	_ = apiErrorOf(t, err, http.StatusBadRequest, "LIBRARY_REQUIRES_LIBRARY_ONLY_APPS")
	if list, err := c.ListMappings(ctx); err != nil || len(list) != 1 || !slices.Equal(list[0].ApplicationKeys, e.appKeys("Customer Core")) {
		t.Errorf("mappings after refused calls = %+v, %v", list, err)
	}
}

func TestAssessmentClientAuthentication(t *testing.T) {
	e := newAssessmentEnv(t, 50*time.Millisecond)
	ctx := context.Background()
	wrong, err := NewAssessment(Config{BaseURL: e.url + "/MigrationAssessment", MaxRetries: 0,
		HTTPClient: &http.Client{Transport: e.contract.Transport(t, nil)}}, "not-a-service-account")
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.ListMappings(ctx)
	_ = apiErrorOf(t, err, http.StatusUnauthorized, "UNAUTHORIZED")
	if strings.Contains(err.Error(), "not-a-service-account") {
		t.Error("the error leaks the token")
	}

	ro := e.client("MigrationAssessment", fixture.RoleReadOnly)
	if _, err := ro.ListApplications(ctx); err != nil {
		t.Errorf("read-only ListApplications = %v", err)
	}
	_, err = ro.CreateMapping(ctx, MappingCreate{Name: "HR", AssetType: AssetTypeWebApplication, ApplicationKeys: e.appKeys("HR Self Service")})
	apiErr := apiErrorOf(t, err, http.StatusForbidden, "FORBIDDEN")
	if !strings.Contains(apiErr.Detail, "'auditor'") || !strings.Contains(apiErr.Detail, "Administrator") {
		t.Errorf("403 detail = %q", apiErr.Detail)
	}

	if _, err := NewAssessment(Config{BaseURL: e.url + "/MigrationAssessment"}, " "); err == nil {
		t.Error("NewAssessment accepted an empty token")
	}
	explicit, err := NewAssessment(Config{BaseURL: "https://dev.example.com/ConversionAssessment/api/v1/"}, "t")
	if err != nil || explicit.BaseURL() != "https://dev.example.com/ConversionAssessment/api/v1" {
		t.Errorf("BaseURL with the prefix = %v, %v", explicit, err)
	}
	if _, err := NewAssessment(Config{BaseURL: "http://dev.example.com/MigrationAssessment"}, "t"); err == nil {
		t.Error("NewAssessment accepted plain http to a remote host")
	}
}

// fakeAssessment serves one handler for the client, without the contract
// check, for answers the sandbox never gives.
func fakeAssessment(t *testing.T, h http.HandlerFunc, maxRetries int) *Assessment {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewAssessment(Config{BaseURL: srv.URL + "/MigrationAssessment", MaxRetries: maxRetries,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}, testToken)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAssessmentClientRetriesOnlyWhatIsSafe(t *testing.T) {
	var calls atomic.Int64
	c := fakeAssessment(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"title":"Busy","status":503,"errorCode":"INTERNAL_ERROR"}`)
			return
		}
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"key":"k","name":"N","status":"ReadyForOdc","result":null}`)
	}, 2)
	ctx := context.Background()
	name := "N"
	for _, tc := range []struct {
		name      string
		call      func() error
		wantCalls int64
		wantErr   bool
	}{
		{"POST is not retried after a 5xx", func() error {
			_, err := c.CreateMapping(ctx, MappingCreate{Name: "N", AssetType: AssetTypeLibrary, ApplicationKeys: []string{"k"}})
			return err
		}, 1, true},
		{"GET is retried", func() error { _, err := c.GetMapping(ctx, "k"); return err }, 2, false},
		{"PATCH is retried", func() error { _, err := c.UpdateMapping(ctx, "k", MappingPatch{Name: &name}); return err }, 2, false},
		{"DELETE is retried", func() error { return c.DeleteMapping(ctx, "k") }, 2, false},
	} {
		calls.Store(0)
		err := tc.call()
		if (err != nil) != tc.wantErr || calls.Load() != tc.wantCalls {
			t.Errorf("%s: %d calls, err %v", tc.name, calls.Load(), err)
		}
	}
}

func TestAssessmentClientStopsOnPagesThatDoNotMove(t *testing.T) {
	c := fakeAssessment(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"results":[{"key":"a"}],"page":{"count":1,"limit":100,"offset":0,"nextPageOffset":0,"totalResults":5,"totalPages":5}}`)
	}, 0)
	if _, err := c.ListMappings(context.Background()); err == nil || !strings.Contains(err.Error(), "does not move forward") {
		t.Errorf("ListMappings = %v", err)
	}
}

func TestParseProblemDetails(t *testing.T) {
	var e APIError
	parseProblemDetails(&e, []byte(`{"type":"urn:x","title":"One or more validation errors occurred.","status":400,"detail":"d",
		"instance":"/api/x","traceId":"00-abc-01","errorCode":"VALIDATION_ERROR","conflictingMappingKey":"k","retryable":false,
		"errors":{"tag":["The tag must be Major.Minor.Patch."],"assetKey":["Required.","Not a GUID."]}}`))
	if e.Type != "urn:x" || e.Title != "One or more validation errors occurred." || e.Detail != "d" || e.Instance != "/api/x" ||
		e.TraceID != "00-abc-01" || e.ErrorCode != "VALIDATION_ERROR" {
		t.Errorf("fields = %+v", e)
	}
	if want := []string{"assetKey: Required.", "assetKey: Not a GUID.", "tag: The tag must be Major.Minor.Patch."}; !slices.Equal(e.Messages, want) {
		t.Errorf("Messages = %q, want %q", e.Messages, want)
	}
	if len(e.Extensions) != 2 || e.Extensions["conflictingMappingKey"] != "k" || e.Extensions["retryable"] != false {
		t.Errorf("Extensions = %v", e.Extensions)
	}

	// What is not a ProblemDetails document is shown as it is.
	c := fakeAssessment(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html>Bad gateway</html>")
	}, 0)
	_, err := c.GetMapping(context.Background(), "k")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadGateway || !slices.Equal(apiErr.Messages, []string{"<html>Bad gateway</html>"}) || apiErr.Extensions != nil {
		t.Errorf("err = %+v", apiErr)
	}
}
