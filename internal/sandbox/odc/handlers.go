package odc

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// The routes, request parsing and paging shared by the APIs. The handlers
// are in portfolio.go, assetrepo.go, dependencies.go, elements.go and deployments.go,
// identity in identity.go, the state in store.go.

// API roots on the portal host.
const (
	portfolioBase  = "/api/portfolios/v2"
	assetRepoBase  = "/api/asset-repository/v1"
	dependencyBase = "/api/dependency-management/v1"
	deploymentBase = "/api/deployments/v1"
)

// Paging limits: the asset repository documents 1-1000, the other APIs
// 1-100; both default to 100.
const (
	DefaultLimit      = 100
	MaxLimit          = 100
	MaxAssetRepoLimit = 1000
	operationPublish  = "Publish"
	// unsetDateTime is how ODC's .NET services write a date-time the
	// document makes neither optional nor nullable before it has a value.
	unsetDateTime = "0001-01-01T00:00:00Z"
)

// Register serves identity and the ODC APIs.
func (s *Service) Register(mux *http.ServeMux) {
	s.registerIdentity(mux)
	view := func(h handler) http.HandlerFunc { return s.api(fixture.PermissionViewPortfolio, h) }

	s.route(mux, portfolioBase+"/environments", map[string]http.HandlerFunc{http.MethodGet: view(s.listEnvironments)})
	s.route(mux, portfolioBase+"/deployed-assets", map[string]http.HandlerFunc{http.MethodGet: view(s.listDeployedAssets)})
	s.route(mux, portfolioBase+"/libraries", map[string]http.HandlerFunc{http.MethodGet: view(s.listLibraries)})

	assets := assetRepoBase + "/assets"
	s.route(mux, assets, map[string]http.HandlerFunc{http.MethodGet: view(s.listAssets)})
	s.route(mux, assets+"/{assetKey}", map[string]http.HandlerFunc{http.MethodGet: view(s.getAsset)})
	s.route(mux, assets+"/{assetKey}/latest-revision", map[string]http.HandlerFunc{http.MethodGet: view(s.getAsset)})
	s.route(mux, assets+"/{assetKey}/highest-tag-revision", map[string]http.HandlerFunc{http.MethodGet: view(s.getHighestTagRevision)})
	s.route(mux, assets+"/{assetKey}/revisions", map[string]http.HandlerFunc{http.MethodGet: view(s.listRevisions)})
	s.route(mux, assets+"/{assetKey}/revisions/{revisionNumber}", map[string]http.HandlerFunc{
		http.MethodGet:   view(s.getRevision),
		http.MethodPatch: s.api(fixture.PermissionRelease, s.handlePatchRevision),
	})
	s.route(mux, assets+"/{assetKey}/revisions/{revisionNumber}/release-notes", map[string]http.HandlerFunc{http.MethodGet: view(s.getReleaseNotes)})

	deps := dependencyBase + "/assets/{assetKey}"
	s.route(mux, deps+"/revisions/{revisionNumber}/producers", map[string]http.HandlerFunc{http.MethodGet: view(s.listProducers)})
	s.route(mux, deps+"/revisions/{revisionNumber}/producer-graph", map[string]http.HandlerFunc{http.MethodGet: view(s.producerGraph)})
	s.route(mux, deps+"/consumers", map[string]http.HandlerFunc{http.MethodGet: view(s.listConsumers)})
	s.route(mux, deps+"/revisions/{revisionNumber}/public-elements", map[string]http.HandlerFunc{http.MethodGet: view(s.listPublicElements)})
	// As documented: "API Client needs the Asset management > Open permission."
	s.route(mux, deps+"/revisions/{revisionNumber}/referenced-elements", map[string]http.HandlerFunc{
		http.MethodGet: s.api(fixture.PermissionOpen, s.listReferencedElements),
	})

	ops := deploymentBase + "/publish-operations"
	s.route(mux, ops, map[string]http.HandlerFunc{
		http.MethodGet:  view(s.listPublishOperations),
		http.MethodPost: s.api(fixture.PermissionPublish, s.handleStartPublish),
	})
	s.route(mux, ops+"/{operationKey}", map[string]http.HandlerFunc{http.MethodGet: view(s.getPublishOperation)})
	s.route(mux, ops+"/{operationKey}/messages", map[string]http.HandlerFunc{http.MethodGet: view(s.listPublishMessages)})
	s.registerCodeQuality(mux)
	s.registerStageConfigurations(mux)
	s.registerConfigurations(mux)
	s.registerDeploymentOperations(mux)
}

