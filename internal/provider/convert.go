package provider

import (
	"context"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// setStrings reads a set of strings; unknown and null elements read as "".
func setStrings(ctx context.Context, s types.Set) ([]string, diag.Diagnostics) {
	var out []types.String
	diags := s.ElementsAs(ctx, &out, false)
	keys := make([]string, len(out))
	for i, v := range out {
		if !v.IsUnknown() && !v.IsNull() {
			keys[i] = v.ValueString()
		}
	}
	return keys, diags
}

// stringSet makes a set of strings.
func stringSet(values []string) types.Set {
	elems := make([]attr.Value, len(values))
	for i, v := range values {
		elems[i] = types.StringValue(v)
	}
	return types.SetValueMust(types.StringType, elems)
}

// sameKeys reports whether two lists hold the same keys, ignoring order and case.
func sameKeys(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]int, len(a))
	for _, k := range a {
		seen[strings.ToLower(k)]++
	}
	for _, k := range b {
		seen[strings.ToLower(k)]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// sortedKeys returns the keys of m in order.
func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
