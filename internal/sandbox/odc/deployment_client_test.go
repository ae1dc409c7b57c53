package odc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// The client's deployment operations against the sandbox, every call
// checked against the deployments API document.
func TestODCClientDeploymentOperations(t *testing.T) {
	sb, v, base := startODCSandbox(t, testOptions{PublishDuration: 50 * time.Millisecond})
	c := newTestClient(t, sb, v, base, clientMigration)
	e := &testEnv{t: t, sb: sb, base: base, v: v}
	tok := e.token(clientMigration)
	e.seedPromotion(tok)
	qa := e.stage("QA")
	ctx := context.Background()
	poll := client.FixedPoll(20 * time.Millisecond)

	// The consumer first: the wait fails with the operation's messages.
	op, err := c.StartDeploy(ctx, keyOrdersPortal, 1, e.releaseBuild(keyOrdersPortal), qa)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.WaitDeploymentOperation(ctx, op.Key, qa, poll)
	var failed *client.OperationFailedError
	if !errors.As(err, &failed) || !strings.Contains(err.Error(), "Producer 'Orders API' (key "+keyOrdersAPI+") is not deployed in stage 'QA'") ||
		!strings.Contains(err.Error(), op.Key) {
		t.Fatalf("wait = %v", err)
	}

	// Producer, then consumer, then apply configurations and undeploy.
	for _, key := range []string{keyOrdersAPI, keyOrdersPortal} {
		op, err := c.StartDeploy(ctx, key, 1, e.releaseBuild(key), qa)
		if err != nil {
			t.Fatal(err)
		}
		if done, err := c.WaitDeploymentOperation(ctx, op.Key, qa, poll); err != nil || !done.Succeeded() || done.Revision != 1 || done.BuildKey == "" {
			t.Fatalf("deploy = %+v, %v", done, err)
		}
	}
	deployed, err := c.DeployedAssets(ctx, qa)
	if err != nil || len(deployed) != 2 {
		t.Fatalf("deployed in QA = %+v, %v", deployed, err)
	}
	apply, err := c.StartApplyConfigs(ctx, keyOrdersPortal, 1, qa)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitDeploymentOperation(ctx, apply.Key, qa, poll); err != nil {
		t.Fatal(err)
	}
	undeploy, err := c.StartUndeploy(ctx, keyOrdersPortal, qa)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitDeploymentOperation(ctx, undeploy.Key, qa, poll); err != nil {
		t.Fatal(err)
	}
	if deployed, err := c.DeployedAssets(ctx, qa); err != nil || len(deployed) != 1 || deployed[0].AssetKey != keyOrdersAPI {
		t.Errorf("deployed in QA after the undeploy = %+v, %v", deployed, err)
	}
	ops, err := c.ListDeploymentOperations(ctx, client.DeploymentOperationFilter{AssetKey: keyOrdersPortal, EnvironmentKey: qa,
		Operations: []string{client.DeploymentOperationUndeploy, client.DeploymentOperationApplyConfigs}, Status: client.PublishStatusFinished})
	if err != nil || len(ops) != 2 || ops[0].Key != undeploy.Key || ops[1].Key != apply.Key {
		t.Errorf("operations = %+v, %v", ops, err)
	}
	msgs, err := c.DeploymentOperationMessages(ctx, undeploy.Key)
	if err != nil || len(msgs) != 2 || msgs[1].Type != "UndeployFinished" {
		t.Errorf("messages = %+v, %v", msgs, err)
	}
	// A refusal is an API error naming what to do.
	if _, err := c.StartUndeploy(ctx, keyOrdersPortal, qa); client.StatusCode(err) != 400 || !strings.Contains(err.Error(), "not deployed in stage 'QA'") {
		t.Errorf("undeploy again = %v", err)
	}
}
