package assessment

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
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/migrationkit"
)

// The Migration Kit assessment tool's state lives in the same database as
// LifeTime's, in tables prefixed ma_. Applications and modules are
// LifeTime's; the tool adds its findings per module, the mappings of
// applications to ODC assets and the assessments of each mapping. An
// assessment's progress is computed from its timestamps when read, so no
// background work is needed and a restart changes nothing.
const schema = `
CREATE TABLE IF NOT EXISTS ma_findings (
	key             TEXT PRIMARY KEY,
	application_key TEXT NOT NULL REFERENCES lt_applications (key),
	module_key      TEXT NOT NULL REFERENCES lt_modules (key),
	code_pattern    TEXT NOT NULL,
	category        TEXT NOT NULL,
	pattern_class   TEXT NOT NULL CHECK (pattern_class IN ('FixInO11', 'FixInOdc', 'Optional', 'NotYetSupported')),
	where_to_fix    TEXT NOT NULL CHECK (where_to_fix IN ('O11', 'ODC')),
	count           INTEGER NOT NULL CHECK (count > 0),
	message         TEXT NOT NULL,
	fixed_at        TEXT, -- NULL while the finding is open
	UNIQUE (module_key, code_pattern)
);
CREATE TABLE IF NOT EXISTS ma_mappings (
	key         TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
	asset_type  TEXT NOT NULL CHECK (asset_type IN ('WebApplication', 'MobileApplication', 'LowCodeLibrary')),
	description TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ma_mapping_apps (
	application_key TEXT PRIMARY KEY REFERENCES lt_applications (key), -- an app is in at most one mapping
	mapping_key     TEXT NOT NULL REFERENCES ma_mappings (key) ON DELETE CASCADE,
	position        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ma_mapping_apps_mapping ON ma_mapping_apps (mapping_key, position);
CREATE TABLE IF NOT EXISTS ma_assessments (
	id               INTEGER PRIMARY KEY,
	key              TEXT NOT NULL UNIQUE,
	mapping_key      TEXT NOT NULL REFERENCES ma_mappings (key) ON DELETE CASCADE,
	application_keys TEXT NOT NULL, -- JSON array: the applications assessed
	queued_at        TEXT NOT NULL,
	duration_ns      INTEGER NOT NULL -- Running after half of it, Finished after all of it
);
CREATE INDEX IF NOT EXISTS ma_assessments_mapping ON ma_assessments (mapping_key, id);
`

// Mapping statuses, asset types and assessment statuses of the contract.
const (
	mappingAssessing   = migrationkit.StatusAssessing
	mappingReadyForOdc = migrationkit.StatusReadyForOdc
	mappingChangeInOdc = migrationkit.StatusChangeInOdc
	mappingNotReady    = migrationkit.StatusNotReady

	StatusQueued   = "Queued"
	StatusRunning  = "Running"
	StatusFinished = "Finished"
)

var assetTypes = migrationkit.AssetTypes

