package sandbox

import (
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

// maxModulesPerAsset is the Migration Kit's limit of O11 modules per ODC asset.
const maxModulesPerAsset = 20

// Mapping statuses, asset types and assessment statuses of the contract.
const (
	mappingAssessing   = "Assessing"
	mappingReadyForOdc = "ReadyForOdc"
	mappingChangeInOdc = "ChangeInOdc"
	mappingNotReady    = "NotReady"

	assetWebApplication    = "WebApplication"
	assetMobileApplication = "MobileApplication"
	assetLowCodeLibrary    = "LowCodeLibrary"

	assessmentQueued   = "Queued"
	assessmentRunning  = "Running"
	assessmentFinished = "Finished"
)

var maAssetTypes = []string{assetWebApplication, assetMobileApplication, assetLowCodeLibrary}

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

// --- the state, loaded whole: a portfolio has tens of applications ---

type maModuleRow struct{ key, name, typ string }

type maAppRow struct {
	key, name, kind string
	modules         []maModuleRow
}

// libraryOnly reports whether every module is a Library.
func (a *maAppRow) libraryOnly() bool {
	return !slices.ContainsFunc(a.modules, func(m maModuleRow) bool { return m.typ != "Library" })
}

// extensions returns the names of the application's Extension modules.
func (a *maAppRow) extensions() []string {
	var names []string
	for _, m := range a.modules {
		if m.typ == "Extension" {
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

type assessmentState struct {
	apps       map[string]*maAppRow // by key; system applications are not seen by the tool
	appOrder   []*maAppRow          // by name
	mappings   map[string]*maMappingRow
	order      []*maMappingRow   // by name, ignoring case
	appMapping map[string]string // application key -> mapping key
	latest     map[string]*maAssessmentRow
	findings   []*maFindingRow // by application name, module position, code pattern
	producers  map[string][]string
	consumers  map[string][]string
}

func loadAssessmentState(ctx context.Context, tx *sql.Tx) (*assessmentState, error) {
	s := &assessmentState{
		apps: map[string]*maAppRow{}, mappings: map[string]*maMappingRow{}, appMapping: map[string]string{},
		latest: map[string]*maAssessmentRow{}, producers: map[string][]string{}, consumers: map[string][]string{},
	}
	if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		a := &maAppRow{}
		err := rows.Scan(&a.key, &a.name, &a.kind)
		s.apps[a.key] = a
		s.appOrder = append(s.appOrder, a)
		return err
	}, `SELECT key, name, kind FROM lt_applications WHERE is_system = 0 ORDER BY name`); err != nil {
		return nil, err
	}
	moduleApp := map[string]string{}
	if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		var appKey string
		var m maModuleRow
		if err := rows.Scan(&appKey, &m.key, &m.name, &m.typ); err != nil {
			return err
		}
		moduleApp[m.key] = appKey
		if a := s.apps[appKey]; a != nil {
			a.modules = append(a.modules, m)
		}
		return nil
	}, `SELECT am.application_key, m.key, m.name, m.module_type FROM lt_application_modules am
		JOIN lt_modules m ON m.key = am.module_key ORDER BY am.application_key, am.position`); err != nil {
		return nil, err
	}
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
	}, `SELECT key, name, asset_type, description, created_at, updated_at FROM ma_mappings ORDER BY name COLLATE NOCASE, key`); err != nil {
		return nil, err
	}
	if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		var mappingKey, appKey string
		if err := rows.Scan(&mappingKey, &appKey); err != nil {
			return err
		}
		s.mappings[mappingKey].appKeys = append(s.mappings[mappingKey].appKeys, appKey)
		s.appMapping[appKey] = mappingKey
		return nil
	}, `SELECT mapping_key, application_key FROM ma_mapping_apps ORDER BY mapping_key, position`); err != nil {
		return nil, err
	}
	if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		a, err := scanAssessment(rows)
		s.latest[a.mappingKey] = a
		return err
	}, `SELECT `+assessmentColumns+` FROM ma_assessments a
		WHERE id = (SELECT max(id) FROM ma_assessments WHERE mapping_key = a.mapping_key)`); err != nil {
		return nil, err
	}
	if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
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
		s.findings = append(s.findings, f)
		return nil
	}, `SELECT f.key, f.application_key, f.module_key, m.name, f.code_pattern, f.category, f.pattern_class, f.where_to_fix,
			f.count, f.message, f.fixed_at
		FROM ma_findings f
		JOIN lt_applications a ON a.key = f.application_key
		JOIN lt_application_modules am ON am.module_key = f.module_key
		JOIN lt_modules m ON m.key = f.module_key
		ORDER BY a.name, am.position, f.code_pattern`); err != nil {
		return nil, err
	}
	// Mapping A consumes mapping B when a module of A's applications
	// references a module of B's.
	type edge struct{ consumer, producer string }
	edges := map[edge]bool{}
	if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		var consumerModule, producerModule string
		if err := rows.Scan(&consumerModule, &producerModule); err != nil {
			return err
		}
		c, p := s.appMapping[moduleApp[consumerModule]], s.appMapping[moduleApp[producerModule]]
		if c != "" && p != "" && c != p {
			edges[edge{c, p}] = true
		}
		return nil
	}, `SELECT consumer_key, producer_key FROM lt_module_references`); err != nil {
		return nil, err
	}
	for _, c := range s.order {
		for _, p := range s.order {
			if edges[edge{c.key, p.key}] {
				s.producers[c.key] = append(s.producers[c.key], p.key)
				s.consumers[p.key] = append(s.consumers[p.key], c.key)
			}
		}
	}
	return s, nil
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

