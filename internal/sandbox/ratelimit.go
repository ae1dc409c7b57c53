package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Server-side rate limits, as ODC documents them for its REST APIs: per
// organization, a sliding window of one minute holds at most RateLimit
// calls to the ODC APIs (one counter for all of them), and the POSTs that
// build or deploy (deployments, builds, asset uploads) have a stricter limit
// of their own per endpoint, on top of that counter. A call over a limit is
// answered 429 with Retry-After (seconds until a slot frees, rounded up) and
// is not carried out; it does not take a slot. The code migration contract
// lives on the ODC portal, so its calls count in the ODC window. LifeTime and
// the assessment tool get the same RateLimit, one window each. The token
// endpoint is not limited.
//
// This file also holds the middleware that sorts requests into API families
// for chaos and the limits, and the per-family request counters.

// API families, the keys of RequestStats.ByFamily.
const (
	FamilyLifeTime      = "lifetime"
	FamilyAssessment    = "assessment"
	FamilyODC           = "odc"
	FamilyCodeMigration = "codeMigration"
	FamilyIdentity      = "identity"
)

// rateWindow is the length of the sliding window of the rate limits.
const rateWindow = time.Minute

// DefaultDeploymentRateLimit is Options.DeploymentRateLimit when it is 0
// and Options.RateLimit is not.
const DefaultDeploymentRateLimit = 10

// maCodeTooManyRequests is the Migration Kit contract's error code for 429
// answers (the contract documents 429 without naming a code).
const maCodeTooManyRequests = "TOO_MANY_REQUESTS"

func init() {
	maProblemTitles[maCodeTooManyRequests] = "Too many requests"
	odcProblemTypes[http.StatusBadGateway] = "https://tools.ietf.org/html/rfc9110#section-15.6.3"
	odcProblemTypes[http.StatusServiceUnavailable] = "https://tools.ietf.org/html/rfc9110#section-15.6.4"
}

type family int

const (
	famNone family = iota
	famLifeTime
	famAssessment
	famODC
	famCodeMigration
	famIdentity
	famCount
)

var familyNames = [famCount]string{
	famLifeTime: FamilyLifeTime, famAssessment: FamilyAssessment, famODC: FamilyODC,
	famCodeMigration: FamilyCodeMigration, famIdentity: FamilyIdentity,
}

// apiCall is what the middleware knows of a request to an OutSystems API.
type apiCall struct {
	family family
	token  bool // the token endpoint
}

// classifyAPICall sorts a request path into its API family; famNone for
// the admin surface and paths no API serves.
func classifyAPICall(path string) apiCall {
	switch {
	case strings.HasPrefix(path, "/lifetimeapi/"):
		return apiCall{family: famLifeTime}
	case strings.HasPrefix(path, "/MigrationAssessment/"), strings.HasPrefix(path, "/ConversionAssessment/"):
		return apiCall{family: famAssessment}
	case strings.HasPrefix(path, codeMigrationBase+"/"):
		return apiCall{family: famCodeMigration}
	case strings.HasPrefix(path, "/api/"):
		return apiCall{family: famODC}
	case strings.HasPrefix(path, "/identity/"):
		p := strings.TrimSuffix(path, "/")
		return apiCall{family: famIdentity, token: strings.HasPrefix(p, "/identity/realms/") && strings.HasSuffix(p, "/protocol/openid-connect/token")}
	}
	return apiCall{family: famNone}
}

// writeError answers an error in the API's own shape.
func (c apiCall) writeError(w http.ResponseWriter, r *http.Request, status int, detail string) {
	switch c.family {
	case famLifeTime:
		writeLTError(w, status, detail)
	case famAssessment, famCodeMigration:
		code := maCodeInternal
		if status == http.StatusTooManyRequests {
			code = maCodeTooManyRequests
		}
		maWriteProblem(w, r, &maProblem{status: status, code: code, detail: detail})
	case famIdentity:
		code := "server_error"
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			code = "temporarily_unavailable"
		}
		writeOAuth(w, status, code, detail)
	default:
		writeODCError(w, status, detail)
	}
}

// --- the middleware ---

// apiMiddleware counts, applies chaos to and rate-limits the OutSystems API
// requests; the admin surface and unknown paths go straight to next.
func (s *Sandbox) apiMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := classifyAPICall(r.URL.Path)
		if call.family == famNone {
			next.ServeHTTP(w, r)
			return
		}
		s.requests.count(call)
		s.chaos.serve(w, r, call, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ok := s.limits.admit(w, r, call, s.requests); !ok {
				return
			}
			if call.token {
				w = &tokenCapture{ResponseWriter: w, tokens: s.tokens}
			}
			next.ServeHTTP(w, r)
		}))
	})
}

