package odctest

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
)

// permissionName is how the documents' x-os-permissions write a
// permission: bold, "Category > Permission".
var permissionName = regexp.MustCompile(`\*\*([^*]+ > [^*]+)\*\*`)

// Permissions lists, sorted and once each, every API client permission the
// OpenAPI documents name in their operations' x-os-permissions, like
// "Asset management > Change": the real names, which the sandbox's 403
// answers and the provider's documentation must use.
func Permissions() ([]string, error) {
	files, err := fs.Glob(specs, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, file := range files {
		data, err := specs.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Paths map[string]map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, item := range doc.Paths {
			for _, raw := range item {
				var op struct {
					Permissions string `json:"x-os-permissions"`
				}
				if json.Unmarshal(raw, &op) != nil { // path-level parameters, not an operation
					continue
				}
				for _, m := range permissionName.FindAllStringSubmatch(op.Permissions, -1) {
					out = append(out, m[1])
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
