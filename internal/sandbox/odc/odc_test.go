package odc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc/odctest"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

const (
	clientMigration = "migration-pipeline"
	clientNoMigrate = "publisher-no-migrate"
	clientNoRelease = "publisher-no-release"
)

// testEnv is a started sandbox with helpers to call its ODC APIs; every API
// call is checked against the OpenAPI documents.
type testEnv struct {
	t    *testing.T
	sb   *testSandbox
	base string
	v    *odctest.Validator
}

func startODC(t *testing.T, opts testOptions) *testEnv {
	t.Helper()
	sb, base := startSandbox(t, opts)
	return &testEnv{t: t, sb: sb, base: base, v: odctest.NewValidator(t, base)}
}

func (e *testEnv) apiClient(name string) fixture.APIClient {
	e.t.Helper()
	c, ok := e.sb.Fixture().ODC.Client(name)
	if !ok {
		e.t.Fatalf("no API client %q in the fixture", name)
	}
	return c
}

func (e *testEnv) stage(name string) string {
	e.t.Helper()
	key, ok := e.sb.Fixture().ODC.StageKey(name)
	if !ok {
		e.t.Fatalf("no stage %q in the fixture", name)
	}
	return key
}

// tokenEndpoint discovers the token endpoint, as clients must.
func (e *testEnv) tokenEndpoint() string {
	e.t.Helper()
	r := do(e.t, http.MethodGet, e.base+"/identity/.well-known/openid-configuration", "", nil).expect(e.t, http.StatusOK)
	return decode[oidcConfiguration](e.t, r).TokenEndpoint
}

func (e *testEnv) postForm(endpoint string, form url.Values) response {
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
func (e *testEnv) token(name string) string {
	e.t.Helper()
	c := e.apiClient(name)
	r := e.postForm(e.tokenEndpoint(), url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}})
	return decode[TokenResponse](e.t, r.expect(e.t, http.StatusOK)).AccessToken
}

// api calls an ODC API, checking request and response.
func (e *testEnv) api(method, path, token string, body any) response {
	e.t.Helper()
	return e.send(method, path, token, body, true)
}

// apiOutsideContract calls with a request the documents do not allow,
// checking only the response.
func (e *testEnv) apiOutsideContract(method, path, token string, body any) response {
	e.t.Helper()
	return e.send(method, path, token, body, false)
}

