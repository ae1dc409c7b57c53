package odc

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// The ODC state lives in tables of its own, created and seeded apart from
// LifeTime's, so a database seeded before the ODC APIs existed gets them on
// its next start. Times are stored as Unix nanoseconds so SQL compares them
// correctly. Publish operations are never updated: their status, and what
// is deployed where, are derived from their start and finish times and the
// current time, so nothing runs in the background.
const schema = `
CREATE TABLE IF NOT EXISTS odc_api_clients (
	client_id   TEXT PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	secret      TEXT NOT NULL,
	permissions TEXT NOT NULL, -- JSON array of permission names
	position    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS odc_tokens (
	token_hash TEXT PRIMARY KEY, -- SHA-256 of the access token
	client_id  TEXT NOT NULL REFERENCES odc_api_clients (client_id),
	expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS odc_stages (
	key        TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	purpose    TEXT NOT NULL CHECK (purpose IN ('Development', 'NonProduction', 'Production')),
	sort_order INTEGER NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS odc_assets (
	key        TEXT PRIMARY KEY,
	asset_type TEXT NOT NULL CHECK (asset_type IN ('WebApplication', 'MobileApplication', 'LowCodeLibrary')),
	created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS odc_revisions (
	asset_key      TEXT NOT NULL REFERENCES odc_assets (key),
	revision       INTEGER NOT NULL,
	name           TEXT NOT NULL,
	created_at     INTEGER NOT NULL,
	created_by     TEXT NOT NULL,
	model_digest   TEXT NOT NULL,
	commit_message TEXT,
	tag            TEXT,
	tagged_by      TEXT,
	tagged_at      INTEGER,
	release_notes  TEXT,
	publish_errors TEXT NOT NULL, -- JSON array: TrueChange errors that make publishing fail
	PRIMARY KEY (asset_key, revision)
);
CREATE TABLE IF NOT EXISTS odc_revision_producers (
	asset_key    TEXT NOT NULL,
	revision     INTEGER NOT NULL,
	producer_key TEXT NOT NULL REFERENCES odc_assets (key),
	PRIMARY KEY (asset_key, revision, producer_key),
	FOREIGN KEY (asset_key, revision) REFERENCES odc_revisions (asset_key, revision)
);
CREATE TABLE IF NOT EXISTS odc_publish_operations (
	seq             INTEGER PRIMARY KEY,
	key             TEXT NOT NULL UNIQUE,
	asset_key       TEXT NOT NULL,
	revision        INTEGER NOT NULL,
	environment_key TEXT NOT NULL REFERENCES odc_stages (key),
	deployed_by     TEXT NOT NULL,
	build_key       TEXT NOT NULL,
	started_at      INTEGER NOT NULL,
	finishes_at     INTEGER NOT NULL,
	outcome         TEXT NOT NULL CHECK (outcome IN ('Finished', 'FinishedWithError')),
	FOREIGN KEY (asset_key, revision) REFERENCES odc_revisions (asset_key, revision)
);
CREATE TABLE IF NOT EXISTS odc_publish_messages (
	operation_key TEXT NOT NULL REFERENCES odc_publish_operations (key),
	position      INTEGER NOT NULL,
	at            INTEGER NOT NULL,
	type          TEXT NOT NULL,
	severity      TEXT NOT NULL CHECK (severity IN ('Info', 'Warning', 'Error')),
	message       TEXT NOT NULL,
	step_id       TEXT NOT NULL,
	asset_key     TEXT,
	PRIMARY KEY (operation_key, position)
);
-- Deployment operations (deployments API: Deploy, Undeploy, ApplyConfigs)
-- on stages after Development. Like publish operations they are never
-- updated: status is derived from started_at, finishes_at and outcome.
-- What is deployed in a stage is the latest finished Deploy or Publish not
-- followed by a finished Undeploy; configurations changed in a stage are
-- pending until a Publish, Deploy or ApplyConfigs of the app that STARTED
-- there after the change finishes successfully (appliedAt in
-- configurations_store.go: a change made while one runs stays pending).
CREATE TABLE IF NOT EXISTS odc_deployment_operations (
	seq             INTEGER PRIMARY KEY,
	key             TEXT NOT NULL UNIQUE,
	operation       TEXT NOT NULL CHECK (operation IN ('Deploy', 'Undeploy', 'ApplyConfigs')),
	asset_key       TEXT NOT NULL REFERENCES odc_assets (key),
	revision        INTEGER NOT NULL,
	build_key       TEXT, -- Deploy only
	environment_key TEXT NOT NULL REFERENCES odc_stages (key),
	deployed_by     TEXT NOT NULL,
	started_at      INTEGER NOT NULL,
	finishes_at     INTEGER NOT NULL,
	outcome         TEXT NOT NULL CHECK (outcome IN ('Finished', 'FinishedWithError'))
);
CREATE INDEX IF NOT EXISTS odc_deployment_operations_by_asset ON odc_deployment_operations (asset_key, environment_key, finishes_at);
-- The public elements of other assets a revision references, as the
-- producer's revision exposed them when the revision was created
-- (elements.go).
CREATE TABLE IF NOT EXISTS odc_referenced_elements (
	asset_key            TEXT NOT NULL,
	revision             INTEGER NOT NULL,
	producer_key         TEXT NOT NULL REFERENCES odc_assets (key),
	element_key          TEXT NOT NULL,
	name                 TEXT NOT NULL,
	type                 TEXT NOT NULL,
	description          TEXT NOT NULL,
	is_hidden            INTEGER NOT NULL,
	signature_digest     TEXT NOT NULL,
	compatibility_digest TEXT NOT NULL,
	PRIMARY KEY (asset_key, revision, producer_key, element_key),
	FOREIGN KEY (asset_key, revision) REFERENCES odc_revisions (asset_key, revision)
);
CREATE INDEX IF NOT EXISTS odc_publish_operations_by_asset ON odc_publish_operations (asset_key, environment_key, finishes_at);
CREATE INDEX IF NOT EXISTS odc_revision_producers_by_producer ON odc_revision_producers (producer_key);
`

