package odc

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

var (
	keyCfgLib = sqldb.DerivedKey("odc-test", "config-lib")
	keyCfgApp = sqldb.DerivedKey("odc-test", "config-app")
)

// seedConfigured seeds a library with settings and an app consuming it
// with settings (one secret), a timer and an integration, both published
// to Development; it returns the app's configuration path there.
func seedConfigured(e *testEnv, tok string) string {
	e.t.Helper()
	e.seed(MigratedAsset{Key: keyCfgLib, Name: "Config Lib", AssetType: AssetTypeLibrary, Configuration: &MigratedConfiguration{
		Settings: []SettingDefinition{{Name: "Color", DataType: "Text", DefaultValue: "blue"}}}})
	e.seed(MigratedAsset{Key: keyCfgApp, Name: "Config App", AssetType: AssetTypeWebApp, Producers: []string{keyCfgLib}, Configuration: &MigratedConfiguration{
		Settings: []SettingDefinition{
			{Name: "Limit", Description: "A limit.", DataType: "Integer", DefaultValue: "10"},
			{Name: "ApiKey", DataType: "Text", DefaultValue: "", IsSecret: true},
		},
		Timers:       []TimerDefinition{{Name: "Nightly"}},
		Integrations: []IntegrationDefinition{{Name: "Billing", BaseURL: "https://billing.example/v1"}},
	}})
	dev := e.stage("Development")
	for _, k := range []string{keyCfgLib, keyCfgApp} {
		if op := e.publish(tok, k, dev); op.Status != StatusFinished {
			e.t.Fatalf("publish %s = %+v", k, op)
		}
	}
	return assetConfigBase + "/environments/" + dev + "/applications/" + keyCfgApp
}

type testConfig struct {
	Key                 string  `json:"key"`
	Name                string  `json:"name"`
	Value               *string `json:"value"`
	DeployedValue       *string `json:"deployedValue"`
	IsSecret            bool    `json:"isSecret"`
	ValueSetAfterDeploy *bool   `json:"valueSetAfterDeploy"`
	UpdatedAt           *string `json:"updatedAt"`
}

type testAppConfig struct {
	RevisionBaseline int          `json:"revisionBaseline"`
	RevisionDeployed *int         `json:"revisionDeployed"`
	Settings         []testConfig `json:"settings"`
	Timers           []struct {
		Key     string       `json:"key"`
		Configs []testConfig `json:"configs"`
	} `json:"timers"`
	Integrations []struct {
		Key     string       `json:"key"`
		Configs []testConfig `json:"configs"`
	} `json:"integrations"`
	Libraries *[]struct {
		Key      string       `json:"key"`
		Revision int          `json:"revision"`
		Settings []testConfig `json:"settings"`
	} `json:"libraries"`
}

