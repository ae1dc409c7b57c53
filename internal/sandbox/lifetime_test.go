package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sandboxtest"
)

func TestAuthentication(t *testing.T) {
	_, base := startSandbox(t, Options{})
	url := base + lifetime.Base + "/environments"

	do(t, http.MethodGet, url, "", nil).expectLTError(t, http.StatusUnauthorized, "Bearer")
	do(t, http.MethodGet, url, "not-a-token", nil).expectLTError(t, http.StatusUnauthorized, "Invalid or revoked")

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Basic "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("Basic auth: status = %d, want 401", resp.StatusCode)
	}

	// Unknown routes and wrong methods are behind authentication too.
	do(t, http.MethodGet, base+lifetime.Base+"/nope", "", nil).expectLTError(t, http.StatusUnauthorized)

	do(t, http.MethodGet, url, testAdminToken, nil).expect(t, http.StatusOK)
	do(t, http.MethodGet, url, testReadOnlyToken, nil).expect(t, http.StatusOK)
}

func TestReadOnlyServiceAccountCannotChangeAnything(t *testing.T) {
	s, base := startSandbox(t, Options{})
	f := s.Fixture()
	dev := envKey(t, f, "Development")
	portal := fixtureApp(t, f, "Customer Portal")

	tag := do(t, http.MethodPost, base+lifetime.Base+"/environments/"+dev+"/applications/"+portal.Key+"/versions",
		testReadOnlyToken, lifetime.TagRequest{Version: "9.0.0"})
	tag.expectLTError(t, http.StatusForbidden,
		"Service account 'auditor' does not have permission to create application versions in environment 'Development'",
		"'Change & Deploy Applications' permission level")

	del := do(t, http.MethodDelete, base+lifetime.Base+"/applications/"+portal.Key+"/versions/"+versionKey(t, portal, "1.0.0"),
		testReadOnlyToken, nil)
	del.expectLTError(t, http.StatusForbidden, "'auditor'", "Customer Portal")

	versions := decode[[]lifetime.ApplicationVersion](t, lt(t, base, http.MethodGet,
		"/applications/"+portal.Key+"/versions?MaximumVersionsToReturn=100", nil).expect(t, http.StatusOK))
	if len(versions) != len(portal.Versions) {
		t.Errorf("read-only calls changed the versions: got %d, want %d", len(versions), len(portal.Versions))
	}
	do(t, http.MethodGet, base+lifetime.Base+"/applications/"+portal.Key+"/versions", testReadOnlyToken, nil).expect(t, http.StatusOK)
}

func TestEnvironments(t *testing.T) {
	s, base := startSandbox(t, Options{})
	envs := decode[[]lifetime.Environment](t, lt(t, base, http.MethodGet, "/environments", nil).expect(t, http.StatusOK))
	var names []string
	for _, e := range envs {
		names = append(names, e.Name)
	}
	if want := []string{"Development", "Test", "Production"}; !slices.Equal(names, want) {
		t.Fatalf("environments = %v, want %v in order", names, want)
	}
	dev := envKey(t, s.Fixture(), "Development")
	env := decode[lifetime.Environment](t, lt(t, base, http.MethodGet, "/environments/"+dev, nil).expect(t, http.StatusOK))
	if env.HostName != "dev.acme-insurance.example" || env.Order != 1 || env.EnvironmentType != "Development" {
		t.Errorf("Development = %+v", env)
	}
	// Keys are matched case-insensitively, as GUIDs.
	lt(t, base, http.MethodGet, "/environments/"+strings.ToUpper(dev), nil).expect(t, http.StatusOK)
	lt(t, base, http.MethodGet, "/environments/"+uuid.NewString(), nil).expectLTError(t, http.StatusNotFound, "was not found")
	lt(t, base, http.MethodGet, "/environments/dev", nil).expectLTError(t, http.StatusBadRequest, "EnvironmentKey")
}

