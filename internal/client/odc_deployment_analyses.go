package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// --- dependency management v1: deployment analyses ---

// Deployment analysis values (dependency management API v1).
const (
	AnalysisInProgress    = "InProgress"
	AnalysisFinished      = "Finished"
	AnalysisFailed        = "Failed"
	AnalysisNoIssuesFound = "NoIssuesFound"
	AnalysisWarningsFound = "WarningsFound"
	AnalysisErrorsFound   = "ErrorsFound"
)

// DeploymentAnalysis is ODC's answer to "what does deploying this revision
// to that stage do": its producers that are missing or incompatible there,
// and its consumers there.
type DeploymentAnalysis struct {
	Key            string
	AssetKey       string
	EnvironmentKey string
	ProcessStatus  string // InProgress, Finished or Failed
	Error          string // the processing error of a Failed analysis
	Status         string // once finished: NoIssuesFound, WarningsFound or ErrorsFound
	Impacted       []AnalysisImpact
}

// AnalysisImpact is one asset an analysis reports.
type AnalysisImpact struct {
	AssetKey      string
	Type          string // the asset type
	ReferenceType string // Producer, Consumer, None or Deployed
	Revision      int    // 0 when not given
	Issues        []AnalysisIssue
}

// AnalysisIssue is one issue of an impacted asset, at application or
// element level.
type AnalysisIssue struct {
	ConflictType string // e.g. MissingApplication, IncompatibleElement
	Severity     string // Warning or Error
	Element      string // the element's name, for element-level issues
	Hint         string
}

// Errors lists the issues of severity Error, as "hint" lines naming the
// asset when the hint does not.
func (a *DeploymentAnalysis) Errors() []string {
	var out []string
	for _, imp := range a.Impacted {
		for _, is := range imp.Issues {
			if !strings.EqualFold(is.Severity, "Error") {
				continue
			}
			line := is.Hint
			if line == "" {
				line = fmt.Sprintf("%s %s: %s", imp.ReferenceType, imp.AssetKey, is.ConflictType)
			}
			if is.Element != "" {
				line += " (element " + is.Element + ")"
			}
			out = append(out, line)
		}
	}
	return out
}

type odcAnalysisResult struct {
	AnalysisKey    *string `json:"analysisKey"`
	ProcessStatus  string  `json:"processStatus"`
	EnvironmentKey *string `json:"environmentKey"`
	AssetKey       string  `json:"assetKey"`
	Error          *struct {
		Title  *string `json:"title"`
		Detail *string `json:"detail"`
	} `json:"error"`
	Report *struct {
		Status         string `json:"status"`
		ImpactedAssets []struct {
			Revision               *int    `json:"revision"`
			Type                   *string `json:"type"`
			ReferenceType          string  `json:"referenceType"`
			AssetKey               *string `json:"assetKey"`
			ApplicationLevelIssues []struct {
				ConflictType     string  `json:"conflictType"`
				ConflictSeverity string  `json:"conflictSeverity"`
				Hint             *string `json:"hint"`
			} `json:"applicationLevelIssues"`
			ElementLevelIssues []struct {
				Name             *string `json:"name"`
				ConflictType     string  `json:"conflictType"`
				ConflictSeverity string  `json:"conflictSeverity"`
				Hint             *string `json:"hint"`
			} `json:"elementLevelIssues"`
		} `json:"impactedAssets"`
	} `json:"report"`
}

// StartDeploymentAnalysis asks ODC to analyze deploying an asset revision
// to a stage and returns the analysis key.
func (c *ODC) StartDeploymentAnalysis(ctx context.Context, assetKey string, revision int, environmentKey string) (string, error) {
	r := request{method: http.MethodPost, path: odcDependencyAPI + "/deployment-analyses",
		body: map[string]any{"assetKey": assetKey, "revision": revision, "environmentKey": environmentKey}, idempotent: true}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return "", err
	}
	var w struct {
		AnalysisKey *string `json:"analysisKey"`
	}
	if err := decodeJSON(c.s.name, r, resp, &w); err != nil {
		return "", err
	}
	if str(w.AnalysisKey) == "" {
		return "", fmt.Errorf("ODC started a deployment analysis of asset %s revision %d without giving its key", assetKey, revision)
	}
	return *w.AnalysisKey, nil
}

