package client

import (
	"context"
	"net/http"
	"testing"
)

// FindAssets asks the asset repository for the names containing the name,
// in one request per page.
func TestODCFindAssets(t *testing.T) {
	var queries []string
	f := newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.Path+"?"+r.URL.Query().Encode())
		writeTestJSON(w, http.StatusOK, map[string]any{"results": []map[string]any{
			{"assetKey": "a", "revision": 2, "name": "Customer Core", "assetType": "LowCodeLibrary"},
			{"assetKey": "b", "revision": 1, "name": "Customer Core Tests", "assetType": "WebApplication"},
		}, "page": map[string]any{"nextPageOffset": nil}})
	})
	assets, err := f.client(t).FindAssets(context.Background(), "Customer Core")
	if err != nil || len(assets) != 2 || assets[0] != (Asset{Key: "a", Name: "Customer Core", AssetType: "LowCodeLibrary", LatestRevision: 2}) {
		t.Errorf("assets = %+v, %v", assets, err)
	}
	if want := "/api/asset-repository/v1/assets?limit=100&nameContains=Customer+Core&sort=name"; len(queries) != 1 || queries[0] != want {
		t.Errorf("queries = %q, want %q", queries, want)
	}
}
