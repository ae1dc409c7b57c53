package lifetime

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Values the sandbox fills in where LifeTime would show real data.
const (
	defaultPrimaryColor   = "#005A9C"
	sandboxDeveloper      = "Sandbox Developer"
	sandboxDeveloperLogin = "sandbox.developer"
	consistencyOK         = "OK"
)

// schema is LifeTime's tables; the assessment and code migration stores
// still read some of them directly (see reads.go for what they move to).
const schema = `
CREATE TABLE IF NOT EXISTS lt_service_accounts (
	name  TEXT PRIMARY KEY,
	token TEXT NOT NULL UNIQUE,
	role  TEXT NOT NULL CHECK (role IN ('Administrator', 'ReadOnly'))
);
CREATE TABLE IF NOT EXISTS lt_environments (
	key                     TEXT PRIMARY KEY,
	name                    TEXT NOT NULL UNIQUE,
	os_version              TEXT NOT NULL,
	sort_order              INTEGER NOT NULL,
	host_name               TEXT NOT NULL,
	use_https               INTEGER NOT NULL,
	environment_type        TEXT NOT NULL,
	number_of_front_ends    INTEGER NOT NULL,
	application_server_type TEXT NOT NULL,
	application_server      TEXT NOT NULL,
	database_provider       TEXT NOT NULL,
	is_cloud                INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lt_modules (
	key         TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	kind        TEXT NOT NULL CHECK (kind IN ('eSpace', 'Extension')),
	module_type TEXT NOT NULL CHECK (module_type IN ('Reactive', 'Mobile', 'Library', 'Extension')),
	description TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lt_module_references (
	consumer_key TEXT NOT NULL REFERENCES lt_modules (key),
	producer_key TEXT NOT NULL REFERENCES lt_modules (key),
	PRIMARY KEY (consumer_key, producer_key)
);
CREATE TABLE IF NOT EXISTS lt_applications (
	key         TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	kind        TEXT NOT NULL CHECK (kind IN ('WebResponsive', 'Mobile')),
	team        TEXT NOT NULL,
	description TEXT NOT NULL,
	url_path    TEXT NOT NULL,
	icon_hash   TEXT NOT NULL,
	is_system   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lt_application_modules (
	module_key      TEXT PRIMARY KEY REFERENCES lt_modules (key),
	application_key TEXT NOT NULL REFERENCES lt_applications (key),
	position        INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lt_module_versions (
	id                       INTEGER PRIMARY KEY,
	key                      TEXT NOT NULL UNIQUE,
	module_key               TEXT NOT NULL REFERENCES lt_modules (key),
	created_on               TEXT NOT NULL,
	created_by               TEXT NOT NULL,
	created_by_username      TEXT NOT NULL,
	general_hash             TEXT NOT NULL,
	direct_upgrade_from_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lt_module_versions_module ON lt_module_versions (module_key, id);
CREATE TABLE IF NOT EXISTS lt_application_versions (
	id                  INTEGER PRIMARY KEY,
	key                 TEXT NOT NULL UNIQUE,
	application_key     TEXT NOT NULL REFERENCES lt_applications (key),
	version             TEXT NOT NULL,
	change_log          TEXT NOT NULL,
	created_on          TEXT NOT NULL,
	primary_color       TEXT NOT NULL,
	native_hash         TEXT NOT NULL,
	mobile_versions     TEXT NOT NULL, -- JSON array of LifeTime MobileVersion objects
	module_version_keys TEXT NOT NULL, -- JSON array of module version keys
	UNIQUE (application_key, version)
);
CREATE TABLE IF NOT EXISTS lt_tags (
	version_key     TEXT PRIMARY KEY,
	application_key TEXT NOT NULL REFERENCES lt_applications (key),
	environment_key TEXT NOT NULL REFERENCES lt_environments (key),
	version         TEXT NOT NULL,
	ready_at        INTEGER NOT NULL, -- Unix nanoseconds
	pending         INTEGER NOT NULL, -- 1 while LifeTime still processes the tag
	payload         TEXT NOT NULL     -- JSON: the version and its module version keys
);
CREATE TABLE IF NOT EXISTS lt_app_env_status (
	application_key     TEXT NOT NULL REFERENCES lt_applications (key),
	environment_key     TEXT NOT NULL REFERENCES lt_environments (key),
	base_version_key    TEXT NOT NULL REFERENCES lt_application_versions (key),
	is_modified         INTEGER NOT NULL,
	module_version_keys TEXT NOT NULL, -- JSON array of the module versions running now
	PRIMARY KEY (application_key, environment_key)
);
`