// Asset types a code migration produces.
const (
	AssetTypeWebApp    = "WebApplication"
	AssetTypeMobileApp = "MobileApplication"
	AssetTypeLibrary   = "LowCodeLibrary"
)

var migratedAssetTypes = []string{AssetTypeWebApp, AssetTypeMobileApp, AssetTypeLibrary}

// Publish operation statuses, from the deployments API's Status enum.
const (
	StatusRunning           = "Running"
	StatusFinished          = "Finished"
	StatusFinishedWithError = "FinishedWithError"
)

// migrationCreatedBy is who the asset repository says created migrated
// revisions.
const migrationCreatedBy = "O11 code migration"

var errTokenExpired = errors.New("token expired")

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// readMeta reads what the sandbox keeps about the ODC organization.
func readMeta(ctx context.Context, tx *sql.Tx) (meta, error) {
	var m meta
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var key, value string
		if err := rows.Scan(&key, &value); err != nil {
			return err
		}
		switch key {
		case "odc_organization":
			m.Organization = value
		case "odc_portfolio_key":
			m.PortfolioKey = value
		}
		return nil
	}, `SELECT key, value FROM sandbox_meta WHERE key IN ('odc_organization', 'odc_portfolio_key')`)
	return m, err
}

// seeded reports whether the ODC tables were seeded.
func seeded(ctx context.Context, tx *sql.Tx) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sandbox_meta WHERE key = 'odc_seeded'`).Scan(&n)
	return n > 0, err
}

func seedODC(ctx context.Context, tx *sql.Tx, f *fixture.ODC) error {
	portfolio := f.PortfolioKey
	if portfolio == "" {
		portfolio = sqldb.DerivedKey("odc-portfolio", f.Organization)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sandbox_meta (key, value) VALUES ('odc_seeded', ?), ('odc_organization', ?), ('odc_portfolio_key', ?)`,
		sqldb.FormatTime(time.Now()), f.Organization, portfolio); err != nil {
		return err
	}
	for i, c := range f.APIClients {
		perms, err := sqldb.MarshalJSON(c.Permissions)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO odc_api_clients (client_id, name, secret, permissions, position) VALUES (?, ?, ?, ?, ?)`,
			c.ClientID, c.Name, c.ClientSecret, perms, i); err != nil {
			return err
		}
	}
	for _, s := range f.Stages {
		if _, err := tx.ExecContext(ctx, `INSERT INTO odc_stages (key, name, purpose, sort_order) VALUES (?, ?, ?, ?)`,
			s.Key, s.Name, s.Purpose, s.Order); err != nil {
			return err
		}
	}
	return nil
}

// --- API clients and tokens ---

// apiClients lists the API clients in fixture order.
func apiClients(ctx context.Context, tx *sql.Tx) ([]fixture.APIClient, error) {
	var clients []fixture.APIClient
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var c fixture.APIClient
		var perms string
		if err := rows.Scan(&c.ClientID, &c.Name, &c.ClientSecret, &perms); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(perms), &c.Permissions); err != nil {
			return err
		}
		clients = append(clients, c)
		return nil
	}, `SELECT client_id, name, secret, permissions FROM odc_api_clients ORDER BY position`)
	return clients, err
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// issueToken checks client credentials and issues an opaque access
// token valid for ttl. Unknown clients and wrong secrets both report
// httpx.ErrNotFound, so callers cannot tell them apart.
func (s *Service) issueToken(ctx context.Context, clientID, secret string, ttl time.Duration, now time.Time) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var stored string
		err := tx.QueryRowContext(ctx, `SELECT secret FROM odc_api_clients WHERE client_id = ?`, clientID).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && stored != secret) {
			return httpx.NotFoundf("Invalid client or invalid client credentials")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM odc_tokens WHERE expires_at <= ?`, nanos(now)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO odc_tokens (token_hash, client_id, expires_at) VALUES (?, ?, ?)`,
			tokenHash(token), clientID, nanos(now.Add(ttl)))
		return err
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// callerByToken finds the API client an access token was issued to. It
// reports httpx.ErrNotFound for unknown tokens and errTokenExpired for expired ones.
func (s *Service) callerByToken(ctx context.Context, token string, now time.Time) (fixture.APIClient, error) {
	var c fixture.APIClient
	var perms string
	var expires int64
	err := s.db.QueryRowContext(ctx, `SELECT c.client_id, c.name, c.permissions, t.expires_at
		FROM odc_tokens t JOIN odc_api_clients c ON c.client_id = t.client_id WHERE t.token_hash = ?`,
		tokenHash(token)).Scan(&c.ClientID, &c.Name, &perms, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return c, httpx.NotFoundf("unknown token")
	}
	if err != nil {
		return c, err
	}
	if expires <= nanos(now) {
		return c, errTokenExpired
	}
	return c, json.Unmarshal([]byte(perms), &c.Permissions)
}

// --- the ODC state, read by key ---

// Every request reads the rows it needs inside its transaction: an asset
// and its latest revision, one revision, the operation that deployed an
// asset to a stage. Nothing loads the whole organization.

// Stage is an ODC stage, which the APIs call an environment.
type Stage struct {
	Key, Name, Purpose string
	Order              int
}

// Asset is an asset with its latest revision.
type Asset struct {
	Key       string
	AssetType string
	CreatedAt time.Time
	Latest    *Revision
}

func (a *Asset) latest() *Revision { return a.Latest }

// Revision is one revision of an asset in the asset repository.
type Revision struct {
	AssetKey      string
	Revision      int
	Name          string
	CreatedAt     time.Time
	CreatedBy     string
	ModelDigest   string
	CommitMessage *string
	Tag           *string
	TaggedBy      *string
	TaggedAt      *time.Time
	ReleaseNotes  *string
	PublishErrors []string
	Producers     []string // asset keys, sorted
}

// PublishOperation publishes an asset revision to a stage. It is never
// updated: its status follows from its times and the current time.
type PublishOperation struct {
	Key            string
	AssetKey       string
	Revision       int
	EnvironmentKey string
	DeployedBy     string
	BuildKey       string
	StartedAt      time.Time
	FinishesAt     time.Time
	Outcome        string
}

// status is the operation's status at now.
func (op *PublishOperation) status(now time.Time) string {
	if now.Before(op.FinishesAt) {
		return StatusRunning
	}
	return op.Outcome
}

// inList returns "?, ?, ..." for n values and the values as arguments.
func inList[T any](values []T) (string, []any) {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", "), args
}

// revisionColumns selects a revision aliased r, its producers last.
const revisionColumns = `r.asset_key, r.revision, r.name, r.created_at, r.created_by, r.model_digest, r.commit_message,
	r.tag, r.tagged_by, r.tagged_at, r.release_notes, r.publish_errors,
	(SELECT group_concat(p.producer_key, ',') FROM odc_revision_producers p WHERE p.asset_key = r.asset_key AND p.revision = r.revision)`

// revisionDest returns the scan destinations for revisionColumns and
// a function that finishes the revision once scanned.
func revisionDest(r *Revision) ([]any, func() error) {
	var created int64
	var taggedAt sql.NullInt64
	var errorsJSON string
	var producers sql.NullString
	dest := []any{&r.AssetKey, &r.Revision, &r.Name, &created, &r.CreatedBy, &r.ModelDigest, &r.CommitMessage,
		&r.Tag, &r.TaggedBy, &taggedAt, &r.ReleaseNotes, &errorsJSON, &producers}
	return dest, func() error {
		r.CreatedAt = fromNanos(created)
		if taggedAt.Valid {
			t := fromNanos(taggedAt.Int64)
			r.TaggedAt = &t
		}
		if producers.Valid && producers.String != "" {
			r.Producers = strings.Split(producers.String, ",")
			slices.Sort(r.Producers)
		}
		return json.Unmarshal([]byte(errorsJSON), &r.PublishErrors)
	}
}

// queryRevisions lists the revisions matching where (on alias r), ascending.
func queryRevisions(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]*Revision, error) {
	var out []*Revision
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		r := &Revision{}
		dest, finish := revisionDest(r)
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		out = append(out, r)
		return finish()
	}, `SELECT `+revisionColumns+` FROM odc_revisions r WHERE `+where+` ORDER BY r.asset_key, r.revision`, args...)
	return out, err
}

// assetFilter selects assets; empty fields match all.
type assetFilter struct {
	keys      []string // canonical keys
	types     []string
	libraries *bool // true: only libraries; false: no libraries
}

// loadAssets lists the assets matching f, with their latest revisions, by
// the latest name (case-insensitively), then key.
func loadAssets(ctx context.Context, tx *sql.Tx, f assetFilter) ([]*Asset, error) {
	where, args := []string{"1"}, []any{}
	if len(f.keys) > 0 {
		in, a := inList(f.keys)
		where, args = append(where, "a.key IN ("+in+")"), append(args, a...)
	}
	if len(f.types) > 0 {
		in, a := inList(f.types)
		where, args = append(where, "a.asset_type IN ("+in+")"), append(args, a...)
	}
	if f.libraries != nil {
		op := "<>"
		if *f.libraries {
			op = "="
		}
		where, args = append(where, "a.asset_type "+op+" ?"), append(args, AssetTypeLibrary)
	}
	var out []*Asset
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		a := &Asset{Latest: &Revision{}}
		var created int64
		dest, finish := revisionDest(a.Latest)
		if err := rows.Scan(append([]any{&a.Key, &a.AssetType, &created}, dest...)...); err != nil {
			return err
		}
		a.CreatedAt = fromNanos(created)
		out = append(out, a)
		return finish()
	}, `SELECT a.key, a.asset_type, a.created_at, `+revisionColumns+` FROM odc_assets a
		JOIN odc_revisions r ON r.asset_key = a.key AND r.revision = (SELECT max(revision) FROM odc_revisions WHERE asset_key = a.key)
		WHERE `+strings.Join(where, " AND "), args...)
	if err != nil {
		return nil, err
	}
	sortAssets(out)
	return out, nil
}

// sortAssets sorts assets by their latest name, then key.
func sortAssets(assets []*Asset) {
	slices.SortFunc(assets, func(a, b *Asset) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.latest().Name), strings.ToLower(b.latest().Name)), strings.Compare(a.Key, b.Key))
	})
}

// findAsset reads the asset with a canonical key; nil when there is none.
func findAsset(ctx context.Context, tx *sql.Tx, key string) (*Asset, error) {
	assets, err := loadAssets(ctx, tx, assetFilter{keys: []string{key}})
	if err != nil || len(assets) == 0 {
		return nil, err
	}
	return assets[0], nil
}

// assetByKey reads the asset a path parameter names.
func assetByKey(ctx context.Context, tx *sql.Tx, key string) (*Asset, error) {
	if k, err := uuid.Parse(key); err == nil {
		a, err := findAsset(ctx, tx, k.String())
		if err != nil {
			return nil, err
		}
		if a != nil {
			return a, nil
		}
	}
	return nil, httpx.NotFoundf("Asset with key '%s' was not found.", key)
}

// revisionOf reads revision n of an asset.
func revisionOf(ctx context.Context, tx *sql.Tx, a *Asset, n int) (*Revision, error) {
	if n == a.latest().Revision {
		return a.latest(), nil
	}
	var revs []*Revision
	var err error
	if n < a.latest().Revision {
		revs, err = queryRevisions(ctx, tx, "r.asset_key = ? AND r.revision = ?", a.Key, n)
	}
	if err != nil {
		return nil, err
	}
	if len(revs) == 0 {
		return nil, httpx.NotFoundf("Revision %d of asset '%s' (key %s) was not found.", n, a.latest().Name, a.Key)
	}
	return revs[0], nil
}

// loadRevision reads an asset a path parameter names and its revision n.
func loadRevision(ctx context.Context, tx *sql.Tx, assetKey string, n int) (*Asset, *Revision, error) {
	a, err := assetByKey(ctx, tx, assetKey)
	if err != nil {
		return nil, nil, err
	}
	r, err := revisionOf(ctx, tx, a, n)
	if err != nil {
		return nil, nil, err
	}
	return a, r, nil
}

// allRevisions lists every revision of an asset, ascending.
func allRevisions(ctx context.Context, tx *sql.Tx, assetKey string) ([]*Revision, error) {
	return queryRevisions(ctx, tx, "r.asset_key = ?", assetKey)
}

// highestTag returns the revision of the asset with the highest tag,
// leaving out revision except (0: none), or nil when none is tagged.
func highestTag(ctx context.Context, tx *sql.Tx, assetKey string, except int) (*Revision, error) {
	tagged, err := queryRevisions(ctx, tx, "r.asset_key = ? AND r.tag IS NOT NULL AND r.revision <> ?", assetKey, except)
	if err != nil {
		return nil, err
	}
	var best *Revision
	for _, r := range tagged {
		if best == nil || compareTags(*r.Tag, *best.Tag) > 0 {
			best = r
		}
	}
	return best, nil
}

const stageColumns = `key, name, purpose, sort_order`

func stagesWhere(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]Stage, error) {
	var out []Stage
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var s Stage
		err := rows.Scan(&s.Key, &s.Name, &s.Purpose, &s.Order)
		out = append(out, s)
		return err
	}, `SELECT `+stageColumns+` FROM odc_stages WHERE `+where+` ORDER BY sort_order`, args...)
	return out, err
}

// loadStages lists the stages by order.
func loadStages(ctx context.Context, tx *sql.Tx) ([]Stage, error) {
	return stagesWhere(ctx, tx, "1")
}

// loadStage reads a stage by its canonical key.
func loadStage(ctx context.Context, tx *sql.Tx, key string) (Stage, error) {
	stages, err := stagesWhere(ctx, tx, "key = ?", key)
	if err != nil {
		return Stage{}, err
	}
	if len(stages) == 0 {
		return Stage{}, httpx.NotFoundf("Stage (environment) with key '%s' was not found.", key)
	}
	return stages[0], nil
}

// stageOrDevelopment resolves an optional environmentKey parameter: ""
// is the Development stage, where publishing happens by default (the "1CP"
// of the API documents).
func stageOrDevelopment(ctx context.Context, tx *sql.Tx, key string) (Stage, error) {
	if key == "" {
		stages, err := stagesWhere(ctx, tx, "purpose = ?", fixture.PurposeDevelopment)
		if err != nil {
			return Stage{}, err
		}
		if len(stages) == 0 {
			return Stage{}, httpx.NotFoundf("The organization has no Development stage.")
		}
		return stages[0], nil
	}
	k, err := httpx.ParseKey("environmentKey", key)
	if err != nil {
		return Stage{}, err
	}
	return loadStage(ctx, tx, k)
}

// stageOpsSQL is every operation that changes what a stage holds of an
// asset: publish operations and the Deploy and Undeploy deployment
// operations (deployment_operations.go), in the publish operations'
// columns plus operation. What a stage holds of an asset is what the latest
// finished one (stageOpsOrder) put there: nothing when it is an Undeploy.
const stageOpsSQL = `(SELECT seq, key, asset_key, revision, environment_key, deployed_by, build_key, started_at, finishes_at, outcome,
		'Publish' AS operation FROM odc_publish_operations
	UNION ALL
	SELECT seq, key, asset_key, revision, environment_key, deployed_by, coalesce(build_key, ''), started_at, finishes_at, outcome,
		operation FROM odc_deployment_operations WHERE operation IN ('Deploy', 'Undeploy'))`

// stageOpsOrder orders stageOpsSQL's rows latest first. The two tables
// number their rows apart, so the start time breaks ties of finish times
// before seq does.
const stageOpsOrder = `finishes_at DESC, started_at DESC, seq DESC`

// Deployed is what is deployed of an asset in a stage: the last publish or
// Deploy operation that finished successfully (a Deploy shown as a
// PublishOperation) with no finished Undeploy after it, the asset and the
// revision.
type Deployed struct {
	Op       *PublishOperation
	Asset    *Asset // Latest holds only the latest name
	Revision *Revision
}

// deployedFilter selects deployments; empty fields match all.
type deployedFilter struct {
	stageKeys []string // canonical keys
	assetKeys []string // canonical keys
	libraries *bool    // true: only libraries; false: no libraries
	consumes  string   // only revisions consuming this asset
}

// loadDeployments lists what is deployed by now, by stage order then asset.
func loadDeployments(ctx context.Context, tx *sql.Tx, f deployedFilter, now time.Time) ([]Deployed, error) {
	opWhere, args := []string{"o.outcome = 'Finished'", "o.finishes_at <= ?"}, []any{nanos(now)}
	if len(f.stageKeys) > 0 {
		in, a := inList(f.stageKeys)
		opWhere, args = append(opWhere, "o.environment_key IN ("+in+")"), append(args, a...)
	}
	if len(f.assetKeys) > 0 {
		in, a := inList(f.assetKeys)
		opWhere, args = append(opWhere, "o.asset_key IN ("+in+")"), append(args, a...)
	}
	if f.consumes != "" {
		// Whole assets, so the latest operation of each is still found.
		opWhere, args = append(opWhere, "o.asset_key IN (SELECT asset_key FROM odc_revision_producers WHERE producer_key = ?)"), append(args, f.consumes)
	}
	where := []string{"d.rn = 1", "d.operation <> 'Undeploy'"}
	if f.libraries != nil {
		op := "<>"
		if *f.libraries {
			op = "="
		}
		where, args = append(where, "a.asset_type "+op+" ?"), append(args, AssetTypeLibrary)
	}
	if f.consumes != "" {
		where, args = append(where, `EXISTS (SELECT 1 FROM odc_revision_producers p
			WHERE p.asset_key = d.asset_key AND p.revision = d.revision AND p.producer_key = ?)`), append(args, f.consumes)
	}
	var out []Deployed
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		d := Deployed{Op: &PublishOperation{}, Asset: &Asset{Latest: &Revision{}}, Revision: &Revision{}}
		var started, finishes, created int64
		dest, finish := revisionDest(d.Revision)
		if err := rows.Scan(append([]any{&d.Op.Key, &d.Op.AssetKey, &d.Op.Revision, &d.Op.EnvironmentKey, &d.Op.DeployedBy, &d.Op.BuildKey,
			&started, &finishes, &d.Op.Outcome, &d.Asset.AssetType, &created, &d.Asset.Latest.Name}, dest...)...); err != nil {
			return err
		}
		d.Op.StartedAt, d.Op.FinishesAt = fromNanos(started), fromNanos(finishes)
		d.Asset.Key, d.Asset.CreatedAt = d.Op.AssetKey, fromNanos(created)
		out = append(out, d)
		return finish()
	}, `WITH d AS (
			SELECT o.*, row_number() OVER (PARTITION BY o.environment_key, o.asset_key ORDER BY `+stageOpsOrder+`) AS rn
			FROM `+stageOpsSQL+` o WHERE `+strings.Join(opWhere, " AND ")+`)
		SELECT d.key, d.asset_key, d.revision, d.environment_key, d.deployed_by, d.build_key, d.started_at, d.finishes_at, d.outcome,
			a.asset_type, a.created_at, (SELECT l.name FROM odc_revisions l WHERE l.asset_key = a.key ORDER BY l.revision DESC LIMIT 1),
			`+revisionColumns+`
		FROM d JOIN odc_stages s ON s.key = d.environment_key JOIN odc_assets a ON a.key = d.asset_key
		JOIN odc_revisions r ON r.asset_key = d.asset_key AND r.revision = d.revision
		WHERE `+strings.Join(where, " AND ")+` ORDER BY s.sort_order, d.asset_key`, args...)
	return out, err
}

// deployedOp returns the operation that deployed what is deployed of
// the asset in the stage by now (a Publish, or a Deploy shown as one), or
// nil when none did or a finished Undeploy followed it.
func deployedOp(ctx context.Context, tx *sql.Tx, stageKey, assetKey string, now time.Time) (*PublishOperation, error) {
	var operation string
	op := &PublishOperation{}
	var started, finishes int64
	err := tx.QueryRowContext(ctx, `SELECT `+publishOpColumns+`, operation FROM `+stageOpsSQL+`
		WHERE environment_key = ? AND asset_key = ? AND outcome = 'Finished' AND finishes_at <= ?
		ORDER BY `+stageOpsOrder+` LIMIT 1`, stageKey, assetKey, nanos(now)).Scan(&op.Key, &op.AssetKey, &op.Revision, &op.EnvironmentKey,
		&op.DeployedBy, &op.BuildKey, &started, &finishes, &op.Outcome, &operation)
	if errors.Is(err, sql.ErrNoRows) || err == nil && operation == operationUndeploy {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	op.StartedAt, op.FinishesAt = fromNanos(started), fromNanos(finishes)
	return op, nil
}

// firstPublished returns, of the revisions given, those published
// successfully to some stage by now, each with the first operation that
// did.
func firstPublished(ctx context.Context, tx *sql.Tx, refs []RevisionRef, now time.Time) (map[RevisionRef]*PublishOperation, error) {
	out := map[RevisionRef]*PublishOperation{}
	for chunk := range slices.Chunk(refs, 500) {
		if err := firstPublishedOf(ctx, tx, chunk, now, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func firstPublishedOf(ctx context.Context, tx *sql.Tx, refs []RevisionRef, now time.Time, out map[RevisionRef]*PublishOperation) error {
	values := strings.TrimSuffix(strings.Repeat("(?, ?), ", len(refs)), ", ")
	args := make([]any, 0, 2*len(refs)+1)
	for _, r := range refs {
		args = append(args, r.AssetKey, r.Revision)
	}
	args = append(args, nanos(now))
	return sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		op, err := scanPublishOp(rows)
		if err == nil {
			out[RevisionRef{op.AssetKey, op.Revision}] = op
		}
		return err
	}, `WITH wanted (asset_key, revision) AS (VALUES `+values+`),
		f AS (SELECT o.*, row_number() OVER (PARTITION BY o.asset_key, o.revision ORDER BY o.finishes_at, o.seq) AS rn
			FROM odc_publish_operations o JOIN wanted w ON w.asset_key = o.asset_key AND w.revision = o.revision
			WHERE o.outcome = 'Finished' AND o.finishes_at <= ?)
		SELECT `+publishOpColumns+` FROM f WHERE rn = 1`, args...)
}

// dependsOn reports whether asset from consumes asset to, directly or
// not, through the latest revisions.
func dependsOn(ctx context.Context, tx *sql.Tx, from, to string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `WITH RECURSIVE reach (k) AS (
			SELECT ?1
			UNION
			SELECT p.producer_key FROM reach JOIN odc_revision_producers p ON p.asset_key = reach.k
				AND p.revision = (SELECT max(revision) FROM odc_revisions WHERE asset_key = reach.k)
		)
		SELECT count(*) FROM reach WHERE k = ?2`, from, to).Scan(&n)
	return n > 0, err
}

// --- tags ---

var tagPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$`)

