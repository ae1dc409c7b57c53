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

// fakeDeployments answers one deployment operation that stays Running for
// polls GETs, then ends with status; it records the POST's body.
type fakeDeployments struct {
	mu      sync.Mutex
	polls   int
	gets    int
	status  string
	posted  map[string]any
	queries []string
}

func (d *fakeDeployments) handler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		defer d.mu.Unlock()
		op := map[string]any{"key": "op-1", "status": "Running", "startedDateTime": "2026-11-30T10:00:00Z", "finishedDateTime": "0001-01-01T00:00:00",
			"deployedBy": "pipeline", "assetKey": "asset-1", "revisions": []int{3}, "buildKey": "build-1", "assetName": "Orders", "operation": "Deploy", "portfolioKey": nil}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/deployments/v1/deployment-operations":
			d.posted = nil
			if err := json.NewDecoder(r.Body).Decode(&d.posted); err != nil {
				t.Error(err)
			}
			writeTestJSON(w, http.StatusCreated, op)
		case r.URL.Path == "/api/deployments/v1/deployment-operations":
			d.queries = append(d.queries, r.URL.RawQuery)
			writeTestJSON(w, http.StatusOK, map[string]any{"results": []any{op}, "page": map[string]any{"nextPageOffset": nil}})
		case r.URL.Path == "/api/deployments/v1/deployment-operations/op-1":
			d.gets++
			if d.gets > d.polls {
				op["status"], op["finishedDateTime"] = d.status, "2026-11-30T10:01:00Z"
			}
			writeTestJSON(w, http.StatusOK, op)
		case r.URL.Path == "/api/deployments/v1/deployment-operations/op-1/messages":
			writeTestJSON(w, http.StatusOK, map[string]any{"results": []map[string]any{
				{"timestamp": "2026-11-30T10:00:00Z", "type": "DeployStarted", "severity": "Info", "message": "Deploying 'Orders' revision 3."},
				{"timestamp": "2026-11-30T10:01:00Z", "type": "ProducerNotDeployed", "severity": "Error", "message": "Producer 'Orders API' is not deployed in stage 'QA'.",
					"additionalInfo": map[string]any{"stepId": "ResolveDependencies", "assetKey": "asset-2"}},
			}, "page": map[string]any{"nextPageOffset": nil}})
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL)
			http.NotFound(w, r)
		}
	}
}

func TestODCDeploymentOperationsClient(t *testing.T) {
	d := &fakeDeployments{polls: 2, status: "Finished"}
	c := newFakeODC(t, d.handler(t)).client(t)
	ctx := context.Background()

	op, err := c.StartDeploy(ctx, "asset-1", 3, "build-1", "qa-1")
	if err != nil || op.Key != "op-1" || op.Status != PublishStatusRunning || op.Revision != 3 || op.EnvironmentKey != "qa-1" || op.FinishedAt != "" || op.Done() {
		t.Fatalf("StartDeploy = %+v, %v", op, err)
	}
	want := map[string]any{"operation": "Deploy", "assetKey": "asset-1", "revision": float64(3), "buildKey": "build-1", "environmentKey": "qa-1"}
	for k, v := range want {
		if d.posted[k] != v {
			t.Errorf("posted %s = %v, want %v (body %v)", k, d.posted[k], v, d.posted)
		}
	}
	if _, err := c.StartUndeploy(ctx, "asset-1", "qa-1"); err != nil || d.posted["operation"] != "Undeploy" || d.posted["buildKey"] != nil || d.posted["revision"] != nil {
		t.Errorf("StartUndeploy posted %v, %v", d.posted, err)
	}
	if _, err := c.StartApplyConfigs(ctx, "asset-1", 3, "qa-1"); err != nil || d.posted["operation"] != "ApplyConfigs" || d.posted["revision"] != float64(3) {
		t.Errorf("StartApplyConfigs posted %v, %v", d.posted, err)
	}
	if _, err := c.StartDeploymentOperation(ctx, DeploymentRequest{Operation: "Publish"}); err == nil {
		t.Error("StartDeploymentOperation accepted Publish")
	}

	var waits []time.Duration
	poll := func(elapsed time.Duration) time.Duration { waits = append(waits, elapsed); return time.Millisecond }
	done, err := c.WaitDeploymentOperation(ctx, "op-1", "qa-1", poll)
	if err != nil || !done.Succeeded() || done.FinishedAt != "2026-11-30T10:01:00Z" || done.EnvironmentKey != "qa-1" || d.gets != 3 || len(waits) != 2 {
		t.Errorf("Wait = %+v, %v after %d polls, %d waits", done, err, d.gets, len(waits))
	}

	ops, err := c.ListDeploymentOperations(ctx, DeploymentOperationFilter{AssetKey: "asset-1", EnvironmentKey: "qa-1", Operations: []string{"Deploy", "Undeploy"}})
	if err != nil || len(ops) != 1 || ops[0].EnvironmentKey != "qa-1" {
		t.Errorf("List = %+v, %v", ops, err)
	}
	if q := d.queries[0]; !strings.Contains(q, "operations=Deploy&operations=Undeploy") || !strings.Contains(q, "assetKey=asset-1") || !strings.Contains(q, "environmentKey=qa-1") {
		t.Errorf("query = %s", q)
	}
	msgs, err := c.DeploymentOperationMessages(ctx, "op-1")
	if err != nil || len(msgs) != 2 || msgs[1].AssetKey != "asset-2" || msgs[1].StepID != "ResolveDependencies" {
		t.Errorf("messages = %+v, %v", msgs, err)
	}
}

// A failed operation's error carries its error messages.
func TestODCWaitDeploymentOperationFailure(t *testing.T) {
	d := &fakeDeployments{polls: 0, status: "FinishedWithError"}
	c := newFakeODC(t, d.handler(t)).client(t)
	op, err := c.WaitDeploymentOperation(context.Background(), "op-1", "qa-1", FixedPoll(time.Millisecond))
	var failed *OperationFailedError
	if !errors.As(err, &failed) || op.Status != "FinishedWithError" || len(failed.Messages) != 2 {
		t.Fatalf("Wait = %+v, %v", op, err)
	}
	for _, want := range []string{"the Deploy operation op-1", `"Orders" (asset asset-1) revision 3 in stage qa-1`, "FinishedWithError",
		"Producer 'Orders API' is not deployed in stage 'QA'."} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "Deploying 'Orders'") {
		t.Errorf("error %q lists the Info messages beside the errors", err)
	}
}

// A wait that outlives its context says what it waited for, the last
// status and the messages so far.
func TestODCWaitDeploymentOperationTimeout(t *testing.T) {
	d := &fakeDeployments{polls: 1 << 30, status: "Finished"}
	c := newFakeODC(t, d.handler(t)).client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.WaitDeploymentOperation(ctx, "op-1", "qa-1", FixedPoll(20*time.Millisecond))
	if err == nil {
		t.Fatal("Wait returned without an error")
	}
	for _, want := range []string{"timed out after", "the Deploy operation op-1", `last status seen was "Running"`, "messages so far", "Producer 'Orders API'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestODCPollGuidance(t *testing.T) {
	for elapsed, want := range map[time.Duration]time.Duration{0: 5 * time.Second, 29 * time.Second: 5 * time.Second, 30 * time.Second: 30 * time.Second, time.Hour: 30 * time.Second} {
		if got := ODCPollGuidance(elapsed); got != want {
			t.Errorf("ODCPollGuidance(%s) = %s, want %s", elapsed, got, want)
		}
	}
}
