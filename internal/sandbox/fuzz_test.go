package sandbox

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// Fuzz tests of the sandbox's request decoding, driven through the real
// handler. Invariants everywhere: no panic, no 5xx (bad input is a 4xx), error
// answers in the API's own shape; and where a request succeeds, what was
// stored is what was sent. Run one with
//
//	go test -run '^$' -fuzz '^FuzzLifeTimeTagBody$' -fuzztime 10s ./internal/sandbox/

// fuzzSandbox is an in-memory sandbox served through Handler().
type fuzzSandbox struct {
	sb          *Sandbox
	accessToken string
	clock       *fakeClock
}

func newFuzzSandbox(f *testing.F) *fuzzSandbox {
	f.Helper()
	s, err := New(Options{LifeTimeTagDelay: time.Nanosecond}) // a tag is processed by the next request
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	clock := newFakeClock()
	s.now = clock.Now
	fs := &fuzzSandbox{sb: s, clock: clock}
	c := s.Fixture().ODC.APIClients[0]
	for _, fc := range s.Fixture().ODC.APIClients {
		if fc.Name == clientMigration {
			c = fc
		}
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}
	rec := fs.serve(http.MethodPost, fs.tokenPath(), "", "application/x-www-form-urlencoded", form.Encode())
	if rec.Code != http.StatusOK {
		f.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	var tok odc.TokenResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil {
		f.Fatal(err)
	}
	fs.accessToken = tok.AccessToken
	return fs
}

func (fs *fuzzSandbox) tokenPath() string {
	return "/identity/realms/" + url.PathEscape(fs.sb.odc.Organization()) + "/protocol/openid-connect/token"
}

// serve sends a request through the handler; target is a path, with a
// query or not (raw, unchecked).
func (fs *fuzzSandbox) serve(method, target, token, contentType, body string) *httptest.ResponseRecorder {
	path, rawQuery, _ := strings.Cut(target, "?")
	req := httptest.NewRequest(method, "/", strings.NewReader(body))
	req.URL.Path, req.URL.RawPath, req.URL.RawQuery = path, "", rawQuery
	if unescaped, err := url.PathUnescape(path); err == nil && unescaped != path {
		req.URL.Path, req.URL.RawPath = unescaped, path
	}
	req.RequestURI = target
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	fs.sb.Handler().ServeHTTP(rec, req)
	return rec
}

// Error shapes.

func checkNo5xx(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: %d, a 5xx for a client's request: %s", what, rec.Code, rec.Body)
	}
}

func checkLTAnswer(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	checkNo5xx(t, rec, what)
	if rec.Code < 400 {
		return
	}
	var e lifetime.APIError
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.StatusCode != rec.Code || len(e.Errors) == 0 {
		t.Fatalf("%s: %d %s, want a LifeTime error", what, rec.Code, rec.Body)
	}
}

func checkMAAnswer(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	checkNo5xx(t, rec, what)
	if rec.Code < 400 {
		return
	}
	var p assessment.ProblemDetails
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || p.ErrorCode == "" || assessment.ProblemTitles[p.ErrorCode] == "" ||
		rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%s: %d %s, want a ProblemDetails of the contract", what, rec.Code, rec.Body)
	}
}

func checkODCAnswer(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	checkNo5xx(t, rec, what)
	if rec.Code < 400 {
		return
	}
	var p odc.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || p.Title == "" || p.Detail == "" {
		t.Fatalf("%s: %d %s, want an ODC ProblemDetails", what, rec.Code, rec.Body)
	}
}

// --- LifeTime: the tag (create application version) body ---