func (e *testEnv) send(method, path, token string, body any, checkRequest bool) response {
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
func (r response) expectODCProblem(t *testing.T, status int, contains ...string) {
	t.Helper()
	r.expect(t, status)
	p := decode[Problem](t, r)
	if p.Status != status || p.Title == "" || p.TraceID == "" {
		t.Errorf("problem = %+v, want status %d with a title and a traceId", p, status)
	}
	for _, c := range contains {
		if !strings.Contains(p.Detail, c) {
			t.Errorf("detail %q does not contain %q", p.Detail, c)
		}
	}
}

type testPage[T any] struct {
	Results []T `json:"results"`
	Page    struct {
		Count          int  `json:"count"`
		Limit          int  `json:"limit"`
		Offset         int  `json:"offset"`
		NextPageOffset *int `json:"nextPageOffset"`
		TotalResults   int  `json:"totalResults"`
	} `json:"page"`
}

func (e *testEnv) seed(a MigratedAsset) {
	e.t.Helper()
	if err := e.sb.SeedODCAsset(a); err != nil {
		e.t.Fatalf("SeedODCAsset(%s): %v", a.Name, err)
	}
}

// waitPublish polls a publish operation until it finishes.
func (e *testEnv) waitPublish(token, key string) publishOperationJSON {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		op := decode[publishOperationJSON](e.t, e.api(http.MethodGet, deploymentBase+"/publish-operations/"+key, token, nil).expect(e.t, http.StatusOK))
		if op.Status != StatusRunning {
			return op
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("publish operation %s still running", key)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publish publishes revision 1 of the asset.
func (e *testEnv) publish(token, assetKey string, stageKey string) publishOperationJSON {
	e.t.Helper()
	body := map[string]any{"operation": "Publish", "assetKey": assetKey, "revision": 1}
	if stageKey != "" {
		body["environmentKey"] = stageKey
	}
	started := decode[publishOperationJSON](e.t, e.api(http.MethodPost, deploymentBase+"/publish-operations", token, body).expect(e.t, http.StatusCreated))
	return e.waitPublish(token, started.Key)
}

func (e *testEnv) messages(token, opKey string) []taskMessage {
	e.t.Helper()
	return decode[resultList[taskMessage]](e.t, e.api(http.MethodGet, deploymentBase+"/publish-operations/"+opKey+"/messages", token, nil).expect(e.t, http.StatusOK)).Results
}

// Assets of the tests: a library, a library consuming it, an app consuming
// the second library, and an app with TrueChange errors.
var (
	keyCore    = sqldb.DerivedKey("odc-test", "customer-core")
	keyPolicy  = sqldb.DerivedKey("odc-test", "policy-rules")
	keyPortal  = sqldb.DerivedKey("odc-test", "customer-portal")
	keyBroken  = sqldb.DerivedKey("odc-test", "broken-app")
	testAssets = []MigratedAsset{
		{Key: keyCore, Name: "Customer Core", AssetType: AssetTypeLibrary},
		{Key: keyPolicy, Name: "Policy Rules", AssetType: AssetTypeLibrary, Producers: []string{keyCore}},
		{Key: keyPortal, Name: "Customer Portal", AssetType: AssetTypeWebApp, Producers: []string{keyPolicy}},
		{Key: keyBroken, Name: "Broken App", AssetType: AssetTypeMobileApp, Producers: []string{keyCore},
			PublishErrors: []string{"Invalid Data Type: 'Site.Tenant' is not defined.", "Required Property: 'Login' screen has no role."}},
	}
)

func TestODCDiscoveryAndToken(t *testing.T) {
	e := startODC(t, testOptions{})
	conf := decode[oidcConfiguration](t, do(t, http.MethodGet, e.base+"/identity/.well-known/openid-configuration", "", nil).expect(t, http.StatusOK))
	realm := e.base + "/identity/realms/acme"
	if conf.Issuer != realm || conf.TokenEndpoint != realm+"/protocol/openid-connect/token" || conf.JWKSURI != realm+"/protocol/openid-connect/certs" ||
		!slices.Contains(conf.GrantTypesSupported, "client_credentials") || !slices.Equal(conf.ScopesSupported, []string{"openid"}) {
		t.Errorf("discovery = %+v", conf)
	}
	do(t, http.MethodGet, conf.JWKSURI, "", nil).expect(t, http.StatusOK)

	c := e.apiClient(clientMigration)
	ok := e.postForm(conf.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}).expect(t, http.StatusOK)
	tok := decode[TokenResponse](t, ok)
	if tok.AccessToken == "" || tok.ExpiresIn != 43200 || tok.TokenType != "Bearer" || ok.header.Get("Cache-Control") != "no-store" {
		t.Errorf("token answer = %s (Cache-Control %q)", ok.body, ok.header.Get("Cache-Control"))
	}
	e.api(http.MethodGet, portfolioBase+"/environments", tok.AccessToken, nil).expect(t, http.StatusOK)

	// client_secret_basic works too.
	req, _ := http.NewRequest(http.MethodPost, conf.TokenEndpoint, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ClientID, c.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("basic auth token request = %d", resp.StatusCode)
	}

	oauthError := func(r response, status int, code string) {
		t.Helper()
		r.expect(t, status)
		var body map[string]string
		if err := json.Unmarshal(r.body, &body); err != nil || body["error"] != code || body["error_description"] == "" {
			t.Errorf("answer = %s, want OAuth error %q with a description", r.body, code)
		}
		if strings.Contains(string(r.body), c.ClientSecret) {
			t.Errorf("answer %s repeats the secret", r.body)
		}
	}
	oauthError(e.postForm(conf.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {"wrong"}}),
		http.StatusUnauthorized, "invalid_client")
	oauthError(e.postForm(conf.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "client_id": {"nobody"}, "client_secret": {c.ClientSecret}}),
		http.StatusUnauthorized, "invalid_client")
	oauthError(e.postForm(conf.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}}), http.StatusUnauthorized, "invalid_client")
	oauthError(e.postForm(conf.TokenEndpoint, url.Values{"grant_type": {"password"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}),
		http.StatusBadRequest, "unsupported_grant_type")
	oauthError(e.postForm(conf.TokenEndpoint, url.Values{"client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}), http.StatusBadRequest, "invalid_request")
	oauthError(do(t, http.MethodPost, conf.TokenEndpoint, "", map[string]string{"grant_type": "client_credentials"}), http.StatusBadRequest, "invalid_request")
	oauthError(e.postForm(e.base+"/identity/realms/other/protocol/openid-connect/token", url.Values{"grant_type": {"client_credentials"}}),
		http.StatusNotFound, "invalid_request")
	oauthError(do(t, http.MethodGet, conf.TokenEndpoint, "", nil), http.StatusMethodNotAllowed, "invalid_request")
}

func TestODCAuthentication(t *testing.T) {
	e := startODC(t, testOptions{TokenTTL: time.Second})
	envs := portfolioBase + "/environments"
	r := e.apiOutsideContract(http.MethodGet, envs, "", nil)
	r.expectODCProblem(t, http.StatusUnauthorized, "Authorization: Bearer")
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
	}
	e.api(http.MethodGet, envs, "not-a-token", nil).expectODCProblem(t, http.StatusUnauthorized, "Invalid access token")
	e.api(http.MethodGet, envs, testAdminToken, nil).expectODCProblem(t, http.StatusUnauthorized, "Invalid access token")

	tok := e.token(clientMigration)
	e.api(http.MethodGet, envs, tok, nil).expect(t, http.StatusOK)
	time.Sleep(1100 * time.Millisecond)
	r = e.api(http.MethodGet, envs, tok, nil)
	r.expectODCProblem(t, http.StatusUnauthorized, "expired")
	if !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
	}
	e.api(http.MethodGet, envs, e.token(clientMigration), nil).expect(t, http.StatusOK)
}

// TestODCAuthorize checks the 403 answers naming the API client and the
// permission, through Authorize directly (as the code migration
// endpoints use it) and through the API.
func TestODCAuthorize(t *testing.T) {
	f := fixture.Default()
	f.ODC.APIClients = append(f.ODC.APIClients, fixture.APIClient{Name: "viewer", ClientID: "viewer-1", ClientSecret: "viewer-secret", Permissions: []string{fixture.PermissionViewPortfolio}})
	e := startODC(t, testOptions{Fixture: f})
	tests := []struct {
		client, permission string
		want               int
		contains           []string
	}{
		{clientMigration, fixture.PermissionMigrate, http.StatusOK, nil},
		{clientNoRelease, fixture.PermissionMigrate, http.StatusOK, nil},
		{clientNoMigrate, fixture.PermissionMigrate, http.StatusForbidden, []string{"'publisher-no-migrate'", "'Migrate O11 code'", "'Convert O11 code'"}},
		{clientNoRelease, fixture.PermissionRelease, http.StatusForbidden, []string{"'publisher-no-release'", "'Release management > Release'"}},
		{"viewer", fixture.PermissionPublish, http.StatusForbidden, []string{"'viewer'", "'Asset management > Change'"}},
		{"viewer", "", http.StatusOK, nil},
	}
	for _, tt := range tests {
		t.Run(tt.client+"/"+tt.permission, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/migration-kit/v1/code-migrations", nil)
			req.Header.Set("Authorization", "Bearer "+e.token(tt.client))
			rec := httptest.NewRecorder()
			name, ok := e.sb.svc.Authorize(rec, req, tt.permission)
			if ok != (tt.want == http.StatusOK) {
				t.Fatalf("Authorize ok = %v, want %v; answer %d %s", ok, !ok, rec.Code, rec.Body)
			}
			if ok {
				if name != tt.client || rec.Body.Len() != 0 {
					t.Errorf("Authorize = %q with body %q, want %q and no answer", name, rec.Body, tt.client)
				}
				return
			}
			response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}.expectODCProblem(t, tt.want, tt.contains...)
		})
	}
	req := httptest.NewRequest(http.MethodGet, "/api/migration-kit/v1/code-migrations", nil)
	rec := httptest.NewRecorder()
	if _, ok := e.sb.svc.Authorize(rec, req, fixture.PermissionMigrate); ok || rec.Code != http.StatusUnauthorized {
		t.Errorf("Authorize without a token = %v, %d; want 401", ok, rec.Code)
	}

	e.seed(testAssets[0])
	e.api(http.MethodPatch, assetRepoBase+"/assets/"+keyCore+"/revisions/1", e.token(clientNoRelease), map[string]any{"tag": "1.0.0"}).
		expectODCProblem(t, http.StatusForbidden, "'publisher-no-release'", "'Release management > Release'")
	e.api(http.MethodPost, deploymentBase+"/publish-operations", e.token("viewer"), map[string]any{"operation": "Publish", "assetKey": keyCore, "revision": 1}).
		expectODCProblem(t, http.StatusForbidden, "'viewer'", "'Asset management > Change'")
	e.api(http.MethodGet, assetRepoBase+"/assets/"+keyCore, e.token(clientNoRelease), nil).expect(t, http.StatusOK)
}

