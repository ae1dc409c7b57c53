package sandbox

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
)

// previewBody is a POST /migration-previews body of definitions
// {name, assetType, app names...} from an environment.
func (e *migrationEnv) previewBody(env string, defs ...[]string) map[string]any {
	e.t.Helper()
	assets := make([]map[string]any, len(defs))
	for i, d := range defs {
		assets[i] = map[string]any{"name": d[0], "assetType": d[1], "applicationKeys": e.appKeys(d[2:]...)}
	}
	return map[string]any{"sourceEnvironmentKey": envKey(e.t, e.sb.Fixture(), env), "assets": assets}
}

func (e *migrationEnv) preview(env string, defs ...[]string) codemigration.Preview {
	e.t.Helper()
	return decode[codemigration.Preview](e.t, e.cm(http.MethodPost, "/migration-previews", clientMigration, e.previewBody(env, defs...)).expect(e.t, http.StatusOK))
}

func findingCodes(fs []codemigration.PreviewFinding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

// TestMigrationPreviewMatchesMigration previews a wave on an empty kit,
// creates its mappings, and migrates them: the migration converts exactly
// the versions, modules and order the preview showed.
func TestMigrationPreviewMatchesMigration(t *testing.T) {
	e := newMigrationEnv(t, Options{})
	defs := [][]string{
		{"Customer Portal", AssetTypeWebApp, "Customer Portal"},
		{"Claims Core", AssetTypeLibrary, "Claims Core"},
		{"Policy Core", AssetTypeLibrary, "Policy Core"},
		{"Customer Core", AssetTypeLibrary, "Customer Core"},
		{"Common Utils", AssetTypeLibrary, "Common Utils"},
	}
	before := e.preview("Development", defs...)
	type placed struct {
		name        string
		wave, order int
	}
	want := []placed{{"Common Utils", 1, 1}, {"Customer Core", 2, 2}, {"Policy Core", 2, 3}, {"Claims Core", 3, 4}, {"Customer Portal", 3, 5}}
	var got []placed
	for _, a := range before.Assets {
		got = append(got, placed{a.Name, a.PublishWave, a.PublishOrder})
		if a.MappingKey != nil {
			t.Errorf("%s: mappingKey %s before any mapping exists", a.Name, *a.MappingKey)
		}
	}
	if !slices.Equal(got, want) || before.Blocked {
		t.Fatalf("preview = %+v, want %v, not blocked", got, want)
	}
	portal := before.Assets[4]
	if !slices.Equal(portal.ProducerNames, []string{"Customer Core", "Policy Core"}) ||
		!slices.Equal(findingCodes(portal.Findings), []string{codemigration.CodeUntaggedChanges, codemigration.CodeProducerNotMigrated}) ||
		portal.Findings[0].Blocking || portal.Findings[1].Blocking || !portal.Applications[0].IsModified ||
		!strings.Contains(portal.Findings[0].Message, "latest tag, 1.2.0") || !strings.Contains(portal.Findings[1].Message, "'Acme Theme'") {
		t.Errorf("Customer Portal = %+v", portal)
	}
	if claims := before.Assets[3]; !slices.Equal(claims.ProducerNames, []string{"Policy Core"}) || len(claims.Findings) != 0 {
		t.Errorf("Claims Core = %+v", claims)
	}
	// Modules: the tagged version's module versions, as LifeTime lists them.
	for _, a := range before.Assets {
		for _, app := range a.Applications {
			if app.VersionKey == nil || len(app.Modules) == 0 {
				t.Fatalf("%s / %s = %+v", a.Name, app.Name, app)
			}
			v := decode[lifetime.ApplicationVersion](t, lt(t, e.url, http.MethodGet,
				"/applications/"+app.ApplicationKey+"/versions/"+*app.VersionKey+"?IncludeModules=true", nil).expect(t, http.StatusOK))
			var keys []string
			for _, m := range app.Modules {
				keys = append(keys, m.ModuleVersionKey)
				if m.Name == "" || m.Type == "" {
					t.Errorf("%s: module %+v without name or type", app.Name, m)
				}
			}
			if v.Version != *app.Version || !slices.Equal(sorted(keys), sorted(moduleVersionKeys(v))) {
				t.Errorf("%s: preview version %s modules %v; LifeTime %s %v", app.Name, *app.Version, keys, v.Version, moduleVersionKeys(v))
			}
		}
	}

	// The mappings of the definitions: the preview now names them, and
	// their own applications are not "already mapped".
	mappingKeys := map[string]string{}
	for _, d := range defs {
		mappingKeys[d[0]] = e.create(d[0], d[1], d[2:]...).Key
	}
	e.clock.Advance(DefaultAssessmentDelay)
	after := e.preview("Development", defs...)
	var keys []string
	for i, a := range after.Assets {
		if a.MappingKey == nil || *a.MappingKey != mappingKeys[a.Name] || a.PublishOrder != before.Assets[i].PublishOrder || len(a.Findings) != len(before.Assets[i].Findings) {
			t.Errorf("after mapping: %+v, before %+v", a, before.Assets[i])
		}
		keys = append(keys, mappingKeys[a.Name])
	}

	m := e.start(keys...)
	e.clock.Advance(testMigrationDuration)
	done := e.get(m.Key)
	if len(done.Assets) != len(after.Assets) {
		t.Fatalf("migration = %+v", done)
	}
	for i, a := range done.Assets {
		p := after.Assets[i]
		if a.Name != p.Name || a.PublishWave != p.PublishWave || a.PublishOrder != p.PublishOrder || len(a.SourceApplicationVersions) != len(p.Applications) {
			t.Errorf("migrated %+v, previewed %+v", a, p)
			continue
		}
		for j, v := range a.SourceApplicationVersions {
			pa := p.Applications[j]
			if v.ApplicationKey != pa.ApplicationKey || v.VersionKey != *pa.VersionKey || v.Version != *pa.Version {
				t.Errorf("%s: migrated %+v, previewed %+v", a.Name, v, pa)
			}
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestMigrationPreviewFindings: what the migration (or the mapping rules)
// would refuse shows as blocking findings; malformed previews are refused.
func TestMigrationPreviewFindings(t *testing.T) {
	e := newMigrationEnv(t, Options{})
	e.create("Theme", AssetTypeLibrary, "Acme Theme")
	p := e.preview("Development",
		[]string{"Tools", AssetTypeLibrary, "PDF Toolkit", "Customer Portal"},
		[]string{"Field", AssetTypeWebApp, "Field Inspector"},
		[]string{"Acme Theme", AssetTypeLibrary, "Acme Theme"},
	)
	byName := map[string]codemigration.PreviewAsset{}
	for _, a := range p.Assets {
		byName[a.Name] = a
	}
	blocking := func(fs []codemigration.PreviewFinding) []string {
		var out []string
		for _, f := range fs {
			if f.Blocking {
				out = append(out, f.Code)
			} else if f.Code != codemigration.CodeProducerNotMigrated && f.Code != codemigration.CodeUntaggedChanges {
				t.Errorf("finding %+v should block", f)
			}
		}
		return out
	}
	for name, want := range map[string][]string{
		"Tools":      {"EXTENSION_NOT_MAPPABLE", "LIBRARY_REQUIRES_LIBRARY_ONLY_APPS"},
		"Field":      {"MIXED_APP_KINDS"},
		"Acme Theme": {"APPLICATION_ALREADY_MAPPED"},
	} {
		if got := blocking(byName[name].Findings); !slices.Equal(got, want) {
			t.Errorf("%s findings %v, want %v", name, got, want)
		}
	}
	if !p.Blocked || !strings.Contains(byName["Acme Theme"].Findings[0].Message, "'Theme'") {
		t.Errorf("preview = %+v", p)
	}

	// Broker Portal runs in Development and Test only.
	prod := e.preview("Production", []string{"Broker Portal", AssetTypeWebApp, "Broker Portal"})
	if a := prod.Assets[0]; !prod.Blocked || a.Applications[0].VersionKey != nil || a.Applications[0].Version != nil || len(a.Applications[0].Modules) != 0 ||
		!slices.Equal(findingCodes(a.Findings), []string{codemigration.CodeApplicationNotInEnvironment, codemigration.CodeProducerNotMigrated, codemigration.CodeProducerNotMigrated}) {
		t.Errorf("Broker Portal from Production = %+v", prod)
	}

	dev := envKey(t, e.sb.Fixture(), "Development")
	portal := e.appKey("Customer Portal")
	def := func(name string, keys ...string) map[string]any {
		return map[string]any{"name": name, "assetType": AssetTypeWebApp, "applicationKeys": keys}
	}
	for _, c := range []struct {
		name     string
		body     any
		status   int
		code     string
		contains string
		valid    bool
	}{
		{"no assets", map[string]any{"sourceEnvironmentKey": dev, "assets": []any{}}, 400, "VALIDATION_ERROR", "at least one", false},
		{"names in two cases", map[string]any{"sourceEnvironmentKey": dev, "assets": []any{def("Portal", portal), def("PORTAL", e.appKey("Broker Portal"))}}, 400, "VALIDATION_ERROR", "assets[0] too", true},
		{"an app in two assets", map[string]any{"sourceEnvironmentKey": dev, "assets": []any{def("A", portal), def("B", portal)}}, 400, "VALIDATION_ERROR", "goes to one asset", true},
		{"unknown field", map[string]any{"sourceEnvironmentKey": dev, "assets": []any{map[string]any{"name": "A", "assetType": AssetTypeWebApp, "applicationKeys": []string{portal}, "x": 1}}}, 400, "VALIDATION_ERROR", "unknown field 'x'", false},
		{"bad type", map[string]any{"sourceEnvironmentKey": dev, "assets": []any{map[string]any{"name": "A", "assetType": "App", "applicationKeys": []string{portal}}}}, 400, "VALIDATION_ERROR", "assets[0]: assetType 'App'", false},
		{"unknown environment", map[string]any{"sourceEnvironmentKey": "00000000-0000-0000-0000-000000000001", "assets": []any{def("A", portal)}}, 404, "ENVIRONMENT_NOT_FOUND", "00000000-0000-0000-0000-000000000001", true},
		{"unknown application", map[string]any{"sourceEnvironmentKey": dev, "assets": []any{def("A", "00000000-0000-0000-0000-000000000002")}}, 404, "APPLICATION_NOT_FOUND", "'00000000-0000-0000-0000-000000000002' (of 'A')", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var r response
			if c.valid {
				r = e.cm(http.MethodPost, "/migration-previews", clientMigration, c.body)
			} else {
				r = e.callInvalidMigration(http.MethodPost, "/migration-previews", c.body)
			}
			pd := decode[codemigration.ProblemDetails](t, r.expect(t, c.status))
			if pd.ErrorCode != c.code || !strings.Contains(pd.Detail, c.contains) {
				t.Errorf("%d %s %q, want %s containing %q", r.status, pd.ErrorCode, pd.Detail, c.code, c.contains)
			}
		})
	}
	// Any API client may preview; a request without a token may not.
	e.exchange(http.MethodPost, e.url+codemigration.Base+"/migration-previews", "", e.previewBody("Development", []string{"A", AssetTypeWebApp, "Customer Portal"}), "", false).expect(t, http.StatusUnauthorized)
	e.cm(http.MethodPost, "/migration-previews", clientNoMigrate, e.previewBody("Development", []string{"A", AssetTypeWebApp, "Customer Portal"})).expect(t, http.StatusOK)
}
