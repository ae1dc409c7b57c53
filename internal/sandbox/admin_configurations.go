package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// Out-of-band changes of app configurations, as people make them outside
// the APIs:
//
//	PUT  /_sandbox/odc/stages/{stageKey}/applications/{applicationKey}/configuration
//	     {"kind": "Setting"|"Timer"|"Integration", "name": "...", "library": "<name or key, optional>", "value": "..."}
//	     sets a value as the ODC Portal does (204);
//	POST /_sandbox/odc/assets/{assetKey}/settings/{name}/mark-secret
//	     makes the setting secret as ODC Studio does: a new revision,
//	     published to Development ({"revision": n}).

func (s *Sandbox) registerAdminConfigurations(mux *http.ServeMux) {
	httpx.Route(mux, "/_sandbox/odc/stages/{stageKey}/applications/{applicationKey}/configuration",
		map[string]http.HandlerFunc{http.MethodPut: s.adminSetConfiguration}, writeAdminError)
	httpx.Route(mux, "/_sandbox/odc/assets/{assetKey}/settings/{name}/mark-secret",
		map[string]http.HandlerFunc{http.MethodPost: s.adminMarkSecret}, writeAdminError)
}

// ConfigurationChange is a value set out of band.
type ConfigurationChange struct {
	Kind    string `json:"kind"`    // Setting (default), Timer (value: true/false) or Integration (value: base URL)
	Name    string `json:"name"`    // the element's name
	Library string `json:"library"` // a consumed library's name or key; "" for the app's own
	Value   string `json:"value"`
}

// SetAppConfiguration sets a value of an app in a stage as the ODC Portal
// does: pending until the next Publish, Deploy or ApplyConfigs there.
func (s *Sandbox) SetAppConfiguration(stageKey, appKey string, c ConfigurationChange) error {
	if c.Kind == "" {
		c.Kind = odc.KindSetting
	}
	return s.odc.SetConfigurationValue(context.Background(), stageKey, appKey, c.Library, c.Kind, c.Name, c.Value, time.Now())
}

// MarkSettingSecret makes a setting of an asset secret as ODC Studio does
// when a developer marks it and publishes: a new revision, published to
// the Development stage. It returns the revision.
func (s *Sandbox) MarkSettingSecret(assetKey, name string) (int, error) {
	return s.odc.MarkSettingSecret(context.Background(), assetKey, name, time.Now())
}

// DeployByHand records a finished deploy of an app revision to a stage
// after Development, as a person deploying in the ODC Portal leaves it
// (odc.Service.RecordDeployedByHand), so tests have an app in QA.
func (s *Sandbox) DeployByHand(stageKey, appKey string, revision int) error {
	return s.odc.RecordDeployedByHand(context.Background(), stageKey, appKey, revision, time.Now())
}

func (s *Sandbox) adminSetConfiguration(w http.ResponseWriter, r *http.Request) {
	var c ConfigurationChange
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		writeAdminError(w, http.StatusBadRequest, `send {"kind": "Setting", "name": "...", "value": "..."}: `+err.Error())
		return
	}
	if err := s.SetAppConfiguration(r.PathValue("stageKey"), r.PathValue("applicationKey"), c); err != nil {
		s.writeStoreError(w, r, err, writeAdminError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sandbox) adminMarkSecret(w http.ResponseWriter, r *http.Request) {
	n, err := s.MarkSettingSecret(r.PathValue("assetKey"), r.PathValue("name"))
	if err != nil {
		s.writeStoreError(w, r, err, writeAdminError)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]int{"revision": n})
}
