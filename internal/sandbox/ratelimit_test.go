package sandbox

import (
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// startLimited starts a sandbox whose rate limiter runs on clock.
func startLimited(t *testing.T, opts Options, clock *fakeClock) *chaosEnv {
	t.Helper()
	opts.DBPath = filepath.Join(t.TempDir(), "sb.db")
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	s.limits.now = clock.Now // before serving
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &chaosEnv{t: t, sb: s, base: base}
	for _, c := range s.Fixture().ODC.APIClients {
		if c.Name == clientMigration {
			e.client = c
		}
	}
	e.tokenURL = base + "/identity/realms/" + s.odc.Organization() + "/protocol/openid-connect/token"
	e.accessToken = decode[odc.TokenResponse](t, e.must(http.MethodPost, e.tokenURL, "", nil, e.tokenForm()).expect(t, http.StatusOK)).AccessToken
	return e
}

// expectThrottled checks a rate limiter's 429: Retry-After in seconds and
// the API's error shape.
func expectThrottled(t *testing.T, api string, r response, retryAfter int) {
	t.Helper()
	checkErrorShape(t, api, r, http.StatusTooManyRequests)
	if got := r.header.Get("Retry-After"); got != strconv.Itoa(retryAfter) {
		t.Errorf("%s: Retry-After %q, want %d", api, got, retryAfter)
	}
}

func TestRateLimitODCWindow(t *testing.T) {
	clock := newFakeClock()
	e := startLimited(t, Options{RateLimit: 3, RetryAfter: true}, clock)
	odc := func() response { return e.must(http.MethodGet, e.portfolioURL(), e.accessToken, nil, nil) }

	// t=0: two calls; t=30s: one more fills the window of the portfolio
	// domain. Other ODC domains and the code migrations have pools of their own.
	odc().expect(t, http.StatusOK)
	odc().expect(t, http.StatusOK)
	e.must(http.MethodGet, e.migrationURL(), e.accessToken, nil, nil).expect(t, http.StatusOK)
	e.must(http.MethodGet, e.base+assetRepoBase+"/assets", e.accessToken, nil, nil).expect(t, http.StatusOK)
	clock.Advance(30 * time.Second)
	odc().expect(t, http.StatusOK)
	expectThrottled(t, "odc", odc(), 30)
	e.must(http.MethodGet, e.migrationURL(), e.accessToken, nil, nil).expect(t, http.StatusOK)
	// Unauthenticated calls count too: the limit comes first.
	expectThrottled(t, "odc", e.must(http.MethodGet, e.portfolioURL(), "", nil, nil), 30)

	// Other families have windows of their own; the token endpoint has none.
	e.must(http.MethodGet, e.lifetimeURL(), testAdminToken, nil, nil).expect(t, http.StatusOK)
	e.must(http.MethodGet, e.assessmentURL(), testAdminToken, nil, nil).expect(t, http.StatusOK)
	for range 5 {
		e.must(http.MethodPost, e.tokenURL, "", nil, e.tokenForm()).expect(t, http.StatusOK)
	}

	// The window slides: at 59.5s the first calls are 59.5s old, so the
	// wait rounds up to 1s; at 60s both free a slot.
	clock.Advance(29500 * time.Millisecond)
	expectThrottled(t, "odc", odc(), 1)
	clock.Advance(500 * time.Millisecond)
	odc().expect(t, http.StatusOK)
	odc().expect(t, http.StatusOK)
	expectThrottled(t, "odc", odc(), 30) // the call at 30s is the oldest now

	st := e.sb.RequestStats()
	if got := st.ByFamily[FamilyODC]; got != (FamilyStats{Requests: 10, Throttled: 4}) {
		t.Errorf("odc stats = %+v, want 10 requests, 4 throttled", got)
	}
	if got := st.ByFamily[FamilyCodeMigration]; got != (FamilyStats{Requests: 2}) {
		t.Errorf("code migration stats = %+v", got)
	}
	if got := st.ByFamily[FamilyIdentity]; got != (FamilyStats{Requests: 6}) || st.Tokens != 6 {
		t.Errorf("identity stats = %+v, tokens %d; want 6 token requests, none throttled", got, st.Tokens)
	}
	if got := st.ByFamily[FamilyLifeTime]; got != (FamilyStats{Requests: 1}) {
		t.Errorf("lifetime stats = %+v", got)
	}
}

func TestRateLimitLifeTimeAndAssessment(t *testing.T) {
	clock := newFakeClock()
	e := startLimited(t, Options{RateLimit: 2, RetryAfter: true}, clock)
	for range 2 {
		e.must(http.MethodGet, e.lifetimeURL(), testAdminToken, nil, nil).expect(t, http.StatusOK)
		e.must(http.MethodGet, e.assessmentURL(), testAdminToken, nil, nil).expect(t, http.StatusOK)
	}
	clock.Advance(10 * time.Second)
	expectThrottled(t, "lifetime", e.must(http.MethodGet, e.lifetimeURL(), testAdminToken, nil, nil), 50)
	// Both names of the assessment tool are one tool.
	expectThrottled(t, "assessment", e.must(http.MethodGet, e.base+assessment.ConversionBase+"/mappings", testAdminToken, nil, nil), 50)
	e.must(http.MethodGet, e.portfolioURL(), e.accessToken, nil, nil).expect(t, http.StatusOK)
	// The admin surface is never limited nor counted.
	for range 5 {
		e.must(http.MethodGet, e.base+"/_sandbox/health", "", nil, nil).expect(t, http.StatusOK)
	}
	st := e.sb.RequestStats()
	want := map[string]FamilyStats{
		FamilyLifeTime: {Requests: 3, Throttled: 1}, FamilyAssessment: {Requests: 3, Throttled: 1},
		FamilyODC: {Requests: 1}, FamilyCodeMigration: {}, FamilyIdentity: {Requests: 1},
	}
	if len(st.ByFamily) != len(want) {
		t.Errorf("families = %v", st.ByFamily)
	}
	for f, w := range want {
		if st.ByFamily[f] != w {
			t.Errorf("%s stats = %+v, want %+v", f, st.ByFamily[f], w)
		}
	}
}

// TestRateLimitRetryAfterRoundsUp: Retry-After is the wait until the
// oldest call leaves the window, in whole seconds rounded up.
func TestRateLimitRetryAfterRoundsUp(t *testing.T) {
	clock := newFakeClock()
	e := startLimited(t, Options{RateLimit: 1, RetryAfter: true}, clock)
	e.must(http.MethodGet, e.lifetimeURL(), testAdminToken, nil, nil).expect(t, http.StatusOK)
	for _, tt := range []struct {
		advance time.Duration
		want    int
	}{{0, 60}, {time.Millisecond, 60}, {999 * time.Millisecond, 59}, {58 * time.Second, 1}, {999 * time.Millisecond, 1}} {
		clock.Advance(tt.advance)
		expectThrottled(t, "lifetime", e.must(http.MethodGet, e.lifetimeURL(), testAdminToken, nil, nil), tt.want)
	}
	clock.Advance(time.Millisecond)
	e.must(http.MethodGet, e.lifetimeURL(), testAdminToken, nil, nil).expect(t, http.StatusOK)
}

func TestRateLimitDeployments(t *testing.T) {
	clock := newFakeClock()
	e := startLimited(t, Options{RateLimit: 100, DeploymentRateLimit: 2, RetryAfter: true}, clock)
	if err := e.sb.SeedODCAsset(MigratedAsset{Key: keyCore, Name: "Customer Core", AssetType: AssetTypeLibrary}); err != nil {
		t.Fatal(err)
	}
	ops := e.base + deploymentBase + "/publish-operations"
	body := map[string]any{"operation": "Publish", "assetKey": keyCore, "revision": 1}
	e.must(http.MethodPost, ops, e.accessToken, body, nil).expect(t, http.StatusCreated)
	e.must(http.MethodPost, ops+"/", e.accessToken, map[string]any{"revision": 1}, nil).expect(t, http.StatusBadRequest) // counts all the same
	clock.Advance(15 * time.Second)
	expectThrottled(t, "odc", e.must(http.MethodPost, ops, e.accessToken, body, nil), 45)
	// Reads of the same endpoint and other endpoints are not affected.
	e.must(http.MethodGet, ops, e.accessToken, nil, nil).expect(t, http.StatusOK)
	// Asset uploads have a window of their own (the sandbox has no upload:
	// 405, after the limiter).
	assets := e.base + assetRepoBase + "/assets"
	e.must(http.MethodPost, assets, e.accessToken, map[string]any{}, nil).expect(t, http.StatusMethodNotAllowed)
	e.must(http.MethodPost, assets+"/", e.accessToken, map[string]any{}, nil).expect(t, http.StatusMethodNotAllowed)
	expectThrottled(t, "odc", e.must(http.MethodPost, assets, e.accessToken, map[string]any{}, nil), 60)
	// Builds too, per endpoint.
	e.must(http.MethodPost, e.base+"/api/builds/v1/builds", e.accessToken, map[string]any{}, nil).expect(t, http.StatusNotFound)
	clock.Advance(45 * time.Second)
	e.must(http.MethodPost, ops, e.accessToken, body, nil).expect(t, http.StatusCreated)
	if got := e.sb.RequestStats().ByFamily[FamilyODC]; got != (FamilyStats{Requests: 9, Throttled: 2}) {
		t.Errorf("odc stats = %+v", got)
	}

	if got, dep := e.sb.RateLimits(); got != 100 || dep != 2 {
		t.Errorf("RateLimits = %d, %d", got, dep)
	}
	s, err := New(Options{RateLimit: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if perMinute, dep := s.RateLimits(); perMinute != 5 || dep != DefaultDeploymentRateLimit {
		t.Errorf("RateLimits with RateLimit 5 = %d, %d; want 5, %d", perMinute, dep, DefaultDeploymentRateLimit)
	}
	for _, o := range []Options{{RateLimit: -1}, {DeploymentRateLimit: -1}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted a negative limit", o)
		}
	}
}

// TestRateLimitDeploymentsOnly: a deployment limit without RateLimit
// limits deployment POSTs only.
func TestRateLimitDeploymentsOnly(t *testing.T) {
	clock := newFakeClock()
	e := startLimited(t, Options{DeploymentRateLimit: 1, RetryAfter: true}, clock)
	ops := e.base + deploymentBase + "/publish-operations"
	e.must(http.MethodPost, ops, e.accessToken, map[string]any{}, nil).expect(t, http.StatusBadRequest)
	expectThrottled(t, "odc", e.must(http.MethodPost, ops, e.accessToken, map[string]any{}, nil), 60)
	for range 20 {
		e.must(http.MethodGet, ops, e.accessToken, nil, nil).expect(t, http.StatusOK)
	}
}

func TestRateLimitConcurrent(t *testing.T) {
	clock := newFakeClock()
	e := startLimited(t, Options{RateLimit: 10}, clock)
	e.sb.ResetStats()
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			r, err := e.send(http.MethodGet, e.portfolioURL(), e.accessToken, nil, nil)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
			_ = e.sb.RequestStats() // read while others count
		})
	}
	wg.Wait()
	if statuses[http.StatusOK] != 10 || statuses[http.StatusTooManyRequests] != 30 {
		t.Errorf("statuses = %v, want 10 OK and 30 throttled", statuses)
	}
	if got := e.sb.RequestStats().ByFamily[FamilyODC]; got != (FamilyStats{Requests: 40, Throttled: 30}) {
		t.Errorf("stats = %+v", got)
	}
}

