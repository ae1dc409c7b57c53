package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"
)

// The code quality API v1 (Mentor's code analyses of asset revisions).

const odcCodeQuality = "/api/code-quality/v1"

// Code analysis statuses: an analysis runs until one of the last three.
const (
	CodeAnalysisCompleted = "Completed"
	CodeAnalysisFailed    = "Failed"
	CodeAnalysisTimeout   = "Timeout"
)

// Code-quality categories and severities, as the API spells them.
var (
	CodeQualityCategories = []string{"security", "performance", "architecture", "maintainability"}
	CodeQualitySeverities = []string{"Low", "Medium", "High", "Critical"}
)

type odcSeverityBreakdown struct {
	LowSeverity      int64 `json:"lowSeverity"`
	MediumSeverity   int64 `json:"mediumSeverity"`
	HighSeverity     int64 `json:"highSeverity"`
	CriticalSeverity int64 `json:"criticalSeverity"`
}

type odcFindingsSummary struct {
	Categories *struct {
		Security        *odcSeverityBreakdown `json:"security"`
		Performance     *odcSeverityBreakdown `json:"performance"`
		Architecture    *odcSeverityBreakdown `json:"architecture"`
		Maintainability *odcSeverityBreakdown `json:"maintainability"`
	} `json:"categories"`
}

// findings counts the summary's findings by category, then severity; every
// category and severity is present, 0 when the API left it out.
func (s *odcFindingsSummary) findings() map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	byCategory := map[string]*odcSeverityBreakdown{}
	if s != nil && s.Categories != nil {
		c := s.Categories
		byCategory = map[string]*odcSeverityBreakdown{"security": c.Security, "performance": c.Performance,
			"architecture": c.Architecture, "maintainability": c.Maintainability}
	}
	for _, category := range CodeQualityCategories {
		b := byCategory[category]
		if b == nil {
			b = &odcSeverityBreakdown{}
		}
		out[category] = map[string]int64{"Low": b.LowSeverity, "Medium": b.MediumSeverity, "High": b.HighSeverity, "Critical": b.CriticalSeverity}
	}
	return out
}

type odcAnalysisSummary struct {
	AssetKey      *string             `json:"assetKey"`
	AssetRevision int64               `json:"assetRevision"`
	AnalysisDate  string              `json:"analysisDate"`
	QualityScore  *float64            `json:"qualityScore"`
	Summary       *odcFindingsSummary `json:"summary"`
}

// CodeQualitySummary is the analysis summary of an asset revision.
type CodeQualitySummary struct {
	AssetKey     string
	Revision     int
	AnalysisDate string   // YYYY-MM-DD
	QualityScore *float64 // nil when ODC gives none
	// Findings counts findings by category (security, performance,
	// architecture, maintainability), then severity (Low, Medium, High,
	// Critical); every key is present.
	Findings map[string]map[string]int64
}

// BySeverity totals the findings of each severity over the categories.
func (s *CodeQualitySummary) BySeverity() map[string]int64 {
	out := map[string]int64{}
	for _, sev := range CodeQualitySeverities {
		out[sev] = 0
	}
	for _, bySeverity := range s.Findings {
		for sev, n := range bySeverity {
			out[sev] += n
		}
	}
	return out
}

// ByCategory totals the findings of each category over the severities.
func (s *CodeQualitySummary) ByCategory() map[string]int64 {
	out := map[string]int64{}
	for category, bySeverity := range s.Findings {
		for _, n := range bySeverity {
			out[category] += n
		}
	}
	return out
}

// CodeQualitySummary reads the analysis summary of an asset revision. ODC
// answers 404 until an analysis of the revision completed (IsNotFound), and
// for a revision that does not exist.
func (c *ODC) CodeQualitySummary(ctx context.Context, assetKey string, revision int) (*CodeQualitySummary, error) {
	var w odcAnalysisSummary
	if err := c.get(ctx, pathf(odcCodeQuality+"/assets/%s/revisions/%s/analysis-summary", assetKey, strconv.Itoa(revision)), nil, &w); err != nil {
		return nil, err
	}
	return &CodeQualitySummary{AssetKey: str(w.AssetKey), Revision: int(w.AssetRevision), AnalysisDate: w.AnalysisDate,
		QualityScore: w.QualityScore, Findings: w.Summary.findings()}, nil
}

// CodeAnalysis is a code analysis request and, once completed, its score
// and findings summary.
type CodeAnalysis struct {
	Key          string
	Status       string
	QualityScore float64
	// Findings by category, then severity, once completed (see
	// CodeQualitySummary.Findings); nil before.
	Findings map[string]map[string]int64
}

// Done reports whether the analysis ended: Completed, Failed or Timeout.
func (a *CodeAnalysis) Done() bool {
	return a.Status == CodeAnalysisCompleted || a.Status == CodeAnalysisFailed || a.Status == CodeAnalysisTimeout
}

type odcCodeAnalysisRequest struct {
	AssetKey      string `json:"assetKey"`
	AssetRevision int    `json:"assetRevision"`
}

