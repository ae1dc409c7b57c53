package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

const testToken = "secret-token-abc123"

func newTestLifeTime(t *testing.T, h http.HandlerFunc, maxRetries int) *LifeTime {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	lt, err := NewLifeTime(Config{BaseURL: srv.URL, MaxRetries: maxRetries, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}, testToken)
	if err != nil {
		t.Fatal(err)
	}
	return lt
}

func TestLifeTimeListEnvironmentsWireFormat(t *testing.T) {
	lt := newTestLifeTime(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/lifetimeapi/rest/v2/environments" {
			t.Errorf("path = %q", r.URL.Path)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("Authorization = %q", got)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `[{"Key":"6c3f...","Name":"Development","Order":1,"HostName":"dev.example","UseHTTPS":true,"EnvironmentType":"Development","IsCloudEnvironment":true}]`)
	}, 0)
	envs, err := lt.ListEnvironments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != 1 || envs[0].Name != "Development" || envs[0].Order != 1 || !envs[0].UseHTTPS || envs[0].HostName != "dev.example" {
		t.Fatalf("envs = %+v", envs)
	}
}

func TestLifeTime204IsEmptyList(t *testing.T) {
	lt := newTestLifeTime(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, 0)
	apps, err := lt.ListApplications(context.Background(), true, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 0 {
		t.Fatalf("apps = %+v", apps)
	}
}

func TestLifeTimeIncludeModulesAlwaysSendsEnvStatus(t *testing.T) {
	lt := newTestLifeTime(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("IncludeModules") == "true" && q.Get("IncludeEnvStatus") != "true" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, `{"Key":"k","Name":"App"}`)
	}, 0)
	if _, err := lt.GetApplication(context.Background(), "k", false, true); err != nil {
		t.Fatal(err)
	}
}

func TestLifeTimeErrorBodySurfacesEveryMessage(t *testing.T) {
	lt := newTestLifeTime(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"Errors":["Version '1.0.3' already exists.","Choose another version."],"StatusCode":400}`)
	}, 0)
	_, err := lt.CreateApplicationVersion(context.Background(), "e", "a", CreateVersionRequest{Version: "1.0.3"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %T %v", err, err)
	}
	if apiErr.StatusCode != 400 || len(apiErr.Messages) != 2 {
		t.Fatalf("apiErr = %+v", apiErr)
	}
	for _, want := range []string{"400", "already exists", "Choose another version", "POST /lifetimeapi/rest/v2/environments/e/applications/a/versions"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), testToken) {
		t.Error("error leaks the token")
	}
}

func TestLifeTimePlainTextErrorAndCreatedKey(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"ApplicationVersionKey":"0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"}`, "0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"},
		{`"0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"`, "0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"},
		{"0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d\n", "0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"},
	} {
		body := tc.body
		lt := newTestLifeTime(t, func(w http.ResponseWriter, r *http.Request) {
			var req CreateVersionRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Version != "2.0.0" || req.ChangeLog != "cl" {
				t.Errorf("request body = %+v, %v", req, err)
			}
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, body)
		}, 0)
		got, err := lt.CreateApplicationVersion(context.Background(), "e", "a", CreateVersionRequest{Version: "2.0.0", ChangeLog: "cl"})
		if err != nil || got != tc.want {
			t.Errorf("body %q: got %q, %v", tc.body, got, err)
		}
	}
	lt := newTestLifeTime(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "You do not have permission to tag this application.")
	}, 0)
	_, err := lt.CreateApplicationVersion(context.Background(), "e", "a", CreateVersionRequest{Version: "1"})
	if StatusCode(err) != 403 || !strings.Contains(err.Error(), "do not have permission") {
		t.Fatalf("err = %v", err)
	}
}

func TestRetryPolicy(t *testing.T) {
	cases := []struct {
		name       string
		method     string
		statuses   []int
		wantCalls  int32
		wantStatus int // 0 = success
	}{
		{"GET retries 503 then succeeds", http.MethodGet, []int{503, 502, 200}, 3, 0},
		{"GET retries 429", http.MethodGet, []int{429, 200}, 2, 0},
		{"GET never retries 501", http.MethodGet, []int{501, 200}, 1, 501},
		{"GET never retries 404", http.MethodGet, []int{404, 200}, 1, 404},
		{"GET gives up after max retries", http.MethodGet, []int{500, 500, 500, 500, 500}, 3, 500},
		{"POST is not retried on 500 (server may have acted)", http.MethodPost, []int{500, 201}, 1, 500},
		{"POST is retried on 429 (server did not act)", http.MethodPost, []int{429, 201}, 2, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			lt := newTestLifeTime(t, func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				st := tc.statuses[n-1]
				if st == 429 {
					w.Header().Set("Retry-After", "0")
				}
				w.WriteHeader(st)
				switch st {
				case 201:
					_, _ = io.WriteString(w, `{"ApplicationVersionKey":"0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"}`)
				case 200:
					_, _ = io.WriteString(w, `[]`)
				}
			}, 2)
			var err error
			if tc.method == http.MethodGet {
				_, err = lt.ListEnvironments(context.Background())
			} else {
				_, err = lt.CreateApplicationVersion(context.Background(), "e", "a", CreateVersionRequest{Version: "1.0.0"})
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("calls = %d, want %d", got, tc.wantCalls)
			}
			if got := StatusCode(err); got != tc.wantStatus {
				t.Errorf("status = %d (err %v), want %d", got, err, tc.wantStatus)
			}
		})
	}
}

