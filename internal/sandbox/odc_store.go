package sandbox

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
)

// The ODC state lives in tables of its own, created and seeded apart from
// LifeTime's, so a database seeded before the ODC APIs existed gets them on
// its next start. Times are stored as Unix nanoseconds so SQL compares them
// correctly. Publish operations are never updated: their status, and what
// is deployed where, are derived from their start and finish times and the
// current time, so nothing runs in the background.
const odcSchema = `
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
CREATE INDEX IF NOT EXISTS odc_publish_operations_by_asset ON odc_publish_operations (asset_key, environment_key, finishes_at);
CREATE INDEX IF NOT EXISTS odc_revision_producers_by_producer ON odc_revision_producers (producer_key);
`

// Asset types a code migration produces.
const (
	AssetTypeWebApp    = "WebApplication"
	AssetTypeMobileApp = "MobileApplication"
	AssetTypeLibrary   = "LowCodeLibrary"
)

var odcMigratedAssetTypes = []string{AssetTypeWebApp, AssetTypeMobileApp, AssetTypeLibrary}

// Publish operation statuses, from the deployments API's Status enum.
const (
	odcStatusRunning           = "Running"
	odcStatusFinished          = "Finished"
	odcStatusFinishedWithError = "FinishedWithError"
)

// odcMigrationCreatedBy is who the asset repository says created migrated
// revisions.
const odcMigrationCreatedBy = "O11 code migration"

var errODCTokenExpired = errors.New("token expired")

func odcNanos(t time.Time) int64 { return t.UnixNano() }

func odcFromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// odcMeta is what the sandbox keeps about the ODC organization.
type odcMeta struct {
	Organization string
	PortfolioKey string
}

