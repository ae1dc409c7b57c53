package odc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Asset configurations (asset-configurations-api-v1): each revision of an
// asset defines its settings, timers and integrations (consumed REST APIs);
// a code migration gives migrated revisions the ones their O11 applications
// had (O11 secret site properties arrive NOT secret), and a Studio publish
// that marks a setting secret makes a new revision (MarkSettingSecret).
// Values are set per stage and per app (a library's settings through each
// consuming app) and are append-only rows: the value is the latest row;
// the deployed value is the latest row set before the start of the latest
// Publish, Deploy or ApplyConfigs of that app that finished successfully in
// that stage, so a change stays pending until one of those runs after it.
const configurationSchema = `
CREATE TABLE IF NOT EXISTS odc_config_definitions (
	asset_key     TEXT NOT NULL,
	revision      INTEGER NOT NULL,
	kind          TEXT NOT NULL CHECK (kind IN ('Setting', 'Timer', 'Integration')),
	element_key   TEXT NOT NULL, -- the same in every revision of the asset
	position      INTEGER NOT NULL,
	name          TEXT NOT NULL,
	description   TEXT NOT NULL,
	data_type     TEXT NOT NULL,
	default_value TEXT NOT NULL, -- a timer's IsActive, an integration's base URL
	is_secret     INTEGER NOT NULL,
	PRIMARY KEY (asset_key, revision, kind, element_key),
	FOREIGN KEY (asset_key, revision) REFERENCES odc_revisions (asset_key, revision)
);
CREATE TABLE IF NOT EXISTS odc_config_values (
	seq             INTEGER PRIMARY KEY,
	environment_key TEXT NOT NULL REFERENCES odc_stages (key),
	app_key         TEXT NOT NULL REFERENCES odc_assets (key),
	library_key     TEXT NOT NULL, -- '' for the app's own elements
	element_key     TEXT NOT NULL,
	config_key      TEXT NOT NULL, -- '' for settings, IsActive for timers, BaseUrl for integrations
	value           TEXT NOT NULL,
	set_at          INTEGER NOT NULL,
	set_by          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS odc_config_values_by_app ON odc_config_values (environment_key, app_key);
`

// Kinds of configuration elements and the config keys of timers and
// integrations.
const (
	KindSetting       = "Setting"
	KindTimer         = "Timer"
	KindIntegration   = "Integration"
	ConfigIsActive    = "IsActive"
	ConfigBaseURL     = "BaseUrl"
	pluginRestConsume = "RestConsumer"
	studioCreatedBy   = "ODC Studio"
	portalChangedBy   = "ODC Portal"
)

// MigratedConfiguration is what a migrated revision defines: settings
// (from site properties), timers and integrations (consumed REST APIs).
type MigratedConfiguration struct {
	Settings     []SettingDefinition     `json:"settings"`
	Timers       []TimerDefinition       `json:"timers"`
	Integrations []IntegrationDefinition `json:"integrations"`
}

// SettingDefinition is a setting of a revision.
type SettingDefinition struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	DataType     string `json:"dataType"`
	DefaultValue string `json:"defaultValue"`
	IsSecret     bool   `json:"isSecret"`
}

// TimerDefinition is a timer of a revision; timers start active.
type TimerDefinition struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// IntegrationDefinition is a consumed REST API of a revision and the base
// URL it was built with.
type IntegrationDefinition struct {
	Name    string `json:"name"`
	BaseURL string `json:"baseUrl"`
}

// configElement is one defined element of a revision.
type configElement struct {
	Kind, Key, Name, Description, DataType, DefaultValue string
	IsSecret                                             bool
}

// configKeyOf is the config key a kind's value is stored under.
func configKeyOf(kind string) string {
	switch kind {
	case KindTimer:
		return ConfigIsActive
	case KindIntegration:
		return ConfigBaseURL
	}
	return ""
}

func elementKey(assetKey, kind, name string) string {
	return sqldb.DerivedKey("odc-config", assetKey, kind, strings.ToLower(name))
}

