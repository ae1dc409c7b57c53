package sandbox

import (
	"context"
	"net/http"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Compatibility shims: the services still in package sandbox (ODC, the
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
	invalidf    = httpx.Invalidf
	conflictf   = httpx.Conflictf
)

// Database helpers (sqldb).
var (
	derivedKey  = sqldb.DerivedKey
	hashOf      = sqldb.HashOf
	queryRows   = sqldb.QueryRows
	formatTime  = sqldb.FormatTime
	parseTime   = sqldb.ParseTime
	marshalJSON = sqldb.MarshalJSON
)

// maCodeTooManyRequests is the Migration Kit contract's error code for 429
// answers (the contract documents 429 without naming a code).
const maCodeTooManyRequests = "TOO_MANY_REQUESTS"

// The error tables below belong to assessment.go (maProblemTitles) and
// odc.go (odcProblemTypes); the entries the rate limits and chaos need are
// added here until those services move into packages of their own and own
// the whole tables.
func init() {
	maProblemTitles[maCodeTooManyRequests] = "Too many requests"
	odcProblemTypes[http.StatusBadGateway] = "https://tools.ietf.org/html/rfc9110#section-15.6.3"
	odcProblemTypes[http.StatusServiceUnavailable] = "https://tools.ietf.org/html/rfc9110#section-15.6.4"
}

// Fixture types and constants (fixture), by their old names.
type (
	Fixture                 = fixture.Fixture
	LifeTimeFixture         = fixture.LifeTime
	ODCFixture              = fixture.ODC
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
	FixtureStage            = fixture.Stage
)

const (
	RoleAdministrator       = fixture.RoleAdministrator
	RoleReadOnly            = fixture.RoleReadOnly
	PatternFixInO11         = fixture.PatternFixInO11
	PatternFixInOdc         = fixture.PatternFixInOdc
	PatternOptional         = fixture.PatternOptional
	PatternNotYetSupported  = fixture.PatternNotYetSupported
	PermissionMigrate       = fixture.PermissionMigrate
	PermissionPublish       = fixture.PermissionPublish
	PermissionRelease       = fixture.PermissionRelease
	PermissionViewPortfolio = fixture.PermissionViewPortfolio
	PurposeDevelopment      = fixture.PurposeDevelopment
	PurposeNonProduction    = fixture.PurposeNonProduction
	PurposeProduction       = fixture.PurposeProduction
)

var (
	odcPermissionHelp  = fixture.PermissionHelp
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
