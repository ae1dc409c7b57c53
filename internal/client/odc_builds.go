package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// --- build operations v1 ---

const odcBuilds = "/api/builds/v1"

// Build types and statuses (build operations API v1, BuildType and
// BuildStatus). Only Release builds can be deployed to stages after
// Development; a publish (1-Click Publish) makes a Debug build.
const (
	BuildTypeDebug   = "Debug"
	BuildTypeRelease = "Release"

	BuildStatusPending            = "Pending"
	BuildStatusRunning            = "Running"
	BuildStatusFinished           = "Finished"
	BuildStatusFinishedWithErrors = "FinishedWithErrors"
)

type odcBuild struct {
	BuildKey         string  `json:"buildKey"`
	AssetKey         string  `json:"assetKey"`
	AssetRevision    int     `json:"assetRevision"`
	BuildType        string  `json:"buildType"`
	StartedDateTime  *string `json:"startedDateTime"`
	FinishedDateTime *string `json:"finishedDateTime"`
	BuiltBy          *string `json:"builtBy"`
	Status           string  `json:"status"`
}

// Build is a build of an asset revision.
type Build struct {
	Key        string
	AssetKey   string
	Revision   int
	BuildType  string // Debug or Release
	Status     string // Pending, Running, Finished, FinishedWithErrors, ...
	StartedAt  string // RFC 3339
	FinishedAt string // RFC 3339; "" until finished
	BuiltBy    string
}

// Done reports whether the build ended, well or not.
func (b *Build) Done() bool { return b.Status != BuildStatusPending && b.Status != BuildStatusRunning }

// Succeeded reports whether the build finished without errors.
func (b *Build) Succeeded() bool { return b.Status == BuildStatusFinished }

func (w odcBuild) build() Build {
	return Build{Key: w.BuildKey, AssetKey: w.AssetKey, Revision: w.AssetRevision, BuildType: w.BuildType, Status: w.Status,
		StartedAt: str(w.StartedDateTime), FinishedAt: str(w.FinishedDateTime), BuiltBy: str(w.BuiltBy)}
}

// ListBuilds lists the builds of an asset revision (revision 0: every
// revision) of a type ("" = every type), as ODC orders them.
func (c *ODC) ListBuilds(ctx context.Context, assetKey string, revision int, buildType string) ([]Build, error) {
	q := url.Values{"assetKey": {assetKey}}
	if revision > 0 {
		q.Set("assetRevision", strconv.Itoa(revision))
	}
	if buildType != "" {
		q.Set("byBuildType", buildType)
	}
	var list struct {
		Builds []odcBuild `json:"builds"`
	}
	if err := c.get(ctx, odcBuilds+"/build-operations", q, &list); err != nil {
		return nil, err
	}
	out := make([]Build, len(list.Builds))
	for i, b := range list.Builds {
		out[i] = b.build()
	}
	return out, nil
}

// StartBuild starts a build of an asset revision and returns its key. It is
// not idempotent: it is retried only when the request cannot have reached
// the server.
func (c *ODC) StartBuild(ctx context.Context, assetKey string, revision int, buildType string) (string, error) {
	r := request{method: http.MethodPost, path: odcBuilds + "/build-operations",
		body: map[string]any{"buildType": buildType, "assetKey": assetKey, "assetRevision": revision}}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return "", err
	}
	var w struct {
		BuildKey     string `json:"buildKey"`
		IsSuccessful bool   `json:"isSuccessful"`
	}
	if err := decodeJSON(c.s.name, r, resp, &w); err != nil {
		return "", err
	}
	if !w.IsSuccessful || w.BuildKey == "" {
		return "", fmt.Errorf("ODC did not start the %s build of asset %s revision %d (isSuccessful false)", buildType, assetKey, revision)
	}
	return w.BuildKey, nil
}

// GetBuild reads a build.
func (c *ODC) GetBuild(ctx context.Context, key string) (*Build, error) {
	var w odcBuild
	if err := c.get(ctx, pathf(odcBuilds+"/build-operations/%s", key), nil, &w); err != nil {
		return nil, err
	}
	b := w.build()
	return &b, nil
}

