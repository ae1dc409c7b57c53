package sandbox

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// store is package sandbox's handle on the database; the services not
// moved out of the package yet reach it through st.db, st.read and st.write.
type store struct {
	db *sqldb.DB
	// lt is LifeTime, whose service accounts the assessment tool admits.
	lt *lifetime.Service
	// ma is the assessment tool, whose mappings code migrations migrate.
	ma *assessment.Service
}

// openStore opens (creating if needed) the database at path, or a private
// in-memory database when path is empty, and creates the kernel's and
// LifeTime's tables.
func openStore(path string, logger *log.Logger) (*store, error) {
	db, err := sqldb.Open(path)
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec(sqldb.MetaSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema: %w", err)
	}
	lt, err := lifetime.New(context.Background(), db, logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &store{db: db, lt: lt}, nil
}

func (st *store) close() error { return st.db.Close() }

// read runs fn in a read-only transaction, giving it a consistent snapshot.
func (st *store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return st.db.Read(ctx, fn)
}

// --- seeding ---

// seed loads the fixture into an empty database. It reports false, leaving
// the database alone, when it was seeded before.
func (st *store) seed(ctx context.Context, f *fixture.Fixture) (bool, error) {
	return st.db.SeedOnce(ctx, "fixture", f.Name, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sandbox_meta (key, value) VALUES ('seeded_on', ?)`, sqldb.FormatTime(time.Now())); err != nil {
			return err
		}
		if err := st.lt.Seed(ctx, tx, &f.LifeTime); err != nil {
			return fmt.Errorf("seed lifetime: %w", err)
		}
		return nil
	})
}