func seedLifeTime(ctx context.Context, tx *sql.Tx, lt *fixture.LifeTime) error {
	for _, a := range lt.ServiceAccounts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO lt_service_accounts (name, token, role) VALUES (?, ?, ?)`,
			a.Name, a.Token, a.Role); err != nil {
			return err
		}
	}
	envKeys := map[string]string{}
	for _, e := range lt.Environments {
		envKeys[e.Name] = e.Key
		if _, err := tx.ExecContext(ctx, `INSERT INTO lt_environments (key, name, os_version, sort_order, host_name, use_https,
			environment_type, number_of_front_ends, application_server_type, application_server, database_provider, is_cloud)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Key, e.Name, e.OSVersion, e.Order, e.HostName, e.UseHTTPS, e.EnvironmentType, e.NumberOfFrontEnds,
			e.ApplicationServerType, e.ApplicationServer, e.DatabaseProvider, e.IsCloudEnvironment); err != nil {
			return err
		}
	}
	moduleKeys := map[string]string{}
	for _, m := range lt.Modules {
		moduleKeys[m.Name] = m.Key
		if _, err := tx.ExecContext(ctx, `INSERT INTO lt_modules (key, name, kind, module_type, description) VALUES (?, ?, ?, ?, ?)`,
			m.Key, m.Name, m.Kind, m.Type, m.Description); err != nil {
			return err
		}
	}
	for _, m := range lt.Modules {
		for _, ref := range m.References {
			if _, err := tx.ExecContext(ctx, `INSERT INTO lt_module_references (consumer_key, producer_key) VALUES (?, ?)`,
				m.Key, moduleKeys[ref]); err != nil {
				return err
			}
		}
	}
	for _, a := range lt.Applications {
		if err := seedApplication(ctx, tx, &a, envKeys, moduleKeys); err != nil {
			return fmt.Errorf("application %q: %w", a.Name, err)
		}
	}
	return nil
}

