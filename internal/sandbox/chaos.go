package sandbox

import (
	"bytes"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Chaos makes the OutSystems APIs of the sandbox misbehave the way real
// services and networks do, so the provider's retries, timeouts and
// idempotence can be tested: answers that fail (5xx) or throttle (429)
// without carrying the request out, added latency, connections dropped
// before the request is carried out, and connections dropped after it was
// carried out, when the answer is lost. It applies to the LifeTime, Migration
// Kit (assessment tool and code migrations) and ODC APIs, identity included;
// never to the sandbox's own admin surface under /_sandbox/.
//
// Every decision comes from one pseudo-random source seeded with
// ChaosOptions.Seed, drawn under a mutex: the same seed and the same
// sequence of requests, sent one after another, get the same decisions.
// Concurrent requests draw in the order the scheduler lets them in, so
// which of them gets which decision can differ from run to run.

// ChaosOptions configures chaos. The rates are fractions of the requests
// (0 to 1) and together must not exceed 1: each request draws one outcome.
type ChaosOptions struct {
	// ErrorRate is the fraction of requests answered 500, 502 or 503 (the
	// status drawn too), in the API's error shape, without being carried out.
	ErrorRate float64
	// ThrottleRate is the fraction of requests answered 429, without being
	// carried out. With Options.RetryAfter, the answers carry Retry-After:
	// successive throttled answers alternate between Retry-After in
	// delta-seconds (0 or 1) and as an HTTP date one second ahead.
	ThrottleRate float64
	// LatencyMin and LatencyMax bound a uniformly random delay added before
	// every request (LatencyMax 0 means LatencyMin exactly). The delay ends
	// early when the client goes away.
	LatencyMin, LatencyMax time.Duration
	// DropRate is the fraction of requests whose connection is closed
	// without an answer before the request is carried out.
	DropRate float64
	// DropAfterRate is the fraction of requests carried out whose connection
	// is then closed without sending the answer: the client cannot tell
	// whether the request took effect.
	DropAfterRate float64
	// Seed seeds the decisions; 0 picks a random seed, which ChaosSettings
	// and GET /_sandbox/chaos report so a run can be repeated.
	Seed int64
}

// Enabled reports whether the options make chaos do anything.
func (o ChaosOptions) Enabled() bool {
	return o.ErrorRate > 0 || o.ThrottleRate > 0 || o.DropRate > 0 || o.DropAfterRate > 0 || o.LatencyMin > 0 || o.LatencyMax > 0
}

// normalized checks the options and fills LatencyMax and Seed in.
func (o ChaosOptions) normalized() (ChaosOptions, error) {
	rates := []struct {
		name string
		v    float64
	}{{"error rate", o.ErrorRate}, {"throttle rate", o.ThrottleRate}, {"drop rate", o.DropRate}, {"drop-after rate", o.DropAfterRate}}
	sum := 0.0
	for _, r := range rates {
		if !(r.v >= 0 && r.v <= 1) { // also refuses NaN
			return o, fmt.Errorf("the chaos %s must be from 0 to 1 (got %v)", r.name, r.v)
		}
		sum += r.v
	}
	if sum > 1+1e-9 {
		return o, fmt.Errorf("the chaos error, throttle, drop and drop-after rates add up to %v: at most 1", sum)
	}
	if o.LatencyMin < 0 || o.LatencyMax < 0 {
		return o, fmt.Errorf("the chaos latency must not be negative (got %s-%s)", o.LatencyMin, o.LatencyMax)
	}
	if o.LatencyMax == 0 {
		o.LatencyMax = o.LatencyMin
	}
	if o.LatencyMax < o.LatencyMin {
		return o, fmt.Errorf("the chaos latency range %s-%s ends before it starts", o.LatencyMin, o.LatencyMax)
	}
	if o.Seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		o.Seed = int64(binary.LittleEndian.Uint64(b[:]) >> 1)
		if o.Seed == 0 {
			o.Seed = 1
		}
	}
	return o, nil
}

// ParseLatency reads a latency range such as "0-300ms", "100-250ms",
// "50ms-1s" or a fixed "200ms"; a bound without a unit takes the other
// bound's. "" and "0" mean no latency.
func ParseLatency(s string) (lo, hi time.Duration, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, 0, nil
	}
	loText, hiText, isRange := strings.Cut(s, "-")
	if !isRange {
		hiText = loText
	}
	loText, hiText = strings.TrimSpace(loText), strings.TrimSpace(hiText)
	parse := func(text, other string) (time.Duration, error) {
		d, err := time.ParseDuration(text)
		if err != nil {
			if _, numErr := strconv.ParseFloat(text, 64); numErr == nil {
				unit := strings.TrimLeft(other, "0123456789.")
				if unit != "" && unit != other {
					d, err = time.ParseDuration(text + unit)
				}
			}
		}
		return d, err
	}
	if lo, err = parse(loText, hiText); err == nil {
		hi, err = parse(hiText, loText)
	}
	switch {
	case err != nil:
		return 0, 0, fmt.Errorf("invalid latency %q: use a duration like 200ms or a range like 0-300ms", s)
	case lo < 0 || hi < lo:
		return 0, 0, fmt.Errorf("invalid latency %q: the range must go from a duration to a longer one", s)
	}
	return lo, hi, nil
}