func TestWireFieldNames(t *testing.T) {
	s, base := startSandbox(t, Options{})
	portal := fixtureApp(t, s.Fixture(), "Customer Portal")
	raw := lt(t, base, http.MethodGet, "/applications/"+portal.Key+"?IncludeEnvStatus=true&IncludeModules=true", nil).expect(t, http.StatusOK)
	var app map[string]any
	if err := json.Unmarshal(raw.body, &app); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Key", "Name", "Kind", "Team", "Description", "URLPath", "IconHash", "IconURL", "IsSystem", "AppStatusInEnvs"} {
		if _, ok := app[k]; !ok {
			t.Errorf("application has no %s field: %s", k, raw.body)
		}
	}
	status := sandboxtest.Object(sandboxtest.Array(app["AppStatusInEnvs"])[0])
	for _, k := range []string{"EnvironmentKey", "BaseApplicationVersionKey", "IsModified", "IsModifiedReason", "IsModifiedMessage",
		"ConsistencyStatus", "ConsistencyStatusMessages", "MobileAppsStatus", "ModuleStatusInEnvs", "DeploymentZoneKey"} {
		if _, ok := status[k]; !ok {
			t.Errorf("AppStatusInEnv has no %s field", k)
		}
	}
	module := sandboxtest.Object(sandboxtest.Array(status["ModuleStatusInEnvs"])[0])
	for _, k := range []string{"ApplicationKey", "EnvironmentKey", "ModuleVersionKey", "ConsistencyStatus", "ConsistencyStatusMessages"} {
		if _, ok := module[k]; !ok {
			t.Errorf("ModuleStatusInEnv has no %s field", k)
		}
	}
	// LifeTime's ModuleStatusInEnv has no ModuleKey (official Swagger).
	if _, ok := module["ModuleKey"]; ok {
		t.Error("ModuleStatusInEnv has a ModuleKey field, which LifeTime's type lacks")
	}

	raw = lt(t, base, http.MethodGet, "/applications/"+portal.Key+"/versions/"+versionKey(t, portal, "1.2.0")+"?IncludeModules=true", nil).expect(t, http.StatusOK)
	var version map[string]any
	if err := json.Unmarshal(raw.body, &version); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Key", "ApplicationKey", "Version", "MobileVersions", "PrimaryColor", "NativeHash", "ModuleVersions", "CreatedOn", "ChangeLog"} {
		if _, ok := version[k]; !ok {
			t.Errorf("ApplicationVersion has no %s field", k)
		}
	}
	mv := sandboxtest.Object(sandboxtest.Array(version["ModuleVersions"])[0])
	for _, k := range []string{"Key", "ModuleKey", "CreatedOn", "CreatedBy", "CreatedByUsername", "GeneralHash", "DirectUpgradeFromHash"} {
		if _, ok := mv[k]; !ok {
			t.Errorf("ModuleVersion has no %s field", k)
		}
	}
}

func TestApplicationStatusFlags(t *testing.T) {
	s, base := startSandbox(t, Options{})
	portal := fixtureApp(t, s.Fixture(), "Customer Portal")
	dev := envKey(t, s.Fixture(), "Development")

	for _, path := range []string{
		"/applications?IncludeModules=true",
		"/applications?IncludeModules=true&IncludeEnvStatus=false",
		"/applications/" + portal.Key + "?IncludeModules=true",
		"/environments/" + dev + "/applications/" + portal.Key + "?IncludeModules=true",
	} {
		lt(t, base, http.MethodGet, path, nil).expectLTError(t, http.StatusBadRequest, "IncludeModules=true requires IncludeEnvStatus=true")
	}
	lt(t, base, http.MethodGet, "/applications?IncludeEnvStatus=maybe", nil).expectLTError(t, http.StatusBadRequest, "IncludeEnvStatus")

	plain := lt(t, base, http.MethodGet, "/applications", nil).expect(t, http.StatusOK)
	if strings.Contains(string(plain.body), "AppStatusInEnvs") {
		t.Error("AppStatusInEnvs listed without IncludeEnvStatus")
	}
	apps := decode[[]lifetime.Application](t, plain)
	if len(apps) != len(s.Fixture().LifeTime.Applications) {
		t.Errorf("%d applications, want %d", len(apps), len(s.Fixture().LifeTime.Applications))
	}

	withStatus := lt(t, base, http.MethodGet, "/applications?IncludeEnvStatus=true", nil).expect(t, http.StatusOK)
	if strings.Contains(string(withStatus.body), "ModuleStatusInEnvs") {
		t.Error("ModuleStatusInEnvs listed without IncludeModules")
	}
	app := decode[lifetime.Application](t, lt(t, base, http.MethodGet, "/applications/"+portal.Key+"?includeenvstatus=TRUE&IncludeModules=1", nil).expect(t, http.StatusOK))
	if got := len(app.AppStatusInEnvs); got != 3 {
		t.Fatalf("Customer Portal runs in %d environments, want 3", got)
	}
	for _, st := range app.AppStatusInEnvs {
		if len(st.ModuleStatusInEnvs) != len(portal.Modules) {
			t.Errorf("status in %s has %d modules, want %d", st.EnvironmentKey, len(st.ModuleStatusInEnvs), len(portal.Modules))
		}
	}
	lt(t, base, http.MethodGet, "/applications/"+uuid.NewString(), nil).expectLTError(t, http.StatusNotFound, "was not found")
}