// initODC creates the ODC tables and seeds them from the fixture, once.
func (st *store) initODC(ctx context.Context, f *ODCFixture) (odcMeta, error) {
	var meta odcMeta
	if _, err := st.db.ExecContext(ctx, odcSchema); err != nil {
		return meta, fmt.Errorf("create ODC schema: %w", err)
	}
	err := st.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sandbox_meta WHERE key = 'odc_seeded'`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if err := seedODC(ctx, tx, f); err != nil {
				return fmt.Errorf("seed odc: %w", err)
			}
		}
		return queryRows(ctx, tx, func(rows *sql.Rows) error {
			var key, value string
			if err := rows.Scan(&key, &value); err != nil {
				return err
			}
			switch key {
			case "odc_organization":
				meta.Organization = value
			case "odc_portfolio_key":
				meta.PortfolioKey = value
			}
			return nil
		}, `SELECT key, value FROM sandbox_meta WHERE key IN ('odc_organization', 'odc_portfolio_key')`)
	})
	return meta, err
}

func seedODC(ctx context.Context, tx *sql.Tx, f *ODCFixture) error {
	portfolio := f.PortfolioKey
	if portfolio == "" {
		portfolio = derivedKey("odc-portfolio", f.Organization)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sandbox_meta (key, value) VALUES ('odc_seeded', ?), ('odc_organization', ?), ('odc_portfolio_key', ?)`,
		formatTime(time.Now()), f.Organization, portfolio); err != nil {
		return err
	}
	for i, c := range f.APIClients {
		perms, err := marshalJSON(c.Permissions)
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

// odcAPIClients lists the API clients in fixture order.
func (st *store) odcAPIClients(ctx context.Context) ([]FixtureAPIClient, error) {
	var clients []FixtureAPIClient
	err := st.read(ctx, func(tx *sql.Tx) error {
		return queryRows(ctx, tx, func(rows *sql.Rows) error {
			var c FixtureAPIClient
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
	})
	return clients, err
}

func odcTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// odcIssueToken checks client credentials and issues an opaque access
// token valid for ttl. Unknown clients and wrong secrets both report
// errNotFound, so callers cannot tell them apart.
func (st *store) odcIssueToken(ctx context.Context, clientID, secret string, ttl time.Duration, now time.Time) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	err := st.write(ctx, func(tx *sql.Tx) error {
		var stored string
		err := tx.QueryRowContext(ctx, `SELECT secret FROM odc_api_clients WHERE client_id = ?`, clientID).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && stored != secret) {
			return notFoundf("Invalid client or invalid client credentials")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM odc_tokens WHERE expires_at <= ?`, odcNanos(now)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO odc_tokens (token_hash, client_id, expires_at) VALUES (?, ?, ?)`,
			odcTokenHash(token), clientID, odcNanos(now.Add(ttl)))
		return err
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// odcCallerByToken finds the API client an access token was issued to. It
// reports errNotFound for unknown tokens and errODCTokenExpired for expired ones.
func (st *store) odcCallerByToken(ctx context.Context, token string, now time.Time) (FixtureAPIClient, error) {
	var c FixtureAPIClient
	var perms string
	var expires int64
	err := st.db.QueryRowContext(ctx, `SELECT c.client_id, c.name, c.permissions, t.expires_at
		FROM odc_tokens t JOIN odc_api_clients c ON c.client_id = t.client_id WHERE t.token_hash = ?`,
		odcTokenHash(token)).Scan(&c.ClientID, &c.Name, &perms, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFoundf("unknown token")
	}
	if err != nil {
		return c, err
	}
	if expires <= odcNanos(now) {
		return c, errODCTokenExpired
	}
	return c, json.Unmarshal([]byte(perms), &c.Permissions)
}

// --- the ODC state, read by key ---

// Every request reads the rows it needs inside its transaction: an asset
// and its latest revision, one revision, the operation that deployed an
// asset to a stage. Nothing loads the whole organization.

type odcStage struct {
	Key, Name, Purpose string
	Order              int
}

// odcAsset is an asset with its latest revision.
type odcAsset struct {
	Key       string
	AssetType string
	CreatedAt time.Time
	Latest    *odcRevision
}

func (a *odcAsset) latest() *odcRevision { return a.Latest }

type odcRevision struct {
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

type odcPublishOp struct {
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
func (op *odcPublishOp) status(now time.Time) string {
	if now.Before(op.FinishesAt) {
		return odcStatusRunning
	}
	return op.Outcome
}

// odcRevisionRef names one revision of one asset.
type odcRevisionRef struct {
	AssetKey string
	Revision int
}

// odcInList returns "?, ?, ..." for n values and the values as arguments.
func odcInList[T any](values []T) (string, []any) {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", "), args
}

// odcRevisionColumns selects a revision aliased r, its producers last.
const odcRevisionColumns = `r.asset_key, r.revision, r.name, r.created_at, r.created_by, r.model_digest, r.commit_message,
	r.tag, r.tagged_by, r.tagged_at, r.release_notes, r.publish_errors,
	(SELECT group_concat(p.producer_key, ',') FROM odc_revision_producers p WHERE p.asset_key = r.asset_key AND p.revision = r.revision)`

// odcRevisionDest returns the scan destinations for odcRevisionColumns and
// a function that finishes the revision once scanned.
func odcRevisionDest(r *odcRevision) ([]any, func() error) {
	var created int64
	var taggedAt sql.NullInt64
	var errorsJSON string
	var producers sql.NullString
	dest := []any{&r.AssetKey, &r.Revision, &r.Name, &created, &r.CreatedBy, &r.ModelDigest, &r.CommitMessage,
		&r.Tag, &r.TaggedBy, &taggedAt, &r.ReleaseNotes, &errorsJSON, &producers}
	return dest, func() error {
		r.CreatedAt = odcFromNanos(created)
		if taggedAt.Valid {
			t := odcFromNanos(taggedAt.Int64)
			r.TaggedAt = &t
		}
		if producers.Valid && producers.String != "" {
			r.Producers = strings.Split(producers.String, ",")
			slices.Sort(r.Producers)
		}
		return json.Unmarshal([]byte(errorsJSON), &r.PublishErrors)
	}
}

// odcRevisions lists the revisions matching where (on alias r), ascending.
func odcRevisions(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]*odcRevision, error) {
	var out []*odcRevision
	err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		r := &odcRevision{}
		dest, finish := odcRevisionDest(r)
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		out = append(out, r)
		return finish()
	}, `SELECT `+odcRevisionColumns+` FROM odc_revisions r WHERE `+where+` ORDER BY r.asset_key, r.revision`, args...)
	return out, err
}

// odcAssetFilter selects assets; empty fields match all.
type odcAssetFilter struct {
	keys      []string // canonical keys
	types     []string
	libraries *bool // true: only libraries; false: no libraries
}

// odcAssets lists the assets matching f, with their latest revisions, by
// the latest name (case-insensitively), then key.
func odcAssets(ctx context.Context, tx *sql.Tx, f odcAssetFilter) ([]*odcAsset, error) {
	where, args := []string{"1"}, []any{}
	if len(f.keys) > 0 {
		in, a := odcInList(f.keys)
		where, args = append(where, "a.key IN ("+in+")"), append(args, a...)
	}
	if len(f.types) > 0 {
		in, a := odcInList(f.types)
		where, args = append(where, "a.asset_type IN ("+in+")"), append(args, a...)
	}
	if f.libraries != nil {
		op := "<>"
		if *f.libraries {
			op = "="
		}
		where, args = append(where, "a.asset_type "+op+" ?"), append(args, AssetTypeLibrary)
	}
	var out []*odcAsset
	err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		a := &odcAsset{Latest: &odcRevision{}}
		var created int64
		dest, finish := odcRevisionDest(a.Latest)
		if err := rows.Scan(append([]any{&a.Key, &a.AssetType, &created}, dest...)...); err != nil {
			return err
		}
		a.CreatedAt = odcFromNanos(created)
		out = append(out, a)
		return finish()
	}, `SELECT a.key, a.asset_type, a.created_at, `+odcRevisionColumns+` FROM odc_assets a
		JOIN odc_revisions r ON r.asset_key = a.key AND r.revision = (SELECT max(revision) FROM odc_revisions WHERE asset_key = a.key)
		WHERE `+strings.Join(where, " AND "), args...)
	if err != nil {
		return nil, err
	}
	sortODCAssets(out)
	return out, nil
}

