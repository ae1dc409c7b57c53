// Package sandbox is a local stand-in for the OutSystems services the
// provider talks to, with its state in SQLite. It serves LifeTime API v2
// under /lifetimeapi/rest/v2, the project's Migration Kit contract
// (api/migration-kit/v1): the assessment tool under
// /MigrationAssessment/api/v1 and /ConversionAssessment/api/v1 and the ODC
// portal's code migrations under /api/migration-kit/v1, the ODC APIs, and an
// admin surface of its own under /_sandbox/.
package sandbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/chaos"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// Environment variables the provider reads, printed by Exports.
const (
	envLifeTimeURL   = "OUTSYSTEMS_LIFETIME_URL"
	envLifeTimeToken = "OUTSYSTEMS_LIFETIME_TOKEN"
	// The assessment tool's console URL; its token defaults to LifeTime's.
	envAssessmentURL = "OUTSYSTEMS_ASSESSMENT_URL"
)

// shutdownTimeout bounds how long Close waits for requests in flight.
const shutdownTimeout = 10 * time.Second

// Options configures a Sandbox.
type Options struct {
	// DBPath is the SQLite database file; "" keeps the state in memory.
	DBPath string
	// Fixture seeds an empty database; nil means fixture.Default().
	Fixture *fixture.Fixture
	// Logger receives one line per request; nil discards them. Headers,
	// tokens and bodies are never logged.
	Logger *log.Logger
	// TokenTTL is how long ODC access tokens last; 0 means 12 hours.
	TokenTTL time.Duration
	// PublishDuration is how long an ODC publish operation runs before it
	// finishes; 0 means 3 seconds.
	PublishDuration time.Duration
	// CodeAnalysisDuration is how long an ODC code-quality analysis runs
	// before it completes; 0 means odc.DefaultCodeAnalysisDuration.
	CodeAnalysisDuration time.Duration
	// DeploymentDuration is how long an ODC deployment operation, build or
	// deployment analysis runs before it finishes; 0 takes PublishDuration.
	DeploymentDuration time.Duration
	// AssessmentDelay is how long the Migration Kit assessment tool takes to
	// assess a mapping (Running after half of it); 0 means
	// DefaultAssessmentDelay.
	AssessmentDelay time.Duration
	// MigrationDuration is how long a Migration Kit code migration runs
	// before it finishes; 0 means DefaultMigrationDuration.
	MigrationDuration time.Duration
	// LifeTimeTagDelay is how long LifeTime takes to process a new tag
	// before the version is readable and the environment's base version; 0
	// means lifetime.DefaultTagDelay.
	LifeTimeTagDelay time.Duration
	// Chaos makes the OutSystems APIs fail, throttle, slow down and drop
	// connections (see ChaosOptions); the zero value turns it off. SetChaos
	// changes it at run time.
	Chaos ChaosOptions
	// RateLimit is how many requests per minute each API pool takes (each
	// ODC API domain per organization, environment configurations at most
	// DefaultEnvironmentConfigRateLimit; LifeTime; the assessment tool), in
	// a sliding window; over it, requests are answered 429. 0 means no
	// limit. ODC's figure is 100.
	RateLimit int
	// DeploymentRateLimit is how many POSTs per minute each ODC endpoint
	// with a limit of its own takes (each POST of builds and deployments,
	// POST /assets, POST /code-analyses; POST /users/bulk at most
	// DefaultUsersBulkRateLimit), counting toward its domain's pool too; 0
	// means DefaultDeploymentRateLimit when RateLimit is set, no limit
	// otherwise.
	DeploymentRateLimit int
	// TLS serves HTTPS with a certificate for 127.0.0.1, ::1 and localhost
	// signed by a certificate authority generated at New, like an O11
	// infrastructure behind an internal CA; CACertificatePEM returns the
	// CA. Start then returns an https:// URL.
	TLS bool
	// RetryAfter adds a Retry-After header to the 429 answers of the rate
	// limits and of chaos throttling. ODC documents none, so by default
	// they carry none and a client must cope without one.
	RetryAfter bool
	// RateWindow is the sliding window the rate limits count in; 0 means
	// one minute, as ODC counts. Tests shorten it so that a limit such as
	// the environment configurations' 10 fills and empties in seconds.
	RateWindow time.Duration
	// WithoutMigrationKit runs the tenant profile: the sandbox serves what a
	// real OutSystems organization exposes (LifeTime, the ODC APIs, ODC
	// identity) and no Migration Kit API. The assessment tool's paths
	// (/MigrationAssessment/api/v1, /ConversionAssessment/api/v1) answer the
	// O11 server's plain 404 for an unknown path, and the code-migration
	// paths (/api/migration-kit/v1/...) ODC's ProblemDetails 404, as any
	// unknown ODC path does. The admin surface's endpoints of the missing
	// services answer 404 saying so, and the Sandbox methods behind them
	// report ErrNoMigrationKit.
	WithoutMigrationKit bool
}