func TestODCStages(t *testing.T) {
	e := startODC(t, testOptions{})
	tok := e.token(clientMigration)
	type env struct {
		Key, Name, Purpose, DefaultDomain, PortfolioKey string
		Order                                           int
	}
	envs := decode[testPage[env]](t, e.api(http.MethodGet, portfolioBase+"/environments", tok, nil).expect(t, http.StatusOK)).Results
	want := []env{
		{Key: e.stage("Development"), Name: "Development", Purpose: fixture.PurposeDevelopment, Order: 1, DefaultDomain: "acme-development.outsystems.app"},
		{Key: e.stage("QA"), Name: "QA", Purpose: fixture.PurposeNonProduction, Order: 2, DefaultDomain: "acme-qa.outsystems.app"},
		{Key: e.stage("Production"), Name: "Production", Purpose: fixture.PurposeProduction, Order: 3, DefaultDomain: "acme-production.outsystems.app"},
	}
	for i := range want {
		want[i].PortfolioKey = e.sb.Fixture().ODC.PortfolioKey
	}
	if !slices.Equal(envs, want) {
		t.Errorf("environments = %+v\nwant %+v", envs, want)
	}
	other := sqldb.DerivedKey("other-portfolio")
	if got := decode[testPage[env]](t, e.api(http.MethodGet, portfolioBase+"/environments?portfolioKey="+other, tok, nil).expect(t, http.StatusOK)).Results; len(got) != 0 {
		t.Errorf("environments of another portfolio = %+v, want none", got)
	}
	// No operation to check it against: the answer is still a ProblemDetails.
	r := do(t, http.MethodDelete, e.base+portfolioBase+"/environments", tok, nil)
	r.expectODCProblem(t, http.StatusMethodNotAllowed, "DELETE")
	if r.header.Get("Allow") != "GET" {
		t.Errorf("Allow = %q", r.header.Get("Allow"))
	}
}

func TestODCAssetRepository(t *testing.T) {
	e := startODC(t, testOptions{})
	tok := e.token(clientMigration)
	for _, a := range testAssets {
		e.seed(a)
	}
	assets := assetRepoBase + "/assets"

	core := decode[assetRevision](t, e.api(http.MethodGet, assets+"/"+keyCore, tok, nil).expect(t, http.StatusOK))
	if core.AssetKey != keyCore || core.Name != "Customer Core" || core.AssetType != AssetTypeLibrary || core.Revision != 1 ||
		core.Tag != nil || core.CreatedBy != migrationCreatedBy || core.Embedded != nil {
		t.Errorf("asset = %+v", core)
	}
	latest := decode[assetRevision](t, e.api(http.MethodGet, assets+"/"+keyCore+"/latest-revision", tok, nil).expect(t, http.StatusOK))
	if latest.Revision != 1 || latest.ModelDigest != core.ModelDigest {
		t.Errorf("latest revision = %+v", latest)
	}
	e.api(http.MethodGet, assets+"/"+sqldb.DerivedKey("missing"), tok, nil).expectODCProblem(t, http.StatusNotFound, "was not found")
	e.api(http.MethodGet, assets+"/"+keyCore+"/revisions/7", tok, nil).expectODCProblem(t, http.StatusNotFound, "Revision 7")
	e.apiOutsideContract(http.MethodGet, assets+"/"+keyCore+"/revisions/zero", tok, nil).expectODCProblem(t, http.StatusBadRequest, "'zero'")
	e.api(http.MethodGet, assets+"/"+keyCore+"?embed=thumbnail", tok, nil).expectODCProblem(t, http.StatusBadRequest, "thumbnail")
	e.api(http.MethodGet, assets+"/"+keyCore+"/highest-tag-revision", tok, nil).expectODCProblem(t, http.StatusNotFound, "has no tagged revision")

	// The list: paging, filters, sorting.
	page := decode[testPage[assetRevision]](t, e.api(http.MethodGet, assets+"?limit=3", tok, nil).expect(t, http.StatusOK))
	if names := revisionNames(page.Results); !slices.Equal(names, []string{"Broken App", "Customer Core", "Customer Portal"}) ||
		page.Page.TotalResults != 4 || page.Page.NextPageOffset == nil || *page.Page.NextPageOffset != 3 {
		t.Errorf("first page = %v %+v", names, page.Page)
	}
	page = decode[testPage[assetRevision]](t, e.api(http.MethodGet, assets+"?limit=3&offset=3", tok, nil).expect(t, http.StatusOK))
	if names := revisionNames(page.Results); !slices.Equal(names, []string{"Policy Rules"}) || page.Page.NextPageOffset != nil {
		t.Errorf("second page = %v %+v", names, page.Page)
	}
	page = decode[testPage[assetRevision]](t, e.api(http.MethodGet, assets+"?assetTypes=LowCodeLibrary&sort=-name", tok, nil).expect(t, http.StatusOK))
	if names := revisionNames(page.Results); !slices.Equal(names, []string{"Policy Rules", "Customer Core"}) {
		t.Errorf("libraries = %v", names)
	}
	page = decode[testPage[assetRevision]](t, e.api(http.MethodGet, assets+"?nameContains=portal&assetKeys="+keyPortal+"&metadata.isDeployable=true", tok, nil).expect(t, http.StatusOK))
	if names := revisionNames(page.Results); !slices.Equal(names, []string{"Customer Portal"}) {
		t.Errorf("filtered = %v", names)
	}
	e.apiOutsideContract(http.MethodGet, assets+"?limit=0", tok, nil).expectODCProblem(t, http.StatusBadRequest, "limit")
	e.api(http.MethodGet, assets+"?sort=size", tok, nil).expectODCProblem(t, http.StatusBadRequest, "size")

	withEmbeds := decode[assetRevision](t, e.api(http.MethodGet, assets+"/"+keyPortal+"?embed=releaseNote&embed=metadata", tok, nil).expect(t, http.StatusOK))
	if em := withEmbeds.Embedded; em == nil || em.ReleaseNote == nil || em.ReleaseNote.ReleaseNoteURL != nil || em.Metadata == nil ||
		!em.Metadata.IsDeployable || em.Metadata.URLPath == nil || *em.Metadata.URLPath != "CustomerPortal" {
		t.Errorf("embedded = %+v", withEmbeds.Embedded)
	}

	// A second migration adds revision 2.
	e.seed(MigratedAsset{Key: keyCore, Name: "Customer Core", AssetType: AssetTypeLibrary})
	revs := decode[testPage[assetRevision]](t, e.api(http.MethodGet, assets+"/"+keyCore+"/revisions?sort=-revision", tok, nil).expect(t, http.StatusOK)).Results
	if len(revs) != 2 || revs[0].Revision != 2 || revs[1].Revision != 1 || revs[0].ModelDigest == revs[1].ModelDigest {
		t.Errorf("revisions = %+v", revs)
	}
	rev := decode[assetRevision](t, e.api(http.MethodGet, assets+"/"+keyCore+"/revisions/1", tok, nil).expect(t, http.StatusOK))
	if rev.Revision != 1 {
		t.Errorf("revision 1 = %+v", rev)
	}
	if got := decode[assetRevision](t, e.api(http.MethodGet, assets+"/"+keyCore, tok, nil).expect(t, http.StatusOK)); got.Revision != 2 {
		t.Errorf("asset after a second migration is at revision %d, want 2", got.Revision)
	}
	notes := decode[releaseNoteContent](t, e.api(http.MethodGet, assets+"/"+keyCore+"/revisions/1/release-notes", tok, nil).expect(t, http.StatusOK))
	if notes.Tag != nil || notes.Content != nil {
		t.Errorf("release notes of an untagged revision = %+v", notes)
	}
}

