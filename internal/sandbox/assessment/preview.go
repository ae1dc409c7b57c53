package assessment

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// What a migration preview (codemigration, POST /migration-previews) reads
// of the assessment tool: which mapping holds each application, and the
// mapping a definition names, so a preview of mapping definitions says what
// the kit would refuse once they are mappings.

// AppHolder is the mapping holding an O11 application.
type AppHolder struct{ Key, Name string }

// ApplicationHolders returns the mappings holding the given applications,
// by application key; applications no mapping holds are left out.
func (s *Service) ApplicationHolders(ctx context.Context, tx *sql.Tx, appKeys []string) (map[string]AppHolder, error) {
	if appKeys == nil {
		appKeys = []string{}
	}
	hs, err := s.appHolders(ctx, tx, appKeys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]AppHolder, len(hs))
	for k, h := range hs {
		out[k] = AppHolder{Key: h.key, Name: h.name}
	}
	return out, nil
}

// MappingNamed returns the mapping of a name (names compare ignoring
// letter case, as the mapping rules do) with its status at now, and false
// when there is none.
func (s *Service) MappingNamed(ctx context.Context, tx *sql.Tx, name string, now time.Time) (MigrationMapping, bool, error) {
	var key string
	err := tx.QueryRowContext(ctx, `SELECT key FROM ma_mappings WHERE name = ? COLLATE NOCASE`, name).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return MigrationMapping{}, false, nil
	}
	if err != nil {
		return MigrationMapping{}, false, err
	}
	found, err := s.MigrationMappings(ctx, tx, []string{key}, now)
	if err != nil {
		return MigrationMapping{}, false, err
	}
	m, ok := found[key]
	return m, ok, nil
}

// MappingDefinition is a mapping as a preview names it, before it exists.
type MappingDefinition struct {
	Name, AssetType string
	ApplicationKeys []string // lower case, no duplicates
}

// ParseMappingDefinition checks a mapping definition ({name, assetType,
// applicationKeys}) as POST /mappings checks those fields, and returns the
// problems found, each prefixed with at (like "assets[2]").
func ParseMappingDefinition(raw json.RawMessage, at string) (MappingDefinition, []string) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return MappingDefinition{}, []string{at + " must be an object {name, assetType, applicationKeys}."}
	}
	p := &FieldParser{Obj: obj}
	for k := range obj {
		if k != "name" && k != "assetType" && k != "applicationKeys" {
			p.Addf("unknown field '%s'; allowed: name, assetType, applicationKeys.", k)
		}
	}
	var d MappingDefinition
	if v := p.mappingName(true); v != nil {
		d.Name = *v
	}
	d.AssetType = p.assetType()
	d.ApplicationKeys = p.applicationKeys(true)
	out := make([]string, len(p.problems))
	for i, s := range p.problems {
		out[i] = at + ": " + s
	}
	return d, out
}
