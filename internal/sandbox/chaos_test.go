package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/chaos"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// freshClient opens a connection per request, so the transport never
// retries a request on its own after chaos drops a reused connection.
var freshClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// chaosSend sends a request with freshClient; err is the transport's error
// (a dropped connection). form, when not nil, is sent as a form body.
func chaosSend(ctx context.Context, method, url, token string, body any, form url.Values) (response, error) {
	var reader io.Reader
	contentType := ""
	switch {
	case form != nil:
		reader, contentType = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	case body != nil:
		data, err := json.Marshal(body)
		if err != nil {
			return response{}, err
		}
		reader, contentType = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, url, reader)
	if err != nil {
		return response{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := freshClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: data}, err
}

// chaosEnv is a started sandbox with the credentials to call every API.
type chaosEnv struct {
	t           *testing.T
	sb          *Sandbox
	base        string
	accessToken string
	tokenURL    string
	client      fixture.APIClient
}

func startChaos(t *testing.T, opts Options) *chaosEnv {
	t.Helper()
	sb, base := startSandbox(t, opts)
	e := &chaosEnv{t: t, sb: sb, base: base}
	for _, c := range sb.Fixture().ODC.APIClients {
		if c.Name == clientMigration {
			e.client = c
		}
	}
	e.tokenURL = base + "/identity/realms/" + url.PathEscape(sb.odc.Organization()) + "/protocol/openid-connect/token"
	// The token is fetched with chaos off, whatever opts say.
	chaos := sb.ChaosSettings()
	e.setChaos(ChaosOptions{})
	r := e.must(http.MethodPost, e.tokenURL, "", nil, e.tokenForm()).expect(t, http.StatusOK)
	e.accessToken = decode[odc.TokenResponse](t, r).AccessToken
	e.setChaos(chaos)
	sb.ResetStats()
	return e
}

func (e *chaosEnv) tokenForm() url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {e.client.ClientID}, "client_secret": {e.client.ClientSecret}}
}

func (e *chaosEnv) setChaos(o ChaosOptions) {
	e.t.Helper()
	if err := e.sb.SetChaos(o); err != nil {
		e.t.Fatalf("SetChaos(%+v): %v", o, err)
	}
}

func (e *chaosEnv) send(method, url, token string, body any, form url.Values) (response, error) {
	return chaosSend(context.Background(), method, url, token, body, form)
}

