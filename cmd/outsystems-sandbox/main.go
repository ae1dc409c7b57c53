// Command outsystems-sandbox serves a local stand-in for the OutSystems
// APIs the provider uses, with its state in SQLite.
//
// It prints the environment variables that point the provider at it, one
// "export NAME=value" line each, on stdout and nothing else there; logs go to
// stderr. So this works:
//
//	outsystems-sandbox --db sandbox.db > sandbox.env &
//	sleep 1; . ./sandbox.env
//
// With --tls it serves HTTPS with a certificate signed by a CA it generates,
// writes that CA to a file and also prints export lines that read it into
// the OUTSYSTEMS_*_CA_CERTIFICATE variables when the file is sourced.
//
// With --without-migration-kit it runs the tenant profile: it serves what a
// real OutSystems organization exposes (LifeTime, the ODC APIs, ODC
// identity) and no Migration Kit API. The assessment tool's paths answer the
// O11 server's plain 404, the code-migration paths ODC's ProblemDetails 404
// (as any unknown path under /api/ does), and no OUTSYSTEMS_ASSESSMENT_URL is
// printed. Use it to check what runs against a real tenant: LifeTime tags
// and look-ups, ODC stages, publications and releases, and a migration run
// in the ODC portal (data source outsystems_odc_assets). The admin surface
// stands in for the portal's migration screens, in both profiles:
//
//	curl -X POST $OUTSYSTEMS_LIFETIME_URL/_sandbox/portal-migrations -d '{"sourceEnvironmentKey": "<key>", "wait": true,
//	  "assets": [{"name": "Customer Core", "type": "library", "applicationNames": ["Customer Core"]}]}'
//
// (examples/portal-migration/README.md shows a whole rehearsal).
//
// It stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "outsystems-sandbox:", err)
		stop()
		os.Exit(1)
	}
}

