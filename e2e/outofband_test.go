package e2e

import (
	"context"
	"net/http"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// What people do outside Terraform between two commands of a scenario, and
// what LifeTime and the assessment tool hold, read the way the provider
// reads them.

// ltEnv is the key of the LifeTime environment of that name in the fixture.
func (w *world) ltEnv(name string) string {
	w.t.Helper()
	for _, e := range w.sb.Fixture().LifeTime.Environments {
		if e.Name == name {
			return e.Key
		}
	}
	w.t.Fatalf("no LifeTime environment %q in the fixture", name)
	return ""
}

// ltApp is the key of the O11 application of that name in the fixture.
func (w *world) ltApp(name string) string {
	w.t.Helper()
	for _, a := range w.sb.Fixture().LifeTime.Applications {
		if a.Name == name {
			return a.Key
		}
	}
	w.t.Fatalf("no O11 application %q in the fixture", name)
	return ""
}

// modify acts out a developer publishing the O11 app in Development after
// its last tag (LifeTime then says IsModified), through the admin API.
func (w *world) modify(app string) {
	w.t.Helper()
	w.admin(http.MethodPost, "/_sandbox/lifetime/environments/"+w.ltEnv("Development")+"/applications/"+w.ltApp(app)+"/modified",
		map[string]bool{"isModified": true})
}

// running is the version (label and key) the app runs in Development and
// whether it has changes since.
func (w *world) running(app string) (version, key string, modified bool) {
	w.t.Helper()
	ctx := context.Background()
	env := w.ltEnv("Development")
	a, err := w.lt.GetEnvironmentApplication(ctx, env, w.ltApp(app), false)
	if err != nil {
		w.t.Fatalf("reading %s in Development: %v", app, err)
	}
	st, ok := a.StatusIn(env)
	if !ok {
		w.t.Fatalf("%s is not in Development", app)
	}
	return st.BaseApplicationVersionLabel, st.BaseApplicationVersionKey, st.IsModified
}

// tagOutOfBand acts out a colleague tagging the app in Development in
// LifeTime with that version, and waits until the version runs.
func (w *world) tagOutOfBand(app, version string) (key string) {
	w.t.Helper()
	key, err := w.lt.CreateApplicationVersion(context.Background(), w.ltEnv("Development"), w.ltApp(app),
		client.CreateVersionRequest{Version: version, ChangeLog: "Tagged by hand in LifeTime"})
	if err != nil {
		w.t.Fatalf("tagging %s %s in LifeTime: %v", app, version, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, running, _ := w.running(app); running == key {
			return key
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s never ran the version %s (%s) tagged by hand", app, version, key)
		}
	}
}

// renameMapping acts out someone renaming a mapping in the assessment tool.
func (w *world) renameMapping(id, name string) {
	w.t.Helper()
	if _, err := w.as.UpdateMapping(context.Background(), id, client.MappingPatch{Name: &name}); err != nil {
		w.t.Fatalf("renaming mapping %s to %q in the assessment tool: %v", id, name, err)
	}
}

// mapping is the mapping of that id in the assessment tool.
func (w *world) mapping(id string) *client.Mapping {
	w.t.Helper()
	mp, err := w.as.GetMapping(context.Background(), id)
	if err != nil {
		w.t.Fatalf("reading mapping %s in the assessment tool: %v", id, err)
	}
	return mp
}

// mappings is every mapping the assessment tool holds.
func (w *world) mappings() []client.Mapping {
	w.t.Helper()
	all, err := w.as.ListMappings(context.Background())
	if err != nil {
		w.t.Fatalf("listing the mappings in the assessment tool: %v", err)
	}
	return all
}

// deleteMigration acts out a Migration Kit administrator purging a code
// migration's record, through the admin API.
func (w *world) deleteMigration(id string) {
	w.t.Helper()
	w.admin(http.MethodDelete, "/_sandbox/code-migrations/"+id, nil)
}
