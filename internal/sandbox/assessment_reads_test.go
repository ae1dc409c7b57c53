package sandbox

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestAssessmentReadsDoNotReloadTheWorld proves a request reads what it
// needs, by key: reading one mapping, and the readiness of one mapping,
// run as many SQL statements (with the request's authentication) with 3 mappings present as with 200.
func TestAssessmentReadsDoNotReloadTheWorld(t *testing.T) {
	measure := func(mappings int) (mapping, readiness int64) {
		e := newMAEnv(t, Options{}, nil)
		portal := e.create("Customer Portal", "WebApplication", "Customer Portal")
		e.create("Customer Core", "LowCodeLibrary", "Customer Core")
		e.create("Policy Core", "LowCodeLibrary", "Policy Core")
		// The other mappings hold no applications (the fixture has too few
		// for 200), but each has a name, an assessment and its rows.
		now := time.Now()
		err := e.sb.store.write(t.Context(), func(tx *sql.Tx) error {
			for i := 3; i < mappings; i++ {
				key := uuid.NewString()
				if _, err := tx.Exec(`INSERT INTO ma_mappings (key, name, asset_type, description, created_at, updated_at)
					VALUES (?, ?, 'LowCodeLibrary', '', ?, ?)`, key, fmt.Sprintf("Filler %03d", i), formatTime(now), formatTime(now)); err != nil {
					return err
				}
				if _, err := tx.Exec(`INSERT INTO ma_assessments (key, mapping_key, application_keys, queued_at, duration_ns)
					VALUES (?, ?, '[]', ?, ?)`, uuid.NewString(), key, formatTime(now), int64(time.Second)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var all int
		if err := e.sb.store.db.QueryRow(`SELECT count(*) FROM ma_mappings`).Scan(&all); err != nil || all != mappings {
			t.Fatalf("%d mappings (%v), want %d", all, err, mappings)
		}
		db := e.sb.store.db
		before := db.Statements()
		e.mapping(portal.Key)
		mapping = db.Statements() - before
		before = db.Statements()
		if r := e.readiness("?mappingKeys=" + portal.Key); len(r) != 1 {
			t.Fatalf("readiness = %v", r)
		}
		readiness = db.Statements() - before
		return mapping, readiness
	}
	m3, r3 := measure(3)
	m200, r200 := measure(200)
	if m3 != m200 || r3 != r200 {
		t.Errorf("statements to read one mapping: %d with 3 mappings, %d with 200; its readiness: %d and %d", m3, m200, r3, r200)
	}
	if m3 > 10 || r3 > 10 {
		t.Errorf("reading one mapping takes %d statements, its readiness %d: more than a few", m3, r3)
	}
	t.Logf("one mapping: %d statements; its readiness: %d", m3, r3)
}
