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

// --- the ODC state as of one moment ---

type odcStage struct {
	Key, Name, Purpose string
	Order              int
}

type odcAsset struct {
	Key       string
	AssetType string
	CreatedAt time.Time
	Revisions []*odcRevision // ascending
}

func (a *odcAsset) latest() *odcRevision { return a.Revisions[len(a.Revisions)-1] }

func (a *odcAsset) revision(n int) *odcRevision {
	for _, r := range a.Revisions {
		if r.Revision == n {
			return r
		}
	}
	return nil
}

// highestTag returns the revision with the highest tag, or nil.
func (a *odcAsset) highestTag() *odcRevision {
	var best *odcRevision
	for _, r := range a.Revisions {
		if r.Tag == nil {
			continue
		}
		if best == nil || compareODCTags(*r.Tag, *best.Tag) > 0 {
			best = r
		}
	}
	return best
}

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

type odcStageAsset struct{ stage, asset string }

// odcWorld is a snapshot of the ODC state at one moment: stages, assets and
// what is deployed where. The sandbox holds few assets, so handlers load it
// whole and work in Go.
type odcWorld struct {
	now    time.Time
	stages []odcStage // by order
	assets map[string]*odcAsset
	// deployed holds, per stage and asset, the last publish operation that
	// finished successfully by now.
	deployed map[odcStageAsset]*odcPublishOp
	// firstPublished holds the first operation that published each asset
	// revision successfully, in any stage.
	firstPublished map[string]*odcPublishOp // by odcRevisionID
}

func odcRevisionID(asset string, revision int) string { return asset + "/" + strconv.Itoa(revision) }

func loadODCWorld(ctx context.Context, tx *sql.Tx, now time.Time) (*odcWorld, error) {
	w := &odcWorld{now: now, assets: map[string]*odcAsset{}, deployed: map[odcStageAsset]*odcPublishOp{}, firstPublished: map[string]*odcPublishOp{}}
	if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		var s odcStage
		err := rows.Scan(&s.Key, &s.Name, &s.Purpose, &s.Order)
		w.stages = append(w.stages, s)
		return err
	}, `SELECT key, name, purpose, sort_order FROM odc_stages ORDER BY sort_order`); err != nil {
		return nil, err
	}
	if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		a := &odcAsset{}
		var created int64
		if err := rows.Scan(&a.Key, &a.AssetType, &created); err != nil {
			return err
		}
		a.CreatedAt = odcFromNanos(created)
		w.assets[a.Key] = a
		return nil
	}, `SELECT key, asset_type, created_at FROM odc_assets`); err != nil {
		return nil, err
	}
	byID := map[string]*odcRevision{}
	if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		r := &odcRevision{}
		var created int64
		var taggedAt sql.NullInt64
		var errorsJSON string
		if err := rows.Scan(&r.AssetKey, &r.Revision, &r.Name, &created, &r.CreatedBy, &r.ModelDigest, &r.CommitMessage,
			&r.Tag, &r.TaggedBy, &taggedAt, &r.ReleaseNotes, &errorsJSON); err != nil {
			return err
		}
		r.CreatedAt = odcFromNanos(created)
		if taggedAt.Valid {
			t := odcFromNanos(taggedAt.Int64)
			r.TaggedAt = &t
		}
		if err := json.Unmarshal([]byte(errorsJSON), &r.PublishErrors); err != nil {
			return err
		}
		a := w.assets[r.AssetKey]
		a.Revisions = append(a.Revisions, r)
		byID[odcRevisionID(r.AssetKey, r.Revision)] = r
		return nil
	}, `SELECT asset_key, revision, name, created_at, created_by, model_digest, commit_message, tag, tagged_by, tagged_at,
		release_notes, publish_errors FROM odc_revisions ORDER BY asset_key, revision`); err != nil {
		return nil, err
	}
	if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		var asset, producer string
		var revision int
		if err := rows.Scan(&asset, &revision, &producer); err != nil {
			return err
		}
		r := byID[odcRevisionID(asset, revision)]
		r.Producers = append(r.Producers, producer)
		return nil
	}, `SELECT asset_key, revision, producer_key FROM odc_revision_producers ORDER BY asset_key, revision, producer_key`); err != nil {
		return nil, err
	}
	// Successful operations finished by now, oldest first: later ones
	// replace earlier ones in deployed.
	if err := queryRows(ctx, tx, func(rows *sql.Rows) error {
		op, err := scanODCPublishOp(rows)
		if err != nil {
			return err
		}
		w.deployed[odcStageAsset{op.EnvironmentKey, op.AssetKey}] = op
		id := odcRevisionID(op.AssetKey, op.Revision)
		if _, ok := w.firstPublished[id]; !ok {
			w.firstPublished[id] = op
		}
		return nil
	}, `SELECT `+odcPublishOpColumns+` FROM odc_publish_operations WHERE outcome = 'Finished' AND finishes_at <= ?
		ORDER BY finishes_at, seq`, odcNanos(now)); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *odcWorld) stage(key string) (odcStage, error) {
	for _, s := range w.stages {
		if s.Key == key {
			return s, nil
		}
	}
	return odcStage{}, notFoundf("Stage (environment) with key '%s' was not found.", key)
}

