package lifetime

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime/ltcontract"
)

// testServer serves a seeded LifeTime with the given tag delay.
type testServer struct {
	t      *testing.T
	s      *Service
	f      *fixture.Fixture
	url    string
	client *http.Client
	token  string
	c      *ltcontract.Contract
}

func newTestServer(t *testing.T, tagDelay time.Duration) *testServer {
	t.Helper()
	s, _, f := newSeeded(t)
	s.SetOptions(Options{TagDelay: tagDelay})
	mux := http.NewServeMux()
	s.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := ltcontract.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ls := &testServer{t: t, s: s, f: f, url: srv.URL, c: c, client: &http.Client{Transport: c.Transport(t, nil)}}
	for _, a := range f.LifeTime.ServiceAccounts {
		if a.Role == fixture.RoleAdministrator {
			ls.token = a.Token
		}
	}
	return ls
}

// call sends a request to LifeTime (path below Base) and returns the status
// and body; the contract transport checks both.
func (ls *testServer) call(method, path string, body any) (int, []byte) {
	ls.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			ls.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ls.t.Context(), method, ls.url+Base+path, rd)
	if err != nil {
		ls.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ls.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ls.client.Do(req)
	if err != nil {
		ls.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ls.t.Fatal(err)
	}
	return resp.StatusCode, b
}

func (ls *testServer) expect(method, path string, body any, want int) []byte {
	ls.t.Helper()
	got, b := ls.call(method, path, body)
	if got != want {
		ls.t.Fatalf("%s %s = %d, want %d: %s", method, path, got, want, b)
	}
	return b
}

func (ls *testServer) env(name string) string {
	for _, e := range ls.f.LifeTime.Environments {
		if e.Name == name {
			return e.Key
		}
	}
	ls.t.Fatalf("no environment %q", name)
	return ""
}

func (ls *testServer) app(name string) fixture.Application {
	for _, a := range ls.f.LifeTime.Applications {
		if a.Name == name {
			return a
		}
	}
	ls.t.Fatalf("no application %q", name)
	return fixture.Application{}
}

func (ls *testServer) versionKey(app, version string) string {
	for _, v := range ls.app(app).Versions {
		if v.Version == version {
			return v.Key
		}
	}
	ls.t.Fatalf("%s has no version %s", app, version)
	return ""
}