// Reading and patching an app's configuration: only the elements sent
// change; changes are pending (value vs deployedValue) until a publish of
// the app in the stage; secrets never come back; keys, types and the
// baseline revision are checked; permissions are the documents'.
func TestAppConfigurationPatch(t *testing.T) {
	e := startODC(t, testOptions{PublishDuration: 30 * time.Millisecond})
	tok := e.token(clientMigration)
	base := seedConfigured(e, tok)
	read := func(query string) testAppConfig {
		return decode[testAppConfig](t, e.api(http.MethodGet, base+"/revisions/deployed/configurations"+query, tok, nil).expect(t, http.StatusOK))
	}
	c := read("")
	limit, secret := c.Settings[0], c.Settings[1]
	if *limit.Value != "10" || *limit.DeployedValue != "10" || !secret.IsSecret || secret.Value != nil || *c.RevisionDeployed != 1 {
		t.Fatalf("first read = %+v", c)
	}
	lib := (*c.Libraries)[0]
	patch := map[string]any{"revisionBaseline": 1,
		"settings":     []map[string]any{{"key": limit.Key, "value": "42"}, {"key": secret.Key, "value": "top-secret-value"}},
		"timers":       []map[string]any{{"key": c.Timers[0].Key, "configs": []map[string]any{{"key": "IsActive", "value": "false"}}}},
		"integrations": []map[string]any{{"key": c.Integrations[0].Key, "configs": []map[string]any{{"key": "BaseUrl", "value": "https://billing.qa.example/v1"}}}},
		"libraries":    []map[string]any{{"key": lib.Key, "revision": lib.Revision, "settings": []map[string]any{{"key": lib.Settings[0].Key, "value": "red"}}}},
	}
	e.api(http.MethodPatch, base+"/configurations", tok, patch).expect(t, http.StatusNoContent)
	r := e.api(http.MethodGet, base+"/revisions/deployed/configurations", tok, nil).expect(t, http.StatusOK)
	if strings.Contains(string(r.body), "top-secret-value") {
		t.Fatalf("the secret came back: %s", r.body)
	}
	c = decode[testAppConfig](t, r)
	if *c.Settings[0].Value != "42" || *c.Settings[0].DeployedValue != "10" || !*c.Settings[1].ValueSetAfterDeploy || c.Settings[1].UpdatedAt == nil {
		t.Errorf("pending after PATCH = %+v", c.Settings)
	}
	if *c.Timers[0].Configs[0].Value != "false" || *c.Integrations[0].Configs[0].Value != "https://billing.qa.example/v1" || *(*c.Libraries)[0].Settings[0].Value != "red" {
		t.Errorf("timer, integration or library setting not changed: %s", r.body)
	}
	// Only the elements sent change.
	e.api(http.MethodPatch, base+"/configurations", tok, map[string]any{"settings": []map[string]any{{"key": limit.Key, "value": "43"}}}).expect(t, http.StatusNoContent)
	if c = read(""); *c.Timers[0].Configs[0].Value != "false" || *c.Settings[0].Value != "43" {
		t.Errorf("after a second PATCH = %+v", c)
	}
	// A publish applies them.
	e.publish(tok, keyCfgApp, e.stage("Development"))
	if c = read(""); *c.Settings[0].DeployedValue != "43" || *c.Settings[1].ValueSetAfterDeploy {
		t.Errorf("after a publish = %+v", c.Settings)
	}
	// fields= leaves the others null.
	if c = read("?fields=settings"); c.Libraries != nil || len(c.Settings) != 2 {
		t.Errorf("fields=settings = %+v", c)
	}
	e.api(http.MethodGet, base+"/revisions/deployed/configurations?fields=baseProperties", tok, nil).expectODCProblem(t, http.StatusBadRequest, "baseProperties")
	if c = read(""); c.RevisionBaseline != 1 {
		t.Errorf("baseline = %d", c.RevisionBaseline)
	}

	bad := []struct {
		name string
		body any
		want []string
	}{
		{"unknown key", map[string]any{"settings": []map[string]any{{"key": keyCore, "value": "1"}}}, []string{"not a setting"}},
		{"wrong type", map[string]any{"settings": []map[string]any{{"key": limit.Key, "value": "many"}}}, []string{"'many'", "Integer"}},
		{"baseline not a revision", map[string]any{"revisionBaseline": 9, "settings": []map[string]any{}}, []string{"revisionBaseline 9"}},
		{"timer config", map[string]any{"timers": []map[string]any{{"key": c.Timers[0].Key, "configs": []map[string]any{{"key": "Schedule", "value": "x"}}}}}, []string{"IsActive"}},
		{"not a URL", map[string]any{"integrations": []map[string]any{{"key": c.Integrations[0].Key, "configs": []map[string]any{{"key": "BaseUrl", "value": "billing"}}}}}, []string{"URL"}},
		{"library revision", map[string]any{"libraries": []map[string]any{{"key": lib.Key, "revision": 7}}}, []string{"revision 1"}},
		{"unknown field", map[string]any{"values": []string{}}, []string{"ApplicationConfigPatch"}},
		{"twice", map[string]any{"settings": []map[string]any{{"key": limit.Key, "value": "1"}, {"key": limit.Key, "value": "2"}}}, []string{"twice"}},
	}
	for _, b := range bad {
		e.apiOutsideContract(http.MethodPatch, base+"/configurations", tok, b.body).expectODCProblem(t, http.StatusBadRequest, b.want...)
	}
	// A library is not an application; a stage where the app is not deployed has no deployed configuration.
	qa := e.stage("QA")
	e.api(http.MethodGet, assetConfigBase+"/environments/"+e.stage("Development")+"/applications/"+keyCfgLib+"/revisions/deployed/configurations", tok, nil).expectODCProblem(t, http.StatusNotFound, "Application")
	e.api(http.MethodGet, assetConfigBase+"/environments/"+qa+"/applications/"+keyCfgApp+"/revisions/deployed/configurations", tok, nil).expectODCProblem(t, http.StatusNotFound, "not deployed", "QA")
	qaCfg := decode[testAppConfig](t, e.api(http.MethodGet, assetConfigBase+"/environments/"+qa+"/applications/"+keyCfgApp+"/revisions/1/configurations", tok, nil).expect(t, http.StatusOK))
	if qaCfg.RevisionDeployed != nil || qaCfg.Settings[0].DeployedValue != nil || *qaCfg.Settings[0].Value != "10" {
		t.Errorf("QA, revision 1 = %+v", qaCfg)
	}
	e.api(http.MethodPatch, assetConfigBase+"/environments/"+qa+"/applications/"+keyCfgApp+"/configurations", tok,
		map[string]any{"settings": []map[string]any{{"key": limit.Key, "value": "5"}}}).expectODCProblem(t, http.StatusBadRequest, "revisionBaseline")
}

