package contracttest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Incomplete lists how a JSON body falls short of a response schema's
// properties, recursively through objects (their allOf parts included) and
// array items: every property the schema defines must be present (null is a
// value: whether null is allowed is the schema validation's business), and
// an object whose schema lists properties may hold no other (unless the
// schema allows additional properties explicitly). Each entry names the
// property by its JSON path, like "results[0].status". An empty answer means
// the body serves exactly the documented fields.
func Incomplete(schema *openapi3.SchemaRef, body []byte) ([]string, error) {
	return IncompleteOmitting(schema, body, nil)
}

// IncompleteOmitting is Incomplete for a service that leaves out some
// properties unless asked for them (LifeTime's IncludeEnvStatus): a property
// named in omittable may be absent, wherever it appears; when present it is
// checked like any other.
func IncompleteOmitting(schema *openapi3.SchemaRef, body []byte, omittable []string) ([]string, error) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("the body is not JSON: %w", err)
	}
	var out []string
	incomplete(schema, v, "", omittable, &out)
	return out, nil
}

// properties merges a schema's properties with those of its allOf parts,
// and reports whether it allows other properties.
func properties(s *openapi3.Schema, props map[string]*openapi3.SchemaRef) (open bool) {
	for name, p := range s.Properties {
		props[name] = p
	}
	open = s.AdditionalProperties.Schema != nil || (s.AdditionalProperties.Has != nil && *s.AdditionalProperties.Has)
	for _, part := range s.AllOf {
		if part != nil && part.Value != nil && properties(part.Value, props) {
			open = true
		}
	}
	return open
}

func incomplete(ref *openapi3.SchemaRef, v any, path string, omittable []string, out *[]string) {
	if ref == nil || ref.Value == nil || v == nil {
		return
	}
	s := ref.Value
	switch val := v.(type) {
	case map[string]any:
		props := map[string]*openapi3.SchemaRef{}
		open := properties(s, props)
		if len(props) == 0 {
			return // a dictionary or a free-form object
		}
		names := make([]string, 0, len(props))
		for name := range props {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			child, ok := val[name]
			if !ok {
				if !slices.Contains(omittable, name) {
					*out = append(*out, "missing "+join(path, name))
				}
				continue
			}
			incomplete(props[name], child, join(path, name), omittable, out)
		}
		if !open {
			var extra []string
			for name := range val {
				if _, ok := props[name]; !ok {
					extra = append(extra, "undocumented "+join(path, name))
				}
			}
			slices.Sort(extra)
			*out = append(*out, extra...)
		}
	case []any:
		items := s.Items
		if items == nil {
			for _, part := range s.AllOf {
				if part != nil && part.Value != nil && part.Value.Items != nil {
					items = part.Value.Items
				}
			}
		}
		for i, item := range val {
			incomplete(items, item, fmt.Sprintf("%s[%d]", path, i), omittable, out)
		}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// IncompleteError formats Incomplete's findings as one error, nil when
// there are none.
func IncompleteError(findings []string) error {
	if len(findings) == 0 {
		return nil
	}
	return fmt.Errorf("the body does not serve exactly the documented fields: %s", strings.Join(findings, ", "))
}
