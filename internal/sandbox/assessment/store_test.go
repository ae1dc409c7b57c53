package assessment

import (
	"database/sql"
	"fmt"
	"io"
	"log"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// newTestService opens an in-memory database seeded with the default
// fixture's LifeTime section and starts the assessment tool on it.
func newTestService(t *testing.T, now time.Time) (*Service, *sqldb.DB, map[string]string) {
	t.Helper()
	db, err := sqldb.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(sqldb.MetaSchema); err != nil {
		t.Fatal(err)
	}
	logger := log.New(io.Discard, "", 0)
	lt, err := lifetime.New(t.Context(), db, logger)
	if err != nil {
		t.Fatal(err)
	}
	f := fixture.Default()
	if err := db.Write(t.Context(), func(tx *sql.Tx) error { return lt.Seed(t.Context(), tx, &f.LifeTime) }); err != nil {
		t.Fatal(err)
	}
	svc, err := New(t.Context(), db, lt, f, Options{Now: func() time.Time { return now }, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	apps, err := lt.PortfolioApps(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, a := range apps {
		keys[a.Name] = a.Key
	}
	return svc, db, keys
}

// TestReadsDoNotReloadTheWorld proves a request reads what it needs, by
// key: reading one mapping, and the readiness of one mapping, run as many
// SQL statements with 3 mappings present as with 200.
func TestReadsDoNotReloadTheWorld(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	measure := func(mappings int) (mapping, readiness int64) {
		svc, db, apps := newTestService(t, now)
		create := func(name, assetType, app string) string {
			m, err := svc.createMapping(t.Context(), now, time.Second, mappingChange{name: &name, assetType: assetType, appKeys: []string{apps[app]}})
			if err != nil {
				t.Fatalf("create %s: %v", name, err)
			}
			return m.Key
		}
		portal := create("Customer Portal", "WebApplication", "Customer Portal")
		create("Customer Core", "LowCodeLibrary", "Customer Core")
		create("Policy Core", "LowCodeLibrary", "Policy Core")
		// The other mappings hold no applications (the fixture has too few
		// for 200), but each has a name, an assessment and its rows.
		err := db.Write(t.Context(), func(tx *sql.Tx) error {
			for i := 3; i < mappings; i++ {
				key := uuid.NewString()
				if _, err := tx.Exec(`INSERT INTO ma_mappings (key, name, asset_type, description, created_at, updated_at)
					VALUES (?, ?, 'LowCodeLibrary', '', ?, ?)`, key, fmt.Sprintf("Filler %03d", i), sqldb.FormatTime(now), sqldb.FormatTime(now)); err != nil {
					return err
				}
				if _, err := queueAssessment(t.Context(), tx, key, []string{}, now, time.Second); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if all, err := svc.mappingList(t.Context(), now); err != nil || len(all) != mappings {
			t.Fatalf("%d mappings (%v), want %d", len(all), err, mappings)
		}
		before := db.Statements()
		m, err := svc.mapping(t.Context(), now, portal)
		if err != nil || len(m.ProducerMappingKeys) != 2 {
			t.Fatalf("mapping = %+v, %v", m, err)
		}
		mapping = db.Statements() - before
		before = db.Statements()
		if r, err := svc.readiness(t.Context(), now, []string{portal}); err != nil || len(r) != 1 {
			t.Fatalf("readiness = %v, %v", r, err)
		}
		readiness = db.Statements() - before
		return mapping, readiness
	}
	m3, r3 := measure(3)
	m200, r200 := measure(200)
	if m3 != m200 || r3 != r200 {
		t.Errorf("statements to read one mapping: %d with 3 mappings, %d with 200; its readiness: %d and %d", m3, m200, r3, r200)
	}
	if m3 > 12 || r3 > 12 {
		t.Errorf("reading one mapping takes %d statements, its readiness %d: more than a few", m3, r3)
	}
	t.Logf("one mapping: %d statements; its readiness: %d", m3, r3)
}
