// Package odc imitates the OutSystems Developer Cloud public REST APIs as
// far as a migration needs them, following OutSystems' OpenAPI documents:
// the portfolio API v2 (stages, deployed assets, libraries), the asset
// repository v1 (assets, revisions, tags), dependency management v1
// (producers, consumers, public and referenced elements) and deployments v1 (publish operations), behind
// the organization's identity service (OpenID Connect discovery and the
// client credentials token endpoint, identity.go).
//
// The Service owns its tables (odc_*), seeds them from the fixture's odc
// section, answers in ProblemDetails (RFC 7807) and OAuth error shapes,
// issues access tokens and checks API client permissions. Every request
// reads and writes the rows it needs, by key, in one transaction.
//
// Identity stays in this package: ODC access tokens, API clients and their
// permissions are ODC's own tables, and the code migration API authorizes
// its callers with the same tokens through Authorize.
package odc

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http"
	"slices"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// API families ODC's requests are counted, throttled and failed under.
const (
	Family         = "odc"
	IdentityFamily = "identity"
)

// Defaults for the ODC options.
const (
	DefaultTokenTTL        = 12 * time.Hour
	DefaultPublishDuration = 3 * time.Second
)

// Options tune the service; zero values take the defaults.
type Options struct {
	// TokenTTL is how long access tokens last.
	TokenTTL time.Duration
	// PublishDuration is how long a publish operation runs before it
	// finishes.
	PublishDuration time.Duration
	// CodeAnalysisDuration is how long a code analysis runs before it
	// completes (codequality.go).
	CodeAnalysisDuration time.Duration
	// DeploymentDuration is how long a deployment operation (Deploy,
	// Undeploy, ApplyConfigs), a build and a deployment analysis run before
	// they finish; 0 takes PublishDuration.
	DeploymentDuration time.Duration
}

// meta is what the sandbox keeps about the ODC organization.
type meta struct {
	Organization string
	PortfolioKey string
}

// Service serves the ODC APIs and identity from the database.
type Service struct {
	db              *sqldb.DB
	logger          *log.Logger
	meta            meta
	tokenTTL        time.Duration
	publishDuration time.Duration
	// codeAnalysisDuration: Options.CodeAnalysisDuration.
	codeAnalysisDuration time.Duration
	// deployDuration is Options.DeploymentDuration.
	deployDuration time.Duration
	// exportClient is the API client Exports points the provider at.
	exportClient *fixture.APIClient
}

// New creates the ODC tables when they are missing, seeds them from f
// once (a database seeded before keeps its state, even one seeded before
// the ODC APIs existed), and reads back what the handlers need. logger
// gets a line for each internal error.
func New(ctx context.Context, db *sqldb.DB, logger *log.Logger, f *fixture.ODC, opts Options) (*Service, error) {
	if _, err := db.ExecContext(ctx, schema+stageConfigSchema+configurationSchema); err != nil {
		return nil, fmt.Errorf("create the ODC schema: %w", err)
	}
	if _, err := db.ExecContext(ctx, promotionSchema); err != nil {
		return nil, fmt.Errorf("create the ODC promotion schema: %w", err)
	}
	s := &Service{db: db, logger: logger, tokenTTL: opts.TokenTTL, publishDuration: opts.PublishDuration}
	if s.tokenTTL <= 0 {
		s.tokenTTL = DefaultTokenTTL
	}
	if s.publishDuration <= 0 {
		s.publishDuration = DefaultPublishDuration
	}
	if s.codeAnalysisDuration = opts.CodeAnalysisDuration; s.codeAnalysisDuration <= 0 {
		s.codeAnalysisDuration = DefaultCodeAnalysisDuration
	}
	if err := prepareCodeQuality(ctx, db, f); err != nil {
		return nil, err
	}
	if s.deployDuration = opts.DeploymentDuration; s.deployDuration <= 0 {
		s.deployDuration = s.publishDuration
	}
	var clients []fixture.APIClient
	err := db.Write(ctx, func(tx *sql.Tx) error {
		done, err := seeded(ctx, tx)
		if err != nil {
			return err
		}
		if !done {
			if err := seedODC(ctx, tx, f); err != nil {
				return fmt.Errorf("seed odc: %w", err)
			}
		}
		if err := backfillReferences(ctx, tx); err != nil {
			return fmt.Errorf("record the elements migrated revisions reference: %w", err)
		}
		if s.meta, err = readMeta(ctx, tx); err != nil {
			return err
		}
		clients, err = apiClients(ctx, tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(clients, fixture.APIClient.HasAllPermissions); i >= 0 {
		s.exportClient = &clients[i]
	} else if len(clients) > 0 {
		s.exportClient = &clients[0]
	}
	return s, nil
}

// Organization names the identity realm.
func (s *Service) Organization() string { return s.meta.Organization }

// APIs declares the ODC APIs (under /api/) and identity (under
// /identity/), each answering the kernel's errors in its own shape.
func (s *Service) APIs() []httpx.API {
	return []httpx.API{
		{Family: Family, Prefixes: []string{"/api/"},
			WriteError: func(w http.ResponseWriter, _ *http.Request, status int, detail string) {
				WriteProblem(w, status, detail)
			}},
		{Family: IdentityFamily, Prefixes: []string{"/identity/"},
			WriteError: func(w http.ResponseWriter, _ *http.Request, status int, detail string) {
				code := "server_error"
				if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
					code = "temporarily_unavailable"
				}
				writeOAuth(w, status, code, detail)
			}},
	}
}

// fail answers a store error as ProblemDetails.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteStoreError(s.logger, w, r, err, WriteProblem)
}

// read runs fn in a read transaction, answering the error itself on
// failure.
func (s *Service) read(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context, tx *sql.Tx) error) bool {
	ctx := r.Context()
	if err := s.db.Read(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) }); err != nil {
		s.fail(w, r, err)
		return false
	}
	return true
}