func FuzzLifeTimeTagBody(f *testing.F) {
	fs := newFuzzSandbox(f)
	fx := fs.sb.Fixture()
	var dev, portal string
	for _, e := range fx.LifeTime.Environments {
		if e.Name == "Development" {
			dev = e.Key
		}
	}
	for _, a := range fx.LifeTime.Applications {
		if a.Name == "Customer Portal" {
			portal = a.Key
		}
	}
	path := lifetime.Base + "/environments/" + dev + "/applications/" + portal + "/versions"
	for _, seed := range []string{
		`{"Version":"1.2.3","ChangeLog":"release"}`,
		`{"Version":"2.0","ChangeLog":"<b>&amp;</b>","MobileVersions":[],"ModuleVersionKeys":null}`,
		`{"Version":"3","MobileVersions":[{"NativePlatform":"Android","VersionNumber":"1.0"}]}`,
		`{"Version":"4.0.0","ModuleVersionKeys":["not-a-key"]}`,
		`{"Version":"4.0.1","ModuleVersionKeys":["3FA85F64-5717-4562-B3FC-2C963F66AFA6"]}`,
		`{"Version":"1..2"}`, `{"Version":""}`, `{}`, `null`, `[]`, `"1.0"`, ``, `{"Version":"5"} {"Version":"6"}`,
		`{"Version":1}`, `{"Version":"1.0.0.0.0"}`, `{"version":"7.0"}`, `{"Version":"10.0"}]`, `{"Version":"10.1"}}`,
		`{"Version":"8","MobileVersions":[{"NativePlatform":"iOS","VersionNumber":""}]}`,
		`{"Version":"9","MobileVersions":[{"NativePlatform":"iOS","VersionNumber":"1"},{"NativePlatform":"iOS","VersionNumber":"2"}]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		// The decoder alone: a decoded request re-encodes to itself.
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		decoded, err := lifetime.DecodeTagRequest(httptest.NewRecorder(), req)
		if err != nil {
			if !errors.Is(err, httpx.ErrInvalid) {
				t.Fatalf("lifetime.DecodeTagRequest(%q) = %v, want an invalid-request error", body, err)
			}
		} else {
			if !json.Valid([]byte(body)) {
				t.Fatalf("lifetime.DecodeTagRequest accepted %q, which is not one JSON value", body)
			}
			if !fixture.VersionPattern.MatchString(decoded.Version) {
				t.Fatalf("accepted version %q", decoded.Version)
			}
			for _, k := range decoded.ModuleVersionKeys {
				if canon, err := httpx.ParseKey("k", k); err != nil || canon != k {
					t.Fatalf("module version key %q not canonical", k)
				}
			}
			data, err := json.Marshal(decoded)
			if err != nil {
				t.Fatal(err)
			}
			again, err := lifetime.DecodeTagRequest(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(data))))
			if err != nil || !reflect.DeepEqual(again, decoded) {
				t.Fatalf("round trip of %q: %+v, %v; want %+v", body, again, err, decoded)
			}
		}

		// Through the handler.
		rec := fs.serve(http.MethodPost, path, testAdminToken, "application/json", body)
		checkLTAnswer(t, rec, "POST versions "+strconv.Quote(body))
		if rec.Code != http.StatusCreated {
			return
		}
		if err != nil {
			t.Fatalf("the handler accepted %q, which the decoder refuses: %v", body, err)
		}
		var created lifetime.TagResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
			t.Fatal(err)
		}
		get := fs.serve(http.MethodGet, lifetime.Base+"/applications/"+portal+"/versions/"+created.ApplicationVersionKey+"?IncludeModules=true", testAdminToken, "", "")
		var v lifetime.ApplicationVersion
		if get.Code != http.StatusOK || json.Unmarshal(get.Body.Bytes(), &v) != nil {
			t.Fatalf("GET the new version: %d %s", get.Code, get.Body)
		}
		if v.Version != decoded.Version || v.ChangeLog != decoded.ChangeLog || len(v.MobileVersions) != len(decoded.MobileVersions) {
			t.Fatalf("stored %+v, sent %+v", v, decoded)
		}
	})
}

// --- assessment tool: mapping create and patch bodies ---

func FuzzAssessmentMappingBody(f *testing.F) {
	fs := newFuzzSandbox(f)
	apps := map[string]string{}
	for _, a := range fs.sb.Fixture().LifeTime.Applications {
		apps[a.Name] = a.Key
	}
	mappings := assessment.Base + "/mappings"
	// A mapping to patch.
	rec := fs.serve(http.MethodPost, mappings, testAdminToken, "application/json",
		`{"name":"Fuzz Target","assetType":"WebApplication","applicationKeys":["`+apps["Customer Portal"]+`"]}`)
	if rec.Code != http.StatusCreated {
		f.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var target assessment.Mapping
	if err := json.Unmarshal(rec.Body.Bytes(), &target); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct {
		patch       bool
		contentType string
		body        string
	}{
		{false, "application/json", `{"name":"Claims","assetType":"LowCodeLibrary","applicationKeys":["` + apps["Claims Core"] + `"]}`},
		{false, "application/json; charset=utf-8", `{"name":"Utils","assetType":"LowCodeLibrary","description":"d","applicationKeys":["` + strings.ToUpper(apps["Common Utils"]) + `"]}`},
		{false, "application/json", `{"name":" padded","assetType":"WebApplication","applicationKeys":[]}`},
		{false, "application/json", `{"name":"x","assetType":"Spaceship","applicationKeys":["nope"]}`},
		{false, "application/json", `{"name":null,"assetType":1,"applicationKeys":"k","extra":true}`},
		{false, "text/plain", `{}`},
		{false, "", ``},
		{true, "application/json", `{"name":"Renamed","description":""}`},
		{true, "application/json", `{"applicationKeys":["` + apps["Customer Portal"] + `","` + apps["Customer Portal"] + `"]}`},
		{true, "application/json", `{"assetType":"WebApplication"}`},
		{true, "application/json", `[]`},
		{true, "application/json", `{"name":"` + strings.Repeat("n", 101) + `"}`},
	} {
		f.Add(seed.patch, seed.contentType, seed.body)
	}
	f.Fuzz(func(t *testing.T, patch bool, contentType, body string) {
		method, path := http.MethodPost, mappings
		if patch {
			method, path = http.MethodPatch, mappings+"/"+target.Key
		}
		rec := fs.serve(method, path, testAdminToken, contentType, body)
		checkMAAnswer(t, rec, method+" "+strconv.Quote(body))
		if rec.Code != http.StatusCreated && rec.Code != http.StatusOK {
			return
		}
		var sent map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body), &sent); err != nil {
			t.Fatalf("%s accepted %q, not a JSON object", method, body)
		}
		var got assessment.Mapping
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if raw, ok := sent["name"]; ok {
			var name string
			if json.Unmarshal(raw, &name) != nil || name != got.Name {
				t.Fatalf("sent name %s, stored %q", raw, got.Name)
			}
		}
		if raw, ok := sent["description"]; ok {
			var d string
			if json.Unmarshal(raw, &d) != nil || d != got.Description {
				t.Fatalf("sent description %s, stored %q", raw, got.Description)
			}
		}
		// What the answer says is what a read says.
		read := fs.serve(http.MethodGet, mappings+"/"+got.Key, testAdminToken, "", "")
		var again assessment.Mapping
		if read.Code != http.StatusOK || json.Unmarshal(read.Body.Bytes(), &again) != nil || again.Name != got.Name || again.Description != got.Description {
			t.Fatalf("read back %d %s, answered %+v", read.Code, read.Body, got)
		}
	})
}

// --- code migrations: the create body ---

func FuzzCodeMigrationBody(f *testing.F) {
	fs := newFuzzSandbox(f)
	fx := fs.sb.Fixture()
	var dev, utils string
	for _, e := range fx.LifeTime.Environments {
		if e.Name == "Development" {
			dev = e.Key
		}
	}
	for _, a := range fx.LifeTime.Applications {
		if a.Name == "Common Utils" {
			utils = a.Key
		}
	}
	rec := fs.serve(http.MethodPost, assessment.Base+"/mappings", testAdminToken, "application/json",
		`{"name":"Common Utils","assetType":"LowCodeLibrary","applicationKeys":["`+utils+`"]}`)
	if rec.Code != http.StatusCreated {
		f.Fatalf("create mapping: %d %s", rec.Code, rec.Body)
	}
	var m assessment.Mapping
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		f.Fatal(err)
	}
	fs.clock.Advance(DefaultAssessmentDelay) // assessed: ready
	path := codemigration.Base + "/code-migrations"
	for _, seed := range []struct{ contentType, body string }{
		{"application/json", `{"sourceEnvironmentKey":"` + dev + `","mappingKeys":["` + m.Key + `"]}`},
		{"application/json", `{"sourceEnvironmentKey":"` + strings.ToUpper(dev) + `","mappingKeys":["` + m.Key + `","` + strings.ToUpper(m.Key) + `"]}`},
		{"application/json", `{"sourceEnvironmentKey":"` + dev + `","mappingKeys":[]}`},
		{"application/json", `{"sourceEnvironmentKey":"dev","mappingKeys":["x"],"other":1}`},
		{"application/json", `{"sourceEnvironmentKey":null,"mappingKeys":null}`},
		{"application/json", `{"sourceEnvironmentKey":"3fa85f64-5717-4562-b3fc-2c963f66afa6","mappingKeys":["3fa85f64-5717-4562-b3fc-2c963f66afa6"]}`},
		{"application/json", `{"sourceEnvironmentKey":"{3fa85f64-5717-4562-b3fc-2c963f66afa6}","mappingKeys":["urn:uuid:3fa85f64-5717-4562-b3fc-2c963f66afa6"]}`},
		{"text/json", `{}`},
		{"application/json", `nul`},
	} {
		f.Add(seed.contentType, seed.body)
	}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		parsed, err := codemigration.ParseStart(httptest.NewRecorder(), req)
		if err != nil {
			var p *assessment.Problem
			if !errors.As(err, &p) || p.Status < 400 || p.Status >= 500 {
				t.Fatalf("codemigration.ParseStart(%q) = %v, want a 4xx problem", body, err)
			}
		} else {
			if k, err := assessment.ParseGUID("k", parsed.SourceEnvironmentKey); err != nil || k != parsed.SourceEnvironmentKey || len(parsed.MappingKeys) == 0 {
				t.Fatalf("parsed %+v", parsed)
			}
			seen := map[string]bool{}
			for _, k := range parsed.MappingKeys {
				if c, err := assessment.ParseGUID("k", k); err != nil || c != k || seen[k] {
					t.Fatalf("mapping keys %v not canonical and distinct", parsed.MappingKeys)
				}
				seen[k] = true
			}
			data, _ := json.Marshal(map[string]any{"sourceEnvironmentKey": parsed.SourceEnvironmentKey, "mappingKeys": parsed.MappingKeys})
			again := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(data)))
			again.Header.Set("Content-Type", "application/json")
			if back, err := codemigration.ParseStart(httptest.NewRecorder(), again); err != nil || !reflect.DeepEqual(back, parsed) {
				t.Fatalf("round trip of %q: %+v %v, want %+v", body, back, err, parsed)
			}
		}
		rec := fs.serve(http.MethodPost, path, fs.accessToken, contentType, body)
		checkMAAnswer(t, rec, "POST code-migrations "+strconv.Quote(body))
		if rec.Code == http.StatusCreated {
			if err != nil {
				t.Fatalf("the handler accepted %q, which the parser refuses: %v", body, err)
			}
			var got codemigration.Migration
			if json.Unmarshal(rec.Body.Bytes(), &got) != nil || !reflect.DeepEqual(got.MappingKeys, parsed.MappingKeys) || got.SourceEnvironmentKey != parsed.SourceEnvironmentKey {
				t.Fatalf("started %s for %+v", rec.Body, parsed)
			}
			fs.clock.Advance(time.Hour) // finished: the mapping is free again
		}
	})
}

// --- ODC: publish operation and revision PATCH bodies ---

func FuzzODCPublishBody(f *testing.F) {
	fs := newFuzzSandbox(f)
	if err := fs.sb.SeedODCAsset(MigratedAsset{Key: keyCore, Name: "Customer Core", AssetType: AssetTypeLibrary}); err != nil {
		f.Fatal(err)
	}
	var dev string
	for _, s := range fs.sb.Fixture().ODC.Stages {
		if s.Purpose == fixture.PurposeDevelopment {
			dev = s.Key
		}
	}
	path := deploymentBase + "/publish-operations"
	for _, seed := range []string{
		`{"operation":"Publish","assetKey":"` + keyCore + `","revision":1}`,
		`{"assetKey":"` + strings.ToUpper(keyCore) + `","revision":1,"environmentKey":"` + dev + `"}`,
		`{"operation":"Unpublish","assetKey":"x","revision":1}`,
		`{"assetKey":"` + keyCore + `","revision":0}`,
		`{"assetKey":"` + keyCore + `","revision":2}`,
		`{"assetKey":"` + keyCore + `","revision":1,"environmentKey":"nope"}`,
		`{"assetKey":"` + keyCore + `","revision":1.5}`,
		`{"assetKey":"` + keyCore + `","revision":99999999999999999999}`,
		`{"assetKey":"","revision":1,"extra":null}`,
		`{}`, `null`, `[]`, ``, `{"assetKey":"` + keyCore + `","revision":1}x`, `{"assetKey":"` + keyCore + `","revision":1}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		rec := fs.serve(http.MethodPost, path, fs.accessToken, "application/json", body)
		checkODCAnswer(t, rec, "POST publish-operations "+strconv.Quote(body))
		if rec.Code != http.StatusCreated {
			return
		}
		var sent publishRequestBody
		if err := json.Unmarshal([]byte(body), &sent); err != nil || sent.AssetKey == nil || sent.Revision == nil { // Unmarshal: one JSON value only
			t.Fatalf("accepted %q", body)
		}
		var op publishOperation
		if err := json.Unmarshal(rec.Body.Bytes(), &op); err != nil {
			t.Fatal(err)
		}
		if key, err := httpx.ParseKey("assetKey", *sent.AssetKey); err != nil || op.AssetKey != key || op.Revision != *sent.Revision || op.Status != odc.StatusRunning {
			t.Fatalf("sent %q, started %+v", body, op)
		}
		if loc := rec.Header().Get("Location"); loc != path+"/"+op.Key {
			t.Fatalf("Location = %q", loc)
		}
	})
}

