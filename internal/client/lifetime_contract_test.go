package client

import (
	"errors"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime/ltcontract"
)

// contractLifeTime is a LifeTime client talking to the sandbox through a
// transport that holds every request and answer to OutSystems' Swagger.
func contractLifeTime(t *testing.T) (*LifeTime, *sandbox.Sandbox, *ltcontract.Contract) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{DBPath: filepath.Join(t.TempDir(), "sb.db"), LifeTimeTagDelay: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ltcontract.New(url)
	if err != nil {
		t.Fatal(err)
	}
	var token string
	for _, a := range sb.Fixture().LifeTime.ServiceAccounts {
		if a.Role == fixture.RoleAdministrator {
			token = a.Token
		}
	}
	lt, err := NewLifeTime(Config{BaseURL: url, MaxRetries: 0, HTTPClient: &http.Client{Transport: c.Transport(t, nil)}}, token)
	if err != nil {
		t.Fatal(err)
	}
	return lt, sb, c
}

// TestLifeTimeClientFollowsTheSwagger calls every method of the client
// against the sandbox; the contract transport fails the test on any request
// or answer the Swagger does not allow.
func TestLifeTimeClientFollowsTheSwagger(t *testing.T) {
	lt, sb, c := contractLifeTime(t)
	ctx := t.Context()
	f := sb.Fixture()
	var dev, portal, portalOld string
	for _, e := range f.LifeTime.Environments {
		if e.Name == "Development" {
			dev = e.Key
		}
	}
	for _, a := range f.LifeTime.Applications {
		if a.Name == "Customer Portal" {
			portal = a.Key
			portalOld = a.Versions[0].Key
		}
	}
	envs, err := lt.ListEnvironments(ctx)
	if err != nil || len(envs) == 0 || envs[0].DetailsURL == "" {
		t.Fatalf("ListEnvironments = %+v, %v", envs, err)
	}
	if _, err := lt.ListApplications(ctx, true, true); err != nil {
		t.Fatal(err)
	}
	if _, err := lt.GetApplication(ctx, portal, true, false); err != nil {
		t.Fatal(err)
	}
	app, err := lt.GetEnvironmentApplication(ctx, dev, portal, true)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := app.StatusIn(dev)
	if st.BaseApplicationVersionLabel != "1.2.0" {
		t.Errorf("BaseApplicationVersionLabel = %q, want 1.2.0", st.BaseApplicationVersionLabel)
	}
	if _, err := lt.ListApplicationVersions(ctx, portal, 50); err != nil {
		t.Fatal(err)
	}
	key, err := lt.CreateApplicationVersion(ctx, dev, portal, CreateVersionRequest{Version: "1.3.0", ChangeLog: "Ready for ODC"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := lt.GetApplicationVersion(ctx, portal, key)
	if err != nil || v.Version != "1.3.0" || !v.InUse {
		t.Fatalf("GetApplicationVersion = %+v, %v; want 1.3.0 in use", v, err)
	}
	if err := lt.DeleteApplicationVersion(ctx, portal, portalOld); err != nil {
		t.Fatalf("delete a version nothing runs: %v", err)
	}
	for _, op := range []string{"Environments_List", "Applications_List", "Applications_Get", "Environments_GetRunningApp",
		"Applications_Versions_List", "Environments_Applications_Versions_Create", "Applications_Versions_Get", "Applications_Versions_Delete"} {
		if c.Calls(op) == 0 {
			t.Errorf("the client made no checked call of %s", op)
		}
	}
}

// TestLifeTimeDeleteInUseVersionIsNotSent: the client reads the version
// first and sends no DELETE LifeTime would refuse.
func TestLifeTimeDeleteInUseVersionIsNotSent(t *testing.T) {
	lt, sb, c := contractLifeTime(t)
	var portal, running string
	for _, a := range sb.Fixture().LifeTime.Applications {
		if a.Name == "Customer Portal" {
			portal = a.Key
			running = a.Versions[len(a.Versions)-1].Key
		}
	}
	err := lt.DeleteApplicationVersion(t.Context(), portal, running)
	var inUse *VersionInUseError
	if !errors.As(err, &inUse) || inUse.Version != "1.2.0" {
		t.Fatalf("delete of the running version = %v, want a VersionInUseError for 1.2.0", err)
	}
	if n := c.Calls("Applications_Versions_Delete"); n != 0 {
		t.Errorf("the client sent %d DELETEs LifeTime would refuse", n)
	}
}

// TestLifeTimeDeleteRefusalIsNotRetried: a DELETE LifeTime refuses with a
// 500 is sent once, not retried.
func TestLifeTimeDeleteRefusalIsNotRetried(t *testing.T) {
	var deletes atomic.Int32
	lt := newTestLifeTime(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodDelete {
			deletes.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"Errors":["The version is used in a deployment."],"StatusCode":500}`))
			return
		}
		if r.URL.Query().Get("IncludeModules") == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"Errors":["IncludeModules is required"],"StatusCode":400}`))
			return
		}
		_, _ = w.Write([]byte(`{"Key":"v","Version":"1.0.0","InUse":false}`))
	}, 3)
	err := lt.DeleteApplicationVersion(t.Context(), "a", "v")
	if StatusCode(err) != http.StatusInternalServerError {
		t.Fatalf("err = %v, want the 500", err)
	}
	if n := deletes.Load(); n != 1 {
		t.Errorf("%d DELETEs sent, want 1 (no retry of a refusal)", n)
	}
}