func seedApplication(ctx context.Context, tx *sql.Tx, a *fixture.Application, envKeys, moduleKeys map[string]string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO lt_applications (key, name, kind, team, description, url_path, icon_hash, is_system)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Key, a.Name, a.Kind, a.Team, a.Description, a.URLPath, sqldb.HashOf("icon", a.Key), a.IsSystem); err != nil {
		return err
	}
	modules := make([]string, len(a.Modules))
	for i, name := range a.Modules {
		modules[i] = moduleKeys[name]
		if _, err := tx.ExecContext(ctx, `INSERT INTO lt_application_modules (module_key, application_key, position) VALUES (?, ?, ?)`,
			modules[i], a.Key, i); err != nil {
			return err
		}
	}
	versions := map[string]fixture.Version{}
	for _, v := range a.Versions {
		versions[v.Version] = v
		// Each tagged version carries a new version of every module.
		mvKeys := make([]string, len(modules))
		for i, m := range modules {
			mvKeys[i] = sqldb.DerivedKey("module-version", v.Key, m)
			if err := insertModuleVersion(ctx, tx, mvKeys[i], m, v.CreatedOn); err != nil {
				return err
			}
		}
		mobile := make([]MobileVersion, len(v.MobileVersions))
		for i, mv := range v.MobileVersions {
			mobile[i] = MobileVersion(mv)
		}
		nativeHash := ""
		if a.Kind == "Mobile" {
			nativeHash = sqldb.HashOf("native", v.Key)
		}
		if err := insertApplicationVersion(ctx, tx, ApplicationVersion{
			Key: v.Key, ApplicationKey: a.Key, Version: v.Version, ChangeLog: v.ChangeLog, CreatedOn: v.CreatedOn,
			PrimaryColor: defaultPrimaryColor, NativeHash: nativeHash, MobileVersions: mobile,
		}, mvKeys); err != nil {
			return err
		}
	}
	for _, envName := range slices.Sorted(maps.Keys(a.Environments)) {
		d := a.Environments[envName]
		base := versions[d.Version]
		envKey := envKeys[envName]
		running := make([]string, len(modules))
		for i, m := range modules {
			running[i] = sqldb.DerivedKey("module-version", base.Key, m)
			if d.IsModified {
				// Developers published every module after the last tag.
				running[i] = sqldb.DerivedKey("module-version", base.Key, m, "modified-in", envKey)
				if err := insertModuleVersion(ctx, tx, running[i], m, base.CreatedOn.Add(24*time.Hour)); err != nil {
					return err
				}
			}
		}
		keys, err := sqldb.MarshalJSON(running)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO lt_app_env_status (application_key, environment_key, base_version_key, is_modified, module_version_keys)
			VALUES (?, ?, ?, ?, ?)`, a.Key, envKey, base.Key, d.IsModified, keys); err != nil {
			return err
		}
	}
	return nil
}

// insertModuleVersion records a new version of a module; it upgrades from
// the module's previous version.
func insertModuleVersion(ctx context.Context, tx *sql.Tx, key, moduleKey string, createdOn time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO lt_module_versions (key, module_key, created_on, created_by, created_by_username,
		general_hash, direct_upgrade_from_hash)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6,
			COALESCE((SELECT general_hash FROM lt_module_versions WHERE module_key = ?2 ORDER BY id DESC LIMIT 1), ''))`,
		key, moduleKey, sqldb.FormatTime(createdOn), sandboxDeveloper, sandboxDeveloperLogin, sqldb.HashOf("module-version", key))
	return err
}

func insertApplicationVersion(ctx context.Context, tx *sql.Tx, v ApplicationVersion, moduleVersionKeys []string) error {
	mobile, err := sqldb.MarshalJSON(v.MobileVersions)
	if err != nil {
		return err
	}
	keys, err := sqldb.MarshalJSON(moduleVersionKeys)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO lt_application_versions (key, application_key, version, change_log, created_on,
		primary_color, native_hash, mobile_versions, module_version_keys)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.Key, v.ApplicationKey, v.Version, v.ChangeLog, sqldb.FormatTime(v.CreatedOn), v.PrimaryColor, v.NativeHash, mobile, keys)
	return err
}

// --- service accounts ---

// ServiceAccount is a LifeTime service account: the name its errors show and
// its role (fixture.RoleAdministrator or fixture.RoleReadOnly).
type ServiceAccount struct {
	Name string
	Role string
}

// AccountByToken finds the service account a token belongs to.
func (s *Service) AccountByToken(ctx context.Context, token string) (ServiceAccount, error) {
	var a ServiceAccount
	err := s.db.QueryRowContext(ctx, `SELECT name, role FROM lt_service_accounts WHERE token = ?`, token).Scan(&a.Name, &a.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return a, httpx.NotFoundf("unknown token")
	}
	return a, err
}

// AdminToken returns the token of the first Administrator service account,
// or "" when there is none.
func (s *Service) AdminToken(ctx context.Context) (string, error) {
	var token string
	err := s.db.QueryRowContext(ctx, `SELECT token FROM lt_service_accounts WHERE role = 'Administrator' ORDER BY name LIMIT 1`).Scan(&token)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return token, err
}

// --- environments ---

