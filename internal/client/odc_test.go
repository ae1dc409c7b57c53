package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

const (
	testClientID     = "pipeline-client"
	testClientSecret = "s3cr3t-odc-client-secret-value"
)

// fakeODC is an identity service and API host. It issues tokens tok-1,
// tok-2, ... at a token endpoint whose path only discovery reveals, and
// hands authenticated API calls to api.
type fakeODC struct {
	t   *testing.T
	srv *httptest.Server
	api http.HandlerFunc

	mu            sync.Mutex
	discoveries   int
	tokenRequests int
	expiresIn     int
	tokenDelay    time.Duration
	tokenEndpoint string // overrides the discovered endpoint when set
	tokenStatus   int    // answers the token request with this status and tokenBody when set
	tokenBody     string
	issued        map[string]bool
	revoked       map[string]bool // tokens answered 401
	rejectAll     bool            // every token is answered 401
	apiCalls      int
}

func newFakeODC(t *testing.T, api http.HandlerFunc) *fakeODC {
	f := &fakeODC{t: t, api: api, expiresIn: 43200, issued: map[string]bool{}, revoked: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /identity/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.discoveries++
		endpoint := f.tokenEndpoint
		f.mu.Unlock()
		if endpoint == "" {
			endpoint = f.srv.URL + "/auth/issue-token"
		}
		writeTestJSON(w, http.StatusOK, map[string]any{"issuer": f.srv.URL, "token_endpoint": endpoint})
	})
	mux.HandleFunc("POST /auth/issue-token", f.token)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		f.apiCalls++
		ok := f.issued[token] && !f.revoked[token] && !f.rejectAll
		f.mu.Unlock()
		if !ok {
			writeTestJSON(w, http.StatusUnauthorized, map[string]any{"title": "Unauthorized", "status": 401, "detail": "Invalid access token."})
			return
		}
		f.api(w, r)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeODC) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("token request form: %v", err)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		f.t.Errorf("token request Content-Type = %q", ct)
	}
	if g, id, s := r.PostForm.Get("grant_type"), r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"); g != "client_credentials" || id != testClientID || s != testClientSecret {
		f.t.Errorf("token request form = %v", r.PostForm)
	}
	f.mu.Lock()
	f.tokenRequests++
	n, delay, status, body, expires := f.tokenRequests, f.tokenDelay, f.tokenStatus, f.tokenBody, f.expiresIn
	f.mu.Unlock()
	time.Sleep(delay)
	if status != 0 {
		w.WriteHeader(status)
		io.WriteString(w, body)
		return
	}
	token := fmt.Sprintf("tok-%d", n)
	f.mu.Lock()
	f.issued[token] = true
	f.mu.Unlock()
	writeTestJSON(w, http.StatusOK, map[string]any{"access_token": token, "expires_in": expires, "token_type": "Bearer"})
}

