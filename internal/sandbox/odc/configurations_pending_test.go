package odc

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// A configuration value is applied by a Publish, Deploy or ApplyConfigs
// that STARTED after it was set (appliedAt, the one definition the sandbox
// has): a value changed while such an operation runs stays pending after
// the operation finishes, and the next one applies it. In Development
// through a publish, in QA through ApplyConfigs.
func TestAppConfigurationChangedWhileAnOperationRunsStaysPending(t *testing.T) {
	e := startODC(t, testOptions{PublishDuration: 30 * time.Millisecond})
	tok := e.token(clientMigration)
	devBase := seedConfigured(e, tok)
	dev, qa := e.stage("Development"), e.stage("QA")
	build := e.releaseBuild(keyCfgApp)
	time.Sleep(50 * time.Millisecond) // the build finishes
	if op := e.deploy(tok, map[string]any{"operation": "Deploy", "assetKey": keyCfgApp, "revision": 1, "buildKey": build, "environmentKey": qa}); op.Status != StatusFinished {
		t.Fatalf("deploy to QA = %+v", op)
	}
	// Operations long enough to change a value while one runs.
	e.sb.svc.publishDuration, e.sb.svc.deployDuration = 400*time.Millisecond, 400*time.Millisecond
	qaBase := assetConfigBase + "/environments/" + qa + "/applications/" + keyCfgApp

	read := func(base string) (limit, secret testConfig) {
		t.Helper()
		c := decode[testAppConfig](t, e.api(http.MethodGet, base+"/revisions/deployed/configurations", tok, nil).expect(t, http.StatusOK))
		return c.Settings[0], c.Settings[1]
	}
	patch := func(base, limit string) {
		t.Helper()
		l, s := read(base)
		e.api(http.MethodPatch, base+"/configurations", tok, map[string]any{"settings": []map[string]any{
			{"key": l.Key, "value": limit}, {"key": s.Key, "value": "rotated-" + limit},
		}}).expect(t, http.StatusNoContent)
	}
	for _, c := range []struct {
		stage, base string
		start       func() string // starts the operation, returns its key
		wait        func(key string) string
	}{
		{"Development", devBase,
			func() string {
				body := map[string]any{"operation": "Publish", "assetKey": keyCfgApp, "revision": 1, "environmentKey": dev}
				return decode[publishOperationJSON](t, e.api(http.MethodPost, deploymentBase+"/publish-operations", tok, body).expect(t, http.StatusCreated)).Key
			},
			func(key string) string { return e.waitPublish(tok, key).Status }},
		{"QA", qaBase,
			func() string {
				return e.startDeployment(tok, map[string]any{"operation": "ApplyConfigs", "assetKey": keyCfgApp, "revision": 1, "environmentKey": qa}).Key
			},
			func(key string) string { return e.waitDeployment(tok, key).Status }},
	} {
		key := c.start()
		patch(c.base, "77") // while the operation runs
		if status := c.wait(key); status != StatusFinished {
			t.Fatalf("%s: the operation ended %s", c.stage, status)
		}
		limit, secret := read(c.base)
		if strOrNil(limit.Value) != "77" || strOrNil(limit.DeployedValue) == "77" || secret.ValueSetAfterDeploy == nil || !*secret.ValueSetAfterDeploy {
			t.Errorf("%s: a change made while the operation ran is applied (value %s, deployedValue %s, secret valueSetAfterDeploy %s); want pending",
				c.stage, strOrNil(limit.Value), strOrNil(limit.DeployedValue), boolOrNil(secret.ValueSetAfterDeploy))
		}
		if status := c.wait(c.start()); status != StatusFinished {
			t.Fatalf("%s: the second operation ended %s", c.stage, status)
		}
		limit, secret = read(c.base)
		if strOrNil(limit.DeployedValue) != "77" || secret.ValueSetAfterDeploy == nil || *secret.ValueSetAfterDeploy {
			t.Errorf("%s: the next operation did not apply the change (deployedValue %s, secret valueSetAfterDeploy %s)", c.stage, strOrNil(limit.DeployedValue), boolOrNil(secret.ValueSetAfterDeploy))
		}
	}
}

func strOrNil(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func boolOrNil(p *bool) string {
	if p == nil {
		return "<nil>"
	}
	return strconv.FormatBool(*p)
}
