package lifetime

import (
	"database/sql"
	"errors"
	"io"
	"log"
	"testing"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// newSeeded returns LifeTime on a fresh in-memory database seeded with the
// default fixture.
func newSeeded(t *testing.T) (*Service, *sqldb.DB, *fixture.Fixture) {
	t.Helper()
	db, err := sqldb.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	s, err := New(ctx, db, log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	f := fixture.Default()
	if err := db.Write(ctx, func(tx *sql.Tx) error { return s.Seed(ctx, tx, &f.LifeTime) }); err != nil {
		t.Fatal(err)
	}
	return s, db, f
}

func TestReadsForOtherServices(t *testing.T) {
	s, db, f := newSeeded(t)
	ctx := t.Context()

	apps, err := s.PortfolioApps(ctx, nil)
	if err != nil || len(apps) != len(f.LifeTime.Applications) {
		t.Fatalf("PortfolioApps = %d apps, %v; want %d", len(apps), err, len(f.LifeTime.Applications))
	}
	types := map[string]string{}
	for _, m := range f.LifeTime.Modules {
		types[m.Name] = m.Type
	}
	for _, a := range apps {
		var want *fixture.Application
		for i := range f.LifeTime.Applications {
			if f.LifeTime.Applications[i].Key == a.Key {
				want = &f.LifeTime.Applications[i]
			}
		}
		if want == nil || len(a.Modules) != len(want.Modules) {
			t.Fatalf("application %+v does not match the fixture", a)
		}
		library := true
		for i, m := range a.Modules {
			if m.Name != want.Modules[i] {
				t.Errorf("%s: module %d = %q, want %q", a.Name, i, m.Name, want.Modules[i])
			}
			library = library && types[m.Name] == "Library"
		}
		if a.LibraryOnly() != library {
			t.Errorf("%s: LibraryOnly = %v", a.Name, a.LibraryOnly())
		}
	}

	one := apps[0]
	before := db.Statements()
	got, err := s.PortfolioApps(ctx, nil, one.Key)
	if err != nil || len(got) != 1 || got[0].Key != one.Key {
		t.Fatalf("PortfolioApps(%s) = %+v, %v", one.Key, got, err)
	}
	// The transaction's BEGIN and ROLLBACK are not counted: one query reads
	// the application and its modules.
	if n := db.Statements() - before; n != 1 {
		t.Errorf("PortfolioApps of one application ran %d statements, want 1", n)
	}

	refs, err := s.ModuleReferences(ctx, nil)
	wantRefs := 0
	for _, m := range f.LifeTime.Modules {
		wantRefs += len(m.References)
	}
	if err != nil || len(refs) != wantRefs {
		t.Errorf("ModuleReferences = %d, %v; want %d", len(refs), err, wantRefs)
	}

	env := f.LifeTime.Environments[0]
	if err := db.Read(ctx, func(tx *sql.Tx) error {
		e, err := s.EnvironmentByKey(ctx, tx, env.Key)
		if err != nil || e.Name != env.Name {
			t.Errorf("EnvironmentByKey = %+v, %v; want %s", e, err, env.Name)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnvironmentByKey(ctx, nil, "00000000-0000-0000-0000-000000000000"); !errors.Is(err, httpx.ErrNotFound) {
		t.Errorf("EnvironmentByKey of nothing = %v", err)
	}

	for _, a := range f.LifeTime.Applications {
		for envName, d := range a.Environments {
			var envKey string
			for _, e := range f.LifeTime.Environments {
				if e.Name == envName {
					envKey = e.Key
				}
			}
			v, err := s.RunningVersionOf(ctx, nil, a.Key, envKey)
			if err != nil || v.Version != d.Version || v.IsModified != d.IsModified {
				t.Errorf("RunningVersionOf(%s, %s) = %+v, %v; want %s modified=%v", a.Name, envName, v, err, d.Version, d.IsModified)
			}
		}
	}
}
