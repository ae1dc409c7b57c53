package codemigration

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/migrationkit"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Times are stored as Unix nanoseconds, as ODC does, so SQL compares them.
func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// The Migration Kit's code migrations live in tables prefixed cm_. A
// migration records, when it starts, everything it converts: the mappings'
// names, types and producers, the tagged application versions and what the
// fixture says about them, so later changes to mappings or tags do not change
// it. It is Migrating until finishes_at; the first read at or after that
// finalises it in one write transaction (creating its ODC asset revisions and
// storing its final status), so nothing runs in the background and a restart
// changes nothing.
const codeMigrationSchema = `
CREATE TABLE IF NOT EXISTS cm_fixture_outcomes (
	application_key TEXT PRIMARY KEY,
	errors          TEXT NOT NULL, -- JSON array of {code, message}: the conversion fails with them
	publish_errors  TEXT NOT NULL  -- JSON array of TrueChange errors of the converted code
);
CREATE TABLE IF NOT EXISTS cm_migrations (
	seq                    INTEGER PRIMARY KEY,
	key                    TEXT NOT NULL UNIQUE,
	source_environment_key TEXT NOT NULL,
	started_at             INTEGER NOT NULL, -- Unix nanoseconds
	finishes_at            INTEGER NOT NULL,
	started_by             TEXT NOT NULL,
	status                 TEXT NOT NULL CHECK (status IN ('Migrating', 'Finished', 'FinishedWithErrors'))
);
CREATE INDEX IF NOT EXISTS cm_migrations_status ON cm_migrations (status, finishes_at);
CREATE TABLE IF NOT EXISTS cm_migration_items (
	migration_key         TEXT NOT NULL REFERENCES cm_migrations (key),
	position              INTEGER NOT NULL, -- in the request's mappingKeys
	mapping_key           TEXT NOT NULL,    -- no foreign key: finished migrations outlive their mappings
	name                  TEXT NOT NULL,
	asset_type            TEXT NOT NULL,
	producer_mapping_keys TEXT NOT NULL, -- JSON array: the mapping's producers when the migration started
	source_versions       TEXT NOT NULL, -- JSON array of SourceApplicationVersion
	errors                TEXT NOT NULL, -- JSON array of {code, message}
	messages              TEXT NOT NULL, -- JSON array of {code, message}
	publish_errors        TEXT NOT NULL, -- JSON array: TrueChange errors of the produced revision
	-- set when the migration is finalised:
	asset_key             TEXT,
	revision              INTEGER,
	publish_order         INTEGER,
	publish_wave          INTEGER,
	producer_asset_keys   TEXT, -- JSON array
	PRIMARY KEY (migration_key, mapping_key)
);
CREATE INDEX IF NOT EXISTS cm_migration_items_mapping ON cm_migration_items (mapping_key);
-- Migrations run as in the ODC portal (portal.go), not through the kit's API:
-- the kit's list and get do not show them.
CREATE TABLE IF NOT EXISTS cm_portal_migrations (
	key TEXT PRIMARY KEY REFERENCES cm_migrations (key)
);
`

// Code migration statuses of the contract.
const (
	StatusMigrating          = "Migrating"
	StatusFinished           = "Finished"
	StatusFinishedWithErrors = "FinishedWithErrors"
)

var statuses = []string{StatusMigrating, StatusFinished, StatusFinishedWithErrors}

// Codes of migrated assets' errors and messages.
const (
	CodeConversionFailed       = "CONVERSION_FAILED"
	CodeDependencyNotConverted = "DEPENDENCY_NOT_CONVERTED"
	CodeTrueChangeError        = "TRUECHANGE_ERROR"
	CodeUntaggedChanges        = "UNTAGGED_CHANGES_NOT_MIGRATED"
	CodeProducerNotMigrated    = "PRODUCER_NOT_MIGRATED"
	CodeAssetNameTaken         = "ASSET_NAME_TAKEN"
)

