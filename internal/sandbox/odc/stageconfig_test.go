package odc

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// withoutPermission is the default fixture with permission taken from the
// API client called name.
func withoutPermission(name, permission string) *fixture.Fixture {
	f := fixture.Default()
	for i := range f.ODC.APIClients {
		if f.ODC.APIClients[i].Name == name {
			f.ODC.APIClients[i].Permissions = slices.DeleteFunc(f.ODC.APIClients[i].Permissions, func(p string) bool { return p == permission })
		}
	}
	return f
}

func systemConfigsPath(stage string) string {
	return assetConfigBase + "/environments/" + stage + "/default-system-configurations"
}

func (e *testEnv) systemConfigs(tok, stage string) map[string]genericConfigResult {
	e.t.Helper()
	res := decode[environmentConfigResult](e.t, e.api(http.MethodGet, systemConfigsPath(stage), tok, nil).expect(e.t, http.StatusOK))
	out := map[string]genericConfigResult{}
	for _, c := range res.SystemConfigurations {
		out[c.Name] = c
	}
	return out
}

func configKey(name string) string {
	for _, c := range SystemConfigs {
		if c.Name == name {
			return c.Key()
		}
	}
	panic("no system configuration " + name)
}

func shownOrNull(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

// A stage's defaults: every configuration with its default until set; a
// PATCH changes only what it sends, per stage; null resets to the default;
// the secret's value is never returned, its updatedAt and
// valueSetAfterDeploy tell that it was set.
func TestSystemConfigurationsPatchOnlyWhatIsSent(t *testing.T) {
	e := startODC(t, testOptions{})
	tok := e.token(clientMigration)
	dev, qa := e.stage("Development"), e.stage("QA")

	before := e.systemConfigs(tok, qa)
	if len(before) != len(SystemConfigs) {
		t.Fatalf("configurations = %v", before)
	}
	port := before["SMTPPort"]
	if shownOrNull(port.Value) != "587" || shownOrNull(port.DefaultValue) != "587" || port.ValueOrigin != originEnvironmentDefault || port.UpdatedAt != nil || port.ValueSetAfterDeploy != nil {
		t.Fatalf("SMTPPort before = %+v", port)
	}
	pw := before["SMTPPassword"]
	if !pw.IsSecret || pw.Value != nil || pw.DefaultValue != nil || pw.DeployedValue != nil || pw.ValueSetAfterDeploy == nil || *pw.ValueSetAfterDeploy {
		t.Fatalf("SMTPPassword before = %+v", pw)
	}

	const secret = "s3cr3t-smtp-pass"
	e.api(http.MethodPatch, systemConfigsPath(qa), tok, map[string]any{"systemConfigurations": []map[string]any{
		{"key": configKey("SMTPServer"), "value": "smtp.example.com"},
		{"key": configKey("SMTPPort"), "value": "2525"},
		{"key": configKey("SMTPPassword"), "value": secret},
	}}).expect(t, http.StatusNoContent)
	r := e.api(http.MethodGet, systemConfigsPath(qa), tok, nil).expect(t, http.StatusOK)
	if strings.Contains(string(r.body), secret) {
		t.Fatalf("the secret is in the answer: %s", r.body)
	}
	after := e.systemConfigs(tok, qa)
	if c := after["SMTPServer"]; shownOrNull(c.Value) != "smtp.example.com" || shownOrNull(c.DeployedValue) != "smtp.example.com" || c.ValueOrigin != originEnvironmentOverride || c.UpdatedAt == nil {
		t.Errorf("SMTPServer = %+v", c)
	}
	if c := after["SMTPPassword"]; c.Value != nil || c.ValueSetAfterDeploy == nil || !*c.ValueSetAfterDeploy || c.UpdatedAt == nil {
		t.Errorf("SMTPPassword after = %+v", c)
	}
	if c := after["SMTPUsername"]; c.UpdatedAt != nil || shownOrNull(c.Value) != "" {
		t.Errorf("SMTPUsername was not sent but changed: %+v", c)
	}
	if c := e.systemConfigs(tok, dev)["SMTPServer"]; c.UpdatedAt != nil {
		t.Errorf("Development changed with QA: %+v", c)
	}
	if v, _, ok, err := e.sb.svc.SystemConfigValue(t.Context(), qa, "SMTPPassword"); err != nil || !ok || v != secret {
		t.Errorf("stored password = %q %v %v", v, ok, err)
	}

	// null: back to the default.
	e.api(http.MethodPatch, systemConfigsPath(qa), tok, map[string]any{"systemConfigurations": []map[string]any{
		{"key": configKey("SMTPPort"), "value": nil},
	}}).expect(t, http.StatusNoContent)
	if c := e.systemConfigs(tok, qa)["SMTPPort"]; shownOrNull(c.Value) != "587" || c.ValueOrigin != originEnvironmentDefault {
		t.Errorf("SMTPPort after reset = %+v", c)
	}
}

func TestSystemConfigurationsRefuseBadInput(t *testing.T) {
	e := startODC(t, testOptions{})
	tok := e.token(clientMigration)
	qa := e.stage("QA")
	patch := func(items ...map[string]any) response {
		return e.api(http.MethodPatch, systemConfigsPath(qa), tok, map[string]any{"systemConfigurations": items})
	}
	cases := []struct {
		resp   response
		status int
		want   string
	}{
		{patch(map[string]any{"key": configKey("SMTPPort"), "value": "smtp"}), http.StatusBadRequest, "'smtp' is not a 32-bit integer"},
		{patch(map[string]any{"key": configKey("SMTPPort"), "value": "70000"}), http.StatusBadRequest, "port from 1 to 65535"},
		{patch(map[string]any{"key": configKey("SMTPUseTLS"), "value": "yes"}), http.StatusBadRequest, "True or False"},
		{patch(map[string]any{"key": configKey("EmailSenderAddress"), "value": "not an address"}), http.StatusBadRequest, "email address"},
		{patch(map[string]any{"key": configKey("DefaultTimeZone"), "value": "Mars/Olympus"}), http.StatusBadRequest, "IANA time zone"},
		{patch(map[string]any{"key": configKey("SMTPServer"), "value": "a"}, map[string]any{"key": configKey("SMTPServer"), "value": "b"}), http.StatusBadRequest, "more than once"},
		{patch(map[string]any{"key": "6d1c6a4e-4c5e-4a1c-9d55-111111111111", "value": "x"}), http.StatusNotFound, "was not found"},
		{patch(map[string]any{"value": "x"}), http.StatusBadRequest, "key is required"},
		{e.api(http.MethodGet, systemConfigsPath("6d1c6a4e-4c5e-4a1c-9d55-111111111111"), tok, nil), http.StatusNotFound, "Stage (environment)"},
		{e.api(http.MethodGet, systemConfigsPath("qa"), tok, nil), http.StatusNotFound, "Stage (environment)"},
	}
	for i, c := range cases {
		if c.resp.status != c.status || !strings.Contains(string(c.resp.body), c.want) {
			t.Errorf("case %d: %d %s; want %d with %q", i, c.resp.status, c.resp.body, c.status, c.want)
		}
	}
	// A rejected PATCH changes nothing, not even the valid items it held.
	patch(map[string]any{"key": configKey("SMTPServer"), "value": "smtp.example.com"}, map[string]any{"key": configKey("SMTPPort"), "value": "x"}).expect(t, http.StatusBadRequest)
	if c := e.systemConfigs(tok, qa)["SMTPServer"]; c.UpdatedAt != nil {
		t.Errorf("a rejected PATCH changed SMTPServer: %+v", c)
	}
	// A bad secret value is not echoed.
	if r := patch(map[string]any{"key": configKey("SMTPPassword"), "value": strings.Repeat("p", 4001)}); r.status != http.StatusBadRequest || strings.Contains(string(r.body), "pppp") {
		t.Errorf("long secret: %d %s", r.status, r.body)
	}
}

// Reading needs View configurations; changing needs Edit configurations,
// and SMTP values need Manage Email SMTP configuration as well.
func TestSystemConfigurationsPermissions(t *testing.T) {
	for _, c := range []struct {
		missing string
		get     int
		smtp    int
		other   int
	}{
		{fixture.PermissionViewConfigurations, http.StatusForbidden, http.StatusNoContent, http.StatusNoContent},
		{fixture.PermissionEditConfigurations, http.StatusOK, http.StatusForbidden, http.StatusForbidden},
		{fixture.PermissionManageSMTP, http.StatusOK, http.StatusForbidden, http.StatusNoContent},
	} {
		t.Run(c.missing, func(t *testing.T) {
			e := startODC(t, testOptions{Fixture: withoutPermission(clientMigration, c.missing)})
			tok := e.token(clientMigration)
			qa := e.stage("QA")
			r := e.api(http.MethodGet, systemConfigsPath(qa), tok, nil).expect(t, c.get)
			if c.get == http.StatusForbidden && !strings.Contains(string(r.body), c.missing) {
				t.Errorf("403 does not name %q: %s", c.missing, r.body)
			}
			r = e.api(http.MethodPatch, systemConfigsPath(qa), tok, map[string]any{"systemConfigurations": []map[string]any{
				{"key": configKey("DefaultTimeZone"), "value": "Europe/Lisbon"}, {"key": configKey("SMTPServer"), "value": "smtp.example.com"}}})
			r.expect(t, c.smtp)
			if c.smtp == http.StatusForbidden && !strings.Contains(string(r.body), c.missing) {
				t.Errorf("403 does not name %q: %s", c.missing, r.body)
			}
			e.api(http.MethodPatch, systemConfigsPath(qa), tok, map[string]any{"systemConfigurations": []map[string]any{
				{"key": configKey("DefaultTimeZone"), "value": "Europe/Lisbon"}}}).expect(t, c.other)
		})
	}
}

func domainsPath(stage string) string { return envConfigBase + "/environments/" + stage + "/domains" }

// A custom domain's life: created with its CNAME and a certificate that is
// Creating, then PendingValidation until the DNS validates it, then Active;
// listed per stage with paging; patched (default app, redirect); deleted.
func TestDomainsLifecycle(t *testing.T) {
	e := startODC(t, testOptions{PublishDuration: 50 * time.Millisecond})
	tok := e.token(clientMigration)
	dev, qa := e.stage("Development"), e.stage("QA")

	created := decode[domainJSON](t, e.api(http.MethodPost, domainsPath(qa), tok, map[string]any{"hostname": "portal.example.com", "name": "Portal"}).expect(t, http.StatusCreated))
	if created.Name != "Portal" || created.Hostname != "portal.example.com" || created.BuiltIn || created.IsDefault || created.RedirectOption != "Permanent" ||
		created.DefaultApplicationKey != nil || created.Certificate.Status != CertificateCreating || !strings.HasSuffix(created.CNameValue, ".outsystems.app") {
		t.Fatalf("created = %+v", created)
	}
	unnamed := decode[domainJSON](t, e.api(http.MethodPost, domainsPath(qa), tok, map[string]any{"hostname": "api.example.com"}).expect(t, http.StatusCreated))
	if unnamed.Name != "api.example.com" {
		t.Errorf("a domain without a name is named %q", unnamed.Name)
	}
	time.Sleep(60 * time.Millisecond)
	one := domainsPath(qa) + "/" + created.ID
	got := decode[domainJSON](t, e.api(http.MethodGet, one, tok, nil).expect(t, http.StatusOK))
	if got.Certificate.Status != CertificatePendingValidation || shownOrNull(got.Certificate.CNameKey) != "" && !strings.HasSuffix(shownOrNull(got.Certificate.CNameKey), ".portal.example.com") {
		t.Fatalf("after creating: %+v", got.Certificate)
	}
	if ok, err := e.sb.svc.ValidateDomain(t.Context(), "portal.example.com"); err != nil || !ok {
		t.Fatalf("ValidateDomain = %v %v", ok, err)
	}
	if got := decode[domainJSON](t, e.api(http.MethodGet, one, tok, nil).expect(t, http.StatusOK)); got.Certificate.Status != CertificateActive || !got.Certificate.RenewalEligibility {
		t.Fatalf("after validation: %+v", got.Certificate)
	}

	// The same hostname cannot map to another stage, nor twice.
	e.apiOutsideContract(http.MethodPost, domainsPath(dev), tok, map[string]any{"hostname": "portal.example.com"}).expect(t, http.StatusConflict)
	// Another stage does not see QA's domain.
	e.api(http.MethodGet, domainsPath(dev)+"/"+created.ID, tok, nil).expect(t, http.StatusNotFound)

	page := decode[pagedList[domainJSON]](t, e.api(http.MethodGet, domainsPath(qa)+"?limit=1", tok, nil).expect(t, http.StatusOK))
	if len(page.Results) != 1 || page.Results[0].ID != created.ID {
		t.Fatalf("first page = %+v", page)
	}
	page = decode[pagedList[domainJSON]](t, e.api(http.MethodGet, domainsPath(qa)+"?limit=1&offset=1", tok, nil).expect(t, http.StatusOK))
	if len(page.Results) != 1 || page.Results[0].ID != unnamed.ID {
		t.Fatalf("second page = %+v", page)
	}
	e.api(http.MethodGet, domainsPath(qa)+"?limit=101", tok, nil).expect(t, http.StatusBadRequest)

	// The default app must be an app deployed in the domain's stage.
	for _, a := range testAssets[:3] {
		e.seed(a)
	}
	patch := func(body map[string]any) response { return e.api(http.MethodPatch, one, tok, body) }
	if r := patch(map[string]any{"defaultApplicationKey": keyPortal, "redirectOption": "Temporary"}); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "not deployed") {
		t.Errorf("an app not deployed in QA: %d %s", r.status, r.body)
	}
	if r := patch(map[string]any{"defaultApplicationKey": keyCore}); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "library") {
		t.Errorf("a library: %d %s", r.status, r.body)
	}
	e.publish(tok, keyCore, qa)
	e.publish(tok, keyPolicy, qa)
	e.publish(tok, keyPortal, qa)
	res := decode[domainPatchResponse](t, patch(map[string]any{"defaultApplicationKey": keyPortal, "redirectOption": "Temporary"}).expect(t, http.StatusOK))
	if shownOrNull(res.Domain.DefaultApplicationKey) != keyPortal || res.Domain.RedirectOption != "Temporary" {
		t.Fatalf("patched = %+v", res.Domain)
	}
	e.apiOutsideContract(http.MethodPatch, one, tok, map[string]any{"redirectOption": "Sometimes"}).expect(t, http.StatusBadRequest)
	// Both fields are always taken: an empty body clears the default app
	// and sets the default redirect.
	res = decode[domainPatchResponse](t, patch(map[string]any{}).expect(t, http.StatusOK))
	if res.Domain.DefaultApplicationKey != nil || res.Domain.RedirectOption != "Permanent" {
		t.Fatalf("after an empty patch = %+v", res.Domain)
	}

	e.api(http.MethodDelete, one, tok, nil).expect(t, http.StatusNoContent)
	e.api(http.MethodGet, one, tok, nil).expect(t, http.StatusNotFound)
	e.api(http.MethodDelete, one, tok, nil).expect(t, http.StatusNotFound)
	if hs, err := e.sb.svc.DomainsOf(t.Context(), qa); err != nil || strings.Join(hs, ",") != "api.example.com" {
		t.Errorf("QA's domains = %v %v", hs, err)
	}
	// Deleted, the hostname is free for another stage.
	e.api(http.MethodPost, domainsPath(dev), tok, map[string]any{"hostname": "portal.example.com"}).expect(t, http.StatusCreated)
}

