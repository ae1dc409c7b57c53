package sandbox

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultFixture(t *testing.T) {
	f := DefaultFixture()
	if f.Name != "Acme Insurance" {
		t.Errorf("name = %q", f.Name)
	}
	lt := f.LifeTime
	if len(lt.Environments) != 3 || len(lt.Applications) != 16 || len(lt.Modules) != 34 {
		t.Errorf("%d environments, %d applications, %d modules; want 3, 16, 34",
			len(lt.Environments), len(lt.Applications), len(lt.Modules))
	}
	intranet := fixtureApp(t, f, "Legacy Intranet")
	if len(intranet.Modules) != 11 {
		t.Errorf("Legacy Intranet has %d modules, want 11", len(intranet.Modules))
	}
	for _, a := range lt.Applications {
		if _, ok := a.Environments["Development"]; !ok {
			t.Errorf("%s does not run in Development", a.Name)
		}
	}
	// Each call returns a copy callers may change.
	DefaultFixture().LifeTime.Applications[0].Name = "changed"
	if DefaultFixture().LifeTime.Applications[0].Name == "changed" {
		t.Error("DefaultFixture returns shared state")
	}
}

// fixtureJSON returns the default fixture as a generic document to break.
func fixtureJSON(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(defaultFixtureJSON, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func writeFixture(t *testing.T, doc any) string {
	t.Helper()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fixture.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func section(doc map[string]any, name string) []any {
	return doc["lifetime"].(map[string]any)[name].([]any)
}

func item(doc map[string]any, name string, i int) map[string]any {
	return section(doc, name)[i].(map[string]any)
}

func TestLoadFixture(t *testing.T) {
	doc := fixtureJSON(t)
	doc["odc"] = map[string]any{"organization": "later rounds"} // unknown sections are ignored
	f, err := LoadFixture(writeFixture(t, doc))
	if err != nil {
		t.Fatalf("LoadFixture: %v", err)
	}
	if len(f.LifeTime.Applications) != 16 {
		t.Errorf("%d applications, want 16", len(f.LifeTime.Applications))
	}
	if _, err := LoadFixture(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("LoadFixture of a missing file succeeded")
	}
}

func TestFixtureValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(doc map[string]any)
		want   string
	}{
		{"not JSON", nil, "invalid JSON"},
		{"no lifetime section", func(doc map[string]any) { delete(doc, "lifetime") }, `missing "lifetime" section`},
		{"unknown field", func(doc map[string]any) { item(doc, "environments", 0)["hostAddress"] = "x" }, `unknown field "hostAddress"`},
		{"duplicate application name", func(doc map[string]any) {
			item(doc, "applications", 1)["name"] = item(doc, "applications", 0)["name"]
		}, `name "Acme Theme" is used more than once`},
		{"duplicate key", func(doc map[string]any) {
			item(doc, "applications", 1)["key"] = item(doc, "environments", 0)["key"]
		}, "is already used by lifetime.environments[0]"},
		{"bad GUID", func(doc map[string]any) { item(doc, "modules", 0)["key"] = "theme" }, `key "theme" is not a GUID`},
		{"unknown reference", func(doc map[string]any) {
			item(doc, "modules", 1)["references"] = []any{"NoSuchModule"}
		}, `reference "NoSuchModule" is not a module`},
		{"module in two applications", func(doc map[string]any) {
			app := item(doc, "applications", 1)
			app["modules"] = append(app["modules"].([]any), "AcmeTheme")
		}, `module "AcmeTheme" already belongs to application "Acme Theme"`},
		{"module in no application", func(doc map[string]any) {
			app := item(doc, "applications", 0)
			app["modules"] = []any{"AcmeTheme"}
		}, `module "AcmePatterns" does not belong to any application`},
		{"unknown module in application", func(doc map[string]any) {
			app := item(doc, "applications", 0)
			app["modules"] = append(app["modules"].([]any), "Ghost")
		}, `module "Ghost" is not a module`},
		{"running version missing", func(doc map[string]any) {
			item(doc, "applications", 0)["environments"].(map[string]any)["Test"] = map[string]any{"version": "7.0.0"}
		}, `runs version "7.0.0" in "Test", which is not one of its versions`},
		{"unknown environment", func(doc map[string]any) {
			item(doc, "applications", 0)["environments"].(map[string]any)["Staging"] = map[string]any{"version": "1.0.0"}
		}, `environment "Staging" is not an environment`},
		{"invalid version", func(doc map[string]any) {
			item(doc, "applications", 0)["versions"].([]any)[0].(map[string]any)["version"] = "1.0-beta"
		}, `version "1.0-beta" is not valid`},
		{"bad role", func(doc map[string]any) { item(doc, "serviceAccounts", 1)["role"] = "Viewer" }, `role "Viewer" must be one of`},
		{"no administrator", func(doc map[string]any) { item(doc, "serviceAccounts", 0)["role"] = "ReadOnly" }, "at least one service account"},
		{"extension kind mismatch", func(doc map[string]any) { item(doc, "modules", 0)["type"] = "Extension" }, "does not match type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var path string
			if tt.mutate == nil {
				path = filepath.Join(t.TempDir(), "fixture.json")
				if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				doc := fixtureJSON(t)
				tt.mutate(doc)
				path = writeFixture(t, doc)
			}
			_, err := LoadFixture(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadFixture = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestNewRejectsInvalidFixture(t *testing.T) {
	f := DefaultFixture()
	f.LifeTime.Applications[0].Modules = append(f.LifeTime.Applications[0].Modules, "Ghost")
	if _, err := New(Options{DBPath: filepath.Join(t.TempDir(), "sb.db"), Fixture: f}); err == nil ||
		!strings.Contains(err.Error(), "Ghost") {
		t.Fatalf("New = %v, want an invalid fixture error", err)
	}
}