// ErrNoMigrationKit is what the Sandbox's Migration Kit methods (FixFinding,
// DeleteCodeMigration, ...) report in the tenant profile
// (Options.WithoutMigrationKit).
var ErrNoMigrationKit = errors.New("this sandbox runs the tenant profile (Options.WithoutMigrationKit, --without-migration-kit): " +
	"like a real OutSystems organization it serves no Migration Kit API (no assessment tool, no code migrations)")

// Profiles, as Sandbox.Profile names them.
const (
	// ProfileFull serves every API, the Migration Kit's included.
	ProfileFull = "full"
	// ProfileTenant serves what a real organization exposes: LifeTime, ODC
	// and ODC identity, without the Migration Kit (Options.WithoutMigrationKit).
	ProfileTenant = "tenant"
)

// DefaultMigrationDuration is how long a code migration runs when
// Options.MigrationDuration is zero.
const DefaultMigrationDuration = codemigration.DefaultDuration

// DefaultAssessmentDelay is how long an assessment takes when
// Options.AssessmentDelay is zero.
const DefaultAssessmentDelay = assessment.DefaultDelay

// Sandbox serves the fake OutSystems APIs.
type Sandbox struct {
	fixture    *fixture.Fixture
	logger     *log.Logger
	store      *store
	lifetime   *lifetime.Service
	assessment *assessment.Service
	// codeMigration is the Migration Kit's code migration.
	codeMigration *codemigration.Service
	handler       http.Handler
	adminToken    string
	odc           *odc.Service
	// assessmentDelay is Options.AssessmentDelay or its default; now is the
	// clock assessments are timed with (tests may set it before serving).
	assessmentDelay time.Duration
	now             func() time.Time
	// migrationDuration is Options.MigrationDuration or its default; code
	// migrations are timed with now too.
	migrationDuration time.Duration
	// chaos, limits, requests and tokens serve chaos.go, ratelimit.go, requeststats.go and tokens.go.
	chaos    *chaos.Engine
	limits   *rateLimiter
	requests *requestCounters
	tokens   *issuedTokens
	// apis sorts request paths into the API families the services declare.
	apis apiTable
	// tls is the generated CA and server certificate (Options.TLS), nil for plain HTTP.
	tls *httpx.LoopbackTLS
	// withoutKit is Options.WithoutMigrationKit: the tenant profile. The
	// assessment and codeMigration services exist (their tables are
	// created) but are neither routed nor reachable through the Sandbox's
	// methods.
	withoutKit bool

	mu     sync.Mutex
	server *http.Server
	url    string
	closed bool

	closeOnce sync.Once
	closeErr  error
}