// prepare creates the assessment tables and, once per database, loads the
// fixture's findings, resolving application and module names through
// LifeTime (the database may have been seeded before this version).
func (svc *Service) prepare(ctx context.Context, f *fixture.Fixture) error {
	if _, err := svc.db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create the assessment schema: %w", err)
	}
	_, err := svc.db.SeedOnce(ctx, "assessment_fixture", f.Name, func(tx *sql.Tx) error {
		apps, err := svc.lt.PortfolioApps(ctx, tx)
		if err != nil {
			return err
		}
		type names struct{ app, module string }
		keys := map[names][2]string{}
		for _, a := range apps {
			for _, m := range a.Modules {
				keys[names{a.Name, m.Name}] = [2]string{a.Key, m.Key}
			}
		}
		for _, fd := range f.Assessment.Findings {
			k, ok := keys[names{fd.Application, fd.Module}]
			if !ok {
				return fmt.Errorf("assessment finding %q: the database has no application %q with module %q", fd.CodePattern, fd.Application, fd.Module)
			}
			appKey, moduleKey := k[0], k[1]
			if _, err := tx.ExecContext(ctx, `INSERT INTO ma_findings (key, application_key, module_key, code_pattern, category,
				pattern_class, where_to_fix, count, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				DeriveFindingKey(appKey, moduleKey, fd.CodePattern), appKey, moduleKey, fd.CodePattern, fd.Category,
				fd.PatternClass, fd.WhereToFix, fd.Count, fd.Message); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// DeriveFindingKey is the stable key of a finding: one code pattern in one
// module of one application.
func DeriveFindingKey(appKey, moduleKey, codePattern string) string {
	return sqldb.DerivedKey("assessment-finding", appKey, moduleKey, codePattern)
}

// --- rows ---

type moduleRow struct{ key, name, typ string }

type appRow struct {
	key, name, kind string
	modules         []moduleRow
}

// libraryOnly reports whether every module is a Library.
func (a *appRow) libraryOnly() bool {
	types := make([]string, len(a.modules))
	for i, m := range a.modules {
		types[i] = m.typ
	}
	return migrationkit.LibraryOnly(types)
}

// extensions returns the names of the application's Extension modules.
func (a *appRow) extensions() []string {
	var names []string
	for _, m := range a.modules {
		if m.typ == migrationkit.ModuleTypeExtension {
			names = append(names, m.name)
		}
	}
	return names
}

// label names an application by name and key, as rule errors do.
func (a *appRow) label() string { return fmt.Sprintf("'%s' (key %s)", a.name, a.key) }

type mappingRow struct {
	key, name, assetType, description string
	appKeys                           []string
	createdAt, updatedAt              time.Time
}

type assessmentRow struct {
	key, mappingKey string
	appKeys         []string
	queuedAt        time.Time
	duration        time.Duration
}

func (a *assessmentRow) startedAt() time.Time  { return a.queuedAt.Add(a.duration / 2) }
func (a *assessmentRow) finishedAt() time.Time { return a.queuedAt.Add(a.duration) }

type findingRow struct {
	key, appKey, moduleKey, moduleName  string
	codePattern, category, patternClass string
	whereToFix, message                 string
	count                               int
	fixedAt                             time.Time // zero while open
}

// openAt reports whether the finding was open just before t: an
// assessment finishing at t sees the fixes made before t, so a fix made once
// it is seen finished cannot change its result.
func (f *findingRow) openAt(t time.Time) bool { return f.fixedAt.IsZero() || !f.fixedAt.Before(t) }

// --- targeted reads, in the caller's transaction ---

// keyFilter is the argument of a "?N IS NULL OR x IN (SELECT value FROM
// json_each(?N))" filter: NULL for nil keys (no filter), else the keys as a
// JSON array.
func keyFilter(keys []string) (any, error) {
	if keys == nil {
		return nil, nil
	}
	return sqldb.MarshalJSON(keys)
}

// loadApps reads, through LifeTime, the applications the tool sees
// (system applications are not), with their modules: those with the given
// keys, or all for nil. It returns them by key and by name.
func (svc *Service) loadApps(ctx context.Context, tx *sql.Tx, keys []string) (map[string]*appRow, []*appRow, error) {
	byKey := map[string]*appRow{}
	var order []*appRow
	if keys != nil && len(keys) == 0 {
		return byKey, order, nil
	}
	apps, err := svc.lt.PortfolioApps(ctx, tx, keys...)
	if err != nil {
		return nil, nil, err
	}
	for _, a := range apps {
		if a.IsSystem {
			continue
		}
		row := &appRow{key: a.Key, name: a.Name, kind: a.Kind}
		for _, m := range a.Modules {
			row.modules = append(row.modules, moduleRow{key: m.Key, name: m.Name, typ: m.Type})
		}
		byKey[row.key] = row
		order = append(order, row)
	}
	return byKey, order, nil
}

// holder is the mapping holding an application.
type holder struct{ key, name string }

// appHolders returns the mappings holding the given applications (all for
// nil), by application key.
func (svc *Service) appHolders(ctx context.Context, tx *sql.Tx, appKeys []string) (map[string]holder, error) {
	filter, err := keyFilter(appKeys)
	if err != nil {
		return nil, err
	}
	out := map[string]holder{}
	err = sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var appKey string
		var h holder
		err := rows.Scan(&appKey, &h.key, &h.name)
		out[appKey] = h
		return err
	}, `SELECT ma.application_key, m.key, m.name FROM ma_mapping_apps ma JOIN ma_mappings m ON m.key = ma.mapping_key
		WHERE ?1 IS NULL OR ma.application_key IN (SELECT value FROM json_each(?1))`, filter)
	return out, err
}

// loadFindings reads the findings of the given applications (all for nil),
// by application name, module position and code pattern; names and
// positions come from LifeTime.
func (svc *Service) loadFindings(ctx context.Context, tx *sql.Tx, appKeys []string) ([]*findingRow, error) {
	filter, err := keyFilter(appKeys)
	if err != nil {
		return nil, err
	}
	var out []*findingRow
	err = sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		f := &findingRow{}
		var fixed sql.NullString
		if err := rows.Scan(&f.key, &f.appKey, &f.moduleKey, &f.codePattern, &f.category, &f.patternClass,
			&f.whereToFix, &f.count, &f.message, &fixed); err != nil {
			return err
		}
		if fixed.Valid {
			var err error
			if f.fixedAt, err = sqldb.ParseTime(fixed.String); err != nil {
				return err
			}
		}
		out = append(out, f)
		return nil
	}, `SELECT key, application_key, module_key, code_pattern, category, pattern_class, where_to_fix, count, message, fixed_at
		FROM ma_findings WHERE ?1 IS NULL OR application_key IN (SELECT value FROM json_each(?1))`, filter)
	if err != nil || len(out) == 0 {
		return out, err
	}
	var keys []string
	for _, f := range out {
		if !slices.Contains(keys, f.appKey) {
			keys = append(keys, f.appKey)
		}
	}
	apps, err := svc.lt.PortfolioApps(ctx, tx, keys...)
	if err != nil {
		return nil, err
	}
	type place struct {
		app      string
		position int
	}
	where := map[string]place{} // module key -> its application's name and its position there
	for _, a := range apps {
		for i, m := range a.Modules {
			where[m.Key] = place{a.Name, i}
			for _, f := range out {
				if f.moduleKey == m.Key {
					f.moduleName = m.Name
				}
			}
		}
	}
	out = slices.DeleteFunc(out, func(f *findingRow) bool { _, ok := where[f.moduleKey]; return !ok })
	slices.SortFunc(out, func(a, b *findingRow) int {
		pa, pb := where[a.moduleKey], where[b.moduleKey]
		return cmp.Or(strings.Compare(pa.app, pb.app), pa.position-pb.position, strings.Compare(a.codePattern, b.codePattern))
	})
	return out, nil
}

// assessmentState is the part of the tool's state one request needs: some
// mappings (or all) with their applications, latest assessments, the
// findings of those applications and the mappings they produce for or
// consume from.
type assessmentState struct {
	apps       map[string]*appRow // by key: the applications of the mappings and assessments loaded
	mappings   map[string]*mappingRow
	order      []*mappingRow     // by name, ignoring case
	appMapping map[string]string // application key -> mapping key, for the applications loaded
	latest     map[string]*assessmentRow
	findings   []*findingRow // of the applications loaded, by application name, module position, code pattern
	producers  map[string][]string
	consumers  map[string][]string
}

// loadMappings reads the mappings with the given keys (all for nil; unknown
// keys are left out) and what their views need, in a fixed number of
// statements.
func (svc *Service) loadMappings(ctx context.Context, tx *sql.Tx, keys []string) (*assessmentState, error) {
	s := &assessmentState{
		mappings: map[string]*mappingRow{}, appMapping: map[string]string{},
		latest: map[string]*assessmentRow{}, producers: map[string][]string{}, consumers: map[string][]string{},
	}
	filter, err := keyFilter(keys)
	if err != nil {
		return nil, err
	}
	if keys == nil || len(keys) > 0 {
		if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			m := &mappingRow{}
			var created, updated string
			if err := rows.Scan(&m.key, &m.name, &m.assetType, &m.description, &created, &updated); err != nil {
				return err
			}
			var err error
			if m.createdAt, err = sqldb.ParseTime(created); err != nil {
				return err
			}
			if m.updatedAt, err = sqldb.ParseTime(updated); err != nil {
				return err
			}
			s.mappings[m.key] = m
			s.order = append(s.order, m)
			return nil
		}, `SELECT key, name, asset_type, description, created_at, updated_at FROM ma_mappings
			WHERE ?1 IS NULL OR key IN (SELECT value FROM json_each(?1)) ORDER BY name COLLATE NOCASE, key`, filter); err != nil {
			return nil, err
		}
	}
	var appKeys []string
	if len(s.order) > 0 {
		if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var mappingKey, appKey string
			if err := rows.Scan(&mappingKey, &appKey); err != nil {
				return err
			}
			s.mappings[mappingKey].appKeys = append(s.mappings[mappingKey].appKeys, appKey)
			s.appMapping[appKey] = mappingKey
			appKeys = append(appKeys, appKey)
			return nil
		}, `SELECT mapping_key, application_key FROM ma_mapping_apps
			WHERE ?1 IS NULL OR mapping_key IN (SELECT value FROM json_each(?1)) ORDER BY mapping_key, position`, filter); err != nil {
			return nil, err
		}
		if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			a, err := scanAssessment(rows)
			s.latest[a.mappingKey] = a
			return err
		}, `SELECT `+assessmentColumns+` FROM ma_assessments a
			WHERE id = (SELECT max(id) FROM ma_assessments WHERE mapping_key = a.mapping_key)
			AND (?1 IS NULL OR mapping_key IN (SELECT value FROM json_each(?1)))`, filter); err != nil {
			return nil, err
		}
		if err := svc.loadEdges(ctx, tx, s); err != nil {
			return nil, err
		}
	}
	// The applications of the latest assessments are the mappings' (a
	// new set of applications queues an assessment).
	if keys != nil && len(appKeys) == 0 {
		s.apps = map[string]*appRow{}
		return s, nil
	}
	if keys == nil {
		appKeys = nil // every application: cheaper than a long filter
	}
	if s.apps, _, err = svc.loadApps(ctx, tx, appKeys); err != nil {
		return nil, err
	}
	if s.findings, err = svc.loadFindings(ctx, tx, appKeys); err != nil {
		return nil, err
	}
	return s, nil
}

// loadEdges reads which of the mappings loaded consume which others, and
// which others consume them: mapping A consumes mapping B when a module of
// A's applications references a module of B's (LifeTime knows the
// references). Each list is by name, ignoring case, as the mappings are.
func (svc *Service) loadEdges(ctx context.Context, tx *sql.Tx, s *assessmentState) error {
	holders, err := svc.appHolders(ctx, tx, nil)
	if err != nil || len(holders) == 0 {
		return err
	}
	mapped := make([]string, 0, len(holders))
	for k := range holders {
		mapped = append(mapped, k)
	}
	apps, err := svc.lt.PortfolioApps(ctx, tx, mapped...)
	if err != nil {
		return err
	}
	mappingOf := map[string]holder{} // module key -> the mapping holding its application
	for _, a := range apps {
		for _, m := range a.Modules {
			mappingOf[m.Key] = holders[a.Key]
		}
	}
	refs, err := svc.lt.ModuleReferences(ctx, tx)
	if err != nil {
		return err
	}
	type edge struct{ consumer, producer holder }
	seen := map[edge]bool{}
	producers, consumers := map[string][]holder{}, map[string][]holder{}
	for _, r := range refs {
		c, cok := mappingOf[r.ConsumerKey]
		p, pok := mappingOf[r.ProducerKey]
		if !cok || !pok || c.key == p.key || seen[edge{c, p}] {
			continue
		}
		seen[edge{c, p}] = true
		if _, ok := s.mappings[c.key]; ok {
			producers[c.key] = append(producers[c.key], p)
		}
		if _, ok := s.mappings[p.key]; ok {
			consumers[p.key] = append(consumers[p.key], c)
		}
	}
	sorted := func(ends []holder) []string {
		slices.SortFunc(ends, func(a, b holder) int { return cmp.Or(compareNoCase(a.name, b.name), strings.Compare(a.key, b.key)) })
		keys := make([]string, len(ends))
		for i, e := range ends {
			keys[i] = e.key
		}
		return keys
	}
	for k, ends := range producers {
		s.producers[k] = sorted(ends)
	}
	for k, ends := range consumers {
		s.consumers[k] = sorted(ends)
	}
	return nil
}

// compareNoCase compares as SQLite's NOCASE collation does: ASCII letters
// ignoring case, everything else byte by byte.
func compareNoCase(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if ca, cb := lowerASCII(a[i]), lowerASCII(b[i]); ca != cb {
			return cmp.Compare(ca, cb)
		}
	}
	return cmp.Compare(len(a), len(b))
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

const assessmentColumns = `key, mapping_key, application_keys, queued_at, duration_ns`

func scanAssessment(rows interface{ Scan(...any) error }) (*assessmentRow, error) {
	a := &assessmentRow{}
	var appKeys, queued string
	var duration int64
	if err := rows.Scan(&a.key, &a.mappingKey, &appKeys, &queued, &duration); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(appKeys), &a.appKeys); err != nil {
		return nil, fmt.Errorf("assessment %s: application keys: %w", a.key, err)
	}
	var err error
	a.queuedAt, err = sqldb.ParseTime(queued)
	a.duration = time.Duration(duration)
	return a, err
}

// result is the mapping status a finished assessment produced, from the
// findings of its applications that were open when it finished.
func (s *assessmentState) result(a *assessmentRow) string {
	end := a.finishedAt()
	blocking, changes := false, false
	for _, f := range s.findings {
		if !slices.Contains(a.appKeys, f.appKey) || !f.openAt(end) {
			continue
		}
		switch f.patternClass {
		case fixture.PatternFixInO11, fixture.PatternNotYetSupported:
			blocking = true
		case fixture.PatternFixInOdc:
			changes = true
		}
	}
	switch {
	case blocking:
		return mappingNotReady
	case changes:
		return mappingChangeInOdc
	}
	return mappingReadyForOdc
}

func (s *assessmentState) assessmentView(a *assessmentRow, now time.Time) Assessment {
	v := Assessment{Key: a.key, MappingKey: a.mappingKey, Status: StatusQueued, QueuedAt: a.queuedAt.UTC()}
	if started := a.startedAt(); !now.Before(started) {
		v.Status = StatusRunning
		v.StartedAt = ptr(started.UTC())
	}
	if finished := a.finishedAt(); !now.Before(finished) {
		v.Status = StatusFinished
		v.FinishedAt = ptr(finished.UTC())
		v.Result = ptr(s.result(a))
	}
	return v
}

func ptr[T any](v T) *T { return &v }

// status is the mapping's status now: Assessing until its latest assessment
// finishes, then that assessment's result.
func (s *assessmentState) status(m *mappingRow, now time.Time) string {
	a := s.latest[m.key]
	if now.Before(a.finishedAt()) {
		return mappingAssessing
	}
	return s.result(a)
}

func (s *assessmentState) moduleCount(appKeys []string) int {
	n := 0
	for _, k := range appKeys {
		n += len(s.apps[k].modules)
	}
	return n
}

func (s *assessmentState) mappingView(m *mappingRow, now time.Time) Mapping {
	return Mapping{
		Key: m.key, Name: m.name, AssetType: m.assetType, Description: m.description,
		ApplicationKeys: NonNil(m.appKeys), ModuleCount: s.moduleCount(m.appKeys), Status: s.status(m, now),
		LatestAssessmentKey: s.latest[m.key].key,
		ProducerMappingKeys: NonNil(s.producers[m.key]), ConsumerMappingKeys: NonNil(s.consumers[m.key]),
		CreatedAt: m.createdAt.UTC(), UpdatedAt: m.updatedAt.UTC(),
	}
}

// NonNil returns s, or an empty slice for nil (JSON [] rather than null).
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func applicationView(a *appRow, holders map[string]holder) O11Application {
	v := O11Application{
		Key: a.key, Name: a.name, Kind: a.kind, IsLibraryOnly: a.libraryOnly(), HasExtensions: len(a.extensions()) > 0,
		ModuleCount: len(a.modules), Modules: make([]O11Module, len(a.modules)),
	}
	for i, m := range a.modules {
		v.Modules[i] = O11Module{Key: m.key, Name: m.name, Type: m.typ}
	}
	if h, ok := holders[a.key]; ok {
		v.MappingKey = &h.key
	}
	return v
}

func (s *assessmentState) findingView(f *findingRow) Finding {
	status := "Open"
	if !f.fixedAt.IsZero() {
		status = "Fixed"
	}
	return Finding{
		Key: f.key, MappingKey: s.appMapping[f.appKey], ApplicationKey: f.appKey, ApplicationName: s.apps[f.appKey].name,
		ModuleKey: f.moduleKey, ModuleName: f.moduleName, CodePattern: f.codePattern, Category: f.category,
		PatternClass: f.patternClass, WhereToFix: f.whereToFix, Count: f.count, Message: f.message, Status: status,
	}
}

// mappingFindings returns the findings of a mapping's applications.
func (s *assessmentState) mappingFindings(m *mappingRow, openOnly bool) []Finding {
	out := []Finding{}
	for _, f := range s.findings {
		if s.appMapping[f.appKey] == m.key && (!openOnly || f.fixedAt.IsZero()) {
			out = append(out, s.findingView(f))
		}
	}
	return out
}

func (s *assessmentState) mapping(key string) (*mappingRow, error) {
	m, ok := s.mappings[key]
	if !ok {
		return nil, mappingNotFound(key)
	}
	return m, nil
}

// readMappings runs a read transaction over the mappings with the given
// keys (all for nil).
func (svc *Service) readMappings(ctx context.Context, keys []string, fn func(s *assessmentState) error) error {
	return svc.db.Read(ctx, func(tx *sql.Tx) error {
		s, err := svc.loadMappings(ctx, tx, keys)
		if err != nil {
			return err
		}
		return fn(s)
	})
}

// --- reads ---

// o11Applications lists the applications the tool sees, or just one.
func (svc *Service) o11Applications(ctx context.Context, appKey string) ([]O11Application, error) {
	var out []O11Application
	err := svc.db.Read(ctx, func(tx *sql.Tx) error {
		var keys []string
		if appKey != "" {
			keys = []string{appKey}
		}
		_, apps, err := svc.loadApps(ctx, tx, keys)
		if err != nil {
			return err
		}
		if appKey != "" && len(apps) == 0 {
			return &Problem{Status: http.StatusNotFound, Code: CodeApplicationNotFound, Detail: fmt.Sprintf("O11 application with key '%s' was not found.", appKey)}
		}
		holders, err := svc.appHolders(ctx, tx, keys)
		if err != nil {
			return err
		}
		for _, a := range apps {
			out = append(out, applicationView(a, holders))
		}
		return nil
	})
	return out, err
}

// mappingList lists every mapping, by name.
func (svc *Service) mappingList(ctx context.Context, now time.Time) ([]Mapping, error) {
	var out []Mapping
	err := svc.readMappings(ctx, nil, func(s *assessmentState) error {
		for _, m := range s.order {
			out = append(out, s.mappingView(m, now))
		}
		return nil
	})
	return out, err
}

func (svc *Service) mapping(ctx context.Context, now time.Time, key string) (Mapping, error) {
	var out Mapping
	err := svc.readMappings(ctx, []string{key}, func(s *assessmentState) error {
		m, err := s.mapping(key)
		if err == nil {
			out = s.mappingView(m, now)
		}
		return err
	})
	return out, err
}

func (svc *Service) findings(ctx context.Context, mappingKey string) ([]Finding, error) {
	var out []Finding
	err := svc.readMappings(ctx, []string{mappingKey}, func(s *assessmentState) error {
		m, err := s.mapping(mappingKey)
		if err == nil {
			out = s.mappingFindings(m, false)
		}
		return err
	})
	return out, err
}

func (svc *Service) assessment(ctx context.Context, now time.Time, key string) (Assessment, error) {
	var out Assessment
	err := svc.db.Read(ctx, func(tx *sql.Tx) error {
		a, err := scanAssessment(tx.QueryRowContext(ctx, `SELECT `+assessmentColumns+` FROM ma_assessments WHERE key = ?`, key))
		if errors.Is(err, sql.ErrNoRows) {
			return &Problem{Status: http.StatusNotFound, Code: CodeAssessmentNotFound, Detail: fmt.Sprintf("Assessment with key '%s' was not found.", key)}
		}
		if err != nil {
			return err
		}
		findings, err := svc.loadFindings(ctx, tx, a.appKeys)
		if err != nil {
			return err
		}
		s := &assessmentState{findings: findings}
		out = s.assessmentView(a, now)
		return nil
	})
	return out, err
}

// readiness reports on the given mappings (all when keys is empty), by name.
func (svc *Service) readiness(ctx context.Context, now time.Time, keys []string) ([]AssetReadiness, error) {
	var out []AssetReadiness
	var scope []string // nil: all
	if len(keys) > 0 {
		scope = keys
	}
	err := svc.readMappings(ctx, scope, func(s *assessmentState) error {
		var unknown []string
		for _, k := range keys {
			if _, ok := s.mappings[k]; !ok && !slices.Contains(unknown, k) {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			return &Problem{Status: http.StatusNotFound, Code: CodeMappingNotFound, Detail: fmt.Sprintf(
				"No mapping has the key(s) %s.", QuoteAll(unknown))}
		}
		for _, m := range s.order {
			status := s.status(m, now)
			out = append(out, AssetReadiness{
				MappingKey: m.key, Name: m.name, AssetType: m.assetType, Status: status,
				Ready:        migrationkit.Ready(status),
				OpenFindings: s.mappingFindings(m, true), ProducerMappingKeys: NonNil(s.producers[m.key]),
			})
		}
		return nil
	})
	return out, err
}

// QuoteAll quotes each value in single quotes and joins them with commas.
func QuoteAll(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = "'" + v + "'"
	}
	return strings.Join(q, ", ")
}

// --- the mapping rules ---

// mappingChange is a requested mapping: everything for a new one; for a
// change, nil fields stay as they are.
type mappingChange struct {
	name        *string
	assetType   string // new mappings only
	description *string
	appKeys     []string
}

// checkName answers MAPPING_NAME_TAKEN when another mapping uses the name,
// ignoring letter case (migrationkit.SameName). Names that are the same
// ignoring case have as many characters, which the query narrows on.
func checkName(ctx context.Context, tx *sql.Tx, name, self string) error {
	var taken *holder
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var m holder
		if err := rows.Scan(&m.key, &m.name); err != nil {
			return err
		}
		if taken == nil && migrationkit.SameName(m.name, name) {
			taken = &m
		}
		return nil
	}, `SELECT key, name FROM ma_mappings WHERE key <> ? AND length(name) = ? ORDER BY name COLLATE NOCASE, key`,
		self, utf8.RuneCountInString(name))
	if err != nil || taken == nil {
		return err
	}
	return &Problem{Status: http.StatusConflict, Code: CodeMappingNameTaken, Detail: fmt.Sprintf(
		"The name '%s' is already used by mapping '%s' (key %s). Mapping names are unique, ignoring letter case.", name, taken.name, taken.key)}
}

// checkApplications applies the Migration Kit's rules
// (migrationkit.CheckMapping) to the applications of a mapping of the given
// asset type, in the documented order, and answers the first broken one.
// self is the mapping being changed ("" for a new one); name is checked
// when not nil.
func (svc *Service) checkApplications(ctx context.Context, tx *sql.Tx, assetType string, appKeys []string, name *string, self string) error {
	byKey, _, err := svc.loadApps(ctx, tx, appKeys)
	if err != nil {
		return err
	}
	var unknown []string
	apps := make([]*appRow, 0, len(appKeys))
	for _, k := range appKeys {
		a, ok := byKey[k]
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		apps = append(apps, a)
	}
	if len(unknown) > 0 {
		return &Problem{Status: http.StatusNotFound, Code: CodeApplicationNotFound, Detail: fmt.Sprintf(
			"The assessment tool knows no O11 application with the key(s) %s. GET /applications lists the applications it sees.", QuoteAll(unknown))}
	}
	if name != nil {
		if err := checkName(ctx, tx, *name, self); err != nil {
			return err
		}
	}
	holders, err := svc.appHolders(ctx, tx, appKeys)
	if err != nil {
		return err
	}
	kit := make([]migrationkit.Application, len(apps))
	for i, a := range apps {
		kit[i] = migrationkit.Application{Key: a.key, Name: a.name, Kind: a.kind, LibraryOnly: a.libraryOnly(),
			HasExtensions: len(a.extensions()) > 0, ModuleCount: len(a.modules), MappingKey: holders[a.key].key}
	}
	violations := migrationkit.CheckMapping(assetType, kit, self)
	if len(violations) == 0 {
		return nil
	}
	v := violations[0]
	rows := make([]*appRow, len(v.Apps))
	for i, a := range v.Apps {
		rows[i] = byKey[a.Key]
	}
	pick := func(keep func(migrationkit.Application) bool) []*appRow {
		var out []*appRow
		for i, a := range v.Apps {
			if keep(a) {
				out = append(out, rows[i])
			}
		}
		return out
	}
	switch v.Rule {
	case migrationkit.RuleAlreadyMapped:
		mapped := make([]string, len(rows))
		for i, a := range rows {
			h := holders[a.key]
			mapped[i] = fmt.Sprintf("O11 application %s is already mapped to '%s' (mapping key %s)", a.label(), h.name, h.key)
		}
		return &Problem{Status: http.StatusConflict, Code: CodeApplicationAlreadyMapped, ConflictingMappingKey: holders[rows[0].key].key, Detail: strings.Join(mapped, "; ") +
			". An O11 application belongs to at most one mapping: remove it from that mapping first."}
	case migrationkit.RuleExtensionNotMappable:
		withExtensions := make([]string, len(rows))
		for i, a := range rows {
			withExtensions[i] = fmt.Sprintf("%s contains the extension module(s) %s", a.label(), strings.Join(a.extensions(), ", "))
		}
		return &Problem{Status: http.StatusBadRequest, Code: CodeExtensionNotMappable, Detail: "O11 application " + strings.Join(withExtensions, "; O11 application ") +
			". Applications with extensions cannot be mapped to ODC assets; rebuild the extension in ODC (e.g. as an external library) instead."}
	case migrationkit.RuleLibraryNeedsLibraryOnly:
		notLibrary := slices.Concat(pick(migrationkit.Application.Reactive), pick(migrationkit.Application.Mobile))
		return &Problem{Status: http.StatusBadRequest, Code: CodeLibraryRequiresLibraryOnlyApps, Detail: fmt.Sprintf(
			"A LowCodeLibrary only takes O11 applications made entirely of Library modules, and %s %s not.",
			labels(notLibrary), Plural(len(notLibrary), "is", "are"))}
	case migrationkit.RuleMobileInWebApp:
		return &Problem{Status: http.StatusBadRequest, Code: CodeMixedAppKinds, Detail: fmt.Sprintf(
			"A WebApplication takes WebResponsive (Reactive) and library-only O11 applications, and %s %s Mobile. Reactive and Mobile applications go to different ODC apps: map the Mobile ones to a MobileApplication.",
			labels(rows), Plural(len(rows), "is", "are"))}
	case migrationkit.RuleReactiveInMobileApp:
		return &Problem{Status: http.StatusBadRequest, Code: CodeMixedAppKinds, Detail: fmt.Sprintf(
			"A MobileApplication takes Mobile and library-only O11 applications, and %s %s WebResponsive (Reactive). Reactive and Mobile applications go to different ODC apps: map the Reactive ones to a WebApplication.",
			labels(rows), Plural(len(rows), "is", "are"))}
	case migrationkit.RuleMobileAppNeedsMobile:
		return &Problem{Status: http.StatusBadRequest, Code: CodeMixedAppKinds, Detail: fmt.Sprintf(
			"A MobileApplication needs at least one Mobile O11 application, and %s %s library-only.",
			labels(rows), Plural(len(rows), "is", "are"))}
	default: // migrationkit.RuleTooManyModules
		counts := make([]string, len(rows))
		for i, a := range rows {
			counts[i] = fmt.Sprintf("%s: %d", a.label(), len(a.modules))
		}
		return &Problem{Status: http.StatusBadRequest, Code: CodeTooManyModules, Detail: fmt.Sprintf(
			"The asset would hold %d O11 modules, more than the %d an ODC asset takes (%s). Split the applications over more mappings.",
			v.Modules, migrationkit.MaxModulesPerAsset, strings.Join(counts, "; "))}
	}
}

func labels(apps []*appRow) string {
	l := make([]string, len(apps))
	for i, a := range apps {
		l[i] = a.label()
	}
	return strings.Join(l, ", ")
}

// Plural returns one for n == 1, else many.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// --- writes ---

// queueAssessment queues an assessment of the mapping's applications.
func queueAssessment(ctx context.Context, tx *sql.Tx, mappingKey string, appKeys []string, now time.Time, delay time.Duration) (string, error) {
	keys, err := sqldb.MarshalJSON(appKeys)
	if err != nil {
		return "", err
	}
	key := uuid.NewString()
	_, err = tx.ExecContext(ctx, `INSERT INTO ma_assessments (key, mapping_key, application_keys, queued_at, duration_ns) VALUES (?, ?, ?, ?, ?)`,
		key, mappingKey, keys, sqldb.FormatTime(now), int64(delay))
	return key, err
}

func setMappingApps(ctx context.Context, tx *sql.Tx, mappingKey string, appKeys []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM ma_mapping_apps WHERE mapping_key = ?`, mappingKey); err != nil {
		return err
	}
	for i, k := range appKeys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ma_mapping_apps (application_key, mapping_key, position) VALUES (?, ?, ?)`,
			k, mappingKey, i); err != nil {
			return err
		}
	}
	return nil
}

// mappingAfter reads the mapping as it is now.
func (svc *Service) mappingAfter(ctx context.Context, tx *sql.Tx, key string, now time.Time) (Mapping, error) {
	s, err := svc.loadMappings(ctx, tx, []string{key})
	if err != nil {
		return Mapping{}, err
	}
	m, err := s.mapping(key)
	if err != nil {
		return Mapping{}, err
	}
	return s.mappingView(m, now), nil
}

// readMapping reads one mapping row with its applications, or answers
// MAPPING_NOT_FOUND.
func readMapping(ctx context.Context, tx *sql.Tx, key string) (*mappingRow, error) {
	m := &mappingRow{key: key}
	err := tx.QueryRowContext(ctx, `SELECT name, asset_type, description FROM ma_mappings WHERE key = ?`, key).
		Scan(&m.name, &m.assetType, &m.description)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mappingNotFound(key)
	}
	if err != nil {
		return nil, err
	}
	err = sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var k string
		err := rows.Scan(&k)
		m.appKeys = append(m.appKeys, k)
		return err
	}, `SELECT application_key FROM ma_mapping_apps WHERE mapping_key = ? ORDER BY position`, key)
	return m, err
}

// createMapping checks the rules, creates the mapping and queues its first
// assessment.
func (svc *Service) createMapping(ctx context.Context, now time.Time, delay time.Duration, c mappingChange) (Mapping, error) {
	var out Mapping
	err := svc.db.Write(ctx, func(tx *sql.Tx) error {
		if err := svc.checkApplications(ctx, tx, c.assetType, c.appKeys, c.name, ""); err != nil {
			return err
		}
		key := uuid.NewString()
		description := ""
		if c.description != nil {
			description = *c.description
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ma_mappings (key, name, asset_type, description, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, key, *c.name, c.assetType, description, sqldb.FormatTime(now), sqldb.FormatTime(now)); err != nil {
			return err
		}
		if err := setMappingApps(ctx, tx, key, c.appKeys); err != nil {
			return err
		}
		if _, err := queueAssessment(ctx, tx, key, c.appKeys, now, delay); err != nil {
			return err
		}
		var err error
		out, err = svc.mappingAfter(ctx, tx, key, now)
		return err
	})
	return out, err
}

// updateMapping changes a mapping's name, description or applications. A
// new set of applications is checked against the rules and queues an
// assessment; a new order of the same applications does not.
func (svc *Service) updateMapping(ctx context.Context, now time.Time, delay time.Duration, key string, c mappingChange) (Mapping, error) {
	var out Mapping
	err := svc.db.Write(ctx, func(tx *sql.Tx) error {
		m, err := readMapping(ctx, tx, key)
		if err != nil {
			return err
		}
		name := c.name
		if name != nil && *name == m.name {
			name = nil
		}
		appsChanged := c.appKeys != nil && !slices.Equal(c.appKeys, m.appKeys)
		switch {
		case appsChanged:
			if err := svc.checkApplications(ctx, tx, m.assetType, c.appKeys, name, key); err != nil {
				return err
			}
		case name != nil:
			if err := checkName(ctx, tx, *name, key); err != nil {
				return err
			}
		}
		descriptionChanged := c.description != nil && *c.description != m.description
		if name == nil && !appsChanged && !descriptionChanged {
			out, err = svc.mappingAfter(ctx, tx, key, now)
			return err
		}
		if name != nil {
			m.name = *name
		}
		if descriptionChanged {
			m.description = *c.description
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ma_mappings SET name = ?, description = ?, updated_at = ? WHERE key = ?`,
			m.name, m.description, sqldb.FormatTime(now), key); err != nil {
			return err
		}
		if appsChanged {
			if err := setMappingApps(ctx, tx, key, c.appKeys); err != nil {
				return err
			}
			if !lifetime.SameKeys(c.appKeys, m.appKeys) {
				if _, err := queueAssessment(ctx, tx, key, c.appKeys, now, delay); err != nil {
					return err
				}
			}
		}
		out, err = svc.mappingAfter(ctx, tx, key, now)
		return err
	})
	return out, err
}

