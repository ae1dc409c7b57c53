package sandbox

import (
	"encoding/json"
	"net/http"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// The admin surface belongs to the sandbox, not to any OutSystems contract:
// tests and demos use it to check the sandbox is up and to simulate what
// people do in OutSystems outside the APIs. It needs no authentication; the
// sandbox listens on loopback only unless told otherwise.

// writeAdminError answers in the admin surface's error shape: {"error":"..."}.
func writeAdminError(w http.ResponseWriter, status int, messages ...string) {
	msg := http.StatusText(status)
	if len(messages) > 0 {
		msg = messages[0]
	}
	httpx.WriteJSON(w, status, map[string]string{"error": msg})
}

func (s *Sandbox) registerAdmin(mux *http.ServeMux) {
	httpx.Route(mux, "/_sandbox/health", map[string]http.HandlerFunc{http.MethodGet: s.adminHealth}, writeAdminError)
	httpx.Route(mux, "/_sandbox/lifetime/environments/{EnvironmentKey}/applications/{ApplicationKey}/modified",
		map[string]http.HandlerFunc{http.MethodPost: s.adminSetModified}, writeAdminError)
	httpx.Route(mux, "/_sandbox/assessment/findings/{findingKey}/fix",
		map[string]http.HandlerFunc{http.MethodPost: s.kitAdmin(s.assessment.AdminFixFinding(writeAdminError))}, writeAdminError)
	httpx.Route(mux, "/_sandbox/assessment/mappings/{mappingKey}/fix-all",
		map[string]http.HandlerFunc{http.MethodPost: s.kitAdmin(s.assessment.AdminFixAllFindings(writeAdminError))}, writeAdminError)
	httpx.Route(mux, "/_sandbox/odc/assets", map[string]http.HandlerFunc{http.MethodPost: s.adminCreateODCAsset}, writeAdminError)
	// Out-of-band changes (admin_changes.go).
	httpx.Route(mux, "/_sandbox/odc/stages/{stageKey}/assets/{assetKey}",
		map[string]http.HandlerFunc{http.MethodDelete: s.adminUnpublishAsset}, writeAdminError)
	httpx.Route(mux, "/_sandbox/code-migrations/{migrationKey}",
		map[string]http.HandlerFunc{http.MethodDelete: s.kitAdmin(s.adminDeleteCodeMigration)}, writeAdminError)
	httpx.Route(mux, "/_sandbox/odc/assets/{assetKey}/revisions/{revision}/code-findings",
		map[string]http.HandlerFunc{http.MethodPost: s.adminAddCodeFindings}, writeAdminError)
	s.registerAdminConfigurations(mux) // admin_configurations.go
	// Portal migrations (admin_portal.go).
	httpx.Route(mux, "/_sandbox/portal-migrations", map[string]http.HandlerFunc{http.MethodPost: s.adminStartPortalMigration}, writeAdminError)
	httpx.Route(mux, "/_sandbox/portal-migrations/{migrationKey}",
		map[string]http.HandlerFunc{http.MethodGet: s.adminGetPortalMigration}, writeAdminError)
	// Chaos (chaos.go) and request counters (requeststats.go).
	httpx.Route(mux, "/_sandbox/chaos", map[string]http.HandlerFunc{http.MethodGet: s.adminGetChaos, http.MethodPut: s.adminPutChaos}, writeAdminError)
	httpx.Route(mux, "/_sandbox/stats", map[string]http.HandlerFunc{http.MethodGet: s.adminGetStats}, writeAdminError)
	httpx.Route(mux, "/_sandbox/stats/reset", map[string]http.HandlerFunc{http.MethodPost: s.adminResetStats}, writeAdminError)
	mux.HandleFunc("/_sandbox/", func(w http.ResponseWriter, r *http.Request) {
		writeAdminError(w, http.StatusNotFound, "no sandbox admin endpoint at "+r.URL.Path)
	})
}

func (s *Sandbox) adminHealth(w http.ResponseWriter, _ *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "profile": s.Profile()})
}

// kitAdmin guards an admin endpoint of a Migration Kit service: in the
// tenant profile it answers 404 saying the profile has no kit.
func (s *Sandbox) kitAdmin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.withoutKit {
			writeAdminError(w, http.StatusNotFound, ErrNoMigrationKit.Error()+": "+r.URL.Path+" has nothing to act on")
			return
		}
		h(w, r)
	}
}

type adminModifiedRequest struct {
	IsModified *bool `json:"isModified"`
}

type adminModifiedResponse struct {
	EnvironmentKey string `json:"environmentKey"`
	ApplicationKey string `json:"applicationKey"`
	IsModified     bool   `json:"isModified"`
}

// adminSetModified simulates a developer publishing an application after its
// last tag ({"isModified":true}) or going back to the tagged version (false).
func (s *Sandbox) adminSetModified(w http.ResponseWriter, r *http.Request) {
	var req adminModifiedRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.IsModified == nil || httpx.JSONEnd(dec) != nil {
		writeAdminError(w, http.StatusBadRequest, `send a JSON body like {"isModified": true}`)
		return
	}
	envKey, appKey := r.PathValue("EnvironmentKey"), r.PathValue("ApplicationKey")
	if err := s.MarkModified(envKey, appKey, *req.IsModified); err != nil {
		s.writeStoreError(w, r, err, writeAdminError)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, adminModifiedResponse{EnvironmentKey: envKey, ApplicationKey: appKey, IsModified: *req.IsModified})
}