func (f *fakeODC) client(t *testing.T) *ODC {
	t.Helper()
	c, err := NewODC(Config{BaseURL: f.srv.URL, MaxRetries: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond}, testClientID, testClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fakeODC) counts() (discoveries, tokens int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.discoveries, f.tokenRequests
}

func writeTestJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// stagesAPI answers the environments list.
func stagesAPI(w http.ResponseWriter, r *http.Request) {
	writeTestJSON(w, http.StatusOK, map[string]any{"results": []map[string]any{
		{"key": "k-qa", "name": "QA", "purpose": "NonProduction", "order": 2, "defaultDomain": "qa.example", "portfolioKey": "p"},
		{"key": "k-dev", "name": "Development", "purpose": "Development", "order": 1, "defaultDomain": "dev.example", "portfolioKey": "p"},
	}})
}

func TestODCListStagesAndTokenCache(t *testing.T) {
	f := newFakeODC(t, stagesAPI)
	c := f.client(t)
	for range 3 {
		stages, err := c.ListStages(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := []Stage{{Key: "k-dev", Name: "Development", Purpose: StagePurposeDevelopment, Order: 1, DefaultDomain: "dev.example", PortfolioKey: "p"},
			{Key: "k-qa", Name: "QA", Purpose: StagePurposeNonProduction, Order: 2, DefaultDomain: "qa.example", PortfolioKey: "p"}}
		if fmt.Sprint(stages) != fmt.Sprint(want) {
			t.Fatalf("stages = %+v", stages)
		}
	}
	if d, n := f.counts(); d != 1 || n != 1 || c.TokenRequests() != 1 {
		t.Errorf("discoveries %d, token requests %d (client says %d); want 1 and 1", d, n, c.TokenRequests())
	}
}

func TestODCConcurrentCallersShareOneTokenRequest(t *testing.T) {
	f := newFakeODC(t, stagesAPI)
	f.tokenDelay = 100 * time.Millisecond
	c := f.client(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.ListStages(context.Background())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if _, n := f.counts(); n != 1 || c.TokenRequests() != 1 {
		t.Errorf("token requests = %d (client says %d), want 1", n, c.TokenRequests())
	}
}

func TestODCWaiterHonoursItsContext(t *testing.T) {
	f := newFakeODC(t, stagesAPI)
	f.tokenDelay = 300 * time.Millisecond
	c := f.client(t)
	go func() { _, _ = c.ListStages(context.Background()) }() // holds the token request
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.ListStages(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting caller = %v, want its deadline", err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("waiting caller returned after %s, not at its deadline", d)
	}
}

func TestODCRefreshesBeforeExpiry(t *testing.T) {
	tests := []struct {
		expiresIn       int
		fresh, refresh  time.Duration
		wantAfterFresh  int
		wantAfterExpiry int
	}{
		// 12 h tokens are refreshed 5 minutes early.
		{43200, 12*time.Hour - 6*time.Minute, 12*time.Hour - 4*time.Minute, 1, 2},
		// Short tokens are refreshed 10% of their lifetime early.
		{60, 53 * time.Second, 55 * time.Second, 1, 2},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.expiresIn), func(t *testing.T) {
			f := newFakeODC(t, stagesAPI)
			f.expiresIn = tt.expiresIn
			c := f.client(t)
			now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			var clock sync.Mutex
			c.auth.now = func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
			advance := func(to time.Duration) {
				clock.Lock()
				now = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(to)
				clock.Unlock()
			}
			call := func() {
				if _, err := c.ListStages(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			call()
			advance(tt.fresh)
			call()
			if c.TokenRequests() != int64(tt.wantAfterFresh) {
				t.Errorf("token requests after %s = %d, want %d", tt.fresh, c.TokenRequests(), tt.wantAfterFresh)
			}
			advance(tt.refresh)
			call()
			if c.TokenRequests() != int64(tt.wantAfterExpiry) {
				t.Errorf("token requests after %s = %d, want %d", tt.refresh, c.TokenRequests(), tt.wantAfterExpiry)
			}
		})
	}
}

func TestODCRefreshesOnceOn401(t *testing.T) {
	f := newFakeODC(t, stagesAPI)
	c := f.client(t)
	ctx := context.Background()
	if _, err := c.ListStages(ctx); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.revoked["tok-1"] = true
	f.mu.Unlock()
	if _, err := c.ListStages(ctx); err != nil {
		t.Fatalf("after the token was revoked: %v", err)
	}
	if c.TokenRequests() != 2 {
		t.Errorf("token requests = %d, want 2", c.TokenRequests())
	}

	// A 401 right after refreshing is an error, after exactly one refresh.
	f.mu.Lock()
	f.rejectAll = true
	f.mu.Unlock()
	_, err := c.ListStages(ctx)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || apiErr.Service != "ODC" || apiErr.Detail != "Invalid access token." {
		t.Fatalf("err = %v, want an ODC 401 APIError", err)
	}
	if c.TokenRequests() != 3 {
		t.Errorf("token requests = %d, want 3 (one refresh for the failed call)", c.TokenRequests())
	}
	for _, secret := range []string{testClientSecret, "tok-1", "tok-2", "tok-3"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains %q", err, secret)
		}
	}
}

func TestODCTokenErrorsAndLogsHideSecrets(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       []string
	}{
		{"oauth error", `{"error":"invalid_client","error_description":"Invalid client secret ` + testClientSecret + `"}`, http.StatusUnauthorized,
			[]string{"ODC answered 401", "/auth/issue-token", "invalid_client: Invalid client secret [REDACTED]", testClientID}},
		{"not oauth", `<html>bad gateway for client_secret=` + testClientSecret + `</html>`, http.StatusBadRequest,
			[]string{"ODC answered 400", "no OAuth error in the answer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeODC(t, stagesAPI)
			f.tokenStatus, f.tokenBody = tt.status, tt.body
			c := f.client(t)
			var logs bytes.Buffer
			ctx := tflogtest.RootLogger(context.Background(), &logs)
			_, err := c.ListStages(ctx)
			if err == nil {
				t.Fatal("ListStages succeeded without a token")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testClientSecret) || strings.Contains(logs.String(), testClientSecret) {
				t.Errorf("the secret leaks: error %q, logs %s", err, logs.String())
			}
			if !strings.Contains(logs.String(), "/auth/issue-token") {
				t.Errorf("the token request is not logged at all: %s", logs.String())
			}
		})
	}

	// Logs of successful calls show neither the secret nor the token.
	f := newFakeODC(t, stagesAPI)
	c := f.client(t)
	var logs bytes.Buffer
	if _, err := c.ListStages(tflogtest.RootLogger(context.Background(), &logs)); err != nil {
		t.Fatal(err)
	}
	if out := logs.String(); strings.Contains(out, testClientSecret) || strings.Contains(out, "tok-1") || !strings.Contains(out, "[REDACTED]") {
		t.Errorf("logs = %s", out)
	}
}

func TestODCDiscovery(t *testing.T) {
	f := newFakeODC(t, stagesAPI)
	f.tokenEndpoint = "http://idp.example.com/token"
	c := f.client(t)
	if _, err := c.ListStages(context.Background()); err == nil || !strings.Contains(err.Error(), "https://") {
		t.Errorf("err = %v, want a refusal of a plain http token endpoint", err)
	}
	if _, n := f.counts(); n != 0 {
		t.Errorf("token requests = %d, want none", n)
	}

	broken := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(broken.Close)
	c, err := NewODC(Config{BaseURL: broken.URL, MaxRetries: 0}, testClientID, testClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListStages(context.Background()); err == nil || !strings.Contains(err.Error(), "discovery") || StatusCode(err) != http.StatusNotFound {
		t.Errorf("err = %v, want a failed discovery (404)", err)
	}
}

func TestNewODCChecksItsSettings(t *testing.T) {
	for _, tt := range []struct{ url, id, secret, want string }{
		{"https://acme.outsystems.dev", "", "s", "client id is empty"},
		{"https://acme.outsystems.dev", "id", "", "client secret is empty"},
		{"http://acme.outsystems.dev", "id", "s", "https://"},
	} {
		if _, err := NewODC(Config{BaseURL: tt.url}, tt.id, tt.secret); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewODC(%q, %q) = %v, want %q", tt.url, tt.id, err, tt.want)
		}
	}
}

func TestODCProblemDetails(t *testing.T) {
	f := newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/asset-repository/v1/assets/a1":
			writeTestJSON(w, http.StatusForbidden, map[string]any{"type": "https://tools.ietf.org/html/rfc9110#section-15.5.4", "title": "Forbidden",
				"status": 403, "detail": "API client 'x' lacks 'Stage > View stage'.", "instance": "/api/asset-repository/v1/assets/a1", "traceId": "t-1", "errorCode": "OS-1"})
		case "/api/asset-repository/v1/assets/a2":
			writeTestJSON(w, http.StatusBadRequest, map[string]any{"title": "One or more validation errors occurred.", "status": 400,
				"errors": map[string][]string{"tag": {"The tag is invalid."}, "assetKey": {"Required."}}})
		default:
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "upstream down")
		}
	})
	f.srv.Config.ErrorLog = nil
	c := f.client(t)
	_, err := c.GetAsset(context.Background(), "a1")
	var e *APIError
	if !errors.As(err, &e) || e.StatusCode != 403 || e.Title != "Forbidden" || e.Detail != "API client 'x' lacks 'Stage > View stage'." ||
		e.Instance != "/api/asset-repository/v1/assets/a1" || e.TraceID != "t-1" || e.ErrorCode != "OS-1" || e.Type == "" {
		t.Fatalf("err = %#v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "ODC answered 403 Forbidden to GET /api/asset-repository/v1/assets/a1: Forbidden; API client 'x' lacks 'Stage > View stage'.") ||
		!strings.Contains(msg, "traceId t-1") {
		t.Errorf("message = %q", msg)
	}
	_, err = c.GetAsset(context.Background(), "a2")
	if !errors.As(err, &e) || strings.Join(e.Messages, "|") != "assetKey: Required.|tag: The tag is invalid." {
		t.Errorf("validation problem = %#v", err)
	}
	_, err = c.GetAsset(context.Background(), "a3")
	if !errors.As(err, &e) || e.StatusCode != http.StatusBadGateway || !strings.Contains(err.Error(), "upstream down") {
		t.Errorf("plain error = %v", err)
	}
}

// pagedAPI serves results in pages of two, following offset, and records
// the offsets asked for.
func pagedAPI(t *testing.T, items []map[string]any, stringOffsets bool, offsets *[]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("limit") != "100" {
			t.Errorf("limit = %q, want 100", q.Get("limit"))
		}
		*offsets = append(*offsets, q.Get("offset"))
		offset, _ := strconv.Atoi(cmpOr(q.Get("offset"), "0"))
		end := min(offset+2, len(items))
		var next any
		if end < len(items) {
			next = end
			if stringOffsets {
				next = strconv.Itoa(end)
			}
		}
		writeTestJSON(w, http.StatusOK, map[string]any{"results": items[offset:end], "page": map[string]any{"count": end - offset, "nextPageOffset": next}})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestODCPaging(t *testing.T) {
	revs := []map[string]any{}
	for i := 1; i <= 5; i++ {
		revs = append(revs, map[string]any{"assetKey": "a", "revision": i, "name": "Core", "tag": nil, "createdAt": "2025-01-01T00:00:00Z"})
	}
	var offsets []string
	f := newFakeODC(t, pagedAPI(t, revs, false, &offsets))
	got, err := f.client(t).ListRevisions(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[4].Revision != 5 || strings.Join(offsets, ",") != ",2,4" {
		t.Errorf("revisions = %+v, offsets %q", got, offsets)
	}

	msgs := []map[string]any{}
	for i := range 3 {
		msgs = append(msgs, map[string]any{"timestamp": "2025-01-01T00:00:00Z", "type": "T", "severity": "Info", "message": fmt.Sprint("m", i),
			"additionalInfo": map[string]any{"stepId": "s", "assetKey": "a"}})
	}
	offsets = nil
	f = newFakeODC(t, pagedAPI(t, msgs, true, &offsets))
	gotMsgs, err := f.client(t).PublishOperationMessages(context.Background(), "op")
	if err != nil {
		t.Fatal(err)
	}
	if len(gotMsgs) != 3 || gotMsgs[2].Message != "m2" || gotMsgs[0].StepID != "s" || gotMsgs[0].AssetKey != "a" || strings.Join(offsets, ",") != ",2" {
		t.Errorf("messages = %+v, offsets %q", gotMsgs, offsets)
	}

	// A server repeating its nextPageOffset does not loop the client.
	f = newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		writeTestJSON(w, http.StatusOK, map[string]any{"results": revs[:1], "page": map[string]any{"nextPageOffset": 1}})
	})
	if _, err := f.client(t).ListRevisions(context.Background(), "a"); err == nil || !strings.Contains(err.Error(), "again") {
		t.Errorf("err = %v, want a loop refusal", err)
	}
}

func TestODCHighestTagRevision(t *testing.T) {
	var assetExists bool
	tagged := false
	f := newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/asset-repository/v1/assets/a/highest-tag-revision":
			if !tagged {
				writeTestJSON(w, http.StatusNotFound, map[string]any{"status": 404, "detail": "No tagged revision."})
				return
			}
			writeTestJSON(w, http.StatusOK, map[string]any{"assetKey": "a", "revision": 3, "name": "Core", "tag": "1.2.0", "taggedBy": "pipe", "createdAt": "2025-01-01T00:00:00Z"})
		case "/api/asset-repository/v1/assets/a/revisions/3/release-notes":
			writeTestJSON(w, http.StatusOK, map[string]any{"tag": "1.2.0", "content": "Notes."})
		case "/api/asset-repository/v1/assets/a":
			if !assetExists {
				writeTestJSON(w, http.StatusNotFound, map[string]any{"status": 404, "detail": "Asset 'a' was not found."})
				return
			}
			writeTestJSON(w, http.StatusOK, map[string]any{"assetKey": "a", "revision": 3, "name": "Core", "createdAt": "2025-01-01T00:00:00Z"})
		default:
			t.Errorf("unexpected %s", r.URL.Path)
		}
	})
	c := f.client(t)
	ctx := context.Background()
	if rev, err := c.HighestTagRevision(ctx, "a"); !IsNotFound(err) || rev != nil || !strings.Contains(err.Error(), "Asset 'a' was not found") {
		t.Errorf("unknown asset = %v, %v; want the asset's 404", rev, err)
	}
	assetExists = true
	if rev, err := c.HighestTagRevision(ctx, "a"); err != nil || rev != nil {
		t.Errorf("untagged asset = %v, %v; want nil, nil", rev, err)
	}
	tagged = true
	rev, err := c.HighestTagRevision(ctx, "a")
	if err != nil || rev.Revision != 3 || rev.Tag != "1.2.0" || rev.TaggedBy != "pipe" {
		t.Errorf("tagged asset = %+v, %v", rev, err)
	}
	if notes, err := c.ReleaseNotes(ctx, "a", 3); err != nil || notes != "Notes." {
		t.Errorf("ReleaseNotes = %q, %v", notes, err)
	}
}