// TestContractEveryEndpoint calls every endpoint the sandbox serves, with
// answers that succeed and that fail, and holds requests and answers to
// OutSystems' Swagger (strict: no field the Swagger lacks).
func TestContractEveryEndpoint(t *testing.T) {
	ls := newTestServer(t, -1)
	dev := ls.env("Development")
	portal := ls.app("Customer Portal")
	agent := ls.app("Agent Mobile")
	unknown := uuid.NewString()

	ls.expect(http.MethodGet, "/environments", nil, http.StatusOK)
	ls.expect(http.MethodGet, "/environments/"+dev, nil, http.StatusOK)
	ls.expect(http.MethodGet, "/environments/"+unknown, nil, http.StatusNotFound)
	ls.expect(http.MethodGet, "/environments/"+dev+"/applications?IncludeModules=true", nil, http.StatusOK)
	ls.expect(http.MethodGet, "/environments/"+dev+"/applications/"+portal.Key+"?IncludeEnvStatus=true&IncludeModules=true", nil, http.StatusOK)
	ls.expect(http.MethodGet, "/environments/"+dev+"/applications/"+portal.Key+"?IncludeModules=true", nil, http.StatusBadRequest)
	ls.expect(http.MethodGet, "/environments/"+dev+"/applications/"+unknown, nil, http.StatusNotFound)
	ls.expect(http.MethodGet, "/applications", nil, http.StatusOK)
	ls.expect(http.MethodGet, "/applications?IncludeEnvStatus=true&IncludeModules=true", nil, http.StatusOK)
	ls.expect(http.MethodGet, "/applications/"+agent.Key+"?IncludeEnvStatus=true", nil, http.StatusOK)
	ls.expect(http.MethodGet, "/applications/"+unknown, nil, http.StatusNotFound)
	ls.expect(http.MethodGet, "/applications/"+portal.Key+"/versions?MaximumVersionsToReturn=50", nil, http.StatusOK)
	ls.expect(http.MethodGet, "/applications/"+portal.Key+"/versions?MaximumVersionsToReturn=-1", nil, http.StatusBadRequest)
	ls.expect(http.MethodGet, "/applications/"+portal.Key+"/versions/"+ls.versionKey("Customer Portal", "1.2.0")+"?IncludeModules=true", nil, http.StatusOK)
	ls.expect(http.MethodGet, "/applications/"+agent.Key+"/versions/"+ls.versionKey("Agent Mobile", "1.2.0")+"?IncludeModules=false", nil, http.StatusOK)
	ls.expect(http.MethodGet, "/applications/"+portal.Key+"/versions/"+unknown+"?IncludeModules=true", nil, http.StatusNotFound)

	body := ls.expect(http.MethodPost, "/environments/"+dev+"/applications/"+portal.Key+"/versions",
		map[string]any{"Version": "1.3.0", "ChangeLog": "Ready for ODC"}, http.StatusCreated)
	var created TagResponse
	if err := json.Unmarshal(body, &created); err != nil || created.ApplicationVersionKey == "" {
		t.Fatalf("tag answer %s: %v", body, err)
	}
	ls.expect(http.MethodPost, "/environments/"+dev+"/applications/"+portal.Key+"/versions", map[string]any{"Version": "1.3.0"}, http.StatusBadRequest)
	ls.expect(http.MethodPost, "/environments/"+unknown+"/applications/"+portal.Key+"/versions", map[string]any{"Version": "1.3.1"}, http.StatusNotFound)

	// The new tag runs in Development: LifeTime refuses to delete it (500).
	ls.expect(http.MethodDelete, "/applications/"+portal.Key+"/versions/"+created.ApplicationVersionKey, nil, http.StatusInternalServerError)
	ls.expect(http.MethodDelete, "/applications/"+portal.Key+"/versions/"+ls.versionKey("Customer Portal", "1.0.0"), nil, http.StatusNoContent)
	ls.expect(http.MethodDelete, "/applications/"+portal.Key+"/versions/"+unknown, nil, http.StatusNotFound)

	ls.expect(http.MethodGet, "/modules", nil, http.StatusOK)
	ls.expect(http.MethodGet, "/modules?IncludeEnvStatus=true", nil, http.StatusOK)
	module := ls.f.LifeTime.Modules[0].Key
	ls.expect(http.MethodGet, "/modules/"+module+"?IncludeEnvStatus=true", nil, http.StatusOK)
	ls.expect(http.MethodGet, "/modules/"+unknown, nil, http.StatusNotFound)
	ls.expect(http.MethodGet, "/modules/"+module+"/versions", nil, http.StatusOK)
	ls.expect(http.MethodGet, "/modules/"+unknown+"/versions", nil, http.StatusNotFound)

	for _, op := range []string{
		"Environments_List", "Environments_Get", "Environments_GetRunningApps", "Environments_GetRunningApp",
		"Environments_Applications_Versions_Create", "Applications_List", "Applications_Get", "Applications_Versions_List",
		"Applications_Versions_Get", "Applications_Versions_Delete", "Modules_List", "Modules_Get", "ModuleVersions_List",
	} {
		if ls.c.Calls(op) == 0 {
			t.Errorf("no call of %s was checked", op)
		}
	}
}

