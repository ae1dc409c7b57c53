// Package lifetime imitates LifeTime API v2 (/lifetimeapi/rest/v2): the
// OutSystems 11 environments, applications, modules and their versions,
// behind LifeTime service accounts. It owns its tables (lt_*), seeds them
// from the fixture's lifetime section, answers in LifeTime's error shape
// ({"Errors":[..],"StatusCode":n}) and offers read methods to the services
// built on the O11 portfolio (the assessment tool, code migrations).
package lifetime

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Family is the API family name LifeTime's requests are counted,
// throttled and failed under.
const Family = "lifetime"

// Service serves LifeTime API v2 from the database.
type Service struct {
	db     *sqldb.DB
	logger *log.Logger
	// tagDelay is Options.TagDelay resolved; pending counts the tags still
	// being processed (see tags.go).
	tagDelay time.Duration
	pending  atomic.Int64
}

// New creates LifeTime's tables in db when they are missing. logger gets a
// line for each internal error.
func New(ctx context.Context, db *sqldb.DB, logger *log.Logger) (*Service, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("create the lifetime schema: %w", err)
	}
	s := &Service{db: db, logger: logger, tagDelay: DefaultTagDelay}
	// Tags a previous run left pending are processed by the next request.
	if err := db.Read(ctx, func(tx *sql.Tx) error { return s.countPending(ctx, tx) }); err != nil {
		return nil, fmt.Errorf("read the pending lifetime tags: %w", err)
	}
	return s, nil
}

// Seed loads the fixture's lifetime section into the empty tables, in the
// kernel's seeding transaction.
func (s *Service) Seed(ctx context.Context, tx *sql.Tx, f *fixture.LifeTime) error {
	return seedLifeTime(ctx, tx, f)
}

// APIs declares LifeTime's one API family.
func (s *Service) APIs() []httpx.API {
	return []httpx.API{{Family: Family, Prefixes: []string{"/lifetimeapi/"},
		WriteError: func(w http.ResponseWriter, _ *http.Request, status int, detail string) { writeError(w, status, detail) }}}
}

// writeError answers in LifeTime's error shape:
// {"Errors":["..."],"StatusCode":400}.
func writeError(w http.ResponseWriter, status int, messages ...string) {
	httpx.WriteJSON(w, status, APIError{Errors: messages, StatusCode: status})
}

// writeStoreError answers a store error in LifeTime's shape.
func (s *Service) writeStoreError(w http.ResponseWriter, r *http.Request, err error, onError httpx.ErrorWriter) {
	httpx.WriteStoreError(s.logger, w, r, err, onError)
}