// BuildMessages lists the log messages a build issued so far.
func (c *ODC) BuildMessages(ctx context.Context, key string) ([]OperationMessage, error) {
	var list struct {
		Results []struct {
			Timestamp string  `json:"timestamp"`
			Type      *string `json:"type"`
			Severity  *string `json:"severity"`
			Message   *string `json:"message"`
			StepID    *string `json:"stepId"`
			AssetKey  string  `json:"assetKey"`
		} `json:"results"`
	}
	if err := c.get(ctx, pathf(odcBuilds+"/build-operations/%s/log-messages", key), nil, &list); err != nil {
		return nil, err
	}
	out := make([]OperationMessage, len(list.Results))
	for i, m := range list.Results {
		out[i] = OperationMessage{Timestamp: m.Timestamp, Type: str(m.Type), Severity: str(m.Severity), Message: str(m.Message),
			StepID: str(m.StepID), AssetKey: m.AssetKey}
	}
	return out, nil
}

// WaitBuild polls a build until it ends, following poll (nil:
// ODCPollGuidance). A build that ends with errors is an
// *OperationFailedError carrying its log messages; when ctx ends first the
// error names the build and the last status seen.
func (c *ODC) WaitBuild(ctx context.Context, key string, poll PollPolicy) (*Build, error) {
	if poll == nil {
		poll = ODCPollGuidance
	}
	start := time.Now()
	last := &Build{Key: key, Status: "not read yet"}
	what := func(b *Build) string {
		if b.AssetKey == "" {
			return "the build " + b.Key
		}
		return fmt.Sprintf("the %s build %s (asset %s revision %d)", b.BuildType, b.Key, b.AssetKey, b.Revision)
	}
	for {
		b, err := c.GetBuild(ctx, key)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return last, err
		}
		last = b
		if b.Done() {
			if b.Succeeded() {
				return b, nil
			}
			msgs, _ := c.BuildMessages(ctx, key)
			return b, &OperationFailedError{What: what(b), Status: b.Status, Messages: msgs}
		}
		timer := time.NewTimer(poll(time.Since(start)))
		select {
		case <-ctx.Done():
			timer.Stop()
		case <-timer.C:
			continue
		}
		break
	}
	return last, fmt.Errorf("%s after %s waiting for %s to finish; the last status seen was %q",
		ctxReason(ctx), time.Since(start).Round(time.Second), what(last), last.Status)
}

func ctxReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "timed out"
	}
	return "was interrupted"
}

// FindReleaseBuild returns the newest Release build of an asset revision
// that finished without errors, or nil when there is none.
func (c *ODC) FindReleaseBuild(ctx context.Context, assetKey string, revision int) (*Build, error) {
	builds, err := c.ListBuilds(ctx, assetKey, revision, BuildTypeRelease)
	if err != nil {
		return nil, err
	}
	var best *Build
	for i := range builds {
		b := &builds[i]
		if b.BuildType != BuildTypeRelease || b.Revision != revision || !b.Succeeded() {
			continue
		}
		if best == nil || b.FinishedAt > best.FinishedAt {
			best = b
		}
	}
	return best, nil
}

// --- asset repository v1: source code ---

// SourceCode is where to download a revision's source code: a short-lived
// URL that needs no token, and the binary's digest.
type SourceCode struct {
	URL    string
	Digest string
}

// SourceCode asks the asset repository where to download a revision's
// source code.
func (c *ODC) SourceCode(ctx context.Context, assetKey string, revision int) (*SourceCode, error) {
	var w struct {
		SourceCodeBinaryURL *string `json:"sourceCodeBinaryUrl"`
		SourceCodeDigest    *string `json:"sourceCodeDigest"`
	}
	if err := c.get(ctx, revisionPath(odcAssetRepo, assetKey, revision)+"/source-code", nil, &w); err != nil {
		return nil, err
	}
	if str(w.SourceCodeBinaryURL) == "" {
		return nil, fmt.Errorf("ODC gave no source code URL for asset %s revision %d", assetKey, revision)
	}
	return &SourceCode{URL: str(w.SourceCodeBinaryURL), Digest: str(w.SourceCodeDigest)}, nil
}

// DownloadSourceCode fetches the binary a SourceCode points to, without
// the API's token: the URL is signed, and the token must not go to the
// storage that serves it.
func (c *ODC) DownloadSourceCode(ctx context.Context, sc *SourceCode) ([]byte, error) {
	resp, err := c.s.do(ctx, request{method: http.MethodGet, absolute: sc.URL, noAuth: true, idempotent: true})
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}
