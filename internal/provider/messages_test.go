package provider

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// TestKeepOnDestroyAdviceSaysApplyFirst: destroy reads keep_on_destroy from
// the state, so the advice to set it says to apply it before the destroy.
func TestKeepOnDestroyAdviceSaysApplyFirst(t *testing.T) {
	detail := releaseHasConsumersDetail("1.0.0", "Common Utils", []string{`"Customer Core" (asset k)`})
	for _, want := range []string{"`keep_on_destroy = true`", "apply that change before destroying", `"Customer Core" (asset k)`, `library "Common Utils"`} {
		if !strings.Contains(detail, want) {
			t.Errorf("the detail does not say %q:\n%s", want, detail)
		}
	}
	var s resourceSchemaResponse
	NewLibraryReleaseResource().Schema(context.Background(), resource.SchemaRequest{}, &s.SchemaResponse)
	if d := s.Schema.Attributes["keep_on_destroy"].GetMarkdownDescription(); !strings.Contains(d, "apply a change to it before the destroy") {
		t.Errorf("keep_on_destroy's description does not say to apply it before the destroy: %s", d)
	}
}

type resourceSchemaResponse struct{ resource.SchemaResponse }

// unauthorizedServer answers every request 401, in the shape of each API.
func unauthorizedServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"title":"Unauthorized","status":401}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestUnauthorizedNamesTheSettings: a 401 names the settings (attribute and
// environment variable) that hold the credentials the service refused; the
// assessment tool's also names the LifeTime token it defaults to.
func TestUnauthorizedNamesTheSettings(t *testing.T) {
	ctx := context.Background()
	url := unauthorizedServer(t)
	cfg := client.Config{BaseURL: url, MaxRetries: 0}

	as, err := client.NewAssessment(cfg, "a-token")
	if err != nil {
		t.Fatal(err)
	}
	_, err = as.ListApplications(ctx)
	detail := apiErrorDetail("list the O11 applications", err)
	for _, want := range []string{"`assessment.token`", EnvAssessmentToken, "`lifetime.token`", EnvLifeTimeToken, "401"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the assessment tool's 401 does not name %s:\n%s", want, detail)
		}
	}

	lt, err := client.NewLifeTime(cfg, "a-token")
	if err != nil {
		t.Fatal(err)
	}
	_, err = lt.ListEnvironments(ctx)
	detail = apiErrorDetail("list the environments", err)
	for _, want := range []string{"`lifetime.token`", EnvLifeTimeToken} {
		if !strings.Contains(detail, want) {
			t.Errorf("LifeTime's 401 does not name %s:\n%s", want, detail)
		}
	}
	if strings.Contains(detail, "a-token") {
		t.Errorf("the detail shows the token:\n%s", detail)
	}
}

// TestODCUnauthorizedNamesTheSettings: the sandbox's identity provider
// refuses a wrong secret; the error names the ODC settings.
func TestODCUnauthorizedNamesTheSettings(t *testing.T) {
	e := newTestEnv(t)
	c, ok := e.fixture.ODC.Client("migration-pipeline")
	if !ok {
		t.Fatal("no migration-pipeline API client in the fixture")
	}
	o, err := client.NewODC(client.Config{BaseURL: e.url, MaxRetries: 0, CACertificate: e.ca}, c.ClientID, "not-the-secret")
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.ListStages(context.Background())
	if err == nil {
		t.Fatal("listing stages with a wrong secret worked")
	}
	detail := apiErrorDetail("list the stages", err)
	for _, want := range []string{"`odc.client_id`", "`odc.client_secret`", EnvODCClientSecret} {
		if !strings.Contains(detail, want) {
			t.Errorf("ODC's refusal does not name %s:\n%s", want, detail)
		}
	}
	if strings.Contains(detail, "not-the-secret") {
		t.Errorf("the detail shows the secret:\n%s", detail)
	}
}

