package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestLimiterKeepsEveryWindowUnderTheLimitWithoutBurst(t *testing.T) {
	const n, window = 5, time.Minute
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiterAt(n, window, start)
	// 3n requests asked for at once, then a late one.
	var slots []time.Time
	for i := 0; i < 3*n; i++ {
		slots = append(slots, l.reserve(start.Add(time.Duration(i)*time.Millisecond)))
	}
	// No burst: even the first request of a fresh limiter waits its share
	// of the window, and every next one as much again.
	if !slots[0].After(start) {
		t.Fatalf("the first request of a fresh limiter went out at once (%v)", slots[0])
	}
	for i := 1; i < len(slots); i++ {
		if gap := slots[i].Sub(slots[i-1]); gap < window/n {
			t.Fatalf("requests %d and %d go out %v apart; want at least %v", i-1, i, gap, window/n)
		}
	}
	for i := 0; i+n < len(slots); i++ {
		if span := slots[i+n].Sub(slots[i]); span < window {
			t.Fatalf("requests %d..%d go out within %v; the limit is %d per %v", i, i+n, span, n, window)
		}
	}
	// Once the window has passed, a request goes out at once.
	late := slots[len(slots)-1].Add(2 * window)
	if got := l.reserve(late); !got.Equal(late) {
		t.Fatalf("a request after a quiet window was held until %v", got)
	}
	// After a 429 the pool holds back.
	l.Hold(time.Hour)
	if got := l.reserve(time.Now()); time.Until(got) < 59*time.Minute {
		t.Fatalf("a request after Hold(1h) goes out at %v", got)
	}
}

func TestLimiterWaitSleepsUntilItsSlot(t *testing.T) {
	l := newLimiter(1, 80*time.Millisecond)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 60*time.Millisecond {
		t.Fatalf("the second request of a 1-per-80ms limiter went out after %v", waited)
	}
}

func TestLimiterHonoursContext(t *testing.T) {
	l := newLimiterAt(1, time.Hour, time.Now().Add(-2*time.Hour)) // its first slot is free
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	var nilLimiter *Limiter
	if err := nilLimiter.Wait(context.Background()); err != nil || NewLimiter(0) != nil {
		t.Fatal("a zero limit must not limit")
	}
}

func TestServiceIsPacedAndDeploymentPostsMore(t *testing.T) {
	var mu sync.Mutex
	var posts []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			mu.Lock()
			posts = append(posts, time.Now())
			mu.Unlock()
		}
		_, _ = io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	s, err := newService("test", Config{BaseURL: srv.URL, MaxRetries: 0}, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Replace the pacing with short windows to observe it.
	hc := *s.http.HTTPClient
	hc.Transport = &pacedTransport{next: http.DefaultTransport, maxRetryAfter: time.Second,
		pacer: &pacer{perMinute: 100, endpointPerMinute: 2, window: 150 * time.Millisecond, odc: true, pools: map[string]*Limiter{}}}
	s.http.HTTPClient = &hc
	for i := 0; i < 4; i++ {
		if _, err := s.do(context.Background(), request{method: http.MethodPost, path: "/api/deployments/v1/publish-operations", body: map[string]int{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(posts) != 4 || posts[2].Sub(posts[0]) < 140*time.Millisecond {
		t.Fatalf("deployment POSTs not paced: %v", posts)
	}
}

func TestIsAmbiguous(t *testing.T) {
	dial := &TransportError{Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}
	read := &TransportError{Err: &net.OpError{Op: "read", Err: errors.New("reset")}}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&APIError{StatusCode: 500}, true},
		{&APIError{StatusCode: 503}, true},
		{&APIError{StatusCode: 501}, false},
		{&APIError{StatusCode: 409}, false},
		{dial, false},
		{read, true},
		{&TransportError{Err: context.DeadlineExceeded}, true},
		{fmt.Errorf("wrapped: %w", &APIError{StatusCode: 502}), true},
		{errors.New("other"), false},
	} {
		if got := IsAmbiguous(tc.err); got != tc.want {
			t.Errorf("IsAmbiguous(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