func TestAppConfigurationPermissions(t *testing.T) {
	f := fixture.Default()
	f.ODC.APIClients = append(f.ODC.APIClients, fixture.APIClient{Name: "viewer", ClientID: "viewer-1", ClientSecret: "viewer-secret",
		Permissions: []string{fixture.PermissionViewPortfolio, fixture.PermissionViewConfigurations}})
	e := startODC(t, testOptions{Fixture: f, PublishDuration: 30 * time.Millisecond})
	base := seedConfigured(e, e.token(clientMigration))
	viewer := e.token("viewer")
	e.api(http.MethodGet, base+"/revisions/deployed/configurations", viewer, nil).expect(t, http.StatusOK)
	e.api(http.MethodPatch, base+"/configurations", viewer, map[string]any{"settings": []map[string]any{}}).
		expectODCProblem(t, http.StatusForbidden, "'Configuration management > Edit configurations'")
	e.apiOutsideContract(http.MethodGet, base+"/revisions/deployed/configurations", "", nil).expect(t, http.StatusUnauthorized)
}

// The client reads and patches an app's configuration, its requests and
// the answers checked against the document.
func TestAppConfigurationClient(t *testing.T) {
	sb, v, base := startODCSandbox(t, testOptions{PublishDuration: 30 * time.Millisecond})
	e := &testEnv{t: t, sb: sb, base: base, v: v}
	seedConfigured(e, e.token(clientMigration))
	c := newTestClient(t, sb, v, base, clientMigration)
	ctx := t.Context()
	dev := e.stage("Development")
	got, err := c.AppConfiguration(ctx, dev, keyCfgApp, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.RevisionBaseline != 1 || len(got.Settings) != 2 || len(got.Timers) != 1 || len(got.Integrations) != 1 || len(got.Libraries) != 1 {
		t.Fatalf("configuration = %+v", got)
	}
	url, _ := got.Integrations[0].Config(client.IntegrationConfigBaseURL)
	if *url.Value != "https://billing.example/v1" || got.Settings[1].Value != nil || !got.Settings[1].IsSecret {
		t.Errorf("integration %+v, secret %+v", url, got.Settings[1])
	}
	err = c.PatchAppConfiguration(ctx, dev, keyCfgApp, client.AppConfigPatch{RevisionBaseline: 1,
		Settings:  []client.ConfigPatchValue{{Key: got.Settings[0].Key, Value: "7"}, {Key: got.Settings[1].Key, Value: "hush"}},
		Timers:    []client.ConfigElementPatch{{Key: got.Timers[0].Key, Configs: []client.ConfigPatchValue{{Key: client.TimerConfigIsActive, Value: "false"}}}},
		Libraries: []client.LibraryConfigPatch{{Key: got.Libraries[0].Key, Revision: 1, Settings: []client.ConfigPatchValue{{Key: got.Libraries[0].Settings[0].Key, Value: "green"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = c.AppConfiguration(ctx, dev, keyCfgApp, 1)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Settings[0].Value != "7" || !got.Settings[0].Pending() || !got.Settings[1].Pending() || *got.Libraries[0].Settings[0].Value != "green" {
		t.Errorf("after the patch = %+v", got)
	}
	err = c.PatchAppConfiguration(ctx, dev, keyCfgApp, client.AppConfigPatch{RevisionBaseline: 1, Settings: []client.ConfigPatchValue{{Key: got.Settings[0].Key, Value: "seven"}}})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(err.Error(), "Integer") {
		t.Errorf("a bad value: %v", err)
	}
}
