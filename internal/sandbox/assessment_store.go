package sandbox

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

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/migrationkit"
)

// The Migration Kit assessment tool's state lives in the same database as
// LifeTime's, in tables prefixed ma_. Applications and modules are
// LifeTime's; the tool adds its findings per module, the mappings of
// applications to ODC assets and the assessments of each mapping. An
// assessment's progress is computed from its timestamps when read, so no
// background work is needed and a restart changes nothing.
const assessmentSchema = `
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

	assessmentQueued   = "Queued"
	assessmentRunning  = "Running"
	assessmentFinished = "Finished"
)

var maAssetTypes = migrationkit.AssetTypes

// prepareAssessment creates the assessment tables and, once per database,
// loads the fixture's findings, resolving application and module names
// against the database (which may have been seeded before this version).
func (st *store) prepareAssessment(ctx context.Context, f *Fixture) error {
	if _, err := st.db.ExecContext(ctx, assessmentSchema); err != nil {
		return fmt.Errorf("create the assessment schema: %w", err)
	}
	return st.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sandbox_meta WHERE key = 'assessment_fixture'`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sandbox_meta (key, value) VALUES ('assessment_fixture', ?)`, f.Name); err != nil {
			return err
		}
		for _, fd := range f.Assessment.Findings {
			var appKey, moduleKey string
			err := tx.QueryRowContext(ctx, `SELECT a.key, m.key FROM lt_applications a
				JOIN lt_application_modules am ON am.application_key = a.key
				JOIN lt_modules m ON m.key = am.module_key
				WHERE a.name = ? AND m.name = ?`, fd.Application, fd.Module).Scan(&appKey, &moduleKey)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("assessment finding %q: the database has no application %q with module %q", fd.CodePattern, fd.Application, fd.Module)
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO ma_findings (key, application_key, module_key, code_pattern, category,
				pattern_class, where_to_fix, count, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				maFindingKey(appKey, moduleKey, fd.CodePattern), appKey, moduleKey, fd.CodePattern, fd.Category,
				fd.PatternClass, fd.WhereToFix, fd.Count, fd.Message); err != nil {
				return err
			}
		}
		return nil
	})
}

// findingKey is the stable key of a finding: one code pattern in one module
// of one application.
func maFindingKey(appKey, moduleKey, codePattern string) string {
	return derivedKey("assessment-finding", appKey, moduleKey, codePattern)
}

// --- rows ---

type maModuleRow struct{ key, name, typ string }

type maAppRow struct {
	key, name, kind string
	modules         []maModuleRow
}

// libraryOnly reports whether every module is a Library.
func (a *maAppRow) libraryOnly() bool {
	types := make([]string, len(a.modules))
	for i, m := range a.modules {
		types[i] = m.typ
	}
	return migrationkit.LibraryOnly(types)
}

// extensions returns the names of the application's Extension modules.
func (a *maAppRow) extensions() []string {
	var names []string
	for _, m := range a.modules {
		if m.typ == migrationkit.ModuleTypeExtension {
			names = append(names, m.name)
		}
	}
	return names
}

// label names an application by name and key, as rule errors do.
func (a *maAppRow) label() string { return fmt.Sprintf("'%s' (key %s)", a.name, a.key) }

type maMappingRow struct {
	key, name, assetType, description string
	appKeys                           []string
	createdAt, updatedAt              time.Time
}

type maAssessmentRow struct {
	key, mappingKey string
	appKeys         []string
	queuedAt        time.Time
	duration        time.Duration
}

func (a *maAssessmentRow) startedAt() time.Time  { return a.queuedAt.Add(a.duration / 2) }
func (a *maAssessmentRow) finishedAt() time.Time { return a.queuedAt.Add(a.duration) }

type maFindingRow struct {
	key, appKey, moduleKey, moduleName  string
	codePattern, category, patternClass string
	whereToFix, message                 string
	count                               int
	fixedAt                             time.Time // zero while open
}

// openAt reports whether the finding was open just before t: an
// assessment finishing at t sees the fixes made before t, so a fix made once
// it is seen finished cannot change its result.
func (f *maFindingRow) openAt(t time.Time) bool { return f.fixedAt.IsZero() || !f.fixedAt.Before(t) }

// --- targeted reads, in the caller's transaction ---

// maKeyFilter is the argument of a "?N IS NULL OR x IN (SELECT value FROM
// json_each(?N))" filter: NULL for nil keys (no filter), else the keys as a
// JSON array.
func maKeyFilter(keys []string) (any, error) {
	if keys == nil {
		return nil, nil
	}
	return marshalJSON(keys)
}

// loadApps reads the applications the tool sees (system applications are
// not), with their modules: those with the given keys, or all for nil. It
// returns them by key and by name.
func loadApps(ctx context.Context, tx *sql.Tx, keys []string) (map[string]*maAppRow, []*maAppRow, error) {
	filter, err := maKeyFilter(keys)
	if err != nil {
		return nil, nil, err
	}
	byKey := map[string]*maAppRow{}
	var order []*maAppRow
	if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		a := &maAppRow{}
		err := rows.Scan(&a.key, &a.name, &a.kind)
		byKey[a.key] = a
		order = append(order, a)
		return err
	}, `SELECT key, name, kind FROM lt_applications
		WHERE is_system = 0 AND (?1 IS NULL OR key IN (SELECT value FROM json_each(?1))) ORDER BY name`, filter); err != nil {
		return nil, nil, err
	}
	if len(order) == 0 {
		return byKey, order, nil
	}
	err = queryRows(ctx, tx, func(rows *sql.Rows) error {
		var appKey string
		var m maModuleRow
		if err := rows.Scan(&appKey, &m.key, &m.name, &m.typ); err != nil {
			return err
		}
		if a := byKey[appKey]; a != nil {
			a.modules = append(a.modules, m)
		}
		return nil
	}, `SELECT am.application_key, m.key, m.name, m.module_type FROM lt_application_modules am
		JOIN lt_modules m ON m.key = am.module_key
		WHERE ?1 IS NULL OR am.application_key IN (SELECT value FROM json_each(?1))
		ORDER BY am.application_key, am.position`, filter)
	return byKey, order, err
}

// maHolder is the mapping holding an application.
type maHolder struct{ key, name string }

// appHolders returns the mappings holding the given applications (all for
// nil), by application key.
func appHolders(ctx context.Context, tx *sql.Tx, appKeys []string) (map[string]maHolder, error) {
	filter, err := maKeyFilter(appKeys)
	if err != nil {
		return nil, err
	}
	out := map[string]maHolder{}
	err = queryRows(ctx, tx, func(rows *sql.Rows) error {
		var appKey string
		var h maHolder
		err := rows.Scan(&appKey, &h.key, &h.name)
		out[appKey] = h
		return err
	}, `SELECT ma.application_key, m.key, m.name FROM ma_mapping_apps ma JOIN ma_mappings m ON m.key = ma.mapping_key
		WHERE ?1 IS NULL OR ma.application_key IN (SELECT value FROM json_each(?1))`, filter)
	return out, err
}

// loadFindings reads the findings of the given applications (all for nil),
// by application name, module position and code pattern.
func loadFindings(ctx context.Context, tx *sql.Tx, appKeys []string) ([]*maFindingRow, error) {
	filter, err := maKeyFilter(appKeys)
	if err != nil {
		return nil, err
	}
	var out []*maFindingRow
	err = queryRows(ctx, tx, func(rows *sql.Rows) error {
		f := &maFindingRow{}
		var fixed sql.NullString
		if err := rows.Scan(&f.key, &f.appKey, &f.moduleKey, &f.moduleName, &f.codePattern, &f.category, &f.patternClass,
			&f.whereToFix, &f.count, &f.message, &fixed); err != nil {
			return err
		}
		if fixed.Valid {
			var err error
			if f.fixedAt, err = parseTime(fixed.String); err != nil {
				return err
			}
		}
		out = append(out, f)
		return nil
	}, `SELECT f.key, f.application_key, f.module_key, m.name, f.code_pattern, f.category, f.pattern_class, f.where_to_fix,
			f.count, f.message, f.fixed_at
		FROM ma_findings f
		JOIN lt_applications a ON a.key = f.application_key
		JOIN lt_application_modules am ON am.module_key = f.module_key
		JOIN lt_modules m ON m.key = f.module_key
		WHERE ?1 IS NULL OR f.application_key IN (SELECT value FROM json_each(?1))
		ORDER BY a.name, am.position, f.code_pattern`, filter)
	return out, err
}

// assessmentState is the part of the tool's state one request needs: some
// mappings (or all) with their applications, latest assessments, the
// findings of those applications and the mappings they produce for or
// consume from.
type assessmentState struct {
	apps       map[string]*maAppRow // by key: the applications of the mappings and assessments loaded
	mappings   map[string]*maMappingRow
	order      []*maMappingRow   // by name, ignoring case
	appMapping map[string]string // application key -> mapping key, for the applications loaded
	latest     map[string]*maAssessmentRow
	findings   []*maFindingRow // of the applications loaded, by application name, module position, code pattern
	producers  map[string][]string
	consumers  map[string][]string
}

// loadMappings reads the mappings with the given keys (all for nil; unknown
// keys are left out) and what their views need, in a fixed number of
// statements. The applications of the extra assessments are loaded too.
func loadMappings(ctx context.Context, tx *sql.Tx, keys []string, extra ...*maAssessmentRow) (*assessmentState, error) {
	s := &assessmentState{
		mappings: map[string]*maMappingRow{}, appMapping: map[string]string{},
		latest: map[string]*maAssessmentRow{}, producers: map[string][]string{}, consumers: map[string][]string{},
	}
	filter, err := maKeyFilter(keys)
	if err != nil {
		return nil, err
	}
	if keys == nil || len(keys) > 0 {
		if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
			m := &maMappingRow{}
			var created, updated string
			if err := rows.Scan(&m.key, &m.name, &m.assetType, &m.description, &created, &updated); err != nil {
				return err
			}
			var err error
			if m.createdAt, err = parseTime(created); err != nil {
				return err
			}
			if m.updatedAt, err = parseTime(updated); err != nil {
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
		if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
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
		if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
			a, err := scanAssessment(rows)
			s.latest[a.mappingKey] = a
			return err
		}, `SELECT `+assessmentColumns+` FROM ma_assessments a
			WHERE id = (SELECT max(id) FROM ma_assessments WHERE mapping_key = a.mapping_key)
			AND (?1 IS NULL OR mapping_key IN (SELECT value FROM json_each(?1)))`, filter); err != nil {
			return nil, err
		}
		if err := s.loadEdges(ctx, tx, filter); err != nil {
			return nil, err
		}
	}
	// The applications of the latest assessments are the mappings' (a
	// new set of applications queues an assessment); extra assessments may
	// have assessed others.
	for _, a := range extra {
		for _, k := range a.appKeys {
			if !slices.Contains(appKeys, k) {
				appKeys = append(appKeys, k)
			}
		}
	}
	if keys != nil && len(appKeys) == 0 {
		s.apps = map[string]*maAppRow{}
		return s, nil
	}
	if keys == nil {
		appKeys = nil // every application: cheaper than a long filter
	}
	if s.apps, _, err = loadApps(ctx, tx, appKeys); err != nil {
		return nil, err
	}
	if s.findings, err = loadFindings(ctx, tx, appKeys); err != nil {
		return nil, err
	}
	return s, nil
}

// loadEdges reads which of the mappings loaded consume which others, and
// which others consume them: mapping A consumes mapping B when a module of
// A's applications references a module of B's. Each list is by name,
// ignoring case, as the mappings are.
func (s *assessmentState) loadEdges(ctx context.Context, tx *sql.Tx, filter any) error {
	type end struct{ key, name string }
	producers, consumers := map[string][]end{}, map[string][]end{}
	if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		var c, p end
		if err := rows.Scan(&c.key, &c.name, &p.key, &p.name); err != nil {
			return err
		}
		if _, ok := s.mappings[c.key]; ok {
			producers[c.key] = append(producers[c.key], p)
		}
		if _, ok := s.mappings[p.key]; ok {
			consumers[p.key] = append(consumers[p.key], c)
		}
		return nil
	}, `SELECT DISTINCT cm.key, cm.name, pm.key, pm.name
		FROM lt_module_references r
		JOIN lt_application_modules cam ON cam.module_key = r.consumer_key
		JOIN ma_mapping_apps cma ON cma.application_key = cam.application_key
		JOIN ma_mappings cm ON cm.key = cma.mapping_key
		JOIN lt_application_modules pam ON pam.module_key = r.producer_key
		JOIN ma_mapping_apps pma ON pma.application_key = pam.application_key
		JOIN ma_mappings pm ON pm.key = pma.mapping_key
		WHERE cm.key <> pm.key AND (?1 IS NULL
			OR cm.key IN (SELECT value FROM json_each(?1)) OR pm.key IN (SELECT value FROM json_each(?1)))`, filter); err != nil {
		return err
	}
	sorted := func(ends []end) []string {
		slices.SortFunc(ends, func(a, b end) int { return cmp.Or(maCompareNoCase(a.name, b.name), strings.Compare(a.key, b.key)) })
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

// maCompareNoCase compares as SQLite's NOCASE collation does: ASCII letters
// ignoring case, everything else byte by byte.
func maCompareNoCase(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if ca, cb := maLowerASCII(a[i]), maLowerASCII(b[i]); ca != cb {
			return cmp.Compare(ca, cb)
		}
	}
	return cmp.Compare(len(a), len(b))
}

func maLowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

const assessmentColumns = `key, mapping_key, application_keys, queued_at, duration_ns`

func scanAssessment(rows interface{ Scan(...any) error }) (*maAssessmentRow, error) {
	a := &maAssessmentRow{}
	var appKeys, queued string
	var duration int64
	if err := rows.Scan(&a.key, &a.mappingKey, &appKeys, &queued, &duration); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(appKeys), &a.appKeys); err != nil {
		return nil, fmt.Errorf("assessment %s: application keys: %w", a.key, err)
	}
	var err error
	a.queuedAt, err = parseTime(queued)
	a.duration = time.Duration(duration)
	return a, err
}

// result is the mapping status a finished assessment produced, from the
// findings of its applications that were open when it finished.
func (s *assessmentState) result(a *maAssessmentRow) string {
	end := a.finishedAt()
	blocking, changes := false, false
	for _, f := range s.findings {
		if !slices.Contains(a.appKeys, f.appKey) || !f.openAt(end) {
			continue
		}
		switch f.patternClass {
		case PatternFixInO11, PatternNotYetSupported:
			blocking = true
		case PatternFixInOdc:
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

func (s *assessmentState) assessmentView(a *maAssessmentRow, now time.Time) maAssessment {
	v := maAssessment{Key: a.key, MappingKey: a.mappingKey, Status: assessmentQueued, QueuedAt: a.queuedAt.UTC()}
	if started := a.startedAt(); !now.Before(started) {
		v.Status = assessmentRunning
		v.StartedAt = maPtr(started.UTC())
	}
	if finished := a.finishedAt(); !now.Before(finished) {
		v.Status = assessmentFinished
		v.FinishedAt = maPtr(finished.UTC())
		v.Result = maPtr(s.result(a))
	}
	return v
}

func maPtr[T any](v T) *T { return &v }

// status is the mapping's status now: Assessing until its latest assessment
// finishes, then that assessment's result.
func (s *assessmentState) status(m *maMappingRow, now time.Time) string {
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

func (s *assessmentState) mappingView(m *maMappingRow, now time.Time) maMapping {
	return maMapping{
		Key: m.key, Name: m.name, AssetType: m.assetType, Description: m.description,
		ApplicationKeys: maNonNil(m.appKeys), ModuleCount: s.moduleCount(m.appKeys), Status: s.status(m, now),
		LatestAssessmentKey: s.latest[m.key].key,
		ProducerMappingKeys: maNonNil(s.producers[m.key]), ConsumerMappingKeys: maNonNil(s.consumers[m.key]),
		CreatedAt: m.createdAt.UTC(), UpdatedAt: m.updatedAt.UTC(),
	}
}

func maNonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func applicationView(a *maAppRow, holders map[string]maHolder) maO11Application {
	v := maO11Application{
		Key: a.key, Name: a.name, Kind: a.kind, IsLibraryOnly: a.libraryOnly(), HasExtensions: len(a.extensions()) > 0,
		ModuleCount: len(a.modules), Modules: make([]maO11Module, len(a.modules)),
	}
	for i, m := range a.modules {
		v.Modules[i] = maO11Module{Key: m.key, Name: m.name, Type: m.typ}
	}
	if h, ok := holders[a.key]; ok {
		v.MappingKey = &h.key
	}
	return v
}

func (s *assessmentState) findingView(f *maFindingRow) maFinding {
	status := "Open"
	if !f.fixedAt.IsZero() {
		status = "Fixed"
	}
	return maFinding{
		Key: f.key, MappingKey: s.appMapping[f.appKey], ApplicationKey: f.appKey, ApplicationName: s.apps[f.appKey].name,
		ModuleKey: f.moduleKey, ModuleName: f.moduleName, CodePattern: f.codePattern, Category: f.category,
		PatternClass: f.patternClass, WhereToFix: f.whereToFix, Count: f.count, Message: f.message, Status: status,
	}
}

// mappingFindings returns the findings of a mapping's applications.
func (s *assessmentState) mappingFindings(m *maMappingRow, openOnly bool) []maFinding {
	out := []maFinding{}
	for _, f := range s.findings {
		if s.appMapping[f.appKey] == m.key && (!openOnly || f.fixedAt.IsZero()) {
			out = append(out, s.findingView(f))
		}
	}
	return out
}

func (s *assessmentState) mapping(key string) (*maMappingRow, error) {
	m, ok := s.mappings[key]
	if !ok {
		return nil, maMappingNotFound(key)
	}
	return m, nil
}

// readMappings runs a read transaction over the mappings with the given
// keys (all for nil).
func (st *store) readMappings(ctx context.Context, keys []string, fn func(s *assessmentState) error) error {
	return st.read(ctx, func(tx *sql.Tx) error {
		s, err := loadMappings(ctx, tx, keys)
		if err != nil {
			return err
		}
		return fn(s)
	})
}

// --- reads ---

// o11Applications lists the applications the tool sees, or just one.
func (st *store) o11Applications(ctx context.Context, appKey string) ([]maO11Application, error) {
	var out []maO11Application
	err := st.read(ctx, func(tx *sql.Tx) error {
		var keys []string
		if appKey != "" {
			keys = []string{appKey}
		}
		_, apps, err := loadApps(ctx, tx, keys)
		if err != nil {
			return err
		}
		if appKey != "" && len(apps) == 0 {
			return &maProblem{status: http.StatusNotFound, code: maCodeApplicationNotFound, detail: fmt.Sprintf("O11 application with key '%s' was not found.", appKey)}
		}
		holders, err := appHolders(ctx, tx, keys)
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
func (st *store) mappingList(ctx context.Context, now time.Time) ([]maMapping, error) {
	var out []maMapping
	err := st.readMappings(ctx, nil, func(s *assessmentState) error {
		for _, m := range s.order {
			out = append(out, s.mappingView(m, now))
		}
		return nil
	})
	return out, err
}

func (st *store) mapping(ctx context.Context, now time.Time, key string) (maMapping, error) {
	var out maMapping
	err := st.readMappings(ctx, []string{key}, func(s *assessmentState) error {
		m, err := s.mapping(key)
		if err == nil {
			out = s.mappingView(m, now)
		}
		return err
	})
	return out, err
}

func (st *store) findings(ctx context.Context, mappingKey string) ([]maFinding, error) {
	var out []maFinding
	err := st.readMappings(ctx, []string{mappingKey}, func(s *assessmentState) error {
		m, err := s.mapping(mappingKey)
		if err == nil {
			out = s.mappingFindings(m, false)
		}
		return err
	})
	return out, err
}

func (st *store) assessment(ctx context.Context, now time.Time, key string) (maAssessment, error) {
	var out maAssessment
	err := st.read(ctx, func(tx *sql.Tx) error {
		a, err := scanAssessment(tx.QueryRowContext(ctx, `SELECT `+assessmentColumns+` FROM ma_assessments WHERE key = ?`, key))
		if errors.Is(err, sql.ErrNoRows) {
			return &maProblem{status: http.StatusNotFound, code: maCodeAssessmentNotFound, detail: fmt.Sprintf("Assessment with key '%s' was not found.", key)}
		}
		if err != nil {
			return err
		}
		findings, err := loadFindings(ctx, tx, a.appKeys)
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
func (st *store) readiness(ctx context.Context, now time.Time, keys []string) ([]maAssetReadiness, error) {
	var out []maAssetReadiness
	var scope []string // nil: all
	if len(keys) > 0 {
		scope = keys
	}
	err := st.readMappings(ctx, scope, func(s *assessmentState) error {
		var unknown []string
		for _, k := range keys {
			if _, ok := s.mappings[k]; !ok && !slices.Contains(unknown, k) {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			return &maProblem{status: http.StatusNotFound, code: maCodeMappingNotFound, detail: fmt.Sprintf(
				"No mapping has the key(s) %s.", maQuoteAll(unknown))}
		}
		for _, m := range s.order {
			status := s.status(m, now)
			out = append(out, maAssetReadiness{
				MappingKey: m.key, Name: m.name, AssetType: m.assetType, Status: status,
				Ready:        migrationkit.Ready(status),
				OpenFindings: s.mappingFindings(m, true), ProducerMappingKeys: maNonNil(s.producers[m.key]),
			})
		}
		return nil
	})
	return out, err
}

func maQuoteAll(values []string) string {
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
	var taken *maHolder
	err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		var m maHolder
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
	return &maProblem{status: http.StatusConflict, code: maCodeMappingNameTaken, detail: fmt.Sprintf(
		"The name '%s' is already used by mapping '%s' (key %s). Mapping names are unique, ignoring letter case.", name, taken.name, taken.key)}
}

// checkApplications applies the Migration Kit's rules
// (migrationkit.CheckMapping) to the applications of a mapping of the given
// asset type, in the documented order, and answers the first broken one.
// self is the mapping being changed ("" for a new one); name is checked
// when not nil.
func checkApplications(ctx context.Context, tx *sql.Tx, assetType string, appKeys []string, name *string, self string) error {
	byKey, _, err := loadApps(ctx, tx, appKeys)
	if err != nil {
		return err
	}
	var unknown []string
	apps := make([]*maAppRow, 0, len(appKeys))
	for _, k := range appKeys {
		a, ok := byKey[k]
		if !ok {
			unknown = append(unknown, k)
			continue
		}
		apps = append(apps, a)
	}
	if len(unknown) > 0 {
		return &maProblem{status: http.StatusNotFound, code: maCodeApplicationNotFound, detail: fmt.Sprintf(
			"The assessment tool knows no O11 application with the key(s) %s. GET /applications lists the applications it sees.", maQuoteAll(unknown))}
	}
	if name != nil {
		if err := checkName(ctx, tx, *name, self); err != nil {
			return err
		}
	}
	holders, err := appHolders(ctx, tx, appKeys)
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
	rows := make([]*maAppRow, len(v.Apps))
	for i, a := range v.Apps {
		rows[i] = byKey[a.Key]
	}
	pick := func(keep func(migrationkit.Application) bool) []*maAppRow {
		var out []*maAppRow
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
		return &maProblem{status: http.StatusConflict, code: maCodeApplicationAlreadyMapped, conflictingMappingKey: holders[rows[0].key].key, detail: strings.Join(mapped, "; ") +
			". An O11 application belongs to at most one mapping: remove it from that mapping first."}
	case migrationkit.RuleExtensionNotMappable:
		withExtensions := make([]string, len(rows))
		for i, a := range rows {
			withExtensions[i] = fmt.Sprintf("%s contains the extension module(s) %s", a.label(), strings.Join(a.extensions(), ", "))
		}
		return &maProblem{status: http.StatusBadRequest, code: maCodeExtensionNotMappable, detail: "O11 application " + strings.Join(withExtensions, "; O11 application ") +
			". Applications with extensions cannot be mapped to ODC assets; rebuild the extension in ODC (e.g. as an external library) instead."}
	case migrationkit.RuleLibraryNeedsLibraryOnly:
		notLibrary := slices.Concat(pick(migrationkit.Application.Reactive), pick(migrationkit.Application.Mobile))
		return &maProblem{status: http.StatusBadRequest, code: maCodeLibraryRequiresLibraryOnlyApps, detail: fmt.Sprintf(
			"A LowCodeLibrary only takes O11 applications made entirely of Library modules, and %s %s not.",
			maLabels(notLibrary), maPlural(len(notLibrary), "is", "are"))}
	case migrationkit.RuleMobileInWebApp:
		return &maProblem{status: http.StatusBadRequest, code: maCodeMixedAppKinds, detail: fmt.Sprintf(
			"A WebApplication takes WebResponsive (Reactive) and library-only O11 applications, and %s %s Mobile. Reactive and Mobile applications go to different ODC apps: map the Mobile ones to a MobileApplication.",
			maLabels(rows), maPlural(len(rows), "is", "are"))}
	case migrationkit.RuleReactiveInMobileApp:
		return &maProblem{status: http.StatusBadRequest, code: maCodeMixedAppKinds, detail: fmt.Sprintf(
			"A MobileApplication takes Mobile and library-only O11 applications, and %s %s WebResponsive (Reactive). Reactive and Mobile applications go to different ODC apps: map the Reactive ones to a WebApplication.",
			maLabels(rows), maPlural(len(rows), "is", "are"))}
	case migrationkit.RuleMobileAppNeedsMobile:
		return &maProblem{status: http.StatusBadRequest, code: maCodeMixedAppKinds, detail: fmt.Sprintf(
			"A MobileApplication needs at least one Mobile O11 application, and %s %s library-only.",
			maLabels(rows), maPlural(len(rows), "is", "are"))}
	default: // migrationkit.RuleTooManyModules
		counts := make([]string, len(rows))
		for i, a := range rows {
			counts[i] = fmt.Sprintf("%s: %d", a.label(), len(a.modules))
		}
		return &maProblem{status: http.StatusBadRequest, code: maCodeTooManyModules, detail: fmt.Sprintf(
			"The asset would hold %d O11 modules, more than the %d an ODC asset takes (%s). Split the applications over more mappings.",
			v.Modules, migrationkit.MaxModulesPerAsset, strings.Join(counts, "; "))}
	}
}

func maLabels(apps []*maAppRow) string {
	l := make([]string, len(apps))
	for i, a := range apps {
		l[i] = a.label()
	}
	return strings.Join(l, ", ")
}

func maPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// --- writes ---

// queueAssessment queues an assessment of the mapping's applications.
func queueAssessment(ctx context.Context, tx *sql.Tx, mappingKey string, appKeys []string, now time.Time, delay time.Duration) (string, error) {
	keys, err := marshalJSON(appKeys)
	if err != nil {
		return "", err
	}
	key := uuid.NewString()
	_, err = tx.ExecContext(ctx, `INSERT INTO ma_assessments (key, mapping_key, application_keys, queued_at, duration_ns) VALUES (?, ?, ?, ?, ?)`,
		key, mappingKey, keys, formatTime(now), int64(delay))
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
func mappingAfter(ctx context.Context, tx *sql.Tx, key string, now time.Time) (maMapping, error) {
	s, err := loadMappings(ctx, tx, []string{key})
	if err != nil {
		return maMapping{}, err
	}
	m, err := s.mapping(key)
	if err != nil {
		return maMapping{}, err
	}
	return s.mappingView(m, now), nil
}

// readMapping reads one mapping row with its applications, or answers
// MAPPING_NOT_FOUND.
func readMapping(ctx context.Context, tx *sql.Tx, key string) (*maMappingRow, error) {
	m := &maMappingRow{key: key}
	err := tx.QueryRowContext(ctx, `SELECT name, asset_type, description FROM ma_mappings WHERE key = ?`, key).
		Scan(&m.name, &m.assetType, &m.description)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, maMappingNotFound(key)
	}
	if err != nil {
		return nil, err
	}
	err = queryRows(ctx, tx, func(rows *sql.Rows) error {
		var k string
		err := rows.Scan(&k)
		m.appKeys = append(m.appKeys, k)
		return err
	}, `SELECT application_key FROM ma_mapping_apps WHERE mapping_key = ? ORDER BY position`, key)
	return m, err
}

// createMapping checks the rules, creates the mapping and queues its first
// assessment.
func (st *store) createMapping(ctx context.Context, now time.Time, delay time.Duration, c mappingChange) (maMapping, error) {
	var out maMapping
	err := st.write(ctx, func(tx *sql.Tx) error {
		if err := checkApplications(ctx, tx, c.assetType, c.appKeys, c.name, ""); err != nil {
			return err
		}
		key := uuid.NewString()
		description := ""
		if c.description != nil {
			description = *c.description
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ma_mappings (key, name, asset_type, description, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)`, key, *c.name, c.assetType, description, formatTime(now), formatTime(now)); err != nil {
			return err
		}
		if err := setMappingApps(ctx, tx, key, c.appKeys); err != nil {
			return err
		}
		if _, err := queueAssessment(ctx, tx, key, c.appKeys, now, delay); err != nil {
			return err
		}
		var err error
		out, err = mappingAfter(ctx, tx, key, now)
		return err
	})
	return out, err
}