func TestDefaultPortfolio(t *testing.T) {
	s, base := startSandbox(t, Options{})
	f := s.Fixture()
	dev := envKey(t, f, "Development")
	prod := envKey(t, f, "Production")

	apps := decode[[]lifetime.Application](t, lt(t, base, http.MethodGet, "/environments/"+dev+"/applications", nil).expect(t, http.StatusOK))
	if len(apps) != len(f.LifeTime.Applications) {
		t.Errorf("%d applications run in Development, want all %d", len(apps), len(f.LifeTime.Applications))
	}
	var modified []string
	for _, a := range apps {
		if len(a.AppStatusInEnvs) != 1 || a.AppStatusInEnvs[0].EnvironmentKey != dev {
			t.Fatalf("%s: statuses %+v, want only Development", a.Name, a.AppStatusInEnvs)
		}
		st := a.AppStatusInEnvs[0]
		if st.IsModified {
			modified = append(modified, a.Name)
			if st.IsModifiedMessage == "" {
				t.Errorf("%s: IsModified without a message", a.Name)
			}
		}
		if a.Kind == "Mobile" && len(st.MobileAppsStatus) != 2 {
			t.Errorf("%s: MobileAppsStatus = %+v, want Android and iOS", a.Name, st.MobileAppsStatus)
		}
	}
	if want := []string{"Agent Mobile", "Customer Portal", "Policy Admin"}; !slices.Equal(modified, want) {
		t.Errorf("modified in Development: %v, want %v", modified, want)
	}

	prodApps := decode[[]lifetime.Application](t, lt(t, base, http.MethodGet, "/environments/"+prod+"/applications", nil).expect(t, http.StatusOK))
	if len(prodApps) == 0 || len(prodApps) >= len(apps) {
		t.Errorf("%d applications in Production, want a strict subset of %d", len(prodApps), len(apps))
	}
	broker := fixtureApp(t, f, "Broker Portal")
	lt(t, base, http.MethodGet, "/environments/"+prod+"/applications/"+broker.Key, nil).expectLTError(t, http.StatusNotFound)

	modules := decode[[]lifetime.Module](t, lt(t, base, http.MethodGet, "/modules", nil).expect(t, http.StatusOK))
	if len(modules) != len(f.LifeTime.Modules) {
		t.Errorf("%d modules, want %d", len(modules), len(f.LifeTime.Modules))
	}
	for _, m := range modules {
		if m.Name == "PdfGenerator" && m.Kind != "Extension" {
			t.Errorf("PdfGenerator kind = %q, want Extension", m.Kind)
		}
	}
}