func parseTag(tag string) ([3]int, bool) {
	m := tagPattern.FindStringSubmatch(tag)
	if m == nil {
		return [3]int{}, false
	}
	var v [3]int
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v, true
}

// compareTags compares two valid Major.Minor.Patch tags.
func compareTags(a, b string) int {
	va, _ := parseTag(a)
	vb, _ := parseTag(b)
	return slices.Compare(va[:], vb[:])
}

// --- releasing (tagging) ---

// revisionPatch is a PATCH of an asset revision. A nil outer pointer
// means the field was absent; a nil inner pointer means it was null.
type revisionPatch struct {
	Tag           **string
	ReleaseNotes  **string
	CommitMessage **string
}

// patchRevision tags, re-tags or untags a revision and sets its release
// notes and commit message, following the asset repository's rules.
func (s *Service) patchRevision(ctx context.Context, assetKey string, revision int, p revisionPatch, caller string, now time.Time) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		a, r, err := loadRevision(ctx, tx, assetKey, revision)
		if err != nil {
			return err
		}
		tag, taggedBy, taggedAt, notes := r.Tag, r.TaggedBy, r.TaggedAt, r.ReleaseNotes
		if p.Tag != nil {
			newTag := *p.Tag
			switch {
			case newTag == nil:
				tag, taggedBy, taggedAt, notes = nil, nil, nil, nil
			case r.Tag != nil && *r.Tag == *newTag:
				// Tagging again with the same tag keeps it as it is.
			default:
				if _, ok := parseTag(*newTag); !ok {
					return httpx.Invalidf("Tag '%s' is not valid: use the Major.Minor.Patch format, like 1.0.0.", *newTag)
				}
				if err := checkTagIsHighest(ctx, tx, a, r, *newTag); err != nil {
					return err
				}
				t := now
				tag, taggedBy, taggedAt = newTag, &caller, &t
			}
		}
		if p.ReleaseNotes != nil {
			notes = *p.ReleaseNotes
			if notes != nil && tag == nil {
				return httpx.Invalidf("Release notes can only be set on a tagged revision: revision %d of '%s' has no tag and the request sets none.", revision, r.Name)
			}
		}
		commit := r.CommitMessage
		if p.CommitMessage != nil {
			commit = *p.CommitMessage
		}
		var taggedAtNano sql.NullInt64
		if taggedAt != nil {
			taggedAtNano = sql.NullInt64{Int64: nanos(*taggedAt), Valid: true}
		}
		_, err = tx.ExecContext(ctx, `UPDATE odc_revisions SET tag = ?, tagged_by = ?, tagged_at = ?, release_notes = ?, commit_message = ?
			WHERE asset_key = ? AND revision = ?`, tag, taggedBy, taggedAtNano, notes, commit, a.Key, revision)
		return err
	})
}