// updateMapping changes a mapping's name, description or applications. A
// new set of applications is checked against the rules and queues an
// assessment; a new order of the same applications does not.
func (st *store) updateMapping(ctx context.Context, now time.Time, delay time.Duration, key string, c mappingChange) (maMapping, error) {
	var out maMapping
	err := st.write(ctx, func(tx *sql.Tx) error {
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
			if err := checkApplications(ctx, tx, m.assetType, c.appKeys, name, key); err != nil {
				return err
			}
		case name != nil:
			if err := checkName(ctx, tx, *name, key); err != nil {
				return err
			}
		}
		descriptionChanged := c.description != nil && *c.description != m.description
		if name == nil && !appsChanged && !descriptionChanged {
			out, err = mappingAfter(ctx, tx, key, now)
			return err
		}
		if name != nil {
			m.name = *name
		}
		if descriptionChanged {
			m.description = *c.description
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ma_mappings SET name = ?, description = ?, updated_at = ? WHERE key = ?`,
			m.name, m.description, formatTime(now), key); err != nil {
			return err
		}
		if appsChanged {
			if err := setMappingApps(ctx, tx, key, c.appKeys); err != nil {
				return err
			}
			if !sameKeys(c.appKeys, m.appKeys) {
				if _, err := queueAssessment(ctx, tx, key, c.appKeys, now, delay); err != nil {
					return err
				}
			}
		}
		out, err = mappingAfter(ctx, tx, key, now)
		return err
	})
	return out, err
}

// deleteMapping deletes a mapping with its assessments; its applications
// become unmapped. A code migration still Migrating at now holds it
// (MAPPING_IN_USE).
func (st *store) deleteMapping(ctx context.Context, now time.Time, key string) error {
	return st.write(ctx, func(tx *sql.Tx) error {
		if err := checkMappingNotMigrating(ctx, tx, key, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM ma_mappings WHERE key = ?`, key)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			err = maMappingNotFound(key)
		}
		return err
	})
}

