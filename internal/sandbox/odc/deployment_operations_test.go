package odc

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Apps of the promotion tests: an app other apps consume (its service
// actions) and an app consuming it and a library.
var (
	keyOrdersAPI    = sqldb.DerivedKey("odc-test", "orders-api")
	keyOrdersPortal = sqldb.DerivedKey("odc-test", "orders-portal")
	promotionAssets = []MigratedAsset{
		testAssets[0],
		{Key: keyOrdersAPI, Name: "Orders API", AssetType: AssetTypeWebApp, Producers: []string{keyCore}},
		{Key: keyOrdersPortal, Name: "Orders Portal", AssetType: AssetTypeWebApp, Producers: []string{keyOrdersAPI, keyCore}},
	}
)

// seedPromotion seeds the promotion assets and publishes them to
// Development.
func (e *testEnv) seedPromotion(tok string) {
	e.t.Helper()
	for _, a := range promotionAssets {
		e.seed(a)
		if op := e.publish(tok, a.Key, ""); op.Status != StatusFinished {
			e.t.Fatalf("publish %s = %+v", a.Name, op)
		}
	}
}

// releaseBuild makes a finished Release build of revision 1 of an asset.
func (e *testEnv) releaseBuild(assetKey string) string {
	e.t.Helper()
	b, err := e.sb.svc.startBuild(context.Background(), assetKey, 1, BuildTypeRelease, clientMigration, 0, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return b.Key
}

func (e *testEnv) startDeployment(tok string, body map[string]any) deploymentOperationJSON {
	e.t.Helper()
	r := e.api(http.MethodPost, deploymentBase+"/deployment-operations", tok, body).expect(e.t, http.StatusCreated)
	if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/deployment-operations/"+decode[deploymentOperationJSON](e.t, r).Key) {
		e.t.Errorf("Location = %q", loc)
	}
	return decode[deploymentOperationJSON](e.t, r)
}

// waitDeployment polls a deployment operation until it finishes.
func (e *testEnv) waitDeployment(tok, key string) deploymentOperationJSON {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		op := decode[deploymentOperationJSON](e.t, e.api(http.MethodGet, deploymentBase+"/deployment-operations/"+key, tok, nil).expect(e.t, http.StatusOK))
		if op.Status != StatusRunning {
			return op
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("deployment operation %s still running", key)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *testEnv) deploy(tok string, body map[string]any) deploymentOperationJSON {
	e.t.Helper()
	return e.waitDeployment(tok, e.startDeployment(tok, body).Key)
}

func (e *testEnv) deploymentMessages(tok, key string) []taskMessage {
	e.t.Helper()
	return decode[resultList[taskMessage]](e.t, e.api(http.MethodGet, deploymentBase+"/deployment-operations/"+key+"/messages", tok, nil).expect(e.t, http.StatusOK)).Results
}

// deployedIn lists the keys of the apps the portfolio says are deployed in
// a stage, with their revisions and deployment keys.
func (e *testEnv) deployedIn(tok, stage string) map[string]deployment {
	e.t.Helper()
	type deployed struct {
		Key         string       `json:"key"`
		Deployments []deployment `json:"deployments"`
	}
	out := map[string]deployment{}
	for _, a := range decode[testPage[deployed]](e.t, e.api(http.MethodGet, portfolioBase+"/deployed-assets?environmentKey="+stage, tok, nil).expect(e.t, http.StatusOK)).Results {
		out[a.Key] = a.Deployments[0]
	}
	return out
}

func hasMessage(msgs []taskMessage, severity, typ, contains string) bool {
	return slices.ContainsFunc(msgs, func(m taskMessage) bool {
		return m.Severity == severity && m.Type == typ && strings.Contains(m.Message, contains)
	})
}

func TestODCDeploymentOperations(t *testing.T) {
	e := startODC(t, testOptions{PublishDuration: 100 * time.Millisecond})
	tok := e.token(clientMigration)
	e.seedPromotion(tok)
	e.sb.svc.deployDuration = 400 * time.Millisecond
	dev, qa := e.stage("Development"), e.stage("QA")
	ops := deploymentBase + "/deployment-operations"
	portalBuild, apiBuild := e.releaseBuild(keyOrdersPortal), e.releaseBuild(keyOrdersAPI)
	deployPortal := map[string]any{"operation": "Deploy", "assetKey": keyOrdersPortal, "revision": 1, "buildKey": portalBuild, "environmentKey": qa}

	// A consumer before the app it consumes fails, naming the producer;
	// the library it consumes is bundled, not required in the stage.
	started := e.startDeployment(tok, deployPortal)
	if started.Status != StatusRunning || started.FinishedDateTime != unsetDateTime || started.Operation != "Deploy" ||
		started.BuildKey == nil || *started.BuildKey != portalBuild || !slices.Equal(started.Revisions, []int{1}) ||
		started.AssetName == nil || *started.AssetName != "Orders Portal" || started.DeployedBy == nil || *started.DeployedBy != clientMigration {
		t.Errorf("started = %+v", started)
	}
	e.api(http.MethodPost, ops, tok, deployPortal).expectODCProblem(t, http.StatusBadRequest, "is running")
	failed := e.waitDeployment(tok, started.Key)
	msgs := e.deploymentMessages(tok, failed.Key)
	if failed.Status != StatusFinishedWithError || !hasMessage(msgs, "Error", "ProducerNotDeployed", "Producer 'Orders API' (key "+keyOrdersAPI+") is not deployed in stage 'QA'") ||
		hasMessage(msgs, "Error", "ProducerNotDeployed", "Customer Core") {
		t.Errorf("deploy before the producer = %+v, messages %+v", failed, msgs)
	}
	if got := e.deployedIn(tok, qa); len(got) != 0 {
		t.Errorf("QA after a failed deploy = %+v", got)
	}

	// Producers first: then both are deployed, as the portfolio shows.
	apiOp := e.deploy(tok, map[string]any{"operation": "Deploy", "assetKey": keyOrdersAPI, "revision": 1, "buildKey": apiBuild, "environmentKey": qa})
	portalOp := e.deploy(tok, deployPortal)
	if apiOp.Status != StatusFinished || portalOp.Status != StatusFinished {
		t.Fatalf("deploys = %+v %+v", apiOp, portalOp)
	}
	if msgs := e.deploymentMessages(tok, portalOp.Key); msgs[len(msgs)-1].Type != "DeployFinished" {
		t.Errorf("messages = %+v", msgs)
	}
	got := e.deployedIn(tok, qa)
	if d := got[keyOrdersPortal]; d.DeploymentKey != portalOp.Key || d.BuildKey != portalBuild || d.Revision != 1 || d.DeploymentDateTime != portalOp.FinishedDateTime ||
		d.URL != "https://acme-qa.outsystems.app/OrdersPortal" {
		t.Errorf("Orders Portal in QA = %+v", d)
	}
	if _, ok := got[keyOrdersAPI]; !ok || len(got) != 2 {
		t.Errorf("QA = %+v", got)
	}
	if at, ok := e.sb.PublishedAt(keyOrdersPortal, qa); !ok || sqldb.FormatTime(at) != portalOp.FinishedDateTime {
		t.Errorf("PublishedAt(QA) = %v %v", at, ok)
	}
	// Development is untouched.
	if got := e.deployedIn(tok, dev); len(got) != 2 {
		t.Errorf("Development = %+v", got)
	}

	// Undeploying what a deployed app consumes fails, naming the consumer.
	undeployAPI := map[string]any{"operation": "Undeploy", "assetKey": keyOrdersAPI, "environmentKey": qa}
	refused := e.deploy(tok, undeployAPI)
	if msgs := e.deploymentMessages(tok, refused.Key); refused.Status != StatusFinishedWithError || refused.BuildKey != nil ||
		!hasMessage(msgs, "Error", "ConsumerDeployed", "Consumer 'Orders Portal' (key "+keyOrdersPortal+") revision 1 is deployed in stage 'QA'") {
		t.Errorf("undeploy of a producer = %+v, messages %+v", refused, msgs)
	}

	// ApplyConfigs on the deployed revision.
	applied := e.deploy(tok, map[string]any{"operation": "ApplyConfigs", "assetKey": keyOrdersPortal, "revision": 1, "environmentKey": qa})
	if applied.Status != StatusFinished || applied.BuildKey != nil || !slices.Equal(applied.Revisions, []int{1}) {
		t.Errorf("apply = %+v", applied)
	}
	err := e.sb.db.Read(t.Context(), func(tx *sql.Tx) error {
		started, finished, ok, err := appliedAt(t.Context(), tx, qa, keyOrdersPortal, time.Now())
		if err == nil && (!ok || sqldb.FormatTime(started) != applied.StartedDateTime || sqldb.FormatTime(finished) != applied.FinishedDateTime) {
			t.Errorf("appliedAt = %v %v %v, want %s %s", started, finished, ok, applied.StartedDateTime, applied.FinishedDateTime)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// Consumer first, then producer: both gone from the stage.
	undone := e.deploy(tok, map[string]any{"operation": "Undeploy", "assetKey": keyOrdersPortal, "revision": 1, "environmentKey": qa})
	if undone.Status != StatusFinished {
		t.Fatalf("undeploy = %+v", undone)
	}
	if got := e.deployedIn(tok, qa); len(got) != 1 {
		t.Errorf("QA after undeploying Orders Portal = %+v", got)
	}
	if _, ok := e.sb.PublishedAt(keyOrdersPortal, qa); ok {
		t.Error("PublishedAt reports an undeployed app")
	}
	if op := e.deploy(tok, undeployAPI); op.Status != StatusFinished {
		t.Errorf("undeploy = %+v", op)
	}
	if got := e.deployedIn(tok, qa); len(got) != 0 {
		t.Errorf("QA after undeploying both = %+v", got)
	}
	// Deploying again brings it back.
	if op := e.deploy(tok, map[string]any{"operation": "Deploy", "assetKey": keyOrdersAPI, "revision": 1, "buildKey": apiBuild, "environmentKey": qa}); op.Status != StatusFinished {
		t.Errorf("redeploy = %+v", op)
	}
	if got := e.deployedIn(tok, qa); len(got) != 1 {
		t.Errorf("QA after redeploying = %+v", got)
	}

	// Listing and filters.
	type list = testPage[deploymentOperationJSON]
	all := decode[list](t, e.api(http.MethodGet, ops, tok, nil).expect(t, http.StatusOK)).Results
	if len(all) != 8 || all[0].Operation != "Deploy" || all[0].AssetKey != keyOrdersAPI {
		t.Errorf("list = %d operations, first %+v", len(all), all[0])
	}
	if got := decode[list](t, e.api(http.MethodGet, ops+"?operations=Undeploy&environmentKey="+qa+"&status=Finished", tok, nil).expect(t, http.StatusOK)).Results; len(got) != 2 {
		t.Errorf("finished undeploys = %+v", got)
	}
	if got := decode[list](t, e.api(http.MethodGet, ops+"?assetKey="+keyOrdersPortal+"&sort=CreatedAt&limit=2", tok, nil).expect(t, http.StatusOK)); len(got.Results) != 2 ||
		got.Results[0].Key != started.Key || got.Page.NextPageOffset == nil || *got.Page.NextPageOffset != 2 {
		t.Errorf("portal's operations, oldest first = %+v", got)
	}
	if got := decode[list](t, e.api(http.MethodGet, ops+"?environmentKey="+dev, tok, nil).expect(t, http.StatusOK)).Results; len(got) != 0 {
		t.Errorf("operations in Development = %+v", got)
	}
	e.apiOutsideContract(http.MethodGet, ops+"?status=Done", tok, nil).expectODCProblem(t, http.StatusBadRequest, "'Done'")
	e.api(http.MethodGet, ops+"?sort=Name", tok, nil).expectODCProblem(t, http.StatusBadRequest, "'Name'")
	e.api(http.MethodGet, ops+"?permissionFilter=Everything", tok, nil).expectODCProblem(t, http.StatusBadRequest, "'Everything'")
	e.api(http.MethodGet, ops+"/"+keyCore, tok, nil).expectODCProblem(t, http.StatusNotFound, keyCore)
	e.api(http.MethodGet, ops+"/"+keyCore+"/messages", tok, nil).expectODCProblem(t, http.StatusNotFound, keyCore)
}

func TestODCDeploymentOperationsRefused(t *testing.T) {
	f := fixture.Default()
	f.ODC.APIClients = append(f.ODC.APIClients, fixture.APIClient{Name: "viewer", ClientID: "viewer-1", ClientSecret: "viewer-secret",
		Permissions: []string{fixture.PermissionViewPortfolio}})
	e := startODC(t, testOptions{Fixture: f, PublishDuration: 50 * time.Millisecond})
	tok := e.token(clientMigration)
	e.seedPromotion(tok)
	dev, qa := e.stage("Development"), e.stage("QA")
	ops := deploymentBase + "/deployment-operations"
	build := e.releaseBuild(keyOrdersAPI)
	debug := decode[testPage[publishOperationJSON]](t, e.api(http.MethodGet, deploymentBase+"/publish-operations?assetKey="+keyOrdersAPI, tok, nil).expect(t, http.StatusOK)).Results[0].BuildKey
	failing := e.releaseBuild(keyCore)
	body := func(changes ...any) map[string]any {
		b := map[string]any{"operation": "Deploy", "assetKey": keyOrdersAPI, "revision": 1, "buildKey": build, "environmentKey": qa}
		for i := 0; i < len(changes); i += 2 {
			name := fmt.Sprint(changes[i])
			if changes[i+1] == nil {
				delete(b, name)
			} else {
				b[name] = changes[i+1]
			}
		}
		return b
	}
	for _, tt := range []struct {
		name     string
		body     any
		status   int
		contains []string
		outside  bool // a request the document does not allow
	}{
		{"no body", "", http.StatusBadRequest, []string{"Send a JSON object"}, true},
		{"unknown field", `{"operation":"Deploy","stage":"QA"}`, http.StatusBadRequest, []string{"stage"}, true},
		{"no operation", body("operation", nil), http.StatusBadRequest, []string{"operation is required"}, false},
		{"publish", body("operation", "Publish"), http.StatusBadRequest, []string{"'Publish'"}, true},
		{"no stage", body("environmentKey", nil), http.StatusBadRequest, []string{"environmentKey is required"}, false},
		{"no asset", body("assetKey", nil), http.StatusBadRequest, []string{"assetKey is required"}, false},
		{"no revision", body("revision", nil), http.StatusBadRequest, []string{"revision is required for Deploy"}, false},
		{"no build", body("buildKey", nil), http.StatusBadRequest, []string{"buildKey is required for Deploy", "byBuildType=Release"}, false},
		{"Development", body("environmentKey", dev), http.StatusBadRequest, []string{"'Development'", "publish-operations"}, false},
		{"unknown stage", body("environmentKey", keyCore), http.StatusNotFound, []string{keyCore}, false},
		{"unknown asset", body("assetKey", keyBroken), http.StatusNotFound, []string{keyBroken}, false},
		{"unknown revision", body("revision", 9), http.StatusNotFound, []string{"Revision 9"}, false},
		{"unknown build", body("buildKey", keyBroken), http.StatusNotFound, []string{"Build with key '" + keyBroken + "'"}, false},
		{"debug build", body("buildKey", *debug), http.StatusBadRequest, []string{"Debug build", "only builds of type Release"}, false},
		{"other asset's build", body("buildKey", e.releaseBuild(keyOrdersPortal)), http.StatusBadRequest, []string{"not of 'Orders API'"}, false},
		{"library", body("assetKey", keyCore, "buildKey", failing), http.StatusBadRequest, []string{"is a library", "bundles"}, false},
		{"undeploy what is not there", body("operation", "Undeploy", "buildKey", nil), http.StatusBadRequest, []string{"not deployed in stage 'QA'"}, false},
		{"apply where not deployed", body("operation", "ApplyConfigs", "buildKey", nil), http.StatusBadRequest, []string{"not deployed in stage 'QA'"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.outside {
				e.apiOutsideContract(http.MethodPost, ops, tok, tt.body).expectODCProblem(t, tt.status, tt.contains...)
			} else {
				e.api(http.MethodPost, ops, tok, tt.body).expectODCProblem(t, tt.status, tt.contains...)
			}
		})
	}
	e.api(http.MethodPost, ops, e.token("viewer"), body()).expectODCProblem(t, http.StatusForbidden, "'viewer'", "'Release management > Deploy assets'")
	e.apiOutsideContract(http.MethodGet, ops, "", nil).expectODCProblem(t, http.StatusUnauthorized)
	if got := decode[testPage[deploymentOperationJSON]](t, e.api(http.MethodGet, ops, e.token("viewer"), nil).expect(t, http.StatusOK)).Results; len(got) != 0 {
		t.Errorf("operations after refusals = %+v", got)
	}
	// ApplyConfigs names the deployed revision when asked for another.
	e.deploy(tok, body())
	e.api(http.MethodPost, ops, tok, body("operation", "ApplyConfigs", "buildKey", nil, "revision", 2)).expectODCProblem(t, http.StatusBadRequest, "Revision 2", "(revision 1)")
}
