package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// --- deployments v1: deployment operations (Deploy, Undeploy, ApplyConfigs) ---

// Deployment operation types (deployments API v1, DeploymentOperationsType).
const (
	DeploymentOperationDeploy       = "Deploy"
	DeploymentOperationUndeploy     = "Undeploy"
	DeploymentOperationApplyConfigs = "ApplyConfigs"
)

type odcDeploymentOperation struct {
	Key              string  `json:"key"`
	Status           string  `json:"status"`
	StartedDateTime  string  `json:"startedDateTime"`
	FinishedDateTime string  `json:"finishedDateTime"`
	DeployedBy       *string `json:"deployedBy"`
	AssetKey         string  `json:"assetKey"`
	Revisions        []int   `json:"revisions"`
	BuildKey         *string `json:"buildKey"`
	AssetName        *string `json:"assetName"`
	Operation        string  `json:"operation"`
	PortfolioKey     *string `json:"portfolioKey"`
}

// DeploymentOperation is a Deploy, Undeploy or ApplyConfigs of an asset in a
// stage after Development. Its status goes Running → Finished or
// FinishedWithError (the PublishStatus* values).
type DeploymentOperation struct {
	Key        string
	Operation  string // Deploy, Undeploy or ApplyConfigs
	Status     string
	AssetKey   string
	AssetName  string
	Revision   int    // the first of the operation's revisions; 0 when none
	BuildKey   string // Deploy only
	StartedAt  string // RFC 3339
	FinishedAt string // RFC 3339; "" while running
	DeployedBy string
	// EnvironmentKey is the stage, when known: the API does not return it,
	// so it is set from the start call's argument and from
	// ListDeploymentOperations' filter.
	EnvironmentKey string
	PortfolioKey   string
}

// Done reports whether the operation finished, well or not.
func (d *DeploymentOperation) Done() bool { return d.Status != PublishStatusRunning }

// Succeeded reports whether the operation finished without errors.
func (d *DeploymentOperation) Succeeded() bool { return d.Status == PublishStatusFinished }

// describe names the operation for errors: "the Deploy operation <key>
// (asset <key> revision 2 to stage <key>)".
func (d *DeploymentOperation) describe() string {
	var parts []string
	if d.AssetName != "" {
		parts = append(parts, fmt.Sprintf("%q (asset %s)", d.AssetName, d.AssetKey))
	} else if d.AssetKey != "" {
		parts = append(parts, "asset "+d.AssetKey)
	}
	if d.Revision > 0 {
		parts = append(parts, "revision "+strconv.Itoa(d.Revision))
	}
	if d.EnvironmentKey != "" {
		parts = append(parts, "in stage "+d.EnvironmentKey)
	}
	s := fmt.Sprintf("the %s operation %s", cmpOrString(d.Operation, "deployment"), d.Key)
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, " ") + ")"
	}
	return s
}

func cmpOrString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (w odcDeploymentOperation) operation(environmentKey string) DeploymentOperation {
	op := DeploymentOperation{Key: w.Key, Operation: w.Operation, Status: w.Status, AssetKey: w.AssetKey, AssetName: str(w.AssetName),
		BuildKey: str(w.BuildKey), StartedAt: w.StartedDateTime, FinishedAt: setDateTime(w.FinishedDateTime), DeployedBy: str(w.DeployedBy),
		EnvironmentKey: environmentKey, PortfolioKey: str(w.PortfolioKey)}
	if len(w.Revisions) > 0 {
		op.Revision = w.Revisions[0]
	}
	return op
}

// DeploymentRequest is a deployment operation to start. Deploy needs
// AssetKey, Revision, BuildKey (a Release build of that revision) and
// EnvironmentKey; Undeploy needs AssetKey and EnvironmentKey (Revision
// optional); ApplyConfigs needs AssetKey, Revision (the deployed one) and
// EnvironmentKey.
type DeploymentRequest struct {
	Operation      string `json:"operation"`
	AssetKey       string `json:"assetKey,omitempty"`
	BuildKey       string `json:"buildKey,omitempty"`
	Revision       int    `json:"revision,omitempty"`
	EnvironmentKey string `json:"environmentKey"`
}

