package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limiter paces the requests of one rate-limit pool so that no window of
// Window holds more than N of them, the way OutSystems counts its
// per-minute limits, without bursts: requests go out at least Window/N
// apart, and a fresh limiter waits Window/N before its first request too.
// That way a process that starts right after another one using the same
// pool (terraform plan, then apply) cannot push a window over the limit:
// spaced that way, both together still send at most N per window. After a
// 429 the pool holds back (Hold). It is safe for concurrent use, and one
// Limiter is shared by every resource of a provider process.
type Limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time // when the next request may go out
}

// DefaultRateWindow is the window OutSystems counts its rate limits in.
const DefaultRateWindow = time.Minute

// paceMargin stretches the interval between requests a little, so that
// jitter on the way to the server cannot make two requests look closer
// than the limit allows.
const paceMargin = 50 // 1/50 = 2 %

// NewLimiter returns a limiter of perMinute requests per minute, or nil
// (no limit) when perMinute <= 0.
func NewLimiter(perMinute int) *Limiter {
	return newLimiter(perMinute, DefaultRateWindow)
}

func newLimiter(n int, window time.Duration) *Limiter {
	return newLimiterAt(n, window, time.Now())
}

func newLimiterAt(n int, window time.Duration, start time.Time) *Limiter {
	if n <= 0 {
		return nil
	}
	interval := window / time.Duration(n)
	interval += interval / paceMargin
	return &Limiter{interval: interval, next: start.Add(interval)}
}

// Wait blocks until the request may go out, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return nil
	}
	return sleep(ctx, time.Until(l.reserve(time.Now())))
}

func sleep(ctx context.Context, wait time.Duration) error {
	if wait <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// reserve books the earliest slot at or after now that keeps the spacing,
// and returns it.
func (l *Limiter) reserve(now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	at := now
	if l.next.After(at) {
		at = l.next
	}
	l.next = at.Add(l.interval)
	return at
}

// Hold keeps every request of the pool back until d from now (the server
// answered 429: its window is full, whoever filled it).
func (l *Limiter) Hold(d time.Duration) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := time.Now().Add(d); until.After(l.next) {
		l.next = until
	}
}

// pacer holds the rate-limit pools of one service: one per API domain (the
// first path segment after /api/ on ODC; the whole service elsewhere) and
// one per POST endpoint that has a limit of its own, which counts toward
// its domain's pool as well.
type pacer struct {
	perMinute, endpointPerMinute int
	window                       time.Duration
	odc                          bool // pools per ODC API domain and POST endpoint

	mu    sync.Mutex
	pools map[string]*Limiter
}

// ODC's smaller limits, per minute.
const (
	odcEnvironmentConfigPerMinute = 10
	odcUsersBulkPerMinute         = 5
)

func (p *pacer) pool(key string, perMinute int) *Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.pools[key]
	if !ok {
		l = newLimiter(perMinute, p.window)
		p.pools[key] = l
	}
	return l
}

// poolsOf lists the pools a request counts in.
func (p *pacer) poolsOf(req *http.Request) []*Limiter {
	var out []*Limiter
	if !p.odc {
		if l := p.pool("service", p.perMinute); l != nil {
			out = append(out, l)
		}
		return out
	}
	domain := odcDomain(req.URL.Path)
	if domain == "" {
		return nil // not an API call (OpenID discovery, tokens): not limited
	}
	limit := p.perMinute
	if domain == "environment-configurations" && limit > 0 {
		limit = min(limit, odcEnvironmentConfigPerMinute)
	}
	if l := p.pool("domain "+domain, limit); l != nil {
		out = append(out, l)
	}
	if req.Method == http.MethodPost {
		if endpoint, limit, ok := odcPostEndpoint(req.URL.Path, p.endpointPerMinute); ok {
			if l := p.pool("POST "+endpoint, limit); l != nil {
				out = append(out, l)
			}
		}
	}
	return out
}

