package assessment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// What code migrations read of the assessment tool: the mappings they
// migrate, as the tool sees them when a migration starts, and the names of
// mappings. Both read in the caller's transaction.

// MigrationMapping is a mapping as a code migration records it.
type MigrationMapping struct {
	Key, Name, AssetType string
	// Status is the mapping's status at the time asked (Assessing,
	// ReadyForOdc, ChangeInOdc or NotReady).
	Status string
	// Apps are the mapping's applications, in its order.
	Apps []MappedApp
	// Producers are the keys of the mappings it consumes, by name.
	Producers []string
}

// MappedApp is an O11 application of a mapping.
type MappedApp struct{ Key, Name string }

// Label names the application by name and key, as the kit's errors do.
func (a MappedApp) Label() string { return fmt.Sprintf("'%s' (key %s)", a.Name, a.Key) }

// MigrationMappings reads the mappings with the given keys, with their
// status at now; unknown keys are left out of the answer.
func (s *Service) MigrationMappings(ctx context.Context, tx *sql.Tx, keys []string, now time.Time) (map[string]MigrationMapping, error) {
	if keys == nil {
		keys = []string{}
	}
	st, err := s.loadMappings(ctx, tx, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]MigrationMapping, len(st.order))
	for _, m := range st.order {
		mm := MigrationMapping{Key: m.key, Name: m.name, AssetType: m.assetType, Status: st.status(m, now),
			Producers: NonNil(st.producers[m.key]), Apps: make([]MappedApp, len(m.appKeys))}
		for i, k := range m.appKeys {
			mm.Apps[i] = MappedApp{Key: k, Name: st.apps[k].name}
		}
		out[m.key] = mm
	}
	return out, nil
}

// MappingName returns the name of a mapping, and false when there is none
// with the key.
func (s *Service) MappingName(ctx context.Context, tx *sql.Tx, key string) (string, bool, error) {
	var name string
	err := tx.QueryRowContext(ctx, `SELECT name FROM ma_mappings WHERE key = ?`, key).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return name, err == nil, err
}