// prepare creates the code migration tables and, once per
// database, loads the fixture's outcomes, resolving application names
// against the database.
func (s *Service) prepare(ctx context.Context, f *fixture.Fixture) error {
	if _, err := s.db.ExecContext(ctx, codeMigrationSchema); err != nil {
		return fmt.Errorf("create the code migration schema: %w", err)
	}
	if err := s.prepareConfigurations(ctx, f); err != nil {
		return err
	}
	_, err := s.db.SeedOnce(ctx, "code_migration_fixture", f.Name, func(tx *sql.Tx) error {
		type outcome struct {
			errors        []Message
			publishErrors []string
		}
		outcomes := map[string]*outcome{}
		var order []string
		get := func(app string) (*outcome, error) {
			key, found, err := s.lifetime.ApplicationKeyByName(ctx, tx, app)
			if err != nil {
				return nil, err
			}
			if !found {
				return nil, fmt.Errorf("code migration fixture: the database has no application %q", app)
			}
			if outcomes[key] == nil {
				outcomes[key] = &outcome{errors: []Message{}, publishErrors: []string{}}
				order = append(order, key)
			}
			return outcomes[key], nil
		}
		for _, fl := range f.CodeMigration.Failures {
			o, err := get(fl.Application)
			if err != nil {
				return err
			}
			for _, e := range fl.Errors {
				o.errors = append(o.errors, Message(e))
			}
		}
		for _, pe := range f.CodeMigration.PublishErrors {
			o, err := get(pe.Application)
			if err != nil {
				return err
			}
			o.publishErrors = append(o.publishErrors, pe.Messages...)
		}
		for _, key := range order {
			errs, err := sqldb.MarshalJSON(outcomes[key].errors)
			if err != nil {
				return err
			}
			pubs, err := sqldb.MarshalJSON(outcomes[key].publishErrors)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO cm_fixture_outcomes (application_key, errors, publish_errors) VALUES (?, ?, ?)`,
				key, errs, pubs); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// --- wire types (camelCase, as in the contract) ---

// Message is an error or message of a migrated asset.
type Message struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// SourceVersion is an O11 application version a migration converted.
type SourceVersion struct {
	ApplicationKey string `json:"applicationKey"`
	VersionKey     string `json:"versionKey"`
	Version        string `json:"version"`
}

// MigratedAsset is an ODC asset a migration produced, as the contract
// shows it.
type MigratedAsset struct {
	MappingKey                string          `json:"mappingKey"`
	AssetKey                  string          `json:"assetKey"`
	Name                      string          `json:"name"`
	AssetType                 string          `json:"assetType"`
	Revision                  int             `json:"revision"`
	Status                    string          `json:"status"`
	ProducerAssetKeys         []string        `json:"producerAssetKeys"`
	PublishOrder              int             `json:"publishOrder"`
	PublishWave               int             `json:"publishWave"`
	SourceApplicationVersions []SourceVersion `json:"sourceApplicationVersions"`
	Errors                    []Message       `json:"errors"`
	Messages                  []Message       `json:"messages"`
}

// Migration is a code migration as the contract shows it.
type Migration struct {
	Key                  string          `json:"key"`
	SourceEnvironmentKey string          `json:"sourceEnvironmentKey"`
	MappingKeys          []string        `json:"mappingKeys"`
	Status               string          `json:"status"`
	StartedAt            time.Time       `json:"startedAt"`
	FinishedAt           *time.Time      `json:"finishedAt"`
	StartedBy            string          `json:"startedBy"`
	Assets               []MigratedAsset `json:"assets"`
}

// Migrated asset statuses.
const (
	AssetUnpublished = "Unpublished"
	AssetPublished   = "Published"
)

// --- rows ---

type migrationRow struct {
	key, sourceEnvKey, startedBy, status string
	startedAt, finishesAt                time.Time
	items                                []*itemRow // by position
}

type itemRow struct {
	migrationKey, mappingKey, name, assetType string
	position                                  int
	producerMappingKeys                       []string
	sourceVersions                            []SourceVersion
	errors, messages                          []Message
	publishErrors                             []string
	// set once finalised
	assetKey              string
	revision, order, wave int
	producerAssetKeys     []string
	finalised             bool
}

const migrationColumns = `key, source_environment_key, started_at, finishes_at, started_by, status`

func scanMigration(row interface{ Scan(...any) error }) (*migrationRow, error) {
	m := &migrationRow{}
	var started, finishes int64
	if err := row.Scan(&m.key, &m.sourceEnvKey, &started, &finishes, &m.startedBy, &m.status); err != nil {
		return nil, err
	}
	m.startedAt, m.finishesAt = fromNanos(started), fromNanos(finishes)
	return m, nil
}

const itemColumns = `migration_key, position, mapping_key, name, asset_type, producer_mapping_keys, source_versions, errors, messages,
	publish_errors, asset_key, revision, publish_order, publish_wave, producer_asset_keys`

func scanItem(rows *sql.Rows) (*itemRow, error) {
	it := &itemRow{}
	var producers, versions, errs, msgs, pubs string
	var assetKey, producerAssets sql.NullString
	var revision, order, wave sql.NullInt64
	if err := rows.Scan(&it.migrationKey, &it.position, &it.mappingKey, &it.name, &it.assetType, &producers, &versions, &errs, &msgs,
		&pubs, &assetKey, &revision, &order, &wave, &producerAssets); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		raw string
		v   any
	}{{producers, &it.producerMappingKeys}, {versions, &it.sourceVersions}, {errs, &it.errors}, {msgs, &it.messages}, {pubs, &it.publishErrors}} {
		if err := json.Unmarshal([]byte(f.raw), f.v); err != nil {
			return nil, fmt.Errorf("code migration %s, mapping %s: %w", it.migrationKey, it.mappingKey, err)
		}
	}
	if assetKey.Valid {
		it.finalised = true
		it.assetKey, it.revision, it.order, it.wave = assetKey.String, int(revision.Int64), int(order.Int64), int(wave.Int64)
		if err := json.Unmarshal([]byte(producerAssets.String), &it.producerAssetKeys); err != nil {
			return nil, fmt.Errorf("code migration %s, mapping %s: %w", it.migrationKey, it.mappingKey, err)
		}
	}
	return it, nil
}

// migrationKind selects migrations by how they were started.
type migrationKind int

const (
	kindAny    migrationKind = iota
	kindKit                  // through the kit's API (POST /code-migrations)
	kindPortal               // in the ODC portal (portal.go)
)

// kindFilters are the SQL conditions of the kinds on cm_migrations.
var kindFilters = map[migrationKind]string{
	kindAny:    ``,
	kindKit:    ` AND key NOT IN (SELECT key FROM cm_portal_migrations)`,
	kindPortal: ` AND key IN (SELECT key FROM cm_portal_migrations)`,
}

// loadMigrations loads migrations of a kind with their items, newest first:
// the one with key, or all (status filters them when not "").
func loadMigrations(ctx context.Context, tx *sql.Tx, key, status string, kind migrationKind) ([]*migrationRow, error) {
	var out []*migrationRow
	byKey := map[string]*migrationRow{}
	if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		m, err := scanMigration(rows)
		if err != nil {
			return err
		}
		out = append(out, m)
		byKey[m.key] = m
		return nil
	}, `SELECT `+migrationColumns+` FROM cm_migrations WHERE (?1 = '' OR key = ?1) AND (?2 = '' OR status = ?2)`+kindFilters[kind]+` ORDER BY seq DESC`,
		key, status); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		it, err := scanItem(rows)
		if err != nil {
			return err
		}
		if m := byKey[it.migrationKey]; m != nil {
			m.items = append(m.items, it)
		}
		return nil
	}, `SELECT `+itemColumns+` FROM cm_migration_items WHERE (?1 = '' OR migration_key = ?1) ORDER BY migration_key, position`, key)
	return out, err
}

// --- views ---

// view is the migration as the contract shows it. published holds the asset
// revisions published to some stage; nil means none.
func (m *migrationRow) view(published map[odc.RevisionRef]bool) Migration {
	v := Migration{
		Key: m.key, SourceEnvironmentKey: m.sourceEnvKey, MappingKeys: make([]string, len(m.items)), Status: m.status,
		StartedAt: m.startedAt, StartedBy: m.startedBy, Assets: []MigratedAsset{},
	}
	for i, it := range m.items {
		v.MappingKeys[i] = it.mappingKey
	}
	if m.status == StatusMigrating {
		return v
	}
	finished := m.finishesAt
	v.FinishedAt = &finished
	for _, it := range m.items {
		status := AssetUnpublished
		if _, ok := published[odc.RevisionRef{AssetKey: it.assetKey, Revision: it.revision}]; ok {
			status = AssetPublished
		}
		v.Assets = append(v.Assets, MigratedAsset{
			MappingKey: it.mappingKey, AssetKey: it.assetKey, Name: it.name, AssetType: it.assetType, Revision: it.revision,
			Status: status, ProducerAssetKeys: assessment.NonNil(it.producerAssetKeys), PublishOrder: it.order, PublishWave: it.wave,
			SourceApplicationVersions: assessment.NonNil(it.sourceVersions), Errors: assessment.NonNil(it.errors), Messages: assessment.NonNil(it.messages),
		})
	}
	slices.SortFunc(v.Assets, func(a, b MigratedAsset) int { return a.PublishOrder - b.PublishOrder })
	return v
}

// codeMigrations reads migrations (the one with key, or all, filtered by
// status), finalising first those due by now. cloudNow is the ODC clock,
// which decides what is published.
func (s *Service) codeMigrations(ctx context.Context, now, cloudNow time.Time, key, status string, kind migrationKind) ([]Migration, error) {
	if err := s.finalizeDueMigrations(ctx, now); err != nil {
		return nil, err
	}
	var out []Migration
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		rows, err := loadMigrations(ctx, tx, key, status, kind)
		if err != nil {
			return err
		}
		if key != "" && len(rows) == 0 {
			return &assessment.Problem{Status: http.StatusNotFound, Code: CodeMigrationNotFound,
				Detail: fmt.Sprintf("Code migration with key '%s' was not found.", key)}
		}
		var refs []odc.RevisionRef
		for _, m := range rows {
			for _, it := range m.items {
				refs = append(refs, odc.RevisionRef{AssetKey: it.assetKey, Revision: it.revision})
			}
		}
		published, err := s.odc.PublishedRevisions(ctx, tx, refs, cloudNow)
		if err != nil {
			return err
		}
		for _, m := range rows {
			out = append(out, m.view(published))
		}
		return nil
	})
	return out, err
}

// finishesAt returns when a migration is marked finished, and
// false when there is no such migration.
func (s *Service) finishesAt(ctx context.Context, key string) (time.Time, bool, error) {
	var finishes int64
	err := s.db.QueryRowContext(ctx, `SELECT finishes_at FROM cm_migrations WHERE key = ?`, key).Scan(&finishes)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return fromNanos(finishes), true, nil
}

// --- starting ---

// StartRequest is a checked POST /code-migrations body.
type StartRequest struct {
	SourceEnvironmentKey string
	MappingKeys          []string // lower case, no duplicates
}

// startCodeMigration runs the contract's checks in order and records a
// migration that finishes after duration.
func (s *Service) startCodeMigration(ctx context.Context, now time.Time, duration time.Duration, req StartRequest, startedBy string) (Migration, error) {
	var out Migration
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		// Migrations due by now are over: finalise them before checking
		// for migrations in progress.
		if err := s.finalizeDueMigrationsIn(ctx, tx, now); err != nil {
			return err
		}
		env, err := s.lifetime.EnvironmentByKey(ctx, tx, req.SourceEnvironmentKey)
		if errors.Is(err, httpx.ErrNotFound) {
			return &assessment.Problem{Status: http.StatusNotFound, Code: CodeEnvironmentNotFound, Detail: fmt.Sprintf(
				"LifeTime environment with key '%s' was not found: sourceEnvironmentKey must be the key of an environment of the O11 infrastructure.", req.SourceEnvironmentKey)}
		}
		if err != nil {
			return err
		}
		// Only the requested mappings: their applications, readiness
		// and producers.
		found, err := s.mappings.MigrationMappings(ctx, tx, req.MappingKeys, now)
		if err != nil {
			return err
		}
		mappings := make([]assessment.MigrationMapping, 0, len(req.MappingKeys))
		var unknown []string
		for _, k := range req.MappingKeys {
			if m, ok := found[k]; ok {
				mappings = append(mappings, m)
			} else {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			return &assessment.Problem{Status: http.StatusNotFound, Code: assessment.CodeMappingNotFound, Detail: fmt.Sprintf(
				"No mapping has the key(s) %s.", assessment.QuoteAll(unknown))}
		}
		if err := checkNoMigrationInProgress(ctx, tx, found, req.MappingKeys); err != nil {
			return err
		}
		if err := checkMappingsReady(mappings); err != nil {
			return err
		}
		items, err := s.migrationItems(ctx, tx, mappings, req.SourceEnvironmentKey, env.Name)
		if err != nil {
			return err
		}
		if err := s.checkNamesFree(ctx, tx, mappings); err != nil {
			return err
		}
		key := uuid.NewString()
		if _, err := tx.ExecContext(ctx, `INSERT INTO cm_migrations (`+migrationColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			key, req.SourceEnvironmentKey, nanos(now), nanos(now.Add(duration)), startedBy, StatusMigrating); err != nil {
			return err
		}
		for _, it := range items {
			it.migrationKey = key
			if err := insertItem(ctx, tx, it); err != nil {
				return err
			}
		}
		rows, err := loadMigrations(ctx, tx, key, "", kindAny)
		if err != nil {
			return err
		}
		out = rows[0].view(nil)
		return nil
	})
	return out, err
}

// checkNoMigrationInProgress answers MIGRATION_IN_PROGRESS when a mapping
// is in a migration still Migrating (finalizeDueMigrations ran first).
func checkNoMigrationInProgress(ctx context.Context, tx *sql.Tx, mappings map[string]assessment.MigrationMapping, mappingKeys []string) error {
	keys, err := sqldb.MarshalJSON(mappingKeys)
	if err != nil {
		return err
	}
	var busy []string
	first := ""
	err = sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var mappingKey, migrationKey string
		var started int64
		if err := rows.Scan(&mappingKey, &migrationKey, &started); err != nil {
			return err
		}
		if first == "" {
			first = migrationKey
		}
		busy = append(busy, fmt.Sprintf("mapping '%s' (key %s) is being migrated by code migration %s, started at %s",
			mappings[mappingKey].Name, mappingKey, migrationKey, sqldb.FormatTime(fromNanos(started))))
		return nil
	}, `SELECT i.mapping_key, m.key, m.started_at FROM cm_migration_items i JOIN cm_migrations m ON m.key = i.migration_key
		WHERE m.status = 'Migrating' AND i.mapping_key IN (SELECT value FROM json_each(?))
		ORDER BY m.seq, i.position`, keys)
	if err != nil || len(busy) == 0 {
		return err
	}
	return &problem{Problem: assessment.Problem{Status: http.StatusConflict, Code: CodeMigrationInProgress, Detail: "A code migration is in progress: " +
		strings.Join(busy, "; ") + ". Wait until it ends, or follow it (migrationKey) instead of starting another."}, migrationKey: first}
}

// checkNamesFree answers ASSET_NAME_TAKEN when a mapping's name is that
// of an ODC asset it cannot migrate into: one of another type, or another
// asset than the one an earlier migration of the mapping produced (a
// mapping renamed after it migrated). A migration never makes a second
// asset of one name; an asset of the mapping's name and type that no
// migration of it produced is migrated into (finalizeMigration).
func (s *Service) checkNamesFree(ctx context.Context, tx *sql.Tx, mappings []assessment.MigrationMapping) error {
	var taken []string
	for _, m := range mappings {
		t, err := s.nameTaken(ctx, tx, m.Key, m.Name, m.AssetType)
		if err != nil {
			return err
		}
		if t != "" {
			taken = append(taken, t)
		}
	}
	if len(taken) == 0 {
		return nil
	}
	return &assessment.Problem{Status: http.StatusConflict, Code: CodeAssetNameTaken, Detail: fmt.Sprintf(
		"A code migration never makes a second ODC asset of one name, and %s. Rename the mappings or those ODC assets, then migrate again.",
		strings.Join(taken, "; "))}
}

// nameTaken says why a mapping (or a previewed definition) cannot migrate
// under its name, "" when it can: checkNamesFree's rule for one mapping.
func (s *Service) nameTaken(ctx context.Context, tx *sql.Tx, key, name, assetType string) (string, error) {
	named, namedType, err := s.odc.AssetNamed(ctx, tx, name)
	if err != nil || named == "" {
		return "", err
	}
	earlier, err := earlierAssetOf(ctx, tx, key)
	if err != nil {
		return "", err
	}
	if namedType != assetType || (earlier != "" && earlier != named) {
		return fmt.Sprintf("'%s' (mapping %s, a %s) is the name of ODC %s %s", name, key, assetType, namedType, named), nil
	}
	return "", nil
}

// checkMappingsReady answers ASSETS_NOT_READY unless every mapping's status
// is ReadyForOdc or ChangeInOdc now.
func checkMappingsReady(mappings []assessment.MigrationMapping) error {
	var notReady, keys []string
	for _, m := range mappings {
		if migrationkit.Ready(m.Status) {
			continue
		}
		notReady = append(notReady, fmt.Sprintf("'%s' (key %s) is %s", m.Name, m.Key, m.Status))
		keys = append(keys, m.Key)
	}
	if len(notReady) == 0 {
		return nil
	}
	return &problem{Problem: assessment.Problem{Status: http.StatusConflict, Code: CodeAssetsNotReady, Detail: fmt.Sprintf(
		"Code migration needs every asset Ready for ODC (ReadyForOdc) or Change in ODC (ChangeInOdc), and %s. Fix the open findings in O11 and wait for the assessment (GET /readiness), then migrate again.",
		strings.Join(notReady, ", "))}, notReadyMappingKeys: keys}
}

// migrationItems snapshots what a migration converts: per mapping, its name,
// type and producers, and per application the version tagged in the source
// environment and what the fixture says about it. It answers
// APPLICATION_NOT_IN_ENVIRONMENT when an application has no version there.
func (s *Service) migrationItems(ctx context.Context, tx *sql.Tx, mappings []assessment.MigrationMapping, envKey, envName string) ([]*itemRow, error) {
	type appInEnv struct {
		version  SourceVersion
		modified bool
		found    bool
	}
	inEnv := map[string]appInEnv{}
	for _, m := range mappings {
		for _, app := range m.Apps {
			if _, done := inEnv[app.Key]; done {
				continue
			}
			v, err := s.lifetime.RunningVersionOf(ctx, tx, app.Key, envKey)
			switch {
			case errors.Is(err, httpx.ErrNotFound):
				inEnv[app.Key] = appInEnv{}
			case err != nil:
				return nil, err
			default:
				inEnv[app.Key] = appInEnv{version: SourceVersion{ApplicationKey: app.Key, VersionKey: v.VersionKey, Version: v.Version},
					modified: v.IsModified, found: true}
			}
		}
	}
	type outcome struct {
		errors        []Message
		publishErrors []string
	}
	outcomes := map[string]outcome{}
	if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var key, errs, pubs string
		if err := rows.Scan(&key, &errs, &pubs); err != nil {
			return err
		}
		var o outcome
		if err := json.Unmarshal([]byte(errs), &o.errors); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(pubs), &o.publishErrors); err != nil {
			return err
		}
		outcomes[key] = o
		return nil
	}, `SELECT application_key, errors, publish_errors FROM cm_fixture_outcomes`); err != nil {
		return nil, err
	}
	var missing []string
	items := make([]*itemRow, 0, len(mappings))
	for i, m := range mappings {
		it := &itemRow{
			mappingKey: m.Key, position: i, name: m.Name, assetType: m.AssetType,
			producerMappingKeys: assessment.NonNil(m.Producers), sourceVersions: []SourceVersion{},
			errors: []Message{}, messages: []Message{}, publishErrors: []string{},
		}
		for _, app := range m.Apps {
			appKey := app.Key
			a := inEnv[appKey]
			if !a.found {
				missing = append(missing, fmt.Sprintf("%s of mapping '%s'", app.Label(), m.Name))
				continue
			}
			it.sourceVersions = append(it.sourceVersions, a.version)
			if a.modified {
				it.messages = append(it.messages, Message{Code: CodeUntaggedChanges, Message: fmt.Sprintf(
					"O11 application '%s' changed in environment '%s' after its last tag: the migration converted the tagged version %s, not the changes since. Tag the application and migrate again to bring them.",
					app.Name, envName, a.version.Version)})
			}
			o := outcomes[appKey]
			it.errors = append(it.errors, o.errors...)
			for _, pe := range o.publishErrors {
				it.publishErrors = append(it.publishErrors, pe)
				it.messages = append(it.messages, Message{Code: CodeTrueChangeError, Message: fmt.Sprintf(
					"TrueChange error from O11 application '%s' to fix in ODC Studio before publishing: %s", app.Name, pe)})
			}
		}
		items = append(items, it)
	}
	if len(missing) > 0 {
		return nil, &assessment.Problem{Status: http.StatusConflict, Code: CodeApplicationNotInEnvironment, Detail: fmt.Sprintf(
			"Code migration converts the latest tagged version of each application in the source environment '%s', and O11 application %s %s no version there. Deploy and tag %s there, or migrate from another environment.",
			envName, strings.Join(missing, ", O11 application "), assessment.Plural(len(missing), "has", "have"), assessment.Plural(len(missing), "it", "them"))}
	}
	return items, nil
}

func insertItem(ctx context.Context, tx *sql.Tx, it *itemRow) error {
	var values []any
	for _, v := range []any{it.producerMappingKeys, it.sourceVersions, it.errors, it.messages, it.publishErrors} {
		s, err := sqldb.MarshalJSON(v)
		if err != nil {
			return err
		}
		values = append(values, s)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO cm_migration_items (migration_key, position, mapping_key, name, asset_type,
		producer_mapping_keys, source_versions, errors, messages, publish_errors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append([]any{it.migrationKey, it.position, it.mappingKey, it.name, it.assetType}, values...)...)
	return err
}

// --- finishing ---

// finalizeDueMigrations finalises the migrations due by now. It looks
// first in a read transaction, so reads take the write lock only when there
// is something to finalise.
func (s *Service) finalizeDueMigrations(ctx context.Context, now time.Time) error {
	var due int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM cm_migrations WHERE status = 'Migrating' AND finishes_at <= ?`,
		nanos(now)).Scan(&due); err != nil {
		return err
	}
	if due == 0 {
		return nil
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error { return s.finalizeDueMigrationsIn(ctx, tx, now) })
}

// finalizeDueMigrationsIn finalises, in the caller's write transaction and
// oldest first, every migration still Migrating whose time is up. Writes
// are serialised and the status is read inside the transaction, so two
// readers never finalise a migration twice.
func (s *Service) finalizeDueMigrationsIn(ctx context.Context, tx *sql.Tx, now time.Time) error {
	var keys []string
	if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var k string
		err := rows.Scan(&k)
		keys = append(keys, k)
		return err
	}, `SELECT key FROM cm_migrations WHERE status = 'Migrating' AND finishes_at <= ? ORDER BY seq`, nanos(now)); err != nil {
		return err
	}
	for _, k := range keys {
		rows, err := loadMigrations(ctx, tx, k, "", kindAny)
		if err != nil {
			return err
		}
		if err := s.finalizeMigration(ctx, tx, rows[0]); err != nil {
			return fmt.Errorf("finalise code migration %s: %w", k, err)
		}
	}
	return nil
}

// finalizeMigration creates the ODC asset revisions of a migration in
// publish order and records its outcome.
func (s *Service) finalizeMigration(ctx context.Context, tx *sql.Tx, m *migrationRow) error {
	planPublishOrder(m.items)
	ordered := slices.Clone(m.items)
	slices.SortFunc(ordered, func(a, b *itemRow) int { return a.order - b.order })
	assetOf := map[string]string{} // mapping key -> asset key, in this migration
	status := StatusFinished
	for _, it := range ordered {
		assetKey, err := earlierAssetOf(ctx, tx, it.mappingKey)
		if err != nil {
			return err
		}
		// A code migration never makes a second ODC asset of one name. With
		// no earlier migration of this mapping (its record is gone, or the
		// mapping was created again), the asset of that name is migrated
		// into as a new revision; a mapping whose name is another asset's
		// (of another type, or renamed after it migrated) fails to convert.
		named, namedType, err := s.odc.AssetNamed(ctx, tx, it.name)
		if err != nil {
			return err
		}
		switch {
		case named != "" && (namedType != it.assetType || (assetKey != "" && assetKey != named)):
			// checkNamesFree refused this at the start; an asset of the name
			// appeared while migrating: its conversion fails, and its
			// revision goes to the mapping's own asset, or to a new asset
			// named apart.
			it.errors = append(it.errors, Message{Code: CodeAssetNameTaken, Message: fmt.Sprintf(
				"ODC got another asset named '%s' (a %s, key %s) while migrating: a migration never makes a second asset of one name. Rename the mapping or that ODC asset, then migrate again.",
				it.name, namedType, named)})
			if assetKey == "" {
				assetKey = uuid.NewString()
				it.name += " (" + assetKey[:8] + ")"
			}
		case assetKey == "" && named != "":
			assetKey = named
		case assetKey == "":
			assetKey = uuid.NewString()
		}
		var producers []string
		it.producerAssetKeys = []string{}
		for _, p := range it.producerMappingKeys {
			if a, ok := assetOf[p]; ok {
				producers = append(producers, a)
				it.producerAssetKeys = append(it.producerAssetKeys, a)
				continue
			}
			if slices.ContainsFunc(m.items, func(o *itemRow) bool { return o.mappingKey == p }) {
				continue // a producer in this migration whose edge planPublishOrder broke
			}
			earlier, err := earlierAssetOf(ctx, tx, p)
			if err != nil {
				return err
			}
			if earlier != "" {
				producers = append(producers, earlier)
				continue
			}
			it.messages = append(it.messages, Message{Code: CodeProducerNotMigrated, Message: fmt.Sprintf(
				"'%s' consumes %s, which no code migration has produced an asset for yet: migrate it, then use Check for dependency updates in ODC Studio.",
				it.name, s.mappingLabel(ctx, tx, p))})
		}
		slices.Sort(it.producerAssetKeys)
		config, err := configurationOf(ctx, tx, it)
		if err != nil {
			return err
		}
		asset := odc.MigratedAsset{Key: assetKey, Name: it.name, AssetType: it.assetType, Producers: producers, PublishErrors: it.revisionPublishErrors(), Configuration: config}
		revision, err := s.odc.RecordMigratedAsset(ctx, tx, asset, m.finishesAt)
		if errors.Is(err, httpx.ErrInvalid) {
			// ODC refuses the dependencies (a library consuming an app, a
			// cycle through earlier revisions): the conversion of this
			// asset fails, and its revision consumes nothing.
			it.errors = append(it.errors, Message{Code: CodeDependencyNotConverted, Message: err.Error()})
			it.producerAssetKeys = []string{}
			asset.Producers, asset.PublishErrors = nil, it.revisionPublishErrors()
			revision, err = s.odc.RecordMigratedAsset(ctx, tx, asset, m.finishesAt)
		}
		if err != nil {
			return err
		}
		it.assetKey, it.revision = assetKey, revision
		assetOf[it.mappingKey] = assetKey
		if len(it.errors) > 0 {
			status = StatusFinishedWithErrors
		}
		if err := updateItem(ctx, tx, it); err != nil {
			return err
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE cm_migrations SET status = ? WHERE key = ? AND status = 'Migrating'`, status, m.key)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return cmp.Or(err, fmt.Errorf("code migration %s was finalised twice", m.key))
	}
	return nil
}

// revisionPublishErrors are the errors every publish of the produced
// revision fails with: the TrueChange errors, and for a failed conversion
// its errors, as such a revision cannot be opened nor published.
func (it *itemRow) revisionPublishErrors() []string {
	out := slices.Clone(it.publishErrors)
	for _, e := range it.errors {
		out = append(out, fmt.Sprintf("The code migration of this asset failed (%s): %s", e.Code, e.Message))
	}
	return out
}

// earlierAssetOf returns the asset an earlier code migration produced for a
// mapping, the latest one, or "" when there is none.
func earlierAssetOf(ctx context.Context, tx *sql.Tx, mappingKey string) (string, error) {
	var key string
	err := tx.QueryRowContext(ctx, `SELECT i.asset_key FROM cm_migration_items i JOIN cm_migrations m ON m.key = i.migration_key
		WHERE i.mapping_key = ? AND i.asset_key IS NOT NULL ORDER BY m.seq DESC LIMIT 1`, mappingKey).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return key, err
}

// mappingLabel names a mapping by name and key, or by key once deleted.
func (s *Service) mappingLabel(ctx context.Context, tx *sql.Tx, key string) string {
	name, ok, err := s.mappings.MappingName(ctx, tx, key)
	if err != nil || !ok {
		return "mapping " + key
	}
	return fmt.Sprintf("mapping '%s' (key %s)", name, key)
}

func updateItem(ctx context.Context, tx *sql.Tx, it *itemRow) error {
	var values []any
	for _, v := range []any{it.errors, it.messages, it.producerAssetKeys} {
		s, err := sqldb.MarshalJSON(v)
		if err != nil {
			return err
		}
		values = append(values, s)
	}
	_, err := tx.ExecContext(ctx, `UPDATE cm_migration_items SET errors = ?, messages = ?, producer_asset_keys = ?,
		asset_key = ?, revision = ?, publish_order = ?, publish_wave = ? WHERE migration_key = ? AND mapping_key = ?`,
		append(values, it.assetKey, it.revision, it.order, it.wave, it.migrationKey, it.mappingKey)...)
	return err
}

// planPublishOrder sets the publish wave and order of a migration's items
// (migrationkit.PlanPublishOrder). A cycle between mappings, which ODC
// cannot have, is broken at the item first by name: it loses its producers
// left in the cycle, with an error.
func planPublishOrder(items []*itemRow) {
	assets := make([]migrationkit.Asset, len(items))
	names := make(map[string]string, len(items))
	for i, it := range items {
		assets[i] = migrationkit.Asset{Key: it.mappingKey, Name: it.name, Producers: it.producerMappingKeys}
		names[it.mappingKey] = it.name
	}
	for i, p := range migrationkit.PlanPublishOrder(assets) {
		it := items[i]
		it.wave, it.order = p.Wave, p.Order
		if len(p.Dropped) == 0 {
			continue
		}
		dropped := make([]string, len(p.Dropped))
		for j, k := range p.Dropped {
			dropped[j] = fmt.Sprintf("'%s'", names[k])
		}
		it.errors = append(it.errors, Message{Code: CodeDependencyNotConverted, Message: fmt.Sprintf(
			"'%s' and %s depend on each other, and ODC assets cannot: the references of '%s' to %s were not converted. Break the cycle in O11 and migrate again.",
			it.name, strings.Join(dropped, ", "), it.name, strings.Join(dropped, ", "))})
	}
}

// --- mappings in use ---

// CheckMappingNotMigrating answers MAPPING_IN_USE when a code migration
// still Migrating at now holds the mapping, for DELETE /mappings/{key}.
func CheckMappingNotMigrating(ctx context.Context, tx *sql.Tx, mappingKey string, now time.Time) error {
	var migrationKey string
	err := tx.QueryRowContext(ctx, `SELECT m.key FROM cm_migration_items i JOIN cm_migrations m ON m.key = i.migration_key
		WHERE i.mapping_key = ? AND m.status = 'Migrating' AND m.finishes_at > ? ORDER BY m.seq LIMIT 1`, mappingKey, nanos(now)).Scan(&migrationKey)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return &assessment.Problem{Status: http.StatusConflict, Code: CodeMappingInUse, Detail: fmt.Sprintf(
		"Mapping '%s' is being migrated by code migration %s: delete it once the migration has ended.", mappingKey, migrationKey)}
}