// New opens the database, creates its schema and seeds it from the fixture
// when it is empty; a database seeded before keeps its state. A fixture
// passed in Options is validated, which normalises its keys.
func New(opts Options) (*Sandbox, error) {
	fx := opts.Fixture
	if fx == nil {
		fx = fixture.Default()
	} else if err := fx.Validate(); err != nil {
		return nil, fmt.Errorf("invalid fixture: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	delay := opts.AssessmentDelay
	switch {
	case delay < 0:
		return nil, fmt.Errorf("the assessment delay must not be negative (got %s)", delay)
	case delay == 0:
		delay = DefaultAssessmentDelay
	}
	if opts.LifeTimeTagDelay < 0 {
		return nil, fmt.Errorf("the LifeTime tag delay must not be negative (got %s)", opts.LifeTimeTagDelay)
	}
	migrationDuration := opts.MigrationDuration
	switch {
	case migrationDuration < 0:
		return nil, fmt.Errorf("the migration duration must not be negative (got %s)", migrationDuration)
	case migrationDuration == 0:
		migrationDuration = DefaultMigrationDuration
	}
	chaosEngine, err := chaos.New(opts.Chaos)
	if err != nil {
		return nil, err
	}
	chaosEngine.RetryAfter = opts.RetryAfter
	limits, err := newRateLimiter(opts.RateLimit, opts.DeploymentRateLimit, opts.RetryAfter)
	if err != nil {
		return nil, err
	}
	if err := limits.setWindow(opts.RateWindow); err != nil {
		return nil, err
	}
	var serverTLS *httpx.LoopbackTLS
	if opts.TLS {
		if serverTLS, err = httpx.NewLoopbackTLS(time.Now()); err != nil {
			return nil, err
		}
	}
	st, err := openStore(opts.DBPath, logger)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	seeded, err := st.seed(ctx, fx)
	if err != nil {
		st.close()
		return nil, err
	}
	if seeded {
		logger.Printf("seeded the database from fixture %q", fx.Name)
	} else {
		logger.Printf("the database was seeded before: keeping its state")
	}
	st.lt.SetOptions(lifetime.Options{TagDelay: opts.LifeTimeTagDelay})
	token, err := st.lt.AdminToken(ctx)
	if err != nil {
		st.close()
		return nil, err
	}
	cloud, err := odc.New(ctx, st.db, logger, &fx.ODC, odc.Options{TokenTTL: opts.TokenTTL, PublishDuration: opts.PublishDuration,
		CodeAnalysisDuration: opts.CodeAnalysisDuration, DeploymentDuration: opts.DeploymentDuration})
	if err != nil {
		st.close()
		return nil, err
	}
	s := &Sandbox{fixture: fx, logger: logger, store: st, lifetime: st.lt, adminToken: token, odc: cloud, assessmentDelay: delay, now: time.Now,
		migrationDuration: migrationDuration, chaos: chaosEngine, limits: limits, requests: &requestCounters{}, tokens: &issuedTokens{}, tls: serverTLS,
		withoutKit: opts.WithoutMigrationKit}
	// The assessment tool reads the clock and delay at each request: tests
	// may change them before serving.
	st.ma, err = assessment.New(ctx, st.db, st.lt, fx, assessment.Options{
		Now: func() time.Time { return s.now() }, Delay: func() time.Duration { return s.assessmentDelay },
		InUse: codemigration.CheckMappingNotMigrating, Logger: logger})
	if err != nil {
		st.close()
		return nil, err
	}
	s.assessment = st.ma
	s.codeMigration, err = codemigration.New(ctx, st.db, fx, cloud, st.ma, st.lt, codemigration.Options{
		Now: func() time.Time { return s.now() }, Duration: migrationDuration, Logger: logger})
	if err != nil {
		st.close()
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the HTTP handler serving every API of the sandbox.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// Fixture returns the fixture the sandbox was created with.
func (s *Sandbox) Fixture() *fixture.Fixture { return s.fixture }

// Start listens on addr (for example "127.0.0.1:0") and serves in the
// background. It returns the base URL, like http://127.0.0.1:8085, or
// https://127.0.0.1:8085 with Options.TLS.
func (s *Sandbox) Start(addr string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return "", errors.New("sandbox: already closed")
	case s.server != nil:
		return "", errors.New("sandbox: already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: s.logger}
	scheme := "http"
	if s.tls != nil {
		srv.TLSConfig = s.tls.Config.Clone()
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	}
	s.server = srv
	s.url = baseURL(scheme, ln.Addr())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Printf("serve: %v", err)
		}
	}()
	return s.url, nil
}

// baseURL is the URL clients use to reach a listener; a wildcard address
// is reached through loopback.
func baseURL(scheme string, addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return scheme + "://" + addr.String()
	}
	ip := tcp.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
		if tcp.IP.To4() == nil {
			ip = net.IPv6loopback
		}
	}
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port)))
}