func TestModules(t *testing.T) {
	s, base := startSandbox(t, Options{})
	f := s.Fixture()
	var theme fixture.Module
	for _, m := range f.LifeTime.Modules {
		if m.Name == "AcmeTheme" {
			theme = m
		}
	}
	m := decode[lifetime.Module](t, lt(t, base, http.MethodGet, "/modules/"+theme.Key+"?IncludeEnvStatus=true", nil).expect(t, http.StatusOK))
	if m.Name != "AcmeTheme" || m.Kind != "eSpace" || len(m.ModuleStatusInEnv) != 3 {
		t.Errorf("AcmeTheme = %+v, want an eSpace running in 3 environments", m)
	}
	versions := decode[[]lifetime.ModuleVersion](t, lt(t, base, http.MethodGet, "/modules/"+theme.Key+"/versions", nil).expect(t, http.StatusOK))
	if len(versions) != 3 {
		t.Fatalf("AcmeTheme has %d versions, want 3 (one per application version)", len(versions))
	}
	// Newest first, each upgrading from the one before.
	for i := 0; i+1 < len(versions); i++ {
		if versions[i].DirectUpgradeFromHash != versions[i+1].GeneralHash {
			t.Errorf("version %d upgrades from %q, want %q", i, versions[i].DirectUpgradeFromHash, versions[i+1].GeneralHash)
		}
	}
	if last := versions[len(versions)-1]; last.DirectUpgradeFromHash != "" {
		t.Errorf("first version upgrades from %q, want nothing", last.DirectUpgradeFromHash)
	}
	lt(t, base, http.MethodGet, "/modules/"+uuid.NewString(), nil).expectLTError(t, http.StatusNotFound)
	lt(t, base, http.MethodGet, "/modules/"+uuid.NewString()+"/versions", nil).expectLTError(t, http.StatusNotFound)
}

func TestEmptyListsAnswer204(t *testing.T) {
	empty := &fixture.Fixture{Name: "empty", LifeTime: fixture.LifeTime{
		ServiceAccounts: []fixture.ServiceAccount{{Name: "ci", Token: "tok", Role: fixture.RoleAdministrator}},
	}}
	_, base := startSandbox(t, Options{Fixture: empty})
	for _, path := range []string{"/environments", "/applications", "/applications?IncludeEnvStatus=true", "/modules"} {
		r := do(t, http.MethodGet, base+lifetime.Base+path, "tok", nil).expect(t, http.StatusNoContent)
		if len(r.body) != 0 {
			t.Errorf("%s: 204 with a body: %q", path, r.body)
		}
	}

	envKey, appKey := uuid.NewString(), uuid.NewString()
	idle := &fixture.Fixture{Name: "idle", LifeTime: fixture.LifeTime{
		ServiceAccounts: []fixture.ServiceAccount{{Name: "ci", Token: "tok", Role: fixture.RoleAdministrator}},
		Environments:    []fixture.Environment{{Key: envKey, Name: "Development", Order: 1, HostName: "dev.example", EnvironmentType: "Development"}},
		Modules:         []fixture.Module{{Key: uuid.NewString(), Name: "Draft", Kind: "eSpace", Type: "Reactive"}},
		Applications:    []fixture.Application{{Key: appKey, Name: "Draft", Kind: "WebResponsive", Modules: []string{"Draft"}}},
	}}
	_, base = startSandbox(t, Options{Fixture: idle})
	do(t, http.MethodGet, base+lifetime.Base+"/environments/"+envKey+"/applications", "tok", nil).expect(t, http.StatusNoContent)
	do(t, http.MethodGet, base+lifetime.Base+"/applications/"+appKey+"/versions", "tok", nil).expect(t, http.StatusNoContent)
}