// sortODCAssets sorts assets by their latest name, then key.
func sortODCAssets(assets []*odcAsset) {
	slices.SortFunc(assets, func(a, b *odcAsset) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.latest().Name), strings.ToLower(b.latest().Name)), strings.Compare(a.Key, b.Key))
	})
}

// odcFindAsset reads the asset with a canonical key; nil when there is none.
func odcFindAsset(ctx context.Context, tx *sql.Tx, key string) (*odcAsset, error) {
	assets, err := odcAssets(ctx, tx, odcAssetFilter{keys: []string{key}})
	if err != nil || len(assets) == 0 {
		return nil, err
	}
	return assets[0], nil
}

// odcAssetByKey reads the asset a path parameter names.
func odcAssetByKey(ctx context.Context, tx *sql.Tx, key string) (*odcAsset, error) {
	if k, err := uuid.Parse(key); err == nil {
		a, err := odcFindAsset(ctx, tx, k.String())
		if err != nil {
			return nil, err
		}
		if a != nil {
			return a, nil
		}
	}
	return nil, notFoundf("Asset with key '%s' was not found.", key)
}

// odcRevisionOf reads revision n of an asset.
func odcRevisionOf(ctx context.Context, tx *sql.Tx, a *odcAsset, n int) (*odcRevision, error) {
	if n == a.latest().Revision {
		return a.latest(), nil
	}
	var revs []*odcRevision
	var err error
	if n < a.latest().Revision {
		revs, err = odcRevisions(ctx, tx, "r.asset_key = ? AND r.revision = ?", a.Key, n)
	}
	if err != nil {
		return nil, err
	}
	if len(revs) == 0 {
		return nil, notFoundf("Revision %d of asset '%s' (key %s) was not found.", n, a.latest().Name, a.Key)
	}
	return revs[0], nil
}

// odcLoadRevision reads an asset a path parameter names and its revision n.
func odcLoadRevision(ctx context.Context, tx *sql.Tx, assetKey string, n int) (*odcAsset, *odcRevision, error) {
	a, err := odcAssetByKey(ctx, tx, assetKey)
	if err != nil {
		return nil, nil, err
	}
	r, err := odcRevisionOf(ctx, tx, a, n)
	if err != nil {
		return nil, nil, err
	}
	return a, r, nil
}

// odcAllRevisions lists every revision of an asset, ascending.
func odcAllRevisions(ctx context.Context, tx *sql.Tx, assetKey string) ([]*odcRevision, error) {
	return odcRevisions(ctx, tx, "r.asset_key = ?", assetKey)
}

// odcHighestTag returns the revision of the asset with the highest tag,
// leaving out revision except (0: none), or nil when none is tagged.
func odcHighestTag(ctx context.Context, tx *sql.Tx, assetKey string, except int) (*odcRevision, error) {
	tagged, err := odcRevisions(ctx, tx, "r.asset_key = ? AND r.tag IS NOT NULL AND r.revision <> ?", assetKey, except)
	if err != nil {
		return nil, err
	}
	var best *odcRevision
	for _, r := range tagged {
		if best == nil || compareODCTags(*r.Tag, *best.Tag) > 0 {
			best = r
		}
	}
	return best, nil
}

const odcStageColumns = `key, name, purpose, sort_order`

func odcStagesWhere(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]odcStage, error) {
	var out []odcStage
	err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		var s odcStage
		err := rows.Scan(&s.Key, &s.Name, &s.Purpose, &s.Order)
		out = append(out, s)
		return err
	}, `SELECT `+odcStageColumns+` FROM odc_stages WHERE `+where+` ORDER BY sort_order`, args...)
	return out, err
}

// odcStages lists the stages by order.
func odcStages(ctx context.Context, tx *sql.Tx) ([]odcStage, error) {
	return odcStagesWhere(ctx, tx, "1")
}

// odcStageByKey reads a stage by its canonical key.
func odcStageByKey(ctx context.Context, tx *sql.Tx, key string) (odcStage, error) {
	stages, err := odcStagesWhere(ctx, tx, "key = ?", key)
	if err != nil {
		return odcStage{}, err
	}
	if len(stages) == 0 {
		return odcStage{}, notFoundf("Stage (environment) with key '%s' was not found.", key)
	}
	return stages[0], nil
}

