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
	if doc.OpenAPI != "3.0.3" || doc.Info.Version != "1.0.0" {
		t.Errorf("openapi %q, info.version %q; want 3.0.3 and 1.0.0", doc.OpenAPI, doc.Info.Version)
	}
	for _, want := range []string{"Migration Kit", "App Conversion Kit", "Migration Assessment Tool", "Conversion Assessment Tool", "publishes no API", "CodeMigration"} {
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

	// Every error answer is a ProblemDetails document, and every operation
	// is tagged Assessment and needs the bearer token.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if len(op.Tags) != 1 || op.Tags[0] != "Assessment" {
				t.Errorf("%s %s: tags %v, want [Assessment]", method, path, op.Tags)
			}
			if op.Security != nil {
				t.Errorf("%s %s overrides the global security", method, path)
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
}