func TestMaximumVersionsToReturn(t *testing.T) {
	s, base := startSandbox(t, Options{})
	dev := envKey(t, s.Fixture(), "Development")
	portal := fixtureApp(t, s.Fixture(), "Customer Portal")
	for i := range 4 {
		lt(t, base, http.MethodPost, "/environments/"+dev+"/applications/"+portal.Key+"/versions",
			lifetime.TagRequest{Version: fmt.Sprintf("2.0.%d", i)}).expect(t, http.StatusCreated)
	}
	path := "/applications/" + portal.Key + "/versions"
	versions := decode[[]lifetime.ApplicationVersion](t, lt(t, base, http.MethodGet, path, nil).expect(t, http.StatusOK))
	if len(versions) != 5 {
		t.Fatalf("default returned %d versions, want 5", len(versions))
	}
	if versions[0].Version != "2.0.3" || versions[4].Version != "1.2.0" {
		t.Errorf("versions = %s .. %s, want newest first (2.0.3 .. 1.2.0)", versions[0].Version, versions[4].Version)
	}
	all := decode[[]lifetime.ApplicationVersion](t, lt(t, base, http.MethodGet, path+"?MaximumVersionsToReturn=50", nil).expect(t, http.StatusOK))
	if len(all) != 7 {
		t.Errorf("MaximumVersionsToReturn=50 returned %d versions, want 7", len(all))
	}
	one := decode[[]lifetime.ApplicationVersion](t, lt(t, base, http.MethodGet, path+"?MaximumVersionsToReturn=1", nil).expect(t, http.StatusOK))
	if len(one) != 1 || one[0].Version != "2.0.3" {
		t.Errorf("MaximumVersionsToReturn=1 returned %+v", one)
	}
	lt(t, base, http.MethodGet, path+"?MaximumVersionsToReturn=0", nil).expect(t, http.StatusNoContent)
	lt(t, base, http.MethodGet, path+"?MaximumVersionsToReturn=-1", nil).expectLTError(t, http.StatusBadRequest, "negative")
	lt(t, base, http.MethodGet, path+"?MaximumVersionsToReturn=lots", nil).expectLTError(t, http.StatusBadRequest, "MaximumVersionsToReturn")
}

func TestTagApplication(t *testing.T) {
	s, base := startSandbox(t, Options{})
	f := s.Fixture()
	dev, test := envKey(t, f, "Development"), envKey(t, f, "Test")
	portal := fixtureApp(t, f, "Customer Portal")

	before := envStatus(t, base, dev, portal.Key)
	if !before.IsModified {
		t.Fatal("Customer Portal should start modified in Development")
	}
	running := runningModuleVersions(before)
	testBefore := envStatus(t, base, test, portal.Key)

	r := lt(t, base, http.MethodPost, "/environments/"+dev+"/applications/"+portal.Key+"/versions",
		lifetime.TagRequest{ChangeLog: "Ready for ODC", Version: "1.3.0", MobileVersions: nil, ModuleVersionKeys: running}).expect(t, http.StatusCreated)
	key := decode[lifetime.TagResponse](t, r).ApplicationVersionKey
	if _, err := uuid.Parse(key); err != nil {
		t.Fatalf("ApplicationVersionKey %q is not a GUID", key)
	}

	after := envStatus(t, base, dev, portal.Key)
	if after.BaseApplicationVersionKey != key || after.IsModified || after.IsModifiedMessage != "" {
		t.Errorf("status after tag = %+v, want base %s and not modified", after, key)
	}
	if !slices.Equal(runningModuleVersions(after), running) {
		t.Error("tagging changed the running module versions")
	}
	if got := envStatus(t, base, test, portal.Key); got.BaseApplicationVersionKey != testBefore.BaseApplicationVersionKey {
		t.Error("tagging in Development changed Test")
	}

	versions := decode[[]lifetime.ApplicationVersion](t, lt(t, base, http.MethodGet, "/applications/"+portal.Key+"/versions", nil).expect(t, http.StatusOK))
	if versions[0].Key != key || versions[0].Version != "1.3.0" || versions[0].ChangeLog != "Ready for ODC" {
		t.Fatalf("newest version = %+v, want the tag", versions[0])
	}
	if !slices.Equal(moduleVersionKeys(versions[0]), running) {
		t.Errorf("tagged module versions = %v, want the running ones %v", moduleVersionKeys(versions[0]), running)
	}
	if versions[0].MobileVersions == nil || len(versions[0].MobileVersions) != 0 {
		t.Errorf("MobileVersions = %#v, want []", versions[0].MobileVersions)
	}
	got := decode[lifetime.ApplicationVersion](t, lt(t, base, http.MethodGet, "/applications/"+portal.Key+"/versions/"+key+"?IncludeModules=true", nil).expect(t, http.StatusOK))
	if got.Version != "1.3.0" || got.CreatedOn.IsZero() {
		t.Errorf("GET version = %+v", got)
	}

	// A mobile application keeps its native builds.
	agent := fixtureApp(t, f, "Agent Mobile")
	r = lt(t, base, http.MethodPost, "/environments/"+dev+"/applications/"+agent.Key+"/versions", lifetime.TagRequest{
		Version:        "1.3",
		MobileVersions: []lifetime.MobileVersion{{NativePlatform: "Android", VersionNumber: "1.3.0"}, {NativePlatform: "iOS", VersionNumber: "1.3.0"}},
	}).expect(t, http.StatusCreated)
	mobileKey := decode[lifetime.TagResponse](t, r).ApplicationVersionKey
	mobile := decode[lifetime.ApplicationVersion](t, lt(t, base, http.MethodGet, "/applications/"+agent.Key+"/versions/"+mobileKey+"?IncludeModules=true", nil).expect(t, http.StatusOK))
	if len(mobile.MobileVersions) != 2 || mobile.NativeHash == "" {
		t.Errorf("mobile version = %+v, want 2 native builds and a native hash", mobile)
	}
}

