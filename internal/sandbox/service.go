package sandbox

import (
	"net/http"
	"slices"
	"strings"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// Service is one imitated OutSystems service plugged into the kernel. The
// kernel (Sandbox) owns the listener, the routing, the admin surface, chaos,
// the rate limits and the request counters; a service owns its tables, its
// handlers, its error shape and its authentication.
type Service interface {
	// Register adds the service's handlers to mux.
	Register(mux *http.ServeMux)
	// APIs declares the API families the service serves, so the kernel can
	// count, throttle and fail their requests in the right shape.
	APIs() []API
}

// API declares one API family of a service (see httpx.API).
type API = httpx.API

// API families, the keys of RequestStats.ByFamily.
const (
	FamilyLifeTime      = lifetime.Family
	FamilyAssessment    = assessment.Family
	FamilyODC           = odc.Family
	FamilyCodeMigration = codemigration.Family
	FamilyIdentity      = odc.IdentityFamily
)

// family indexes the counters; the rate limits and chaos switch on it.
type family int

const (
	famNone family = iota
	famLifeTime
	famAssessment
	famODC
	famCodeMigration
	famIdentity
	famCount
)

var familyNames = [famCount]string{
	famLifeTime: FamilyLifeTime, famAssessment: FamilyAssessment, famODC: FamilyODC,
	famCodeMigration: FamilyCodeMigration, famIdentity: FamilyIdentity,
}

func familyByName(name string) family {
	for f := famNone + 1; f < famCount; f++ {
		if familyNames[f] == name {
			return f
		}
	}
	return famNone
}

// apiCall is what the middleware knows of a request to an OutSystems API.
type apiCall struct {
	family     family
	token      bool // the token endpoint
	writeError func(w http.ResponseWriter, r *http.Request, status int, detail string)
}

// apiPrefix is one prefix of a declared API.
type apiPrefix struct {
	prefix string
	family family
	write  func(w http.ResponseWriter, r *http.Request, status int, detail string)
}

// apiTable sorts request paths into the declared API families.
type apiTable []apiPrefix

// newAPITable indexes the APIs the services declare, longest prefix first.
func newAPITable(services []Service) apiTable {
	var t apiTable
	for _, svc := range services {
		for _, api := range svc.APIs() {
			f := familyByName(api.Family)
			for _, p := range api.Prefixes {
				t = append(t, apiPrefix{prefix: p, family: f, write: api.WriteError})
			}
		}
	}
	slices.SortStableFunc(t, func(a, b apiPrefix) int { return len(b.prefix) - len(a.prefix) })
	return t
}

// classify sorts a request path into its API family; famNone for the
// admin surface and paths no API serves.
func (t apiTable) classify(path string) apiCall {
	for _, p := range t {
		if strings.HasPrefix(path, p.prefix) {
			call := apiCall{family: p.family, writeError: p.write}
			if p.family == famIdentity {
				tp := strings.TrimSuffix(path, "/")
				call.token = strings.HasPrefix(tp, "/identity/realms/") && strings.HasSuffix(tp, "/protocol/openid-connect/token")
			}
			return call
		}
	}
	return apiCall{family: famNone}
}

// services lists the services the sandbox serves, in registration order.
// The tenant profile (Options.WithoutMigrationKit) leaves the Migration
// Kit's assessment tool and code migration out.
func (s *Sandbox) services() []Service {
	if s.withoutKit {
		return []Service{s.lifetime, s.odc}
	}
	return []Service{
		s.lifetime,
		s.assessment,
		s.odc,
		s.codeMigration,
	}
}
