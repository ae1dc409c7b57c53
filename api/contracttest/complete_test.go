package contracttest

import (
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

func TestIncomplete(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(`{
  "openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
  "components": {"schemas": {
    "List": {"type": "object", "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}},
    "Item": {"type": "object", "additionalProperties": false, "properties": {
      "key": {"type": "string"},
      "status": {"allOf": [{"$ref": "#/components/schemas/State"}], "nullable": true},
      "meta": {"allOf": [{"$ref": "#/components/schemas/Meta"}], "nullable": true},
      "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "State": {"type": "string", "enum": ["Ready"]},
    "Meta": {"type": "object", "properties": {"digest": {"type": "string", "nullable": true}}}
  }}}`))
	if err != nil {
		t.Fatal(err)
	}
	list := doc.Components.Schemas["List"]
	for _, c := range []struct {
		name, body string
		want       []string
	}{
		{"complete, nulls included", `{"results":[{"key":"a","status":null,"meta":null,"labels":{"x":"y"}}]}`, nil},
		{"nested complete", `{"results":[{"key":"a","status":"Ready","meta":{"digest":null},"labels":{}}]}`, nil},
		{"missing at each depth", `{}`, []string{"missing results"}},
		{"missing in items and nested objects", `{"results":[{"key":"a","meta":{},"labels":{}},{"key":"b","status":null,"meta":null,"labels":{}}]}`,
			[]string{"missing results[0].status", "missing results[0].meta.digest"}},
		{"undocumented", `{"results":[{"key":"a","status":null,"meta":{"digest":"d","extra":1},"labels":{},"moduleKey":"k"}],"page":{}}`,
			[]string{"undocumented results[0].meta.extra", "undocumented results[0].moduleKey", "undocumented page"}},
	} {
		got, err := Incomplete(list, []byte(c.body))
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: Incomplete = %q, want %q", c.name, got, want)
		}
	}
	got, err := IncompleteOmitting(list, []byte(`{"results":[{"key":"a","meta":{},"labels":{}}]}`), []string{"status"})
	if err != nil || !slices.Equal(got, []string{"missing results[0].meta.digest"}) {
		t.Errorf("IncompleteOmitting status = %q, %v", got, err)
	}
	if _, err := Incomplete(list, []byte("not json")); err == nil {
		t.Error("Incomplete of a body that is not JSON reports no error")
	}
	if IncompleteError(nil) != nil || IncompleteError([]string{"missing a"}) == nil {
		t.Error("IncompleteError")
	}
}