func (e *chaosEnv) must(method, url, token string, body any, form url.Values) response {
	e.t.Helper()
	r, err := e.send(method, url, token, body, form)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// Requests of each API, all reads.
func (e *chaosEnv) lifetimeURL() string   { return e.base + lifetime.Base + "/environments" }
func (e *chaosEnv) assessmentURL() string { return e.base + assessment.Base + "/mappings" }
func (e *chaosEnv) portfolioURL() string  { return e.base + portfolioBase + "/environments" }
func (e *chaosEnv) migrationURL() string  { return e.base + codemigration.Base + "/code-migrations" }

// tag tags Customer Portal in Development as 9.9.9 (LifeTime's create version).
func (e *chaosEnv) tag() (response, error) {
	dev := envKey(e.t, e.sb.Fixture(), "Development")
	portal := fixtureApp(e.t, e.sb.Fixture(), "Customer Portal")
	return e.send(http.MethodPost, e.base+lifetime.Base+"/environments/"+dev+"/applications/"+portal.Key+"/versions", testAdminToken,
		lifetime.TagRequest{Version: "9.9.9", ChangeLog: "chaos"}, nil)
}

// versions lists Customer Portal's version numbers, with chaos off.
func (e *chaosEnv) versions() []string {
	e.t.Helper()
	saved := e.sb.ChaosSettings()
	e.setChaos(ChaosOptions{})
	defer e.setChaos(saved)
	portal := fixtureApp(e.t, e.sb.Fixture(), "Customer Portal")
	r := e.must(http.MethodGet, e.base+lifetime.Base+"/applications/"+portal.Key+"/versions?MaximumVersionsToReturn=1000", testAdminToken, nil, nil).expect(e.t, http.StatusOK)
	var out []string
	for _, v := range decode[[]lifetime.ApplicationVersion](e.t, r) {
		out = append(out, v.Version)
	}
	return out
}

// publishOps counts the publish operations, with chaos off.
func (e *chaosEnv) publishOps() int {
	e.t.Helper()
	saved := e.sb.ChaosSettings()
	e.setChaos(ChaosOptions{})
	defer e.setChaos(saved)
	r := e.must(http.MethodGet, e.base+deploymentBase+"/publish-operations", e.accessToken, nil, nil).expect(e.t, http.StatusOK)
	return len(decode[pagedList[publishOperation]](e.t, r).Results)
}

func (e *chaosEnv) publish() (response, error) {
	e.t.Helper()
	if err := e.sb.SeedODCAsset(MigratedAsset{Key: keyCore, Name: "Customer Core", AssetType: AssetTypeLibrary}); err != nil &&
		!strings.Contains(err.Error(), "already") {
		e.t.Fatal(err)
	}
	return e.send(http.MethodPost, e.base+deploymentBase+"/publish-operations", e.accessToken,
		map[string]any{"operation": "Publish", "assetKey": keyCore, "revision": 1}, nil)
}

// checkErrorShape checks a chaos answer is in the error shape of its API.
func checkErrorShape(t *testing.T, api string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", api, r.status, status, r.body)
	}
	switch api {
	case "lifetime":
		e := decode[lifetime.APIError](t, r)
		if e.StatusCode != status || len(e.Errors) == 0 {
			t.Errorf("%s: body %s, want {\"Errors\":[...],\"StatusCode\":%d}", api, r.body, status)
		}
	case "assessment", "codeMigration":
		p := decode[assessment.ProblemDetails](t, r)
		code := assessment.CodeInternal
		if status == http.StatusTooManyRequests {
			code = assessment.CodeTooManyRequests
		}
		if ct := r.header.Get("Content-Type"); ct != "application/problem+json" || p.Status != status || p.ErrorCode != code ||
			p.Type != assessment.ProblemTypePrefix+code || p.Title == "" || p.TraceID == "" || p.Instance == "" {
			t.Errorf("%s: %s %s, want a ProblemDetails with errorCode %s", api, ct, r.body, code)
		}
	case "odc":
		p := decode[odc.Problem](t, r)
		if p.Status != status || p.Title != http.StatusText(status) || p.Type == "about:blank" || p.TraceID == "" || p.Detail == "" {
			t.Errorf("%s: body %s, want a ProblemDetails", api, r.body)
		}
	case "token":
		var o map[string]string
		if err := json.Unmarshal(r.body, &o); err != nil || o["error"] == "" || o["error_description"] == "" || len(o) != 2 {
			t.Errorf("%s: body %s, want an OAuth error", api, r.body)
		}
		want := "server_error"
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			want = "temporarily_unavailable"
		}
		if o["error"] != want {
			t.Errorf("%s: error %q, want %q", api, o["error"], want)
		}
	}
}

func (e *chaosEnv) eachAPI(fn func(api string, r response, err error)) {
	e.t.Helper()
	for _, c := range []struct {
		api, method, url, token string
		form                    url.Values
	}{
		{"lifetime", http.MethodGet, e.lifetimeURL(), testAdminToken, nil},
		{"assessment", http.MethodGet, e.assessmentURL(), testAdminToken, nil},
		{"assessment", http.MethodGet, e.base + assessment.ConversionBase + "/mappings", testAdminToken, nil},
		{"odc", http.MethodGet, e.portfolioURL(), e.accessToken, nil},
		{"codeMigration", http.MethodGet, e.migrationURL(), e.accessToken, nil},
		{"token", http.MethodPost, e.tokenURL, "", e.tokenForm()},
	} {
		r, err := e.send(c.method, c.url, c.token, nil, c.form)
		fn(c.api, r, err)
	}
}