func TestODCWriteRequests(t *testing.T) {
	type seen struct {
		method, path, body string
	}
	var mu sync.Mutex
	var calls []seen
	f := newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, seen{r.Method, r.URL.Path, string(body)})
		mu.Unlock()
		switch {
		case r.Method == http.MethodPatch:
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodPost && strings.Contains(string(body), "unavailable"):
			writeTestJSON(w, http.StatusServiceUnavailable, map[string]any{"status": 503, "detail": "Try later."})
		case r.Method == http.MethodPost:
			writeTestJSON(w, http.StatusCreated, map[string]any{"key": "op-1", "status": "Running", "startedDateTime": "2025-01-01T00:00:00Z",
				"deployedBy": "pipe", "assetKey": "a", "revision": 2, "buildKey": nil, "portfolioKey": "p", "operation": "Publish"})
		}
	})
	c := f.client(t)
	ctx := context.Background()
	tag := "1.0.0"
	if err := c.TagRevision(ctx, "a", 2, &tag, "Notes", "Commit"); err != nil {
		t.Fatal(err)
	}
	if err := c.TagRevision(ctx, "a", 2, nil, "", ""); err != nil {
		t.Fatal(err)
	}
	op, err := c.StartPublish(ctx, "a", 2, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if op.Key != "op-1" || op.Status != PublishStatusRunning || op.Done() || op.Succeeded() || op.EnvironmentKey != "dev" || op.BuildKey != "" || op.DeployedBy != "pipe" {
		t.Errorf("operation = %+v", op)
	}
	if _, err := c.StartPublish(ctx, "unavailable", 1, ""); StatusCode(err) != http.StatusServiceUnavailable {
		t.Errorf("err = %v, want the 503 without retries", err)
	}
	want := []seen{
		{"PATCH", "/api/asset-repository/v1/assets/a/revisions/2", `{"commitMessage":"Commit","releaseNotes":"Notes","tag":"1.0.0"}`},
		{"PATCH", "/api/asset-repository/v1/assets/a/revisions/2", `{"tag":null}`},
		{"POST", "/api/deployments/v1/publish-operations", `{"operation":"Publish","assetKey":"a","revision":2,"environmentKey":"dev"}`},
		{"POST", "/api/deployments/v1/publish-operations", `{"operation":"Publish","assetKey":"unavailable","revision":1}`},
	}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("calls = %q\nwant %q", calls, want)
	}
}