func revisionNames(revs []assetRevision) []string {
	names := make([]string, len(revs))
	for i, r := range revs {
		names[i] = r.Name
	}
	return names
}

func TestODCTagging(t *testing.T) {
	e := startODC(t, testOptions{})
	tok := e.token(clientMigration)
	e.seed(testAssets[0])
	e.seed(MigratedAsset{Key: keyCore, Name: "Customer Core", AssetType: AssetTypeLibrary})
	rev := func(n int) string { return fmt.Sprintf("%s/assets/%s/revisions/%d", assetRepoBase, keyCore, n) }
	get := func(n int) assetRevision {
		return decode[assetRevision](t, e.api(http.MethodGet, rev(n), tok, nil).expect(t, http.StatusOK))
	}
	if _, ok := e.sb.ReleasedAt(keyCore); ok {
		t.Error("ReleasedAt before any tag reports a time")
	}

	before := time.Now()
	e.api(http.MethodPatch, rev(1), tok, map[string]any{"tag": "1.0.0", "releaseNotes": "First release in ODC.", "commitMessage": "Migrated from O11"}).expect(t, http.StatusNoContent)
	r1 := get(1)
	if r1.Tag == nil || *r1.Tag != "1.0.0" || r1.TaggedBy == nil || *r1.TaggedBy != clientMigration || r1.TaggedAt == nil ||
		r1.CommitMessage == nil || *r1.CommitMessage != "Migrated from O11" {
		t.Errorf("revision 1 after tagging = %+v", r1)
	}
	released, ok := e.sb.ReleasedAt(keyCore)
	if !ok || released.Before(before) || released.After(time.Now()) {
		t.Errorf("ReleasedAt = %v, %v", released, ok)
	}
	notes := decode[releaseNoteContent](t, e.api(http.MethodGet, rev(1)+"/release-notes", tok, nil).expect(t, http.StatusOK))
	if notes.Tag == nil || *notes.Tag != "1.0.0" || notes.Content == nil || *notes.Content != "First release in ODC." {
		t.Errorf("release notes = %+v", notes)
	}
	embedded := decode[assetRevision](t, e.api(http.MethodGet, rev(1)+"?embed=releaseNote", tok, nil).expect(t, http.StatusOK))
	if l := embedded.Embedded.ReleaseNote; l.ReleaseNoteURL == nil || *l.ReleaseNoteURL != e.base+rev(1)+"/release-notes" {
		t.Errorf("release note link = %+v", l)
	}
	highest := decode[assetRevision](t, e.api(http.MethodGet, assetRepoBase+"/assets/"+keyCore+"/highest-tag-revision", tok, nil).expect(t, http.StatusOK))
	if highest.Revision != 1 {
		t.Errorf("highest tag revision = %d, want 1", highest.Revision)
	}

	// The tag must be higher than the asset's highest tag, and well formed.
	e.api(http.MethodPatch, rev(2), tok, map[string]any{"tag": "0.9.0"}).expectODCProblem(t, http.StatusBadRequest, "'0.9.0'", "'1.0.0'", "revision 1")
	e.api(http.MethodPatch, rev(2), tok, map[string]any{"tag": "1.0.0"}).expectODCProblem(t, http.StatusBadRequest, "'1.0.0' must be higher than '1.0.0'")
	e.api(http.MethodPatch, rev(2), tok, map[string]any{"tag": "v1.1"}).expectODCProblem(t, http.StatusBadRequest, "Major.Minor.Patch")
	// Release notes need a tag.
	e.api(http.MethodPatch, rev(2), tok, map[string]any{"releaseNotes": "No tag yet"}).expectODCProblem(t, http.StatusBadRequest, "Release notes", "no tag")
	e.api(http.MethodPatch, rev(2), tok, map[string]any{"tag": nil, "releaseNotes": "Cleared"}).expectODCProblem(t, http.StatusBadRequest, "Release notes")
	e.apiOutsideContract(http.MethodPatch, rev(2), tok, map[string]any{"version": "2.0.0"}).expectODCProblem(t, http.StatusBadRequest, "Unknown field 'version'")
	e.apiOutsideContract(http.MethodPatch, rev(2), tok, map[string]any{"tag": 2}).expectODCProblem(t, http.StatusBadRequest, "string or null")
	e.api(http.MethodPatch, assetRepoBase+"/assets/"+keyCore+"/revisions/9", tok, map[string]any{"tag": "9.0.0"}).expectODCProblem(t, http.StatusNotFound, "Revision 9")

	time.Sleep(5 * time.Millisecond)
	e.api(http.MethodPatch, rev(2), tok, map[string]any{"tag": "1.1.0"}).expect(t, http.StatusNoContent)
	// Release notes may be added to an already tagged revision.
	e.api(http.MethodPatch, rev(2), tok, map[string]any{"releaseNotes": "Second wave."}).expect(t, http.StatusNoContent)
	if r2 := get(2); r2.Tag == nil || *r2.Tag != "1.1.0" {
		t.Errorf("revision 2 = %+v", r2)
	}
	releasedAgain, _ := e.sb.ReleasedAt(keyCore)
	if !releasedAgain.After(released) {
		t.Errorf("ReleasedAt after tagging 1.1.0 = %v, want after %v", releasedAgain, released)
	}
	highest = decode[assetRevision](t, e.api(http.MethodGet, assetRepoBase+"/assets/"+keyCore+"/highest-tag-revision", tok, nil).expect(t, http.StatusOK))
	if highest.Revision != 2 {
		t.Errorf("highest tag revision = %d, want 2", highest.Revision)
	}
	tagged := decode[testPage[assetRevision]](t, e.api(http.MethodGet, assetRepoBase+"/assets/"+keyCore+"/revisions?isTagged=true&sort=-tag", tok, nil).expect(t, http.StatusOK)).Results
	if len(tagged) != 2 || *tagged[0].Tag != "1.1.0" {
		t.Errorf("tagged revisions = %+v", tagged)
	}

	// "tag": null clears the tag and its release notes.
	e.api(http.MethodPatch, rev(2), tok, map[string]any{"tag": nil}).expect(t, http.StatusNoContent)
	if r2 := get(2); r2.Tag != nil || r2.TaggedAt != nil || r2.TaggedBy != nil {
		t.Errorf("revision 2 after clearing = %+v", r2)
	}
	if n := decode[releaseNoteContent](t, e.api(http.MethodGet, rev(2)+"/release-notes", tok, nil).expect(t, http.StatusOK)); n.Content != nil {
		t.Errorf("release notes after clearing = %+v", n)
	}
	if at, _ := e.sb.ReleasedAt(keyCore); !at.Equal(released) {
		t.Errorf("ReleasedAt after clearing 1.1.0 = %v, want the 1.0.0 time %v", at, released)
	}
	// Once cleared, 1.0.1 is higher than every remaining tag.
	e.api(http.MethodPatch, rev(2), tok, map[string]any{"tag": "1.0.1"}).expect(t, http.StatusNoContent)
}

