// Package codemigration imitates the Migration Kit's code migration, as the
// project's contract api/migration-kit/v1/openapi.yaml (tag CodeMigration)
// defines it: on the ODC portal, authenticated with ODC access tokens, it
// converts the tagged O11 versions of assessed mappings into ODC asset
// revisions. It owns its tables (cm_*), answers in the contract's
// ProblemDetails shape and reaches the other services only through the
// small interfaces below, which the kernel wires.
package codemigration

import (
	"context"
	"database/sql"
	"log"
	"net/http"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Family is the API family code migration requests are counted, throttled
// and failed under.
const Family = "codeMigration"

// DefaultDuration is how long a code migration runs when Options.Duration
// is zero.
const DefaultDuration = 5 * time.Second

// ODC is what a code migration needs of ODC (odc.Service): it admits
// callers with ODC access tokens, records the converted assets and tells
// which revisions were published.
type ODC interface {
	Authorize(w http.ResponseWriter, r *http.Request, permission string) (clientName string, ok bool)
	RecordMigratedAsset(ctx context.Context, tx *sql.Tx, a odc.MigratedAsset, at time.Time) (int, error)
	// AssetNamed finds the asset of a name: a mapping migrated for the first
	// time (or again, once its mapping or record is gone) migrates into it.
	AssetNamed(ctx context.Context, tx *sql.Tx, name string) (key, assetType string, err error)
	PublishedRevisions(ctx context.Context, tx *sql.Tx, refs []odc.RevisionRef, at time.Time) (map[odc.RevisionRef]bool, error)
}

// Mappings is what a code migration reads of the assessment tool
// (assessment.Service): the mappings it migrates and their names.
type Mappings interface {
	MigrationMappings(ctx context.Context, tx *sql.Tx, keys []string, now time.Time) (map[string]assessment.MigrationMapping, error)
	MappingName(ctx context.Context, tx *sql.Tx, key string) (string, bool, error)
	// For migration previews (preview.go): the mappings holding
	// applications, and the mapping a definition names.
	ApplicationHolders(ctx context.Context, tx *sql.Tx, appKeys []string) (map[string]assessment.AppHolder, error)
	MappingNamed(ctx context.Context, tx *sql.Tx, name string, now time.Time) (assessment.MigrationMapping, bool, error)
}

// LifeTime is what a code migration reads of the O11 portfolio
// (lifetime.Service): the source environment, the versions running there
// and, for the fixture, applications by name.
type LifeTime interface {
	EnvironmentByKey(ctx context.Context, tx *sql.Tx, key string) (lifetime.Environment, error)
	RunningVersionOf(ctx context.Context, tx *sql.Tx, appKey, envKey string) (lifetime.RunningVersion, error)
	ApplicationKeyByName(ctx context.Context, tx *sql.Tx, name string) (string, bool, error)
	// For portal migrations (portal.go): the applications with their
	// modules, and which module references which.
	PortfolioApps(ctx context.Context, tx *sql.Tx, keys ...string) ([]lifetime.PortfolioApp, error)
	ModuleReferences(ctx context.Context, tx *sql.Tx) ([]lifetime.ModuleReference, error)
	// For migration previews: the module versions of an application version.
	VersionModules(ctx context.Context, tx *sql.Tx, versionKey string) ([]lifetime.VersionModule, error)
}

// Options configure a Service.
type Options struct {
	// Now is the clock migrations are timed with, read at each request.
	Now func() time.Time
	// Duration is how long a migration runs; 0 means DefaultDuration.
	Duration time.Duration
	Logger   *log.Logger
}

// Service serves the code migration API from the database.
type Service struct {
	db       *sqldb.DB
	odc      ODC
	mappings Mappings
	lifetime LifeTime
	now      func() time.Time
	duration time.Duration
	logger   *log.Logger
}

// New creates the code migration tables when they are missing and, once
// per database, loads the fixture's outcomes (its applications must be in
// LifeTime's tables already).
func New(ctx context.Context, db *sqldb.DB, f *fixture.Fixture, o ODC, m Mappings, lt LifeTime, opts Options) (*Service, error) {
	s := &Service{db: db, odc: o, mappings: m, lifetime: lt, now: opts.Now, duration: opts.Duration, logger: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.duration <= 0 {
		s.duration = DefaultDuration
	}
	if s.logger == nil {
		s.logger = log.Default()
	}
	if err := s.prepare(ctx, f); err != nil {
		return nil, err
	}
	return s, nil
}

// APIs declares the code migration API family.
func (s *Service) APIs() []httpx.API {
	return []httpx.API{{Family: Family, Prefixes: []string{Base + "/"}, WriteError: assessment.KernelError}}
}

// FinishesAt returns when the migration with key is marked finished (its
// start plus the migration duration), whether or not that moment has
// passed, and false when there is no such migration.
func (s *Service) FinishesAt(ctx context.Context, key string) (time.Time, bool, error) {
	return s.finishesAt(ctx, key)
}

// Delete removes a code migration record, as OutSystems support purging it
// would; the ODC assets it produced stay. It reports httpx.ErrNotFound when
// there is no such migration.
func (s *Service) Delete(ctx context.Context, key string) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM cm_portal_migrations WHERE key = ?`, key); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM cm_migration_items WHERE migration_key = ?`, key); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM cm_migrations WHERE key = ?`, key)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			err = httpx.NotFoundf("Code migration with key '%s' was not found.", key)
		}
		return err
	})
}