func TestStatsAdmin(t *testing.T) {
	clock := newFakeClock()
	e := startLimited(t, Options{RateLimit: 1, RetryAfter: true}, clock)
	e.must(http.MethodGet, e.lifetimeURL(), testAdminToken, nil, nil).expect(t, http.StatusOK)
	e.must(http.MethodGet, e.lifetimeURL(), testAdminToken, nil, nil).expect(t, http.StatusTooManyRequests)
	doc := decode[statsDocument](t, e.must(http.MethodGet, e.base+"/_sandbox/stats", "", nil, nil).expect(t, http.StatusOK))
	if doc.ByFamily[FamilyLifeTime] != (FamilyStats{Requests: 2, Throttled: 1}) || doc.Tokens != 1 || doc.RateLimit != 1 || doc.DeploymentRateLimit != 10 {
		t.Errorf("GET /_sandbox/stats = %+v", doc)
	}
	var raw map[string]any
	r := e.must(http.MethodGet, e.base+"/_sandbox/stats", "", nil, nil)
	raw = decode[map[string]any](t, r)
	if fam, ok := raw["byFamily"].(map[string]any); !ok || fam["lifetime"] == nil || fam["codeMigration"] == nil {
		t.Errorf("stats JSON = %s, want byFamily with camelCase keys", r.body)
	}
	doc = decode[statsDocument](t, e.must(http.MethodPost, e.base+"/_sandbox/stats/reset", "", nil, nil).expect(t, http.StatusOK))
	if doc.Tokens != 0 || doc.ByFamily[FamilyLifeTime] != (FamilyStats{}) {
		t.Errorf("after reset = %+v", doc)
	}
	// Resetting the counters leaves the windows as they are.
	e.must(http.MethodGet, e.lifetimeURL(), testAdminToken, nil, nil).expect(t, http.StatusTooManyRequests)
	e.must(http.MethodGet, e.base+"/_sandbox/stats/reset", "", nil, nil).expect(t, http.StatusMethodNotAllowed)
	e.must(http.MethodPost, e.base+"/_sandbox/stats", "", nil, nil).expect(t, http.StatusMethodNotAllowed)
}