// deleteMapping deletes a mapping with its assessments; its applications
// become unmapped. A code migration still Migrating at now holds it
// (MAPPING_IN_USE).
func (svc *Service) deleteMapping(ctx context.Context, now time.Time, key string) error {
	return svc.db.Write(ctx, func(tx *sql.Tx) error {
		if err := svc.inUse(ctx, tx, key, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM ma_mappings WHERE key = ?`, key)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			err = mappingNotFound(key)
		}
		return err
	})
}

// fixFindings marks findings fixed, as if developers fixed the O11 code: one
// finding (findingKey) or every open finding of a mapping (mappingKey). Each
// mapping holding a changed application gets a new assessment. It returns
// the keys of the findings it fixed and of the assessments it queued.
func (svc *Service) fixFindings(ctx context.Context, now time.Time, delay time.Duration, findingKey, mappingKey string) (fixed, queued []string, err error) {
	err = svc.db.Write(ctx, func(tx *sql.Tx) error {
		if findingKey != "" {
			var appKey string
			var fixedAt sql.NullString
			var holder sql.NullString
			err := tx.QueryRowContext(ctx, `SELECT f.application_key, f.fixed_at, ma.mapping_key FROM ma_findings f
				LEFT JOIN ma_mapping_apps ma ON ma.application_key = f.application_key WHERE f.key = ?`, findingKey).Scan(&appKey, &fixedAt, &holder)
			if errors.Is(err, sql.ErrNoRows) {
				return httpx.NotFoundf("Finding with key '%s' was not found.", findingKey)
			}
			if err != nil || fixedAt.Valid {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE ma_findings SET fixed_at = ? WHERE key = ?`, sqldb.FormatTime(now), findingKey); err != nil {
				return err
			}
			fixed = append(fixed, findingKey)
			if !holder.Valid {
				return nil
			}
			m, err := readMapping(ctx, tx, holder.String)
			if err != nil {
				return err
			}
			key, err := queueAssessment(ctx, tx, m.key, m.appKeys, now, delay)
			queued = append(queued, key)
			return err
		}
		s, err := svc.loadMappings(ctx, tx, []string{mappingKey})
		if err != nil {
			return err
		}
		m, ok := s.mappings[mappingKey]
		if !ok {
			return httpx.NotFoundf("Mapping with key '%s' was not found.", mappingKey)
		}
		for _, f := range s.findings {
			if s.appMapping[f.appKey] != mappingKey || !f.fixedAt.IsZero() {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE ma_findings SET fixed_at = ? WHERE key = ?`, sqldb.FormatTime(now), f.key); err != nil {
				return err
			}
			fixed = append(fixed, f.key)
		}
		if len(fixed) > 0 {
			key, err := queueAssessment(ctx, tx, mappingKey, m.appKeys, now, delay)
			if err != nil {
				return err
			}
			queued = append(queued, key)
		}
		return nil
	})
	return NonNil(fixed), NonNil(queued), err
}