func TestODCPublish(t *testing.T) {
	e := startODC(t, testOptions{PublishDuration: 150 * time.Millisecond})
	tok := e.token(clientMigration)
	for _, a := range testAssets {
		e.seed(a)
	}
	dev, qa := e.stage("Development"), e.stage("QA")
	ops := deploymentBase + "/publish-operations"

	// A consumer before its producer fails, naming the producer.
	started := decode[publishOperationJSON](t, e.api(http.MethodPost, ops, tok, map[string]any{"assetKey": keyPolicy, "revision": 1}).expect(t, http.StatusCreated))
	if started.Status != StatusRunning || started.FinishedDateTime != unsetDateTime || started.BuildKey != nil || started.Operation != "Publish" || started.DeployedBy != clientMigration {
		t.Errorf("started = %+v", started)
	}
	if msgs := e.messages(tok, started.Key); len(msgs) != 1 || msgs[0].Severity != "Info" {
		t.Errorf("messages while running = %+v, want the start message only", msgs)
	}
	failed := e.waitPublish(tok, started.Key)
	if failed.Status != StatusFinishedWithError || failed.FinishedDateTime == "" || failed.BuildKey != nil {
		t.Errorf("finished = %+v", failed)
	}
	msgs := e.messages(tok, failed.Key)
	if !slices.ContainsFunc(msgs, func(m taskMessage) bool {
		return m.Severity == "Error" && m.Type == "ProducerNotPublished" && m.AdditionalInfo.AssetKey != nil && *m.AdditionalInfo.AssetKey == keyCore &&
			m.Message == "Producer 'Customer Core' (key "+keyCore+") is not published in stage 'Development'. Publish it first."
	}) {
		t.Errorf("messages = %+v, want one naming Customer Core", msgs)
	}
	if _, ok := e.sb.PublishedAt(keyPolicy, dev); ok {
		t.Error("PublishedAt reports a failed publish")
	}

	// Producers first, then consumers.
	core := e.publish(tok, keyCore, dev)
	policy := e.publish(tok, keyPolicy, "")
	portal := e.publish(tok, keyPortal, dev)
	for _, op := range []publishOperationJSON{core, policy, portal} {
		if op.Status != StatusFinished || op.BuildKey == nil {
			t.Errorf("publish = %+v, want Finished with a build", op)
		}
	}
	coreAt, ok1 := e.sb.PublishedAt(keyCore, dev)
	policyAt, ok2 := e.sb.PublishedAt(keyPolicy, strings.ToUpper(dev))
	portalAt, ok3 := e.sb.PublishedAt(keyPortal, dev)
	if !ok1 || !ok2 || !ok3 || !coreAt.Before(policyAt) || !policyAt.Before(portalAt) {
		t.Errorf("PublishedAt = %v %v %v (%v %v %v), want increasing", coreAt, policyAt, portalAt, ok1, ok2, ok3)
	}
	if msgs := e.messages(tok, portal.Key); msgs[len(msgs)-1].Message != "Published 'Customer Portal' revision 1 to stage 'Development'." {
		t.Errorf("messages = %+v", msgs)
	}

	// TrueChange errors make publishing fail with their messages.
	broken := e.publish(tok, keyBroken, dev)
	if broken.Status != StatusFinishedWithError {
		t.Errorf("broken app publish = %+v", broken)
	}
	var errs []string
	for _, m := range e.messages(tok, broken.Key) {
		if m.Type == "TrueChangeError" {
			errs = append(errs, m.Message)
		}
	}
	if len(errs) != 2 || !strings.Contains(errs[0], "'Site.Tenant' is not defined") {
		t.Errorf("TrueChange messages = %q", errs)
	}

	// In QA nothing is published: the portal's producer is missing there.
	qaOp := e.publish(tok, keyPortal, qa)
	if qaOp.Status != StatusFinishedWithError || !slices.ContainsFunc(e.messages(tok, qaOp.Key), func(m taskMessage) bool {
		return strings.Contains(m.Message, "Producer 'Policy Rules'") && strings.Contains(m.Message, "stage 'QA'")
	}) {
		t.Errorf("publish to QA = %+v, want a failure naming Policy Rules", qaOp)
	}

	// Deployed assets list the apps (libraries are not deployed to stages).
	type deployed struct {
		Type        string       `json:"type"`
		Key         string       `json:"key"`
		Deployments []deployment `json:"deployments"`
	}
	da := decode[testPage[deployed]](t, e.api(http.MethodGet, portfolioBase+"/deployed-assets?environmentKey="+dev, tok, nil).expect(t, http.StatusOK)).Results
	if len(da) != 1 || da[0].Key != keyPortal || da[0].Type != AssetTypeWebApp || len(da[0].Deployments) != 1 {
		t.Fatalf("deployed assets in Development = %+v", da)
	}
	d := da[0].Deployments[0]
	if d.EnvironmentKey != dev || d.Revision != 1 || d.BuildKey != *portal.BuildKey || d.DeploymentKey != portal.Key ||
		d.DeploymentDateTime != portal.FinishedDateTime || d.URL != "https://acme-development.outsystems.app/CustomerPortal" {
		t.Errorf("deployment = %+v", d)
	}
	if got := decode[testPage[deployed]](t, e.api(http.MethodGet, portfolioBase+"/deployed-assets?environmentKey="+qa, tok, nil).expect(t, http.StatusOK)).Results; len(got) != 0 {
		t.Errorf("deployed assets in QA = %+v", got)
	}

	// Libraries show when their revisions were published.
	libs := decode[testPage[library]](t, e.api(http.MethodGet, portfolioBase+"/libraries?revisions=All", tok, nil).expect(t, http.StatusOK)).Results
	if len(libs) != 2 || libs[0].Key != keyCore || len(libs[0].Revisions) != 1 || libs[0].Revisions[0].PublishDateTime != core.FinishedDateTime ||
		!libs[0].Revisions[0].IsLatest {
		t.Errorf("libraries = %+v", libs)
	}
	if got := decode[testPage[library]](t, e.api(http.MethodGet, portfolioBase+"/libraries?revisions=HighestTag&key="+keyCore, tok, nil).expect(t, http.StatusOK)).Results; len(got) != 1 || len(got[0].Revisions) != 0 {
		t.Errorf("highest tagged revisions of an untagged library = %+v", got)
	}
	e.apiOutsideContract(http.MethodGet, portfolioBase+"/libraries?revisions=Some", tok, nil).expectODCProblem(t, http.StatusBadRequest, "Some")

	// Listing operations: newest first, filters, paging.
	list := decode[testPage[publishOperationJSON]](t, e.api(http.MethodGet, ops+"?assetKey="+keyPortal, tok, nil).expect(t, http.StatusOK)).Results
	if len(list) != 2 || list[0].Key != qaOp.Key || list[1].Key != portal.Key {
		t.Errorf("operations of the portal = %+v", list)
	}
	list = decode[testPage[publishOperationJSON]](t, e.api(http.MethodGet, ops+"?assetKey="+keyPortal+"&environmentKey="+dev+"&status=Finished", tok, nil).expect(t, http.StatusOK)).Results
	if len(list) != 1 || list[0].Key != portal.Key {
		t.Errorf("finished operations of the portal in Development = %+v", list)
	}
	page := decode[testPage[publishOperationJSON]](t, e.api(http.MethodGet, ops+"?limit=2&offset=1&sort=CreatedAt", tok, nil).expect(t, http.StatusOK))
	if len(page.Results) != 2 || page.Results[0].Key != core.Key || page.Page.NextPageOffset == nil || *page.Page.NextPageOffset != 3 {
		t.Errorf("page = %+v", page)
	}
	e.apiOutsideContract(http.MethodGet, ops+"?status=Done", tok, nil).expectODCProblem(t, http.StatusBadRequest, "'Done'")

	// Bad requests.
	e.api(http.MethodGet, ops+"/"+sqldb.DerivedKey("missing-op"), tok, nil).expectODCProblem(t, http.StatusNotFound, "was not found")
	e.api(http.MethodGet, ops+"/"+sqldb.DerivedKey("missing-op")+"/messages", tok, nil).expectODCProblem(t, http.StatusNotFound, "was not found")
	e.api(http.MethodPost, ops, tok, map[string]any{"assetKey": sqldb.DerivedKey("missing"), "revision": 1}).expectODCProblem(t, http.StatusNotFound, "Asset")
	e.api(http.MethodPost, ops, tok, map[string]any{"assetKey": keyCore, "revision": 1, "environmentKey": sqldb.DerivedKey("missing-stage")}).expectODCProblem(t, http.StatusNotFound, "Stage")
	e.api(http.MethodPost, ops, tok, map[string]any{"assetKey": keyCore}).expectODCProblem(t, http.StatusBadRequest, "revision is required")
	e.apiOutsideContract(http.MethodPost, ops, tok, map[string]any{"operation": "Deploy", "assetKey": keyCore, "revision": 1}).expectODCProblem(t, http.StatusBadRequest, "'Deploy'")
	e.apiOutsideContract(http.MethodPost, ops, tok, map[string]any{"assetKey": keyCore, "revision": 1, "buildType": "Release"}).expectODCProblem(t, http.StatusBadRequest, "buildType")

	// Dependencies, as deployed in a stage.
	type producer struct {
		Key              string   `json:"key"`
		Name             string   `json:"name"`
		Revision         int      `json:"revision"`
		Type             string   `json:"type"`
		IsDirectProducer bool     `json:"isDirectProducer"`
		Producers        []string `json:"producers"`
	}
	producers := e.api(http.MethodGet, dependencyBase+"/assets/"+keyPortal+"/revisions/1/producers?environmentKey="+dev, tok, nil)
	got := decode[testPage[producer]](t, producers.expect(t, http.StatusOK)).Results
	want := []producer{
		{Key: keyCore, Name: "Customer Core", Revision: 1, Type: AssetTypeLibrary, Producers: []string{}},
		{Key: keyPolicy, Name: "Policy Rules", Revision: 1, Type: AssetTypeLibrary, IsDirectProducer: true, Producers: []string{keyCore}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("producers = %+v\nwant %+v", got, want)
	}
	direct := decode[testPage[producer]](t, e.api(http.MethodGet, dependencyBase+"/assets/"+keyPortal+"/revisions/1/producers?maxDepth=1&sort=-name", tok, nil).expect(t, http.StatusOK)).Results
	if len(direct) != 1 || direct[0].Key != keyPolicy {
		t.Errorf("direct producers = %+v", direct)
	}
	if got := decode[testPage[producer]](t, e.api(http.MethodGet, dependencyBase+"/assets/"+keyPortal+"/revisions/1/producers?producerTypeFilter=Deployable", tok, nil).expect(t, http.StatusOK)).Results; len(got) != 0 {
		t.Errorf("deployable producers = %+v", got)
	}
	if got := decode[testPage[producer]](t, e.api(http.MethodGet, dependencyBase+"/assets/"+keyPortal+"/revisions/1/producers?environmentKey="+qa, tok, nil).expect(t, http.StatusOK)).Results; len(got) != 0 {
		t.Errorf("producers deployed in QA = %+v", got)
	}
	e.api(http.MethodGet, dependencyBase+"/assets/"+keyPortal+"/revisions/1/producers?producerTypeFilter=Apps", tok, nil).expectODCProblem(t, http.StatusBadRequest, "Apps")
	e.api(http.MethodGet, dependencyBase+"/assets/"+keyPortal+"/revisions/3/producers", tok, nil).expectODCProblem(t, http.StatusNotFound, "Revision 3")

	graph := decode[testPage[producerNode]](t, e.api(http.MethodGet, dependencyBase+"/assets/"+keyPortal+"/revisions/1/producer-graph", tok, nil).expect(t, http.StatusOK)).Results
	if len(graph) != 1 || graph[0].Key != keyPolicy || len(graph[0].Producers) != 1 || graph[0].Producers[0].Key != keyCore {
		t.Errorf("producer graph = %+v", graph)
	}
	consumers := decode[testPage[dependency]](t, e.api(http.MethodGet, dependencyBase+"/assets/"+keyCore+"/consumers", tok, nil).expect(t, http.StatusOK)).Results
	if len(consumers) != 1 || consumers[0].Key != keyPolicy {
		t.Errorf("consumers of Customer Core = %+v", consumers)
	}
	if got := decode[testPage[dependency]](t, e.api(http.MethodGet, dependencyBase+"/assets/"+keyPolicy+"/consumers?environmentKey="+qa, tok, nil).expect(t, http.StatusOK)).Results; len(got) != 0 {
		t.Errorf("consumers in QA = %+v", got)
	}
	e.api(http.MethodGet, dependencyBase+"/assets/"+sqldb.DerivedKey("missing")+"/consumers", tok, nil).expectODCProblem(t, http.StatusNotFound, "Asset")

	// Every operation the sandbox serves was checked against the documents.
	for _, op := range []string{
		"DeployedAssets_ListAssets", "Libraries_ListLibraries",
		"PublishOperations_Post", "PublishOperations_Get", "PublishOperations_Filter", "PublishOperations_GetMessages",
		"DependencyManagement_ListAssetProducers", "DependencyManagement_ListAssetProducerGraph", "DependencyManagement_ListAssetConsumers",
	} {
		if e.v.Calls(op) == 0 {
			t.Errorf("operation %s was not exercised", op)
		}
	}
}

// TestODCOperationsCovered runs one call of each asset repository operation
// the sandbox serves, so a new endpoint cannot go unchecked.
func TestODCOperationsCovered(t *testing.T) {
	e := startODC(t, testOptions{})
	tok := e.token(clientMigration)
	e.seed(testAssets[0])
	a := assetRepoBase + "/assets/" + keyCore
	e.api(http.MethodGet, assetRepoBase+"/assets", tok, nil).expect(t, http.StatusOK)
	e.api(http.MethodGet, a, tok, nil).expect(t, http.StatusOK)
	e.api(http.MethodGet, a+"/latest-revision", tok, nil).expect(t, http.StatusOK)
	e.api(http.MethodGet, a+"/revisions", tok, nil).expect(t, http.StatusOK)
	e.api(http.MethodPatch, a+"/revisions/1", tok, map[string]any{"tag": "1.0.0"}).expect(t, http.StatusNoContent)
	e.api(http.MethodGet, a+"/revisions/1", tok, nil).expect(t, http.StatusOK)
	e.api(http.MethodGet, a+"/revisions/1/release-notes", tok, nil).expect(t, http.StatusOK)
	e.api(http.MethodGet, a+"/highest-tag-revision", tok, nil).expect(t, http.StatusOK)
	for _, op := range []string{
		"AssetRepository_ListAssets", "AssetRepository_GetAsset", "AssetRepository_GetAssetLatestRevision", "AssetRepository_ListAssetRevisions",
		"AssetRepository_PatchVersion", "AssetRepository_GetAssetRevision", "AssetRepository_GetAssetRevisionReleaseNotes",
		"AssetRepository_GetApplicationHighestTagRevision",
	} {
		if e.v.Calls(op) != 1 {
			t.Errorf("operation %s checked %d times, want 1", op, e.v.Calls(op))
		}
	}
}

func TestODCMigratedAssetRules(t *testing.T) {
	e := startODC(t, testOptions{})
	e.seed(testAssets[0])
	e.seed(testAssets[1])
	tests := []struct {
		name string
		a    MigratedAsset
		want string
	}{
		{"bad key", MigratedAsset{Key: "portal", Name: "X", AssetType: AssetTypeWebApp}, "expected a GUID"},
		{"no name", MigratedAsset{Key: sqldb.DerivedKey("x"), AssetType: AssetTypeWebApp}, "name"},
		{"bad type", MigratedAsset{Key: sqldb.DerivedKey("x"), Name: "X", AssetType: "Workflow"}, "Workflow"},
		{"unknown producer", MigratedAsset{Key: sqldb.DerivedKey("x"), Name: "X", AssetType: AssetTypeWebApp, Producers: []string{sqldb.DerivedKey("nope")}}, "migrate producers before"},
		{"self", MigratedAsset{Key: keyCore, Name: "Customer Core", AssetType: AssetTypeLibrary, Producers: []string{keyCore}}, "itself"},
		{"cycle", MigratedAsset{Key: keyCore, Name: "Customer Core", AssetType: AssetTypeLibrary, Producers: []string{keyPolicy}}, "cycle"},
		{"type change", MigratedAsset{Key: keyCore, Name: "Customer Core", AssetType: AssetTypeWebApp}, "cannot turn it into"},
	}
	for _, tt := range tests {
		if err := e.sb.SeedODCAsset(tt.a); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: SeedODCAsset = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	e.seed(MigratedAsset{Key: sqldb.DerivedKey("app"), Name: "Some App", AssetType: AssetTypeWebApp})
	if err := e.sb.SeedODCAsset(MigratedAsset{Key: sqldb.DerivedKey("lib"), Name: "Lib", AssetType: AssetTypeLibrary, Producers: []string{sqldb.DerivedKey("app")}}); err == nil ||
		!strings.Contains(err.Error(), "libraries may only consume libraries") {
		t.Errorf("library consuming an app: %v", err)
	}

	// The admin route takes the same JSON.
	body := `{"key": "` + sqldb.DerivedKey("admin-app") + `", "name": "Admin App", "assetType": "WebApplication", "producers": ["` + keyCore + `"], "publishErrors": []}`
	r := do(t, http.MethodPost, e.base+"/_sandbox/odc/assets", "", body).expect(t, http.StatusCreated)
	if got := decode[adminODCAssetResponse](t, r); got.AssetKey != sqldb.DerivedKey("admin-app") || got.Revision != 1 {
		t.Errorf("admin answer = %+v", got)
	}
	do(t, http.MethodPost, e.base+"/_sandbox/odc/assets", "", body).expect(t, http.StatusCreated) // revision 2
	do(t, http.MethodPost, e.base+"/_sandbox/odc/assets", "", `{"key": "x"}`).expect(t, http.StatusBadRequest)
	do(t, http.MethodPost, e.base+"/_sandbox/odc/assets", "", `{"name": 1}`).expect(t, http.StatusBadRequest)
}

func TestODCStateSurvivesRestart(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "sb.db")
	e := startODC(t, testOptions{DBPath: dbPath, PublishDuration: time.Millisecond})
	tok := e.token(clientMigration)
	e.seed(testAssets[0])
	e.api(http.MethodPatch, assetRepoBase+"/assets/"+keyCore+"/revisions/1", tok, map[string]any{"tag": "2.0.0"}).expect(t, http.StatusNoContent)
	op := e.publish(tok, keyCore, "")
	published, _ := e.sb.PublishedAt(keyCore, e.stage("Development"))
	if err := e.sb.Close(); err != nil {
		t.Fatal(err)
	}

	// Another fixture on the same database: the ODC state is kept.
	f := fixture.Default()
	f.ODC = fixture.ODC{}
	e2 := startODC(t, testOptions{DBPath: dbPath, Fixture: f})
	got := decode[assetRevision](t, e2.api(http.MethodGet, assetRepoBase+"/assets/"+keyCore, tok, nil).expect(t, http.StatusOK))
	if got.Tag == nil || *got.Tag != "2.0.0" {
		t.Errorf("asset after restart = %+v (the token issued before the restart is still valid)", got)
	}
	if again := e2.waitPublish(tok, op.Key); again.Status != StatusFinished {
		t.Errorf("publish operation after restart = %+v", again)
	}
	if at, ok := e2.sb.PublishedAt(keyCore, e.stage("Development")); !ok || !at.Equal(published) {
		t.Errorf("PublishedAt after restart = %v, %v; want %v", at, ok, published)
	}
	if !slices.Contains(e2.sb.Exports(), "export OUTSYSTEMS_ODC_CLIENT_ID="+e.apiClient(clientMigration).ClientID) {
		t.Errorf("Exports after restart = %v, want the API client stored in the database", e2.sb.Exports())
	}
}

// TestODCPublishWithoutEnvironmentKeyGoesToDevelopment: a publish
// operation without environmentKey builds and deploys to the stage whose
// purpose is Development (ODC keeps environmentKey for hotfixes).
func TestODCPublishWithoutEnvironmentKeyGoesToDevelopment(t *testing.T) {
	e := startODC(t, testOptions{PublishDuration: 50 * time.Millisecond})
	tok := e.token(clientMigration)
	e.seed(testAssets[0])
	dev, qa, prod := e.stage("Development"), e.stage("QA"), e.stage("Production")
	if op := e.publish(tok, keyCore, ""); op.Status != StatusFinished {
		t.Fatalf("publish without environmentKey = %+v", op)
	}
	if _, ok := e.sb.PublishedAt(keyCore, dev); !ok {
		t.Error("the revision is not in Development")
	}
	for _, other := range []string{qa, prod} {
		if _, ok := e.sb.PublishedAt(keyCore, other); ok {
			t.Errorf("the revision reached stage %s without an environmentKey", other)
		}
	}
}