func TestRetryAfterIsHonouredAndCapped(t *testing.T) {
	var calls atomic.Int32
	var first time.Time
	var gap time.Duration
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "3600") // a bad hint: an hour
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		gap = time.Since(first)
		_, _ = io.WriteString(w, `[]`)
	}))
	defer srv.Close()
	lt, err := NewLifeTime(Config{BaseURL: srv.URL, MaxRetries: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond, MaxRetryAfter: 50 * time.Millisecond}, testToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lt.ListEnvironments(context.Background()); err != nil {
		t.Fatal(err)
	}
	if gap < 40*time.Millisecond || gap > 3*time.Second {
		t.Fatalf("waited %v between attempts; want the capped Retry-After of 50ms", gap)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
	} {
		got, ok := ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestConnectionErrorsAreRetriedForReadsAndReportedWithLastError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every dial is refused
	lt, err := NewLifeTime(Config{BaseURL: "http://" + addr, MaxRetries: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}, testToken)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lt.ListEnvironments(context.Background())
	var tErr *TransportError
	if !errors.As(err, &tErr) {
		t.Fatalf("err = %T %v", err, err)
	}
	if !strings.Contains(err.Error(), "last retryable error: connection error") {
		t.Errorf("error does not say the last retryable error: %v", err)
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	var calls atomic.Int32
	lt := newTestLifeTime(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
	}, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := lt.ListEnvironments(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() > 2 {
		t.Fatalf("kept calling after the deadline: %d calls", calls.Load())
	}
}

func TestRequestLogRedactsAuthorization(t *testing.T) {
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	lt := newTestLifeTime(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `[]`) }, 0)
	if _, err := lt.ListEnvironments(ctx); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "OutSystems API request") || !strings.Contains(out, "OutSystems API response") {
		t.Fatalf("no request/response log lines: %s", out)
	}
	if strings.Contains(out, testToken) {
		t.Fatalf("log leaks the token: %s", out)
	}
	if !strings.Contains(out, "[REDACTED]") {
		t.Fatalf("Authorization header not shown as redacted: %s", out)
	}
}

func TestParseBaseURL(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"https://lifetime.example.com/", "https://lifetime.example.com", ""},
		{"http://127.0.0.1:8085", "http://127.0.0.1:8085", ""},
		{"http://localhost:1", "http://localhost:1", ""},
		{"http://[::1]:1", "http://[::1]:1", ""},
		{"http://lifetime.example.com", "", "plain http://"},
		{"ftp://x", "", "must start with https://"},
		{"lifetime.example.com", "", "must start with https://"},
		{"https://user:pw@x.example", "", "must not carry credentials"},
		{"https://x.example/?a=1", "", "query string"},
		{"", "", "empty"},
	} {
		u, err := ParseBaseURL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseBaseURL(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "pw@") {
				t.Errorf("error leaks the password: %v", err)
			}
			continue
		}
		if err != nil || u.String() != tc.want {
			t.Errorf("ParseBaseURL(%q) = %v, %v; want %q", tc.in, u, err, tc.want)
		}
	}
}

func TestLifeTimeBaseURLKeepsAnExplicitAPIPrefix(t *testing.T) {
	lt, err := NewLifeTime(Config{BaseURL: "https://lt.example.com/lifetimeapi/rest/v2/"}, "t")
	if err != nil {
		t.Fatal(err)
	}
	if lt.BaseURL() != "https://lt.example.com/lifetimeapi/rest/v2" {
		t.Fatalf("BaseURL = %q", lt.BaseURL())
	}
	if _, err := NewLifeTime(Config{BaseURL: "https://lt.example.com"}, " "); err == nil {
		t.Fatal("empty token accepted")
	}
}

func TestPathSegmentsAreEscapedOnce(t *testing.T) {
	var got string
	lt := newTestLifeTime(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.EscapedPath()
		_, _ = io.WriteString(w, `{"Key":"k","Name":"App"}`)
	}, 0)
	if _, err := lt.GetApplication(context.Background(), "a/b c%", false, false); err != nil {
		t.Fatal(err)
	}
	if got != "/lifetimeapi/rest/v2/applications/a%2Fb%20c%25" {
		t.Fatalf("escaped path = %q", got)
	}
}

func TestLifeTimeConsoleURLIsAccepted(t *testing.T) {
	for in, want := range map[string]string{
		"https://lt.example.com/lifetime":            "https://lt.example.com/lifetimeapi/rest/v2",
		"https://lt.example.com/lifetime/":           "https://lt.example.com/lifetimeapi/rest/v2",
		"https://lt.example.com/LifeTime":            "https://lt.example.com/lifetimeapi/rest/v2",
		"https://lt.example.com":                     "https://lt.example.com/lifetimeapi/rest/v2",
		"https://lt.example.com/lifetimeapi/rest/v2": "https://lt.example.com/lifetimeapi/rest/v2",
		"https://example.com/ops/lifetime":           "https://example.com/ops/lifetimeapi/rest/v2",
	} {
		lt, err := NewLifeTime(Config{BaseURL: in}, testToken)
		if err != nil {
			t.Errorf("NewLifeTime(%q): %v", in, err)
			continue
		}
		if got := lt.BaseURL(); got != want {
			t.Errorf("NewLifeTime(%q).BaseURL() = %q, want %q", in, got, want)
		}
	}
}