func TestODCQueries(t *testing.T) {
	var queries []string
	var mu sync.Mutex
	f := newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.Path+"?"+r.URL.Query().Encode())
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/producers"):
			writeTestJSON(w, http.StatusOK, map[string]any{"results": []map[string]any{{"key": "p1", "name": "Core", "type": "LowCodeLibrary",
				"revision": 4, "isDirectProducer": true, "producers": []string{"p0"}}}})
		case strings.HasSuffix(r.URL.Path, "/consumers"):
			writeTestJSON(w, http.StatusOK, map[string]any{"results": []map[string]any{{"key": "c1", "name": "Portal", "type": "WebApplication", "revision": 2}}})
		case strings.HasSuffix(r.URL.Path, "/deployed-assets"):
			writeTestJSON(w, http.StatusOK, map[string]any{"results": []map[string]any{{"type": "WebApplication", "key": "c1", "deployments": []map[string]any{
				{"environmentKey": "qa", "name": "Portal", "revision": 1, "buildKey": "b0", "deploymentKey": "d0", "deploymentDateTime": "2025-01-01T00:00:00Z"},
				{"environmentKey": "dev", "name": "Portal", "revision": 2, "buildKey": "b1", "deploymentKey": "d1", "deploymentDateTime": "2025-01-02T00:00:00Z",
					"deploymentUserId": "pipe", "url": "https://dev/Portal", "tag": "1.0.0"},
			}}}, "page": map[string]any{"nextPageOffset": nil}})
		case strings.HasSuffix(r.URL.Path, "/libraries"):
			writeTestJSON(w, http.StatusOK, map[string]any{"results": []map[string]any{{"key": "P1", "type": "LowCodeLibrary", "portfolioKey": "p", "revisions": []map[string]any{
				{"revision": 4, "name": "Core", "publishDateTime": "2025-01-01T00:00:00Z", "publishUserKey": "pipe", "tag": "1.0.0", "isLatest": false},
				{"revision": 5, "name": "Core", "publishDateTime": "0001-01-01T00:00:00", "publishUserKey": nil, "tag": nil, "isLatest": true}}}}})
		case strings.HasSuffix(r.URL.Path, "/publish-operations"):
			writeTestJSON(w, http.StatusOK, map[string]any{"results": []map[string]any{{"key": "op-2", "status": "FinishedWithError", "assetKey": "a",
				"revision": 1, "startedDateTime": "2025-01-01T00:00:00Z", "finishedDateTime": "2025-01-01T00:00:03Z"}}})
		case strings.HasSuffix(r.URL.Path, "/publish-operations/op-2"):
			writeTestJSON(w, http.StatusOK, map[string]any{"key": "op-2", "status": "Finished", "buildKey": "b", "assetKey": "a", "revision": 1})
		case r.URL.Path == "/api/asset-repository/v1/assets":
			writeTestJSON(w, http.StatusOK, map[string]any{"results": []map[string]any{{"assetKey": "a", "revision": 2, "name": "Core", "assetType": "LowCodeLibrary", "tag": "1.0.0"}}})
		}
	})
	c := f.client(t)
	ctx := context.Background()
	producers, err := c.Producers(ctx, "a", 3, "dev")
	if err != nil || len(producers) != 1 || producers[0].AssetKey != "p1" || producers[0].AssetType != "LowCodeLibrary" || producers[0].Revision != 4 ||
		!producers[0].IsDirectProducer || producers[0].Producers[0] != "p0" {
		t.Errorf("producers = %+v, %v", producers, err)
	}
	consumers, err := c.Consumers(ctx, "a")
	if err != nil || len(consumers) != 1 || consumers[0].AssetKey != "c1" || consumers[0].Revision != 2 {
		t.Errorf("consumers = %+v, %v", consumers, err)
	}
	deployed, err := c.DeployedAssets(ctx, "dev")
	if err != nil || len(deployed) != 1 || deployed[0] != (DeployedAsset{AssetKey: "c1", AssetType: "WebApplication", Revision: 2, EnvironmentKey: "dev", Name: "Portal",
		BuildKey: "b1", DeploymentKey: "d1", DeployedAt: "2025-01-02T00:00:00Z", DeployedBy: "pipe", URL: "https://dev/Portal", Tag: "1.0.0"}) {
		t.Errorf("deployed = %+v, %v", deployed, err)
	}
	libs, err := c.LibraryRevisions(ctx, "p1")
	// ODC writes a never-published revision's publishDateTime (neither
	// optional nor nullable) as the zero date-time: "never".
	if err != nil || len(libs) != 2 || libs[0] != (LibraryRevision{Revision: 4, Name: "Core", Tag: "1.0.0", PublishedAt: "2025-01-01T00:00:00Z", PublishedBy: "pipe"}) ||
		libs[1] != (LibraryRevision{Revision: 5, Name: "Core", IsLatest: true}) {
		t.Errorf("library revisions = %+v, %v", libs, err)
	}
	if _, err := c.LibraryRevisions(ctx, "p2"); err == nil {
		t.Error("LibraryRevisions of a library not listed succeeded")
	}
	ops, err := c.ListPublishOperations(ctx, "a", "dev")
	if err != nil || len(ops) != 1 || ops[0].EnvironmentKey != "dev" || !ops[0].Done() || ops[0].Succeeded() || ops[0].FinishedAt == "" {
		t.Errorf("operations = %+v, %v", ops, err)
	}
	op, err := c.GetPublishOperation(ctx, "op-2")
	if err != nil || !op.Succeeded() || op.BuildKey != "b" {
		t.Errorf("operation = %+v, %v", op, err)
	}
	assets, err := c.ListAssets(ctx, "LowCodeLibrary", "WebApplication")
	if err != nil || len(assets) != 1 || assets[0] != (Asset{Key: "a", Name: "Core", AssetType: "LowCodeLibrary", LatestRevision: 2, Tag: "1.0.0"}) {
		t.Errorf("assets = %+v, %v", assets, err)
	}
	want := []string{
		"/api/dependency-management/v1/assets/a/revisions/3/producers?environmentKey=dev",
		"/api/dependency-management/v1/assets/a/consumers?",
		"/api/portfolios/v2/deployed-assets?environmentKey=dev&limit=100",
		"/api/portfolios/v2/libraries?key=p1&limit=100&revisions=All",
		"/api/portfolios/v2/libraries?key=p2&limit=100&revisions=All",
		"/api/deployments/v1/publish-operations?assetKey=a&environmentKey=dev&limit=100&sort=-CreatedAt",
		"/api/deployments/v1/publish-operations/op-2?",
		"/api/asset-repository/v1/assets?assetTypes=LowCodeLibrary&assetTypes=WebApplication&limit=100&sort=name",
	}
	if strings.Join(queries, "\n") != strings.Join(want, "\n") {
		t.Errorf("queries:\n%s\nwant:\n%s", strings.Join(queries, "\n"), strings.Join(want, "\n"))
	}
}

