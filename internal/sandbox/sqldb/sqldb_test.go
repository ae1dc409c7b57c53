package sqldb

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

func TestStatementsAreCounted(t *testing.T) {
	db, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	before := db.Statements()
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		for i := range 3 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (n) VALUES (?)`, i); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := db.Statements() - before; got != 3 {
		t.Fatalf("3 inserts in a transaction counted %d statements", got)
	}
	before = db.Statements()
	var sum int
	if err := db.Read(ctx, func(tx *sql.Tx) error {
		return QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var n int
			err := rows.Scan(&n)
			sum += n
			return err
		}, `SELECT n FROM t`)
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if got := db.Statements() - before; got != 2 {
		t.Fatalf("two queries counted %d statements", got)
	}
	st, err := db.PrepareContext(ctx, `SELECT n FROM t WHERE n = ?`)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before = db.Statements()
	for i := range 2 {
		var n int
		if err := st.QueryRowContext(ctx, i).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	if got := db.Statements() - before; got != 2 {
		t.Fatalf("two runs of a prepared statement counted %d statements", got)
	}
}

func TestSeedOnce(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "seed.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, MetaSchema+`CREATE TABLE things (name TEXT)`); err != nil {
		t.Fatal(err)
	}
	seed := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO things (name) VALUES ('a')`)
		return err
	}
	for i, want := range []bool{true, false} {
		ran, err := db.SeedOnce(ctx, "things_fixture", "default", seed)
		if err != nil || ran != want {
			t.Fatalf("SeedOnce #%d = %v, %v; want %v", i+1, ran, err, want)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM things`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("things = %d (%v), want 1: seeded once", n, err)
	}
	// A failed seed records nothing: the next start tries again.
	boom := errors.New("boom")
	if ran, err := db.SeedOnce(ctx, "other", "x", func(*sql.Tx) error { return boom }); ran || !errors.Is(err, boom) {
		t.Fatalf("failing SeedOnce = %v, %v", ran, err)
	}
	if ran, err := db.SeedOnce(ctx, "other", "x", seed); !ran || err != nil {
		t.Fatalf("SeedOnce after a failed one = %v, %v; want it to run", ran, err)
	}
}