// checkTagIsHighest refuses a tag that is not higher than every tag of the
// asset's other revisions.
func checkTagIsHighest(ctx context.Context, tx *sql.Tx, a *Asset, r *Revision, tag string) error {
	highest, err := highestTag(ctx, tx, a.Key, r.Revision)
	if err != nil {
		return err
	}
	if highest != nil && compareTags(tag, *highest.Tag) <= 0 {
		return httpx.Invalidf("Tag '%s' must be higher than '%s', the highest tag of asset '%s' (revision %d).",
			tag, *highest.Tag, r.Name, highest.Revision)
	}
	return nil
}

// --- publishing ---

const publishOpColumns = `key, asset_key, revision, environment_key, deployed_by, build_key, started_at, finishes_at, outcome`

func scanPublishOp(rows *sql.Rows) (*PublishOperation, error) {
	op := &PublishOperation{}
	var started, finishes int64
	if err := rows.Scan(&op.Key, &op.AssetKey, &op.Revision, &op.EnvironmentKey, &op.DeployedBy, &op.BuildKey,
		&started, &finishes, &op.Outcome); err != nil {
		return nil, err
	}
	op.StartedAt, op.FinishesAt = fromNanos(started), fromNanos(finishes)
	return op, nil
}

// queryPublishOps lists the publish operations matching where, which
// may end in ORDER BY and LIMIT.
func queryPublishOps(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]*PublishOperation, error) {
	var ops []*PublishOperation
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		op, err := scanPublishOp(rows)
		if err == nil {
			ops = append(ops, op)
		}
		return err
	}, `SELECT `+publishOpColumns+` FROM odc_publish_operations WHERE `+where, args...)
	return ops, err
}