func FuzzODCRevisionPatch(f *testing.F) {
	fs := newFuzzSandbox(f)
	if err := fs.sb.SeedODCAsset(MigratedAsset{Key: keyCore, Name: "Customer Core", AssetType: AssetTypeLibrary}); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct{ revision, body string }{
		{"1", `{"tag":"1.0.0","releaseNotes":"First.","commitMessage":"c"}`},
		{"1", `{"tag":null}`},
		{"1", `{"releaseNotes":"notes without a tag"}`},
		{"1", `{"commitMessage":null}`},
		{"1", `{"tag":"0.9.0"}`},
		{"1", `{"tag":"1.0"}`},
		{"1", `{"tag":1}`},
		{"1", `{"tags":"1.0.0"}`},
		{"1", `{}`}, {"1", `null`}, {"1", `[]`}, {"1", ``}, {"1", `{"commitMessage":"m"}]`},
		{"2", `{"tag":"2.0.0"}`},
		{"0", `{}`}, {"-1", `{}`}, {"one", `{}`}, {"01", `{"tag":"3.0.0"}`}, {"1/../1", `{}`}, {"", `{}`},
		{"99999999999999999999", `{}`},
	} {
		f.Add(seed.revision, seed.body)
	}
	asset := assetRepoBase + "/assets/" + keyCore + "/revisions/"
	f.Fuzz(func(t *testing.T, revision, body string) {
		path := asset + url.PathEscape(revision)
		rec := fs.serve(http.MethodPatch, path, fs.accessToken, "application/json", body)
		checkODCAnswer(t, rec, "PATCH "+strconv.Quote(path)+" "+strconv.Quote(body))
		if rec.Code != http.StatusNoContent {
			return
		}
		var sent map[string]*string
		if err := json.Unmarshal([]byte(body), &sent); err != nil || sent == nil { // Unmarshal: one JSON value only
			t.Fatalf("accepted %q", body)
		}
		get := fs.serve(http.MethodGet, path, fs.accessToken, "", "")
		var rev assetRevision
		if get.Code != http.StatusOK || json.Unmarshal(get.Body.Bytes(), &rev) != nil {
			t.Fatalf("GET %s after PATCH: %d %s", path, get.Code, get.Body)
		}
		if tag, ok := sent["tag"]; ok && !reflect.DeepEqual(tag, rev.Tag) {
			t.Fatalf("sent tag %v, stored %v", tag, rev.Tag)
		}
		if msg, ok := sent["commitMessage"]; ok && !reflect.DeepEqual(msg, rev.CommitMessage) {
			t.Fatalf("sent commitMessage %v, stored %v", msg, rev.CommitMessage)
		}
		if notes, ok := sent["releaseNotes"]; ok {
			n := fs.serve(http.MethodGet, path+"/release-notes", fs.accessToken, "", "")
			var rn releaseNoteContent
			if n.Code != http.StatusOK || json.Unmarshal(n.Body.Bytes(), &rn) != nil || !reflect.DeepEqual(rn.Content, notes) {
				t.Fatalf("sent releaseNotes %v, stored %d %s", notes, n.Code, n.Body)
			}
		}
	})
}

