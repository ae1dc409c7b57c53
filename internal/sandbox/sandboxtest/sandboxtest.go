// Package sandboxtest holds test helpers several sandbox packages share.
// It imports no sandbox package, so any of them may use it in its tests.
package sandboxtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// JSONDoc decodes a JSON object, such as a fixture document, for a test to
// change.
func JSONDoc(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// WriteJSONFile writes doc as JSON to a file in a temporary directory and
// returns its path.
func WriteJSONFile(t testing.TB, doc any) string {
	t.Helper()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fixture.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Object is v as a decoded JSON object. It panics, failing the test that
// called it, when v is something else: a test that walks a document it
// built itself expects its shape.
func Object(v any) map[string]any {
	obj, ok := v.(map[string]any)
	if !ok {
		panic(fmt.Sprintf("sandboxtest: want a JSON object, got %T", v))
	}
	return obj
}

// Array is v as a decoded JSON array; see Object.
func Array(v any) []any {
	arr, ok := v.([]any)
	if !ok {
		panic(fmt.Sprintf("sandboxtest: want a JSON array, got %T", v))
	}
	return arr
}
