package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// Portal migrations (codemigration/portal.go): what a team does by hand in
// the ODC portal, which is how code migrations run on a real organization.
// They work in both profiles, the tenant profile included: they stand for
// the portal, not for the kit's API.
//
//	POST /_sandbox/portal-migrations        {"sourceEnvironmentKey": "<LifeTime environment key>",
//	                                         "assets": [{"name": "Customer Core", "type": "library",
//	                                                     "applicationKeys": ["<O11 application key>"]}],
//	                                         "wait": true}
//	GET  /_sandbox/portal-migrations/{key}

// PortalMigrate runs a portal migration (codemigration.Service.StartPortalMigration).
func (s *Sandbox) PortalMigrate(req codemigration.PortalRequest) (codemigration.PortalMigration, error) {
	return s.codeMigration.StartPortalMigration(context.Background(), req)
}

// PortalMigration reads a portal migration, finished once its duration has
// passed.
func (s *Sandbox) PortalMigration(key string) (codemigration.PortalMigration, error) {
	k, err := httpx.ParseKey("migrationKey", key)
	if err != nil {
		return codemigration.PortalMigration{}, err
	}
	return s.codeMigration.PortalMigration(context.Background(), k)
}

// adminStartPortalMigration: POST /_sandbox/portal-migrations.
func (s *Sandbox) adminStartPortalMigration(w http.ResponseWriter, r *http.Request) {
	var req codemigration.PortalRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || httpx.JSONEnd(dec) != nil {
		writeAdminError(w, http.StatusBadRequest, `send a JSON body like {"sourceEnvironmentKey": "<guid>", "assets": [{"name": "Customer Core", "type": "library", "applicationKeys": ["<guid>"]}], "wait": true}`)
		return
	}
	m, err := s.codeMigration.StartPortalMigration(r.Context(), req)
	if err != nil {
		s.writePortalError(w, r, err)
		return
	}
	w.Header().Set("Location", "/_sandbox/portal-migrations/"+m.Key)
	httpx.WriteJSON(w, http.StatusCreated, m)
}

// adminGetPortalMigration: GET /_sandbox/portal-migrations/{migrationKey}.
func (s *Sandbox) adminGetPortalMigration(w http.ResponseWriter, r *http.Request) {
	m, err := s.PortalMigration(r.PathValue("migrationKey"))
	if err != nil {
		s.writePortalError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, m)
}

func (s *Sandbox) writePortalError(w http.ResponseWriter, r *http.Request, err error) {
	var p *assessment.Problem
	switch {
	case errors.As(err, &p):
		writeAdminError(w, p.Status, p.Detail)
	case errors.Is(err, httpx.ErrConflict):
		writeAdminError(w, http.StatusConflict, err.Error())
	default:
		s.writeStoreError(w, r, err, writeAdminError)
	}
}