// run starts the sandbox as the command line asks and serves until ctx is
// done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("outsystems-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8085", "`address` to listen on; loopback only unless --allow-remote is given")
	allowRemote := fs.Bool("allow-remote", false, "allow a --listen address that is not loopback (the sandbox has well-known tokens, and serves plain HTTP unless --tls)")
	dbPath := fs.String("db", "", "SQLite database `file` that keeps the state across restarts (default: in memory)")
	fixturePath := fs.String("fixture", "", "fixture JSON `file` that seeds an empty database (default: the built-in Acme Insurance portfolio)")
	quiet := fs.Bool("quiet", false, "log nothing but errors")
	publishDuration := fs.Duration("publish-duration", 3*time.Second, "how long an ODC publish operation runs before it finishes")
	deploymentDuration := fs.Duration("deployment-duration", 0, "how long an ODC deployment operation, build or deployment analysis runs before it finishes (0: the publish duration)")
	tokenTTL := fs.Duration("token-ttl", 12*time.Hour, "how long ODC access tokens last (expires_in)")
	assessmentDelay := fs.Duration("assessment-delay", sandbox.DefaultAssessmentDelay, "how long the Migration Kit assessment tool takes to assess a mapping (Running after half of it)")
	tagDelay := fs.Duration("lifetime-tag-delay", lifetime.DefaultTagDelay, "how long LifeTime takes to process a new tag before the version is readable and running")
	migrationDuration := fs.Duration("migration-duration", sandbox.DefaultMigrationDuration, "how long a Migration Kit code migration runs before it finishes")
	codeAnalysisDuration := fs.Duration("code-analysis-duration", odc.DefaultCodeAnalysisDuration, "how long an ODC code-quality analysis runs before it completes")
	var chaos sandbox.ChaosOptions
	fs.Float64Var(&chaos.ErrorRate, "chaos-error-rate", 0, "fraction of API requests answered 500, 502 or 503 without being carried out")
	fs.Float64Var(&chaos.ThrottleRate, "chaos-throttle-rate", 0, "fraction of API requests answered 429 without being carried out (with Retry-After when --retry-after is set)")
	chaosLatency := fs.String("chaos-latency", "", "random `delay` added to each API request: a range like 0-300ms, or a fixed 100ms")
	fs.Float64Var(&chaos.DropRate, "chaos-drop-rate", 0, "fraction of API requests whose connection is closed without an answer, before they are carried out")
	fs.Float64Var(&chaos.DropAfterRate, "chaos-drop-after-rate", 0, "fraction of API requests carried out whose connection is then closed without the answer")
	fs.Int64Var(&chaos.Seed, "chaos-seed", 0, "seed of the chaos decisions, to repeat a run (0: random; GET /_sandbox/chaos shows it)")
	rateLimit := fs.Int("rate-limit", 0, fmt.Sprintf("requests per minute each API pool takes (each ODC API domain per organization, environment configurations at most %d; LifeTime; assessment tool), over a sliding window; ODC's figure is 100; 0: no limit", sandbox.DefaultEnvironmentConfigRateLimit))
	serveTLS := fs.Bool("tls", false, "serve HTTPS with a certificate for 127.0.0.1 and localhost signed by a CA generated at start (like an O11 infrastructure behind an internal CA); "+
		"the CA certificate is written to --tls-ca-out and export lines for OUTSYSTEMS_*_CA_CERTIFICATE are printed")
	caOut := fs.String("tls-ca-out", "", "`file` the --tls CA certificate (PEM) is written to (default: sandbox-ca.pem next to --db, else in a new temporary directory)")
	deploymentRateLimit := fs.Int("deployment-rate-limit", 0, fmt.Sprintf("POSTs per minute each ODC endpoint with a limit of its own takes (builds and deployments POSTs, POST /assets, POST /code-analyses), counting toward the domain's pool too (0: %d when --rate-limit is set, else no limit)", sandbox.DefaultDeploymentRateLimit))
	withoutKit := fs.Bool("without-migration-kit", false, "run the tenant profile: serve LifeTime, ODC and ODC identity as a real organization does, with no Migration Kit API "+
		"(the assessment tool's and code migration's paths answer 404, and no OUTSYSTEMS_ASSESSMENT_URL is printed)")
	retryAfter := fs.Bool("retry-after", false, "send Retry-After on 429 answers (rate limits and chaos throttling); ODC documents none, so by default there is none")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: outsystems-sandbox [flags]\n\nServes fake OutSystems APIs and prints the export lines that point the provider at them.\n\n"+
			"Profiles: by default (full) it serves LifeTime, ODC and the Migration Kit's assessment tool and code migrations.\n"+
			"--without-migration-kit runs the tenant profile: LifeTime, ODC and ODC identity only, as a real organization\n"+
			"exposes them; the kit's paths answer 404 and the kit's resources fail at plan time.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := checkListenAddr(*listen, *allowRemote); err != nil {
		return err
	}

	var seed *fixture.Fixture
	if *fixturePath != "" {
		var err error
		if seed, err = fixture.Load(*fixturePath); err != nil {
			return err
		}
	}
	logger := log.New(stderr, "outsystems-sandbox: ", log.LstdFlags)
	if *deploymentDuration < 0 {
		return fmt.Errorf("--deployment-duration must not be negative (got %s)", *deploymentDuration)
	}
	if *publishDuration <= 0 || *tokenTTL < time.Second {
		return fmt.Errorf("--publish-duration must be positive and --token-ttl at least 1s (got %s and %s)", *publishDuration, *tokenTTL)
	}
	if *assessmentDelay <= 0 {
		return fmt.Errorf("--assessment-delay must be positive (got %s)", *assessmentDelay)
	}
	if *tagDelay <= 0 {
		return fmt.Errorf("--lifetime-tag-delay must be positive (got %s)", *tagDelay)
	}
	if *migrationDuration <= 0 {
		return fmt.Errorf("--migration-duration must be positive (got %s)", *migrationDuration)
	}
	if *codeAnalysisDuration <= 0 {
		return fmt.Errorf("--code-analysis-duration must be positive (got %s)", *codeAnalysisDuration)
	}
	var err error
	if chaos.LatencyMin, chaos.LatencyMax, err = sandbox.ParseLatency(*chaosLatency); err != nil {
		return fmt.Errorf("--chaos-latency: %w", err)
	}
	if *rateLimit < 0 || *deploymentRateLimit < 0 {
		return fmt.Errorf("--rate-limit and --deployment-rate-limit must not be negative (got %d and %d)", *rateLimit, *deploymentRateLimit)
	}
	if *caOut != "" && !*serveTLS {
		return errors.New("--tls-ca-out needs --tls")
	}
	opts := sandbox.Options{TLS: *serveTLS, DBPath: *dbPath, Fixture: seed, PublishDuration: *publishDuration, DeploymentDuration: *deploymentDuration, TokenTTL: *tokenTTL, AssessmentDelay: *assessmentDelay,
		MigrationDuration: *migrationDuration, LifeTimeTagDelay: *tagDelay, Chaos: chaos, RateLimit: *rateLimit, DeploymentRateLimit: *deploymentRateLimit, RetryAfter: *retryAfter,
		WithoutMigrationKit: *withoutKit}
	opts.CodeAnalysisDuration = *codeAnalysisDuration
	if !*quiet {
		opts.Logger = logger
	}
	sb, err := sandbox.New(opts)
	if err != nil {
		return err
	}
	caFile := ""
	if *serveTLS {
		if caFile, err = writeCACertificate(sb.CACertificatePEM(), *caOut, *dbPath); err != nil {
			return errors.Join(err, sb.Close())
		}
	}
	url, err := sb.Start(*listen)
	if err != nil {
		return errors.Join(err, sb.Close())
	}
	exports := append(sb.Exports(), sb.CACertificateExports(caFile)...)
	// One write, so a reader gets every line at once.
	fmt.Fprintln(stdout, strings.Join(exports, "\n"))
	if caFile != "" {
		// Said even with --quiet: without it no client trusts the sandbox.
		logger.Printf("serving HTTPS; the sandbox's CA certificate is in %s: set it as ca_certificate of lifetime, assessment and odc "+
			"(the printed OUTSYSTEMS_*_CA_CERTIFICATE exports read it), or trust it with curl --cacert %s", caFile, caFile)
	}
	if !*quiet {
		state := "in memory"
		if *dbPath != "" {
			state = "in " + *dbPath
		}
		logger.Printf("serving LifeTime API v2 at %s/lifetimeapi/rest/v2 (fixture %q, state %s)", url, sb.Fixture().Name, state)
		logger.Printf("profile: %s", sb.Profile())
		if sb.HasMigrationKit() {
			logger.Printf("serving the Migration Kit assessment API at %s/MigrationAssessment/api/v1 (and /ConversionAssessment/api/v1)", url)
		}
		logger.Printf("serving the ODC APIs at %s/api (OIDC discovery at %s/identity/.well-known/openid-configuration)", url, url)
		if sb.HasMigrationKit() {
			logger.Printf("serving the Migration Kit code migration API at %s/api/migration-kit/v1", url)
		} else {
			logger.Printf("tenant profile: no Migration Kit API, as in a real organization (the assessment tool's and code migration's paths answer 404); " +
				"run migrations in the ODC portal and publish them with data source outsystems_odc_assets")
		}
		if c := sb.ChaosSettings(); c.Enabled() {
			logger.Printf("chaos: error rate %g, throttle rate %g, latency %s-%s, drop rate %g, drop-after rate %g, seed %d (GET/PUT %s/_sandbox/chaos)",
				c.ErrorRate, c.ThrottleRate, c.LatencyMin, c.LatencyMax, c.DropRate, c.DropAfterRate, c.Seed, url)
		}
		if perMinute, deployments := sb.RateLimits(); perMinute > 0 || deployments > 0 {
			logger.Printf("rate limits: %d requests per minute per API family, %d deployment POSTs per minute per endpoint (0: none; counts at %s/_sandbox/stats)",
				perMinute, deployments, url)
		}
	}

	<-ctx.Done()
	if !*quiet {
		logger.Printf("shutting down")
	}
	return sb.Close()
}