// ChaosStats counts what chaos did since the sandbox started (or the
// counters were reset). Requests counts the API requests chaos looked at
// while enabled.
type ChaosStats struct {
	Requests     int64 `json:"requests"`
	Errors       int64 `json:"errors"`
	Throttled    int64 `json:"throttled"`
	Dropped      int64 `json:"dropped"`
	DroppedAfter int64 `json:"droppedAfter"`
}

// What chaos does to one request.
const (
	chaosPass = iota
	chaosError
	chaosThrottle
	chaosDrop
	chaosDropAfter
)

type chaosDecision struct {
	delay  time.Duration
	action int
	status int    // chaosError
	delta  string // chaosThrottle: Retry-After in seconds, "" for the date form
}

// chaosEngine holds the chaos settings, the random source and the counters.
type chaosEngine struct {
	enabled atomic.Bool // fast path: nothing to do
	// retryAfter sends Retry-After on throttled answers (Options.RetryAfter).
	retryAfter bool

	mu        sync.Mutex
	opts      ChaosOptions
	rng       *rand.Rand
	throttles int64 // throttled answers so far, to alternate Retry-After forms

	requests, errors, throttled, dropped, droppedAfter atomic.Int64
}

func newChaosEngine(o ChaosOptions) (*chaosEngine, error) {
	c := &chaosEngine{}
	return c, c.set(o)
}

// set replaces the settings and reseeds the random source.
func (c *chaosEngine) set(o ChaosOptions) error {
	o, err := o.normalized()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opts = o
	c.rng = rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed_c4a0_5eed_c4a0))
	c.throttles = 0
	c.enabled.Store(o.Enabled())
	return nil
}

func (c *chaosEngine) settings() ChaosOptions {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opts
}

func (c *chaosEngine) stats() ChaosStats {
	return ChaosStats{Requests: c.requests.Load(), Errors: c.errors.Load(), Throttled: c.throttled.Load(),
		Dropped: c.dropped.Load(), DroppedAfter: c.droppedAfter.Load()}
}

func (c *chaosEngine) resetStats() {
	for _, n := range []*atomic.Int64{&c.requests, &c.errors, &c.throttled, &c.dropped, &c.droppedAfter} {
		n.Store(0)
	}
}

// decide draws the fate of one request: a delay (when a latency is set),
// then one outcome (when a rate is set), then its details.
func (c *chaosEngine) decide() chaosDecision {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.opts
	var d chaosDecision
	if o.LatencyMax > 0 {
		d.delay = o.LatencyMin
		if span := o.LatencyMax - o.LatencyMin; span > 0 {
			d.delay += time.Duration(c.rng.Int64N(int64(span) + 1))
		}
	}
	if o.ErrorRate+o.ThrottleRate+o.DropRate+o.DropAfterRate == 0 {
		return d
	}
	x := c.rng.Float64()
	switch {
	case x < o.DropRate:
		d.action = chaosDrop
	case x < o.DropRate+o.ErrorRate:
		d.action = chaosError
		d.status = []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[c.rng.IntN(3)]
	case x < o.DropRate+o.ErrorRate+o.ThrottleRate:
		d.action = chaosThrottle
		if c.throttles%2 == 0 {
			d.delta = strconv.Itoa(c.rng.IntN(2))
		}
		c.throttles++
	case x < o.DropRate+o.ErrorRate+o.ThrottleRate+o.DropAfterRate:
		d.action = chaosDropAfter
	}
	return d
}

// serve applies chaos to one API request; next carries it out.
func (c *chaosEngine) serve(w http.ResponseWriter, r *http.Request, call apiCall, next http.Handler) {
	if !c.enabled.Load() {
		next.ServeHTTP(w, r)
		return
	}
	c.requests.Add(1)
	d := c.decide()
	if d.delay > 0 {
		// The server notices a client leaving only once the body is read:
		// read it first (the handlers take at most maxBodyBytes anyway).
		if r.Body != nil && r.Body != http.NoBody {
			data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(data), errReader{err}, r.Body), r.Body}
		}
		t := time.NewTimer(d.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			if n, ok := w.(dropNoter); ok {
				n.noteDropped(0)
			}
			return // the client went away: nobody reads an answer
		}
	}
	switch d.action {
	case chaosDrop:
		c.dropped.Add(1)
		dropConnection(w, 0)
	case chaosError:
		c.errors.Add(1)
		call.writeError(w, r, d.status, fmt.Sprintf("The service failed to handle the request (sandbox chaos: %d %s); the request was not carried out.",
			d.status, http.StatusText(d.status)))
	case chaosThrottle:
		c.throttled.Add(1)
		if !c.retryAfter {
			call.writeError(w, r, http.StatusTooManyRequests, "Too many requests (sandbox chaos): try again later; the request was not carried out.")
			break
		}
		retryAfter := d.delta
		if retryAfter == "" {
			retryAfter = time.Now().Add(time.Second).UTC().Format(http.TimeFormat)
		}
		w.Header().Set("Retry-After", retryAfter)
		call.writeError(w, r, http.StatusTooManyRequests, "Too many requests (sandbox chaos): try again after the time Retry-After gives; the request was not carried out.")
	case chaosDropAfter:
		c.droppedAfter.Add(1)
		rec := &lostAnswer{header: http.Header{}}
		next.ServeHTTP(rec, r)
		dropConnection(w, rec.statusOrOK())
	default:
		next.ServeHTTP(w, r)
	}
}