// definitionsOf checks what a new revision defines and lists it.
func definitionsOf(assetType string, c *MigratedConfiguration) ([]configElement, error) {
	if c == nil {
		return nil, nil
	}
	if assetType == AssetTypeLibrary && (len(c.Timers) > 0 || len(c.Integrations) > 0) {
		return nil, httpx.Invalidf("A library's configuration holds settings only, no timers or integrations.")
	}
	var elements []configElement
	for _, s := range c.Settings {
		if why := fixture.CheckConfigValue(s.DataType, s.DefaultValue); why != "" || !slices.Contains(fixture.ConfigDataTypes, s.DataType) {
			return nil, httpx.Invalidf("Setting '%s' has data type '%s' and a default value that is not valid for it (%s).", s.Name, s.DataType, why)
		}
		elements = append(elements, configElement{Kind: KindSetting, Name: s.Name, Description: s.Description, DataType: s.DataType, DefaultValue: s.DefaultValue, IsSecret: s.IsSecret})
	}
	for _, t := range c.Timers {
		elements = append(elements, configElement{Kind: KindTimer, Name: t.Name, Description: t.Description, DataType: "Boolean", DefaultValue: "true"})
	}
	for _, i := range c.Integrations {
		if why := fixture.CheckBaseURL(i.BaseURL); why != "" {
			return nil, httpx.Invalidf("Integration '%s': %s.", i.Name, why)
		}
		elements = append(elements, configElement{Kind: KindIntegration, Name: i.Name, DataType: "Text", DefaultValue: i.BaseURL})
	}
	seen := map[string]bool{}
	for _, e := range elements {
		if strings.TrimSpace(e.Name) == "" {
			return nil, httpx.Invalidf("A %s has no name.", strings.ToLower(e.Kind))
		}
		id := e.Kind + "/" + strings.ToLower(e.Name)
		if seen[id] {
			return nil, httpx.Invalidf("%s '%s' is defined twice.", e.Kind, e.Name)
		}
		seen[id] = true
	}
	return elements, nil
}

// writeDefinitions records what a new revision defines.
func writeDefinitions(ctx context.Context, tx *sql.Tx, assetKey string, revision int, elements []configElement) error {
	for i, e := range elements {
		if _, err := tx.ExecContext(ctx, `INSERT INTO odc_config_definitions (asset_key, revision, kind, element_key, position, name, description, data_type, default_value, is_secret)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, assetKey, revision, e.Kind, elementKey(assetKey, e.Kind, e.Name), i,
			e.Name, e.Description, e.DataType, e.DefaultValue, boolInt(e.IsSecret)); err != nil {
			return err
		}
	}
	return nil
}

// loadDefinitions reads what a revision defines, in definition order.
func loadDefinitions(ctx context.Context, tx *sql.Tx, assetKey string, revision int) ([]configElement, error) {
	var out []configElement
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var e configElement
		var secret int
		if err := rows.Scan(&e.Kind, &e.Key, &e.Name, &e.Description, &e.DataType, &e.DefaultValue, &secret); err != nil {
			return err
		}
		e.IsSecret = secret != 0
		out = append(out, e)
		return nil
	}, `SELECT kind, element_key, name, description, data_type, default_value, is_secret FROM odc_config_definitions
		WHERE asset_key = ? AND revision = ? ORDER BY position`, assetKey, revision)
	return out, err
}

// appliedAt is the start of the latest successful Publish, Deploy or
// ApplyConfigs of the app in the stage that finished by now, and when it
// finished; ok is false when there is none.
func appliedAt(ctx context.Context, tx *sql.Tx, stageKey, appKey string, now time.Time) (started, finished time.Time, ok bool, err error) {
	var s, f sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT started_at, finishes_at FROM (
			SELECT started_at, finishes_at FROM odc_publish_operations
				WHERE environment_key = ?1 AND asset_key = ?2 AND outcome = 'Finished' AND finishes_at <= ?3
			UNION ALL
			SELECT started_at, finishes_at FROM odc_deployment_operations
				WHERE environment_key = ?1 AND asset_key = ?2 AND operation IN ('Deploy', 'ApplyConfigs') AND outcome = 'Finished' AND finishes_at <= ?3
		) ORDER BY started_at DESC LIMIT 1`, stageKey, appKey, nanos(now)).Scan(&s, &f)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, time.Time{}, false, nil
	}
	if err != nil || !s.Valid {
		return time.Time{}, time.Time{}, false, err
	}
	return fromNanos(s.Int64), fromNanos(f.Int64), true, nil
}