// --- the token endpoint form ---

func FuzzODCTokenForm(f *testing.F) {
	fs := newFuzzSandbox(f)
	clients := fs.sb.Fixture().ODC.APIClients
	c := clients[0]
	valid := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}}.Encode()
	for _, seed := range []struct{ contentType, body, user, pass string }{
		{"application/x-www-form-urlencoded", valid, "", ""},
		{"application/x-www-form-urlencoded; charset=UTF-8", "grant_type=client_credentials", c.ClientID, c.ClientSecret},
		{"application/x-www-form-urlencoded", "grant_type=client_credentials", c.ClientID, "wrong"},
		{"application/x-www-form-urlencoded", "grant_type=password&client_id=a&client_secret=b", "", ""},
		{"application/x-www-form-urlencoded", "client_id=" + c.ClientID, "", ""},
		{"application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=%zz", "", ""},
		{"application/x-www-form-urlencoded", "grant_type=client_credentials;client_id=x", "", ""},
		{"application/json", `{"grant_type":"client_credentials"}`, "", ""},
		{"", "", "", ""},
		{"application/x-www-form-urlencoded; charset", valid, "", ""},
	} {
		f.Add(seed.contentType, seed.body, seed.user, seed.pass)
	}
	f.Fuzz(func(t *testing.T, contentType, body, user, pass string) {
		req := httptest.NewRequest(http.MethodPost, fs.tokenPath(), strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if user != "" || pass != "" {
			req.SetBasicAuth(user, pass)
		}
		rec := httptest.NewRecorder()
		fs.sb.Handler().ServeHTTP(rec, req)
		checkNo5xx(t, rec, "token "+strconv.Quote(body))
		var answer map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("token answer %d %s (Cache-Control %q), want JSON, not cached", rec.Code, rec.Body, rec.Header().Get("Cache-Control"))
		}
		if rec.Code != http.StatusOK {
			if rec.Code != http.StatusBadRequest && rec.Code != http.StatusUnauthorized || answer["error"] == nil {
				t.Fatalf("token answer %d %s, want 400 or 401 with an OAuth error", rec.Code, rec.Body)
			}
		}
		// What a client sent, read as the token endpoint documents it.
		mt, _, mtErr := mime.ParseMediaType(contentType)
		form, formErr := url.ParseQuery(body)
		id, secret := form.Get("client_id"), form.Get("client_secret")
		if bu, bp, ok := req.BasicAuth(); ok && id == "" {
			id, secret = bu, bp
		}
		known := false
		for _, fc := range clients {
			known = known || fc.ClientID == id && fc.ClientSecret == secret && secret != ""
		}
		acceptable := mtErr == nil && mt == "application/x-www-form-urlencoded" && formErr == nil && form.Get("grant_type") == "client_credentials" && known
		if (rec.Code == http.StatusOK) != acceptable {
			t.Fatalf("token answer %d for content type %q, form %q (id %q): want 200 exactly for a well-formed request of a known client", rec.Code, contentType, body, id)
		}
		if rec.Code == http.StatusOK {
			tok, _ := answer["access_token"].(string)
			check := fs.serve(http.MethodGet, portfolioBase+"/environments", tok, "", "")
			if check.Code != http.StatusOK || answer["token_type"] != "Bearer" {
				t.Fatalf("issued token %q does not work: %d", tok, check.Code)
			}
		}
	})
}