// StartDeploymentOperation starts a deployment operation and returns it,
// usually Running; wait for it with WaitDeploymentOperation. It is not
// idempotent: it is retried only when the request cannot have reached the
// server.
func (c *ODC) StartDeploymentOperation(ctx context.Context, req DeploymentRequest) (*DeploymentOperation, error) {
	if !validDeploymentOperation(req.Operation) {
		return nil, fmt.Errorf("deployment operation %q is not one of Deploy, Undeploy, ApplyConfigs", req.Operation)
	}
	r := request{method: http.MethodPost, path: odcDeployments + "/deployment-operations", body: req}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var w odcDeploymentOperation
	if err := decodeJSON(c.s.name, r, resp, &w); err != nil {
		return nil, err
	}
	op := w.operation(req.EnvironmentKey)
	return &op, nil
}

func validDeploymentOperation(op string) bool {
	return op == DeploymentOperationDeploy || op == DeploymentOperationUndeploy || op == DeploymentOperationApplyConfigs
}

// StartDeploy deploys a Release build of an asset revision to a stage.
func (c *ODC) StartDeploy(ctx context.Context, assetKey string, revision int, buildKey, environmentKey string) (*DeploymentOperation, error) {
	return c.StartDeploymentOperation(ctx, DeploymentRequest{Operation: DeploymentOperationDeploy, AssetKey: assetKey, Revision: revision,
		BuildKey: buildKey, EnvironmentKey: environmentKey})
}

// StartUndeploy removes an asset from a stage.
func (c *ODC) StartUndeploy(ctx context.Context, assetKey, environmentKey string) (*DeploymentOperation, error) {
	return c.StartDeploymentOperation(ctx, DeploymentRequest{Operation: DeploymentOperationUndeploy, AssetKey: assetKey, EnvironmentKey: environmentKey})
}

// StartApplyConfigs applies an app's pending configurations in a stage
// without deploying code; revision is the revision deployed there.
func (c *ODC) StartApplyConfigs(ctx context.Context, assetKey string, revision int, environmentKey string) (*DeploymentOperation, error) {
	return c.StartDeploymentOperation(ctx, DeploymentRequest{Operation: DeploymentOperationApplyConfigs, AssetKey: assetKey, Revision: revision,
		EnvironmentKey: environmentKey})
}

// GetDeploymentOperation reads a deployment operation. Its EnvironmentKey
// is empty: the API does not return it.
func (c *ODC) GetDeploymentOperation(ctx context.Context, key string) (*DeploymentOperation, error) {
	var w odcDeploymentOperation
	if err := c.get(ctx, pathf(odcDeployments+"/deployment-operations/%s", key), nil, &w); err != nil {
		return nil, err
	}
	op := w.operation("")
	return &op, nil
}

// DeploymentOperationFilter narrows ListDeploymentOperations; empty fields
// do not filter.
type DeploymentOperationFilter struct {
	AssetKey       string
	EnvironmentKey string
	Revision       int
	Operations     []string // Deploy, Undeploy, ApplyConfigs
	Status         string   // Running, Finished, FinishedWithError
}

// ListDeploymentOperations lists deployment operations, newest first.
func (c *ODC) ListDeploymentOperations(ctx context.Context, f DeploymentOperationFilter) ([]DeploymentOperation, error) {
	q := url.Values{"sort": {"-CreatedAt"}}
	for name, v := range map[string]string{"assetKey": f.AssetKey, "environmentKey": f.EnvironmentKey, "status": f.Status} {
		if v != "" {
			q.Set(name, v)
		}
	}
	if f.Revision > 0 {
		q.Set("revision", strconv.Itoa(f.Revision))
	}
	for _, o := range f.Operations {
		q.Add("operations", o)
	}
	ops, err := listAll[odcDeploymentOperation](ctx, c, odcDeployments+"/deployment-operations", q)
	if err != nil {
		return nil, err
	}
	out := make([]DeploymentOperation, len(ops))
	for i, w := range ops {
		out[i] = w.operation(f.EnvironmentKey)
	}
	return out, nil
}

// DeploymentOperationMessages lists the messages a deployment operation
// logged so far, oldest first; a failed operation's errors are among them.
func (c *ODC) DeploymentOperationMessages(ctx context.Context, key string) ([]OperationMessage, error) {
	msgs, err := listAll[odcTaskMessage](ctx, c, pathf(odcDeployments+"/deployment-operations/%s/messages", key), nil)
	if err != nil {
		return nil, err
	}
	out := make([]OperationMessage, len(msgs))
	for i, m := range msgs {
		out[i] = OperationMessage{Timestamp: m.Timestamp, Type: str(m.Type), Severity: m.Severity, Message: str(m.Message)}
		if m.AdditionalInfo != nil {
			out[i].StepID, out[i].AssetKey = str(m.AdditionalInfo.StepID), str(m.AdditionalInfo.AssetKey)
		}
	}
	return out, nil
}

