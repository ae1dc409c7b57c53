package odc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// What the code migration needs of ODC. The code migration API (package
// codemigration) reaches ODC only through these methods of Service:
//
//   - RecordMigratedAsset, in the migration's write transaction, turns
//     each converted application into an asset revision;
//   - PublishedRevisions tells which of a migration's revisions were
//     published, for the migration's view;
//   - Authorize admits its callers with ODC access tokens and API client
//     permissions, answering refusals as ProblemDetails (Problem), which it
//     reshapes into its own contract.

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
	// Configuration is what the revision defines: settings, timers and
	// integrations (configurations_store.go); nil defines nothing.
	Configuration *MigratedConfiguration `json:"configuration,omitempty"`
}

// RecordMigratedAsset records a migrated asset inside the caller's write
// transaction, created at at, and returns the revision it created. A
// library may only consume libraries, and no dependency cycle may appear:
// such assets, and malformed ones, are refused with an httpx.ErrInvalid
// error before anything is written.
func (s *Service) RecordMigratedAsset(ctx context.Context, tx *sql.Tx, a MigratedAsset, at time.Time) (int, error) {
	return recordMigratedAsset(ctx, tx, a, at)
}

func recordMigratedAsset(ctx context.Context, tx *sql.Tx, a MigratedAsset, now time.Time) (int, error) {
	key, err := httpx.ParseKey("asset key", a.Key)
	if err != nil {
		return 0, err
	}
	if strings.TrimSpace(a.Name) == "" {
		return 0, httpx.Invalidf("The name of asset %s is required.", key)
	}
	if !slices.Contains(migratedAssetTypes, a.AssetType) {
		return 0, httpx.Invalidf("Asset type '%s' of '%s' is not one a code migration produces: use one of %s.", a.AssetType, a.Name, strings.Join(migratedAssetTypes, ", "))
	}
	keys := make([]string, 0, len(a.Producers))
	for _, p := range a.Producers {
		pk, err := httpx.ParseKey("producer key", p)
		if err != nil {
			return 0, err
		}
		keys = append(keys, pk)
	}
	definitions, err := definitionsOf(a.AssetType, a.Configuration)
	if err != nil {
		return 0, fmt.Errorf("configuration of '%s': %w", a.Name, err)
	}
	known := map[string]*Asset{}
	if len(keys) > 0 {
		found, err := loadAssets(ctx, tx, assetFilter{keys: keys})
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
			return 0, httpx.Invalidf("Asset '%s' cannot consume itself.", a.Name)
		case !ok:
			return 0, httpx.Invalidf("Producer %s of '%s' does not exist: migrate producers before their consumers.", pk, a.Name)
		case a.AssetType == AssetTypeLibrary && producer.AssetType != AssetTypeLibrary:
			return 0, httpx.Invalidf("Library '%s' cannot consume %s '%s': libraries may only consume libraries.", a.Name, producer.AssetType, producer.latest().Name)
		}
		cycle, err := dependsOn(ctx, tx, pk, key)
		if err != nil {
			return 0, err
		}
		if cycle {
			return 0, httpx.Invalidf("Asset '%s' cannot consume '%s': '%s' already depends on it, which would make a cycle.", a.Name, producer.latest().Name, producer.latest().Name)
		}
		if !slices.Contains(producers, pk) {
			producers = append(producers, pk)
		}
	}
	existing, err := findAsset(ctx, tx, key)
	if err != nil {
		return 0, err
	}
	revision := 1
	if existing != nil {
		if existing.AssetType != a.AssetType {
			return 0, httpx.Invalidf("Asset '%s' (key %s) is a %s; a migration cannot turn it into a %s.", existing.latest().Name, key, existing.AssetType, a.AssetType)
		}
		revision = existing.latest().Revision + 1
	} else if _, err := tx.ExecContext(ctx, `INSERT INTO odc_assets (key, asset_type, created_at) VALUES (?, ?, ?)`,
		key, a.AssetType, nanos(now)); err != nil {
		return 0, err
	}
	publishErrors := a.PublishErrors
	if publishErrors == nil {
		publishErrors = []string{}
	}
	errorsJSON, err := sqldb.MarshalJSON(publishErrors)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO odc_revisions (asset_key, revision, name, created_at, created_by, model_digest, publish_errors)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, key, revision, a.Name, nanos(now), migrationCreatedBy, uuid.NewString(), errorsJSON); err != nil {
		return 0, err
	}
	referenced := make([]*Asset, 0, len(producers))
	for _, p := range producers {
		if _, err := tx.ExecContext(ctx, `INSERT INTO odc_revision_producers (asset_key, revision, producer_key) VALUES (?, ?, ?)`,
			key, revision, p); err != nil {
			return 0, err
		}
		referenced = append(referenced, known[p])
	}
	if err := recordReferences(ctx, tx, key, revision, referenced); err != nil {
		return 0, err
	}
	if err := writeDefinitions(ctx, tx, key, revision, definitions); err != nil {
		return 0, err
	}
	return revision, nil
}

// AssetNamed returns the key and type of the asset whose latest revision
// is named name (case-insensitively; the oldest when several are),
// inside the caller's transaction, or "" when there is none. A code
// migration uses it to migrate into the asset of that name as a new
// revision instead of creating a second one. (The reference documents do
// not say whether ODC refuses a second asset of one name, so
// RecordMigratedAsset and the admin surface do not; the code migration
// never makes one.)
func (s *Service) AssetNamed(ctx context.Context, tx *sql.Tx, name string) (key, assetType string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT a.key, a.asset_type FROM odc_assets a JOIN odc_revisions r ON r.asset_key = a.key
		WHERE r.revision = (SELECT MAX(revision) FROM odc_revisions WHERE asset_key = a.key)
		AND lower(r.name) = lower(?) ORDER BY a.created_at, a.key LIMIT 1`, strings.TrimSpace(name)).Scan(&key, &assetType)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return key, assetType, err
}

// RevisionRef names one revision of one asset.
type RevisionRef struct {
	AssetKey string
	Revision int
}

// PublishedRevisions returns, of the revisions given, those published
// successfully to some stage by at, inside the caller's transaction.
func (s *Service) PublishedRevisions(ctx context.Context, tx *sql.Tx, refs []RevisionRef, at time.Time) (map[RevisionRef]bool, error) {
	ops, err := firstPublished(ctx, tx, refs, at)
	if err != nil {
		return nil, err
	}
	out := make(map[RevisionRef]bool, len(ops))
	for ref := range ops {
		out[ref] = true
	}
	return out, nil
}
