package sandbox

import (
	"context"
	"net/http"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Compatibility shims: the services still in package sandbox (the
// assessment tool, code migrations) call the shared helpers by their old
// names. This file goes once every service has moved into its own package
// and calls httpx, sqldb and fixture directly.

// HTTP helpers (httpx).
var (
	writeJSON = httpx.WriteJSON
	jsonEnd   = httpx.JSONEnd
	route     = httpx.Route
	parseKey  = httpx.ParseKey
	// bearerToken is httpx.BearerToken.
	bearerToken = httpx.BearerToken
)

type errorWriter = httpx.ErrorWriter

const maxBodyBytes = httpx.MaxBodyBytes

// Store error kinds (httpx).
var (
	errNotFound = httpx.ErrNotFound
	errInvalid  = httpx.ErrInvalid
	errConflict = httpx.ErrConflict
	notFoundf   = httpx.NotFoundf
)

// Database helpers (sqldb).
var (
	derivedKey  = sqldb.DerivedKey
	queryRows   = sqldb.QueryRows
	formatTime  = sqldb.FormatTime
	parseTime   = sqldb.ParseTime
	marshalJSON = sqldb.MarshalJSON
)

// Fixture types and constants (fixture), by their old names.
type (
	Fixture                 = fixture.Fixture
	LifeTimeFixture         = fixture.LifeTime
	AssessmentFixture       = fixture.Assessment
	CodeMigrationFixture    = fixture.CodeMigration
	FixtureServiceAccount   = fixture.ServiceAccount
	FixtureEnvironment      = fixture.Environment
	FixtureModule           = fixture.Module
	FixtureApplication      = fixture.Application
	FixtureVersion          = fixture.Version
	FixtureMobileVersion    = fixture.MobileVersion
	FixtureDeployment       = fixture.Deployment
	FixtureFinding          = fixture.Finding
	FixtureMigrationFailure = fixture.MigrationFailure
	FixtureMigrationError   = fixture.MigrationError
	FixturePublishErrors    = fixture.PublishErrors
	FixtureAPIClient        = fixture.APIClient
)

const (
	RoleAdministrator      = fixture.RoleAdministrator
	RoleReadOnly           = fixture.RoleReadOnly
	PatternFixInO11        = fixture.PatternFixInO11
	PatternFixInOdc        = fixture.PatternFixInOdc
	PatternOptional        = fixture.PatternOptional
	PatternNotYetSupported = fixture.PatternNotYetSupported
	PermissionMigrate      = fixture.PermissionMigrate
	PurposeDevelopment     = fixture.PurposeDevelopment
)

var (
	versionPattern     = fixture.VersionPattern
	parseFixture       = fixture.Parse
	defaultFixtureJSON = fixture.DefaultJSON()
)

// DefaultFixture is fixture.Default.
func DefaultFixture() *Fixture { return fixture.Default() }

// LifeTime (lifetime): the assessment tool admits LifeTime's service
// accounts, and compares module version keys as LifeTime does.
type serviceAccount = lifetime.ServiceAccount

var sameKeys = lifetime.SameKeys

func (st *store) accountByToken(ctx context.Context, token string) (serviceAccount, error) {
	return st.lt.AccountByToken(ctx, token)
}

// The Migration Kit contract (assessment): code migrations answer errors
// in its shape and parse requests as it does.

// DefaultAssessmentDelay is how long an assessment takes when
// Options.AssessmentDelay is zero.
const DefaultAssessmentDelay = assessment.DefaultDelay

func maPtr[T any](v T) *T { return &v }

// maWritePage is assessment.WritePage answering errors as maFail does.
func maWritePage[T any](s *Sandbox, w http.ResponseWriter, r *http.Request, load func() ([]T, error)) {
	assessment.WritePage(w, r, load, s.maFail)
}

// maFail answers an error in the contract's shape.
func (s *Sandbox) maFail(w http.ResponseWriter, r *http.Request, err error) {
	assessment.Fail(s.logger, w, r, err)
}

// maPaging is assessment.Paging with the field names the fuzz test reads.
type maPaging struct{ limit, offset int }

func maParsePaging(r *http.Request) (maPaging, error) {
	p, err := assessment.ParsePaging(r)
	return maPaging{limit: p.Limit, offset: p.Offset}, err
}
