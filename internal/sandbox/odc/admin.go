package odc

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// Out-of-band reads and changes for the kernel's admin surface and the
// provider's tests: what people do in the ODC Portal outside the APIs.

// SeedAsset records a migrated asset now, as a code migration would, and
// returns its revision. Tests and the admin surface use it.
func (s *Service) SeedAsset(ctx context.Context, a MigratedAsset) (int, error) {
	var revision int
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var err error
		revision, err = recordMigratedAsset(ctx, tx, a, time.Now())
		return err
	})
	return revision, err
}

// PublishedAt returns when the asset's revision now deployed in the stage
// finished publishing, and false when nothing of it is deployed there.
func (s *Service) PublishedAt(assetKey, stageKey string) (time.Time, bool) {
	var at time.Time
	var ok bool
	err := s.db.Read(context.Background(), func(tx *sql.Tx) error {
		op, err := deployedOp(context.Background(), tx, strings.ToLower(stageKey), strings.ToLower(assetKey), time.Now())
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
func (s *Service) ReleasedAt(assetKey string) (time.Time, bool) {
	var at time.Time
	var ok bool
	err := s.db.Read(context.Background(), func(tx *sql.Tx) error {
		r, err := highestTag(context.Background(), tx, strings.ToLower(assetKey), 0)
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

// UnpublishAsset removes an asset's deployment from a stage (canonical
// keys), as resetting the stage would: afterwards the asset is not
// published there (not in the deployed assets, not a deployed producer),
// and the operations that had published it there are gone. It reports
// httpx.ErrNotFound when the stage or the asset does not exist or the
// asset is not published in the stage, and httpx.ErrConflict while a
// publish of the asset to the stage is running.
func (s *Service) UnpublishAsset(ctx context.Context, stageKey, assetKey string, now time.Time) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		stage, err := loadStage(ctx, tx, stageKey)
		if err != nil {
			return err
		}
		a, err := assetByKey(ctx, tx, assetKey)
		if err != nil {
			return err
		}
		deployed, err := deployedOp(ctx, tx, stage.Key, a.Key, now)
		if err != nil {
			return err
		}
		if deployed == nil {
			return httpx.NotFoundf("Asset '%s' (key %s) is not published in stage '%s'.", a.latest().Name, a.Key, stage.Name)
		}
		var running int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM odc_publish_operations
			WHERE environment_key = ? AND asset_key = ? AND finishes_at > ?`, stage.Key, a.Key, nanos(now)).Scan(&running); err != nil {
			return err
		}
		if running > 0 {
			return httpx.Conflictf("A publish of asset '%s' (key %s) to stage '%s' is running: wait until it finishes.", a.latest().Name, a.Key, stage.Name)
		}
		const published = `SELECT key FROM odc_publish_operations WHERE environment_key = ? AND asset_key = ? AND outcome = 'Finished'`
		if _, err := tx.ExecContext(ctx, `DELETE FROM odc_publish_messages WHERE operation_key IN (`+published+`)`, stage.Key, a.Key); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM odc_publish_operations WHERE environment_key = ? AND asset_key = ? AND outcome = 'Finished'`, stage.Key, a.Key); err != nil {
			return err
		}
		return forgetDeployments(ctx, tx, stage.Key, a.Key)
	})
}

type adminODCAssetResponse struct {
	AssetKey string `json:"assetKey"`
	Revision int    `json:"revision"`
}

// AdminCreateAsset serves the admin surface's POST /_sandbox/odc/assets:
// it records a migrated asset, taking a MigratedAsset as JSON, as a code
// migration would, answering errors with onError (the admin surface's
// shape).
func (s *Service) AdminCreateAsset(onError httpx.ErrorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var a MigratedAsset
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			onError(w, http.StatusBadRequest, `send a JSON body like {"key": "<guid>", "name": "Customer Core", "assetType": "LowCodeLibrary", "producers": [], "publishErrors": []}`)
			return
		}
		revision, err := s.SeedAsset(r.Context(), a)
		if err != nil {
			httpx.WriteStoreError(s.logger, w, r, err, onError)
			return
		}
		key, _ := httpx.ParseKey("key", a.Key)
		httpx.WriteJSON(w, http.StatusCreated, adminODCAssetResponse{AssetKey: key, Revision: revision})
	}
}

// PublishNow publishes revision of an asset to the Development stage as
// caller, finishing at once, as the deployments API would with no publish
// duration. Tests of the services built on ODC use it to publish without
// waiting.
func (s *Service) PublishNow(ctx context.Context, assetKey string, revision int, caller string) (*PublishOperation, error) {
	return s.publish(ctx, publishRequest{AssetKey: assetKey, Revision: revision}, caller, 0, time.Now())
}