func (s *assessmentState) applicationView(a *maAppRow) maO11Application {
	v := maO11Application{
		Key: a.key, Name: a.name, Kind: a.kind, IsLibraryOnly: a.libraryOnly(), HasExtensions: len(a.extensions()) > 0,
		ModuleCount: len(a.modules), Modules: make([]maO11Module, len(a.modules)),
	}
	for i, m := range a.modules {
		v.Modules[i] = maO11Module{Key: m.key, Name: m.name, Type: m.typ}
	}
	if k, ok := s.appMapping[a.key]; ok {
		v.MappingKey = &k
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

// readState runs a read transaction over the loaded state.
func (st *store) readState(ctx context.Context, fn func(s *assessmentState) error) error {
	return st.read(ctx, func(tx *sql.Tx) error {
		s, err := loadAssessmentState(ctx, tx)
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
	err := st.readState(ctx, func(s *assessmentState) error {
		if appKey != "" {
			a, ok := s.apps[appKey]
			if !ok {
				return &maProblem{status: http.StatusNotFound, code: maCodeApplicationNotFound, detail: fmt.Sprintf("O11 application with key '%s' was not found.", appKey)}
			}
			out = append(out, s.applicationView(a))
			return nil
		}
		for _, a := range s.appOrder {
			out = append(out, s.applicationView(a))
		}
		return nil
	})
	return out, err
}

// mappingList lists every mapping, by name.
func (st *store) mappingList(ctx context.Context, now time.Time) ([]maMapping, error) {
	var out []maMapping
	err := st.readState(ctx, func(s *assessmentState) error {
		for _, m := range s.order {
			out = append(out, s.mappingView(m, now))
		}
		return nil
	})
	return out, err
}

func (st *store) mapping(ctx context.Context, now time.Time, key string) (maMapping, error) {
	var out maMapping
	err := st.readState(ctx, func(s *assessmentState) error {
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
	err := st.readState(ctx, func(s *assessmentState) error {
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
		s, err := loadAssessmentState(ctx, tx)
		if err != nil {
			return err
		}
		out = s.assessmentView(a, now)
		return nil
	})
	return out, err
}

// readiness reports on the given mappings (all when keys is empty), by name.
func (st *store) readiness(ctx context.Context, now time.Time, keys []string) ([]maAssetReadiness, error) {
	var out []maAssetReadiness
	err := st.readState(ctx, func(s *assessmentState) error {
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
			if len(keys) > 0 && !slices.Contains(keys, m.key) {
				continue
			}
			status := s.status(m, now)
			out = append(out, maAssetReadiness{
				MappingKey: m.key, Name: m.name, AssetType: m.assetType, Status: status,
				Ready:        status == mappingReadyForOdc || status == mappingChangeInOdc,
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
// ignoring letter case.
func (s *assessmentState) checkName(name, self string) error {
	for _, m := range s.order {
		if m.key != self && strings.EqualFold(m.name, name) {
			return &maProblem{status: http.StatusConflict, code: maCodeMappingNameTaken, detail: fmt.Sprintf(
				"The name '%s' is already used by mapping '%s' (key %s). Mapping names are unique, ignoring letter case.", name, m.name, m.key)}
		}
	}
	return nil
}

// checkApplications applies the Migration Kit's rules to the applications of
// a mapping of the given asset type, in the documented order. self is the
// mapping being changed ("" for a new one); name is checked when not nil.
func (s *assessmentState) checkApplications(assetType string, appKeys []string, name *string, self string) error {
	var unknown []string
	apps := make([]*maAppRow, 0, len(appKeys))
	for _, k := range appKeys {
		a, ok := s.apps[k]
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
		if err := s.checkName(*name, self); err != nil {
			return err
		}
	}
	var mapped []string
	conflicting := ""
	for _, a := range apps {
		if holder, ok := s.appMapping[a.key]; ok && holder != self {
			m := s.mappings[holder]
			mapped = append(mapped, fmt.Sprintf("O11 application %s is already mapped to '%s' (mapping key %s)", a.label(), m.name, m.key))
			if conflicting == "" {
				conflicting = holder
			}
		}
	}
	if len(mapped) > 0 {
		return &maProblem{status: http.StatusConflict, code: maCodeApplicationAlreadyMapped, conflictingMappingKey: conflicting, detail: strings.Join(mapped, "; ") +
			". An O11 application belongs to at most one mapping: remove it from that mapping first."}
	}
	var withExtensions []string
	for _, a := range apps {
		if ext := a.extensions(); len(ext) > 0 {
			withExtensions = append(withExtensions, fmt.Sprintf("%s contains the extension module(s) %s", a.label(), strings.Join(ext, ", ")))
		}
	}
	if len(withExtensions) > 0 {
		return &maProblem{status: http.StatusBadRequest, code: maCodeExtensionNotMappable, detail: "O11 application " + strings.Join(withExtensions, "; O11 application ") +
			". Applications with extensions cannot be mapped to ODC assets; rebuild the extension in ODC (e.g. as an external library) instead."}
	}
	var reactive, mobile []*maAppRow // not library-only
	for _, a := range apps {
		if a.libraryOnly() {
			continue
		}
		if a.kind == "Mobile" {
			mobile = append(mobile, a)
		} else {
			reactive = append(reactive, a)
		}
	}
	switch assetType {
	case assetLowCodeLibrary:
		if notLibrary := slices.Concat(reactive, mobile); len(notLibrary) > 0 {
			return &maProblem{status: http.StatusBadRequest, code: maCodeLibraryRequiresLibraryOnlyApps, detail: fmt.Sprintf(
				"A LowCodeLibrary only takes O11 applications made entirely of Library modules, and %s %s not.",
				maLabels(notLibrary), maPlural(len(notLibrary), "is", "are"))}
		}
	case assetWebApplication:
		if len(mobile) > 0 {
			return &maProblem{status: http.StatusBadRequest, code: maCodeMixedAppKinds, detail: fmt.Sprintf(
				"A WebApplication takes WebResponsive (Reactive) and library-only O11 applications, and %s %s Mobile. Reactive and Mobile applications go to different ODC apps: map the Mobile ones to a MobileApplication.",
				maLabels(mobile), maPlural(len(mobile), "is", "are"))}
		}
	case assetMobileApplication:
		if len(reactive) > 0 {
			return &maProblem{status: http.StatusBadRequest, code: maCodeMixedAppKinds, detail: fmt.Sprintf(
				"A MobileApplication takes Mobile and library-only O11 applications, and %s %s WebResponsive (Reactive). Reactive and Mobile applications go to different ODC apps: map the Reactive ones to a WebApplication.",
				maLabels(reactive), maPlural(len(reactive), "is", "are"))}
		}
		if len(mobile) == 0 {
			return &maProblem{status: http.StatusBadRequest, code: maCodeMixedAppKinds, detail: fmt.Sprintf(
				"A MobileApplication needs at least one Mobile O11 application, and %s %s library-only.",
				maLabels(apps), maPlural(len(apps), "is", "are"))}
		}
	}
	if n := s.moduleCount(appKeys); n > maxModulesPerAsset {
		counts := make([]string, len(apps))
		for i, a := range apps {
			counts[i] = fmt.Sprintf("%s: %d", a.label(), len(a.modules))
		}
		return &maProblem{status: http.StatusBadRequest, code: maCodeTooManyModules, detail: fmt.Sprintf(
			"The asset would hold %d O11 modules, more than the %d an ODC asset takes (%s). Split the applications over more mappings.",
			n, maxModulesPerAsset, strings.Join(counts, "; "))}
	}
	return nil
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

// writeState runs fn over the loaded state in a write transaction.
func (st *store) writeState(ctx context.Context, fn func(tx *sql.Tx, s *assessmentState) error) error {
	return st.write(ctx, func(tx *sql.Tx) error {
		s, err := loadAssessmentState(ctx, tx)
		if err != nil {
			return err
		}
		return fn(tx, s)
	})
}

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

// mappingAfter reloads the state and returns the mapping as it is now.
func mappingAfter(ctx context.Context, tx *sql.Tx, key string, now time.Time) (maMapping, error) {
	s, err := loadAssessmentState(ctx, tx)
	if err != nil {
		return maMapping{}, err
	}
	return s.mappingView(s.mappings[key], now), nil
}

// createMapping checks the rules, creates the mapping and queues its first
// assessment.
func (st *store) createMapping(ctx context.Context, now time.Time, delay time.Duration, c mappingChange) (maMapping, error) {
	var out maMapping
	err := st.writeState(ctx, func(tx *sql.Tx, s *assessmentState) error {
		if err := s.checkApplications(c.assetType, c.appKeys, c.name, ""); err != nil {
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
	err := st.writeState(ctx, func(tx *sql.Tx, s *assessmentState) error {
		m, err := s.mapping(key)
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
			if err := s.checkApplications(m.assetType, c.appKeys, name, key); err != nil {
				return err
			}
		case name != nil:
			if err := s.checkName(*name, key); err != nil {
				return err
			}
		}
		descriptionChanged := c.description != nil && *c.description != m.description
		if name == nil && !appsChanged && !descriptionChanged {
			out = s.mappingView(m, now)
			return nil
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
	err = st.writeState(ctx, func(tx *sql.Tx, s *assessmentState) error {
		var targets []*maFindingRow
		switch {
		case findingKey != "":
			i := slices.IndexFunc(s.findings, func(f *maFindingRow) bool { return f.key == findingKey })
			if i < 0 {
				return notFoundf("Finding with key '%s' was not found.", findingKey)
			}
			targets = s.findings[i : i+1]
		default:
			if _, ok := s.mappings[mappingKey]; !ok {
				return notFoundf("Mapping with key '%s' was not found.", mappingKey)
			}
			for _, f := range s.findings {
				if s.appMapping[f.appKey] == mappingKey {
					targets = append(targets, f)
				}
			}
		}
		var reassess []string
		for _, f := range targets {
			if !f.fixedAt.IsZero() {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE ma_findings SET fixed_at = ? WHERE key = ?`, formatTime(now), f.key); err != nil {
				return err
			}
			fixed = append(fixed, f.key)
			if m, ok := s.appMapping[f.appKey]; ok && !slices.Contains(reassess, m) {
				reassess = append(reassess, m)
			}
		}
		for _, m := range reassess {
			key, err := queueAssessment(ctx, tx, m, s.mappings[m].appKeys, now, delay)
			if err != nil {
				return err
			}
			queued = append(queued, key)
		}
		return nil
	})
	return maNonNil(fixed), maNonNil(queued), err
}