// odcStageOrDevelopment resolves an optional environmentKey parameter: ""
// is the Development stage, where publishing happens by default (the "1CP"
// of the API documents).
func odcStageOrDevelopment(ctx context.Context, tx *sql.Tx, key string) (odcStage, error) {
	if key == "" {
		stages, err := odcStagesWhere(ctx, tx, "purpose = ?", PurposeDevelopment)
		if err != nil {
			return odcStage{}, err
		}
		if len(stages) == 0 {
			return odcStage{}, notFoundf("The organization has no Development stage.")
		}
		return stages[0], nil
	}
	k, err := parseKey("environmentKey", key)
	if err != nil {
		return odcStage{}, err
	}
	return odcStageByKey(ctx, tx, k)
}

// odcDeployed is what is deployed of an asset in a stage: the last publish
// operation that finished successfully, the asset and the revision.
type odcDeployed struct {
	Op       *odcPublishOp
	Asset    *odcAsset // Latest holds only the latest name
	Revision *odcRevision
}

// odcDeployedFilter selects deployments; empty fields match all.
type odcDeployedFilter struct {
	stageKeys []string // canonical keys
	assetKeys []string // canonical keys
	libraries *bool    // true: only libraries; false: no libraries
	consumes  string   // only revisions consuming this asset
}

// odcDeployments lists what is deployed by now, by stage order then asset.
func odcDeployments(ctx context.Context, tx *sql.Tx, f odcDeployedFilter, now time.Time) ([]odcDeployed, error) {
	opWhere, args := []string{"o.outcome = 'Finished'", "o.finishes_at <= ?"}, []any{odcNanos(now)}
	if len(f.stageKeys) > 0 {
		in, a := odcInList(f.stageKeys)
		opWhere, args = append(opWhere, "o.environment_key IN ("+in+")"), append(args, a...)
	}
	if len(f.assetKeys) > 0 {
		in, a := odcInList(f.assetKeys)
		opWhere, args = append(opWhere, "o.asset_key IN ("+in+")"), append(args, a...)
	}
	if f.consumes != "" {
		// Whole assets, so the latest operation of each is still found.
		opWhere, args = append(opWhere, "o.asset_key IN (SELECT asset_key FROM odc_revision_producers WHERE producer_key = ?)"), append(args, f.consumes)
	}
	where := []string{"d.rn = 1"}
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
	var out []odcDeployed
	err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		d := odcDeployed{Op: &odcPublishOp{}, Asset: &odcAsset{Latest: &odcRevision{}}, Revision: &odcRevision{}}
		var started, finishes, created int64
		dest, finish := odcRevisionDest(d.Revision)
		if err := rows.Scan(append([]any{&d.Op.Key, &d.Op.AssetKey, &d.Op.Revision, &d.Op.EnvironmentKey, &d.Op.DeployedBy, &d.Op.BuildKey,
			&started, &finishes, &d.Op.Outcome, &d.Asset.AssetType, &created, &d.Asset.Latest.Name}, dest...)...); err != nil {
			return err
		}
		d.Op.StartedAt, d.Op.FinishesAt = odcFromNanos(started), odcFromNanos(finishes)
		d.Asset.Key, d.Asset.CreatedAt = d.Op.AssetKey, odcFromNanos(created)
		out = append(out, d)
		return finish()
	}, `WITH d AS (
			SELECT o.*, row_number() OVER (PARTITION BY o.environment_key, o.asset_key ORDER BY o.finishes_at DESC, o.seq DESC) AS rn
			FROM odc_publish_operations o WHERE `+strings.Join(opWhere, " AND ")+`)
		SELECT d.key, d.asset_key, d.revision, d.environment_key, d.deployed_by, d.build_key, d.started_at, d.finishes_at, d.outcome,
			a.asset_type, a.created_at, (SELECT l.name FROM odc_revisions l WHERE l.asset_key = a.key ORDER BY l.revision DESC LIMIT 1),
			`+odcRevisionColumns+`
		FROM d JOIN odc_stages s ON s.key = d.environment_key JOIN odc_assets a ON a.key = d.asset_key
		JOIN odc_revisions r ON r.asset_key = d.asset_key AND r.revision = d.revision
		WHERE `+strings.Join(where, " AND ")+` ORDER BY s.sort_order, d.asset_key`, args...)
	return out, err
}

// odcDeployedOp returns the operation that deployed what is deployed of
// the asset in the stage by now, or nil.
func odcDeployedOp(ctx context.Context, tx *sql.Tx, stageKey, assetKey string, now time.Time) (*odcPublishOp, error) {
	ops, err := odcQueryPublishOps(ctx, tx, `environment_key = ? AND asset_key = ? AND outcome = 'Finished' AND finishes_at <= ?
		ORDER BY finishes_at DESC, seq DESC LIMIT 1`, stageKey, assetKey, odcNanos(now))
	if err != nil || len(ops) == 0 {
		return nil, err
	}
	return ops[0], nil
}