// --- request counters ---

// FamilyStats counts the requests of one API family: all that arrived
// (throttled ones and those chaos failed included) and those the rate
// limiter answered 429.
type FamilyStats struct {
	Requests  int64 `json:"requests"`
	Throttled int64 `json:"throttled"`
}

// RequestStats counts requests per API family (FamilyLifeTime, ...) and,
// apart, requests to the ODC token endpoint (also in FamilyIdentity).
type RequestStats struct {
	ByFamily map[string]FamilyStats `json:"byFamily"`
	Tokens   int64                  `json:"tokens"`
}

type requestCounters struct {
	requests, throttled [famCount]atomic.Int64
	tokens              atomic.Int64
}

func (c *requestCounters) count(call apiCall) {
	c.requests[call.family].Add(1)
	if call.token {
		c.tokens.Add(1)
	}
}

func (c *requestCounters) snapshot() RequestStats {
	st := RequestStats{ByFamily: make(map[string]FamilyStats, famCount-1), Tokens: c.tokens.Load()}
	for f := famNone + 1; f < famCount; f++ {
		st.ByFamily[familyNames[f]] = FamilyStats{Requests: c.requests[f].Load(), Throttled: c.throttled[f].Load()}
	}
	return st
}

func (c *requestCounters) reset() {
	for f := range famCount {
		c.requests[f].Store(0)
		c.throttled[f].Store(0)
	}
	c.tokens.Store(0)
}

// RateLimits returns the limits in force, 0 meaning none: requests per
// minute per API family, and POSTs per minute per ODC deployment endpoint.
func (s *Sandbox) RateLimits() (perMinute, deploymentPerMinute int) {
	return s.limits.perMinute, s.limits.deployPerMinute
}

// RequestStats returns the request counters.
func (s *Sandbox) RequestStats() RequestStats { return s.requests.snapshot() }

// ResetStats sets the request and chaos counters to zero. The rate limit
// windows are left as they are.
func (s *Sandbox) ResetStats() {
	s.requests.reset()
	s.chaos.resetStats()
}

// statsDocument is GET /_sandbox/stats: the request counters, and the
// limits in force (0: none).
type statsDocument struct {
	RequestStats
	RateLimit           int `json:"rateLimit"`
	DeploymentRateLimit int `json:"deploymentRateLimit"`
}

func (s *Sandbox) adminGetStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, statsDocument{RequestStats: s.RequestStats(), RateLimit: s.limits.perMinute, DeploymentRateLimit: s.limits.deployPerMinute})
}

func (s *Sandbox) adminResetStats(w http.ResponseWriter, _ *http.Request) {
	s.ResetStats()
	writeJSON(w, http.StatusOK, statsDocument{RequestStats: s.RequestStats(), RateLimit: s.limits.perMinute, DeploymentRateLimit: s.limits.deployPerMinute})
}

// --- rate limits ---

// slidingWindow remembers when the last limit admitted requests went in.
type slidingWindow struct {
	times []time.Time // a ring, oldest at next once full
	next  int
}

// wait is how long until the window has room at now (0: it has).
func (sw *slidingWindow) wait(now time.Time, limit int) time.Duration {
	if len(sw.times) < limit {
		return 0
	}
	return max(0, sw.times[sw.next].Add(rateWindow).Sub(now))
}

func (sw *slidingWindow) add(now time.Time, limit int) {
	if len(sw.times) < limit {
		sw.times = append(sw.times, now)
		return
	}
	sw.times[sw.next] = now
	sw.next = (sw.next + 1) % limit
}

// rateLimiter enforces the limits; nil windows mean no limit.
type rateLimiter struct {
	perMinute, deployPerMinute int
	now                        func() time.Time

	mu      sync.Mutex
	windows map[string]*slidingWindow
}

func newRateLimiter(perMinute, deployPerMinute int) (*rateLimiter, error) {
	if perMinute < 0 || deployPerMinute < 0 {
		return nil, fmt.Errorf("rate limits must not be negative (got %d and %d per minute)", perMinute, deployPerMinute)
	}
	if deployPerMinute == 0 && perMinute > 0 {
		deployPerMinute = DefaultDeploymentRateLimit
	}
	return &rateLimiter{perMinute: perMinute, deployPerMinute: deployPerMinute, now: time.Now, windows: map[string]*slidingWindow{}}, nil
}

type windowLimit struct {
	key   string
	limit int
	what  string
}

