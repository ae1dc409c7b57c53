package sandbox

import (
	"fmt"
	"regexp"
)

// CodeMigrationFixture says how the Migration Kit's code migration treats
// some O11 applications; every other application converts cleanly. It is
// loaded into the database once, with the rest of the fixture.
type CodeMigrationFixture struct {
	// Failures make the conversion of the asset holding the application
	// fail: the migration ends FinishedWithErrors and the asset reports
	// these errors.
	Failures []FixtureMigrationFailure `json:"failures"`
	// PublishErrors are TrueChange errors the produced revision of the asset
	// holding the application shows: every publish of that revision fails
	// with them, and the migration reports them as messages.
	PublishErrors []FixturePublishErrors `json:"publishErrors"`
}

// FixtureMigrationFailure is why the conversion of an O11 application fails.
type FixtureMigrationFailure struct {
	Application string                  `json:"application"` // name, from the lifetime section
	Errors      []FixtureMigrationError `json:"errors"`
}

// FixtureMigrationError is one error of a failed conversion.
type FixtureMigrationError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// FixturePublishErrors are the TrueChange errors the converted code of an O11
// application shows in ODC Studio.
type FixturePublishErrors struct {
	Application string   `json:"application"` // name, from the lifetime section
	Messages    []string `json:"messages"`
}

// migrationErrorCode is the shape of the stable codes of migration errors.
var migrationErrorCode = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)

// codeMigration checks the section against the lifetime section: each entry
// names an application, at most once per list, with at least one error or
// message.
func (v *fixtureValidator) codeMigration(c *CodeMigrationFixture, lt *LifeTimeFixture) {
	apps := map[string]bool{}
	for _, a := range lt.Applications {
		apps[a.Name] = true
	}
	seen := map[string]bool{}
	for i, f := range c.Failures {
		where := fmt.Sprintf("codeMigration.failures[%d] (%q)", i, f.Application)
		v.migrationApplication(where, f.Application, apps, seen)
		if len(f.Errors) == 0 {
			v.addf("%s: at least one error is required", where)
		}
		for j, e := range f.Errors {
			if !migrationErrorCode.MatchString(e.Code) {
				v.addf("%s.errors[%d]: code %q must be upper case words joined by underscores, like CONVERSION_FAILED", where, j, e.Code)
			}
			if e.Message == "" {
				v.addf("%s.errors[%d]: message is required", where, j)
			}
		}
	}
	seen = map[string]bool{}
	for i, p := range c.PublishErrors {
		where := fmt.Sprintf("codeMigration.publishErrors[%d] (%q)", i, p.Application)
		v.migrationApplication(where, p.Application, apps, seen)
		if len(p.Messages) == 0 {
			v.addf("%s: at least one message is required", where)
		}
		for j, m := range p.Messages {
			if m == "" {
				v.addf("%s.messages[%d]: the message is empty", where, j)
			}
		}
	}
}

func (v *fixtureValidator) migrationApplication(where, name string, apps, seen map[string]bool) {
	switch {
	case !apps[name]:
		v.addf("%s: application %q is not an application of lifetime.applications", where, name)
	case seen[name]:
		v.addf("%s: application %q is listed more than once", where, name)
	}
	seen[name] = true
}