// TestRateLimitNoRetryAfterByDefault: ODC documents no Retry-After, so a
// 429 of the rate limits carries none unless Options.RetryAfter asks.
func TestRateLimitNoRetryAfterByDefault(t *testing.T) {
	clock := newFakeClock()
	e := startLimited(t, Options{RateLimit: 1}, clock)
	e.must(http.MethodGet, e.portfolioURL(), e.accessToken, nil, nil).expect(t, http.StatusOK)
	r := e.must(http.MethodGet, e.portfolioURL(), e.accessToken, nil, nil)
	checkErrorShape(t, "odc", r, http.StatusTooManyRequests)
	if got := r.header.Get("Retry-After"); got != "" {
		t.Errorf("Retry-After %q, want none", got)
	}
	e.must(http.MethodGet, e.lifetimeURL(), testAdminToken, nil, nil).expect(t, http.StatusOK)
	if got := e.must(http.MethodGet, e.lifetimeURL(), testAdminToken, nil, nil).expect(t, http.StatusTooManyRequests).header.Get("Retry-After"); got != "" {
		t.Errorf("LifeTime Retry-After %q, want none", got)
	}
}

// TestRateLimitDomainPools: each ODC API domain has a pool of its own;
// environment configurations take at most 10; a POST endpoint's own limit
// counts toward its domain's pool.
func TestRateLimitDomainPools(t *testing.T) {
	clock := newFakeClock()
	e := startLimited(t, Options{RateLimit: 12, DeploymentRateLimit: 3, RetryAfter: true}, clock)
	envConfig := e.base + "/api/environment-configurations/v1/environments/x/domains"
	for range 10 {
		if r := e.must(http.MethodGet, envConfig, e.accessToken, nil, nil); r.status == http.StatusTooManyRequests {
			t.Fatalf("environment configurations throttled before 10 calls")
		}
	}
	expectThrottled(t, "environment configurations", e.must(http.MethodGet, envConfig, e.accessToken, nil, nil), 60)
	// The portfolio pool is untouched: 12 calls.
	for range 12 {
		e.must(http.MethodGet, e.portfolioURL(), e.accessToken, nil, nil).expect(t, http.StatusOK)
	}
	expectThrottled(t, "portfolio", e.must(http.MethodGet, e.portfolioURL(), e.accessToken, nil, nil), 60)
	// Deployments: 3 POSTs of publish-operations fill that endpoint; they
	// count toward the deployments pool, which takes 9 more reads, then no more.
	ops := e.base + deploymentBase + "/publish-operations"
	for range 3 {
		e.must(http.MethodPost, ops, e.accessToken, map[string]any{}, nil).expect(t, http.StatusBadRequest)
	}
	expectThrottled(t, "publish POST", e.must(http.MethodPost, ops, e.accessToken, map[string]any{}, nil), 60)
	for range 9 {
		e.must(http.MethodGet, ops, e.accessToken, nil, nil).expect(t, http.StatusOK)
	}
	expectThrottled(t, "deployments pool", e.must(http.MethodGet, ops, e.accessToken, nil, nil), 60)
	// The asset repository is a pool of its own still.
	e.must(http.MethodGet, e.base+assetRepoBase+"/assets", e.accessToken, nil, nil).expect(t, http.StatusOK)
}
