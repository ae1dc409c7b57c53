package sandbox

import (
	"net/http"
	"sync/atomic"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// Request counters per API family, and the admin endpoints that read and
// reset them.

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
	s.chaos.ResetStats()
}

// statsDocument is GET /_sandbox/stats: the request counters, and the
// limits in force (0: none).
type statsDocument struct {
	RequestStats
	RateLimit           int `json:"rateLimit"`
	DeploymentRateLimit int `json:"deploymentRateLimit"`
}

func (s *Sandbox) adminGetStats(w http.ResponseWriter, _ *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, statsDocument{RequestStats: s.RequestStats(), RateLimit: s.limits.perMinute, DeploymentRateLimit: s.limits.deployPerMinute})
}

func (s *Sandbox) adminResetStats(w http.ResponseWriter, _ *http.Request) {
	s.ResetStats()
	httpx.WriteJSON(w, http.StatusOK, statsDocument{RequestStats: s.RequestStats(), RateLimit: s.limits.perMinute, DeploymentRateLimit: s.limits.deployPerMinute})
}
