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

func TestLimiterKeepsEveryWindowUnderTheLimit(t *testing.T) {
	const n, window = 5, time.Minute
	l := newLimiter(n, window)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// 3n requests asked for at once, then a late one.
	var slots []time.Time
	for i := 0; i < 3*n; i++ {
		slots = append(slots, l.reserve(start.Add(time.Duration(i)*time.Millisecond)))
	}
	for i := 0; i < n; i++ {
		if !slots[i].Equal(start.Add(time.Duration(i) * time.Millisecond)) {
			t.Fatalf("request %d of the first burst was held until %v", i, slots[i])
		}
	}
	for i := 0; i+n < len(slots); i++ {
		if span := slots[i+n].Sub(slots[i]); span < window {
			t.Fatalf("requests %d..%d go out within %v; the limit is %d per %v", i, i+n, span, n, window)
		}
		if slots[i+n].Sub(slots[i]) != window {
			t.Fatalf("request %d waits longer than needed: %v after request %d", i+n, slots[i+n].Sub(slots[i]), i)
		}
	}
	// Once the window has passed, a request goes out at once.
	late := slots[len(slots)-1].Add(2 * window)
	if got := l.reserve(late); !got.Equal(late) {
		t.Fatalf("a request after a quiet window was held until %v", got)
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
	l := newLimiter(1, time.Hour)
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
	hc.Transport = &pacedTransport{next: http.DefaultTransport, limiter: newLimiter(100, time.Minute), deployments: newLimiter(2, 150*time.Millisecond)}
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