// developmentStage is the first stage, where publishing happens by default
// (the "1CP" of the API documents).
func (w *odcWorld) developmentStage() (odcStage, error) {
	for _, s := range w.stages {
		if s.Purpose == PurposeDevelopment {
			return s, nil
		}
	}
	return odcStage{}, notFoundf("The organization has no Development stage.")
}

// stageOrDevelopment resolves an odcOptional environmentKey parameter.
func (w *odcWorld) stageOrDevelopment(key string) (odcStage, error) {
	if key == "" {
		return w.developmentStage()
	}
	k, err := parseKey("environmentKey", key)
	if err != nil {
		return odcStage{}, err
	}
	return w.stage(k)
}

func (w *odcWorld) asset(key string) (*odcAsset, error) {
	k, err := uuid.Parse(key)
	if err == nil {
		if a, ok := w.assets[k.String()]; ok {
			return a, nil
		}
	}
	return nil, notFoundf("Asset with key '%s' was not found.", key)
}

func (w *odcWorld) revision(assetKey string, revision int) (*odcAsset, *odcRevision, error) {
	a, err := w.asset(assetKey)
	if err != nil {
		return nil, nil, err
	}
	r := a.revision(revision)
	if r == nil {
		return nil, nil, notFoundf("Revision %d of asset '%s' (key %s) was not found.", revision, a.latest().Name, a.Key)
	}
	return a, r, nil
}

