package sandbox

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
)

// A portal migration creates the ODC assets the kit's code migration would,
// producers referenced and ordered first, and migrating an asset again makes
// a new revision of the same asset.
func TestAdminPortalMigration(t *testing.T) {
	s, base := startSandbox(t, Options{MigrationDuration: time.Hour})
	f := s.Fixture()
	dev := envKey(t, f, "Development")
	app := func(name string) []string { return []string{fixtureApp(t, f, name).Key} }
	req := codemigration.PortalRequest{SourceEnvironmentKey: dev, Wait: true, Assets: []codemigration.PortalAsset{
		{Name: "Customer Portal", Type: "app", ApplicationKeys: app("Customer Portal")},
		{Name: "Customer Core", Type: "library", ApplicationKeys: app("Customer Core")},
		{Name: "Common Utils", Type: "library", ApplicationKeys: app("Common Utils")},
		{Name: "Acme Theme", Type: "library", ApplicationNames: []string{"Acme Theme"}},
	}}
	r := do(t, http.MethodPost, base+"/_sandbox/portal-migrations", "", req).expect(t, http.StatusCreated)
	m := decode[codemigration.PortalMigration](t, r)
	if m.Status != codemigration.StatusFinished || len(m.Assets) != 4 {
		t.Fatalf("migration = %s", r.body)
	}
	byName := map[string]codemigration.PortalMigratedAsset{}
	for _, a := range m.Assets {
		byName[a.Name] = a
	}
	portal, core, theme, utils := byName["Customer Portal"], byName["Customer Core"], byName["Acme Theme"], byName["Common Utils"]
	if portal.AssetType != "WebApplication" || core.AssetType != "LowCodeLibrary" || portal.Revision != 1 {
		t.Errorf("types or revision: %s", r.body)
	}
	if !slices.Contains(portal.ProducerAssetKeys, core.AssetKey) || !slices.Contains(portal.ProducerAssetKeys, theme.AssetKey) {
		t.Errorf("Customer Portal's producers %v lack Customer Core %s or Acme Theme %s", portal.ProducerAssetKeys, core.AssetKey, theme.AssetKey)
	}
	if !slices.ContainsFunc(portal.Messages, func(m codemigration.Message) bool {
		return m.Code == codemigration.CodeProducerNotMigrated && strings.Contains(m.Message, "'Policy Core'")
	}) {
		t.Errorf("no message about Policy Core, a producer not migrated: %+v", portal.Messages)
	}
	if portal.PublishWave <= core.PublishWave || portal.PublishOrder <= core.PublishOrder || utils.PublishWave != 1 {
		t.Errorf("publish plan: %s", r.body)
	}
	got := decode[codemigration.PortalMigration](t, do(t, http.MethodGet, base+"/_sandbox/portal-migrations/"+m.Key, "", nil).expect(t, http.StatusOK))
	if got.Key != m.Key || len(got.Assets) != 4 {
		t.Errorf("GET = %+v", got)
	}

	// Again, without waiting: Migrating for the duration, then a second
	// revision of the same asset, its producer from the first migration.
	req2 := codemigration.PortalRequest{SourceEnvironmentKey: dev, Assets: req.Assets[:1]}
	m2 := decode[codemigration.PortalMigration](t, do(t, http.MethodPost, base+"/_sandbox/portal-migrations", "", req2).expect(t, http.StatusCreated))
	if m2.Status != codemigration.StatusMigrating || len(m2.Assets) != 0 {
		t.Fatalf("second migration = %+v", m2)
	}
	do(t, http.MethodPost, base+"/_sandbox/portal-migrations", "", req2).expect(t, http.StatusConflict)
	s.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	m2 = decode[codemigration.PortalMigration](t, do(t, http.MethodGet, base+"/_sandbox/portal-migrations/"+m2.Key, "", nil).expect(t, http.StatusOK))
	if m2.Status != codemigration.StatusFinished || m2.Assets[0].AssetKey != portal.AssetKey || m2.Assets[0].Revision != 2 {
		t.Errorf("second migration, finished = %+v", m2)
	}
	var producers []string
	rows, err := s.store.db.Query(`SELECT producer_key FROM odc_revision_producers WHERE asset_key = ? AND revision = 2 ORDER BY producer_key`, portal.AssetKey)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		producers = append(producers, k)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{core.AssetKey, theme.AssetKey}
	slices.Sort(want)
	if !slices.Equal(producers, want) {
		t.Errorf("revision 2 consumes %v, want the assets of the first migration %v", producers, want)
	}

	// Bad input names what is wrong.
	bad := func(body any, status int, want string) {
		t.Helper()
		r := do(t, http.MethodPost, base+"/_sandbox/portal-migrations", "", body).expect(t, status)
		if !strings.Contains(string(r.body), want) {
			t.Errorf("answer %s lacks %q", r.body, want)
		}
	}
	bad(`{"assets": []}`, http.StatusBadRequest, "sourceEnvironmentKey")
	bad(codemigration.PortalRequest{SourceEnvironmentKey: uuid.NewString(), Assets: req.Assets}, http.StatusNotFound, "Environment")
	bad(codemigration.PortalRequest{SourceEnvironmentKey: dev}, http.StatusBadRequest, "at least one asset")
	bad(codemigration.PortalRequest{SourceEnvironmentKey: dev, Assets: []codemigration.PortalAsset{
		{Name: "Portal", Type: "library", ApplicationKeys: app("Customer Portal")}}}, http.StatusBadRequest, "only applications whose modules are all libraries")
	bad(codemigration.PortalRequest{SourceEnvironmentKey: dev, Assets: []codemigration.PortalAsset{
		{Name: "X", Type: "service", ApplicationKeys: app("Acme Theme")}}}, http.StatusBadRequest, "use app or library")
	bad(codemigration.PortalRequest{SourceEnvironmentKey: dev, Assets: []codemigration.PortalAsset{
		{Name: "X", Type: "app", ApplicationKeys: []string{uuid.NewString()}}}}, http.StatusBadRequest, "LifeTime has no application")
	bad(codemigration.PortalRequest{SourceEnvironmentKey: dev, Assets: []codemigration.PortalAsset{
		{Name: "X", Type: "app", ApplicationNames: []string{"Nope"}}}}, http.StatusBadRequest, "no application named 'Nope'")
	bad(`{"sourceEnvironmentKey": "x", "bogus": 1}`, http.StatusBadRequest, "send a JSON body")
	do(t, http.MethodGet, base+"/_sandbox/portal-migrations/"+uuid.NewString(), "", nil).expect(t, http.StatusNotFound)
}

