package sandbox

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// Out-of-band changes of the admin surface: what people do in OutSystems
// outside the APIs the provider uses, so tests can check the provider notices.

// UnpublishAsset removes an asset's deployment from a stage, as resetting
// the stage would: afterwards the asset is not published there (not in the
// deployed assets, not a deployed producer), and the operations that had
// published it there are gone. It reports httpx.ErrNotFound when the stage or the
// asset does not exist or the asset is not published in the stage, and a
// conflict while a publish of the asset to the stage is running (see
// odc.Service.UnpublishAsset).
func (s *Sandbox) UnpublishAsset(stageKey, assetKey string) error {
	stage, err := httpx.ParseKey("stageKey", stageKey)
	if err != nil {
		return err
	}
	asset, err := httpx.ParseKey("assetKey", assetKey)
	if err != nil {
		return err
	}
	return s.odc.UnpublishAsset(context.Background(), stage, asset, time.Now())
}

// DeleteCodeMigration removes a code migration record, as OutSystems
// support purging it would; the ODC assets it produced stay. It reports
// httpx.ErrNotFound when there is no such migration.
func (s *Sandbox) DeleteCodeMigration(key string) error {
	if s.withoutKit {
		return ErrNoMigrationKit
	}
	k, err := httpx.ParseKey("migrationKey", key)
	if err != nil {
		return err
	}
	return s.codeMigration.Delete(context.Background(), k)
}

// --- admin handlers ---

// adminUnpublishAsset: DELETE /_sandbox/odc/stages/{stageKey}/assets/{assetKey}.
func (s *Sandbox) adminUnpublishAsset(w http.ResponseWriter, r *http.Request) {
	s.adminDelete(w, r, s.UnpublishAsset(r.PathValue("stageKey"), r.PathValue("assetKey")))
}

// adminDeleteCodeMigration: DELETE /_sandbox/code-migrations/{migrationKey}.
func (s *Sandbox) adminDeleteCodeMigration(w http.ResponseWriter, r *http.Request) {
	s.adminDelete(w, r, s.DeleteCodeMigration(r.PathValue("migrationKey")))
}

func (s *Sandbox) adminDelete(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, httpx.ErrConflict):
		writeAdminError(w, http.StatusConflict, err.Error())
	default:
		s.writeStoreError(w, r, err, writeAdminError)
	}
}