// deployedRevision is the revision of the asset deployed in the stage by
// now: the latest successful Publish or Deploy not followed by a finished
// Undeploy; 0 when none is.
func deployedRevision(ctx context.Context, tx *sql.Tx, stageKey, assetKey string, now time.Time) (int, error) {
	var revision int
	var finishes int64
	err := tx.QueryRowContext(ctx, `SELECT revision, finishes_at FROM (
			SELECT revision, finishes_at, seq, 0 AS src FROM odc_publish_operations
				WHERE environment_key = ?1 AND asset_key = ?2 AND outcome = 'Finished' AND finishes_at <= ?3
			UNION ALL
			SELECT revision, finishes_at, seq, 1 AS src FROM odc_deployment_operations
				WHERE environment_key = ?1 AND asset_key = ?2 AND operation = 'Deploy' AND outcome = 'Finished' AND finishes_at <= ?3
		) ORDER BY finishes_at DESC, src DESC, seq DESC LIMIT 1`, stageKey, assetKey, nanos(now)).Scan(&revision, &finishes)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var undeployed int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM odc_deployment_operations WHERE environment_key = ? AND asset_key = ?
		AND operation = 'Undeploy' AND outcome = 'Finished' AND finishes_at <= ? AND finishes_at >= ?`,
		stageKey, assetKey, nanos(now), finishes).Scan(&undeployed); err != nil {
		return 0, err
	}
	if undeployed > 0 {
		return 0, nil
	}
	return revision, nil
}

// valueRow is one value set for an element of an app in a stage.
type valueRow struct {
	value string
	setAt time.Time
}

// valueID names a value: the library (” for the app's own), the element
// and the config key.
type valueID struct{ library, element, config string }

// valueState is the value of an element as last set, and as deployed.
type valueState struct {
	last, deployed *valueRow
}

// loadValues reads the values set for an app in a stage: the latest of
// each, and the latest set at or before appliedStart (deployed).
func loadValues(ctx context.Context, tx *sql.Tx, stageKey, appKey string, appliedStart *time.Time) (map[valueID]*valueState, error) {
	out := map[valueID]*valueState{}
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var id valueID
		var v valueRow
		var at int64
		if err := rows.Scan(&id.library, &id.element, &id.config, &v.value, &at); err != nil {
			return err
		}
		v.setAt = fromNanos(at)
		st := out[id]
		if st == nil {
			st = &valueState{}
			out[id] = st
		}
		row := v
		st.last = &row
		if appliedStart != nil && !v.setAt.After(*appliedStart) {
			st.deployed = &row
		}
		return nil
	}, `SELECT library_key, element_key, config_key, value, set_at FROM odc_config_values
		WHERE environment_key = ? AND app_key = ? ORDER BY seq`, stageKey, appKey)
	return out, err
}

// appByKey reads the application (not library) a path parameter names.
func appByKey(ctx context.Context, tx *sql.Tx, key string) (*Asset, error) {
	a, err := assetByKey(ctx, tx, key)
	if err != nil || a.AssetType == AssetTypeLibrary {
		return nil, httpx.NotFoundf("Application with key '%s' was not found.", key)
	}
	return a, nil
}

// consumedLibrary is a library an app revision consumes, at the revision
// it was built with.
type consumedLibrary struct {
	Asset    *Asset
	Revision *Revision
	Settings []configElement
}

// consumedLibraries lists the libraries a revision consumes, each at its
// latest revision created when the app revision was, with its settings.
func consumedLibraries(ctx context.Context, tx *sql.Tx, r *Revision) ([]consumedLibrary, error) {
	if len(r.Producers) == 0 {
		return nil, nil
	}
	yes := true
	libs, err := loadAssets(ctx, tx, assetFilter{keys: r.Producers, libraries: &yes})
	if err != nil {
		return nil, err
	}
	out := make([]consumedLibrary, 0, len(libs))
	for _, l := range libs {
		revs, err := queryRevisions(ctx, tx, "r.asset_key = ? AND r.created_at <= ?", l.Key, nanos(r.CreatedAt))
		if err != nil {
			return nil, err
		}
		lr := l.latest()
		if len(revs) > 0 {
			lr = revs[len(revs)-1]
		}
		defs, err := loadDefinitions(ctx, tx, l.Key, lr.Revision)
		if err != nil {
			return nil, err
		}
		out = append(out, consumedLibrary{Asset: l, Revision: lr, Settings: defs})
	}
	return out, nil
}

// --- out of band: the ODC Portal and ODC Studio ---

// SetConfigurationValue sets a value as someone would in the ODC Portal:
// the setting, timer (IsActive) or integration (base URL) called name of
// the app in the stage, or of library (a library's name or key; "" for the
// app's own) through that app. The element is looked up in the revision
// deployed in the stage, else the app's latest revision.
func (s *Service) SetConfigurationValue(ctx context.Context, stageKey, appKey, library, kind, name, value string, now time.Time) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		stage, err := loadStage(ctx, tx, strings.ToLower(stageKey))
		if err != nil {
			return err
		}
		a, err := appByKey(ctx, tx, appKey)
		if err != nil {
			return err
		}
		r := a.latest()
		if n, err := deployedRevision(ctx, tx, stage.Key, a.Key, now); err != nil {
			return err
		} else if n > 0 {
			if r, err = revisionOf(ctx, tx, a, n); err != nil {
				return err
			}
		}
		defs, libKey := []configElement(nil), ""
		if library == "" {
			if defs, err = loadDefinitions(ctx, tx, a.Key, r.Revision); err != nil {
				return err
			}
		} else {
			libs, err := consumedLibraries(ctx, tx, r)
			if err != nil {
				return err
			}
			for _, l := range libs {
				if strings.EqualFold(l.Asset.Key, library) || strings.EqualFold(l.Revision.Name, library) {
					defs, libKey = l.Settings, l.Asset.Key
				}
			}
			if libKey == "" {
				return httpx.NotFoundf("Revision %d of '%s' consumes no library '%s'.", r.Revision, r.Name, library)
			}
		}
		for _, d := range defs {
			if d.Kind != kind || !strings.EqualFold(d.Name, name) {
				continue
			}
			dataType := d.DataType
			if why := checkElementValue(d, value); why != "" {
				return httpx.Invalidf("%s '%s' takes a %s: %s.", kind, d.Name, dataType, why)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO odc_config_values (environment_key, app_key, library_key, element_key, config_key, value, set_at, set_by)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, stage.Key, a.Key, libKey, d.Key, configKeyOf(kind), value, nanos(now), portalChangedBy)
			return err
		}
		return httpx.NotFoundf("Revision %d of '%s' has no %s '%s'.", r.Revision, r.Name, strings.ToLower(kind), name)
	})
}

// checkElementValue reports why value does not fit the element, or "".
func checkElementValue(d configElement, value string) string {
	if d.Kind == KindIntegration {
		return fixture.CheckBaseURL(value)
	}
	return fixture.CheckConfigValue(d.DataType, value)
}

// MarkSettingSecret does what a developer does in ODC Studio to make a
// setting secret and publish: a new revision of the asset, a copy of its
// latest with the setting called name secret, published to the Development
// stage at now. It returns the new revision.
func (s *Service) MarkSettingSecret(ctx context.Context, assetKey, name string, now time.Time) (int, error) {
	var revision int
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		a, err := assetByKey(ctx, tx, assetKey)
		if err != nil {
			return err
		}
		prev := a.latest()
		defs, err := loadDefinitions(ctx, tx, a.Key, prev.Revision)
		if err != nil {
			return err
		}
		found := false
		for _, d := range defs {
			found = found || (d.Kind == KindSetting && strings.EqualFold(d.Name, name))
		}
		if !found {
			return httpx.NotFoundf("Revision %d of '%s' has no setting '%s'.", prev.Revision, prev.Name, name)
		}
		dev, err := stageOrDevelopment(ctx, tx, "")
		if err != nil {
			return err
		}
		revision = prev.Revision + 1
		for _, q := range []string{
			`INSERT INTO odc_revisions (asset_key, revision, name, created_at, created_by, model_digest, publish_errors)
				SELECT asset_key, ?3, name, ?4, ?5, ?6, '[]' FROM odc_revisions WHERE asset_key = ?1 AND revision = ?2`,
			`INSERT INTO odc_revision_producers (asset_key, revision, producer_key)
				SELECT asset_key, ?3, producer_key FROM odc_revision_producers WHERE asset_key = ?1 AND revision = ?2`,
			`INSERT INTO odc_referenced_elements (asset_key, revision, producer_key, element_key, name, type, description, is_hidden, signature_digest, compatibility_digest)
				SELECT asset_key, ?3, producer_key, element_key, name, type, description, is_hidden, signature_digest, compatibility_digest
				FROM odc_referenced_elements WHERE asset_key = ?1 AND revision = ?2`,
			`INSERT INTO odc_config_definitions (asset_key, revision, kind, element_key, position, name, description, data_type, default_value, is_secret)
				SELECT asset_key, ?3, kind, element_key, position, name, description, data_type, default_value,
					CASE WHEN kind = 'Setting' AND lower(name) = lower(?7) THEN 1 ELSE is_secret END
				FROM odc_config_definitions WHERE asset_key = ?1 AND revision = ?2`,
		} {
			if _, err := tx.ExecContext(ctx, q, a.Key, prev.Revision, revision, nanos(now), studioCreatedBy, uuid.NewString(), name); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO odc_publish_operations (`+publishOpColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			uuid.NewString(), a.Key, revision, dev.Key, studioCreatedBy, uuid.NewString(), nanos(now), nanos(now), StatusFinished)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark setting %q of %s secret: %w", name, assetKey, err)
	}
	return revision, nil
}

// RecordDeployedByHand records what a person's deploy of an app revision
// to a stage after Development in the ODC Portal leaves behind: a finished
// Deploy operation, at now. It applies the app's pending values there, as
// any deploy does. Tests use it to have an app in QA without the build and
// deploy APIs.
func (s *Service) RecordDeployedByHand(ctx context.Context, stageKey, appKey string, revision int, now time.Time) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		stage, err := loadStage(ctx, tx, strings.ToLower(stageKey))
		if err != nil {
			return err
		}
		if stage.Purpose == fixture.PurposeDevelopment {
			return httpx.Invalidf("Stage '%s' is the Development stage: publish to it instead.", stage.Name)
		}
		a, err := appByKey(ctx, tx, appKey)
		if err != nil {
			return err
		}
		if _, err := revisionOf(ctx, tx, a, revision); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO odc_deployment_operations
			(key, operation, asset_key, revision, build_key, environment_key, deployed_by, started_at, finishes_at, outcome)
			VALUES (?, 'Deploy', ?, ?, ?, ?, ?, ?, ?, 'Finished')`, uuid.NewString(), a.Key, revision, uuid.NewString(), stage.Key,
			portalChangedBy, nanos(now), nanos(now))
		return err
	})
}
