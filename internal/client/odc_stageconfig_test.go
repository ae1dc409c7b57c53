package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// TestCreateManyDomainsDrawsNo429: the environment configurations API takes
// 10 requests a window per organization; twelve domains created at once
// (Terraform applies resources in parallel) against a server counting that
// way all succeed without a single 429, because the client paces the pool.
func TestCreateManyDomainsDrawsNo429(t *testing.T) {
	const window = 1500 * time.Millisecond
	ws := &windowServer{limit: 10, window: window}
	var mu sync.Mutex
	other := 0
	f := newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/environment-configurations/") {
			mu.Lock()
			other++
			mu.Unlock()
			writeTestJSON(w, http.StatusOK, map[string]any{"results": []any{}})
			return
		}
		rec := &statusRecorder{header: http.Header{}}
		ws.ServeHTTP(rec, r)
		if rec.status == http.StatusTooManyRequests {
			writeTestJSON(w, http.StatusTooManyRequests, map[string]any{"title": "Too Many Requests", "status": 429, "detail": "Rate limit exceeded."})
			return
		}
		var body struct{ Hostname string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		writeTestJSON(w, http.StatusCreated, map[string]any{"id": "6d1c6a4e-4c5e-4a1c-9d55-" + fmt.Sprintf("%012d", len(body.Hostname)), "hostname": body.Hostname, "name": body.Hostname})
	})
	c, err := NewODC(Config{BaseURL: f.srv.URL, MaxRetries: 0, RequestsPerMinute: 100, RateWindow: window}, testClientID, testClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host := fmt.Sprintf("app%d.example.com", i)
			d, err := c.CreateDomain(t.Context(), "stage", host, "")
			if err == nil && d.Hostname != host {
				err = fmt.Errorf("created %q, want %q", d.Hostname, host)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if admitted, throttled := ws.counts(); admitted != 12 || throttled != 0 {
		t.Fatalf("admitted %d, throttled %d; want 12 and not one 429", admitted, throttled)
	}
}

// statusRecorder keeps the status a handler wrote.
type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header         { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *statusRecorder) WriteHeader(status int)      { r.status = status }

// A secret value goes to ODC in the PATCH body and nowhere else: not in the
// client's TRACE logs, not in an error, not when a value is printed; a
// secret a server returned anyway is dropped.
func TestSystemConfigurationSecretsStayHidden(t *testing.T) {
	const secret = "smtp-pa55word-never-logged"
	var got []byte
	f := newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPatch:
			got, _ = io.ReadAll(r.Body)
			writeTestJSON(w, http.StatusBadRequest, map[string]any{"title": "Bad Request", "status": 400, "detail": "SMTPPort is not an integer."})
		default:
			writeTestJSON(w, http.StatusOK, map[string]any{"systemConfigurations": []map[string]any{
				{"key": "k1", "name": "SMTPPassword", "isSecret": true, "value": secret, "deployedValue": secret, "updatedAt": "2026-11-30T07:00:00Z", "valueSetAfterDeploy": true},
				{"key": "k2", "name": "SMTPServer", "isSecret": false, "value": "smtp.example.com"},
			}})
		}
	})
	c := f.client(t)
	var logs bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &logs)
	v := ConfigurationValue{Key: "k1", Value: new(secret)}
	err := c.PatchSystemConfigurations(ctx, "stage", []ConfigurationValue{v, {Key: "k3"}})
	if err == nil {
		t.Fatal("the 400 was not reported")
	}
	if !strings.Contains(string(got), secret) || !strings.Contains(string(got), `{"key":"k3","value":null}`) {
		t.Fatalf("PATCH body = %s", got)
	}
	printed := fmt.Sprintf("%v %+v %#v %s", v, v, v, []ConfigurationValue{v})
	for what, text := range map[string]string{"logs": logs.String(), "error": err.Error(), "printed": printed} {
		if strings.Contains(text, secret) {
			t.Errorf("the secret is in the %s: %s", what, text)
		}
	}
	configs, err := c.SystemConfigurations(ctx, "stage")
	if err != nil {
		t.Fatal(err)
	}
	if configs[0].Value != nil || configs[0].DeployedValue != nil || configs[0].UpdatedAt != "2026-11-30T07:00:00Z" || *configs[0].ValueSetAfterDeploy != true {
		t.Errorf("secret = %+v", configs[0])
	}
	if configs[1].Value == nil || *configs[1].Value != "smtp.example.com" {
		t.Errorf("SMTPServer = %+v", configs[1])
	}
}

// A create whose answer is lost after ODC acted finds the domain instead of
// failing (and of creating a second one on the next apply).
func TestCreateDomainAnswerLost(t *testing.T) {
	var mu sync.Mutex
	created := []map[string]any{}
	f := newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == http.MethodPost {
			created = append(created, map[string]any{"id": "6D1C6A4E-4C5E-4A1C-9D55-111111111111", "hostname": "portal.example.com", "name": "Portal"})
			writeTestJSON(w, http.StatusBadGateway, map[string]any{"title": "Bad Gateway", "status": 502, "detail": "upstream"})
			return
		}
		writeTestJSON(w, http.StatusOK, map[string]any{"results": created, "page": map[string]any{"nextPageOffset": nil}})
	})
	c, err := NewODC(Config{BaseURL: f.srv.URL, MaxRetries: 0}, testClientID, testClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.CreateDomain(t.Context(), "stage", "portal.example.com", "Portal")
	if err != nil {
		t.Fatal(err)
	}
	if d.Key != "6d1c6a4e-4c5e-4a1c-9d55-111111111111" || d.Name != "Portal" || len(created) != 1 {
		t.Fatalf("domain = %+v after %d creates", d, len(created))
	}
}