// writeCACertificate writes the sandbox's CA certificate to out, or next to
// the database, or in a new temporary directory, and returns the file's
// absolute path.
func writeCACertificate(pemBytes []byte, out, dbPath string) (string, error) {
	switch {
	case out != "":
	case dbPath != "":
		out = filepath.Join(filepath.Dir(dbPath), "sandbox-ca.pem")
	default:
		dir, err := os.MkdirTemp("", "outsystems-sandbox-")
		if err != nil {
			return "", fmt.Errorf("creating a directory for the CA certificate: %w", err)
		}
		out = filepath.Join(dir, "sandbox-ca.pem")
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", fmt.Errorf("--tls-ca-out: %w", err)
	}
	if err := os.WriteFile(abs, pemBytes, 0o644); err != nil {
		return "", fmt.Errorf("writing the CA certificate: %w", err)
	}
	return abs, nil
}

// checkListenAddr refuses addresses other hosts could reach, unless
// allowRemote: the sandbox publishes its tokens (and speaks plain HTTP unless --tls).
func checkListenAddr(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid --listen address %q: %w", addr, err)
	}
	if allowRemote || isLoopback(host) {
		return nil
	}
	where := fmt.Sprintf("%q", host)
	if host == "" {
		where = "all interfaces"
	}
	return fmt.Errorf("refusing to listen on %s (--listen %s): the sandbox serves well-known tokens (over plain HTTP unless --tls), "+
		"so by default it only listens on loopback addresses such as 127.0.0.1, ::1 or localhost; "+
		"pass --allow-remote to listen there anyway", where, addr)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
