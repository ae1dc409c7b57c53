package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// windowServer answers 429 (without Retry-After, as ODC documents) to a
// request that would make a sliding window of window hold more than limit
// requests, the way the sandbox and ODC count; it counts what it admitted
// and what it refused.
type windowServer struct {
	limit  int
	window time.Duration

	mu        sync.Mutex
	admitted  []time.Time
	throttled int
}

func (s *windowServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	now := time.Now()
	in := 0
	for _, at := range s.admitted {
		if now.Sub(at) < s.window {
			in++
		}
	}
	if in >= s.limit {
		s.throttled++
		s.mu.Unlock()
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	s.admitted = append(s.admitted, now)
	s.mu.Unlock()
	_, _ = io.WriteString(w, `{}`)
}

func (s *windowServer) counts() (admitted, throttled int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.admitted), s.throttled
}

// odcTestService is an ODC-paced service against srv whose rate window is
// window (the internal knob that keeps these tests short).
func odcTestService(t *testing.T, url string, perMinute int, window time.Duration) *service {
	t.Helper()
	s, err := newService(odcServiceName, Config{BaseURL: url, MaxRetries: 0, RequestsPerMinute: perMinute, DeploymentRequestsPerMinute: 10, RateWindow: window}, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTwoProcessesBackToBackDrawNo429: a fresh limiter does not fire a
// window's worth at once, so a second process that starts right after a
// first one (terraform plan, then apply) keeps the server's window under
// its limit: not one 429.
func TestTwoProcessesBackToBackDrawNo429(t *testing.T) {
	const limit, window = 4, time.Second
	ws := &windowServer{limit: limit, window: window}
	srv := httptest.NewServer(ws)
	defer srv.Close()
	for process := range 2 {
		s := odcTestService(t, srv.URL, limit, window) // a new process: new limiters
		for i := range limit + 2 {
			if _, err := s.do(t.Context(), request{method: http.MethodGet, path: "/api/portfolios/v2/environments", idempotent: true}); err != nil {
				t.Fatalf("process %d, request %d: %v", process, i, err)
			}
		}
	}
	if admitted, throttled := ws.counts(); admitted != 2*(limit+2) || throttled != 0 {
		t.Fatalf("admitted %d, throttled %d; want %d and no 429", admitted, throttled, 2*(limit+2))
	}
}

// TestPoolsPerDomainAndPostEndpoint: each ODC API domain and each POST
// endpoint with a limit of its own has a pool; an endpoint's POSTs count in
// the domain's pool too; discovery and tokens are not paced.
func TestPoolsPerDomainAndPostEndpoint(t *testing.T) {
	p := &pacer{perMinute: 100, endpointPerMinute: 10, window: time.Minute, odc: true, pools: map[string]*Limiter{}}
	req := func(method, path string) []*Limiter {
		r, err := http.NewRequestWithContext(t.Context(), method, "https://acme.outsystems.dev"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p.poolsOf(r)
	}
	envs := req(http.MethodGet, "/api/portfolios/v2/environments")
	assets := req(http.MethodGet, "/api/asset-repository/v1/assets")
	upload := req(http.MethodPost, "/api/asset-repository/v1/assets")
	publish := req(http.MethodPost, "/api/deployments/v1/publish-operations")
	deploy := req(http.MethodPost, "/api/deployments/v1/deployment-operations")
	readOps := req(http.MethodGet, "/api/deployments/v1/publish-operations/5e0f3a3c-6b44-4b43-9b57-1d5a2b9e6c11")
	envConfig := req(http.MethodGet, "/api/environment-configurations/v1/environments/x/domains")
	bulk := req(http.MethodPost, "/api/identity/v1/users/bulk")
	switch {
	case len(envs) != 1 || len(assets) != 1 || envs[0] == assets[0]:
		t.Errorf("portfolios and asset repository share a pool or have none: %v %v", envs, assets)
	case len(upload) != 2 || upload[0] != assets[0]:
		t.Errorf("POST /assets pools = %v; want the asset repository's and its own", upload)
	case len(publish) != 2 || len(deploy) != 2 || publish[0] != deploy[0] || publish[1] == deploy[1]:
		t.Errorf("deployment POSTs must share the domain pool and have one each: %v %v", publish, deploy)
	case len(readOps) != 1 || readOps[0] != publish[0]:
		t.Errorf("a read of deployments counts in the domain pool only: %v", readOps)
	case len(envConfig) != 1 || envConfig[0].interval < 6*time.Second:
		t.Errorf("environment configurations pool must take at most 10 per minute: %+v", envConfig)
	case len(bulk) != 2 || bulk[1].interval < 12*time.Second:
		t.Errorf("POST /users/bulk must take at most 5 per minute: %+v", bulk)
	}
	if got := req(http.MethodPost, "/identity/realms/acme/protocol/openid-connect/token"); len(got) != 0 {
		t.Errorf("the token endpoint is paced: %v", got)
	}
}

// TestThrottledWithoutRetryAfterWaitsAndSucceeds: a 429 without
// Retry-After waits a real share of the rate window (not a half-second
// back-off), holds the pool back for other requests, and keeps going
// however many 429s come, even with max_retries 0.
func TestThrottledWithoutRetryAfterWaitsAndSucceeds(t *testing.T) {
	const window = 400 * time.Millisecond
	var calls atomic.Int32
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		if calls.Add(1) <= 6 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	s := odcTestService(t, srv.URL, 100000, window)
	if _, err := s.do(t.Context(), request{method: http.MethodPost, path: "/api/deployments/v1/publish-operations", body: map[string]int{}}); err != nil {
		t.Fatalf("a call throttled 6 times without Retry-After failed: %v", err)
	}
	if got := calls.Load(); got != 7 {
		t.Fatalf("calls = %d, want 7", got)
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < window/4 {
			t.Errorf("attempt %d came %v after the 429 before it; want at least a quarter of the %v window", i+1, gap, window)
		}
	}
}

// TestThrottledCallEndsWithItsContext: a server that never stops
// answering 429 is retried until the caller's context ends.
func TestThrottledCallEndsWithItsContext(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	s := odcTestService(t, srv.URL, 100000, 100*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	_, err := s.do(ctx, request{method: http.MethodGet, path: "/api/portfolios/v2/environments", idempotent: true})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if calls.Load() < 2 {
		t.Fatalf("calls = %d; the 429 was not retried", calls.Load())
	}
}
