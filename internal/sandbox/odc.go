package sandbox

import (
	"context"
	"net/http"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// The kernel's side of ODC (package odc): the exported methods provider
// tests use and the admin surface's ODC endpoints, delegating to the
// service.

// SeedODCAsset records a migrated asset, as a code migration would. Tests
// and the admin surface use it.
func (s *Sandbox) SeedODCAsset(a odc.MigratedAsset) error {
	_, err := s.odc.SeedAsset(context.Background(), a)
	return err
}

// PublishedAt returns when the asset's revision now deployed in the stage
// finished publishing, and false when nothing of it is deployed there.
func (s *Sandbox) PublishedAt(assetKey, stageKey string) (time.Time, bool) {
	return s.odc.PublishedAt(assetKey, stageKey)
}

// ReleasedAt returns when the asset's highest tag was set, and false when
// no revision of it is tagged.
func (s *Sandbox) ReleasedAt(assetKey string) (time.Time, bool) {
	return s.odc.ReleasedAt(assetKey)
}

// adminCreateODCAsset: POST /_sandbox/odc/assets (odc.Service.AdminCreateAsset).
func (s *Sandbox) adminCreateODCAsset(w http.ResponseWriter, r *http.Request) {
	s.odc.AdminCreateAsset(writeAdminError)(w, r)
}