func TestChaosErrors(t *testing.T) {
	e := startChaos(t, Options{Chaos: ChaosOptions{ErrorRate: 1, Seed: 7}})
	statuses := map[int]int{}
	for range 5 {
		e.eachAPI(func(api string, r response, err error) {
			if err != nil {
				t.Fatalf("%s: %v", api, err)
			}
			if r.status != http.StatusInternalServerError && r.status != http.StatusBadGateway && r.status != http.StatusServiceUnavailable {
				t.Fatalf("%s: status %d, want 500, 502 or 503", api, r.status)
			}
			statuses[r.status]++
			checkErrorShape(t, api, r, r.status)
		})
	}
	if len(statuses) != 3 {
		t.Errorf("statuses drawn = %v, want 500, 502 and 503 over 30 requests", statuses)
	}
	// The admin surface is never touched.
	e.must(http.MethodGet, e.base+"/_sandbox/health", "", nil, nil).expect(t, http.StatusOK)

	// Not carried out.
	before, ops := e.versions(), e.publishOps()
	if r, err := e.tag(); err != nil || r.status < 500 {
		t.Fatalf("tag = %d %v, want a 5xx", r.status, err)
	}
	if r, err := e.publish(); err != nil || r.status < 500 {
		t.Fatalf("publish = %d %v, want a 5xx", r.status, err)
	}
	if after := e.versions(); !slices.Equal(before, after) {
		t.Errorf("versions %v -> %v: the failed tag was carried out", before, after)
	}
	if n := e.publishOps(); n != ops {
		t.Errorf("publish operations %d -> %d: the failed publish was carried out", ops, n)
	}
	if got := e.sb.ChaosStats(); got.Errors != 32 || got.Requests != 32 || got.Throttled+got.Dropped+got.DroppedAfter != 0 {
		t.Errorf("stats = %+v, want 32 errors of 32 requests", got)
	}
	if issued := e.sb.IssuedAccessTokens(); len(issued) != 1 || issued[0] != e.accessToken {
		t.Errorf("IssuedAccessTokens = %v, want only the token issued before chaos", issued)
	}
}

func TestChaosThrottle(t *testing.T) {
	e := startChaos(t, Options{Chaos: ChaosOptions{ThrottleRate: 1, Seed: 3}, RetryAfter: true}) // tests the Retry-After forms
	n := 0
	for range 2 {
		e.eachAPI(func(api string, r response, err error) {
			if err != nil {
				t.Fatalf("%s: %v", api, err)
			}
			checkErrorShape(t, api, r, http.StatusTooManyRequests)
			ra := r.header.Get("Retry-After")
			if n%2 == 0 {
				if ra != "0" && ra != "1" {
					t.Errorf("throttled answer %d: Retry-After %q, want 0 or 1 seconds", n, ra)
				}
			} else {
				at, err := http.ParseTime(ra)
				if err != nil {
					t.Errorf("throttled answer %d: Retry-After %q, want an HTTP date: %v", n, ra, err)
				} else if d := time.Until(at); d < -time.Second || d > 2*time.Second {
					t.Errorf("throttled answer %d: Retry-After %q is %s away, want about 1s", n, ra, d)
				}
			}
			n++
		})
	}
	before, ops := e.versions(), e.publishOps()
	if r, err := e.tag(); err != nil || r.status != http.StatusTooManyRequests {
		t.Fatalf("tag = %d %v, want 429", r.status, err)
	}
	if r, err := e.publish(); err != nil || r.status != http.StatusTooManyRequests {
		t.Fatalf("publish = %d %v, want 429", r.status, err)
	}
	if after := e.versions(); !slices.Equal(before, after) {
		t.Errorf("versions %v -> %v: the throttled tag was carried out", before, after)
	}
	if got := e.publishOps(); got != ops {
		t.Errorf("publish operations %d -> %d: the throttled publish was carried out", ops, got)
	}
	if got := e.sb.ChaosStats(); got.Throttled != 14 || got.Requests != 14 {
		t.Errorf("stats = %+v, want 14 throttled", got)
	}
	// Chaos throttling is not the rate limiter's.
	if got := e.sb.RequestStats().ByFamily[FamilyODC]; got.Throttled != 0 || got.Requests == 0 {
		t.Errorf("request stats of ODC = %+v", got)
	}
}

