package api

import (
	"context"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestMigrationKitV1IsValid(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("migration-kit/v1/openapi.yaml")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if doc.OpenAPI != "3.0.3" || doc.Info.Version != "1.3.0" {
		t.Errorf("openapi %q, info.version %q; want 3.0.3 and 1.3.0", doc.OpenAPI, doc.Info.Version)
	}
	for _, want := range []string{"Migration Kit", "App Conversion Kit", "Migration Assessment Tool", "Conversion Assessment Tool", "publishes no API",
		"CodeMigration", "added in 1.1.0", "Migration preview", "added in 1.3.0", "O11 Migrations > Migrate O11 code", "Organization management > Convert O11 code"} {
		if !strings.Contains(doc.Info.Description, want) {
			t.Errorf("info.description does not mention %q", want)
		}
	}
	var servers []string
	for _, s := range doc.Servers {
		servers = append(servers, s.URL)
	}
	if want := []string{"https://{o11DevHost}/MigrationAssessment/api/v1", "https://{o11DevHost}/ConversionAssessment/api/v1"}; strings.Join(servers, " ") != strings.Join(want, " ") {
		t.Errorf("servers = %v, want %v", servers, want)
	}

	// Every error answer is a ProblemDetails document. Operations tagged
	// Assessment are served by the console with the LifeTime token (the
	// global servers and security); those tagged CodeMigration by the ODC
	// portal with an ODC access token.
	codeMigrationOps := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			switch {
			case len(op.Tags) == 1 && op.Tags[0] == "Assessment":
				if op.Security != nil || len(item.Servers) > 0 {
					t.Errorf("%s %s overrides the global security or servers", method, path)
				}
			case len(op.Tags) == 1 && op.Tags[0] == "CodeMigration":
				codeMigrationOps++
				if op.Security == nil || len(*op.Security) != 1 || len((*op.Security)[0]) != 1 || (*op.Security)[0]["odcBearerAuth"] == nil {
					t.Errorf("%s %s: security %v, want only odcBearerAuth", method, path, op.Security)
				}
				if len(item.Servers) != 1 || item.Servers[0].URL != "https://{portal}/api/migration-kit/v1" {
					t.Errorf("%s %s: servers %v, want the ODC portal's", method, path, item.Servers)
				}
				if r := op.Responses.Value("401"); r == nil || r.Value.Headers["WWW-Authenticate"] == nil {
					t.Errorf("%s %s: 401 without WWW-Authenticate", method, path)
				}
			default:
				t.Errorf("%s %s: tags %v, want [Assessment] or [CodeMigration]", method, path, op.Tags)
			}
			if op.Responses.Value("401") == nil {
				t.Errorf("%s %s does not document 401", method, path)
			}
			for code, resp := range op.Responses.Map() {
				if code[0] != '4' && code[0] != '5' && code != "default" {
					continue
				}
				mt := resp.Value.Content.Get("application/problem+json")
				if mt == nil || mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/ProblemDetails" || len(resp.Value.Content) != 1 {
					t.Errorf("%s %s %s: not only application/problem+json ProblemDetails", method, path, code)
				}
			}
		}
	}
	if codeMigrationOps != 4 {
		t.Errorf("%d operations tagged CodeMigration, want 4 (list, start, get, preview)", codeMigrationOps)
	}
}