func (s *Service) environments(ctx context.Context, envKey string) ([]Environment, error) {
	var envs []Environment
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		return sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var e Environment
			if err := rows.Scan(&e.Key, &e.Name, &e.OSVersion, &e.Order, &e.HostName, &e.UseHTTPS, &e.EnvironmentType,
				&e.NumberOfFrontEnds, &e.ApplicationServerType, &e.ApplicationServer, &e.DatabaseProvider, &e.IsCloudEnvironment); err != nil {
				return err
			}
			envs = append(envs, e)
			return nil
		}, `SELECT key, name, os_version, sort_order, host_name, use_https, environment_type, number_of_front_ends,
			application_server_type, application_server, database_provider, is_cloud
			FROM lt_environments WHERE ?1 = '' OR key = ?1 ORDER BY sort_order, name`, envKey)
	})
	return envs, err
}

func (s *Service) environment(ctx context.Context, envKey string) (Environment, error) {
	envs, err := s.environments(ctx, envKey)
	if err != nil {
		return Environment{}, err
	}
	if len(envs) == 0 {
		return Environment{}, httpx.NotFoundf("Environment with key '%s' was not found.", envKey)
	}
	return envs[0], nil
}

// --- applications ---

// appFilter selects applications and how much status to include.
type appFilter struct {
	appKey      string // only this application
	envKey      string // only applications deployed in this environment, and only its status
	withStatus  bool   // include AppStatusInEnvs
	withModules bool   // include ModuleStatusInEnvs in each status
}

func (s *Service) applications(ctx context.Context, f appFilter) ([]Application, error) {
	var apps []Application
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var a Application
			if err := rows.Scan(&a.Key, &a.Name, &a.Kind, &a.Team, &a.Description, &a.URLPath, &a.IconHash, &a.IsSystem); err != nil {
				return err
			}
			apps = append(apps, a)
			return nil
		}, `SELECT a.key, a.name, a.kind, a.team, a.description, a.url_path, a.icon_hash, a.is_system
			FROM lt_applications a
			WHERE (?1 = '' OR a.key = ?1)
			  AND (?2 = '' OR EXISTS (SELECT 1 FROM lt_app_env_status s WHERE s.application_key = a.key AND s.environment_key = ?2))
			ORDER BY a.name`, f.appKey, f.envKey); err != nil {
			return err
		}
		if !f.withStatus || len(apps) == 0 {
			return nil
		}
		statuses, err := appStatuses(ctx, tx, f)
		if err != nil {
			return err
		}
		for i := range apps {
			apps[i].AppStatusInEnvs = statuses[apps[i].Key]
			if apps[i].AppStatusInEnvs == nil {
				apps[i].AppStatusInEnvs = []AppStatusInEnv{}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if f.appKey != "" && len(apps) == 0 {
		if f.envKey != "" {
			return nil, httpx.NotFoundf("Application with key '%s' was not found in environment with key '%s'.", f.appKey, f.envKey)
		}
		return nil, httpx.NotFoundf("Application with key '%s' was not found.", f.appKey)
	}
	return apps, nil
}

// appStatuses loads the status of the selected applications per environment,
// by application key, in environment order.
func appStatuses(ctx context.Context, tx *sql.Tx, f appFilter) (map[string][]AppStatusInEnv, error) {
	var modules map[[2]string][]ModuleStatusInEnv
	if f.withModules {
		all, err := moduleStatuses(ctx, tx, moduleStatusFilter{appKey: f.appKey, envKey: f.envKey})
		if err != nil {
			return nil, err
		}
		modules = map[[2]string][]ModuleStatusInEnv{}
		for _, m := range all {
			k := [2]string{m.ApplicationKey, m.EnvironmentKey}
			modules[k] = append(modules[k], m)
		}
	}
	statuses := map[string][]AppStatusInEnv{}
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var appKey, appName, version, mobileJSON string
		var s AppStatusInEnv
		if err := rows.Scan(&appKey, &appName, &s.EnvironmentKey, &s.BaseApplicationVersionKey, &s.IsModified, &version, &mobileJSON); err != nil {
			return err
		}
		var mobile []MobileVersion
		if err := json.Unmarshal([]byte(mobileJSON), &mobile); err != nil {
			return fmt.Errorf("application version %s: mobile versions: %w", s.BaseApplicationVersionKey, err)
		}
		s.BaseApplicationVersionLabel = version
		s.ConsistencyStatus = consistencyOK
		s.DeploymentZoneKey = sqldb.DerivedKey("deployment-zone", s.EnvironmentKey)
		if s.IsModified {
			s.IsModifiedReason = "ModifiedAfterTag"
			s.IsModifiedMessage = fmt.Sprintf("Application '%s' has changes published after version %s was tagged.", appName, version)
		}
		s.MobileAppsStatus = make([]MobileAppStatus, len(mobile))
		for i, m := range mobile {
			s.MobileAppsStatus[i] = MobileAppStatus{
				EnvironmentKey: s.EnvironmentKey, NativePlatform: m.NativePlatform, VersionNumber: m.VersionNumber,
				HasBinaryAvailable: true, IsConfigured: true,
			}
		}
		if f.withModules {
			s.ModuleStatusInEnvs = modules[[2]string{appKey, s.EnvironmentKey}]
			if s.ModuleStatusInEnvs == nil {
				s.ModuleStatusInEnvs = []ModuleStatusInEnv{}
			}
		}
		statuses[appKey] = append(statuses[appKey], s)
		return nil
	}, `SELECT s.application_key, a.name, s.environment_key, s.base_version_key, s.is_modified, v.version, v.mobile_versions
		FROM lt_app_env_status s
		JOIN lt_applications a ON a.key = s.application_key
		JOIN lt_application_versions v ON v.key = s.base_version_key
		JOIN lt_environments e ON e.key = s.environment_key
		WHERE (?1 = '' OR s.application_key = ?1) AND (?2 = '' OR s.environment_key = ?2)
		ORDER BY e.sort_order, e.name`, f.appKey, f.envKey)
	return statuses, err
}