// limitsOf lists the windows a request counts in.
func (l *rateLimiter) limitsOf(r *http.Request, call apiCall) []windowLimit {
	var out []windowLimit
	if l.perMinute > 0 {
		switch call.family {
		case famLifeTime:
			out = append(out, windowLimit{"lifetime", l.perMinute, "LifeTime API"})
		case famAssessment:
			out = append(out, windowLimit{"assessment", l.perMinute, "Migration Kit assessment API"})
		case famODC, famCodeMigration:
			out = append(out, windowLimit{"odc", l.perMinute, "ODC APIs of the organization"})
		}
	}
	if l.deployPerMinute > 0 && (call.family == famODC || call.family == famCodeMigration) && r.Method == http.MethodPost {
		if endpoint, ok := deploymentEndpoint(r.URL.Path); ok {
			out = append(out, windowLimit{"POST " + endpoint, l.deployPerMinute, "POST " + endpoint})
		}
	}
	return out
}

// deploymentEndpoint reports whether POSTs to path have the stricter
// deployment limit, and the endpoint they count against: the path with
// keys and numbers as {}, so each endpoint has its own window.
func deploymentEndpoint(path string) (string, bool) {
	p := strings.TrimSuffix(path, "/")
	if !strings.HasPrefix(p, "/api/deployments/") && !strings.HasPrefix(p, "/api/builds/") && p != assetRepoBase+"/assets" {
		return "", false
	}
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if _, err := uuid.Parse(part); err == nil {
			parts[i] = "{}"
		} else if _, err := strconv.Atoi(part); err == nil {
			parts[i] = "{}"
		}
	}
	return strings.Join(parts, "/"), true
}

// admit counts the request in its windows, or answers 429 when one of them
// is full; it reports whether the request may go on.
func (l *rateLimiter) admit(w http.ResponseWriter, r *http.Request, call apiCall, counters *requestCounters) bool {
	if l.perMinute == 0 && l.deployPerMinute == 0 {
		return true
	}
	limits := l.limitsOf(r, call)
	if len(limits) == 0 {
		return true
	}
	l.mu.Lock()
	now := l.now()
	var wait time.Duration
	var full *windowLimit
	for i, lim := range limits {
		sw := l.windows[lim.key]
		if sw == nil {
			sw = &slidingWindow{}
			l.windows[lim.key] = sw
		}
		if d := sw.wait(now, lim.limit); d > 0 && d >= wait {
			wait, full = d, &limits[i]
		}
	}
	if full == nil {
		for _, lim := range limits {
			l.windows[lim.key].add(now, lim.limit)
		}
	}
	l.mu.Unlock()
	if full == nil {
		return true
	}
	counters.throttled[call.family].Add(1)
	seconds := int64((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(seconds, 10))
	call.writeError(w, r, http.StatusTooManyRequests, fmt.Sprintf(
		"Rate limit exceeded: at most %d requests per minute to the %s. Try again in %d second(s).", full.limit, full.what, seconds))
	return false
}

// --- issued access tokens ---

// maxRememberedTokens bounds the access tokens IssuedAccessTokens returns:
// the latest ones.
const maxRememberedTokens = 10000

// issuedTokens remembers the access tokens the token endpoint issued; the
// store keeps only their hashes.
type issuedTokens struct {
	mu     sync.Mutex
	tokens []string
}

func (t *issuedTokens) add(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.tokens) == maxRememberedTokens {
		t.tokens = append(t.tokens[:0], t.tokens[1:]...)
	}
	t.tokens = append(t.tokens, token)
}

func (t *issuedTokens) list() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.tokens...)
}

// IssuedAccessTokens returns the ODC access tokens the sandbox issued (the
// last 10000), oldest first, answers lost to chaos included: tests look
// for them where they must not be, such as logs.
func (s *Sandbox) IssuedAccessTokens() []string { return s.tokens.list() }

// tokenCapture passes a token endpoint answer through and remembers the
// access token of a successful one.
type tokenCapture struct {
	http.ResponseWriter
	tokens *issuedTokens
	status int
	body   bytes.Buffer
}

func (c *tokenCapture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *tokenCapture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.status == http.StatusOK && c.body.Len() < maxBodyBytes {
		c.body.Write(b)
		var resp odcTokenResponse
		if json.Unmarshal(c.body.Bytes(), &resp) == nil && resp.AccessToken != "" {
			c.tokens.add(resp.AccessToken)
			c.body.Reset()
			c.status = -1 // one token per answer
		}
	}
	return c.ResponseWriter.Write(b)
}

func (c *tokenCapture) Unwrap() http.ResponseWriter { return c.ResponseWriter }
