package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Server-side rate limits, as ODC documents them for its REST APIs: per
// organization, each API domain (portfolios, asset repository, dependency
// management, builds, deployments, asset configurations, environment
// configurations, code quality, identity) has a sliding window of one minute
// holding at most RateLimit calls (environment configurations: at most
// DefaultEnvironmentConfigRateLimit), and some POST endpoints have a smaller
// limit of their own that counts toward the domain's pool too: each POST
// endpoint of builds and deployments, POST /assets and POST /code-analyses
// (DeploymentRateLimit), POST /users/bulk (at most
// DefaultUsersBulkRateLimit). A call over a limit is answered 429 and is not
// carried out; it does not take a slot. ODC documents no Retry-After, so the
// 429 carries none unless Options.RetryAfter asks for it (seconds until a
// slot frees, rounded up). The code migration contract lives on the ODC
// portal and has a pool of its own. LifeTime and the assessment tool get the
// same RateLimit, one window each. The token endpoint is not limited.

// rateWindow is the length of the sliding window of the rate limits.
const rateWindow = time.Minute

// DefaultDeploymentRateLimit is Options.DeploymentRateLimit when it is 0
// and Options.RateLimit is not.
const DefaultDeploymentRateLimit = 10

// DefaultEnvironmentConfigRateLimit caps the environment configurations
// pool and DefaultUsersBulkRateLimit the POST /users/bulk endpoint (ODC's
// figures); a smaller RateLimit or DeploymentRateLimit wins.
const (
	DefaultEnvironmentConfigRateLimit = 10
	DefaultUsersBulkRateLimit         = 5
)

// apiDomains are the ODC API domains with a rate-limit pool each, by the
// first segment after /api/.
var apiDomains = map[string]string{
	"portfolios":                 "Portfolio API",
	"asset-repository":           "Asset repository API",
	"dependency-management":      "Dependency management API",
	"builds":                     "Build operations API",
	"deployments":                "Deployments API",
	"asset-configurations":       "Asset configurations API",
	"environment-configurations": "Environment configurations API",
	"code-quality":               "Code quality API",
	"identity":                   "User and access management API",
	"migration-kit":              "code migration API",
}

// slidingWindow remembers when the last limit admitted requests went in.
type slidingWindow struct {
	times []time.Time // a ring, oldest at next once full
	next  int
}

// wait is how long until the window of length window has room at now (0:
// it has).
func (sw *slidingWindow) wait(now time.Time, limit int, window time.Duration) time.Duration {
	if len(sw.times) < limit {
		return 0
	}
	return max(0, sw.times[sw.next].Add(window).Sub(now))
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
	retryAfter                 bool // send Retry-After on a 429 (ODC documents none)
	window                     time.Duration
	now                        func() time.Time

	mu      sync.Mutex
	windows map[string]*slidingWindow
}

func newRateLimiter(perMinute, deployPerMinute int, retryAfter bool) (*rateLimiter, error) {
	if perMinute < 0 || deployPerMinute < 0 {
		return nil, fmt.Errorf("rate limits must not be negative (got %d and %d per minute)", perMinute, deployPerMinute)
	}
	if deployPerMinute == 0 && perMinute > 0 {
		deployPerMinute = DefaultDeploymentRateLimit
	}
	return &rateLimiter{perMinute: perMinute, deployPerMinute: deployPerMinute, retryAfter: retryAfter, window: rateWindow, now: time.Now, windows: map[string]*slidingWindow{}}, nil
}

// setWindow sets the window the limits count in (Options.RateWindow); 0
// keeps one minute.
func (l *rateLimiter) setWindow(d time.Duration) error {
	switch {
	case d < 0:
		return fmt.Errorf("the rate window must not be negative (got %s)", d)
	case d > 0:
		l.window = d
	}
	return nil
}

type windowLimit struct {
	key   string
	limit int
	what  string
}

// limitsOf lists the windows a request counts in.
func (l *rateLimiter) limitsOf(r *http.Request, call apiCall) []windowLimit {
	var out []windowLimit
	isODC := call.family == famODC || call.family == famCodeMigration
	if l.perMinute > 0 {
		switch {
		case call.family == famLifeTime:
			out = append(out, windowLimit{"lifetime", l.perMinute, "LifeTime API"})
		case call.family == famAssessment:
			out = append(out, windowLimit{"assessment", l.perMinute, "Migration Kit assessment API"})
		case isODC:
			domain, what := domainOf(r.URL.Path)
			limit := l.perMinute
			if domain == "environment-configurations" {
				limit = min(limit, DefaultEnvironmentConfigRateLimit)
			}
			out = append(out, windowLimit{"odc " + domain, limit, what + " of the organization"})
		}
	}
	if l.deployPerMinute > 0 && isODC && r.Method == http.MethodPost {
		if endpoint, limit, ok := postEndpoint(r.URL.Path, l.deployPerMinute); ok {
			out = append(out, windowLimit{"POST " + endpoint, limit, "POST " + endpoint})
		}
	}
	return out
}

// domainOf names the ODC API domain of path (its pool key and a name for
// messages).
func domainOf(path string) (string, string) {
	rest, _ := strings.CutPrefix(path, "/api/")
	seg, _, _ := strings.Cut(rest, "/")
	if what, ok := apiDomains[seg]; ok {
		return seg, what
	}
	return "other", "ODC APIs"
}

// postEndpoint reports whether POSTs to path have a limit of their own,
// that limit, and the endpoint they count against: the path with keys and
// numbers as {}, so each endpoint has its own window.
func postEndpoint(path string, deployPerMinute int) (string, int, bool) {
	p := strings.TrimSuffix(path, "/")
	limit := deployPerMinute
	switch {
	case strings.HasPrefix(p, "/api/deployments/"), strings.HasPrefix(p, "/api/builds/"),
		p == "/api/asset-repository/v1/assets", strings.HasPrefix(p, "/api/code-quality/") && strings.HasSuffix(p, "/code-analyses"):
	case strings.HasPrefix(p, "/api/identity/") && strings.HasSuffix(p, "/users/bulk"):
		limit = min(limit, DefaultUsersBulkRateLimit)
	default:
		return "", 0, false
	}
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if _, err := uuid.Parse(part); err == nil {
			parts[i] = "{}"
		} else if _, err := strconv.Atoi(part); err == nil {
			parts[i] = "{}"
		}
	}
	return strings.Join(parts, "/"), limit, true
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
		if d := sw.wait(now, lim.limit, l.window); d > 0 && d >= wait {
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
	if !l.retryAfter {
		call.writeError(w, r, http.StatusTooManyRequests, fmt.Sprintf(
			"Rate limit exceeded: at most %d requests per minute to the %s.", full.limit, full.what))
		return false
	}
	seconds := int64((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(seconds, 10))
	call.writeError(w, r, http.StatusTooManyRequests, fmt.Sprintf(
		"Rate limit exceeded: at most %d requests per minute to the %s. Try again in %d second(s).", full.limit, full.what, seconds))
	return false
}