type moduleStatusFilter struct {
	appKey, envKey, moduleKey string
}

// moduleStatuses lists which module versions run where, in environment
// order and then in the order of the modules in their application.
func moduleStatuses(ctx context.Context, tx *sql.Tx, f moduleStatusFilter) ([]ModuleStatusInEnv, error) {
	var out []ModuleStatusInEnv
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		m := ModuleStatusInEnv{ConsistencyStatus: consistencyOK}
		if err := rows.Scan(&m.ApplicationKey, &m.ModuleKey, &m.EnvironmentKey, &m.ModuleVersionKey); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	}, `SELECT s.application_key, mv.module_key, s.environment_key, mv.key
		FROM lt_app_env_status s
		JOIN json_each(s.module_version_keys) j
		JOIN lt_module_versions mv ON mv.key = j.value
		JOIN lt_application_modules am ON am.module_key = mv.module_key
		JOIN lt_environments e ON e.key = s.environment_key
		WHERE (?1 = '' OR s.application_key = ?1) AND (?2 = '' OR s.environment_key = ?2) AND (?3 = '' OR mv.module_key = ?3)
		ORDER BY e.sort_order, e.name, am.position`, f.appKey, f.envKey, f.moduleKey)
	return out, err
}

// --- application versions ---

// applicationVersions lists an application's versions, newest first; limit
// < 0 means all. With versionKey it returns just that version.
func (s *Service) applicationVersions(ctx context.Context, appKey, versionKey string, limit int) ([]ApplicationVersion, error) {
	var versions []ApplicationVersion
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		if _, _, err := applicationNameKind(ctx, tx, appKey); err != nil {
			return err
		}
		var moduleKeys [][]string
		if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var v ApplicationVersion
			var created, mobileJSON, keysJSON string
			if err := rows.Scan(&v.Key, &v.ApplicationKey, &v.Version, &v.ChangeLog, &created, &v.PrimaryColor, &v.NativeHash,
				&mobileJSON, &keysJSON, &v.InUse, &v.EnvironmentKey); err != nil {
				return err
			}
			var keys []string
			var err error
			if v.CreatedOn, err = sqldb.ParseTime(created); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(mobileJSON), &v.MobileVersions); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(keysJSON), &keys); err != nil {
				return err
			}
			versions = append(versions, v)
			moduleKeys = append(moduleKeys, keys)
			return nil
		}, `SELECT v.key, v.application_key, v.version, v.change_log, v.created_on, v.primary_color, v.native_hash, v.mobile_versions,
				v.module_version_keys,
				EXISTS (SELECT 1 FROM lt_app_env_status s WHERE s.base_version_key = v.key),
				COALESCE((SELECT t.environment_key FROM lt_tags t WHERE t.version_key = v.key),
					(SELECT s.environment_key FROM lt_app_env_status s JOIN lt_environments e ON e.key = s.environment_key
						WHERE s.base_version_key = v.key ORDER BY e.sort_order, e.name LIMIT 1), '')
			FROM lt_application_versions v
			WHERE v.application_key = ?1 AND (?2 = '' OR v.key = ?2)
			ORDER BY id DESC LIMIT ?3`, appKey, versionKey, limit); err != nil {
			return err
		}
		if versionKey != "" && len(versions) == 0 {
			return httpx.NotFoundf("Application version with key '%s' was not found for application with key '%s'.", versionKey, appKey)
		}
		byKey, err := moduleVersionsByKey(ctx, tx, slices.Concat(moduleKeys...))
		if err != nil {
			return err
		}
		for i, keys := range moduleKeys {
			versions[i].ModuleVersions = make([]ModuleVersion, 0, len(keys))
			for _, k := range keys {
				if mv, ok := byKey[k]; ok {
					versions[i].ModuleVersions = append(versions[i].ModuleVersions, mv)
				}
			}
		}
		return nil
	})
	return versions, err
}

