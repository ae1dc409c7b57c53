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
	// Fixture seeds an empty database; nil means DefaultFixture().
	Fixture *Fixture
	// Logger receives one line per request; nil discards them. Headers,
	// tokens and bodies are never logged.
	Logger *log.Logger
	// TokenTTL is how long ODC access tokens last; 0 means 12 hours.
	TokenTTL time.Duration
	// PublishDuration is how long an ODC publish operation runs before it
	// finishes; 0 means 3 seconds.
	PublishDuration time.Duration
	// AssessmentDelay is how long the Migration Kit assessment tool takes to
	// assess a mapping (Running after half of it); 0 means
	// DefaultAssessmentDelay.
	AssessmentDelay time.Duration
	// MigrationDuration is how long a Migration Kit code migration runs
	// before it finishes; 0 means DefaultMigrationDuration.
	MigrationDuration time.Duration
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
	// RetryAfter adds a Retry-After header to the 429 answers of the rate
	// limits and of chaos throttling. ODC documents none, so by default
	// they carry none and a client must cope without one.
	RetryAfter bool
}

// Sandbox serves the fake OutSystems APIs.
type Sandbox struct {
	fixture    *Fixture
	logger     *log.Logger
	store      *store
	lifetime   *lifetime.Service
	handler    http.Handler
	adminToken string
	odc        *odc.Service
	// assessmentDelay is Options.AssessmentDelay or its default; now is the
	// clock assessments are timed with (tests may set it before serving).
	assessmentDelay time.Duration
	now             func() time.Time
	// migrationDuration is Options.MigrationDuration or its default; code
	// migrations are timed with now too.
	migrationDuration time.Duration
	// chaos, limits, requests and tokens serve chaos.go, ratelimit.go, requeststats.go and tokens.go.
	chaos    *chaosEngine
	limits   *rateLimiter
	requests *requestCounters
	tokens   *issuedTokens
	// apis sorts request paths into the API families the services declare.
	apis apiTable

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
	fixture := opts.Fixture
	if fixture == nil {
		fixture = DefaultFixture()
	} else if err := fixture.Validate(); err != nil {
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
	migrationDuration := opts.MigrationDuration
	switch {
	case migrationDuration < 0:
		return nil, fmt.Errorf("the migration duration must not be negative (got %s)", migrationDuration)
	case migrationDuration == 0:
		migrationDuration = DefaultMigrationDuration
	}
	chaos, err := newChaosEngine(opts.Chaos)
	if err != nil {
		return nil, err
	}
	chaos.retryAfter = opts.RetryAfter
	limits, err := newRateLimiter(opts.RateLimit, opts.DeploymentRateLimit, opts.RetryAfter)
	if err != nil {
		return nil, err
	}
	st, err := openStore(opts.DBPath, logger)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	seeded, err := st.seed(ctx, fixture)
	if err != nil {
		st.close()
		return nil, err
	}
	if seeded {
		logger.Printf("seeded the database from fixture %q", fixture.Name)
	} else {
		logger.Printf("the database was seeded before: keeping its state")
	}
	if err := st.prepareAssessment(ctx, fixture); err != nil {
		st.close()
		return nil, err
	}
	if err := st.prepareCodeMigration(ctx, fixture); err != nil {
		st.close()
		return nil, err
	}
	token, err := st.lt.AdminToken(ctx)
	if err != nil {
		st.close()
		return nil, err
	}
	odcService, err := odc.New(ctx, st.db, logger, &fixture.ODC, odc.Options{TokenTTL: opts.TokenTTL, PublishDuration: opts.PublishDuration})
	if err != nil {
		st.close()
		return nil, err
	}
	s := &Sandbox{fixture: fixture, logger: logger, store: st, lifetime: st.lt, adminToken: token, odc: odcService, assessmentDelay: delay, now: time.Now,
		migrationDuration: migrationDuration, chaos: chaos, limits: limits, requests: &requestCounters{}, tokens: &issuedTokens{}}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the HTTP handler serving every API of the sandbox.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// Fixture returns the fixture the sandbox was created with.
func (s *Sandbox) Fixture() *Fixture { return s.fixture }

// Start listens on addr (for example "127.0.0.1:0") and serves in the
// background. It returns the base URL, like http://127.0.0.1:8085.
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
	s.server = srv
	s.url = baseURL(ln.Addr())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Printf("serve: %v", err)
		}
	}()
	return s.url, nil
}

// baseURL is the URL clients use to reach a listener; a wildcard address
// is reached through loopback.
func baseURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	ip := tcp.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
		if tcp.IP.To4() == nil {
			ip = net.IPv6loopback
		}
	}
	return fmt.Sprintf("http://%s", net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port)))
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

// Exports returns shell lines that point the provider at the sandbox, such
// as "export OUTSYSTEMS_LIFETIME_URL=http://127.0.0.1:8085". The URL lines
// (LifeTime, assessment tool, ODC portal) appear once the sandbox is started.
func (s *Sandbox) Exports() []string {
	var lines []string
	if u := s.URL(); u != "" {
		lines = append(lines, exportLine(envLifeTimeURL, u))
		lines = append(lines, exportLine(envAssessmentURL, u+strings.TrimSuffix(assessmentBase, "/api/v1")))
	}
	if s.adminToken != "" {
		lines = append(lines, exportLine(envLifeTimeToken, s.adminToken))
	}
	lines = append(lines, s.odcExports()...)
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
	env, err := parseKey("EnvironmentKey", envKey)
	if err != nil {
		return err
	}
	app, err := parseKey("ApplicationKey", appKey)
	if err != nil {
		return err
	}
	return s.lifetime.MarkModified(context.Background(), env, app, modified)
}

// DatabaseStatements returns how many SQL statements the sandbox ran since
// it opened its database; tests use it to check a request reads only what
// it needs.
func (s *Sandbox) DatabaseStatements() int64 { return s.store.db.Statements() }