func TestTagApplicationErrors(t *testing.T) {
	s, base := startSandbox(t, Options{})
	f := s.Fixture()
	dev, prod := envKey(t, f, "Development"), envKey(t, f, "Production")
	portal := fixtureApp(t, f, "Customer Portal")
	agent := fixtureApp(t, f, "Agent Mobile")
	broker := fixtureApp(t, f, "Broker Portal")
	tagPath := func(env, app string) string { return "/environments/" + env + "/applications/" + app + "/versions" }
	portalPath := tagPath(dev, portal.Key)

	tests := []struct {
		name     string
		path     string
		body     any
		status   int
		contains []string
	}{
		{"duplicate version", portalPath, lifetime.TagRequest{Version: "1.0.0"}, http.StatusBadRequest,
			[]string{"Version '1.0.0' already exists for application 'Customer Portal'. Choose a version that was not used before."}},
		{"no version", portalPath, lifetime.TagRequest{ChangeLog: "x"}, http.StatusBadRequest, []string{"Version is required"}},
		{"letters", portalPath, lifetime.TagRequest{Version: "v1.0"}, http.StatusBadRequest, []string{"Version 'v1.0' is not valid"}},
		{"five parts", portalPath, lifetime.TagRequest{Version: "1.2.3.4.5"}, http.StatusBadRequest, []string{"is not valid"}},
		{"trailing dot", portalPath, lifetime.TagRequest{Version: "1.2."}, http.StatusBadRequest, []string{"is not valid"}},
		{"invalid JSON", portalPath, `{"Version": "1.4.0"`, http.StatusBadRequest, []string{"not valid JSON"}},
		{"wrong type", portalPath, `{"Version": 1}`, http.StatusBadRequest, []string{"not valid JSON"}},
		{"empty body", portalPath, "", http.StatusBadRequest, []string{"empty"}},
		{"bad platform", tagPath(dev, agent.Key),
			lifetime.TagRequest{Version: "1.4.0", MobileVersions: []lifetime.MobileVersion{{NativePlatform: "Windows", VersionNumber: "1"}}},
			http.StatusBadRequest, []string{"NativePlatform 'Windows'"}},
		{"mobile versions on a web app", portalPath,
			lifetime.TagRequest{Version: "1.4.0", MobileVersions: []lifetime.MobileVersion{{NativePlatform: "Android", VersionNumber: "1"}}},
			http.StatusBadRequest, []string{"not a mobile application"}},
		{"malformed module version key", portalPath, lifetime.TagRequest{Version: "1.4.0", ModuleVersionKeys: []string{"abc"}},
			http.StatusBadRequest, []string{"'abc'"}},
		{"application changed", portalPath, lifetime.TagRequest{Version: "1.4.0", ModuleVersionKeys: []string{uuid.NewString()}},
			http.StatusBadRequest, []string{"changed"}},
		{"malformed environment key", tagPath("Development", portal.Key), lifetime.TagRequest{Version: "1.4.0"},
			http.StatusBadRequest, []string{"EnvironmentKey 'Development'"}},
		{"malformed application key", tagPath(dev, "portal"), lifetime.TagRequest{Version: "1.4.0"},
			http.StatusBadRequest, []string{"ApplicationKey 'portal'"}},
		{"unknown environment", tagPath(uuid.NewString(), portal.Key), lifetime.TagRequest{Version: "1.4.0"},
			http.StatusNotFound, []string{"Environment"}},
		{"unknown application", tagPath(dev, uuid.NewString()), lifetime.TagRequest{Version: "1.4.0"},
			http.StatusNotFound, []string{"Application"}},
		{"not deployed there", tagPath(prod, broker.Key), lifetime.TagRequest{Version: "9.0.0"},
			http.StatusNotFound, []string{"'Broker Portal' is not deployed in environment 'Production'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lt(t, base, http.MethodPost, tt.path, tt.body).expectLTError(t, tt.status, tt.contains...)
		})
	}

	// None of the failed calls created a version or changed the status.
	versions := decode[[]lifetime.ApplicationVersion](t, lt(t, base, http.MethodGet, "/applications/"+portal.Key+"/versions?MaximumVersionsToReturn=20", nil).expect(t, http.StatusOK))
	if len(versions) != len(portal.Versions) {
		t.Errorf("%d versions after failed tags, want %d", len(versions), len(portal.Versions))
	}
	if !envStatus(t, base, dev, portal.Key).IsModified {
		t.Error("a failed tag cleared IsModified")
	}
}