// --- waiting ---

// ODC's polling guidance for its operations (publish, deploy, apply
// configurations): about every 5 s for the first 30 s, then about every
// 30 s.
const (
	ODCPollEarly       = 5 * time.Second
	ODCPollEarlyPeriod = 30 * time.Second
	ODCPollLate        = 30 * time.Second
)

// PollPolicy is the wait before the next poll after elapsed of waiting.
type PollPolicy func(elapsed time.Duration) time.Duration

// ODCPollGuidance is ODC's advice: ODCPollEarly for the first
// ODCPollEarlyPeriod, then ODCPollLate.
func ODCPollGuidance(elapsed time.Duration) time.Duration {
	if elapsed < ODCPollEarlyPeriod {
		return ODCPollEarly
	}
	return ODCPollLate
}

// FixedPoll polls every d (rehearsals against the sandbox, tests).
func FixedPoll(d time.Duration) PollPolicy { return func(time.Duration) time.Duration { return d } }

// OperationFailedError is an ODC operation that finished with errors; its
// message carries the operation's error messages (all of them when it
// logged none with severity Error).
type OperationFailedError struct {
	What     string // e.g. `the Deploy operation <key> ("Orders" (asset <key>) revision 2 in stage <key>)`
	Status   string
	Messages []OperationMessage
}

func (e *OperationFailedError) Error() string {
	return fmt.Sprintf("%s finished with status %s%s", e.What, e.Status, formatMessages(e.Messages))
}

// formatMessages lists an operation's error messages, or all of them when
// none is an error, as ": m1; m2", "" when there are none.
func formatMessages(msgs []OperationMessage) string {
	var errs, all []string
	for _, m := range msgs {
		if m.Message == "" {
			continue
		}
		all = append(all, m.Message)
		if strings.EqualFold(m.Severity, "Error") {
			errs = append(errs, m.Message)
		}
	}
	if len(errs) == 0 {
		errs = all
	}
	if len(errs) == 0 {
		return ""
	}
	return ": " + strings.Join(errs, "; ")
}

// WaitDeploymentOperation polls a deployment operation until it finishes,
// following poll (nil: ODCPollGuidance), and returns it. environmentKey,
// when known, is kept on the result and named in errors. It fails with an
// *OperationFailedError, carrying the operation's messages, when the
// operation finishes with errors; when ctx ends first (a timeout or an
// interrupt) the error names the operation, how long it waited, the last
// status seen and the messages logged so far.
func (c *ODC) WaitDeploymentOperation(ctx context.Context, key, environmentKey string, poll PollPolicy) (*DeploymentOperation, error) {
	if poll == nil {
		poll = ODCPollGuidance
	}
	start := time.Now()
	last := &DeploymentOperation{Key: key, Status: "not read yet", EnvironmentKey: environmentKey}
	for {
		op, err := c.GetDeploymentOperation(ctx, key)
		if err != nil {
			if ctx.Err() != nil {
				return last, c.waitError(ctx, last, start, err)
			}
			return last, err
		}
		op.EnvironmentKey = environmentKey
		last = op
		if op.Done() {
			if op.Succeeded() {
				return op, nil
			}
			msgs, merr := c.DeploymentOperationMessages(ctx, key)
			failed := &OperationFailedError{What: op.describe(), Status: op.Status, Messages: msgs}
			if merr != nil {
				failed.Messages = []OperationMessage{{Severity: "Error", Message: "(its messages could not be read: " + merr.Error() + ")"}}
			}
			return op, failed
		}
		timer := time.NewTimer(poll(time.Since(start)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return last, c.waitError(ctx, last, start, nil)
		case <-timer.C:
		}
	}
}

// waitError explains a wait that ctx ended, with the messages the
// operation logged so far (read with a short context of its own).
func (c *ODC) waitError(ctx context.Context, last *DeploymentOperation, start time.Time, cause error) error {
	reason := "was interrupted"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		reason = "timed out"
	}
	msg := fmt.Sprintf("%s after %s waiting for %s to finish; the last status seen was %q", reason, time.Since(start).Round(time.Second), last.describe(), last.Status)
	if cause != nil {
		msg += fmt.Sprintf(" (last error: %v)", cause)
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if msgs, err := c.DeploymentOperationMessages(mctx, last.Key); err == nil && len(msgs) > 0 {
		var lines []string
		for _, m := range msgs {
			lines = append(lines, m.Message)
		}
		msg += "; its messages so far: " + strings.Join(lines, "; ")
	}
	return errors.New(msg)
}
