package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc/odctest"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sandboxtest"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

const (
	clientMigration = "migration-pipeline"
	clientNoMigrate = "publisher-no-migrate"
	clientNoRelease = "publisher-no-release"
)

// cloudEnv is a started sandbox with helpers to call its ODC APIs (package
// odc serves them; its own tests are there); every API call is checked
// against the OpenAPI documents.
type cloudEnv struct {
	t    *testing.T
	sb   *Sandbox
	base string
	v    *odctest.Validator
}

func startODC(t *testing.T, opts Options) *cloudEnv {
	t.Helper()
	sb, base := startSandbox(t, opts)
	return &cloudEnv{t: t, sb: sb, base: base, v: odctest.NewValidator(t, base)}
}

func (e *cloudEnv) apiClient(name string) fixture.APIClient {
	e.t.Helper()
	c, ok := e.sb.Fixture().ODC.Client(name)
	if !ok {
		e.t.Fatalf("no API client %q in the fixture", name)
	}
	return c
}

func (e *cloudEnv) stage(name string) string {
	e.t.Helper()
	key, ok := e.sb.Fixture().ODC.StageKey(name)
	if !ok {
		e.t.Fatalf("no stage %q in the fixture", name)
	}
	return key
}

// tokenEndpoint discovers the token endpoint, as clients must.
func (e *cloudEnv) tokenEndpoint() string {
	e.t.Helper()
	r := do(e.t, http.MethodGet, e.base+"/identity/.well-known/openid-configuration", "", nil).expect(e.t, http.StatusOK)
	return decode[oidcConfiguration](e.t, r).TokenEndpoint
}

func (e *cloudEnv) postForm(endpoint string, form url.Values) response {
	e.t.Helper()
	resp, err := http.PostForm(endpoint, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// token gets an access token for a fixture API client.
func (e *cloudEnv) token(name string) string {
	e.t.Helper()
	c := e.apiClient(name)
	r := e.postForm(e.tokenEndpoint(), url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}})
	return decode[odc.TokenResponse](e.t, r.expect(e.t, http.StatusOK)).AccessToken
}

// api calls an ODC API, checking request and response.
func (e *cloudEnv) api(method, path, token string, body any) response {
	e.t.Helper()
	return e.send(method, path, token, body, true)
}