func applicationNameKind(ctx context.Context, tx *sql.Tx, appKey string) (name, kind string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT name, kind FROM lt_applications WHERE key = ?`, appKey).Scan(&name, &kind)
	if errors.Is(err, sql.ErrNoRows) {
		err = httpx.NotFoundf("Application with key '%s' was not found.", appKey)
	}
	return name, kind, err
}

func environmentName(ctx context.Context, tx *sql.Tx, envKey string) (string, error) {
	var name string
	err := tx.QueryRowContext(ctx, `SELECT name FROM lt_environments WHERE key = ?`, envKey).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		err = httpx.NotFoundf("Environment with key '%s' was not found.", envKey)
	}
	return name, err
}

const moduleVersionColumns = `key, module_key, created_on, created_by, created_by_username, general_hash, direct_upgrade_from_hash`

func scanModuleVersion(rows *sql.Rows) (ModuleVersion, error) {
	var mv ModuleVersion
	var created string
	if err := rows.Scan(&mv.Key, &mv.ModuleKey, &created, &mv.CreatedBy, &mv.CreatedByUsername, &mv.GeneralHash, &mv.DirectUpgradeFromHash); err != nil {
		return mv, err
	}
	var err error
	mv.CreatedOn, err = sqldb.ParseTime(created)
	return mv, err
}

func moduleVersionsByKey(ctx context.Context, tx *sql.Tx, keys []string) (map[string]ModuleVersion, error) {
	byKey := map[string]ModuleVersion{}
	if len(keys) == 0 {
		return byKey, nil
	}
	keysJSON, err := sqldb.MarshalJSON(keys)
	if err != nil {
		return nil, err
	}
	err = sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		mv, err := scanModuleVersion(rows)
		byKey[mv.Key] = mv
		return err
	}, `SELECT `+moduleVersionColumns+` FROM lt_module_versions WHERE key IN (SELECT value FROM json_each(?))`, keysJSON)
	return byKey, err
}

// tagVersion creates a new application version from what runs in the
// environment now and makes it the environment's base version, once
// LifeTime has processed it (Options.TagDelay; see tags.go).
func (s *Service) tagVersion(ctx context.Context, envKey, appKey string, req TagRequest) (string, error) {
	newKey := uuid.NewString()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		appName, kind, err := applicationNameKind(ctx, tx, appKey)
		if err != nil {
			return err
		}
		envName, err := environmentName(ctx, tx, envKey)
		if err != nil {
			return err
		}
		var baseKey, runningJSON string
		err = tx.QueryRowContext(ctx, `SELECT base_version_key, module_version_keys FROM lt_app_env_status
			WHERE application_key = ? AND environment_key = ?`, appKey, envKey).Scan(&baseKey, &runningJSON)
		if errors.Is(err, sql.ErrNoRows) {
			return httpx.NotFoundf("Application '%s' is not deployed in environment '%s'.", appName, envName)
		}
		if err != nil {
			return err
		}
		if len(req.MobileVersions) > 0 && kind != "Mobile" {
			return httpx.Invalidf("Application '%s' is not a mobile application: MobileVersions must be empty.", appName)
		}
		var running []string
		if err := json.Unmarshal([]byte(runningJSON), &running); err != nil {
			return err
		}
		if req.ModuleVersionKeys != nil && !SameKeys(req.ModuleVersionKeys, running) {
			return httpx.Invalidf("Application '%s' changed in environment '%s': the module versions sent do not match the ones running there. Read the application status again before creating the version.", appName, envName)
		}
		var used int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM lt_application_versions WHERE application_key = ?1 AND version = ?2)
			+ (SELECT count(*) FROM lt_tags WHERE application_key = ?1 AND version = ?2 AND pending = 1)`,
			appKey, req.Version).Scan(&used); err != nil {
			return err
		}
		if used > 0 {
			return httpx.Invalidf("Version '%s' already exists for application '%s'. Choose a version that was not used before.", req.Version, appName)
		}
		v := ApplicationVersion{
			Key: newKey, ApplicationKey: appKey, Version: req.Version, ChangeLog: req.ChangeLog,
			CreatedOn: time.Now(), MobileVersions: req.MobileVersions,
		}
		if v.MobileVersions == nil {
			v.MobileVersions = []MobileVersion{}
		}
		if err := tx.QueryRowContext(ctx, `SELECT primary_color, native_hash FROM lt_application_versions WHERE key = ?`,
			baseKey).Scan(&v.PrimaryColor, &v.NativeHash); err != nil {
			return err
		}
		return s.recordTag(ctx, tx, envKey, v, running)
	})
	if err != nil {
		return "", err
	}
	return newKey, nil
}

