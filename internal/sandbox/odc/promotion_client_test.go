package odc

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// recordingTransport notes each request's path and whether it carried a
// bearer token.
type recordingTransport struct {
	next  http.RoundTripper
	mu    sync.Mutex
	calls []string
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	auth := "anonymous"
	if req.Header.Get("Authorization") != "" {
		auth = "bearer"
	}
	r.calls = append(r.calls, req.Method+" "+req.URL.Path+" "+auth)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// A public ODC client's deploy command, as OutSystems' CI/CD pages lay it
// out (list revisions, start a Release build, deploy, poll), runs against
// the sandbox through documented endpoints only: the validating transport
// fails the test on any /api/ call no OpenAPI document holds.
func TestODCDeployCommandAgainstSandbox(t *testing.T) {
	sb, v, base := startODCSandbox(t, testOptions{PublishDuration: 50 * time.Millisecond})
	e := &testEnv{t: t, sb: sb, base: base, v: v}
	e.seedPromotion(e.token(clientMigration))
	rec := &recordingTransport{next: v}
	var c *client.ODC
	for _, ac := range sb.Fixture().ODC.APIClients {
		if ac.Name == clientMigration {
			var err error
			if c, err = client.NewODC(client.Config{BaseURL: base, MaxRetries: 0, HTTPClient: &http.Client{Transport: rec}}, ac.ClientID, ac.ClientSecret); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx := context.Background()
	poll := client.FixedPoll(20 * time.Millisecond)
	stages, err := c.ListStages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var qa string
	for _, s := range stages {
		if s.Name == "QA" {
			qa = s.Key
		}
	}

	deploy := func(assetKey string) error {
		revs, err := c.ListRevisions(ctx, assetKey)
		if err != nil {
			return err
		}
		latest := revs[len(revs)-1].Revision
		build, err := c.FindReleaseBuild(ctx, assetKey, latest)
		if err != nil {
			return err
		}
		if build == nil {
			key, err := c.StartBuild(ctx, assetKey, latest, client.BuildTypeRelease)
			if err != nil {
				return err
			}
			if build, err = c.WaitBuild(ctx, key, poll); err != nil {
				return err
			}
		}
		analysis, err := c.AnalyzeDeployment(ctx, assetKey, latest, qa, poll)
		if err != nil {
			return err
		}
		if errs := analysis.Errors(); len(errs) > 0 {
			return errors.New(strings.Join(errs, "; "))
		}
		op, err := c.StartDeploy(ctx, assetKey, latest, build.Key, qa)
		if err != nil {
			return err
		}
		_, err = c.WaitDeploymentOperation(ctx, op.Key, qa, poll)
		return err
	}

	// The consumer first: the analysis stops it, naming the producer.
	if err := deploy(keyOrdersPortal); err == nil || !strings.Contains(err.Error(), "Producer 'Orders API'") {
		t.Fatalf("deploying the consumer first = %v", err)
	}
	for _, k := range []string{keyOrdersAPI, keyOrdersPortal} {
		if err := deploy(k); err != nil {
			t.Fatalf("deploy %s: %v", k, err)
		}
	}
	deployed, err := c.DeployedAssets(ctx, qa)
	if err != nil || len(deployed) != 2 {
		t.Fatalf("deployed in QA = %+v, %v", deployed, err)
	}
	// The consumer's Release build was found again, not started twice.
	if builds, err := c.ListBuilds(ctx, keyOrdersPortal, 1, client.BuildTypeRelease); err != nil || len(builds) != 1 {
		t.Errorf("Release builds of the portal = %+v, %v", builds, err)
	}
	msgs, err := c.BuildMessages(ctx, deployed[0].BuildKey)
	if err != nil || len(msgs) == 0 {
		t.Errorf("build messages = %+v, %v", msgs, err)
	}

	// The revision's source code: the signed URL is fetched without the token.
	sc, err := c.SourceCode(ctx, keyOrdersPortal, 1)
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.DownloadSourceCode(ctx, sc)
	if err != nil || sourceDigest(data) != sc.Digest {
		t.Errorf("download = %d bytes, %v", len(data), err)
	}
	for _, call := range rec.calls {
		api := strings.Contains(call, " /api/")
		if api != strings.HasSuffix(call, " bearer") {
			t.Errorf("call %s: API calls carry the token, the others must not", call)
		}
	}
	for _, op := range []string{"BuildV_ListBuilds", "BuildV_StartNewBuildJob", "BuildV_GetBuild", "DeploymentAnalysis_LaunchDeploymentAnalysis",
		"DeploymentAnalysis_GetResult", "DeploymentOperations_Post", "DeploymentOperations_Get", "AssetRepository_ListAssetRevisions",
		"AssetRepository_GetAssetRevisionSourceCode", "BuildV_GetBuildFeedback"} {
		if v.Calls(op) == 0 {
			t.Errorf("the deploy command never called %s", op)
		}
	}
}