// GetDeploymentAnalysis reads an analysis.
func (c *ODC) GetDeploymentAnalysis(ctx context.Context, key string) (*DeploymentAnalysis, error) {
	var w odcAnalysisResult
	if err := c.get(ctx, pathf(odcDependencyAPI+"/deployment-analyses/%s", key), nil, &w); err != nil {
		return nil, err
	}
	a := &DeploymentAnalysis{Key: cmpOrString(str(w.AnalysisKey), key), AssetKey: w.AssetKey, EnvironmentKey: str(w.EnvironmentKey), ProcessStatus: w.ProcessStatus}
	if w.Error != nil {
		a.Error = cmpOrString(str(w.Error.Detail), str(w.Error.Title))
	}
	if w.Report != nil {
		a.Status = w.Report.Status
		for _, imp := range w.Report.ImpactedAssets {
			ai := AnalysisImpact{AssetKey: str(imp.AssetKey), Type: str(imp.Type), ReferenceType: imp.ReferenceType}
			if imp.Revision != nil {
				ai.Revision = *imp.Revision
			}
			for _, is := range imp.ApplicationLevelIssues {
				ai.Issues = append(ai.Issues, AnalysisIssue{ConflictType: is.ConflictType, Severity: is.ConflictSeverity, Hint: str(is.Hint)})
			}
			for _, is := range imp.ElementLevelIssues {
				ai.Issues = append(ai.Issues, AnalysisIssue{ConflictType: is.ConflictType, Severity: is.ConflictSeverity, Element: str(is.Name), Hint: str(is.Hint)})
			}
			a.Impacted = append(a.Impacted, ai)
		}
	}
	return a, nil
}

// AnalyzeDeployment starts a deployment analysis and polls it (poll nil:
// every second for the first 10 s, then ODCPollGuidance) until it is no
// longer InProgress. A Failed analysis is an error with ODC's reason.
func (c *ODC) AnalyzeDeployment(ctx context.Context, assetKey string, revision int, environmentKey string, poll PollPolicy) (*DeploymentAnalysis, error) {
	if poll == nil {
		poll = func(elapsed time.Duration) time.Duration {
			if elapsed < 10*time.Second {
				return time.Second
			}
			return ODCPollGuidance(elapsed)
		}
	}
	key, err := c.StartDeploymentAnalysis(ctx, assetKey, revision, environmentKey)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	for {
		a, err := c.GetDeploymentAnalysis(ctx, key)
		if err != nil {
			return nil, err
		}
		switch a.ProcessStatus {
		case AnalysisInProgress:
		case AnalysisFailed:
			return a, fmt.Errorf("ODC's deployment analysis %s of asset %s revision %d for stage %s failed: %s", key, assetKey, revision, environmentKey, cmpOrString(a.Error, "no reason given"))
		default:
			return a, nil
		}
		timer := time.NewTimer(poll(time.Since(start)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return a, fmt.Errorf("%s after %s waiting for ODC's deployment analysis %s of asset %s revision %d for stage %s; the last status seen was %q",
				ctxReason(ctx), time.Since(start).Round(time.Second), key, assetKey, revision, environmentKey, a.ProcessStatus)
		case <-timer.C:
		}
	}
}

// ConsumersIn lists the assets deployed in a stage that consume the asset
// directly, in the revision deployed there ("" = the Development stage).
func (c *ODC) ConsumersIn(ctx context.Context, assetKey, environmentKey string) ([]Consumer, error) {
	q := url.Values{}
	if environmentKey != "" {
		q.Set("environmentKey", environmentKey)
	}
	var body struct {
		Results []odcDependency `json:"results"`
	}
	if err := c.get(ctx, pathf(odcDependencyAPI+"/assets/%s/consumers", assetKey), q, &body); err != nil {
		return nil, err
	}
	out := make([]Consumer, len(body.Results))
	for i, d := range body.Results {
		out[i] = Consumer{AssetKey: d.Key, Name: str(d.Name), AssetType: str(d.Type), Revision: d.Revision,
			Description: str(d.Description), PortfolioKey: str(d.PortfolioKey)}
	}
	return out, nil
}
