package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// The summary's categories become counts by category and severity, every
// key present even when ODC leaves a category out.
func TestODCCodeQualitySummary(t *testing.T) {
	f := newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/code-quality/v1/assets/a1/revisions/3/analysis-summary" {
			writeTestJSON(w, http.StatusNotFound, map[string]any{"title": "Not Found", "status": 404, "detail": "Revision 3 has no completed code analysis."})
			return
		}
		writeTestJSON(w, http.StatusOK, map[string]any{"assetKey": "a1", "assetRevision": 3, "analysisDate": "2026-11-30", "qualityScore": 59.5,
			"summary": map[string]any{"categories": map[string]any{
				"security":     map[string]any{"lowSeverity": 0, "mediumSeverity": 0, "highSeverity": 1, "criticalSeverity": 2},
				"performance":  map[string]any{"lowSeverity": 4, "mediumSeverity": 0, "highSeverity": 0, "criticalSeverity": 0},
				"architecture": nil,
			}}})
	})
	c := f.client(t)
	s, err := c.CodeQualitySummary(context.Background(), "a1", 3)
	if err != nil {
		t.Fatal(err)
	}
	if s.AssetKey != "a1" || s.Revision != 3 || s.AnalysisDate != "2026-11-30" || s.QualityScore == nil || *s.QualityScore != 59.5 {
		t.Errorf("summary = %+v", s)
	}
	if got := s.BySeverity(); got["Critical"] != 2 || got["High"] != 1 || got["Low"] != 4 || got["Medium"] != 0 || len(got) != 4 {
		t.Errorf("by severity = %v", got)
	}
	if got := s.ByCategory(); got["security"] != 3 || got["performance"] != 4 || got["architecture"] != 0 || got["maintainability"] != 0 || len(got) != 4 {
		t.Errorf("by category = %v", got)
	}
	_, err = c.CodeQualitySummary(context.Background(), "a1", 4)
	if !IsNotFound(err) || !strings.Contains(err.Error(), "no completed code analysis") {
		t.Errorf("summary of revision 4 = %v, want the 404 with ODC's detail", err)
	}
}

// StartCodeAnalysis sends the documented body; WaitCodeAnalysis polls with
// the given policy until the analysis ends, and returns a Failed one for
// the caller to judge.
func TestODCCodeAnalysisStartAndWait(t *testing.T) {
	var mu sync.Mutex
	polls := 0
	final := CodeAnalysisCompleted
	f := newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/code-quality/v1/code-analyses":
			var body map[string]any
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body["assetKey"] != "a1" || body["assetRevision"] != float64(2) || len(body) != 2 {
				t.Errorf("start body = %v, %v", body, err)
			}
			writeTestJSON(w, http.StatusOK, map[string]any{"analysisKey": "k1", "status": "InProgress"})
		case r.Method == http.MethodGet && r.URL.Path == "/api/code-quality/v1/code-analyses/k1":
			polls++
			if polls < 3 {
				writeTestJSON(w, http.StatusOK, map[string]any{"analysisKey": "k1", "status": "InProgress", "findings": nil, "qualityScore": 0, "summary": nil})
				return
			}
			writeTestJSON(w, http.StatusOK, map[string]any{"analysisKey": "k1", "status": final, "findings": []any{}, "qualityScore": 85,
				"summary": map[string]any{"categories": map[string]any{"security": map[string]any{"criticalSeverity": 1}}}})
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL)
			w.WriteHeader(http.StatusNotFound)
		}
	})
	c := f.client(t)
	ctx := context.Background()
	a, err := c.StartCodeAnalysis(ctx, "a1", 2)
	if err != nil || a.Key != "k1" || a.Status != "InProgress" || a.Done() {
		t.Fatalf("start = %+v, %v", a, err)
	}
	var waits []time.Duration
	poll := func(elapsed time.Duration) time.Duration { waits = append(waits, elapsed); return time.Millisecond }
	done, err := c.WaitCodeAnalysis(ctx, "k1", "revision 2 of a1", poll)
	if err != nil || done.Status != CodeAnalysisCompleted || done.QualityScore != 85 || done.Findings["security"]["Critical"] != 1 || len(waits) != 2 {
		t.Errorf("wait = %+v, %v; polls waited %v", done, err, waits)
	}

	mu.Lock()
	polls, final = 0, CodeAnalysisFailed
	mu.Unlock()
	done, err = c.WaitCodeAnalysis(ctx, "k1", "revision 2 of a1", poll)
	if err != nil || done.Status != CodeAnalysisFailed || !done.Done() {
		t.Errorf("wait for a failing analysis = %+v, %v", done, err)
	}
}

// A wait that runs out of time names the analysis, what it analyzes and
// the last status.
func TestODCCodeAnalysisWaitTimesOut(t *testing.T) {
	f := newFakeODC(t, func(w http.ResponseWriter, _ *http.Request) {
		writeTestJSON(w, http.StatusOK, map[string]any{"analysisKey": "k9", "status": "InProgress", "findings": nil, "qualityScore": 0, "summary": nil})
	})
	c := f.client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.WaitCodeAnalysis(ctx, "k9", "revision 1 of 'Claims Backoffice'", func(time.Duration) time.Duration { return 20 * time.Millisecond })
	if !errors.Is(err, ErrCodeAnalysisWait) {
		t.Fatalf("err = %v, want ErrCodeAnalysisWait", err)
	}
	for _, want := range []string{"timed out", "code analysis k9 of revision 1 of 'Claims Backoffice'", `last status seen was "InProgress"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// OutSystems' guidance: 5–10 s at first, then 15–30 s; the environment
// variable replaces both.
func TestCodeAnalysisPoll(t *testing.T) {
	t.Setenv(EnvODCPollInterval, "")
	if early, late := CodeAnalysisPoll(0), CodeAnalysisPoll(2*time.Minute); early < 5*time.Second || early > 10*time.Second || late < 15*time.Second || late > 30*time.Second {
		t.Errorf("polls every %s early and %s late", early, late)
	}
	t.Setenv(EnvODCPollInterval, "150ms")
	if got := CodeAnalysisPoll(time.Hour); got != 150*time.Millisecond {
		t.Errorf("with %s=150ms the poll is %s", EnvODCPollInterval, got)
	}
	t.Setenv(EnvODCPollInterval, "soon")
	if got := CodeAnalysisPoll(0); got != CodeAnalysisPollEarly {
		t.Errorf("with an invalid interval the poll is %s", got)
	}
}