// URL returns the base URL once started, "" before.
func (s *Sandbox) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops the server, letting requests in flight finish, and closes the
// database. Calling it again returns the first result.
func (s *Sandbox) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		srv := s.server
		s.closed = true
		s.mu.Unlock()
		var errs []error
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("shutdown: %w", err), srv.Close())
			}
		}
		if err := s.store.close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Profile names the profile the sandbox runs: ProfileTenant with
// Options.WithoutMigrationKit, else ProfileFull.
func (s *Sandbox) Profile() string {
	if s.withoutKit {
		return ProfileTenant
	}
	return ProfileFull
}

// HasMigrationKit reports whether the sandbox serves the Migration Kit's
// APIs (the full profile).
func (s *Sandbox) HasMigrationKit() bool { return !s.withoutKit }

// Exports returns shell lines that point the provider at the sandbox, such
// as "export OUTSYSTEMS_LIFETIME_URL=http://127.0.0.1:8085". The URL lines
// (LifeTime, assessment tool, ODC portal) appear once the sandbox is started.
// The tenant profile exports no assessment tool URL: it serves none.
func (s *Sandbox) Exports() []string {
	var lines []string
	if u := s.URL(); u != "" {
		lines = append(lines, exportLine(envLifeTimeURL, u))
		if !s.withoutKit {
			lines = append(lines, exportLine(envAssessmentURL, u+strings.TrimSuffix(assessment.Base, "/api/v1")))
		}
	}
	if s.adminToken != "" {
		lines = append(lines, exportLine(envLifeTimeToken, s.adminToken))
	}
	// ODC: the portal URL once started, and the export client.
	lines = append(lines, s.odc.Exports(s.URL(), exportLine)...)
	return lines
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

func exportLine(name, value string) string {
	if !shellSafe.MatchString(value) {
		value = "'" + strings.ReplaceAll(value, "'", `'\''`) + "'"
	}
	return "export " + name + "=" + value
}

// MarkModified simulates a developer publishing the application in the
// environment after its last tag (modified), or bringing it back to the
// tagged version (not modified). It drives IsModified in LifeTime.
func (s *Sandbox) MarkModified(envKey, appKey string, modified bool) error {
	env, err := httpx.ParseKey("EnvironmentKey", envKey)
	if err != nil {
		return err
	}
	app, err := httpx.ParseKey("ApplicationKey", appKey)
	if err != nil {
		return err
	}
	return s.lifetime.MarkModified(context.Background(), env, app, modified)
}

// DatabaseStatements returns how many SQL statements the sandbox ran since
// it opened its database; tests use it to check a request reads only what
// it needs.
func (s *Sandbox) DatabaseStatements() int64 { return s.store.db.Statements() }

// MigrationFinishedAt returns when the sandbox marks a code migration
// finished (its start plus the migration duration), whether or not that
// moment has passed, and false when there is no such migration.
func (s *Sandbox) MigrationFinishedAt(key string) (time.Time, bool) {
	if s.withoutKit {
		return time.Time{}, false
	}
	k, err := httpx.ParseKey("migrationKey", key)
	if err != nil {
		return time.Time{}, false
	}
	at, ok, err := s.codeMigration.FinishesAt(context.Background(), k)
	if err != nil {
		s.logger.Printf("MigrationFinishedAt: %v", err)
		return time.Time{}, false
	}
	return at, ok
}
