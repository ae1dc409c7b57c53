package sandbox

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

func TestAdminHealth(t *testing.T) {
	_, base := startSandbox(t, Options{})
	r := do(t, http.MethodGet, base+"/_sandbox/health", "", nil).expect(t, http.StatusOK)
	if got := decode[map[string]string](t, r); got["status"] != "ok" {
		t.Errorf("health = %s", r.body)
	}
	do(t, http.MethodPost, base+"/_sandbox/health", "", nil).expect(t, http.StatusMethodNotAllowed)
	do(t, http.MethodGet, base+"/_sandbox/nope", "", nil).expect(t, http.StatusNotFound)
	do(t, http.MethodGet, base+"/nothing-here", "", nil).expect(t, http.StatusNotFound)
}

func TestAdminSetModified(t *testing.T) {
	s, base := startSandbox(t, Options{})
	dev := envKey(t, s.Fixture(), "Development")
	portal := fixtureApp(t, s.Fixture(), "Customer Portal")
	url := func(env, app string) string {
		return base + "/_sandbox/lifetime/environments/" + env + "/applications/" + app + "/modified"
	}

	r := do(t, http.MethodPost, url(dev, portal.Key), "", map[string]bool{"isModified": false}).expect(t, http.StatusOK)
	if got := decode[adminModifiedResponse](t, r); got.IsModified || got.ApplicationKey != portal.Key {
		t.Errorf("response = %s", r.body)
	}
	if envStatus(t, base, dev, portal.Key).IsModified {
		t.Error("still modified after isModified=false")
	}
	do(t, http.MethodPost, url(dev, portal.Key), "", map[string]bool{"isModified": true}).expect(t, http.StatusOK)
	if !envStatus(t, base, dev, portal.Key).IsModified {
		t.Error("not modified after isModified=true")
	}

	do(t, http.MethodPost, url(dev, portal.Key), "", `{}`).expect(t, http.StatusBadRequest)
	do(t, http.MethodPost, url(dev, portal.Key), "", `{"isModified": "yes"}`).expect(t, http.StatusBadRequest)
	do(t, http.MethodPost, url(dev, "portal"), "", map[string]bool{"isModified": true}).expect(t, http.StatusBadRequest)
	do(t, http.MethodPost, url(dev, uuid.NewString()), "", map[string]bool{"isModified": true}).expect(t, http.StatusNotFound)
	do(t, http.MethodGet, url(dev, portal.Key), "", nil).expect(t, http.StatusMethodNotAllowed)
}