// TestURLErrorsHideQueryAndCredentials: an error about a configured URL
// shows neither its query string (or fragment) nor its userinfo.
func TestURLErrorsHideQueryAndCredentials(t *testing.T) {
	for _, raw := range []string{
		"https://lifetime.example.com/?token=s3cret",
		"https://lifetime.example.com/path#s3cret",
		"https://me:s3cret@lifetime.example.com",
		"https://me:s3cret@lifetime.example.com/?token=s3cret",
		"http://lifetime.example.com/?token=s3cret",    // plain http off loopback
		"ftp://me:s3cret@lifetime.example.com/?s3cret", // wrong scheme
		"lifetime.example.com/?token=s3cret",           // not absolute
		"https://lifetime.example.com:port/?token=s3cret",
		"https://me:s3cret@lifetime example.com/?token=s3cret", // does not parse
		"https:///?token=s3cret",                               // no host
	} {
		_, err := client.NewLifeTime(client.Config{BaseURL: raw}, "t")
		if err == nil {
			t.Errorf("%s: accepted", raw)
			continue
		}
		var diags diag.Diagnostics
		invalidURL(&diags, "lifetime", "url", EnvLifeTimeURL, "LifeTime", err)
		if len(diags) != 1 {
			t.Fatalf("%s: %d diagnostics, want 1", raw, len(diags))
		}
		detail := diags[0].Detail()
		if strings.Contains(detail, "s3cret") {
			t.Errorf("%s: the error shows the secret:\n%s", raw, detail)
		}
		if !strings.Contains(detail, client.ShownURL(raw)) {
			t.Errorf("%s: the error does not show which URL:\n%s", raw, detail)
		}
	}
	for raw, want := range map[string]string{
		"https://me:pw@x.example/a?b#c": "https://x.example/a",
		"x.example?q":                   "x.example",
		"me@x.example/p@q":              "x.example/p@q",
		"https://x.example":             "https://x.example",
	} {
		if got := client.ShownURL(raw); got != want {
			t.Errorf("ShownURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

// refusingTransport answers 403 to the requests refuse matches and passes
// the others to the sandbox.
type refusingTransport struct {
	refuse func(*http.Request) bool
}

func (rt refusingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !rt.refuse(r) {
		return http.DefaultTransport.RoundTrip(r)
	}
	if r.Body != nil {
		_ = r.Body.Close()
	}
	body := `{"type":"about:blank","title":"Forbidden","status":403,"detail":"refused by the test"}`
	return &http.Response{StatusCode: http.StatusForbidden, Status: "403 Forbidden", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/problem+json"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r}, nil
}

// schemaValue is a value of the schema with every attribute null but those given.
func schemaValue(t *testing.T, typ tftypes.Type, set map[string]tftypes.Value) tftypes.Value {
	t.Helper()
	obj, ok := typ.(tftypes.Object)
	if !ok {
		t.Fatalf("schema type %T is not an object", typ)
	}
	vals := map[string]tftypes.Value{}
	for name, at := range obj.AttributeTypes {
		if v, ok := set[name]; ok {
			vals[name] = v
		} else {
			vals[name] = tftypes.NewValue(at, nil)
		}
	}
	return tftypes.NewValue(typ, vals)
}

// TestPublicationErrorsNameTheStage: when publishing fails, and when
// reading whether the asset is still in its stage fails, the error names the
// stage by its name and key.
func TestPublicationErrorsNameTheStage(t *testing.T) {
	e := newTestEnv(t)
	if e.ca != "" {
		t.Skip("the sandbox serves HTTPS here; this test's transport speaks plain HTTP to it")
	}
	const lib = "1a2b3c4d-0000-4000-8000-0000000000aa"
	if err := e.sb.SeedODCAsset(odc.MigratedAsset{Key: lib, Name: "Stage Lib", AssetType: client.AssetTypeLibrary}); err != nil {
		t.Fatal(err)
	}
	c, ok := e.fixture.ODC.Client("migration-pipeline")
	if !ok {
		t.Fatal("no migration-pipeline API client in the fixture")
	}
	hc := &http.Client{Transport: refusingTransport{refuse: func(r *http.Request) bool {
		return (r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/publish-operations")) || strings.HasSuffix(r.URL.Path, "/deployed-assets")
	}}}
	o, err := client.NewODC(client.Config{BaseURL: e.url, MaxRetries: 0, HTTPClient: hc}, c.ClientID, c.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := &assetPublicationResource{data: &providerData{odc: o, attempts: 1, stages: &memo[[]client.Stage]{}, environments: &memo[[]client.Environment]{}}}
	var sch resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sch)
	typ := sch.Schema.Type().TerraformType(ctx)
	qa := e.stageKey("QA")
	wantStage := `stage "QA" (` + qa + `)`

	plan := schemaValue(t, typ, map[string]tftypes.Value{
		"asset_key": tftypes.NewValue(tftypes.String, lib), "revision": tftypes.NewValue(tftypes.Number, 1),
		"stage_key": tftypes.NewValue(tftypes.String, qa),
	})
	createResp := resource.CreateResponse{State: tfsdk.State{Schema: sch.Schema, Raw: tftypes.NewValue(typ, nil)}}
	r.Create(ctx, resource.CreateRequest{Plan: tfsdk.Plan{Schema: sch.Schema, Raw: plan}, Config: tfsdk.Config{Schema: sch.Schema, Raw: plan}}, &createResp)
	if !hasErrorMentioning(createResp.Diagnostics, "Failed To Publish", wantStage) {
		t.Errorf("the failed publish does not name %s: %v", wantStage, createResp.Diagnostics)
	}

	state := schemaValue(t, typ, map[string]tftypes.Value{
		"id": tftypes.NewValue(tftypes.String, "1a2b3c4d-0000-4000-8000-0000000000bb"), "asset_key": tftypes.NewValue(tftypes.String, lib),
		"revision": tftypes.NewValue(tftypes.Number, 1), "stage_key": tftypes.NewValue(tftypes.String, qa),
		"status": tftypes.NewValue(tftypes.String, client.PublishStatusFinished), "asset_type": tftypes.NewValue(tftypes.String, "web_app"),
		"asset_name": tftypes.NewValue(tftypes.String, "Stage App"),
	})
	readResp := resource.ReadResponse{State: tfsdk.State{Schema: sch.Schema, Raw: state}}
	r.Read(ctx, resource.ReadRequest{State: tfsdk.State{Schema: sch.Schema, Raw: state}}, &readResp)
	if !hasErrorMentioning(readResp.Diagnostics, "Failed To Read The Stage", wantStage) {
		t.Errorf("the failed read of the stage does not name %s: %v", wantStage, readResp.Diagnostics)
	}
}

func hasErrorMentioning(diags diag.Diagnostics, summary, text string) bool {
	for _, d := range diags.Errors() {
		if d.Summary() == summary && strings.Contains(d.Detail(), text) {
			return true
		}
	}
	return false
}