type publishRequest struct {
	AssetKey       string
	Revision       int
	EnvironmentKey string // "" = the Development stage
}

// Message is one message a publish operation logs.
type Message struct {
	At       time.Time
	Type     string
	Severity string
	Message  string
	StepID   string
	AssetKey string
}

// publish creates a publish operation. Its outcome is decided now:
// it fails when a producer of the revision is not deployed in the stage or
// the revision has TrueChange errors. The outcome shows once the operation
// finishes, duration later.
func (s *Service) publish(ctx context.Context, req publishRequest, caller string, duration time.Duration, now time.Time) (*PublishOperation, error) {
	var op *PublishOperation
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		a, r, err := loadRevision(ctx, tx, req.AssetKey, req.Revision)
		if err != nil {
			return err
		}
		stage, err := stageOrDevelopment(ctx, tx, req.EnvironmentKey)
		if err != nil {
			return err
		}
		missing, err := undeployedProducers(ctx, tx, r, stage.Key, now)
		if err != nil {
			return err
		}
		op = &PublishOperation{
			Key: uuid.NewString(), AssetKey: a.Key, Revision: r.Revision, EnvironmentKey: stage.Key, DeployedBy: caller,
			BuildKey: uuid.NewString(), StartedAt: now, FinishesAt: now.Add(duration), Outcome: StatusFinished,
		}
		subject := fmt.Sprintf("'%s' revision %d", r.Name, r.Revision)
		msgs := []Message{{At: now, Type: "PublishStarted", Severity: "Info", StepID: "Start", AssetKey: a.Key,
			Message: fmt.Sprintf("Publishing %s to stage '%s'.", subject, stage.Name)}}
		for _, producer := range missing {
			p := producer.Key
			msgs = append(msgs, Message{At: op.FinishesAt, Type: "ProducerNotPublished", Severity: "Error", StepID: "ResolveDependencies", AssetKey: p,
				Message: fmt.Sprintf("Producer '%s' (key %s) is not published in stage '%s'. Publish it first.", producer.latest().Name, p, stage.Name)})
		}
		for _, e := range r.PublishErrors {
			msgs = append(msgs, Message{At: op.FinishesAt, Type: "TrueChangeError", Severity: "Error", StepID: "Compile", AssetKey: a.Key,
				Message: fmt.Sprintf("TrueChange error in '%s': %s", r.Name, e)})
		}
		if errorCount := len(msgs) - 1; errorCount > 0 {
			op.Outcome = StatusFinishedWithError
			msgs = append(msgs, Message{At: op.FinishesAt, Type: "PublishFailed", Severity: "Error", StepID: "Finish", AssetKey: a.Key,
				Message: fmt.Sprintf("Publishing %s to stage '%s' failed with %d error(s).", subject, stage.Name, errorCount)})
		} else {
			msgs = append(msgs, Message{At: op.FinishesAt, Type: "PublishFinished", Severity: "Info", StepID: "Finish", AssetKey: a.Key,
				Message: fmt.Sprintf("Published %s to stage '%s'.", subject, stage.Name)})
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO odc_publish_operations (`+publishOpColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			op.Key, op.AssetKey, op.Revision, op.EnvironmentKey, op.DeployedBy, op.BuildKey,
			nanos(op.StartedAt), nanos(op.FinishesAt), op.Outcome); err != nil {
			return err
		}
		for i, m := range msgs {
			var assetKey sql.NullString
			if m.AssetKey != "" {
				assetKey = sql.NullString{String: m.AssetKey, Valid: true}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO odc_publish_messages (operation_key, position, at, type, severity, message, step_id, asset_key)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, op.Key, i, nanos(m.At), m.Type, m.Severity, m.Message, m.StepID, assetKey); err != nil {
				return err
			}
		}
		return nil
	})
	return op, err
}

// undeployedProducers returns the producers of a revision not deployed
// in the stage by now, in the revision's order.
func undeployedProducers(ctx context.Context, tx *sql.Tx, r *Revision, stageKey string, now time.Time) ([]*Asset, error) {
	if len(r.Producers) == 0 {
		return nil, nil
	}
	deployed, err := loadDeployments(ctx, tx, deployedFilter{stageKeys: []string{stageKey}, assetKeys: r.Producers}, now)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, p := range r.Producers {
		if !slices.ContainsFunc(deployed, func(d Deployed) bool { return d.Op.AssetKey == p }) {
			keys = append(keys, p)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	assets, err := loadAssets(ctx, tx, assetFilter{keys: keys})
	if err != nil {
		return nil, err
	}
	out := make([]*Asset, 0, len(keys))
	for _, k := range keys {
		if i := slices.IndexFunc(assets, func(a *Asset) bool { return a.Key == k }); i >= 0 {
			out = append(out, assets[i])
		}
	}
	return out, nil
}

// publishOpFilter selects publish operations; empty fields match all.
type publishOpFilter struct {
	key, assetKey, environmentKey, status string
	revision                              int // 0 = any
}

// publishOps lists publish operations, newest first.
func (s *Service) publishOps(ctx context.Context, f publishOpFilter, now time.Time) ([]*PublishOperation, error) {
	var ops []*PublishOperation
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		var err error
		where, args := []string{"1"}, []any{}
		for _, c := range []struct {
			column string
			value  any
			set    bool
		}{
			{"key", f.key, f.key != ""}, {"asset_key", f.assetKey, f.assetKey != ""},
			{"environment_key", f.environmentKey, f.environmentKey != ""}, {"revision", f.revision, f.revision != 0},
		} {
			if c.set {
				where, args = append(where, c.column+" = ?"), append(args, c.value)
			}
		}
		ops, err = queryPublishOps(ctx, tx, strings.Join(where, " AND ")+" ORDER BY seq DESC", args...)
		return err
	})
	if f.status != "" {
		ops = slices.DeleteFunc(ops, func(op *PublishOperation) bool { return op.status(now) != f.status })
	}
	return ops, err
}

// publishMessages lists the messages of an operation logged by now.
func (s *Service) publishMessages(ctx context.Context, opKey string, now time.Time) ([]Message, error) {
	var msgs []Message
	err := s.db.Read(ctx, func(tx *sql.Tx) (err error) {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM odc_publish_operations WHERE key = ?`, opKey).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return httpx.NotFoundf("Publish operation with key '%s' was not found.", opKey)
		}
		msgs, err = loggedMessages(ctx, tx, "odc_publish_messages", opKey, now)
		return err
	})
	return msgs, err
}

// loggedMessages lists the messages an operation logged by now, in order,
// from table: odc_publish_messages or odc_deployment_messages, which share
// their columns.
func loggedMessages(ctx context.Context, tx *sql.Tx, table, opKey string, now time.Time) ([]Message, error) {
	var msgs []Message
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var m Message
		var at int64
		var assetKey sql.NullString
		if err := rows.Scan(&at, &m.Type, &m.Severity, &m.Message, &m.StepID, &assetKey); err != nil {
			return err
		}
		m.At, m.AssetKey = fromNanos(at), assetKey.String
		msgs = append(msgs, m)
		return nil
	}, `SELECT at, type, severity, message, step_id, asset_key FROM `+table+`
		WHERE operation_key = ? AND at <= ? ORDER BY position`, opKey, nanos(now))
	return msgs, err
}
