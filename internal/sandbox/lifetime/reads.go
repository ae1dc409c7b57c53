package lifetime

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Reads for the services built on the O11 portfolio (the assessment tool,
// code migrations): they take the caller's transaction, so what they read
// is consistent with the caller's own tables, or nil to read in a
// transaction of their own.

// PortfolioApp is an O11 application with its modules, in their order.
type PortfolioApp struct {
	Key, Name, Kind string
	// IsSystem marks the platform's own applications, which the
	// assessment tool does not see.
	IsSystem bool
	Modules  []PortfolioModule
}

// PortfolioModule is a module of an application.
type PortfolioModule struct {
	Key, Name string
	Kind      string // eSpace or Extension
	Type      string // Reactive, Mobile, Library or Extension
}

// LibraryOnly reports whether every module of the application is a Library.
func (a PortfolioApp) LibraryOnly() bool {
	return !slices.ContainsFunc(a.Modules, func(m PortfolioModule) bool { return m.Type != "Library" })
}

// ModuleReference says a module consumes (references) another.
type ModuleReference struct {
	ConsumerKey, ProducerKey string
}

// RunningVersion is what runs of an application in an environment: the
// tagged version it is based on, and whether it changed since the tag.
type RunningVersion struct {
	ApplicationKey, EnvironmentKey string
	VersionKey, Version            string
	IsModified                     bool
}

// inTx runs fn in tx, or in a read transaction of its own when tx is nil.
func (s *Service) inTx(ctx context.Context, tx *sql.Tx, fn func(tx *sql.Tx) error) error {
	if tx != nil {
		return fn(tx)
	}
	return s.db.Read(ctx, fn)
}

// PortfolioApps lists the applications (by name) with their modules; with
// keys, only those applications.
func (s *Service) PortfolioApps(ctx context.Context, tx *sql.Tx, keys ...string) ([]PortfolioApp, error) {
	var apps []PortfolioApp
	err := s.inTx(ctx, tx, func(tx *sql.Tx) error {
		filter, err := sqldb.MarshalJSON(keys)
		if err != nil {
			return err
		}
		return sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var a PortfolioApp
			var m PortfolioModule
			if err := rows.Scan(&a.Key, &a.Name, &a.Kind, &a.IsSystem, &m.Key, &m.Name, &m.Kind, &m.Type); err != nil {
				return err
			}
			if n := len(apps); n > 0 && apps[n-1].Key == a.Key {
				apps[n-1].Modules = append(apps[n-1].Modules, m)
				return nil
			}
			a.Modules = []PortfolioModule{m}
			apps = append(apps, a)
			return nil
		}, `SELECT a.key, a.name, a.kind, a.is_system, m.key, m.name, m.kind, m.module_type
			FROM lt_applications a
			JOIN lt_application_modules am ON am.application_key = a.key
			JOIN lt_modules m ON m.key = am.module_key
			WHERE ?1 = 'null' OR a.key IN (SELECT value FROM json_each(?1))
			ORDER BY a.name, a.key, am.position`, filter)
	})
	return apps, err
}

// ModuleReferences lists which module consumes which.
func (s *Service) ModuleReferences(ctx context.Context, tx *sql.Tx) ([]ModuleReference, error) {
	var refs []ModuleReference
	err := s.inTx(ctx, tx, func(tx *sql.Tx) error {
		return sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var r ModuleReference
			err := rows.Scan(&r.ConsumerKey, &r.ProducerKey)
			refs = append(refs, r)
			return err
		}, `SELECT consumer_key, producer_key FROM lt_module_references ORDER BY consumer_key, producer_key`)
	})
	return refs, err
}

// EnvironmentByKey returns an environment; httpx.ErrNotFound when there is
// none with that key.
func (s *Service) EnvironmentByKey(ctx context.Context, tx *sql.Tx, key string) (Environment, error) {
	var e Environment
	err := s.inTx(ctx, tx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT key, name, os_version, sort_order, host_name, use_https, environment_type,
			number_of_front_ends, application_server_type, application_server, database_provider, is_cloud
			FROM lt_environments WHERE key = ?`, key).Scan(&e.Key, &e.Name, &e.OSVersion, &e.Order, &e.HostName, &e.UseHTTPS,
			&e.EnvironmentType, &e.NumberOfFrontEnds, &e.ApplicationServerType, &e.ApplicationServer, &e.DatabaseProvider, &e.IsCloudEnvironment)
		if errors.Is(err, sql.ErrNoRows) {
			return httpx.NotFoundf("Environment with key '%s' was not found.", key)
		}
		return err
	})
	return e, err
}

// RunningVersionOf returns the tagged version an application runs in an
// environment; httpx.ErrNotFound when it is not deployed there.
func (s *Service) RunningVersionOf(ctx context.Context, tx *sql.Tx, appKey, envKey string) (RunningVersion, error) {
	v := RunningVersion{ApplicationKey: appKey, EnvironmentKey: envKey}
	err := s.inTx(ctx, tx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT s.base_version_key, v.version, s.is_modified
			FROM lt_app_env_status s JOIN lt_application_versions v ON v.key = s.base_version_key
			WHERE s.application_key = ? AND s.environment_key = ?`, appKey, envKey).Scan(&v.VersionKey, &v.Version, &v.IsModified)
		if errors.Is(err, sql.ErrNoRows) {
			return httpx.NotFoundf("Application with key '%s' is not deployed in environment with key '%s'.", appKey, envKey)
		}
		return err
	})
	return v, err
}
