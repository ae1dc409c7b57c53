package sandbox

import (
	"bytes"
	"log"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
)

func TestStateSurvivesRestart(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "sb.db")
	s, base := startSandbox(t, Options{DBPath: dbPath})
	f := s.Fixture()
	dev, test := envKey(t, f, "Development"), envKey(t, f, "Test")
	portal := fixtureApp(t, f, "Customer Portal")
	hr := fixtureApp(t, f, "HR Self Service")

	tagged := decode[lifetime.TagResponse](t, lt(t, base, http.MethodPost, "/environments/"+dev+"/applications/"+portal.Key+"/versions",
		lifetime.TagRequest{Version: "1.3.0", ChangeLog: "Before restart"}).expect(t, http.StatusCreated)).ApplicationVersionKey
	lt(t, base, http.MethodDelete, "/applications/"+portal.Key+"/versions/"+versionKey(t, portal, "1.0.0"), nil).expect(t, http.StatusNoContent)
	if err := s.MarkModified(test, hr.Key, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// Restart on the same database, even with another fixture: the state is kept.
	other := &fixture.Fixture{Name: "other", LifeTime: fixture.LifeTime{
		ServiceAccounts: []fixture.ServiceAccount{{Name: "someone", Token: "other-token", Role: fixture.RoleAdministrator}},
	}}
	s2, base2 := startSandbox(t, Options{DBPath: dbPath, Fixture: other})
	do(t, http.MethodGet, base2+lifetime.Base+"/environments", "other-token", nil).expect(t, http.StatusUnauthorized)
	if got := s2.Exports(); !slices.Contains(got, "export OUTSYSTEMS_LIFETIME_TOKEN="+testAdminToken) {
		t.Errorf("Exports after restart = %v, want the token stored in the database", got)
	}

	st := envStatus(t, base2, dev, portal.Key)
	if st.BaseApplicationVersionKey != tagged || st.IsModified {
		t.Errorf("Customer Portal in Development after restart = %+v, want base %s, not modified", st, tagged)
	}
	versions := decode[[]lifetime.ApplicationVersion](t, lt(t, base2, http.MethodGet, "/applications/"+portal.Key+"/versions", nil).expect(t, http.StatusOK))
	var got []string
	for _, v := range versions {
		got = append(got, v.Version)
	}
	if want := []string{"1.3.0", "1.2.0", "1.1.0"}; !slices.Equal(got, want) {
		t.Errorf("versions after restart = %v, want %v (no re-seeding)", got, want)
	}
	if !envStatus(t, base2, test, hr.Key).IsModified {
		t.Error("HR Self Service is no longer modified in Test after restart")
	}
	lt(t, base2, http.MethodPost, "/environments/"+dev+"/applications/"+portal.Key+"/versions",
		lifetime.TagRequest{Version: "1.3.0"}).expectLTError(t, http.StatusBadRequest, "already exists")
}

func TestMarkModified(t *testing.T) {
	s, base := startSandbox(t, Options{})
	f := s.Fixture()
	test := envKey(t, f, "Test")
	claims := fixtureApp(t, f, "Claims Backoffice")

	before := envStatus(t, base, test, claims.Key)
	if before.IsModified {
		t.Fatal("Claims Backoffice should start unmodified in Test")
	}
	if err := s.MarkModified(test, claims.Key, true); err != nil {
		t.Fatal(err)
	}
	modified := envStatus(t, base, test, claims.Key)
	if !modified.IsModified || modified.IsModifiedMessage == "" || modified.BaseApplicationVersionKey != before.BaseApplicationVersionKey {
		t.Errorf("after MarkModified(true): %+v", modified)
	}
	newer := runningModuleVersions(modified)
	for i, k := range runningModuleVersions(before) {
		if newer[i] == k {
			t.Errorf("module %d still runs version %s after publishing", i, k)
		}
	}
	// Tagging now captures the newly published module versions.
	key := decode[lifetime.TagResponse](t, lt(t, base, http.MethodPost, "/environments/"+test+"/applications/"+claims.Key+"/versions",
		lifetime.TagRequest{Version: "1.2.0", ModuleVersionKeys: newer}).expect(t, http.StatusCreated)).ApplicationVersionKey
	v := decode[lifetime.ApplicationVersion](t, lt(t, base, http.MethodGet, "/applications/"+claims.Key+"/versions/"+key+"?IncludeModules=true", nil).expect(t, http.StatusOK))
	if !slices.Equal(moduleVersionKeys(v), newer) {
		t.Errorf("tag holds %v, want %v", moduleVersionKeys(v), newer)
	}

	if err := s.MarkModified(test, claims.Key, true); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkModified(test, claims.Key, false); err != nil {
		t.Fatal(err)
	}
	reverted := envStatus(t, base, test, claims.Key)
	if reverted.IsModified || !slices.Equal(runningModuleVersions(reverted), newer) {
		t.Errorf("after MarkModified(false): %+v, want the tagged module versions %v", reverted, newer)
	}

	prod := envKey(t, f, "Production")
	if err := s.MarkModified(prod, fixtureApp(t, f, "Broker Portal").Key, true); err == nil || !strings.Contains(err.Error(), "not deployed") {
		t.Errorf("MarkModified of an application not in the environment = %v", err)
	}
	if err := s.MarkModified("dev", claims.Key, true); err == nil {
		t.Error("MarkModified accepted a malformed key")
	}
}

