package client

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/api"
	"github.com/seed-1be1de96/terraform-provider-outsystems/api/contracttest"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// codeMigrationEnv runs the ODC client's code migration calls against the
// sandbox; the calls under CodeMigrationAPIPrefix go through the contract
// transport, the others (discovery, token) straight to the sandbox.
type codeMigrationEnv struct {
	*assessmentEnv
	assessment *Assessment
}

// testMigrationDuration leaves room for the calls made while a migration
// runs, even on a loaded machine.
const testMigrationDuration = 1500 * time.Millisecond

func newCodeMigrationEnv(t *testing.T) *codeMigrationEnv {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{DBPath: filepath.Join(t.TempDir(), "sb.db"), AssessmentDelay: 20 * time.Millisecond, MigrationDuration: testMigrationDuration})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ae := &assessmentEnv{t: t, sb: sb, url: url}
	if ae.contract, err = contracttest.New(api.MigrationKitV1, url); err != nil {
		t.Fatal(err)
	}
	return &codeMigrationEnv{assessmentEnv: ae, assessment: ae.client("MigrationAssessment", fixture.RoleAdministrator)}
}

// contractPaths sends requests under prefix through contract, others
// through next.
type contractPaths struct {
	prefix   string
	contract http.RoundTripper
	next     http.RoundTripper
	checked  *int
}

func (c contractPaths) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, c.prefix) {
		*c.checked++
		return c.contract.RoundTrip(r)
	}
	return c.next.RoundTrip(r)
}

// odc returns an ODC client for a fixture API client, and the number of
// requests the contract checked.
func (e *codeMigrationEnv) odc(name string) (*ODC, *int) {
	e.t.Helper()
	for _, c := range e.sb.Fixture().ODC.APIClients {
		if c.Name == name {
			checked := new(int)
			transport := contractPaths{prefix: CodeMigrationAPIPrefix, contract: e.contract.Transport(e.t, nil), next: http.DefaultTransport, checked: checked}
			client, err := NewODC(Config{BaseURL: e.url, MaxRetries: 0, HTTPClient: &http.Client{Transport: transport}}, c.ClientID, c.ClientSecret)
			if err != nil {
				e.t.Fatal(err)
			}
			return client, checked
		}
	}
	e.t.Fatalf("no API client %q", name)
	return nil, nil
}

// readyMapping creates a mapping and waits until its assessment finishes.
func (e *codeMigrationEnv) readyMapping(name, assetType string, apps ...string) string {
	e.t.Helper()
	m, err := e.assessment.CreateMapping(context.Background(), MappingCreate{Name: name, AssetType: assetType, ApplicationKeys: e.appKeys(apps...)})
	if err != nil {
		e.t.Fatalf("CreateMapping %s: %v", name, err)
	}
	waitFinished(e.t, e.assessment, m.LatestAssessmentKey)
	return m.Key
}

func (e *codeMigrationEnv) envKey(name string) string {
	e.t.Helper()
	for _, env := range e.sb.Fixture().LifeTime.Environments {
		if env.Name == name {
			return env.Key
		}
	}
	e.t.Fatalf("no environment %q", name)
	return ""
}