func TestODCReferencedElements(t *testing.T) {
	var paths []string
	var mu sync.Mutex
	f := newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.RequestURI())
		mu.Unlock()
		switch r.URL.Path {
		case "/api/dependency-management/v1/assets/app-1/revisions/3/referenced-elements":
			writeTestJSON(w, http.StatusOK, map[string]any{"results": []map[string]any{
				{"assetKey": "app-1", "revision": 3, "key": "e1", "name": "Policy_Get", "type": "ServerAction", "description": "Reads.", "isHidden": false,
					"signatureDigest": "s1", "compatibilitySignatureDigest": "c1", "producerAssetKey": "LIB-2", "producerAssetName": "Policy Rules", "producerAssetType": "LowCodeLibrary"},
				{"assetKey": "app-1", "revision": 3, "key": "e2", "name": "CoreLogo", "type": "Image", "isHidden": true,
					"producerAssetKey": "lib-1", "producerAssetName": "Customer Core", "producerAssetType": "LowCodeLibrary"},
				{"assetKey": "app-1", "revision": 3, "key": "e3", "name": "PolicyCard", "type": "Block", "isHidden": nil,
					"producerAssetKey": "lib-2", "producerAssetName": "Policy Rules", "producerAssetType": "LowCodeLibrary"},
				{"assetKey": "app-1", "revision": 3, "key": "e4", "name": "Orphan", "type": "Block"},
			}})
		case "/api/dependency-management/v1/assets/missing/revisions/1/referenced-elements":
			writeTestJSON(w, http.StatusNotFound, map[string]any{"title": "Not Found", "status": 404, "detail": "Asset with key 'missing' was not found."})
		default:
			writeTestJSON(w, http.StatusOK, map[string]any{"results": nil})
		}
	})
	c := f.client(t)
	ctx := context.Background()
	elems, err := c.ReferencedElements(ctx, "app-1", 3)
	if err != nil || len(elems) != 4 {
		t.Fatalf("ReferencedElements = %+v, %v", elems, err)
	}
	want := ReferencedElement{AssetKey: "app-1", Revision: 3, Key: "e1", Name: "Policy_Get", Type: "ServerAction", Description: "Reads.",
		SignatureDigest: "s1", CompatibilitySignatureDigest: "c1", ProducerAssetKey: "LIB-2", ProducerAssetName: "Policy Rules", ProducerAssetType: "LowCodeLibrary"}
	if elems[0] != want || !elems[1].IsHidden || elems[2].IsHidden {
		t.Errorf("elements = %+v", elems)
	}
	producers, err := c.RevisionProducers(ctx, "app-1", 3)
	wantProducers := []ReferencedProducer{
		{AssetKey: "lib-1", Name: "Customer Core", AssetType: "LowCodeLibrary"},
		{AssetKey: "LIB-2", Name: "Policy Rules", AssetType: "LowCodeLibrary"},
	}
	if err != nil || !slices.Equal(producers, wantProducers) {
		t.Errorf("RevisionProducers = %+v, %v; want %+v", producers, err, wantProducers)
	}
	if p := DistinctProducers([]ReferencedElement{{ProducerAssetKey: "k"}}); len(p) != 1 || p[0].Name != "k" {
		t.Errorf("a producer without a name = %+v, want its key as name", p)
	}
	if _, err := c.ReferencedElements(ctx, "missing", 1); !IsNotFound(err) {
		t.Errorf("ReferencedElements of an unknown asset = %v, want not found", err)
	}
	if got, err := c.ReferencedElements(ctx, "app-2", 1); err != nil || len(got) != 0 {
		t.Errorf("ReferencedElements with no results = %+v, %v", got, err)
	}
	if len(paths) != 4 || paths[0] != "/api/dependency-management/v1/assets/app-1/revisions/3/referenced-elements" {
		t.Errorf("requests = %v", paths)
	}
}