// TestVersionGetRequiresIncludeModules: the Swagger makes IncludeModules
// required on the version GET; LifeTime answers 400 without it.
func TestVersionGetRequiresIncludeModules(t *testing.T) {
	ls := newTestServer(t, -1)
	portal := ls.app("Customer Portal")
	path := "/applications/" + portal.Key + "/versions/" + ls.versionKey("Customer Portal", "1.2.0")
	// Without the parameter the request breaks the contract: send it past
	// the contract transport.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, ls.url+Base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ls.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "IncludeModules") {
		t.Fatalf("version GET without IncludeModules = %d %s, want 400 naming IncludeModules", resp.StatusCode, b)
	}
	var v ApplicationVersion
	if err := json.Unmarshal(ls.expect(http.MethodGet, path+"?IncludeModules=false", nil, http.StatusOK), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.ModuleVersions) != 0 || !v.InUse {
		t.Errorf("IncludeModules=false: %d module versions, InUse=%v; want none, and in use (it runs in Development)", len(v.ModuleVersions), v.InUse)
	}
	if err := json.Unmarshal(ls.expect(http.MethodGet, path+"?IncludeModules=true", nil, http.StatusOK), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.ModuleVersions) == 0 {
		t.Error("IncludeModules=true returned no module versions")
	}
}

// TestDeleteRunningVersionAnswers500: LifeTime refuses to delete a running
// version with a 500 and its error body, and keeps the version.
func TestDeleteRunningVersionAnswers500(t *testing.T) {
	ls := newTestServer(t, -1)
	portal := ls.app("Customer Portal")
	running := ls.versionKey("Customer Portal", "1.2.0")
	b := ls.expect(http.MethodDelete, "/applications/"+portal.Key+"/versions/"+running, nil, http.StatusInternalServerError)
	var e APIError
	if err := json.Unmarshal(b, &e); err != nil || e.StatusCode != http.StatusInternalServerError || len(e.Errors) != 1 ||
		!strings.Contains(e.Errors[0], "running in environment") {
		t.Fatalf("refusal body = %s (%v)", b, err)
	}
	ls.expect(http.MethodGet, "/applications/"+portal.Key+"/versions/"+running+"?IncludeModules=true", nil, http.StatusOK)
}

// TestTagIsAsynchronous: a new version is not readable, and the
// environment still runs the old one, until the tag delay has passed.
func TestTagIsAsynchronous(t *testing.T) {
	const delay = 300 * time.Millisecond
	ls := newTestServer(t, delay)
	dev := ls.env("Development")
	portal := ls.app("Customer Portal")
	start := time.Now()
	var created TagResponse
	if err := json.Unmarshal(ls.expect(http.MethodPost, "/environments/"+dev+"/applications/"+portal.Key+"/versions",
		map[string]any{"Version": "1.3.0"}, http.StatusCreated), &created); err != nil {
		t.Fatal(err)
	}
	status := func() AppStatusInEnv {
		var a Application
		if err := json.Unmarshal(ls.expect(http.MethodGet, "/environments/"+dev+"/applications/"+portal.Key+"?IncludeEnvStatus=true", nil, http.StatusOK), &a); err != nil {
			t.Fatal(err)
		}
		return a.AppStatusInEnvs[0]
	}
	versionPath := "/applications/" + portal.Key + "/versions/" + created.ApplicationVersionKey + "?IncludeModules=true"
	if time.Since(start) < delay {
		ls.expect(http.MethodGet, versionPath, nil, http.StatusNotFound)
		if st := status(); st.BaseApplicationVersionKey == created.ApplicationVersionKey || st.BaseApplicationVersionLabel != "1.2.0" || !st.IsModified {
			t.Errorf("while processing, status = %+v; want still 1.2.0, modified", st)
		}
		// The version string is taken already.
		ls.expect(http.MethodPost, "/environments/"+dev+"/applications/"+portal.Key+"/versions", map[string]any{"Version": "1.3.0"}, http.StatusBadRequest)
	}
	time.Sleep(time.Until(start.Add(delay + 50*time.Millisecond)))
	ls.expect(http.MethodGet, versionPath, nil, http.StatusOK)
	if st := status(); st.BaseApplicationVersionKey != created.ApplicationVersionKey || st.BaseApplicationVersionLabel != "1.3.0" || st.IsModified {
		t.Errorf("after processing, status = %+v; want the tag 1.3.0, not modified", st)
	}
}
