package odc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// testOptions configure a test server: the fixture (nil: the default one),
// the database file ("": a fresh one) and the service's options.
type testOptions struct {
	Fixture         *fixture.Fixture
	DBPath          string
	TokenTTL        time.Duration
	PublishDuration time.Duration
	// CodeAnalysisDuration: Options.CodeAnalysisDuration.
	CodeAnalysisDuration time.Duration
}

// testSandbox is the ODC service alone on an HTTP test server, with the
// database the kernel would give it.
type testSandbox struct {
	fixture *fixture.Fixture
	db      *sqldb.DB
	svc     *Service
	srv     *httptest.Server
}

// startSandbox starts the service on a database file and closes both when
// the test ends.
func startSandbox(t *testing.T, opts testOptions) (*testSandbox, string) {
	t.Helper()
	f := opts.Fixture
	if f == nil {
		f = fixture.Default()
	}
	path := opts.DBPath
	if path == "" {
		path = filepath.Join(t.TempDir(), "sb.db")
	}
	db, err := sqldb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), sqldb.MetaSchema); err != nil {
		t.Fatal(err)
	}
	svc, err := New(t.Context(), db, log.New(io.Discard, "", 0), &f.ODC, Options{TokenTTL: opts.TokenTTL, PublishDuration: opts.PublishDuration,
		CodeAnalysisDuration: opts.CodeAnalysisDuration})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Register(mux)
	// The admin surface's ODC route, as the kernel mounts it.
	mux.HandleFunc("POST /_sandbox/odc/assets", svc.AdminCreateAsset(func(w http.ResponseWriter, status int, messages ...string) {
		http.Error(w, strings.Join(messages, " "), status)
	}))
	s := &testSandbox{fixture: f, db: db, svc: svc, srv: httptest.NewServer(mux)}
	t.Cleanup(func() { s.Close() })
	return s, s.srv.URL
}

func (s *testSandbox) Fixture() *fixture.Fixture { return s.fixture }

// Close stops the server and closes the database; it may be called twice.
func (s *testSandbox) Close() error {
	s.srv.Close()
	return s.db.Close()
}

func (s *testSandbox) SeedODCAsset(a MigratedAsset) error {
	_, err := s.svc.SeedAsset(context.Background(), a)
	return err
}

func (s *testSandbox) PublishedAt(assetKey, stageKey string) (time.Time, bool) {
	return s.svc.PublishedAt(assetKey, stageKey)
}

func (s *testSandbox) ReleasedAt(assetKey string) (time.Time, bool) {
	return s.svc.ReleasedAt(assetKey)
}

func (s *testSandbox) Exports() []string {
	return s.svc.Exports(s.srv.URL, func(name, value string) string { return "export " + name + "=" + value })
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; body, when not nil, is sent as JSON (a string is
// sent as is). token "" sends no Authorization header.
func do(t *testing.T, method, url, token string, body any) response {
	t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, reader)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
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

// testAdminToken is the default fixture's full-rights LifeTime service
// account token: valid for LifeTime, not for ODC.
const testAdminToken = "lt-sandbox-full-4f1c2a"

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