// waitMigration polls a code migration until it ends.
func waitMigration(t *testing.T, c *ODC, key string) *CodeMigration {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := c.GetCodeMigration(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != CodeMigrationMigrating {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("code migration %s did not end: %+v", key, m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func odcAPIError(t *testing.T, err error, status int, code string, contains ...string) *APIError {
	t.Helper()
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %T %v, want an *APIError", err, err)
	}
	if apiErr.StatusCode != status || apiErr.ErrorCode != code || apiErr.Service != "ODC" || apiErr.Title == "" || len(apiErr.TraceID) != 32 ||
		apiErr.Path != CodeMigrationAPIPrefix+"/code-migrations" && !strings.HasPrefix(apiErr.Path, CodeMigrationAPIPrefix+"/code-migrations/") {
		t.Errorf("APIError = %+v, want %d %s", apiErr, status, code)
	}
	for _, c := range contains {
		if !strings.Contains(err.Error(), c) {
			t.Errorf("error %q lacks %q", err, c)
		}
	}
	return apiErr
}

func TestCodeMigrationClient(t *testing.T) {
	e := newCodeMigrationEnv(t)
	ctx := context.Background()
	utils := e.readyMapping("Common Utils", AssetTypeLibrary, "Common Utils")
	policy := e.readyMapping("Policy Core", AssetTypeLibrary, "Policy Core")
	portal := e.readyMapping("Customer Portal", AssetTypeWebApplication, "Customer Portal")
	c, checked := e.odc("migration-pipeline")
	dev := e.envKey("Development")

	before := time.Now()
	m, err := c.StartCodeMigration(ctx, dev, []string{portal, policy, utils})
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != CodeMigrationMigrating || !IsGUID(m.Key) || m.SourceEnvironmentKey != dev || !slices.Equal(m.MappingKeys, []string{portal, policy, utils}) ||
		m.StartedBy != "migration-pipeline" || m.FinishedAt != "" || len(m.Assets) != 0 {
		t.Fatalf("started = %+v", m)
	}
	started, err := time.Parse(time.RFC3339Nano, m.StartedAt)
	if err != nil || started.Before(before.Add(-time.Second)) {
		t.Errorf("startedAt = %q (%v)", m.StartedAt, err)
	}
	if at, ok := e.sb.MigrationFinishedAt(m.Key); !ok || !at.Equal(started.Add(testMigrationDuration)) {
		t.Errorf("MigrationFinishedAt = %v, %v", at, ok)
	}

	// A second start while it runs names the migration to adopt.
	_, err = c.StartCodeMigration(ctx, dev, []string{utils})
	if apiErr := odcAPIError(t, err, http.StatusConflict, "MIGRATION_IN_PROGRESS", m.Key); apiErr.Extensions["migrationKey"] != m.Key {
		t.Errorf("extensions = %v, want migrationKey %s", apiErr.Extensions, m.Key)
	}
	running, err := c.ListCodeMigrations(ctx, CodeMigrationMigrating)
	if err != nil || len(running) != 1 || running[0].Key != m.Key {
		t.Errorf("ListCodeMigrations(Migrating) = %+v, %v", running, err)
	}

	done := waitMigration(t, c, m.Key)
	if done.Status != CodeMigrationFinished || done.FinishedAt == "" {
		t.Fatalf("finished = %+v", done)
	}
	if finished, err := time.Parse(time.RFC3339Nano, done.FinishedAt); err != nil || !finished.Equal(started.Add(testMigrationDuration)) {
		t.Errorf("finishedAt = %q, want startedAt + the duration", done.FinishedAt)
	}
	var names []string
	for i, a := range done.Assets {
		names = append(names, a.Name)
		if a.PublishOrder != i+1 || a.Revision != 1 || a.Status != "Unpublished" || !IsGUID(a.AssetKey) || len(a.Errors) != 0 || len(a.SourceApplicationVersions) != 1 {
			t.Errorf("asset %d = %+v", i, a)
		}
	}
	if want := []string{"Common Utils", "Policy Core", "Customer Portal"}; !slices.Equal(names, want) {
		t.Fatalf("assets = %v, want %v", names, want)
	}
	if a := done.Assets[2]; a.PublishWave != 3 || !slices.Equal(a.ProducerAssetKeys, []string{done.Assets[1].AssetKey}) || a.AssetType != AssetTypeWebApplication ||
		a.MappingKey != portal || a.SourceApplicationVersions[0].Version != "1.2.0" || len(a.Messages) != 1 || a.Messages[0].Code != "UNTAGGED_CHANGES_NOT_MIGRATED" {
		t.Errorf("Customer Portal = %+v", a)
	}
	finished, err := c.ListCodeMigrations(ctx, CodeMigrationFinished)
	if err != nil || len(finished) != 1 || len(finished[0].Assets) != 3 {
		t.Errorf("ListCodeMigrations(Finished) = %+v, %v", finished, err)
	}

	// Again: the next revision of the same assets.
	again, err := c.StartCodeMigration(ctx, dev, []string{utils})
	if err != nil {
		t.Fatal(err)
	}
	if a := waitMigration(t, c, again.Key).Assets[0]; a.AssetKey != done.Assets[0].AssetKey || a.Revision != 2 {
		t.Errorf("second migration of Common Utils = %+v", a)
	}
	all, err := c.ListCodeMigrations(ctx, "")
	if err != nil || len(all) != 2 || all[0].Key != again.Key || all[1].Key != m.Key {
		t.Errorf("ListCodeMigrations() = %+v, %v; want newest first", all, err)
	}
	if *checked == 0 {
		t.Error("no request went through the contract")
	}
}

func TestCodeMigrationClientErrors(t *testing.T) {
	e := newCodeMigrationEnv(t)
	ctx := context.Background()
	admin := e.readyMapping("Policy Admin", AssetTypeWebApplication, "Policy Admin")
	playground := e.readyMapping("Playground", AssetTypeWebApplication, "Sandbox Playground")
	c, _ := e.odc("migration-pipeline")
	dev := e.envKey("Development")

	_, err := c.StartCodeMigration(ctx, dev, []string{playground, admin})
	apiErr := odcAPIError(t, err, http.StatusConflict, "ASSETS_NOT_READY", "'Policy Admin'", "NotReady")
	if keys, _ := apiErr.Extensions["notReadyMappingKeys"].([]any); len(keys) != 1 || keys[0] != admin {
		t.Errorf("notReadyMappingKeys = %v", apiErr.Extensions["notReadyMappingKeys"])
	}
	_, err = c.StartCodeMigration(ctx, e.envKey("Production"), []string{playground})
	_ = odcAPIError(t, err, http.StatusConflict, "APPLICATION_NOT_IN_ENVIRONMENT", "'Sandbox Playground'")
	unknown := "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	_, err = c.StartCodeMigration(ctx, unknown, []string{playground})
	_ = odcAPIError(t, err, http.StatusNotFound, "ENVIRONMENT_NOT_FOUND", unknown)
	_, err = c.StartCodeMigration(ctx, dev, []string{unknown})
	_ = odcAPIError(t, err, http.StatusNotFound, "MAPPING_NOT_FOUND", unknown)
	_, err = c.GetCodeMigration(ctx, unknown)
	if !IsNotFound(err) {
		t.Errorf("GetCodeMigration of an unknown key = %v", err)
	}
	_ = odcAPIError(t, err, http.StatusNotFound, "CODE_MIGRATION_NOT_FOUND", unknown)

	noMigrate, _ := e.odc("publisher-no-migrate")
	_, err = noMigrate.StartCodeMigration(ctx, dev, []string{playground})
	_ = odcAPIError(t, err, http.StatusForbidden, "FORBIDDEN", "'publisher-no-migrate'", "O11 Migrations > Migrate O11 code", "Organization management > Convert O11 code")
	if list, err := noMigrate.ListCodeMigrations(ctx, ""); err != nil || len(list) != 0 {
		t.Errorf("reading without the migrate permission = %+v, %v", list, err)
	}

	// Sandbox Playground's conversion fails (the default fixture).
	m, err := c.StartCodeMigration(ctx, dev, []string{playground})
	if err != nil {
		t.Fatal(err)
	}
	done := waitMigration(t, c, m.Key)
	if done.Status != CodeMigrationFinishedWithErrors || len(done.Assets) != 1 || len(done.Assets[0].Errors) != 1 || done.Assets[0].Errors[0].Code != "CONVERSION_FAILED" {
		t.Errorf("Playground migration = %+v", done)
	}
	withErrors, err := c.ListCodeMigrations(ctx, CodeMigrationFinishedWithErrors)
	if err != nil || len(withErrors) != 1 || withErrors[0].Key != m.Key {
		t.Errorf("ListCodeMigrations(FinishedWithErrors) = %+v, %v", withErrors, err)
	}
}

// The probes tell a Migration Kit API from a server without one: the full
// sandbox answers, the tenant profile answers 404 like a real organization,
// and a 404 in the kit's own shape or any other error is no "no kit".
func TestProbeMigrationKit(t *testing.T) {
	ctx := context.Background()
	e := newCodeMigrationEnv(t)
	cm, checked := e.odc("migration-pipeline")
	if err := cm.ProbeCodeMigrations(ctx); err != nil {
		t.Errorf("ProbeCodeMigrations on the full sandbox = %v, want nil", err)
	}
	if *checked == 0 {
		t.Error("the code migration probe did not go through the contract")
	}
	if err := e.assessment.ProbeMigrationKit(ctx); err != nil {
		t.Errorf("ProbeMigrationKit on the full sandbox = %v, want nil", err)
	}

	sb, err := sandbox.New(sandbox.Options{DBPath: filepath.Join(t.TempDir(), "tenant.db"), WithoutMigrationKit: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := sb.Fixture().ODC.Client("migration-pipeline")
	tenantODC, err := NewODC(Config{BaseURL: url, MaxRetries: 0}, c.ClientID, c.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	tenantAS, err := NewAssessment(Config{BaseURL: url + "/MigrationAssessment", MaxRetries: 0}, e.token(fixture.RoleAdministrator))
	if err != nil {
		t.Fatal(err)
	}
	for name, probe := range map[string]struct {
		err  error
		path string
	}{
		"ProbeCodeMigrations": {tenantODC.ProbeCodeMigrations(ctx), url + "/api/migration-kit/v1/code-migrations?limit=1"},
		"ProbeMigrationKit":   {tenantAS.ProbeMigrationKit(ctx), url + "/MigrationAssessment/api/v1/mappings?limit=1&offset=0"},
	} {
		var noKit *NoMigrationKitError
		if !errors.As(probe.err, &noKit) {
			t.Errorf("%s on the tenant profile = %v, want a NoMigrationKitError", name, probe.err)
			continue
		}
		if noKit.Request != "GET "+probe.path || noKit.Answer.StatusCode != http.StatusNotFound ||
			!strings.Contains(noKit.Error(), probe.path) || !strings.Contains(noKit.Error(), "404") {
			t.Errorf("%s: %+v (%v), want the request %s and its 404", name, noKit, noKit, probe.path)
		}
	}

	// A 404 in the kit's own shape is the kit answering; a 500 is reported as it is.
	kit404 := fakeAssessment(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"type":"` + MigrationKitProblemTypePrefix + `ENDPOINT_NOT_FOUND","title":"No such endpoint","status":404,"detail":"no","traceId":"t","errorCode":"ENDPOINT_NOT_FOUND"}`))
	}, 0)
	failing := fakeAssessment(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}, 0)
	for name, c := range map[string]*Assessment{"kit-shaped 404": kit404, "500": failing} {
		err := c.ProbeMigrationKit(ctx)
		var noKit *NoMigrationKitError
		if err == nil || errors.As(err, &noKit) {
			t.Errorf("%s: ProbeMigrationKit = %v, want the error as it is, not \"no kit\"", name, err)
		}
	}
}