func TestChaosLatency(t *testing.T) {
	var logged syncBuffer
	e := startChaos(t, Options{Chaos: ChaosOptions{LatencyMin: 150 * time.Millisecond, LatencyMax: 200 * time.Millisecond, Seed: 1},
		Logger: log.New(&logged, "", 0)})
	start := time.Now()
	e.must(http.MethodGet, e.lifetimeURL(), testAdminToken, nil, nil).expect(t, http.StatusOK)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("request took %s, want at least 150ms", d)
	}
	start = time.Now()
	e.must(http.MethodGet, e.base+"/_sandbox/health", "", nil, nil).expect(t, http.StatusOK)
	if d := time.Since(start); d >= 150*time.Millisecond {
		t.Errorf("admin request took %s: chaos must leave the admin surface alone", d)
	}

	// The delay ends when the client goes away, and the request is then
	// not carried out.
	e.setChaos(ChaosOptions{LatencyMin: 3 * time.Second, Seed: 1})
	before := e.versions()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	dev := envKey(t, e.sb.Fixture(), "Development")
	portal := fixtureApp(t, e.sb.Fixture(), "Customer Portal")
	tagPath := lifetime.Base + "/environments/" + dev + "/applications/" + portal.Key + "/versions"
	if _, err := chaosSend(ctx, http.MethodPost, e.base+tagPath, testAdminToken, lifetime.TagRequest{Version: "9.9.9"}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the client's deadline", err)
	}
	// The server stops waiting too (the body was read, so it notices).
	for deadline := time.Now().Add(1500 * time.Millisecond); !strings.Contains(logged.String(), "/versions dropped (no answer, request not carried out)"); {
		if time.Now().After(deadline) {
			t.Fatalf("the server still delays a request whose client left:\n%s", logged.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, tagPath, strings.NewReader(`{"Version": "9.9.10"}`))
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	rec := httptest.NewRecorder()
	start = time.Now()
	e.sb.Handler().ServeHTTP(rec, req)
	if d := time.Since(start); d > time.Second || rec.Body.Len() != 0 {
		t.Errorf("handler returned after %s with %q, want at once with no answer when the client leaves", d, rec.Body)
	}
	e.setChaos(ChaosOptions{})
	if after := e.versions(); !slices.Equal(before, after) {
		t.Errorf("versions %v -> %v: a request whose client went away was carried out", before, after)
	}
}

func TestChaosDrop(t *testing.T) {
	var logged syncBuffer
	e := startChaos(t, Options{Chaos: ChaosOptions{DropRate: 1, Seed: 5}, Logger: log.New(&logged, "", 0)})
	e.eachAPI(func(api string, r response, err error) {
		if err == nil {
			t.Errorf("%s: answered %d, want a dropped connection", api, r.status)
		}
	})
	before, ops := e.versions(), e.publishOps()
	if _, err := e.tag(); err == nil {
		t.Fatal("tag answered, want a dropped connection")
	}
	if _, err := e.publish(); err == nil {
		t.Fatal("publish answered, want a dropped connection")
	}
	if after := e.versions(); !slices.Equal(before, after) {
		t.Errorf("versions %v -> %v: a request dropped before was carried out", before, after)
	}
	if got := e.publishOps(); got != ops {
		t.Errorf("publish operations %d -> %d: a request dropped before was carried out", ops, got)
	}
	if got := e.sb.ChaosStats(); got.Dropped != 8 || got.Requests != 8 {
		t.Errorf("stats = %+v, want 8 dropped", got)
	}
	if !strings.Contains(logged.String(), "POST "+deploymentBase+"/publish-operations dropped (no answer, request not carried out)") {
		t.Errorf("log does not note the drop:\n%s", logged.String())
	}
	if len(e.sb.IssuedAccessTokens()) != 1 {
		t.Errorf("IssuedAccessTokens = %v: dropped token requests issued tokens", e.sb.IssuedAccessTokens())
	}
}

// TestChaosDropAfter: the request is carried out and its answer lost, so
// a client cannot tell; the objects exist once.
func TestChaosDropAfter(t *testing.T) {
	var logged syncBuffer
	e := startChaos(t, Options{Chaos: ChaosOptions{DropAfterRate: 1, Seed: 9}, PublishDuration: 50 * time.Millisecond, Logger: log.New(&logged, "", 0)})
	before, ops := e.versions(), e.publishOps()
	if _, err := e.tag(); err == nil {
		t.Fatal("tag answered, want a dropped connection")
	}
	if _, err := e.publish(); err == nil {
		t.Fatal("publish answered, want a dropped connection")
	}
	if r, err := e.send(http.MethodPost, e.tokenURL, "", nil, e.tokenForm()); err == nil {
		t.Fatalf("token answered %d, want a dropped connection", r.status)
	}
	after := e.versions()
	if len(after) != len(before)+1 || !slices.Contains(after, "9.9.9") {
		t.Errorf("versions %v -> %v, want 9.9.9 added once", before, after)
	}
	if got := e.publishOps(); got != ops+1 {
		t.Errorf("publish operations %d -> %d, want one more", ops, got)
	}
	issued := e.sb.IssuedAccessTokens()
	if len(issued) != 2 || issued[1] == e.accessToken {
		t.Fatalf("IssuedAccessTokens = %v, want the lost token too", issued)
	}
	// The lost token works.
	e.setChaos(ChaosOptions{})
	e.must(http.MethodGet, e.portfolioURL(), issued[1], nil, nil).expect(t, http.StatusOK)
	if got := e.sb.ChaosStats(); got.DroppedAfter != 3 {
		t.Errorf("stats = %+v, want 3 dropped after", got)
	}
	if !strings.Contains(logged.String(), "/versions 201 dropped (carried out, answer lost)") {
		t.Errorf("log does not note the lost answer:\n%s", logged.String())
	}
}

// outcome is what a client saw: a status, or "dropped".
func outcome(r response, err error) string {
	if err != nil {
		return "dropped"
	}
	return strconv.Itoa(r.status)
}

func TestChaosReproducible(t *testing.T) {
	e := startChaos(t, Options{})
	mixed := ChaosOptions{ErrorRate: 0.2, ThrottleRate: 0.2, DropRate: 0.15, DropAfterRate: 0.15, LatencyMax: 5 * time.Millisecond, Seed: 42}
	run := func(o ChaosOptions) []string {
		e.setChaos(o)
		var seen []string
		for range 40 {
			seen = append(seen, outcome(e.send(http.MethodGet, e.portfolioURL(), e.accessToken, nil, nil)))
		}
		return seen
	}
	first := run(mixed)
	if second := run(mixed); !slices.Equal(first, second) {
		t.Errorf("same seed, different outcomes:\n%v\n%v", first, second)
	}
	for _, want := range []string{"200", "429", "dropped"} {
		if !slices.Contains(first, want) {
			t.Errorf("outcomes %v lack %s", first, want)
		}
	}
	other := mixed
	other.Seed = 43
	if third := run(other); slices.Equal(first, third) {
		t.Errorf("seeds 42 and 43 gave the same outcomes %v", first)
	}

	// Decisions, delays included, repeat too.
	decisions := func(seed int64) []chaos.Decision {
		o := mixed
		o.Seed, o.LatencyMin, o.LatencyMax = seed, time.Millisecond, time.Second
		e.setChaos(o)
		out := make([]chaos.Decision, 200)
		for i := range out {
			out[i] = e.sb.chaos.Decide()
		}
		return out
	}
	a, b := decisions(1), decisions(1)
	if !slices.Equal(a, b) {
		t.Error("same seed, different decisions")
	}
	counts := map[int]int{}
	for _, d := range a {
		counts[d.Action]++
		if d.Delay < time.Millisecond || d.Delay > time.Second {
			t.Errorf("delay %s outside 1ms-1s", d.Delay)
		}
	}
	for action, rate := range map[int]float64{chaos.Pass: 0.3, chaos.Error: 0.2, chaos.Throttle: 0.2, chaos.Drop: 0.15, chaos.DropAfter: 0.15} {
		if got := float64(counts[action]) / 200; got < rate-0.1 || got > rate+0.1 {
			t.Errorf("action %d drawn %.2f of the time, want about %.2f", action, got, rate)
		}
	}
	// Seed 0 picks one, reported so the run can be repeated.
	e.setChaos(ChaosOptions{ErrorRate: 0.5})
	if e.sb.ChaosSettings().Seed == 0 {
		t.Error("seed 0 was not replaced by a random seed")
	}
}

func TestChaosAdmin(t *testing.T) {
	e := startChaos(t, Options{})
	get := func() chaosDocument {
		return decode[chaosDocument](t, e.must(http.MethodGet, e.base+"/_sandbox/chaos", "", nil, nil).expect(t, http.StatusOK))
	}
	if doc := get(); doc.ErrorRate != 0 || doc.LatencyMax != "0s" || doc.Seed == 0 || doc.Stats == nil || *doc.Stats != (ChaosStats{}) {
		t.Errorf("initial = %+v", doc)
	}
	put := map[string]any{"errorRate": 0.25, "throttleRate": 0.25, "latencyMin": "1ms", "latencyMax": "2ms", "dropRate": 0.1, "dropAfterRate": 0.1, "seed": 99}
	doc := decode[chaosDocument](t, e.must(http.MethodPut, e.base+"/_sandbox/chaos", "", put, nil).expect(t, http.StatusOK))
	want := ChaosOptions{ErrorRate: 0.25, ThrottleRate: 0.25, LatencyMin: time.Millisecond, LatencyMax: 2 * time.Millisecond, DropRate: 0.1, DropAfterRate: 0.1, Seed: 99}
	if got := e.sb.ChaosSettings(); got != want {
		t.Errorf("settings after PUT = %+v, want %+v", got, want)
	}
	if doc.Seed != 99 || doc.LatencyMax != "2ms" || get().ErrorRate != 0.25 {
		t.Errorf("PUT answer = %+v", doc)
	}
	for range 20 {
		_, _ = e.send(http.MethodGet, e.lifetimeURL(), testAdminToken, nil, nil)
	}
	st := get().Stats
	if st.Requests != 20 || st.Errors+st.Throttled+st.Dropped+st.DroppedAfter == 0 || *st != e.sb.ChaosStats() {
		t.Errorf("stats = %+v (Go: %+v)", st, e.sb.ChaosStats())
	}

	// A GET answer can be sent back; bad settings change nothing.
	e.must(http.MethodPut, e.base+"/_sandbox/chaos", "", get(), nil).expect(t, http.StatusOK)
	for _, bad := range []any{
		map[string]any{"errorRate": 1.5},
		map[string]any{"errorRate": -0.1},
		map[string]any{"errorRate": 0.6, "dropRate": 0.6},
		map[string]any{"latencyMin": "soon"},
		map[string]any{"latencyMin": "2s", "latencyMax": "1s"},
		map[string]any{"errRate": 0.1},
		"[1]",
	} {
		r, err := e.send(http.MethodPut, e.base+"/_sandbox/chaos", "", bad, nil)
		if err != nil || r.status != http.StatusBadRequest || !strings.Contains(string(r.body), `"error"`) {
			t.Errorf("PUT %v = %d %s %v, want 400", bad, r.status, r.body, err)
		}
	}
	if got := e.sb.ChaosSettings(); got != want {
		t.Errorf("settings after bad PUTs = %+v, want %+v", got, want)
	}
	// PUT {} turns chaos off; the admin surface worked throughout.
	e.must(http.MethodPut, e.base+"/_sandbox/chaos", "", map[string]any{}, nil).expect(t, http.StatusOK)
	if e.sb.ChaosSettings().Enabled() {
		t.Error("chaos still enabled after PUT {}")
	}
	e.must(http.MethodDelete, e.base+"/_sandbox/chaos", "", nil, nil).expect(t, http.StatusMethodNotAllowed)
	e.must(http.MethodPost, e.base+"/_sandbox/stats/reset", "", nil, nil).expect(t, http.StatusOK)
	if got := e.sb.ChaosStats(); got != (ChaosStats{}) {
		t.Errorf("chaos stats after reset = %+v", got)
	}
}

func TestChaosOptionsChecked(t *testing.T) {
	for _, o := range []ChaosOptions{
		{ErrorRate: 2}, {ThrottleRate: -1}, {DropRate: 0.5, DropAfterRate: 0.6}, {LatencyMin: -time.Second},
		{LatencyMin: time.Second, LatencyMax: time.Millisecond},
	} {
		if _, err := New(Options{Chaos: o}); err == nil {
			t.Errorf("New accepted chaos %+v", o)
		}
	}
	s, err := New(Options{Chaos: ChaosOptions{LatencyMin: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.ChaosSettings(); got.LatencyMax != time.Second || !got.Enabled() {
		t.Errorf("LatencyMin alone = %+v, want a fixed latency", got)
	}
	if err := s.SetChaos(ChaosOptions{ErrorRate: 7}); err == nil || s.ChaosSettings().LatencyMin != time.Second {
		t.Errorf("SetChaos(bad) = %v and changed the settings", err)
	}
}

// TestChaosThroughHandler: without a connection to take over (a test
// recorder), a drop aborts the handler.
func TestChaosThroughHandler(t *testing.T) {
	s, err := New(Options{Chaos: ChaosOptions{DropRate: 1, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer func() {
		if p := recover(); !isAbortHandler(p) {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	req := httptest.NewRequest(http.MethodGet, lifetime.Base+"/environments", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	s.Handler().ServeHTTP(httptest.NewRecorder(), req)
	t.Error("the drop did not abort the handler")
}

func TestParseLatency(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		in     string
		lo, hi time.Duration
		bad    bool
	}{
		{in: ""}, {in: "0"},
		{in: "0-300ms", hi: 300 * ms},
		{in: "100-250ms", lo: 100 * ms, hi: 250 * ms},
		{in: "50ms-1s", lo: 50 * ms, hi: time.Second},
		{in: "200ms", lo: 200 * ms, hi: 200 * ms},
		{in: " 1 - 2s ", lo: time.Second, hi: 2 * time.Second},
		{in: "1.5-2s", lo: 1500 * ms, hi: 2 * time.Second},
		{in: "300ms-100ms", bad: true},
		{in: "-5ms", bad: true},
		{in: "fast", bad: true},
		{in: "100-200", bad: true},
		{in: "1s-", bad: true},
	} {
		lo, hi, err := ParseLatency(tt.in)
		switch {
		case tt.bad && err == nil:
			t.Errorf("ParseLatency(%q) = %s, %s; want an error", tt.in, lo, hi)
		case !tt.bad && (err != nil || lo != tt.lo || hi != tt.hi):
			t.Errorf("ParseLatency(%q) = %s, %s, %v; want %s, %s", tt.in, lo, hi, err, tt.lo, tt.hi)
		}
	}
}

func ExampleSandbox_SetChaos() {
	s, err := New(Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	// One request in ten fails, one in twenty loses its answer after being
	// carried out; seed 1 makes the run repeatable.
	if err := s.SetChaos(ChaosOptions{ErrorRate: 0.1, DropAfterRate: 0.05, LatencyMax: 300 * time.Millisecond, Seed: 1}); err != nil {
		panic(err)
	}
	fmt.Println(s.ChaosSettings().Enabled())
	// Output: true
}

// isAbortHandler reports whether a recovered value is http.ErrAbortHandler.
func isAbortHandler(p any) bool {
	err, ok := p.(error)
	return ok && errors.Is(err, http.ErrAbortHandler)
}
