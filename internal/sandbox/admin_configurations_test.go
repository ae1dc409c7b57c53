package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
)

type cfgValue struct {
	Key                 string  `json:"key"`
	Name                string  `json:"name"`
	DataType            string  `json:"dataType"`
	Value               *string `json:"value"`
	DeployedValue       *string `json:"deployedValue"`
	IsSecret            bool    `json:"isSecret"`
	ValueSetAfterDeploy *bool   `json:"valueSetAfterDeploy"`
}

type cfgApp struct {
	RevisionDeployed *int       `json:"revisionDeployed"`
	Settings         []cfgValue `json:"settings"`
	Timers           []struct {
		Name    string     `json:"name"`
		Configs []cfgValue `json:"configs"`
	} `json:"timers"`
	Integrations []struct {
		Name    string     `json:"name"`
		Configs []cfgValue `json:"configs"`
	} `json:"integrations"`
	Libraries []struct {
		Name     string     `json:"name"`
		Settings []cfgValue `json:"settings"`
	} `json:"libraries"`
}

func settingNamed(t *testing.T, c cfgApp, name string) cfgValue {
	t.Helper()
	for _, s := range c.Settings {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no setting %q in %+v", name, c.Settings)
	return cfgValue{}
}

// A portal migration gives migrated revisions the configuration of their
// O11 applications: site properties as settings (the O11 secret one NOT
// secret), timers and consumed REST APIs for the app, the consumed
// library's settings; the admin surface changes a value out of band
// (pending until a publish) and marks a setting secret as Studio would.
func TestAdminAppConfigurations(t *testing.T) {
	e := startODC(t, Options{PublishDuration: 30 * time.Millisecond})
	f := e.sb.Fixture()
	m, err := e.sb.PortalMigrate(codemigration.PortalRequest{SourceEnvironmentKey: envKey(t, f, "Development"), Wait: true,
		Assets: []codemigration.PortalAsset{
			{Name: "Acme Theme", Type: "library", ApplicationNames: []string{"Acme Theme"}},
			{Name: "HR Self Service", Type: "app", ApplicationNames: []string{"HR Self Service"}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, a := range m.Assets {
		keys[a.Name] = a.AssetKey
	}
	tok, dev := e.token(clientMigration), e.stage("Development")
	for _, name := range []string{"Acme Theme", "HR Self Service"} {
		op := decode[map[string]any](t, e.api(http.MethodPost, "/api/deployments/v1/publish-operations", tok,
			map[string]any{"operation": "Publish", "assetKey": keys[name], "revision": 1}).expect(t, http.StatusCreated))
		for deadline := time.Now().Add(10 * time.Second); op["status"] == "Running"; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("publish of %s still running", name)
			}
			op = decode[map[string]any](t, e.api(http.MethodGet, "/api/deployments/v1/publish-operations/"+fmt.Sprint(op["key"]), tok, nil).expect(t, http.StatusOK))
		}
		if op["status"] != "Finished" {
			t.Fatalf("publish of %s = %v", name, op)
		}
	}
	path := "/api/asset-configurations/v1/environments/" + dev + "/applications/" + keys["HR Self Service"] + "/revisions/deployed/configurations"
	read := func() cfgApp {
		return decode[cfgApp](t, e.api(http.MethodGet, path, tok, nil).expect(t, http.StatusOK))
	}
	c := read()
	if token := settingNamed(t, c, "PayrollApiToken"); token.IsSecret || token.Value == nil || *token.Value != "" {
		t.Errorf("PayrollApiToken (secret in O11) = %+v, want a non-secret setting with the empty default", token)
	}
	if len(c.Timers) != 1 || c.Timers[0].Name != "SyncEmployees" || *c.Timers[0].Configs[0].Value != "true" {
		t.Errorf("timers = %+v", c.Timers)
	}
	if len(c.Integrations) != 1 || *c.Integrations[0].Configs[0].Value != "https://payroll.acme.example/api" {
		t.Errorf("integrations = %+v", c.Integrations)
	}
	if len(c.Libraries) != 1 || c.Libraries[0].Name != "Acme Theme" || len(c.Libraries[0].Settings) != 2 {
		t.Errorf("libraries = %+v", c.Libraries)
	}

	admin := "/_sandbox/odc/stages/" + dev + "/applications/" + keys["HR Self Service"] + "/configuration"
	do(t, http.MethodPut, e.base+admin, "", ConfigurationChange{Name: "MaxUploadMB", Value: "25"}).expect(t, http.StatusNoContent)
	do(t, http.MethodPut, e.base+admin, "", ConfigurationChange{Name: "MaxUploadMB", Value: "many"}).expect(t, http.StatusBadRequest)
	do(t, http.MethodPut, e.base+admin, "", ConfigurationChange{Library: "Acme Theme", Name: "BrandColor", Value: "#ff0000"}).expect(t, http.StatusNoContent)
	do(t, http.MethodPut, e.base+admin, "", ConfigurationChange{Kind: "Timer", Name: "SyncEmployees", Value: "false"}).expect(t, http.StatusNoContent)
	do(t, http.MethodPut, e.base+admin, "", ConfigurationChange{Name: "NoSuchSetting", Value: "1"}).expect(t, http.StatusNotFound)
	c = read()
	if s := settingNamed(t, c, "MaxUploadMB"); *s.Value != "25" || *s.DeployedValue != "10" {
		t.Errorf("MaxUploadMB after an out-of-band change = %+v, want value 25 pending (deployed 10)", s)
	}
	if *c.Libraries[0].Settings[0].Value != "#ff0000" || *c.Timers[0].Configs[0].Value != "false" {
		t.Errorf("library setting or timer not changed: %+v %+v", c.Libraries, c.Timers)
	}

	r := decode[map[string]int](t, do(t, http.MethodPost, e.base+"/_sandbox/odc/assets/"+keys["HR Self Service"]+"/settings/PayrollApiToken/mark-secret", "", nil).expect(t, http.StatusOK))
	if r["revision"] != 2 {
		t.Fatalf("mark-secret = %v", r)
	}
	c = read()
	token := settingNamed(t, c, "PayrollApiToken")
	if c.RevisionDeployed == nil || *c.RevisionDeployed != 2 || !token.IsSecret || token.Value != nil || token.DeployedValue != nil {
		t.Errorf("after marking secret: revision %v, PayrollApiToken %+v", c.RevisionDeployed, token)
	}
	// The Studio publish applied the pending value too.
	if s := settingNamed(t, c, "MaxUploadMB"); *s.DeployedValue != "25" {
		t.Errorf("MaxUploadMB after a publish = %+v, want deployed 25", s)
	}
	resp := do(t, http.MethodPut, e.base+admin, "", ConfigurationChange{Name: "PayrollApiToken", Value: "s3cr3t-payroll"}).expect(t, http.StatusNoContent)
	body := string(e.api(http.MethodGet, path, tok, nil).expect(t, http.StatusOK).body) + string(resp.body)
	if strings.Contains(body, "s3cr3t-payroll") {
		t.Errorf("a secret value came back: %s", body)
	}
	if token := settingNamed(t, read(), "PayrollApiToken"); token.ValueSetAfterDeploy == nil || !*token.ValueSetAfterDeploy {
		t.Errorf("secret set after the deploy: %+v", token)
	}
}

// The kit's code migration gives migrated revisions their configuration
// too: settings (the O11 secret one NOT secret), timers and integrations
// for the app, settings only for the library.
func TestKitMigrationConfigurations(t *testing.T) {
	e := newMigrationEnv(t, Options{})
	keys := e.ready(
		[3]string{"Acme Theme", AssetTypeLibrary, "Acme Theme"},
		[3]string{"HR Self Service", AssetTypeWebApp, "HR Self Service"},
	)
	m := e.start(keys["Acme Theme"], keys["HR Self Service"])
	e.clock.Advance(testMigrationDuration)
	done := e.get(m.Key)
	if done.Status != codemigration.StatusFinished {
		t.Fatalf("migration = %+v", done)
	}
	definitions := map[string]string{}
	for _, a := range done.Assets {
		rows, err := e.sb.store.db.Query(`SELECT kind, name, is_secret FROM odc_config_definitions WHERE asset_key = ? AND revision = ?`, a.AssetKey, a.Revision)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var kind, name string
			var secret int
			if err := rows.Scan(&kind, &name, &secret); err != nil {
				t.Fatal(err)
			}
			definitions[a.Name+"/"+kind+"/"+name] = fmt.Sprint(secret)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{
		"Acme Theme/Setting/BrandColor": "0", "Acme Theme/Setting/LogoUrl": "0",
		"HR Self Service/Setting/PayrollApiToken": "0", "HR Self Service/Setting/MaxUploadMB": "0", "HR Self Service/Setting/WelcomeText": "0",
		"HR Self Service/Timer/SyncEmployees": "0", "HR Self Service/Integration/PayrollService": "0",
	}
	if fmt.Sprint(definitions) != fmt.Sprint(want) {
		t.Errorf("definitions = %v, want %v", definitions, want)
	}
}