// fixFindings marks findings fixed, as if developers fixed the O11 code: one
// finding (findingKey) or every open finding of a mapping (mappingKey). Each
// mapping holding a changed application gets a new assessment. It returns
// the keys of the findings it fixed and of the assessments it queued.
func (st *store) fixFindings(ctx context.Context, now time.Time, delay time.Duration, findingKey, mappingKey string) (fixed, queued []string, err error) {
	err = st.write(ctx, func(tx *sql.Tx) error {
		if findingKey != "" {
			var appKey string
			var fixedAt sql.NullString
			var holder sql.NullString
			err := tx.QueryRowContext(ctx, `SELECT f.application_key, f.fixed_at, ma.mapping_key FROM ma_findings f
				LEFT JOIN ma_mapping_apps ma ON ma.application_key = f.application_key WHERE f.key = ?`, findingKey).Scan(&appKey, &fixedAt, &holder)
			if errors.Is(err, sql.ErrNoRows) {
				return notFoundf("Finding with key '%s' was not found.", findingKey)
			}
			if err != nil || fixedAt.Valid {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE ma_findings SET fixed_at = ? WHERE key = ?`, formatTime(now), findingKey); err != nil {
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
		s, err := loadMappings(ctx, tx, []string{mappingKey})
		if err != nil {
			return err
		}
		m, ok := s.mappings[mappingKey]
		if !ok {
			return notFoundf("Mapping with key '%s' was not found.", mappingKey)
		}
		for _, f := range s.findings {
			if s.appMapping[f.appKey] != mappingKey || !f.fixedAt.IsZero() {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE ma_findings SET fixed_at = ? WHERE key = ?`, formatTime(now), f.key); err != nil {
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
	return maNonNil(fixed), maNonNil(queued), err
}
