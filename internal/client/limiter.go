package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Limiter paces requests so that no sliding window of Window holds more
// than N of them: the way OutSystems counts its per-minute rate limits. A
// burst up to N goes out at once; past that, each request waits for the
// slot the oldest of the last N frees. It is safe for concurrent use, and
// one Limiter is shared by every resource of a provider process.
type Limiter struct {
	mu     sync.Mutex
	window time.Duration
	slots  []time.Time // when each of the last N requests went (or will go) out, as a ring
	next   int
}

// NewLimiter returns a limiter of perMinute requests per minute, or nil
// (no limit) when perMinute <= 0.
func NewLimiter(perMinute int) *Limiter {
	return newLimiter(perMinute, time.Minute)
}

func newLimiter(n int, window time.Duration) *Limiter {
	if n <= 0 {
		return nil
	}
	return &Limiter{window: window, slots: make([]time.Time, 0, n)}
}

// Wait blocks until the request may go out, or ctx ends.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return nil
	}
	wait := time.Until(l.reserve(time.Now()))
	if wait <= 0 {
		return nil
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

// reserve books the earliest slot at or after now that keeps every window
// within the limit, and returns it.
func (l *Limiter) reserve(now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.slots) < cap(l.slots) {
		l.slots = append(l.slots, now)
		return now
	}
	at := now
	if free := l.slots[l.next].Add(l.window); free.After(at) {
		at = free
	}
	l.slots[l.next] = at
	l.next = (l.next + 1) % len(l.slots)
	return at
}

// pacedTransport waits for the service's limiter, and for the stricter one
// of deployment POSTs when it applies, before every attempt of a request
// (retries count against the limit too, as they do on the server).
type pacedTransport struct {
	next        http.RoundTripper
	limiter     *Limiter
	deployments *Limiter
}

func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.limiter.Wait(req.Context()); err != nil {
		return nil, err
	}
	if req.Method == http.MethodPost && isDeploymentPath(req.URL.Path) {
		if err := t.deployments.Wait(req.Context()); err != nil {
			return nil, err
		}
	}
	return t.next.RoundTrip(req)
}

// isDeploymentPath reports the ODC endpoints whose POSTs have their own,
// stricter limit (10 per minute): builds, deployments and asset uploads.
func isDeploymentPath(p string) bool {
	return strings.Contains(p, "/api/deployments/") || strings.Contains(p, "/api/builds/") || strings.HasSuffix(p, "/api/asset-repository/v1/assets")
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