// sortedAssets returns the assets by name, then key.
func (w *odcWorld) sortedAssets() []*odcAsset {
	out := make([]*odcAsset, 0, len(w.assets))
	for _, a := range w.assets {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *odcAsset) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.latest().Name), strings.ToLower(b.latest().Name)), strings.Compare(a.Key, b.Key))
	})
	return out
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
	w, err := loadODCWorld(ctx, tx, now)
	if err != nil {
		return 0, err
	}
	producers := make([]string, 0, len(a.Producers))
	for _, p := range a.Producers {
		pk, err := parseKey("producer key", p)
		if err != nil {
			return 0, err
		}
		producer, ok := w.assets[pk]
		switch {
		case pk == key:
			return 0, invalidf("Asset '%s' cannot consume itself.", a.Name)
		case !ok:
			return 0, invalidf("Producer %s of '%s' does not exist: migrate producers before their consumers.", pk, a.Name)
		case a.AssetType == AssetTypeLibrary && producer.AssetType != AssetTypeLibrary:
			return 0, invalidf("Library '%s' cannot consume %s '%s': libraries may only consume libraries.", a.Name, producer.AssetType, producer.latest().Name)
		case w.dependsOn(pk, key):
			return 0, invalidf("Asset '%s' cannot consume '%s': '%s' already depends on it, which would make a cycle.", a.Name, producer.latest().Name, producer.latest().Name)
		}
		if !slices.Contains(producers, pk) {
			producers = append(producers, pk)
		}
	}
	revision := 1
	if existing, ok := w.assets[key]; ok {
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

// dependsOn reports whether asset from consumes asset to, directly or not,
// through the latest revisions.
func (w *odcWorld) dependsOn(from, to string) bool {
	seen := map[string]bool{}
	var visit func(k string) bool
	visit = func(k string) bool {
		if k == to {
			return true
		}
		if seen[k] {
			return false
		}
		seen[k] = true
		a, ok := w.assets[k]
		if !ok {
			return false
		}
		return slices.ContainsFunc(a.latest().Producers, visit)
	}
	return visit(from)
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
		w, err := loadODCWorld(context.Background(), tx, time.Now())
		if err != nil {
			return err
		}
		op, found := w.deployed[odcStageAsset{strings.ToLower(stageKey), strings.ToLower(assetKey)}]
		if found {
			at, ok = op.FinishesAt, true
		}
		return nil
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
		w, err := loadODCWorld(context.Background(), tx, time.Now())
		if err != nil {
			return err
		}
		a, found := w.assets[strings.ToLower(assetKey)]
		if !found {
			return nil
		}
		if r := a.highestTag(); r != nil {
			at, ok = *r.TaggedAt, true
		}
		return nil
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
		w, err := loadODCWorld(ctx, tx, now)
		if err != nil {
			return err
		}
		a, r, err := w.revision(assetKey, revision)
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
				if err := checkODCTagIsHighest(a, r, *newTag); err != nil {
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
func checkODCTagIsHighest(a *odcAsset, r *odcRevision, tag string) error {
	var highest *odcRevision
	for _, o := range a.Revisions {
		if o != r && o.Tag != nil && (highest == nil || compareODCTags(*o.Tag, *highest.Tag) > 0) {
			highest = o
		}
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
		w, err := loadODCWorld(ctx, tx, now)
		if err != nil {
			return err
		}
		a, r, err := w.revision(req.AssetKey, req.Revision)
		if err != nil {
			return err
		}
		stage, err := w.stageOrDevelopment(req.EnvironmentKey)
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
		for _, p := range r.Producers {
			if _, ok := w.deployed[odcStageAsset{stage.Key, p}]; ok {
				continue
			}
			producer := w.assets[p]
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

// odcPublishOpFilter selects publish operations; empty fields match all.
type odcPublishOpFilter struct {
	key, assetKey, environmentKey, status string
	revision                              int // 0 = any
}

// odcPublishOps lists publish operations, newest first.
func (st *store) odcPublishOps(ctx context.Context, f odcPublishOpFilter, now time.Time) ([]*odcPublishOp, error) {
	var ops []*odcPublishOp
	err := st.read(ctx, func(tx *sql.Tx) error {
		return queryRows(ctx, tx, func(rows *sql.Rows) error {
			op, err := scanODCPublishOp(rows)
			if err == nil && (f.status == "" || op.status(now) == f.status) {
				ops = append(ops, op)
			}
			return err
		}, `SELECT `+odcPublishOpColumns+` FROM odc_publish_operations
			WHERE (?1 = '' OR key = ?1) AND (?2 = '' OR asset_key = ?2) AND (?3 = '' OR environment_key = ?3) AND (?4 = 0 OR revision = ?4)
			ORDER BY seq DESC`, f.key, f.assetKey, f.environmentKey, f.revision)
	})
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

// odcWorldAt loads a snapshot in a read transaction.
func (st *store) odcWorldAt(ctx context.Context, now time.Time) (*odcWorld, error) {
	var w *odcWorld
	err := st.read(ctx, func(tx *sql.Tx) error {
		var err error
		w, err = loadODCWorld(ctx, tx, now)
		return err
	})
	return w, err
}
