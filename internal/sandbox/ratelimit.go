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
// organization, a sliding window of one minute holds at most RateLimit
// calls to the ODC APIs (one counter for all of them), and the POSTs that
// build or deploy (deployments, builds, asset uploads) have a stricter limit
// of their own per endpoint, on top of that counter. A call over a limit is
// answered 429 with Retry-After (seconds until a slot frees, rounded up) and
// is not carried out; it does not take a slot. The code migration contract
// lives on the ODC portal, so its calls count in the ODC window. LifeTime and
// the assessment tool get the same RateLimit, one window each. The token
// endpoint is not limited.

// rateWindow is the length of the sliding window of the rate limits.
const rateWindow = time.Minute

// DefaultDeploymentRateLimit is Options.DeploymentRateLimit when it is 0
// and Options.RateLimit is not.
const DefaultDeploymentRateLimit = 10

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
	if !strings.HasPrefix(p, "/api/deployments/") && !strings.HasPrefix(p, "/api/builds/") && p != "/api/asset-repository/v1/assets" {
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