// errReader fails with err, or reads nothing when err is nil.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}

// dropNoter is the request logger's response writer: it notes a dropped
// connection, with the status of the lost answer (0: none was made).
type dropNoter interface{ noteDropped(status int) }

// dropConnection closes the client's connection without an answer. Where
// the connection cannot be taken over (HTTP/2, test recorders) it aborts the
// handler, which the server turns into a reset stream or closed connection.
func dropConnection(w http.ResponseWriter, lostStatus int) {
	if n, ok := w.(dropNoter); ok {
		n.noteDropped(lostStatus)
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// lostAnswer records the answer a handler makes, which chaos then drops.
type lostAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *lostAnswer) Header() http.Header { return a.header }

func (a *lostAnswer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *lostAnswer) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.body.Write(b)
}

func (a *lostAnswer) statusOrOK() int {
	if a.status == 0 {
		return http.StatusOK
	}
	return a.status
}

// --- Go API ---

// SetChaos replaces the chaos settings at run time and reseeds the decisions
// with opts.Seed (0: a random seed). It refuses invalid settings, changing
// nothing. The counters keep counting.
func (s *Sandbox) SetChaos(opts ChaosOptions) error {
	return s.chaos.set(opts)
}

// ChaosSettings returns the chaos settings in force, with the seed used.
func (s *Sandbox) ChaosSettings() ChaosOptions { return s.chaos.settings() }

// ChaosStats returns what chaos did so far.
func (s *Sandbox) ChaosStats() ChaosStats { return s.chaos.stats() }

// --- admin: GET and PUT /_sandbox/chaos ---

// chaosDocument is the admin surface's view of chaos: the settings, with
// latencies as Go durations ("300ms"), and what chaos did (read only).
type chaosDocument struct {
	ErrorRate     float64     `json:"errorRate"`
	ThrottleRate  float64     `json:"throttleRate"`
	LatencyMin    string      `json:"latencyMin"`
	LatencyMax    string      `json:"latencyMax"`
	DropRate      float64     `json:"dropRate"`
	DropAfterRate float64     `json:"dropAfterRate"`
	Seed          int64       `json:"seed"`
	Stats         *ChaosStats `json:"stats,omitempty"`
}

func (s *Sandbox) chaosDocument() chaosDocument {
	o, st := s.chaos.settings(), s.chaos.stats()
	return chaosDocument{ErrorRate: o.ErrorRate, ThrottleRate: o.ThrottleRate, LatencyMin: o.LatencyMin.String(), LatencyMax: o.LatencyMax.String(),
		DropRate: o.DropRate, DropAfterRate: o.DropAfterRate, Seed: o.Seed, Stats: &st}
}

func (s *Sandbox) adminGetChaos(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.chaosDocument())
}

// adminPutChaos replaces the chaos settings: members left out are 0 (no
// chaos of that kind); "stats" is ignored, so a GET answer can be sent back.
func (s *Sandbox) adminPutChaos(w http.ResponseWriter, r *http.Request) {
	const usage = `send a JSON body like {"errorRate": 0.1, "throttleRate": 0.05, "latencyMin": "0s", "latencyMax": "300ms", "dropRate": 0, "dropAfterRate": 0.05, "seed": 42}`
	var doc chaosDocument
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(&doc)
	if err == nil {
		err = jsonEnd(dec)
	}
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("%s: %v", usage, err))
		return
	}
	opts := ChaosOptions{ErrorRate: doc.ErrorRate, ThrottleRate: doc.ThrottleRate, DropRate: doc.DropRate, DropAfterRate: doc.DropAfterRate, Seed: doc.Seed}
	for _, l := range []struct {
		text string
		dst  *time.Duration
	}{{doc.LatencyMin, &opts.LatencyMin}, {doc.LatencyMax, &opts.LatencyMax}} {
		if l.text == "" {
			continue
		}
		d, err := time.ParseDuration(l.text)
		if err != nil {
			writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("latencyMin and latencyMax are durations like \"300ms\", not %q", l.text))
			return
		}
		*l.dst = d
	}
	if err := s.SetChaos(opts); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, s.chaosDocument())
}
