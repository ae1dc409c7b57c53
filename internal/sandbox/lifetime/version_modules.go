package lifetime

import (
	"context"
	"database/sql"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// VersionModule is a module version an application version holds.
type VersionModule struct {
	ModuleKey, ModuleVersionKey string
}

// VersionModules returns the module versions of an application version, in
// the order of the modules in their application: what a code migration of
// that version converts (a migration preview shows them).
func (s *Service) VersionModules(ctx context.Context, tx *sql.Tx, versionKey string) ([]VersionModule, error) {
	var out []VersionModule
	err := s.inTx(ctx, tx, func(tx *sql.Tx) error {
		return sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var m VersionModule
			err := rows.Scan(&m.ModuleKey, &m.ModuleVersionKey)
			out = append(out, m)
			return err
		}, `SELECT mv.module_key, mv.key FROM lt_application_versions v
			JOIN json_each(v.module_version_keys) j
			JOIN lt_module_versions mv ON mv.key = j.value
			LEFT JOIN lt_application_modules am ON am.module_key = mv.module_key
			WHERE v.key = ? ORDER BY am.position, mv.module_key`, versionKey)
	})
	return out, err
}