func TestExports(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	odc := s.Fixture().ODC.APIClients[0]
	credentials := []string{"export OUTSYSTEMS_ODC_CLIENT_ID=" + odc.ClientID, "export OUTSYSTEMS_ODC_CLIENT_SECRET=" + odc.ClientSecret}
	if got := s.Exports(); !slices.Equal(got, append([]string{"export OUTSYSTEMS_LIFETIME_TOKEN=" + testAdminToken}, credentials...)) {
		t.Errorf("Exports before Start = %v", got)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if base != s.URL() || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("Start = %q, URL = %q", base, s.URL())
	}
	want := append([]string{"export OUTSYSTEMS_LIFETIME_URL=" + base, "export OUTSYSTEMS_ASSESSMENT_URL=" + base + "/MigrationAssessment",
		"export OUTSYSTEMS_LIFETIME_TOKEN=" + testAdminToken, "export OUTSYSTEMS_ODC_PORTAL_URL=" + base}, credentials...)
	if got := s.Exports(); !slices.Equal(got, want) {
		t.Errorf("Exports = %v, want %v", got, want)
	}
	if _, err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("second Start succeeded")
	}
	if got := exportLine("X", "it's $HOME"); got != `export X='it'\''s $HOME'` {
		t.Errorf("exportLine quoting = %s", got)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRequestLogHasNoSecrets(t *testing.T) {
	var out syncBuffer
	s, base := startSandbox(t, Options{Logger: log.New(&out, "", 0)})
	dev := envKey(t, s.Fixture(), "Development")
	portal := fixtureApp(t, s.Fixture(), "Customer Portal")
	lt(t, base, http.MethodGet, "/environments?secret=query", nil).expect(t, http.StatusOK)
	do(t, http.MethodGet, base+lifetime.Base+"/environments", "wrong-token-123", nil).expect(t, http.StatusUnauthorized)
	lt(t, base, http.MethodPost, "/environments/"+dev+"/applications/"+portal.Key+"/versions",
		lifetime.TagRequest{Version: "1.3.0", ChangeLog: "body-marker"}).expect(t, http.StatusCreated)

	logged := out.String()
	for _, want := range []string{"GET /lifetimeapi/rest/v2/environments 200", "GET /lifetimeapi/rest/v2/environments 401", "POST /lifetimeapi/rest/v2/environments/" + dev} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %q:\n%s", want, logged)
		}
	}
	for _, secret := range []string{testAdminToken, "wrong-token-123", "body-marker", "secret=query", "Bearer"} {
		if strings.Contains(logged, secret) {
			t.Errorf("log contains %q:\n%s", secret, logged)
		}
	}
}

func TestCloseWithoutStart(t *testing.T) {
	s, err := New(Options{DBPath: filepath.Join(t.TempDir(), "sb.db")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestNewRejectsInvalidFixture(t *testing.T) {
	f := fixture.Default()
	f.LifeTime.Applications[0].Modules = append(f.LifeTime.Applications[0].Modules, "Ghost")
	if _, err := New(Options{DBPath: filepath.Join(t.TempDir(), "sb.db"), Fixture: f}); err == nil ||
		!strings.Contains(err.Error(), "Ghost") {
		t.Fatalf("New = %v, want an invalid fixture error", err)
	}
}
