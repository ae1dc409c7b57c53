package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/chaos"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// Chaos (package chaos) makes the OutSystems APIs fail, throttle, slow
// down and drop connections; never the admin surface under /_sandbox/.

// ChaosOptions configures chaos (see chaos.Options).
type ChaosOptions = chaos.Options

// ChaosStats counts what chaos did (see chaos.Stats).
type ChaosStats = chaos.Stats

// ParseLatency reads a latency range such as "0-300ms" (see
// chaos.ParseLatency).
func ParseLatency(s string) (lo, hi time.Duration, err error) { return chaos.ParseLatency(s) }

// --- Go API ---

// SetChaos replaces the chaos settings at run time and reseeds the decisions
// with opts.Seed (0: a random seed). It refuses invalid settings, changing
// nothing. The counters keep counting.
func (s *Sandbox) SetChaos(opts ChaosOptions) error {
	return s.chaos.Set(opts)
}

// ChaosSettings returns the chaos settings in force, with the seed used.
func (s *Sandbox) ChaosSettings() ChaosOptions { return s.chaos.Settings() }

// ChaosStats returns what chaos did so far.
func (s *Sandbox) ChaosStats() ChaosStats { return s.chaos.Stats() }

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
	o, st := s.chaos.Settings(), s.chaos.Stats()
	return chaosDocument{ErrorRate: o.ErrorRate, ThrottleRate: o.ThrottleRate, LatencyMin: o.LatencyMin.String(), LatencyMax: o.LatencyMax.String(),
		DropRate: o.DropRate, DropAfterRate: o.DropAfterRate, Seed: o.Seed, Stats: &st}
}

func (s *Sandbox) adminGetChaos(w http.ResponseWriter, _ *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, s.chaosDocument())
}

// adminPutChaos replaces the chaos settings: members left out are 0 (no
// chaos of that kind); "stats" is ignored, so a GET answer can be sent back.
func (s *Sandbox) adminPutChaos(w http.ResponseWriter, r *http.Request) {
	const usage = `send a JSON body like {"errorRate": 0.1, "throttleRate": 0.05, "latencyMin": "0s", "latencyMax": "300ms", "dropRate": 0, "dropAfterRate": 0.05, "seed": 42}`
	var doc chaosDocument
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(&doc)
	if err == nil {
		err = httpx.JSONEnd(dec)
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
	httpx.WriteJSON(w, http.StatusOK, s.chaosDocument())
}
