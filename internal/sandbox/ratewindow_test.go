package sandbox

import (
	"net/http"
	"testing"
	"time"
)

// Options.RateWindow shortens the window the limits count in: the
// environment configurations' pool of 10 fills within the window and
// frees once the window has passed the first call.
func TestRateWindowOption(t *testing.T) {
	if _, err := New(Options{RateWindow: -time.Second}); err == nil {
		t.Fatal("a negative rate window was accepted")
	}
	clock := newFakeClock()
	e := startLimited(t, Options{RateLimit: 100, RateWindow: 2 * time.Second}, clock)
	stage := e.sb.Fixture().ODC.Stages[0].Key
	domains := e.base + "/api/environment-configurations/v1/environments/" + stage + "/domains"
	for i := range 10 {
		if r := e.must(http.MethodGet, domains, e.accessToken, nil, nil); r.status != http.StatusOK {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
	}
	checkErrorShape(t, "odc", e.must(http.MethodGet, domains, e.accessToken, nil, nil), http.StatusTooManyRequests)
	clock.Advance(1900 * time.Millisecond)
	checkErrorShape(t, "odc", e.must(http.MethodGet, domains, e.accessToken, nil, nil), http.StatusTooManyRequests)
	clock.Advance(200 * time.Millisecond)
	e.must(http.MethodGet, domains, e.accessToken, nil, nil).expect(t, http.StatusOK)
}
