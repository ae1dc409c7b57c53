package codemigration

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// What O11 applications define that becomes ODC configuration (the
// fixture's o11Configuration section): site properties, timers and
// consumed REST APIs, loaded once per database by application key. A
// migration gives each revision it creates the configuration of the O11
// applications the asset holds, as OutSystems documents the conversion:
// site properties become settings and arrive NOT secret even when they
// were secret in O11 (a developer marks them secret in ODC Studio);
// timers and consumed REST APIs (integrations) come along for apps;
// libraries keep their settings only.
const configurationSchema = `
CREATE TABLE IF NOT EXISTS cm_fixture_configurations (
	application_key TEXT PRIMARY KEY,
	configuration   TEXT NOT NULL -- JSON: fixture.AppConfiguration
);
`

// prepareConfigurations creates the table and loads the fixture's section.
func (s *Service) prepareConfigurations(ctx context.Context, f *fixture.Fixture) error {
	if _, err := s.db.ExecContext(ctx, configurationSchema); err != nil {
		return fmt.Errorf("create the code migration configuration schema: %w", err)
	}
	_, err := s.db.SeedOnce(ctx, "code_migration_configurations", f.Name, func(tx *sql.Tx) error {
		for _, c := range f.O11Configuration.Applications {
			key, found, err := s.lifetime.ApplicationKeyByName(ctx, tx, c.Application)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("o11Configuration fixture: the database has no application %q", c.Application)
			}
			doc, err := sqldb.MarshalJSON(c)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO cm_fixture_configurations (application_key, configuration) VALUES (?, ?)`, key, doc); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// configurationOf is the configuration the revision of a migrated asset
// gets from the O11 applications it holds, in their order; a name defined
// by two of them is kept once, as the first defines it.
func configurationOf(ctx context.Context, tx *sql.Tx, it *itemRow) (*odc.MigratedConfiguration, error) {
	out := &odc.MigratedConfiguration{}
	seen := map[string]bool{}
	first := func(kind, name string) bool {
		id := kind + "/" + strings.ToLower(name)
		if seen[id] {
			return false
		}
		seen[id] = true
		return true
	}
	for _, v := range it.sourceVersions {
		var doc string
		err := tx.QueryRowContext(ctx, `SELECT configuration FROM cm_fixture_configurations WHERE application_key = ?`, v.ApplicationKey).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var c fixture.AppConfiguration
		if err := json.Unmarshal([]byte(doc), &c); err != nil {
			return nil, err
		}
		for _, p := range c.SiteProperties {
			if first("setting", p.Name) {
				// IsSecret is not carried over: ODC has no such flag on a
				// converted site property.
				out.Settings = append(out.Settings, odc.SettingDefinition{Name: p.Name, Description: p.Description, DataType: p.DataType, DefaultValue: p.DefaultValue})
			}
		}
		if it.assetType == odc.AssetTypeLibrary {
			continue
		}
		for _, t := range c.Timers {
			if first("timer", t.Name) {
				out.Timers = append(out.Timers, odc.TimerDefinition{Name: t.Name, Description: t.Description})
			}
		}
		for _, r := range c.ConsumedRESTAPIs {
			if first("integration", r.Name) {
				out.Integrations = append(out.Integrations, odc.IntegrationDefinition{Name: r.Name, BaseURL: r.BaseURL})
			}
		}
	}
	if len(out.Settings)+len(out.Timers)+len(out.Integrations) == 0 {
		return nil, nil
	}
	return out, nil
}