// handler serves an authorized ODC call; caller is the API client's name.
type handler func(w http.ResponseWriter, r *http.Request, caller string)

// api authorizes a call for a permission before handing it to h.
func (s *Service) api(permission string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, ok := s.Authorize(w, r, permission)
		if !ok {
			return
		}
		h(w, r, caller)
	}
}

// route registers one ODC path: its handlers by method, and 405 with an
// Allow header, as ProblemDetails, for any other method.
func (s *Service) route(mux *http.ServeMux, pattern string, handlers map[string]http.HandlerFunc) {
	httpx.Route(mux, pattern, handlers, WriteProblem)
}

// --- request parsing ---

// queryList reads a list parameter sent repeated or comma separated.
func queryList(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func queryInt(q url.Values, name string, def, lo, hi int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, httpx.Invalidf("Query parameter '%s' must be an integer from %d to %d, not '%s'.", name, lo, hi, v)
	}
	return n, nil
}

func queryBool(q url.Values, name string) (*bool, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, httpx.Invalidf("Query parameter '%s' must be true or false, not '%s'.", name, v)
	}
	return &b, nil
}

func queryTime(q url.Values, name string) (*time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, httpx.Invalidf("Query parameter '%s' must be an RFC 3339 date-time, not '%s'.", name, v)
	}
	return &t, nil
}

type paging struct{ limit, offset int }

func parsePaging(q url.Values, maxLimit int) (paging, error) {
	limit, err := queryInt(q, "limit", DefaultLimit, 1, maxLimit)
	if err != nil {
		return paging{}, err
	}
	offset, err := queryInt(q, "offset", 0, 0, 1<<31-1)
	return paging{limit, offset}, err
}

// pageOf cuts one page out of items; next is the offset of the next page,
// nil on the last one.
func pageOf[T any](items []T, p paging) (page []T, next *int) {
	start := min(p.offset, len(items))
	end := min(start+p.limit, len(items))
	page = items[start:end]
	if end < len(items) {
		next = &end
	}
	if page == nil {
		page = []T{}
	}
	return page, next
}

// pageInfoWithTotals is the PageInfoWithTotals of the portfolio and asset
// repository APIs.
type pageInfoWithTotals struct {
	Count          int  `json:"count"`
	Limit          int  `json:"limit"`
	Offset         int  `json:"offset"`
	NextPageOffset *int `json:"nextPageOffset"`
	TotalResults   int  `json:"totalResults"`
	TotalPages     int  `json:"totalPages"`
}

func totalsPage(count, total int, p paging, next *int) pageInfoWithTotals {
	return pageInfoWithTotals{Count: count, Limit: p.limit, Offset: p.offset, NextPageOffset: next,
		TotalResults: total, TotalPages: (total + p.limit - 1) / p.limit}
}

type pagedList[T any] struct {
	Results []T `json:"results"`
	Page    any `json:"page"`
}

type resultList[T any] struct {
	Results []T `json:"results"`
}

func writePaged[T any](w http.ResponseWriter, items []T, p paging) {
	page, next := pageOf(items, p)
	httpx.WriteJSON(w, http.StatusOK, pagedList[T]{Results: page, Page: totalsPage(len(page), len(items), p, next)})
}

func writeList[T any](w http.ResponseWriter, items []T) {
	if items == nil {
		items = []T{}
	}
	httpx.WriteJSON(w, http.StatusOK, resultList[T]{Results: items})
}

func revisionParam(r *http.Request) (int, error) {
	v := r.PathValue("revisionNumber")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, httpx.Invalidf("Revision number '%s' is not valid: revisions are numbered from 1.", v)
	}
	return n, nil
}

func str(s string) *string { return &s }

func boolPtr(b bool) *bool { return &b }

// lowered lower-cases keys from a query.
func lowered(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.ToLower(k)
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timeOf(t *time.Time) *string {
	if t == nil {
		return nil
	}
	return str(sqldb.FormatTime(*t))
}

// slug turns a name into a lower-case DNS label.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// ParsePaging reads the limit and offset query parameters as the APIs do,
// limit from 1 to MaxLimit (DefaultLimit when absent); the fuzz tests of
// the sandbox check the parser against its documentation.
func ParsePaging(q url.Values, maxLimit int) (limit, offset int, err error) {
	p, err := parsePaging(q, maxLimit)
	return p.limit, p.offset, err
}

// QueryBool reads a boolean query parameter as the APIs do: nil when
// absent; the fuzz tests of the sandbox check it.
func QueryBool(q url.Values, name string) (*bool, error) { return queryBool(q, name) }