// SameKeys reports whether two lists hold the same GUIDs, in any order and
// letter case.
func SameKeys(a, b []string) bool {
	norm := func(keys []string) []string {
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = strings.ToLower(k)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(norm(a), norm(b))
}

// deleteApplicationVersion removes a version that no environment runs.
func (s *Service) deleteApplicationVersion(ctx context.Context, appKey, versionKey string) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		appName, _, err := applicationNameKind(ctx, tx, appKey)
		if err != nil {
			return err
		}
		var version string
		err = tx.QueryRowContext(ctx, `SELECT version FROM lt_application_versions WHERE key = ? AND application_key = ?`,
			versionKey, appKey).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return httpx.NotFoundf("Application version with key '%s' was not found for application '%s'.", versionKey, appName)
		}
		if err != nil {
			return err
		}
		var envs []string
		if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var name string
			err := rows.Scan(&name)
			envs = append(envs, "'"+name+"'")
			return err
		}, `SELECT e.name FROM lt_app_env_status s JOIN lt_environments e ON e.key = s.environment_key
			WHERE s.base_version_key = ? ORDER BY e.sort_order, e.name`, versionKey); err != nil {
			return err
		}
		if len(envs) > 0 {
			return refusedf("Version '%s' of application '%s' cannot be deleted because it is the version running in environment %s.",
				version, appName, strings.Join(envs, ", "))
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM lt_application_versions WHERE key = ?`, versionKey)
		return err
	})
}

// MarkModified simulates developers publishing the application's modules in
// the environment after its last tag (modified) or reverting to the tagged
// version (not modified).
func (s *Service) MarkModified(ctx context.Context, envKey, appKey string, modified bool) error {
	if err := s.Settle(ctx); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		appName, _, err := applicationNameKind(ctx, tx, appKey)
		if err != nil {
			return err
		}
		envName, err := environmentName(ctx, tx, envKey)
		if err != nil {
			return err
		}
		var baseKey string
		err = tx.QueryRowContext(ctx, `SELECT base_version_key FROM lt_app_env_status WHERE application_key = ? AND environment_key = ?`,
			appKey, envKey).Scan(&baseKey)
		if errors.Is(err, sql.ErrNoRows) {
			return httpx.NotFoundf("Application '%s' is not deployed in environment '%s'.", appName, envName)
		}
		if err != nil {
			return err
		}
		var runningJSON string
		if modified {
			var modules []string
			if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
				var key string
				err := rows.Scan(&key)
				modules = append(modules, key)
				return err
			}, `SELECT module_key FROM lt_application_modules WHERE application_key = ? ORDER BY position`, appKey); err != nil {
				return err
			}
			running := make([]string, len(modules))
			now := time.Now()
			for i, m := range modules {
				running[i] = uuid.NewString()
				if err := insertModuleVersion(ctx, tx, running[i], m, now); err != nil {
					return err
				}
			}
			if runningJSON, err = sqldb.MarshalJSON(running); err != nil {
				return err
			}
		} else if err := tx.QueryRowContext(ctx, `SELECT module_version_keys FROM lt_application_versions WHERE key = ?`,
			baseKey).Scan(&runningJSON); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE lt_app_env_status SET is_modified = ?, module_version_keys = ?
			WHERE application_key = ? AND environment_key = ?`, modified, runningJSON, appKey, envKey)
		return err
	})
}

