// Package assessment imitates the Migration Kit's assessment tool, as the
// project's contract api/migration-kit/v1/openapi.yaml defines it: the
// mappings of O11 applications to ODC assets (checked against the kit's
// rules, internal/migrationkit), their assessments and findings, and the
// readiness of each asset. It owns its tables (ma_*), seeds the fixture's
// findings, answers in the contract's ProblemDetails shape and reads the O11
// portfolio only through the LifeTime interface (lifetime.Service).
//
// Code migrations (package codemigration) use the narrow set of methods
// in migration.go, and share the contract's error shape and request
// parsing (Problem, WriteProblem, ReadObject, FieldParser, WritePage).
package assessment

import (
	"context"
	"database/sql"
	"log"
	"net/http"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Family is the API family the assessment tool's requests are counted,
// throttled and failed under.
const Family = "assessment"

// CodeTooManyRequests is the contract's error code for 429 answers (the
// contract documents 429 without naming a code).
const CodeTooManyRequests = "TOO_MANY_REQUESTS"

func init() { ProblemTitles[CodeTooManyRequests] = "Too many requests" }

// InUseFunc answers an error (MAPPING_IN_USE) when something still needs the
// mapping at now, in the caller's transaction; DELETE /mappings/{key} asks
// it first.
type InUseFunc func(ctx context.Context, tx *sql.Tx, mappingKey string, now time.Time) error

// Options configure a Service. The clock and delay are read at each
// request, so tests may change them while the sandbox serves.
type Options struct {
	// Now is the clock assessments are timed with.
	Now func() time.Time
	// Delay is how long an assessment takes: Queued, Running after half
	// of it, Finished after all of it.
	Delay func() time.Duration
	// InUse is asked before a mapping is deleted; nil allows every delete.
	InUse  InUseFunc
	Logger *log.Logger
}

// LifeTime is what the assessment tool reads of the O11 portfolio
// (lifetime.Service): the applications with their modules, the references
// between modules, and the service accounts its console admits.
type LifeTime interface {
	PortfolioApps(ctx context.Context, tx *sql.Tx, keys ...string) ([]lifetime.PortfolioApp, error)
	ModuleReferences(ctx context.Context, tx *sql.Tx) ([]lifetime.ModuleReference, error)
	AccountByToken(ctx context.Context, token string) (lifetime.ServiceAccount, error)
}

// Service serves the assessment tool's API from the database.
type Service struct {
	db     *sqldb.DB
	lt     LifeTime
	now    func() time.Time
	delay  func() time.Duration
	inUse  InUseFunc
	logger *log.Logger
}

// New creates the assessment tables when they are missing and, once per
// database, loads the fixture's findings (its applications and modules
// must be in LifeTime's tables already).
func New(ctx context.Context, db *sqldb.DB, lt LifeTime, f *fixture.Fixture, opts Options) (*Service, error) {
	s := &Service{db: db, lt: lt, now: opts.Now, delay: opts.Delay, inUse: opts.InUse, logger: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.delay == nil {
		s.delay = func() time.Duration { return DefaultDelay }
	}
	if s.inUse == nil {
		s.inUse = func(context.Context, *sql.Tx, string, time.Time) error { return nil }
	}
	if s.logger == nil {
		s.logger = log.Default()
	}
	if err := s.prepare(ctx, f); err != nil {
		return nil, err
	}
	return s, nil
}

// APIs declares the assessment tool's API family, under both names the
// kit has had.
func (s *Service) APIs() []httpx.API {
	return []httpx.API{{Family: Family, Prefixes: []string{"/MigrationAssessment/", "/ConversionAssessment/"},
		WriteError: KernelError}}
}

// KernelError answers an error the kernel makes (429, chaos failures) in
// the contract's shape.
func KernelError(w http.ResponseWriter, r *http.Request, status int, detail string) {
	code := CodeInternal
	if status == http.StatusTooManyRequests {
		code = CodeTooManyRequests
	}
	WriteProblem(w, r, &Problem{Status: status, Code: code, Detail: detail})
}

// FixFindings marks findings fixed, as if developers changed the O11 code:
// one finding (findingKey) or every open finding of a mapping (mappingKey).
// Each mapping holding a changed application gets a new assessment. It
// returns the keys of the findings fixed and of the assessments queued;
// httpx.ErrNotFound when there is no such finding or mapping.
func (s *Service) FixFindings(ctx context.Context, findingKey, mappingKey string) (fixed, queued []string, err error) {
	return s.fixFindings(ctx, s.now(), s.delay(), findingKey, mappingKey)
}