func (e *cloudEnv) send(method, path, token string, body any, checkRequest bool) response {
	e.t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case string:
		data = []byte(b)
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	var reader io.Reader = http.NoBody
	if data != nil {
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.base+path, reader)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if data != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.v.Check(req, data, resp.StatusCode, resp.Header, respBody, checkRequest); err != nil {
		e.t.Errorf("%s %s: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: respBody}
}

// expectODCProblem checks a ProblemDetails answer and that its detail contains
// each of contains.
func (r response) expectODCProblem(t *testing.T, status int, contains ...string) odc.Problem {
	t.Helper()
	r.expect(t, status)
	p := decode[odc.Problem](t, r)
	if p.Status != status || p.Title == "" || p.TraceID == "" {
		t.Errorf("problem = %+v, want status %d with a title and a traceId", p, status)
	}
	for _, c := range contains {
		if !strings.Contains(p.Detail, c) {
			t.Errorf("detail %q does not contain %q", p.Detail, c)
		}
	}
	return p
}

func (e *cloudEnv) seed(a odc.MigratedAsset) {
	e.t.Helper()
	if err := e.sb.SeedODCAsset(a); err != nil {
		e.t.Fatalf("SeedODCAsset(%s): %v", a.Name, err)
	}
}

// waitPublish polls a publish operation until it finishes.
func (e *cloudEnv) waitPublish(token, key string) publishOperation {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		op := decode[publishOperation](e.t, e.api(http.MethodGet, deploymentBase+"/publish-operations/"+key, token, nil).expect(e.t, http.StatusOK))
		if op.Status != odc.StatusRunning {
			return op
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("publish operation %s still running", key)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publish publishes revision 1 of the asset.
func (e *cloudEnv) publish(token, assetKey string, stageKey string) publishOperation {
	e.t.Helper()
	body := map[string]any{"operation": "Publish", "assetKey": assetKey, "revision": 1}
	if stageKey != "" {
		body["environmentKey"] = stageKey
	}
	started := decode[publishOperation](e.t, e.api(http.MethodPost, deploymentBase+"/publish-operations", token, body).expect(e.t, http.StatusCreated))
	return e.waitPublish(token, started.Key)
}

// Assets of the tests: a library, a library consuming it, an app consuming
// the second library, and an app with TrueChange errors.
var (
	keyCore    = sqldb.DerivedKey("odc-test", "customer-core")
	keyPolicy  = sqldb.DerivedKey("odc-test", "policy-rules")
	keyPortal  = sqldb.DerivedKey("odc-test", "customer-portal")
	keyBroken  = sqldb.DerivedKey("odc-test", "broken-app")
	testAssets = []odc.MigratedAsset{
		{Key: keyCore, Name: "Customer Core", AssetType: odc.AssetTypeLibrary},
		{Key: keyPolicy, Name: "Policy Rules", AssetType: odc.AssetTypeLibrary, Producers: []string{keyCore}},
		{Key: keyPortal, Name: "Customer Portal", AssetType: odc.AssetTypeWebApp, Producers: []string{keyPolicy}},
		{Key: keyBroken, Name: "Broken App", AssetType: odc.AssetTypeMobileApp, Producers: []string{keyCore},
			PublishErrors: []string{"Invalid Data Type: 'Site.Tenant' is not defined.", "Required Property: 'Login' screen has no role."}},
	}
)

// The ODC API roots and the answers the tests decode, as the ODC APIs
// document them (package odc serves them).
const (
	portfolioBase  = "/api/portfolios/v2"
	assetRepoBase  = "/api/asset-repository/v1"
	dependencyBase = "/api/dependency-management/v1"
	deploymentBase = "/api/deployments/v1"

	// migrationCreatedBy is who ODC says created migrated revisions.
	migrationCreatedBy = "O11 code migration"

	AssetTypeWebApp    = odc.AssetTypeWebApp
	AssetTypeMobileApp = odc.AssetTypeMobileApp
	AssetTypeLibrary   = odc.AssetTypeLibrary
)

type (
	MigratedAsset = odc.MigratedAsset
)

type oidcConfiguration struct {
	TokenEndpoint string `json:"token_endpoint"`
}

type pagedList[T any] struct {
	Results []T `json:"results"`
	Page    any `json:"page"`
}

type deployedAsset struct {
	Type string `json:"type"`
	Key  string `json:"key"`
}

type publishOperation struct {
	Key              string  `json:"key"`
	Status           string  `json:"status"`
	StartedDateTime  string  `json:"startedDateTime"`
	FinishedDateTime string  `json:"finishedDateTime,omitempty"`
	DeployedBy       string  `json:"deployedBy"`
	AssetKey         string  `json:"assetKey"`
	Revision         int     `json:"revision"`
	BuildKey         *string `json:"buildKey"`
	PortfolioKey     string  `json:"portfolioKey"`
	Operation        string  `json:"operation"`
}

type publishRequestBody struct {
	Operation      *string `json:"operation"`
	AssetKey       *string `json:"assetKey"`
	Revision       *int    `json:"revision"`
	EnvironmentKey *string `json:"environmentKey"`
}

type assetRevision struct {
	AssetKey      string  `json:"assetKey"`
	PortfolioKey  string  `json:"portfolioKey"`
	Revision      int     `json:"revision"`
	Name          string  `json:"name"`
	Tag           *string `json:"tag"`
	ModelDigest   string  `json:"modelDigest"`
	AssetType     string  `json:"assetType"`
	CreatedBy     string  `json:"createdBy"`
	CreatedAt     string  `json:"createdAt"`
	CommitMessage *string `json:"commitMessage"`
	TaggedBy      *string `json:"taggedBy"`
	TaggedAt      *string `json:"taggedAt"`
}

type releaseNoteContent struct {
	Tag     *string `json:"tag"`
	Content *string `json:"content"`
}

func TestODCExports(t *testing.T) {
	s, base := startSandbox(t, Options{})
	c := s.Fixture().ODC.APIClients[0]
	for _, want := range []string{
		"export OUTSYSTEMS_ODC_PORTAL_URL=" + base,
		"export OUTSYSTEMS_ODC_CLIENT_ID=" + c.ClientID,
		"export OUTSYSTEMS_ODC_CLIENT_SECRET=" + c.ClientSecret,
	} {
		if !slices.Contains(s.Exports(), want) {
			t.Errorf("Exports = %v, want %q", s.Exports(), want)
		}
	}
	if c.Name != clientMigration || !c.HasAllPermissions() {
		t.Errorf("first API client = %+v, want migration-pipeline with every permission", c)
	}
}

func TestODCFixtureValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(o map[string]any)
		want   string
	}{
		{"no organization", func(o map[string]any) { delete(o, "organization") }, "odc: organization is required"},
		{"unknown permission", func(o map[string]any) {
			sandboxtest.Object(sandboxtest.Array(o["apiClients"])[0])["permissions"] = []any{"Deploy everything"}
		}, `permission "Deploy everything" must be one of`},
		{"duplicate client id", func(o map[string]any) {
			clients := sandboxtest.Array(o["apiClients"])
			sandboxtest.Object(clients[1])["clientId"] = sandboxtest.Object(clients[0])["clientId"]
		}, "is used more than once"},
		{"no secret", func(o map[string]any) { sandboxtest.Object(sandboxtest.Array(o["apiClients"])[0])["clientSecret"] = "" }, "clientSecret is required"},
		{"two development stages", func(o map[string]any) {
			sandboxtest.Object(sandboxtest.Array(o["stages"])[1])["purpose"] = "Development"
		}, "exactly one stage"},
		{"bad purpose", func(o map[string]any) { sandboxtest.Object(sandboxtest.Array(o["stages"])[2])["purpose"] = "Live" }, `purpose "Live"`},
		{"bad stage key", func(o map[string]any) { sandboxtest.Object(sandboxtest.Array(o["stages"])[0])["key"] = "dev" }, `key "dev" is not a GUID`},
		{"unknown field", func(o map[string]any) { o["region"] = "eu" }, `unknown field "region"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := fixtureJSON(t)
			tt.mutate(sandboxtest.Object(doc["odc"]))
			if _, err := LoadFixture(writeFixture(t, doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadFixture = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	doc := fixtureJSON(t)
	delete(doc, "odc")
	f, err := LoadFixture(writeFixture(t, doc))
	if err != nil || !f.ODC.IsZero() {
		t.Fatalf("a fixture without odc = %v, %+v; want it accepted, empty", err, f.ODC)
	}
}

type testPaging struct{ limit, offset int }

func parseTestPaging(q url.Values, maxLimit int) (testPaging, error) {
	limit, offset, err := odc.ParsePaging(q, maxLimit)
	return testPaging{limit, offset}, err
}
