package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startRun runs the command with args until the test ends and returns the
// sandbox's URL, read from its exports.
func startRun(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"--listen", "127.0.0.1:0", "--quiet"}, args...), pw, io.Discard)
		pw.CloseWithError(err)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run = %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("run did not stop")
		}
	})
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "export OUTSYSTEMS_LIFETIME_URL="); ok {
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			return u
		}
	}
	t.Fatalf("no LifeTime URL in the exports: %v", lines.Err())
	return ""
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestRunChaosAndRateLimitFlags(t *testing.T) {
	url := startRun(t, "--chaos-error-rate", "0.1", "--chaos-throttle-rate", "0.05", "--chaos-latency", "0-300ms",
		"--chaos-drop-rate", "0.02", "--chaos-drop-after-rate", "0.03", "--chaos-seed", "42", "--rate-limit", "120")
	var chaos map[string]any
	getJSON(t, url+"/_sandbox/chaos", &chaos)
	want := map[string]any{"errorRate": 0.1, "throttleRate": 0.05, "latencyMin": "0s", "latencyMax": "300ms", "dropRate": 0.02, "dropAfterRate": 0.03, "seed": 42.0}
	for k, v := range want {
		if chaos[k] != v {
			t.Errorf("chaos %s = %v, want %v (all: %v)", k, chaos[k], v, chaos)
		}
	}
	var stats struct {
		RateLimit           int `json:"rateLimit"`
		DeploymentRateLimit int `json:"deploymentRateLimit"`
	}
	getJSON(t, url+"/_sandbox/stats", &stats)
	if stats.RateLimit != 120 || stats.DeploymentRateLimit != 10 {
		t.Errorf("limits = %+v, want 120 and the default 10", stats)
	}
}

func TestRunLatencyAndDeploymentLimitForms(t *testing.T) {
	url := startRun(t, "--chaos-latency", "150ms", "--deployment-rate-limit", "3")
	var chaos struct {
		LatencyMin, LatencyMax string
		Seed                   int64
	}
	getJSON(t, url+"/_sandbox/chaos", &chaos)
	if chaos.LatencyMin != "150ms" || chaos.LatencyMax != "150ms" || chaos.Seed == 0 {
		t.Errorf("chaos = %+v, want a fixed 150ms and a random seed", chaos)
	}
	var stats struct {
		RateLimit           int `json:"rateLimit"`
		DeploymentRateLimit int `json:"deploymentRateLimit"`
	}
	getJSON(t, url+"/_sandbox/stats", &stats)
	if stats.RateLimit != 0 || stats.DeploymentRateLimit != 3 {
		t.Errorf("limits = %+v", stats)
	}
}

func TestRunRefusesBadChaosFlags(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--chaos-latency", "300ms-100ms"}, "--chaos-latency"},
		{[]string{"--chaos-latency", "soon"}, "--chaos-latency"},
		{[]string{"--chaos-error-rate", "1.5"}, "error rate must be from 0 to 1"},
		{[]string{"--chaos-error-rate", "0.6", "--chaos-drop-rate", "0.5"}, "at most 1"},
		{[]string{"--chaos-drop-after-rate", "-0.1"}, "drop-after rate"},
		{[]string{"--rate-limit", "-1"}, "--rate-limit"},
		{[]string{"--deployment-rate-limit", "-5"}, "--deployment-rate-limit"},
		{[]string{"--chaos-seed", "x"}, "chaos-seed"},
		{[]string{"--chaos-throttle-rate", "often"}, "chaos-throttle-rate"},
	} {
		var stdout, stderr strings.Builder
		err := run(context.Background(), append([]string{"--listen", "127.0.0.1:0"}, tt.args...), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error()+stderr.String(), tt.wantErr) {
			t.Errorf("run %v = %v (stderr %q), want an error mentioning %q", tt.args, err, stderr.String(), tt.wantErr)
		}
		if stdout.Len() != 0 {
			t.Errorf("run %v: stdout = %q, want nothing", tt.args, stdout.String())
		}
	}
}