// --- query parameters: paging and booleans ---

func FuzzQueryParams(f *testing.F) {
	fs := newFuzzSandbox(f)
	portal := ""
	for _, a := range fs.sb.Fixture().LifeTime.Applications {
		if a.Name == "Customer Portal" {
			portal = a.Key
		}
	}
	if err := fs.sb.SeedODCAsset(MigratedAsset{Key: keyCore, Name: "Customer Core", AssetType: AssetTypeLibrary}); err != nil {
		f.Fatal(err)
	}
	seeds := []string{
		"", "limit=1&offset=0", "limit=100&offset=5", "limit=1000", "limit=0", "limit=-1", "limit=abc", "offset=-5",
		"offset=99999999999999999999", "limit=1e3", "limit=+5", "limit= 5", "limit=5&limit=6", "offset=2147483647",
		"IncludeEnvStatus=true&IncludeModules=true", "includeenvstatus=1&INCLUDEMODULES=T", "IncludeModules=true",
		"IncludeEnvStatus=yes", "MaximumVersionsToReturn=0", "MaximumVersionsToReturn=-1", "MaximumVersionsToReturn=99999999999",
		"isTagged=true", "isTagged=maybe", "metadata.isDeployable=false&isExternal=0", "sort=-name", "sort=bogus",
		"createdDateSince=2025-01-01T00:00:00Z", "createdDateSince=yesterday", "embed=releaseNote,metadata", "embed=x",
		"mappingKeys=3fa85f64-5717-4562-b3fc-2c963f66afa6", "mappingKeys=nope", "status=Running", "revisions=All",
		"%zz=1&limit=%zz", "limit=1;offset=2", "maxDepth=1&producerTypeFilter=Libraries",
		"IncludeEnvStatus=true&includeenvstatus=maybe", "includeEnvStatus=&IncludeEnvStatus=true",
	}
	type target struct {
		path, token string
		check       func(*testing.T, *httptest.ResponseRecorder, string)
		paging      int // max limit of its paging (0: none): checks the page echoes limit and offset
		cloudPage   bool
	}
	targets := []target{
		{assetRepoBase + "/assets", fs.accessToken, checkODCAnswer, odc.MaxAssetRepoLimit, true},
		{assetRepoBase + "/assets/" + keyCore + "/revisions", fs.accessToken, checkODCAnswer, odc.MaxAssetRepoLimit, true},
		{portfolioBase + "/deployed-assets", fs.accessToken, checkODCAnswer, odc.MaxLimit, true},
		{portfolioBase + "/libraries", fs.accessToken, checkODCAnswer, odc.MaxLimit, true},
		{deploymentBase + "/publish-operations", fs.accessToken, checkODCAnswer, odc.MaxLimit, true},
		{dependencyBase + "/assets/" + keyCore + "/revisions/1/producers", fs.accessToken, checkODCAnswer, 0, false},
		{lifetime.Base + "/applications", testAdminToken, checkLTAnswer, 0, false},
		{lifetime.Base + "/applications/" + portal + "/versions", testAdminToken, checkLTAnswer, 0, false},
		{assessment.Base + "/mappings", testAdminToken, checkMAAnswer, assessment.MaxPageLimit, false},
		{assessment.Base + "/readiness", testAdminToken, checkMAAnswer, assessment.MaxReadinessLimit, false},
		{codemigration.Base + "/code-migrations", fs.accessToken, checkMAAnswer, assessment.MaxPageLimit, false},
	}
	for i, seed := range seeds {
		for tg := range targets {
			// A third of the seeds per target keeps the seed run short;
			// LifeTime gets all of its own.
			lifetimeSeed := strings.HasPrefix(targets[tg].path, lifetime.Base) && strings.Contains(strings.ToLower(seed), "include")
			if tg%3 == i%3 || lifetimeSeed {
				f.Add(uint8(tg), seed)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, rawQuery string) {
		q, _ := url.ParseQuery(rawQuery)
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.RawQuery = rawQuery

		// The parsers alone: what they accept is what the text says.
		if p, err := parseTestPaging(q, odc.MaxLimit); err == nil {
			checkIntParam(t, q, "limit", p.limit, odc.DefaultLimit, 1, odc.MaxLimit)
			checkIntParam(t, q, "offset", p.offset, 0, 0, 1<<31-1)
		} else if !errors.Is(err, httpx.ErrInvalid) {
			t.Fatalf("parseTestPaging: %v", err)
		}
		if p, err := assessment.ParsePaging(req); err == nil {
			checkIntParam(t, q, "limit", p.Limit, assessment.MaxPageLimit, 1, assessment.MaxPageLimit)
			checkIntParam(t, q, "offset", p.Offset, 0, 0, int(^uint(0)>>1))
		}
		for _, name := range []string{"isTagged", "isExternal"} {
			b, err := odc.QueryBool(q, name)
			want, perr := strconv.ParseBool(q.Get(name))
			switch {
			case q.Get(name) == "" && (b != nil || err != nil):
				t.Fatalf("odc.QueryBool(%s) of nothing = %v, %v", name, b, err)
			case q.Get(name) != "" && (err == nil) != (perr == nil):
				t.Fatalf("odc.QueryBool(%s=%q) = %v, %v", name, q.Get(name), b, err)
			case err == nil && b != nil && *b != want:
				t.Fatalf("odc.QueryBool(%s=%q) = %v", name, q.Get(name), *b)
			}
		}
		if b, err := lifetime.BoolParam(req, "IncludeEnvStatus"); err == nil {
			if v := lifetime.QueryParam(req, "IncludeEnvStatus"); v != "" {
				if want, perr := strconv.ParseBool(v); perr != nil || want != b {
					t.Fatalf("boolParam(IncludeEnvStatus=%q) = %v", v, b)
				}
			} else if b {
				t.Fatal("boolParam of nothing = true")
			}
		}

		// Through the handler (one endpoint per input); the same request
		// gets the same answer.
		tg := targets[int(which)%len(targets)]
		rec := fs.serve(http.MethodGet, tg.path+"?"+rawQuery, tg.token, "", "")
		what := "GET " + tg.path + "?" + rawQuery
		tg.check(t, rec, what)
		for range 2 {
			if again := fs.serve(http.MethodGet, tg.path+"?"+rawQuery, tg.token, "", ""); again.Code != rec.Code {
				t.Fatalf("%s: answered %d, then %d", what, rec.Code, again.Code)
			}
		}
		if rec.Code == http.StatusOK && tg.paging != 0 {
			var page struct {
				Page struct {
					Limit  int `json:"limit"`
					Offset int `json:"offset"`
				} `json:"page"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			def, maxOffset := assessment.MaxPageLimit, int(^uint(0)>>1)
			if tg.cloudPage {
				def, maxOffset = odc.DefaultLimit, 1<<31-1
			}
			checkIntParam(t, q, "limit", page.Page.Limit, def, 1, tg.paging)
			checkIntParam(t, q, "offset", page.Page.Offset, 0, 0, maxOffset)
		}
	})
}

// checkIntParam checks a parsed integer parameter: the default when absent,
// else the number the text says, within bounds.
func checkIntParam(t *testing.T, q url.Values, name string, got, def, lo, hi int) {
	t.Helper()
	text := q.Get(name)
	if text == "" {
		if got != def {
			t.Fatalf("%s absent: got %d, want %d", name, got, def)
		}
		return
	}
	n, err := strconv.Atoi(text)
	if err != nil || n != got || n < lo || n > hi {
		t.Fatalf("%s=%q accepted as %d (bounds %d-%d)", name, text, got, lo, hi)
	}
}