func TestDeleteApplicationVersion(t *testing.T) {
	s, base := startSandbox(t, Options{})
	portal := fixtureApp(t, s.Fixture(), "Customer Portal")
	path := func(version string) string {
		return "/applications/" + portal.Key + "/versions/" + versionKey(t, portal, version)
	}

	// LifeTime refuses to delete a running version with a 500 (official Swagger).
	lt(t, base, http.MethodDelete, path("1.1.0"), nil).expectLTError(t, http.StatusInternalServerError,
		"Version '1.1.0' of application 'Customer Portal' cannot be deleted", "'Production'")
	lt(t, base, http.MethodDelete, path("1.2.0"), nil).expectLTError(t, http.StatusInternalServerError, "'Development', 'Test'")
	lt(t, base, http.MethodGet, path("1.2.0")+"?IncludeModules=true", nil).expect(t, http.StatusOK)

	lt(t, base, http.MethodDelete, path("1.0.0"), nil).expect(t, http.StatusNoContent)
	lt(t, base, http.MethodGet, path("1.0.0")+"?IncludeModules=true", nil).expectLTError(t, http.StatusNotFound)
	lt(t, base, http.MethodDelete, path("1.0.0"), nil).expectLTError(t, http.StatusNotFound)
	versions := decode[[]lifetime.ApplicationVersion](t, lt(t, base, http.MethodGet, "/applications/"+portal.Key+"/versions", nil).expect(t, http.StatusOK))
	if len(versions) != 2 {
		t.Errorf("%d versions left, want 2", len(versions))
	}

	// A version of another application is not found under this one.
	other := fixtureApp(t, s.Fixture(), "Policy Admin")
	lt(t, base, http.MethodDelete, "/applications/"+portal.Key+"/versions/"+versionKey(t, other, "1.0.0"), nil).
		expectLTError(t, http.StatusNotFound)
	lt(t, base, http.MethodDelete, "/applications/"+portal.Key+"/versions/1.0.0", nil).expectLTError(t, http.StatusBadRequest, "VersionKey")
}

