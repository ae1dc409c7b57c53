package sandbox

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
)

// An unknown path under the ODC portal's /api/ answers as ODC does, with a
// ProblemDetails 404, in either profile; other unknown paths keep the
// sandbox's plain 404.
func TestUnknownODCPathAnswersProblemDetails(t *testing.T) {
	for _, without := range []bool{false, true} {
		e := startODC(t, Options{WithoutMigrationKit: without})
		tok := e.token(clientMigration)
		for _, path := range []string{"/api/nothing-here", "/api/portfolios/v2/nothing", "/api/asset-repository/v9/assets", "/api/"} {
			for _, token := range []string{tok, ""} {
				r := do(t, http.MethodGet, e.base+path, token, nil)
				p := r.expectODCProblem(t, http.StatusNotFound, path)
				if p.Type != "https://tools.ietf.org/html/rfc9110#section-15.5.5" || p.Title != "Not Found" {
					t.Errorf("GET %s (tenant profile %v): problem = %+v, want RFC 9110's 404 type and title", path, without, p)
				}
			}
		}
		if r := do(t, http.MethodGet, e.base+"/nothing-here", "", nil).expect(t, http.StatusNotFound); strings.Contains(string(r.body), `"traceId"`) {
			t.Errorf("an unknown path outside /api/ answered ProblemDetails: %s", r.body)
		}
		if got := e.sb.RequestStats().ByFamily[FamilyODC].Requests; got == 0 {
			t.Errorf("unknown ODC paths were not counted as ODC requests (tenant profile %v)", without)
		}
	}
}

// The full profile keeps serving the kit, and says so.
func TestFullProfileServesTheKit(t *testing.T) {
	e := newMigrationEnv(t, Options{})
	if e.sb.Profile() != ProfileFull || !e.sb.HasMigrationKit() {
		t.Errorf("Profile = %q, HasMigrationKit = %v, want %q and true", e.sb.Profile(), e.sb.HasMigrationKit(), ProfileFull)
	}
	e.list("")
	// An unknown path under the kit's base is the kit's own 404, not ODC's.
	r := do(t, http.MethodGet, e.url+codemigration.Base+"/nothing-here", e.token(clientMigration), nil).expect(t, http.StatusNotFound)
	if p := decode[map[string]any](t, r); p["errorCode"] != assessment.CodeEndpointNotFound {
		t.Errorf("unknown kit path = %s, want code %s", r.body, assessment.CodeEndpointNotFound)
	}
	if !slices.ContainsFunc(e.sb.Exports(), func(l string) bool { return strings.HasPrefix(l, "export "+envAssessmentURL+"=") }) {
		t.Errorf("Exports = %v, want %s", e.sb.Exports(), envAssessmentURL)
	}
}

// The tenant profile answers the kit's paths as a real organization does,
// and keeps LifeTime, ODC, identity and the admin surface working.
func TestTenantProfileHasNoMigrationKit(t *testing.T) {
	e := startODC(t, Options{WithoutMigrationKit: true})
	sb, base := e.sb, e.base
	if sb.Profile() != ProfileTenant || sb.HasMigrationKit() {
		t.Errorf("Profile = %q, HasMigrationKit = %v, want %q and false", sb.Profile(), sb.HasMigrationKit(), ProfileTenant)
	}
	tok := e.token(clientMigration)

	// The code migration paths: ODC's ProblemDetails 404, for any method.
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		for _, path := range []string{codemigration.Base + "/code-migrations", codemigration.Base + "/code-migrations/" + uuid.NewString()} {
			do(t, m, base+path, tok, nil).expectODCProblem(t, http.StatusNotFound, path)
		}
	}
	// The assessment tool's paths: the O11 server's plain 404 for an
	// unknown path, with or without LifeTime's token.
	for _, api := range []string{assessment.Base, assessment.ConversionBase} {
		for _, path := range []string{"/applications", "/mappings"} {
			for _, token := range []string{testAdminToken, ""} {
				r := do(t, http.MethodGet, base+api+path, token, nil).expect(t, http.StatusNotFound)
				if got := decode[map[string]string](t, r)["error"]; got != "no such API: "+api+path {
					t.Errorf("GET %s = %s, want the plain unknown-path 404", api+path, r.body)
				}
			}
		}
	}
	stats := sb.RequestStats()
	if n := stats.ByFamily[FamilyAssessment].Requests + stats.ByFamily[FamilyCodeMigration].Requests; n != 0 {
		t.Errorf("%d requests counted for the kit's families, want none: %+v", n, stats.ByFamily)
	}

	// LifeTime, ODC and identity work.
	lt(t, base, http.MethodGet, "/environments", nil).expect(t, http.StatusOK)
	e.api(http.MethodGet, "/api/portfolios/v2/environments", tok, nil).expect(t, http.StatusOK)

	// The admin surface works; the kit's endpoints say the profile has none.
	r := do(t, http.MethodGet, base+"/_sandbox/health", "", nil).expect(t, http.StatusOK)
	if got := decode[map[string]string](t, r); got["profile"] != ProfileTenant {
		t.Errorf("health = %s, want profile %q", r.body, ProfileTenant)
	}
	for _, path := range []string{
		"/_sandbox/assessment/findings/" + uuid.NewString() + "/fix",
		"/_sandbox/assessment/mappings/" + uuid.NewString() + "/fix-all",
	} {
		r := do(t, http.MethodPost, base+path, "", nil).expect(t, http.StatusNotFound)
		if msg := decode[map[string]string](t, r)["error"]; !strings.Contains(msg, "tenant profile") || !strings.Contains(msg, "no Migration Kit API") {
			t.Errorf("POST %s = %s, want a message that the tenant profile has no kit", path, r.body)
		}
	}
	r = do(t, http.MethodDelete, base+"/_sandbox/code-migrations/"+uuid.NewString(), "", nil).expect(t, http.StatusNotFound)
	if msg := decode[map[string]string](t, r)["error"]; !strings.Contains(msg, "tenant profile") {
		t.Errorf("DELETE code migration = %s, want a message that the tenant profile has no kit", r.body)
	}
	do(t, http.MethodPost, base+"/_sandbox/lifetime/environments/"+envKey(t, sb.Fixture(), "Development")+"/applications/"+
		fixtureApp(t, sb.Fixture(), "Customer Portal").Key+"/modified", "", map[string]bool{"isModified": true}).expect(t, http.StatusOK)

	// The Sandbox's kit methods refuse; Exports leaves the assessment tool out.
	for name, err := range map[string]error{
		"FixFinding": sb.FixFinding(uuid.NewString()), "FixAllFindings": sb.FixAllFindings(uuid.NewString()),
		"DeleteCodeMigration": sb.DeleteCodeMigration(uuid.NewString()),
	} {
		if !errors.Is(err, ErrNoMigrationKit) {
			t.Errorf("%s = %v, want ErrNoMigrationKit", name, err)
		}
	}
	exports := sb.Exports()
	for _, l := range exports {
		if strings.HasPrefix(l, "export "+envAssessmentURL+"=") {
			t.Errorf("Exports = %v, want no %s in the tenant profile", exports, envAssessmentURL)
		}
	}
	for _, want := range []string{envLifeTimeURL, envLifeTimeToken, "OUTSYSTEMS_ODC_PORTAL_URL"} {
		if !slices.ContainsFunc(exports, func(l string) bool { return strings.HasPrefix(l, "export "+want+"=") }) {
			t.Errorf("Exports = %v, want %s", exports, want)
		}
	}
}
