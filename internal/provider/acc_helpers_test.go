package provider

// Shared helpers of the acceptance tests: the sandbox each test runs
// against, provider blocks pointing at it, fixture look-ups and matchers.

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// testEnv is one acceptance test's world: a sandbox on a random loopback
// port with a fresh database, and a LifeTime client to act out of band.
type testEnv struct {
	t       *testing.T
	sb      *sandbox.Sandbox
	url     string
	fixture *fixture.Fixture
	lt      *client.LifeTime
	as      *client.Assessment
	// ca is the PEM of the sandbox's own CA when it serves HTTPS, else "".
	ca string
}

// Sandbox timings in acceptance tests: short, but long enough that the
// provider really waits.
const (
	testAssessmentDelay   = 300 * time.Millisecond
	testMigrationDuration = 700 * time.Millisecond
	testPublishDuration   = 200 * time.Millisecond
	// testLifeTimeTagDelay: LifeTime processes a tag before the version is
	// readable and running.
	testLifeTimeTagDelay = 300 * time.Millisecond
)

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	return newTestEnvWith(t, testLifeTimeTagDelay)
}

// newTestEnvWith is newTestEnv with LifeTime taking tagDelay to process a tag.
func newTestEnvWith(t *testing.T, tagDelay time.Duration) *testEnv {
	t.Helper()
	return newTestEnvOpts(t, func(o *sandbox.Options) { o.LifeTimeTagDelay = tagDelay })
}

// withoutMigrationKit runs the sandbox's tenant profile: LifeTime, ODC and
// identity as a real organization serves them, and no Migration Kit API.
func withoutMigrationKit(o *sandbox.Options) { o.WithoutMigrationKit = true }

// newTestEnvTenant is newTestEnv on the tenant profile (withoutMigrationKit).
func newTestEnvTenant(t *testing.T) *testEnv {
	t.Helper()
	return newTestEnvOpts(t, withoutMigrationKit)
}

// newTestEnvOpts is newTestEnv with the sandbox's options changed by each
// of opts (after the acceptance tests' defaults are set), for example
// withoutMigrationKit.
func newTestEnvOpts(t *testing.T, opts ...func(*sandbox.Options)) *testEnv {
	t.Helper()
	o := sandbox.Options{
		DBPath:            filepath.Join(t.TempDir(), "sandbox.db"),
		AssessmentDelay:   testAssessmentDelay,
		MigrationDuration: testMigrationDuration,
		PublishDuration:   testPublishDuration,
		LifeTimeTagDelay:  testLifeTimeTagDelay,
	}
	for _, opt := range opts {
		opt(&o)
	}
	sb, err := sandbox.New(o)
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	e := &testEnv{t: t, sb: sb, url: url, fixture: sb.Fixture()}
	e.lt, err = client.NewLifeTime(client.Config{BaseURL: url, MaxRetries: 0}, e.token(fixture.RoleAdministrator))
	if err != nil {
		t.Fatal(err)
	}
	e.as, err = client.NewAssessment(client.Config{BaseURL: e.assessmentURL(), MaxRetries: 0}, e.token(fixture.RoleAdministrator))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *testEnv) assessmentURL() string { return e.url + "/MigrationAssessment" }

func (e *testEnv) token(role string) string {
	for _, sa := range e.fixture.LifeTime.ServiceAccounts {
		if sa.Role == role {
			return sa.Token
		}
	}
	e.t.Fatalf("the fixture has no %s service account", role)
	return ""
}

// providerConfig is a provider block pointing at the sandbox with the full-rights account.
func (e *testEnv) providerConfig() string {
	return e.providerConfigWith(e.token(fixture.RoleAdministrator), "migration-pipeline")
}

func (e *testEnv) providerConfigWithToken(token string) string {
	return e.providerConfigWith(token, "migration-pipeline")
}

// providerConfigWith is a provider block for the sandbox with a LifeTime
// token and the ODC API client of that name.
func (e *testEnv) providerConfigWith(token, apiClient string) string {
	c, ok := e.fixture.ODC.Client(apiClient)
	if !ok {
		e.t.Fatalf("no ODC API client %q in the fixture", apiClient)
	}
	id, secret := c.ClientID, c.ClientSecret
	return fmt.Sprintf(`
provider "outsystems" {
  lifetime = {
    url   = %q
    token = %q
  }
  assessment = {
    url = %q
  }
  odc = {
    portal_url    = %q
    client_id     = %q
    client_secret = %q
  }
  max_retries = 1
}
`, e.url, token, e.assessmentURL(), e.url, id, secret)
}

// odcClient is an ODC client with the full-rights API client, to act out of band.
func (e *testEnv) odcClient() *client.ODC {
	c, ok := e.fixture.ODC.Client("migration-pipeline")
	if !ok {
		e.t.Fatal("no migration-pipeline API client in the fixture")
	}
	odc, err := client.NewODC(client.Config{BaseURL: e.url, MaxRetries: 0, CACertificate: e.ca}, c.ClientID, c.ClientSecret)
	if err != nil {
		e.t.Fatal(err)
	}
	return odc
}

func (e *testEnv) stageKey(name string) string {
	key, ok := e.fixture.ODC.StageKey(name)
	if !ok {
		e.t.Fatalf("no stage %q in the fixture", name)
	}
	return key
}

func (e *testEnv) envKey(name string) string {
	for _, env := range e.fixture.LifeTime.Environments {
		if env.Name == name {
			return env.Key
		}
	}
	e.t.Fatalf("no environment %q in the fixture", name)
	return ""
}

func (e *testEnv) appKey(name string) string {
	for _, app := range e.fixture.LifeTime.Applications {
		if app.Name == name {
			return app.Key
		}
	}
	e.t.Fatalf("no application %q in the fixture", name)
	return ""
}

// runningVersionKey is the application's BaseApplicationVersionKey in
// Development (where the tests tag), read from the sandbox.
func (e *testEnv) runningVersionKey(appName string) (string, bool) {
	const envName = "Development"
	app, err := e.lt.GetEnvironmentApplication(context.Background(), e.envKey(envName), e.appKey(appName), false)
	if err != nil {
		e.t.Fatalf("reading %s in %s: %v", appName, envName, err)
	}
	st, _ := app.StatusIn(e.envKey(envName))
	return st.BaseApplicationVersionKey, st.IsModified
}

// errorRe builds a regexp that matches the words in order across line breaks
// (Terraform wraps diagnostics).
func errorRe(words ...string) *regexp.Regexp {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = strings.ReplaceAll(regexp.QuoteMeta(w), `\ `, `\s+`)
		parts[i] = strings.ReplaceAll(parts[i], " ", `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, `.*`))
}

// regexpS compiles an expected-error pattern where "." also matches line
// breaks and every space matches any run of white space, because Terraform
// wraps long diagnostics.
func regexpS(pattern string) *regexp.Regexp {
	return regexp.MustCompile("(?s)" + strings.ReplaceAll(pattern, " ", `\s+`))
}

// outOfBandChangeLog marks the versions a test tags out of band (clientTag).
const outOfBandChangeLog = "tagged out of band by the test"

func clientTag(version string) client.CreateVersionRequest {
	return client.CreateVersionRequest{Version: version, ChangeLog: outOfBandChangeLog}
}

// captureID stores the resource's id during a check.
func captureID(addr string, into *string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		*into = rs.Primary.ID
		return nil
	}
}