// --- modules ---

func (s *Service) modules(ctx context.Context, moduleKey string, withStatus bool) ([]Module, error) {
	var modules []Module
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var m Module
			err := rows.Scan(&m.Key, &m.Name, &m.Description, &m.Kind)
			modules = append(modules, m)
			return err
		}, `SELECT key, name, description, kind FROM lt_modules WHERE ?1 = '' OR key = ?1 ORDER BY name`, moduleKey); err != nil {
			return err
		}
		if !withStatus || len(modules) == 0 {
			return nil
		}
		statuses, err := moduleStatuses(ctx, tx, moduleStatusFilter{moduleKey: moduleKey})
		if err != nil {
			return err
		}
		byModule := map[string][]ModuleStatusInEnv{}
		for _, s := range statuses {
			byModule[s.ModuleKey] = append(byModule[s.ModuleKey], s)
		}
		for i := range modules {
			modules[i].ModuleStatusInEnv = byModule[modules[i].Key]
			if modules[i].ModuleStatusInEnv == nil {
				modules[i].ModuleStatusInEnv = []ModuleStatusInEnv{}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if moduleKey != "" && len(modules) == 0 {
		return nil, httpx.NotFoundf("Module with key '%s' was not found.", moduleKey)
	}
	return modules, nil
}

// moduleVersions lists a module's versions, newest first; limit < 0 means all.
func (s *Service) moduleVersions(ctx context.Context, moduleKey string, limit int) ([]ModuleVersion, error) {
	var versions []ModuleVersion
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM lt_modules WHERE key = ?`, moduleKey).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return httpx.NotFoundf("Module with key '%s' was not found.", moduleKey)
		}
		return sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			mv, err := scanModuleVersion(rows)
			versions = append(versions, mv)
			return err
		}, `SELECT `+moduleVersionColumns+` FROM lt_module_versions WHERE module_key = ? ORDER BY id DESC LIMIT ?`, moduleKey, limit)
	})
	return versions, err
}