// On the tenant profile, where the kit's API answers 404, the portal still
// migrates: it stands for the ODC portal, not for the kit.
func TestAdminPortalMigrationTenantProfile(t *testing.T) {
	s, base := startSandbox(t, Options{WithoutMigrationKit: true})
	f := s.Fixture()
	req := codemigration.PortalRequest{SourceEnvironmentKey: envKey(t, f, "Development"), Wait: true, Assets: []codemigration.PortalAsset{
		{Name: "Acme Theme", Type: "library", ApplicationKeys: []string{fixtureApp(t, f, "Acme Theme").Key}},
	}}
	m := decode[codemigration.PortalMigration](t, do(t, http.MethodPost, base+"/_sandbox/portal-migrations", "", req).expect(t, http.StatusCreated))
	if m.Status != codemigration.StatusFinished || len(m.Assets) != 1 || m.Assets[0].AssetType != "LowCodeLibrary" || m.Assets[0].Revision != 1 {
		t.Errorf("migration = %+v", m)
	}
	do(t, http.MethodGet, base+"/_sandbox/portal-migrations/"+m.Key, "", nil).expect(t, http.StatusOK)
}

// The kit's code-migration API neither lists nor reads portal migrations:
// they were not started through it.
func TestPortalMigrationsNotInKitAPI(t *testing.T) {
	e := newMigrationEnv(t, Options{})
	f := e.sb.Fixture()
	m, err := e.sb.PortalMigrate(codemigration.PortalRequest{SourceEnvironmentKey: envKey(t, f, "Development"), Wait: true,
		Assets: []codemigration.PortalAsset{{Name: "Acme Theme", Type: "library", ApplicationNames: []string{"Acme Theme"}}}})
	if err != nil {
		t.Fatal(err)
	}
	list := decode[struct {
		Results []codemigration.Migration `json:"results"`
	}](t, e.cm(http.MethodGet, "/code-migrations", clientMigration, nil).expect(t, http.StatusOK))
	if len(list.Results) != 0 {
		t.Errorf("the kit lists %d code migrations, want none: %+v", len(list.Results), list.Results)
	}
	e.cm(http.MethodGet, "/code-migrations/"+m.Key, clientMigration, nil).expect(t, http.StatusNotFound)
	// Purging it (the admin surface's DELETE) removes it from the portal's view too.
	do(t, http.MethodDelete, e.url+"/_sandbox/code-migrations/"+m.Key, "", nil).expect(t, http.StatusNoContent)
	do(t, http.MethodGet, e.url+"/_sandbox/portal-migrations/"+m.Key, "", nil).expect(t, http.StatusNotFound)
}