// odcFirstPublished returns, of the revisions given, those published
// successfully to some stage by now, each with the first operation that
// did.
func odcFirstPublished(ctx context.Context, tx *sql.Tx, refs []odcRevisionRef, now time.Time) (map[odcRevisionRef]*odcPublishOp, error) {
	out := map[odcRevisionRef]*odcPublishOp{}
	for chunk := range slices.Chunk(refs, 500) {
		if err := odcFirstPublishedOf(ctx, tx, chunk, now, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func odcFirstPublishedOf(ctx context.Context, tx *sql.Tx, refs []odcRevisionRef, now time.Time, out map[odcRevisionRef]*odcPublishOp) error {
	values := strings.TrimSuffix(strings.Repeat("(?, ?), ", len(refs)), ", ")
	args := make([]any, 0, 2*len(refs)+1)
	for _, r := range refs {
		args = append(args, r.AssetKey, r.Revision)
	}
	args = append(args, odcNanos(now))
	return queryRows(ctx, tx, func(rows *sql.Rows) error {
		op, err := scanODCPublishOp(rows)
		if err == nil {
			out[odcRevisionRef{op.AssetKey, op.Revision}] = op
		}
		return err
	}, `WITH wanted (asset_key, revision) AS (VALUES `+values+`),
		f AS (SELECT o.*, row_number() OVER (PARTITION BY o.asset_key, o.revision ORDER BY o.finishes_at, o.seq) AS rn
			FROM odc_publish_operations o JOIN wanted w ON w.asset_key = o.asset_key AND w.revision = o.revision
			WHERE o.outcome = 'Finished' AND o.finishes_at <= ?)
		SELECT `+odcPublishOpColumns+` FROM f WHERE rn = 1`, args...)
}

// odcDependsOn reports whether asset from consumes asset to, directly or
// not, through the latest revisions.
func odcDependsOn(ctx context.Context, tx *sql.Tx, from, to string) (bool, error) {
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

var odcTagPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$`)

func parseODCTag(tag string) ([3]int, bool) {
	m := odcTagPattern.FindStringSubmatch(tag)
	if m == nil {
		return [3]int{}, false
	}
	var v [3]int
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v, true
}

// compareODCTags compares two valid Major.Minor.Patch tags.
func compareODCTags(a, b string) int {
	va, _ := parseODCTag(a)
	vb, _ := parseODCTag(b)
	return slices.Compare(va[:], vb[:])
}

// --- code migration ---

// MigratedAsset is an ODC asset a code migration produced: revision 1 of a
// new asset, or the next revision of an asset migrated before. It starts
// untagged and unpublished.
type MigratedAsset struct {
	Key       string `json:"key"`
	Name      string `json:"name"`
	AssetType string `json:"assetType"` // WebApplication, MobileApplication or LowCodeLibrary
	// Producers are the keys of the assets it consumes; they must exist.
	Producers []string `json:"producers"`
	// PublishErrors, when not empty, make every publish of this revision
	// fail with these messages, like TrueChange errors left to fix.
	PublishErrors []string `json:"publishErrors"`
}

// createMigratedAsset records a migrated asset inside the caller's write
// transaction and returns the revision it created. A library may only
// consume libraries, and no dependency cycle may appear.
func createMigratedAsset(ctx context.Context, tx *sql.Tx, a MigratedAsset, now time.Time) (int, error) {
	key, err := parseKey("asset key", a.Key)
	if err != nil {
		return 0, err
	}
	if strings.TrimSpace(a.Name) == "" {
		return 0, invalidf("The name of asset %s is required.", key)
	}
	if !slices.Contains(odcMigratedAssetTypes, a.AssetType) {
		return 0, invalidf("Asset type '%s' of '%s' is not one a code migration produces: use one of %s.", a.AssetType, a.Name, strings.Join(odcMigratedAssetTypes, ", "))
	}
	keys := make([]string, 0, len(a.Producers))
	for _, p := range a.Producers {
		pk, err := parseKey("producer key", p)
		if err != nil {
			return 0, err
		}
		keys = append(keys, pk)
	}
	known := map[string]*odcAsset{}
	if len(keys) > 0 {
		found, err := odcAssets(ctx, tx, odcAssetFilter{keys: keys})
		if err != nil {
			return 0, err
		}
		for _, f := range found {
			known[f.Key] = f
		}
	}
	producers := make([]string, 0, len(keys))
	for _, pk := range keys {
		producer, ok := known[pk]
		switch {
		case pk == key:
			return 0, invalidf("Asset '%s' cannot consume itself.", a.Name)
		case !ok:
			return 0, invalidf("Producer %s of '%s' does not exist: migrate producers before their consumers.", pk, a.Name)
		case a.AssetType == AssetTypeLibrary && producer.AssetType != AssetTypeLibrary:
			return 0, invalidf("Library '%s' cannot consume %s '%s': libraries may only consume libraries.", a.Name, producer.AssetType, producer.latest().Name)
		}
		cycle, err := odcDependsOn(ctx, tx, pk, key)
		if err != nil {
			return 0, err
		}
		if cycle {
			return 0, invalidf("Asset '%s' cannot consume '%s': '%s' already depends on it, which would make a cycle.", a.Name, producer.latest().Name, producer.latest().Name)
		}
		if !slices.Contains(producers, pk) {
			producers = append(producers, pk)
		}
	}
	existing, err := odcFindAsset(ctx, tx, key)
	if err != nil {
		return 0, err
	}
	revision := 1
	if existing != nil {
		if existing.AssetType != a.AssetType {
			return 0, invalidf("Asset '%s' (key %s) is a %s; a migration cannot turn it into a %s.", existing.latest().Name, key, existing.AssetType, a.AssetType)
		}
		revision = existing.latest().Revision + 1
	} else if _, err := tx.ExecContext(ctx, `INSERT INTO odc_assets (key, asset_type, created_at) VALUES (?, ?, ?)`,
		key, a.AssetType, odcNanos(now)); err != nil {
		return 0, err
	}
	publishErrors := a.PublishErrors
	if publishErrors == nil {
		publishErrors = []string{}
	}
	errorsJSON, err := marshalJSON(publishErrors)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO odc_revisions (asset_key, revision, name, created_at, created_by, model_digest, publish_errors)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, key, revision, a.Name, odcNanos(now), odcMigrationCreatedBy, uuid.NewString(), errorsJSON); err != nil {
		return 0, err
	}
	for _, p := range producers {
		if _, err := tx.ExecContext(ctx, `INSERT INTO odc_revision_producers (asset_key, revision, producer_key) VALUES (?, ?, ?)`,
			key, revision, p); err != nil {
			return 0, err
		}
	}
	return revision, nil
}

// SeedODCAsset records a migrated asset, as a code migration would. Tests
// and the admin surface use it.
func (s *Sandbox) SeedODCAsset(a MigratedAsset) error {
	_, err := s.seedODCAsset(context.Background(), a)
	return err
}

func (s *Sandbox) seedODCAsset(ctx context.Context, a MigratedAsset) (int, error) {
	var revision int
	err := s.store.write(ctx, func(tx *sql.Tx) error {
		var err error
		revision, err = createMigratedAsset(ctx, tx, a, time.Now())
		return err
	})
	return revision, err
}

// PublishedAt returns when the asset's revision now deployed in the stage
// finished publishing, and false when nothing of it is deployed there.
func (s *Sandbox) PublishedAt(assetKey, stageKey string) (time.Time, bool) {
	var at time.Time
	var ok bool
	err := s.store.read(context.Background(), func(tx *sql.Tx) error {
		op, err := odcDeployedOp(context.Background(), tx, strings.ToLower(stageKey), strings.ToLower(assetKey), time.Now())
		if op != nil {
			at, ok = op.FinishesAt, true
		}
		return err
	})
	if err != nil {
		s.logger.Printf("PublishedAt: %v", err)
		return time.Time{}, false
	}
	return at, ok
}

// ReleasedAt returns when the asset's highest tag was set, and false when
// no revision of it is tagged.
func (s *Sandbox) ReleasedAt(assetKey string) (time.Time, bool) {
	var at time.Time
	var ok bool
	err := s.store.read(context.Background(), func(tx *sql.Tx) error {
		r, err := odcHighestTag(context.Background(), tx, strings.ToLower(assetKey), 0)
		if r != nil {
			at, ok = *r.TaggedAt, true
		}
		return err
	})
	if err != nil {
		s.logger.Printf("ReleasedAt: %v", err)
		return time.Time{}, false
	}
	return at, ok
}

// --- releasing (tagging) ---

// odcRevisionPatch is a PATCH of an asset revision. A nil outer pointer
// means the field was absent; a nil inner pointer means it was null.
type odcRevisionPatch struct {
	Tag           **string
	ReleaseNotes  **string
	CommitMessage **string
}

// odcPatch tags, re-tags or untags a revision and sets its release
// notes and commit message, following the asset repository's rules.
func (st *store) odcPatch(ctx context.Context, assetKey string, revision int, p odcRevisionPatch, caller string, now time.Time) error {
	return st.write(ctx, func(tx *sql.Tx) error {
		a, r, err := odcLoadRevision(ctx, tx, assetKey, revision)
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
				if _, ok := parseODCTag(*newTag); !ok {
					return invalidf("Tag '%s' is not valid: use the Major.Minor.Patch format, like 1.0.0.", *newTag)
				}
				if err := checkODCTagIsHighest(ctx, tx, a, r, *newTag); err != nil {
					return err
				}
				t := now
				tag, taggedBy, taggedAt = newTag, &caller, &t
			}
		}
		if p.ReleaseNotes != nil {
			notes = *p.ReleaseNotes
			if notes != nil && tag == nil {
				return invalidf("Release notes can only be set on a tagged revision: revision %d of '%s' has no tag and the request sets none.", revision, r.Name)
			}
		}
		commit := r.CommitMessage
		if p.CommitMessage != nil {
			commit = *p.CommitMessage
		}
		var taggedAtNano sql.NullInt64
		if taggedAt != nil {
			taggedAtNano = sql.NullInt64{Int64: odcNanos(*taggedAt), Valid: true}
		}
		_, err = tx.ExecContext(ctx, `UPDATE odc_revisions SET tag = ?, tagged_by = ?, tagged_at = ?, release_notes = ?, commit_message = ?
			WHERE asset_key = ? AND revision = ?`, tag, taggedBy, taggedAtNano, notes, commit, a.Key, revision)
		return err
	})
}

// checkODCTagIsHighest refuses a tag that is not higher than every tag of the
// asset's other revisions.
func checkODCTagIsHighest(ctx context.Context, tx *sql.Tx, a *odcAsset, r *odcRevision, tag string) error {
	highest, err := odcHighestTag(ctx, tx, a.Key, r.Revision)
	if err != nil {
		return err
	}
	if highest != nil && compareODCTags(tag, *highest.Tag) <= 0 {
		return invalidf("Tag '%s' must be higher than '%s', the highest tag of asset '%s' (revision %d).",
			tag, *highest.Tag, r.Name, highest.Revision)
	}
	return nil
}

// --- publishing ---

const odcPublishOpColumns = `key, asset_key, revision, environment_key, deployed_by, build_key, started_at, finishes_at, outcome`

func scanODCPublishOp(rows *sql.Rows) (*odcPublishOp, error) {
	op := &odcPublishOp{}
	var started, finishes int64
	if err := rows.Scan(&op.Key, &op.AssetKey, &op.Revision, &op.EnvironmentKey, &op.DeployedBy, &op.BuildKey,
		&started, &finishes, &op.Outcome); err != nil {
		return nil, err
	}
	op.StartedAt, op.FinishesAt = odcFromNanos(started), odcFromNanos(finishes)
	return op, nil
}

// odcQueryPublishOps lists the publish operations matching where, which
// may end in ORDER BY and LIMIT.
func odcQueryPublishOps(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]*odcPublishOp, error) {
	var ops []*odcPublishOp
	err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		op, err := scanODCPublishOp(rows)
		if err == nil {
			ops = append(ops, op)
		}
		return err
	}, `SELECT `+odcPublishOpColumns+` FROM odc_publish_operations WHERE `+where, args...)
	return ops, err
}

type odcPublishRequest struct {
	AssetKey       string
	Revision       int
	EnvironmentKey string // "" = the Development stage
}

type odcMessage struct {
	At       time.Time
	Type     string
	Severity string
	Message  string
	StepID   string
	AssetKey string
}

// odcPublish creates a publish operation. Its outcome is decided now:
// it fails when a producer of the revision is not deployed in the stage or
// the revision has TrueChange errors. The outcome shows once the operation
// finishes, duration later.
func (st *store) odcPublish(ctx context.Context, req odcPublishRequest, caller string, duration time.Duration, now time.Time) (*odcPublishOp, error) {
	var op *odcPublishOp
	err := st.write(ctx, func(tx *sql.Tx) error {
		a, r, err := odcLoadRevision(ctx, tx, req.AssetKey, req.Revision)
		if err != nil {
			return err
		}
		stage, err := odcStageOrDevelopment(ctx, tx, req.EnvironmentKey)
		if err != nil {
			return err
		}
		missing, err := odcUndeployedProducers(ctx, tx, r, stage.Key, now)
		if err != nil {
			return err
		}
		op = &odcPublishOp{
			Key: uuid.NewString(), AssetKey: a.Key, Revision: r.Revision, EnvironmentKey: stage.Key, DeployedBy: caller,
			BuildKey: uuid.NewString(), StartedAt: now, FinishesAt: now.Add(duration), Outcome: odcStatusFinished,
		}
		subject := fmt.Sprintf("'%s' revision %d", r.Name, r.Revision)
		msgs := []odcMessage{{At: now, Type: "PublishStarted", Severity: "Info", StepID: "Start", AssetKey: a.Key,
			Message: fmt.Sprintf("Publishing %s to stage '%s'.", subject, stage.Name)}}
		for _, producer := range missing {
			p := producer.Key
			msgs = append(msgs, odcMessage{At: op.FinishesAt, Type: "ProducerNotPublished", Severity: "Error", StepID: "ResolveDependencies", AssetKey: p,
				Message: fmt.Sprintf("Producer '%s' (key %s) is not published in stage '%s'. Publish it first.", producer.latest().Name, p, stage.Name)})
		}
		for _, e := range r.PublishErrors {
			msgs = append(msgs, odcMessage{At: op.FinishesAt, Type: "TrueChangeError", Severity: "Error", StepID: "Compile", AssetKey: a.Key,
				Message: fmt.Sprintf("TrueChange error in '%s': %s", r.Name, e)})
		}
		if errorCount := len(msgs) - 1; errorCount > 0 {
			op.Outcome = odcStatusFinishedWithError
			msgs = append(msgs, odcMessage{At: op.FinishesAt, Type: "PublishFailed", Severity: "Error", StepID: "Finish", AssetKey: a.Key,
				Message: fmt.Sprintf("Publishing %s to stage '%s' failed with %d error(s).", subject, stage.Name, errorCount)})
		} else {
			msgs = append(msgs, odcMessage{At: op.FinishesAt, Type: "PublishFinished", Severity: "Info", StepID: "Finish", AssetKey: a.Key,
				Message: fmt.Sprintf("Published %s to stage '%s'.", subject, stage.Name)})
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO odc_publish_operations (`+odcPublishOpColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			op.Key, op.AssetKey, op.Revision, op.EnvironmentKey, op.DeployedBy, op.BuildKey,
			odcNanos(op.StartedAt), odcNanos(op.FinishesAt), op.Outcome); err != nil {
			return err
		}
		for i, m := range msgs {
			var assetKey sql.NullString
			if m.AssetKey != "" {
				assetKey = sql.NullString{String: m.AssetKey, Valid: true}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO odc_publish_messages (operation_key, position, at, type, severity, message, step_id, asset_key)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, op.Key, i, odcNanos(m.At), m.Type, m.Severity, m.Message, m.StepID, assetKey); err != nil {
				return err
			}
		}
		return nil
	})
	return op, err
}