// odcDomain is the ODC API domain of a path: the segment after /api/.
func odcDomain(path string) string {
	_, rest, ok := strings.Cut(path, "/api/")
	if !ok {
		return ""
	}
	domain, _, _ := strings.Cut(rest, "/")
	return domain
}

// odcPostEndpoint reports whether POSTs to path have a limit of their own
// (each POST endpoint of builds and deployments, POST /assets, POST
// /code-analyses, POST /users/bulk), that limit, and the endpoint with keys
// and numbers as {} so each endpoint has one pool.
func odcPostEndpoint(path string, perMinute int) (string, int, bool) {
	_, rest, ok := strings.Cut(strings.TrimSuffix(path, "/"), "/api/")
	if !ok || perMinute <= 0 {
		return "", 0, false
	}
	limit := perMinute
	switch {
	case strings.HasPrefix(rest, "deployments/"), strings.HasPrefix(rest, "builds/"), rest == "asset-repository/v1/assets",
		strings.HasPrefix(rest, "code-quality/") && strings.HasSuffix(rest, "/code-analyses"):
	case strings.HasPrefix(rest, "identity/") && strings.HasSuffix(rest, "/users/bulk"):
		limit = min(limit, odcUsersBulkPerMinute)
	default:
		return "", 0, false
	}
	parts := strings.Split(rest, "/")
	for i, part := range parts {
		if _, err := strconv.Atoi(part); err == nil || looksLikeKey(part) {
			parts[i] = "{}"
		}
	}
	return strings.Join(parts, "/"), limit, true
}

// looksLikeKey reports a GUID-shaped path segment.
func looksLikeKey(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4
}

// throttleHold is how long a pool holds back after a 429 without
// Retry-After: a real share of the window, with jitter so that concurrent
// callers spread out.
func throttleHold(window time.Duration) time.Duration {
	return jitter(window/4, window/2)
}

// jitter returns a random duration in [lo, hi).
func jitter(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return lo + time.Duration(binary.LittleEndian.Uint64(b[:])%uint64(hi-lo))
}

// reserveAll books the earliest slot at or after now that keeps the
// spacing of every pool, the same slot in each, and returns it. Pools are
// locked in the order poolsOf gives (domain before endpoint), so two
// requests cannot deadlock.
func reserveAll(pools []*Limiter, now time.Time) time.Time {
	at := now
	for _, l := range pools {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.next.After(at) {
			at = l.next
		}
	}
	for _, l := range pools {
		l.next = at.Add(l.interval)
	}
	return at
}

// pacedTransport waits for the pools a request counts in before every
// attempt (retries count against the limits too, as they do on the
// server), and makes them hold back after a 429.
type pacedTransport struct {
	next  http.RoundTripper
	pacer *pacer
	// maxRetryAfter caps a server's Retry-After hint.
	maxRetryAfter time.Duration
}

func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	pools := t.pacer.poolsOf(req)
	if len(pools) > 0 {
		if err := sleep(req.Context(), time.Until(reserveAll(pools, time.Now()))); err != nil {
			return nil, err
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		hold, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if ok {
			hold = min(hold, t.maxRetryAfter)
		} else {
			hold = t.pacer.window / 4
		}
		for _, l := range pools {
			l.Hold(hold)
		}
	}
	return resp, err
}

// IsAmbiguous reports whether a failed non-idempotent request may still have
// been carried out by the server: the answer was lost (a connection that
// broke after the request was sent), or the server failed (5xx, except 501)
// possibly after acting. A caller that cannot tell must look for the object
// before trying again.
func IsAmbiguous(err error) bool {
	if err == nil {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode >= 500 && apiErr.StatusCode != http.StatusNotImplemented
	}
	var tErr *TransportError
	if !errors.As(err, &tErr) {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true // the request may have gone out before the interrupt
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return false // never sent
	}
	return true
}

// odcServiceName names the ODC service; its requests are paced per API
// domain and POST endpoint.
const odcServiceName = "ODC"