func TestTrailingSlashes(t *testing.T) {
	s, base := startSandbox(t, Options{})
	dev := envKey(t, s.Fixture(), "Development")
	portal := fixtureApp(t, s.Fixture(), "Customer Portal")
	lt(t, base, http.MethodGet, "/environments/", nil).expect(t, http.StatusOK)
	lt(t, base, http.MethodGet, "/environments/"+dev+"/", nil).expect(t, http.StatusOK)
	lt(t, base, http.MethodGet, "/applications/"+portal.Key+"/?IncludeEnvStatus=true", nil).expect(t, http.StatusOK)
	lt(t, base, http.MethodPost, "/environments/"+dev+"/applications/"+portal.Key+"/versions/", lifetime.TagRequest{Version: "1.3.0"}).
		expect(t, http.StatusCreated)
	do(t, http.MethodGet, base+"/_sandbox/health/", "", nil).expect(t, http.StatusOK)
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	_, base := startSandbox(t, Options{})
	lt(t, base, http.MethodGet, "/deployments", nil).expectLTError(t, http.StatusNotFound, "/lifetimeapi/rest/v2/deployments")
	lt(t, base, http.MethodGet, "/environments/a/b/c/d/e", nil).expectLTError(t, http.StatusNotFound)
	r := lt(t, base, http.MethodPut, "/environments", nil)
	r.expectLTError(t, http.StatusMethodNotAllowed, "PUT")
	if allow := r.header.Get("Allow"); allow != "GET" {
		t.Errorf("Allow = %q, want GET", allow)
	}
	r = lt(t, base, http.MethodPost, "/applications/"+uuid.NewString()+"/versions/"+uuid.NewString(), nil)
	r.expectLTError(t, http.StatusMethodNotAllowed)
	if allow := r.header.Get("Allow"); allow != "DELETE, GET" {
		t.Errorf("Allow = %q, want DELETE, GET", allow)
	}
}

func TestConcurrentRequests(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		s, base := startSandbox(t, Options{})
		concurrentTags(t, s, base)
	})
	t.Run("memory", func(t *testing.T) {
		s, err := New(Options{LifeTimeTagDelay: time.Nanosecond}) // a tag is processed by the next request
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		base, err := s.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		concurrentTags(t, s, base)
	})
}

// concurrentTags tags every application in Development several times while
// others read, and checks every call succeeded.
func concurrentTags(t *testing.T, s *Sandbox, base string) {
	dev := envKey(t, s.Fixture(), "Development")
	var wg sync.WaitGroup
	errs := make(chan string, 1000)
	check := func(what string, want int, method, url string, body any) {
		r, err := send(method, url, testAdminToken, body)
		switch {
		case err != nil:
			errs <- fmt.Sprintf("%s: %v", what, err)
		case r.status != want:
			errs <- fmt.Sprintf("%s: %d %s", what, r.status, r.body)
		}
	}
	for _, app := range s.Fixture().LifeTime.Applications {
		wg.Go(func() {
			for i := range 3 {
				check("tag "+app.Name, http.StatusCreated, http.MethodPost,
					base+lifetime.Base+"/environments/"+dev+"/applications/"+app.Key+"/versions", lifetime.TagRequest{Version: fmt.Sprintf("10.0.%d", i)})
			}
		})
		wg.Go(func() {
			check("list", http.StatusOK, http.MethodGet, base+lifetime.Base+"/applications?IncludeEnvStatus=true&IncludeModules=true", nil)
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	apps := decode[[]lifetime.Application](t, lt(t, base, http.MethodGet, "/environments/"+dev+"/applications", nil).expect(t, http.StatusOK))
	for _, a := range apps {
		v := decode[lifetime.ApplicationVersion](t, lt(t, base, http.MethodGet,
			"/applications/"+a.Key+"/versions/"+a.AppStatusInEnvs[0].BaseApplicationVersionKey+"?IncludeModules=true", nil).expect(t, http.StatusOK))
		if v.Version != "10.0.2" {
			t.Errorf("%s runs %s in Development, want the last tag 10.0.2", a.Name, v.Version)
		}
	}
}