// odcUndeployedProducers returns the producers of a revision not deployed
// in the stage by now, in the revision's order.
func odcUndeployedProducers(ctx context.Context, tx *sql.Tx, r *odcRevision, stageKey string, now time.Time) ([]*odcAsset, error) {
	if len(r.Producers) == 0 {
		return nil, nil
	}
	deployed, err := odcDeployments(ctx, tx, odcDeployedFilter{stageKeys: []string{stageKey}, assetKeys: r.Producers}, now)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, p := range r.Producers {
		if !slices.ContainsFunc(deployed, func(d odcDeployed) bool { return d.Op.AssetKey == p }) {
			keys = append(keys, p)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	assets, err := odcAssets(ctx, tx, odcAssetFilter{keys: keys})
	if err != nil {
		return nil, err
	}
	out := make([]*odcAsset, 0, len(keys))
	for _, k := range keys {
		if i := slices.IndexFunc(assets, func(a *odcAsset) bool { return a.Key == k }); i >= 0 {
			out = append(out, assets[i])
		}
	}
	return out, nil
}

// odcPublishOpFilter selects publish operations; empty fields match all.
type odcPublishOpFilter struct {
	key, assetKey, environmentKey, status string
	revision                              int // 0 = any
}

// odcPublishOps lists publish operations, newest first.
func (st *store) odcPublishOps(ctx context.Context, f odcPublishOpFilter, now time.Time) ([]*odcPublishOp, error) {
	var ops []*odcPublishOp
	err := st.read(ctx, func(tx *sql.Tx) error {
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
		ops, err = odcQueryPublishOps(ctx, tx, strings.Join(where, " AND ")+" ORDER BY seq DESC", args...)
		return err
	})
	if f.status != "" {
		ops = slices.DeleteFunc(ops, func(op *odcPublishOp) bool { return op.status(now) != f.status })
	}
	return ops, err
}

// odcPublishMessages lists the messages of an operation logged by now.
func (st *store) odcPublishMessages(ctx context.Context, opKey string, now time.Time) ([]odcMessage, error) {
	var msgs []odcMessage
	err := st.read(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM odc_publish_operations WHERE key = ?`, opKey).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFoundf("Publish operation with key '%s' was not found.", opKey)
		}
		return queryRows(ctx, tx, func(rows *sql.Rows) error {
			var m odcMessage
			var at int64
			var assetKey sql.NullString
			if err := rows.Scan(&at, &m.Type, &m.Severity, &m.Message, &m.StepID, &assetKey); err != nil {
				return err
			}
			m.At, m.AssetKey = odcFromNanos(at), assetKey.String
			msgs = append(msgs, m)
			return nil
		}, `SELECT at, type, severity, message, step_id, asset_key FROM odc_publish_messages
			WHERE operation_key = ? AND at <= ? ORDER BY position`, opKey, odcNanos(now))
	})
	return msgs, err
}
