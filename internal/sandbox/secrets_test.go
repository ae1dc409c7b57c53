package sandbox

import (
	"log"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// TestRequestLogHasNoODCSecrets extends TestRequestLogHasNoSecrets to the
// token endpoint (client secret in the form body, or Basic) and the ODC and
// code migration APIs: the log names method, path and status only.
func TestRequestLogHasNoODCSecrets(t *testing.T) {
	var out syncBuffer
	s, base := startSandbox(t, Options{Logger: log.New(&out, "", 0)})
	e := &chaosEnv{t: t, sb: s, base: base}
	var others []string
	for _, c := range s.Fixture().ODC.APIClients {
		if c.Name == clientMigration {
			e.client = c
		}
		others = append(others, c.ClientSecret)
	}
	e.tokenURL = base + "/identity/realms/" + url.PathEscape(s.odc.Organization()) + "/protocol/openid-connect/token"

	// client_secret_post, client_secret_basic, a wrong secret, a query.
	tok := decode[odc.TokenResponse](t, e.must(http.MethodPost, e.tokenURL, "", nil, e.tokenForm()).expect(t, http.StatusOK)).AccessToken
	req, err := http.NewRequest(http.MethodPost, e.tokenURL+"?client_secret=query-secret-77", strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.client.ClientID, e.client.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Basic token request = %d", resp.StatusCode)
	}
	wrong := e.tokenForm()
	wrong.Set("client_secret", "wrong-secret-5150")
	e.must(http.MethodPost, e.tokenURL, "", nil, wrong).expect(t, http.StatusUnauthorized)

	// ODC and code migration calls, with bodies.
	e.must(http.MethodGet, base+portfolioBase+"/environments?nameContains=query-marker-31", tok, nil, nil).expect(t, http.StatusOK)
	e.must(http.MethodPost, base+deploymentBase+"/publish-operations", tok, map[string]any{"assetKey": "body-marker-publish", "revision": 1}, nil).
		expect(t, http.StatusNotFound)
	e.must(http.MethodPatch, base+assetRepoBase+"/assets/"+keyCore+"/revisions/1", tok, map[string]any{"tag": "body-marker-tag"}, nil).
		expect(t, http.StatusNotFound)
	e.must(http.MethodGet, base+codemigration.Base+"/code-migrations", tok, nil, nil).expect(t, http.StatusOK)
	e.must(http.MethodGet, base+codemigration.Base+"/code-migrations", "not-a-token-4242", nil, nil).expect(t, http.StatusUnauthorized)

	issued := s.IssuedAccessTokens()
	if len(issued) != 2 || issued[0] != tok {
		t.Fatalf("IssuedAccessTokens = %v, want the two tokens issued", issued)
	}
	logged := out.String()
	for _, want := range []string{"POST /identity/realms/", "/protocol/openid-connect/token 200", "/protocol/openid-connect/token 401",
		"GET " + portfolioBase + "/environments 200", "POST " + deploymentBase + "/publish-operations 404", "GET " + codemigration.Base + "/code-migrations 401"} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %q:\n%s", want, logged)
		}
	}
	secrets := append([]string{e.client.ClientID + ":", "wrong-secret-5150", "query-secret-77", "query-marker-31", "body-marker", "not-a-token-4242",
		"Bearer", "Basic", "client_secret", "grant_type"}, issued...)
	for _, secret := range append(secrets, others...) {
		if strings.Contains(logged, secret) {
			t.Errorf("log contains %q:\n%s", secret, logged)
		}
	}
}
