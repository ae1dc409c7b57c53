// Package sqldb opens the sandbox's SQLite database and counts the
// statements run on it. Each imitated service owns its tables (DDL and
// seeding); this package owns only opening, the transactions helpers and
// the statement counter, so a test can prove a request reads only what it
// needs.
package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
)

// DB is the sandbox's database. Writes are serialised and run in
// IMMEDIATE transactions, so concurrent requests never see SQLITE_BUSY;
// reads run in read-only (deferred) transactions.
type DB struct {
	*sql.DB
	writeMu sync.Mutex
	counter *counter
}

// Open opens (creating if needed) the database at path, or a private
// in-memory database when path is empty. Every statement run through the
// returned DB is counted (see Statements).
func Open(path string) (*DB, error) {
	const params = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	var dsn string
	switch {
	case path == "":
		dsn = ":memory:?" + params
	case strings.ContainsAny(path, "?#"):
		return nil, fmt.Errorf("database path %q must not contain '?' or '#'", path)
	default:
		dsn = path + "?" + params + "&_pragma=journal_mode(WAL)"
	}
	c := &counter{}
	db := sql.OpenDB(&connector{dsn: dsn, counter: c})
	if path == "" {
		// Every connection to ":memory:" is a separate database: keep exactly
		// one, forever.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return &DB{DB: db, counter: c}, nil
}

// Statements returns how many statements (Exec and Query, in transactions
// or not) ran on the database since it was opened.
func (db *DB) Statements() int64 { return db.counter.n.Load() }

// Read runs fn in a read-only transaction, giving it a consistent snapshot.
func (db *DB) Read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// Write runs fn in a write transaction and commits when fn succeeds.
// Writes are serialised.
func (db *DB) Write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// QueryRows runs a query and calls scan for each row. All rows are read
// before it returns, so the caller may query again right after (the
// in-memory database has a single connection).
func QueryRows(ctx context.Context, tx *sql.Tx, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// FormatTime is how times are stored: UTC, RFC 3339 with nanoseconds.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ParseTime reads a time FormatTime wrote.
func ParseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

// MarshalJSON returns v as a JSON string, for JSON columns.
func MarshalJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// MetaSchema is the table the kernel keeps what it knows of the database
// in (which fixture seeded it, when).
const MetaSchema = `
CREATE TABLE IF NOT EXISTS sandbox_meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`

// SeedOnce runs seed in a write transaction the first time the database
// meets key, and records key (with value, e.g. the fixture's name) in
// sandbox_meta in the same transaction, so a database seeded before keeps
// its state. It reports whether seed ran.
func (db *DB) SeedOnce(ctx context.Context, key, value string, seed func(tx *sql.Tx) error) (bool, error) {
	ran := false
	err := db.Write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sandbox_meta WHERE key = ?`, key).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sandbox_meta (key, value) VALUES (?, ?)`, key, value); err != nil {
			return err
		}
		ran = true
		return seed(tx)
	})
	return ran && err == nil, err
}
