// Package chaos makes the sandbox's OutSystems APIs misbehave: the
// options, the seeded decisions and the middleware step the kernel runs
// for each API request.
package chaos

import (
	"bytes"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
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
// Options.Seed, drawn under a mutex: the same seed and the same
// sequence of requests, sent one after another, get the same decisions.
// Concurrent requests draw in the order the scheduler lets them in, so
// which of them gets which decision can differ from run to run.

// WriteError answers an error in the shape of the API the request is for.
type WriteError func(w http.ResponseWriter, r *http.Request, status int, detail string)

// Options configures chaos. The rates are fractions of the requests
// (0 to 1) and together must not exceed 1: each request draws one outcome.
type Options struct {
	// ErrorRate is the fraction of requests answered 500, 502 or 503 (the
	// status drawn too), in the API's error shape, without being carried out.
	ErrorRate float64
	// ThrottleRate is the fraction of requests answered 429, without being
	// carried out. With Engine.RetryAfter the answers carry Retry-After:
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
func (o Options) Enabled() bool {
	return o.ErrorRate > 0 || o.ThrottleRate > 0 || o.DropRate > 0 || o.DropAfterRate > 0 || o.LatencyMin > 0 || o.LatencyMax > 0
}

// normalized checks the options and fills LatencyMax and Seed in.
func (o Options) normalized() (Options, error) {
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

// Stats counts what chaos did since the sandbox started (or the
// counters were reset). Requests counts the API requests chaos looked at
// while enabled.
type Stats struct {
	Requests     int64 `json:"requests"`
	Errors       int64 `json:"errors"`
	Throttled    int64 `json:"throttled"`
	Dropped      int64 `json:"dropped"`
	DroppedAfter int64 `json:"droppedAfter"`
}

// What chaos does to one request (Decision.Action).
const (
	Pass = iota
	Error
	Throttle
	Drop
	DropAfter
)

// Decision is what chaos does to one request.
type Decision struct {
	Delay  time.Duration
	Action int    // Pass, Error, Throttle, Drop or DropAfter
	Status int    // Error
	Delta  string // Throttle: Retry-After in seconds, "" for the date form
}

// Engine holds the chaos settings, the random source and the counters.
type Engine struct {
	enabled atomic.Bool // fast path: nothing to do
	// RetryAfter sends Retry-After on throttled answers (the sandbox's
	// Options.RetryAfter); ODC documents none, so by default there is none.
	// Set it before serving.
	RetryAfter bool

	mu        sync.Mutex
	opts      Options
	rng       *rand.Rand
	throttles int64 // throttled answers so far, to alternate Retry-After forms

	requests, errors, throttled, dropped, droppedAfter atomic.Int64
}

// New returns an engine with the options (see Engine.Set).
func New(o Options) (*Engine, error) {
	c := &Engine{}
	return c, c.Set(o)
}

// Set replaces the settings and reseeds the random source.
func (c *Engine) Set(o Options) error {
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

// Settings returns the settings in force, with the seed used.
func (c *Engine) Settings() Options {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opts
}

// Stats returns what chaos did so far.
func (c *Engine) Stats() Stats {
	return Stats{Requests: c.requests.Load(), Errors: c.errors.Load(), Throttled: c.throttled.Load(),
		Dropped: c.dropped.Load(), DroppedAfter: c.droppedAfter.Load()}
}

// ResetStats sets the counters to zero.
func (c *Engine) ResetStats() {
	for _, n := range []*atomic.Int64{&c.requests, &c.errors, &c.throttled, &c.dropped, &c.droppedAfter} {
		n.Store(0)
	}
}

// Decide draws the fate of one request: a delay (when a latency is set),
// then one outcome (when a rate is set), then its details.
func (c *Engine) Decide() Decision {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.opts
	var d Decision
	if o.LatencyMax > 0 {
		d.Delay = o.LatencyMin
		if span := o.LatencyMax - o.LatencyMin; span > 0 {
			d.Delay += time.Duration(c.rng.Int64N(int64(span) + 1))
		}
	}
	if o.ErrorRate+o.ThrottleRate+o.DropRate+o.DropAfterRate == 0 {
		return d
	}
	x := c.rng.Float64()
	switch {
	case x < o.DropRate:
		d.Action = Drop
	case x < o.DropRate+o.ErrorRate:
		d.Action = Error
		d.Status = []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[c.rng.IntN(3)]
	case x < o.DropRate+o.ErrorRate+o.ThrottleRate:
		d.Action = Throttle
		if c.throttles%2 == 0 {
			d.Delta = strconv.Itoa(c.rng.IntN(2))
		}
		c.throttles++
	case x < o.DropRate+o.ErrorRate+o.ThrottleRate+o.DropAfterRate:
		d.Action = DropAfter
	}
	return d
}

// Serve applies chaos to one API request; next carries it out.
func (c *Engine) Serve(w http.ResponseWriter, r *http.Request, writeError WriteError, next http.Handler) {
	if !c.enabled.Load() {
		next.ServeHTTP(w, r)
		return
	}
	c.requests.Add(1)
	d := c.Decide()
	if d.Delay > 0 {
		// The server notices a client leaving only once the body is read:
		// read it first (the handlers take at most httpx.MaxBodyBytes anyway).
		if r.Body != nil && r.Body != http.NoBody {
			data, err := io.ReadAll(io.LimitReader(r.Body, httpx.MaxBodyBytes+1))
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(data), errReader{err}, r.Body), r.Body}
		}
		t := time.NewTimer(d.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			if n, ok := w.(DropNoter); ok {
				n.NoteDropped(0)
			}
			return // the client went away: nobody reads an answer
		}
	}
	switch d.Action {
	case Drop:
		c.dropped.Add(1)
		dropConnection(w, 0)
	case Error:
		c.errors.Add(1)
		writeError(w, r, d.Status, fmt.Sprintf("The service failed to handle the request (sandbox chaos: %d %s); the request was not carried out.",
			d.Status, http.StatusText(d.Status)))
	case Throttle:
		c.throttled.Add(1)
		if !c.RetryAfter {
			writeError(w, r, http.StatusTooManyRequests, "Too many requests (sandbox chaos): try again later; the request was not carried out.")
			break
		}
		retryAfter := d.Delta
		if retryAfter == "" {
			retryAfter = time.Now().Add(time.Second).UTC().Format(http.TimeFormat)
		}
		w.Header().Set("Retry-After", retryAfter)
		writeError(w, r, http.StatusTooManyRequests, "Too many requests (sandbox chaos): try again after the time Retry-After gives; the request was not carried out.")
	case DropAfter:
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

// DropNoter is implemented by the kernel's request logger (its response writer): it notes a dropped
// connection, with the status of the lost answer (0: none was made).
type DropNoter interface{ NoteDropped(status int) }

// dropConnection closes the client's connection without an answer. Where
// the connection cannot be taken over (HTTP/2, test recorders) it aborts the
// handler, which the server turns into a reset stream or closed connection.
func dropConnection(w http.ResponseWriter, lostStatus int) {
	if n, ok := w.(DropNoter); ok {
		n.NoteDropped(lostStatus)
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
