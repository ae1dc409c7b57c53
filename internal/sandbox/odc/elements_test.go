package odc

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

func names[T any](items []T, name func(T) string) []string {
	out := make([]string, len(items))
	for i, x := range items {
		out[i] = name(x)
	}
	return out
}

// TestODCReferencedElements: a revision references the public elements of
// its direct producers, published or not; sort and includeHidden work as
// documented, and the call needs Asset management > Open.
func TestODCReferencedElements(t *testing.T) {
	f := fixture.Default()
	f.ODC.APIClients = append(f.ODC.APIClients, fixture.APIClient{Name: "viewer", ClientID: "viewer-1", ClientSecret: "viewer-secret", Permissions: []string{fixture.PermissionViewPortfolio}})
	e := startODC(t, testOptions{Fixture: f})
	tok := e.token(clientMigration)
	for _, a := range testAssets {
		e.seed(a)
	}
	refsOf := func(assetKey, query string) []referencedElementJSON {
		t.Helper()
		return decode[testPage[referencedElementJSON]](t, e.api(http.MethodGet, dependencyBase+"/assets/"+assetKey+"/revisions/1/referenced-elements"+query, tok, nil).expect(t, http.StatusOK)).Results
	}
	elemName := func(x referencedElementJSON) string { return x.Name }

	// Nothing is published: the references are there all the same.
	refs := refsOf(keyPolicy, "")
	if got := strings.Join(names(refs, elemName), ","); got != "CustomerCore_Get,CustomerCoreCard,CustomerCoreLogo" {
		t.Errorf("referenced elements of Policy Rules = %s", got)
	}
	public := decode[testPage[publicElementJSON]](t, e.api(http.MethodGet, dependencyBase+"/assets/"+keyCore+"/revisions/1/public-elements", tok, nil).expect(t, http.StatusOK)).Results
	if len(public) != len(refs) {
		t.Fatalf("public elements of Customer Core = %+v", public)
	}
	for i, r := range refs {
		p := public[i]
		if r.AssetKey != keyPolicy || r.Revision != 1 || r.ProducerAssetKey != keyCore || r.ProducerAssetName != "Customer Core" ||
			r.ProducerAssetType != AssetTypeLibrary || r.Key != p.Key || r.Name != p.Name || r.Type != p.Type || r.IsHidden != p.IsHidden ||
			r.SignatureDigest != p.SignatureDigest || r.CompatibilitySignatureDigest != p.CompatibilitySignatureDigest || r.SignatureDigest == "" ||
			p.AssetKey != keyCore || p.AssetName != "Customer Core" || p.AssetType != AssetTypeLibrary {
			t.Errorf("referenced %+v\nfor public %+v", r, p)
		}
	}
	if !refs[2].IsHidden || refs[0].IsHidden || refs[0].Type != "ServerAction" || refs[0].Description == nil {
		t.Errorf("referenced elements = %+v", refs)
	}
	if got := strings.Join(names(refsOf(keyPolicy, "?includeHidden=false&sort=-name"), elemName), ","); got != "CustomerCoreCard,CustomerCore_Get" {
		t.Errorf("visible referenced elements, descending = %s", got)
	}
	portal := refsOf(keyPortal, "?sort=name")
	if len(portal) != 3 || slices.ContainsFunc(portal, func(x referencedElementJSON) bool { return x.ProducerAssetKey != keyPolicy }) {
		t.Errorf("referenced elements of Customer Portal = %+v, want Policy Rules' only (direct producers)", portal)
	}
	if got := refsOf(keyCore, ""); len(got) != 0 {
		t.Errorf("referenced elements of Customer Core = %+v", got)
	}
	apps := decode[testPage[publicElementJSON]](t, e.api(http.MethodGet, dependencyBase+"/assets/"+keyPortal+"/revisions/1/public-elements?includeHidden=false", tok, nil).expect(t, http.StatusOK)).Results
	if got := strings.Join(names(apps, func(x publicElementJSON) string { return x.Type }), ","); got != "ServiceAction,Entity" {
		t.Errorf("public element types of an app = %s", got)
	}

	// A revision migrated again references what its producers expose then.
	e.seed(MigratedAsset{Key: keyCore, Name: "Customer Kernel", AssetType: AssetTypeLibrary})
	e.seed(MigratedAsset{Key: keyPolicy, Name: "Policy Rules", AssetType: AssetTypeLibrary, Producers: []string{keyCore}})
	again := decode[testPage[referencedElementJSON]](t, e.api(http.MethodGet, dependencyBase+"/assets/"+keyPolicy+"/revisions/2/referenced-elements", tok, nil).expect(t, http.StatusOK)).Results
	if len(again) != 3 || again[0].Name != "CustomerKernel_Get" || again[0].Key != refs[0].Key || again[0].SignatureDigest == refs[0].SignatureDigest ||
		again[0].CompatibilitySignatureDigest != refs[0].CompatibilitySignatureDigest || again[0].ProducerAssetName != "Customer Kernel" {
		t.Errorf("referenced elements of revision 2 = %+v\nrevision 1 had %+v", again, refs)
	}
	if first := refsOf(keyPolicy, ""); first[0].Name != "CustomerCore_Get" {
		t.Errorf("revision 1 references %+v, want what it referenced when created", first)
	}

	// Digests of the dependency answers follow the public elements.
	deps := decode[testPage[dependency]](t, e.api(http.MethodGet, dependencyBase+"/assets/"+keyCore+"/consumers", tok, nil).expect(t, http.StatusOK)).Results
	for _, d := range deps {
		if d.SignatureDigest == nil || d.CompatibilitySignatureDigest == nil {
			t.Errorf("consumer %+v has no digests", d)
		}
	}

	// Errors.
	refsPath := dependencyBase + "/assets/" + keyPolicy + "/revisions/1/referenced-elements"
	e.api(http.MethodGet, dependencyBase+"/assets/"+keyPolicy+"/revisions/3/referenced-elements", tok, nil).expectODCProblem(t, http.StatusNotFound, "Revision 3")
	e.api(http.MethodGet, dependencyBase+"/assets/"+sqldb.DerivedKey("missing")+"/revisions/1/referenced-elements", tok, nil).expectODCProblem(t, http.StatusNotFound, "Asset")
	e.api(http.MethodGet, refsPath+"?sort=key", tok, nil).expectODCProblem(t, http.StatusBadRequest, "'key'")
	e.apiOutsideContract(http.MethodGet, refsPath+"?includeHidden=maybe", tok, nil).expectODCProblem(t, http.StatusBadRequest, "includeHidden")
	e.api(http.MethodGet, refsPath, e.token("viewer"), nil).expectODCProblem(t, http.StatusForbidden, "'viewer'", "'Asset management > Open'")
	e.apiOutsideContract(http.MethodGet, refsPath, "", nil).expectODCProblem(t, http.StatusUnauthorized)

	for _, op := range []string{"DependencyManagement_ListReferencedElements", "DependencyManagement_ListAssetRevisionPublicElements"} {
		if e.v.Calls(op) == 0 {
			t.Errorf("operation %s was not exercised", op)
		}
	}
}

// TestODCReferencedElementsBackfilled: revisions recorded before the
// sandbox kept referenced elements get them on the next start.
func TestODCReferencedElementsBackfilled(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "sb.db")
	e := startODC(t, testOptions{DBPath: dbPath})
	e.seed(testAssets[0])
	e.seed(testAssets[1])
	if _, err := e.sb.db.ExecContext(t.Context(), `DELETE FROM odc_referenced_elements`); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := startODC(t, testOptions{DBPath: dbPath})
	refs := decode[testPage[referencedElementJSON]](t, e2.api(http.MethodGet, dependencyBase+"/assets/"+keyPolicy+"/revisions/1/referenced-elements", e2.token(clientMigration), nil).expect(t, http.StatusOK)).Results
	if len(refs) != 3 || refs[0].ProducerAssetKey != keyCore {
		t.Errorf("referenced elements after the restart = %+v", refs)
	}
}