type odcCodeAnalysis struct {
	AnalysisKey  string              `json:"analysisKey"`
	Status       *string             `json:"status"`
	QualityScore float64             `json:"qualityScore"`
	Summary      *odcFindingsSummary `json:"summary"`
}

// StartCodeAnalysis submits a code analysis of an asset revision and
// returns it, usually in progress; poll it with GetCodeAnalysis or
// WaitCodeAnalysis. ODC allows 10 a minute. It is retried only when the
// request cannot have reached the server.
func (c *ODC) StartCodeAnalysis(ctx context.Context, assetKey string, revision int) (*CodeAnalysis, error) {
	r := request{method: http.MethodPost, path: odcCodeQuality + "/code-analyses",
		body: odcCodeAnalysisRequest{AssetKey: assetKey, AssetRevision: revision}}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var w odcCodeAnalysis
	if err := decodeJSON(c.s.name, r, resp, &w); err != nil {
		return nil, err
	}
	if w.AnalysisKey == "" {
		return nil, fmt.Errorf("ODC answered POST %s/code-analyses without an analysisKey", odcCodeQuality)
	}
	return &CodeAnalysis{Key: w.AnalysisKey, Status: str(w.Status)}, nil
}

// GetCodeAnalysis reads a code analysis' status, and once completed its
// score and findings summary (not the findings themselves: Limit=1).
func (c *ODC) GetCodeAnalysis(ctx context.Context, key string) (*CodeAnalysis, error) {
	var w odcCodeAnalysis
	if err := c.get(ctx, pathf(odcCodeQuality+"/code-analyses/%s", key), url.Values{"Limit": {"1"}}, &w); err != nil {
		return nil, err
	}
	a := &CodeAnalysis{Key: w.AnalysisKey, Status: str(w.Status), QualityScore: w.QualityScore}
	if a.Key == "" {
		a.Key = key
	}
	if w.Summary != nil {
		a.Findings = w.Summary.findings()
	}
	return a, nil
}

// OutSystems' guidance for polling a code analysis: every 5–10 s at first,
// then every 15–30 s. The client polls every CodeAnalysisPollEarly for the
// first CodeAnalysisEarlyPeriod, then every CodeAnalysisPollLate.
// EnvODCPollInterval (OUTSYSTEMS_ODC_POLL_INTERVAL, a Go duration) replaces
// both with one interval, as for the other ODC waits.
const (
	CodeAnalysisPollEarly   = 5 * time.Second
	CodeAnalysisEarlyPeriod = time.Minute
	CodeAnalysisPollLate    = 20 * time.Second
	EnvODCPollInterval      = "OUTSYSTEMS_ODC_POLL_INTERVAL"
)

// CodeAnalysisPoll is the wait before the next poll of a code analysis
// after elapsed of waiting (OutSystems' guidance, or EnvODCPollInterval).
func CodeAnalysisPoll(elapsed time.Duration) time.Duration {
	if v := os.Getenv(EnvODCPollInterval); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	if elapsed < CodeAnalysisEarlyPeriod {
		return CodeAnalysisPollEarly
	}
	return CodeAnalysisPollLate
}

// ErrCodeAnalysisWait is what WaitCodeAnalysis's errors wrap when the wait
// ended before the analysis did (the context's deadline or cancellation).
var ErrCodeAnalysisWait = errors.New("stopped waiting for the code analysis")

// WaitCodeAnalysis polls a code analysis until it is Completed, Failed or
// Timeout, and returns it as last read (the caller decides what Failed and
// Timeout mean). poll gives the wait before each next poll from the time
// waited so far; nil means CodeAnalysisPoll. When ctx ends first, the error
// wraps ErrCodeAnalysisWait and names the analysis, what it analyzes
// (what), how long it waited and the last status seen.
func (c *ODC) WaitCodeAnalysis(ctx context.Context, key, what string, poll func(time.Duration) time.Duration) (*CodeAnalysis, error) {
	if poll == nil {
		poll = CodeAnalysisPoll
	}
	start := time.Now()
	last := "not read yet"
	for {
		a, err := c.GetCodeAnalysis(ctx, key)
		if err != nil {
			if ctx.Err() != nil {
				return nil, waitCodeAnalysisError(ctx, key, what, start, last, err)
			}
			return nil, err
		}
		last = a.Status
		if a.Done() {
			return a, nil
		}
		timer := time.NewTimer(poll(time.Since(start)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, waitCodeAnalysisError(ctx, key, what, start, last, nil)
		case <-timer.C:
		}
	}
}

func waitCodeAnalysisError(ctx context.Context, key, what string, start time.Time, last string, err error) error {
	reason := "was interrupted"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		reason = "timed out"
	}
	detail := fmt.Sprintf("%s after %s waiting for code analysis %s of %s; the last status seen was %q",
		reason, time.Since(start).Round(time.Second), key, what, last)
	if err != nil {
		return fmt.Errorf("%w: %s (last error: %w)", ErrCodeAnalysisWait, detail, err)
	}
	return fmt.Errorf("%w: %s", ErrCodeAnalysisWait, detail)
}
