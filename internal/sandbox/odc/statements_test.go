package odc

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// maxStatementsPerRead bounds the SQL statements one read a refresh makes
// runs, the access token check included.
const maxStatementsPerRead = 6

// statementsPerRead seeds n assets (libraries and apps consuming the first
// library, each published to Development, the first library tagged) and
// counts the statements each read of what a provider refresh needs runs.
func statementsPerRead(t *testing.T, n int) map[string]int64 {
	t.Helper()
	sb, base := startSandbox(t, testOptions{})
	keys := make([]string, n)
	for i := range keys {
		keys[i] = sqldb.DerivedKey("statements", fmt.Sprint(i))
		a := MigratedAsset{Key: keys[i], Name: fmt.Sprintf("Asset %03d", i), AssetType: AssetTypeLibrary}
		if i%2 == 1 {
			a.AssetType, a.Producers = AssetTypeWebApp, []string{keys[0]}
		}
		if _, err := sb.svc.SeedAsset(t.Context(), a); err != nil {
			t.Fatal(err)
		}
		if _, err := sb.svc.PublishNow(t.Context(), keys[i], 1, "statements"); err != nil {
			t.Fatal(err)
		}
	}
	var client fixture.APIClient
	for _, c := range sb.Fixture().ODC.APIClients {
		if c.HasAllPermissions() {
			client = c
		}
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {client.ClientID}, "client_secret": {client.ClientSecret}}
	resp, err := http.PostForm(base+"/identity/realms/"+url.PathEscape(sb.svc.Organization())+"/protocol/openid-connect/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	tok := decode[TokenResponse](t, response{status: resp.StatusCode, body: readAll(t, resp)}).AccessToken
	do(t, http.MethodPatch, base+assetRepoBase+"/assets/"+keys[0]+"/revisions/1", tok, `{"tag": "1.0.0"}`).expect(t, http.StatusNoContent)
	ops := decode[pagedList[publishOperationJSON]](t, do(t, http.MethodGet, base+deploymentBase+"/publish-operations?limit=1&assetKey="+keys[1], tok, nil).expect(t, http.StatusOK)).Results
	if len(ops) != 1 {
		t.Fatalf("publish operations of %s = %+v", keys[1], ops)
	}
	dev := sb.Fixture().ODC.Stages[0].Key
	if _, err := sb.svc.startCodeAnalysis(t.Context(), keys[1], 1, "statements", 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	// keys[1], an app, deployed to QA from a Release build.
	build, err := sb.svc.startBuild(t.Context(), keys[1], 1, BuildTypeRelease, "statements", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	deployed, err := sb.svc.startDeployment(t.Context(), deploymentRequest{Operation: operationDeploy, AssetKey: keys[1], BuildKey: build.Key, Revision: 1,
		EnvironmentKey: sb.Fixture().ODC.Stages[1].Key}, "statements", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	reads := map[string]string{
		"a deployment operation":           deploymentBase + "/deployment-operations/" + deployed.Key,
		"Release builds of a revision":     buildsBase + "/build-operations?byBuildType=Release&assetRevision=1&assetKey=" + keys[1],
		"deployed assets of a later stage": portfolioBase + "/deployed-assets?environmentKey=" + deployed.EnvironmentKey + "&key=" + keys[1],
		"deployed assets of a stage":       portfolioBase + "/deployed-assets?environmentKey=" + dev + "&key=" + keys[1],
		"a revision":                       assetRepoBase + "/assets/" + keys[1] + "/revisions/1",
		"highest tag revision":             assetRepoBase + "/assets/" + keys[0] + "/highest-tag-revision",
		"a library's revisions":            portfolioBase + "/libraries?revisions=All&key=" + keys[0],
		"a publish operation":              deploymentBase + "/publish-operations/" + ops[0].Key,
		"referenced elements":              dependencyBase + "/assets/" + keys[1] + "/revisions/1/referenced-elements",
		"a code-quality summary":           codeQualityBase + "/assets/" + keys[1] + "/revisions/1/analysis-summary",
	}
	counts := map[string]int64{}
	for name, path := range reads {
		before := sb.db.Statements()
		do(t, http.MethodGet, base+path, tok, nil).expect(t, http.StatusOK)
		counts[name] = sb.db.Statements() - before
	}
	return counts
}

// TestNoRequestReloadsTheWorld proves each read a refresh makes reads the
// rows it needs by key: as many statements with 300 assets as with 3, and
// few.
func TestNoRequestReloadsTheWorld(t *testing.T) {
	small, large := statementsPerRead(t, 3), statementsPerRead(t, 300)
	for name, n := range small {
		if n > maxStatementsPerRead || large[name] > maxStatementsPerRead {
			t.Errorf("%s: %d statements with 3 assets, %d with 300; want at most %d", name, n, large[name], maxStatementsPerRead)
		}
		if large[name] != n {
			t.Errorf("%s: %d statements with 3 assets but %d with 300: the read depends on how many assets there are", name, n, large[name])
		}
		t.Logf("%s: %d statements", name, n)
	}
}
