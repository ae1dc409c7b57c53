package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sandboxtest"
)

const (
	testAdminToken    = "lt-sandbox-full-4f1c2a"
	testReadOnlyToken = "lt-sandbox-readonly-9b7e3d"
)

// startSandbox starts a sandbox on a fresh database file (unless opts names
// one) and closes it when the test ends.
func startSandbox(t *testing.T, opts Options) (*Sandbox, string) {
	t.Helper()
	if opts.DBPath == "" {
		opts.DBPath = filepath.Join(t.TempDir(), "sb.db")
	}
	if opts.LifeTimeTagDelay == 0 {
		// A tag is processed by the next request: the kernel's tests read
		// right after tagging; internal/sandbox/lifetime tests the delay.
		opts.LifeTimeTagDelay = time.Nanosecond
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return s, url
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// send sends a request; body, when not nil, is sent as JSON (a string is
// sent as is). token "" sends no Authorization header.
func send(method, url, token string, body any) (response, error) {
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, reader)
	if err != nil {
		return response{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: data}, err
}

// do is send that fails the test on transport errors.
func do(t *testing.T, method, url, token string, body any) response {
	t.Helper()
	r, err := send(method, url, token, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// lt calls LifeTime API v2 as the full-rights service account.
func lt(t *testing.T, base, method, path string, body any) response {
	t.Helper()
	return do(t, method, base+lifetime.Base+path, testAdminToken, body)
}

func (r response) expect(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

// expectLTError checks a LifeTime error answer: status, content type, body
// shape and that its messages contain each of contains.
func (r response) expectLTError(t *testing.T, status int, contains ...string) {
	t.Helper()
	r.expect(t, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	e := decode[lifetime.APIError](t, r)
	if e.StatusCode != status || len(e.Errors) == 0 {
		t.Fatalf("error body = %s, want {\"Errors\":[...],\"StatusCode\":%d}", r.body, status)
	}
	msg := strings.Join(e.Errors, " ")
	for _, c := range contains {
		if !strings.Contains(msg, c) {
			t.Errorf("error %q does not contain %q", msg, c)
		}
	}
}

// Lookups in the default fixture, by name.

func envKey(t *testing.T, f *fixture.Fixture, name string) string {
	t.Helper()
	for _, e := range f.LifeTime.Environments {
		if e.Name == name {
			return e.Key
		}
	}
	t.Fatalf("no environment %q in the fixture", name)
	return ""
}

func fixtureApp(t *testing.T, f *fixture.Fixture, name string) fixture.Application {
	t.Helper()
	for _, a := range f.LifeTime.Applications {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no application %q in the fixture", name)
	return fixture.Application{}
}

func versionKey(t *testing.T, a fixture.Application, version string) string {
	t.Helper()
	for _, v := range a.Versions {
		if v.Version == version {
			return v.Key
		}
	}
	t.Fatalf("application %q has no version %q", a.Name, version)
	return ""
}

// envStatus reads an application's status in one environment, with modules.
func envStatus(t *testing.T, base, envKey, appKey string) lifetime.AppStatusInEnv {
	t.Helper()
	app := decode[lifetime.Application](t, lt(t, base, http.MethodGet,
		"/environments/"+envKey+"/applications/"+appKey+"?IncludeEnvStatus=true&IncludeModules=true", nil).expect(t, http.StatusOK))
	if len(app.AppStatusInEnvs) != 1 || app.AppStatusInEnvs[0].EnvironmentKey != envKey {
		t.Fatalf("status of %s in %s = %+v, want exactly that environment", app.Name, envKey, app.AppStatusInEnvs)
	}
	return app.AppStatusInEnvs[0]
}

func runningModuleVersions(s lifetime.AppStatusInEnv) []string {
	keys := make([]string, len(s.ModuleStatusInEnvs))
	for i, m := range s.ModuleStatusInEnvs {
		keys[i] = m.ModuleVersionKey
	}
	return keys
}

func moduleVersionKeys(v lifetime.ApplicationVersion) []string {
	keys := make([]string, len(v.ModuleVersions))
	for i, m := range v.ModuleVersions {
		keys[i] = m.Key
	}
	return keys
}

// Fixture helpers of the tests still in package sandbox.

var LoadFixture = fixture.Load

func fixtureJSON(t *testing.T) map[string]any { return sandboxtest.JSONDoc(t, fixture.DefaultJSON()) }

func writeFixture(t *testing.T, doc any) string { return sandboxtest.WriteJSONFile(t, doc) }