func TestDomainsRefuseBadHostnames(t *testing.T) {
	e := startODC(t, testOptions{})
	tok := e.token(clientMigration)
	qa := e.stage("QA")
	for host, want := range map[string]string{
		"":                                      "hostname is required",
		"Portal.Example.com":                    "lower case",
		"*.example.com":                         "wildcard",
		"localhost":                             "fully qualified",
		"bad_label.example.com":                 "'bad_label' does not",
		"-x.example.com":                        "'-x' does not",
		"10.0.0.1":                              "IP address",
		"acme.outsystems.app":                   "OutSystems provides",
		"x." + strings.Repeat("a", 64) + ".com": "does not",
	} {
		r := e.apiOutsideContract(http.MethodPost, domainsPath(qa), tok, map[string]any{"hostname": host})
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), want) {
			t.Errorf("%q: %d %s; want 400 with %q", host, r.status, r.body, want)
		}
	}
	r := e.apiOutsideContract(http.MethodPost, domainsPath(qa), tok, map[string]any{"hostname": "a.example.com", "name": strings.Repeat("n", 101)})
	r.expect(t, http.StatusBadRequest)
	e.apiOutsideContract(http.MethodPost, domainsPath(qa), tok, map[string]any{"hostname": "a.example.com", "extra": 1}).expect(t, http.StatusBadRequest)
	e.api(http.MethodPost, domainsPath("6d1c6a4e-4c5e-4a1c-9d55-111111111111"), tok, map[string]any{"hostname": "a.example.com"}).expect(t, http.StatusNotFound)
	if hs, err := e.sb.svc.DomainsOf(t.Context(), qa); err != nil || len(hs) != 0 {
		t.Errorf("refused requests left domains: %v %v", hs, err)
	}
}

// Reading domains needs View configurations; adding, changing and removing
// them Manage domains.
func TestDomainsPermissions(t *testing.T) {
	e := startODC(t, testOptions{Fixture: withoutPermission(clientMigration, fixture.PermissionManageDomains)})
	tok := e.token(clientMigration)
	qa := e.stage("QA")
	r := e.api(http.MethodPost, domainsPath(qa), tok, map[string]any{"hostname": "a.example.com"}).expect(t, http.StatusForbidden)
	if !strings.Contains(string(r.body), fixture.PermissionManageDomains) {
		t.Errorf("403 does not name the permission: %s", r.body)
	}
	e.api(http.MethodGet, domainsPath(qa), tok, nil).expect(t, http.StatusOK)
	key := "6d1c6a4e-4c5e-4a1c-9d55-111111111111"
	e.api(http.MethodDelete, domainsPath(qa)+"/"+key, tok, nil).expect(t, http.StatusForbidden)
	e.api(http.MethodPatch, domainsPath(qa)+"/"+key, tok, map[string]any{"redirectOption": "None"}).expect(t, http.StatusForbidden)

	v := startODC(t, testOptions{Fixture: withoutPermission(clientMigration, fixture.PermissionViewConfigurations)})
	vt := v.token(clientMigration)
	v.api(http.MethodGet, domainsPath(v.stage("QA")), vt, nil).expect(t, http.StatusForbidden)
	v.api(http.MethodGet, domainsPath(v.stage("QA"))+"/"+key, vt, nil).expect(t, http.StatusForbidden)
}
