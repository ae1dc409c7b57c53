package sandbox

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The ODC side of the sandbox: OutSystems Developer Cloud's public REST
// APIs as far as a migration needs them, following OutSystems' OpenAPI
// documents (testdata/odc-openapi): the portfolio API v2 (stages, deployed
// assets, libraries), the asset repository v1 (assets, revisions, tags),
// dependency management v1 (producers, consumers) and deployments v1
// (publish operations). Identity (OIDC discovery and tokens) is in
// odc_identity.go, the state in odc_store.go.

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
	odcDefaultLimit      = 100
	odcMaxLimit          = 100
	odcMaxAssetRepoLimit = 1000
	odcOperationPublish  = "Publish"
)

// registerODC serves identity and the ODC APIs.
func (s *Sandbox) registerODC(mux *http.ServeMux) {
	s.registerODCIdentity(mux)
	view := func(h odcHandler) http.HandlerFunc { return s.odcAPI(PermissionViewPortfolio, h) }

	s.odcRoute(mux, portfolioBase+"/environments", map[string]http.HandlerFunc{http.MethodGet: view(s.odcListEnvironments)})
	s.odcRoute(mux, portfolioBase+"/deployed-assets", map[string]http.HandlerFunc{http.MethodGet: view(s.odcListDeployedAssets)})
	s.odcRoute(mux, portfolioBase+"/libraries", map[string]http.HandlerFunc{http.MethodGet: view(s.odcListLibraries)})

	assets := assetRepoBase + "/assets"
	s.odcRoute(mux, assets, map[string]http.HandlerFunc{http.MethodGet: view(s.odcListAssets)})
	s.odcRoute(mux, assets+"/{assetKey}", map[string]http.HandlerFunc{http.MethodGet: view(s.odcGetAsset)})
	s.odcRoute(mux, assets+"/{assetKey}/latest-revision", map[string]http.HandlerFunc{http.MethodGet: view(s.odcGetAsset)})
	s.odcRoute(mux, assets+"/{assetKey}/highest-tag-revision", map[string]http.HandlerFunc{http.MethodGet: view(s.odcGetHighestTagRevision)})
	s.odcRoute(mux, assets+"/{assetKey}/revisions", map[string]http.HandlerFunc{http.MethodGet: view(s.odcListRevisions)})
	s.odcRoute(mux, assets+"/{assetKey}/revisions/{revisionNumber}", map[string]http.HandlerFunc{
		http.MethodGet:   view(s.odcGetRevision),
		http.MethodPatch: s.odcAPI(PermissionRelease, s.odcPatchRevision),
	})
	s.odcRoute(mux, assets+"/{assetKey}/revisions/{revisionNumber}/release-notes", map[string]http.HandlerFunc{http.MethodGet: view(s.odcGetReleaseNotes)})

	deps := dependencyBase + "/assets/{assetKey}"
	s.odcRoute(mux, deps+"/revisions/{revisionNumber}/producers", map[string]http.HandlerFunc{http.MethodGet: view(s.odcListProducers)})
	s.odcRoute(mux, deps+"/revisions/{revisionNumber}/producer-graph", map[string]http.HandlerFunc{http.MethodGet: view(s.odcProducerGraph)})
	s.odcRoute(mux, deps+"/consumers", map[string]http.HandlerFunc{http.MethodGet: view(s.odcListConsumers)})

	ops := deploymentBase + "/publish-operations"
	s.odcRoute(mux, ops, map[string]http.HandlerFunc{
		http.MethodGet:  view(s.odcListPublishOperations),
		http.MethodPost: s.odcAPI(PermissionPublish, s.odcStartPublish),
	})
	s.odcRoute(mux, ops+"/{operationKey}", map[string]http.HandlerFunc{http.MethodGet: view(s.odcGetPublishOperation)})
	s.odcRoute(mux, ops+"/{operationKey}/messages", map[string]http.HandlerFunc{http.MethodGet: view(s.odcListPublishMessages)})
}

// odcHandler serves an authorized ODC call; caller is the API client's name.
type odcHandler func(w http.ResponseWriter, r *http.Request, caller string)

// odcAPI authorizes a call for a permission before handing it to h.
func (s *Sandbox) odcAPI(permission string, h odcHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, ok := s.odcAuthorize(w, r, permission)
		if !ok {
			return
		}
		h(w, r, caller)
	}
}

// odcRoute registers one ODC path; it is where a per-route rate limiter
// would wrap the handlers.
func (s *Sandbox) odcRoute(mux *http.ServeMux, pattern string, handlers map[string]http.HandlerFunc) {
	route(mux, pattern, handlers, writeODCError)
}

// --- request parsing ---

// odcQueryList reads a list parameter sent repeated or comma separated.
func odcQueryList(q url.Values, name string) []string {
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

func odcQueryInt(q url.Values, name string, def, lo, hi int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalidf("Query parameter '%s' must be an integer from %d to %d, not '%s'.", name, lo, hi, v)
	}
	return n, nil
}

func odcQueryBool(q url.Values, name string) (*bool, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, invalidf("Query parameter '%s' must be true or false, not '%s'.", name, v)
	}
	return &b, nil
}

func odcQueryTime(q url.Values, name string) (*time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, invalidf("Query parameter '%s' must be an RFC 3339 date-time, not '%s'.", name, v)
	}
	return &t, nil
}

type odcPaging struct{ limit, offset int }

func odcParsePaging(q url.Values, maxLimit int) (odcPaging, error) {
	limit, err := odcQueryInt(q, "limit", odcDefaultLimit, 1, maxLimit)
	if err != nil {
		return odcPaging{}, err
	}
	offset, err := odcQueryInt(q, "offset", 0, 0, 1<<31-1)
	return odcPaging{limit, offset}, err
}

// odcPageOf cuts one page out of items; next is the offset of the next page,
// nil on the last one.
func odcPageOf[T any](items []T, p odcPaging) (page []T, next *int) {
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

// odcPageInfoWithTotals is the PageInfoWithTotals of the portfolio and asset
// repository APIs.
type odcPageInfoWithTotals struct {
	Count          int  `json:"count"`
	Limit          int  `json:"limit"`
	Offset         int  `json:"offset"`
	NextPageOffset *int `json:"nextPageOffset"`
	TotalResults   int  `json:"totalResults"`
	TotalPages     int  `json:"totalPages"`
}

func odcTotalsPage(count, total int, p odcPaging, next *int) odcPageInfoWithTotals {
	return odcPageInfoWithTotals{Count: count, Limit: p.limit, Offset: p.offset, NextPageOffset: next,
		TotalResults: total, TotalPages: (total + p.limit - 1) / p.limit}
}

type odcPagedList[T any] struct {
	Results []T `json:"results"`
	Page    any `json:"page"`
}

type odcList[T any] struct {
	Results []T `json:"results"`
}

func odcWritePaged[T any](w http.ResponseWriter, items []T, p odcPaging) {
	page, next := odcPageOf(items, p)
	writeJSON(w, http.StatusOK, odcPagedList[T]{Results: page, Page: odcTotalsPage(len(page), len(items), p, next)})
}

func odcWriteList[T any](w http.ResponseWriter, items []T) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, odcList[T]{Results: items})
}

// odcRead runs read in a read transaction, answering the error itself on
// failure.
func (s *Sandbox) odcRead(w http.ResponseWriter, r *http.Request, read func(ctx context.Context, tx *sql.Tx) error) bool {
	ctx := r.Context()
	if err := s.store.read(ctx, func(tx *sql.Tx) error { return read(ctx, tx) }); err != nil {
		s.odcFail(w, r, err)
		return false
	}
	return true
}

func (s *Sandbox) odcFail(w http.ResponseWriter, r *http.Request, err error) {
	s.writeStoreError(w, r, err, writeODCError)
}

func odcRevisionParam(r *http.Request) (int, error) {
	v := r.PathValue("revisionNumber")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, invalidf("Revision number '%s' is not valid: revisions are numbered from 1.", v)
	}
	return n, nil
}

func odcStr(s string) *string { return &s }

func odcBool(b bool) *bool { return &b }

// odcLowered lower-cases keys from a query.
func odcLowered(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.ToLower(k)
	}
	return out
}

func odcOptional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func odcTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	return odcStr(formatTime(*t))
}

// odcSlug turns a name into a lower-case DNS label.
func odcSlug(name string) string {
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

func odcContainsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// --- portfolio: environments (stages) ---

type odcEnvironment struct {
	Key           string  `json:"key"`
	Name          string  `json:"name"`
	BuiltinDomain string  `json:"builtinDomain"`
	DefaultDomain string  `json:"defaultDomain"`
	Purpose       string  `json:"purpose"`
	Order         int     `json:"order"`
	Region        *string `json:"region"`
	Hosting       string  `json:"hosting"`
	PortfolioKey  string  `json:"portfolioKey"`
}

// odcStageDomain is the domain the apps of a stage are served on.
func (s *Sandbox) odcStageDomain(st odcStage) string {
	return fmt.Sprintf("%s-%s.outsystems.app", odcSlug(s.odc.meta.Organization), odcSlug(st.Name))
}

func (s *Sandbox) odcListEnvironments(w http.ResponseWriter, r *http.Request, _ string) {
	var stages []odcStage
	if !s.odcRead(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		stages, err = odcStages(ctx, tx)
		return err
	}) {
		return
	}
	portfolio := r.URL.Query().Get("portfolioKey")
	var out []odcEnvironment
	for _, st := range stages {
		if portfolio != "" && !strings.EqualFold(portfolio, s.odc.meta.PortfolioKey) {
			continue
		}
		domain := s.odcStageDomain(st)
		out = append(out, odcEnvironment{Key: st.Key, Name: st.Name, BuiltinDomain: domain, DefaultDomain: domain,
			Purpose: st.Purpose, Order: st.Order, Hosting: "oscloud", PortfolioKey: s.odc.meta.PortfolioKey})
	}
	odcWriteList(w, out)
}

// --- portfolio: deployed assets ---

type odcDeployedAsset struct {
	Type        string          `json:"type"`
	Key         string          `json:"key"`
	IsBuiltIn   bool            `json:"isBuiltIn"`
	Deployments []odcDeployment `json:"deployments"`
}

type odcDeployment struct {
	EnvironmentKey     string  `json:"environmentKey"`
	Name               string  `json:"name"`
	Revision           int     `json:"revision"`
	BuildKey           string  `json:"buildKey"`
	DeploymentKey      string  `json:"deploymentKey"`
	DeploymentDateTime string  `json:"deploymentDateTime"`
	Description        *string `json:"description"`
	IconURL            *string `json:"iconUrl"`
	DeploymentUserID   string  `json:"deploymentUserId"`
	URL                string  `json:"url"`
	Tag                *string `json:"tag"`
	TaggingUserKey     *string `json:"taggingUserKey"`
	TaggingDateTime    *string `json:"taggingDateTime"`
	PortfolioKey       string  `json:"portfolioKey"`
}

// odcListDeployedAssets lists the apps deployed in each stage. Libraries
// are not deployed to stages in ODC (apps bundle them); they are listed by
// /libraries.
func (s *Sandbox) odcListDeployedAssets(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	p, err := odcParsePaging(q, odcMaxLimit)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	// Keys are canonical GUIDs: matching them lower-cased is matching
	// them case-insensitively.
	f := odcDeployedFilter{libraries: odcBool(false)}
	f.stageKeys, f.assetKeys = odcLowered(odcQueryList(q, "environmentKey")), odcLowered(odcQueryList(q, "key"))
	types, nameContains, portfolio := odcQueryList(q, "type"), q.Get("nameContains"), q.Get("portfolioKey")
	var stages []odcStage
	var deployed []odcDeployed
	if portfolio == "" || strings.EqualFold(portfolio, s.odc.meta.PortfolioKey) {
		if !s.odcRead(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
			if stages, err = odcStages(ctx, tx); err != nil {
				return err
			}
			deployed, err = odcDeployments(ctx, tx, f, time.Now())
			return err
		}) {
			return
		}
	}
	var assets []*odcAsset
	byAsset := map[string][]odcDeployed{} // in stage order
	for _, d := range deployed {
		if _, seen := byAsset[d.Asset.Key]; !seen {
			assets = append(assets, d.Asset)
		}
		byAsset[d.Asset.Key] = append(byAsset[d.Asset.Key], d)
	}
	sortODCAssets(assets)
	var out []odcDeployedAsset
	for _, a := range assets {
		if len(types) > 0 && !slices.Contains(types, a.AssetType) {
			continue
		}
		var deployments []odcDeployment
		for _, d := range byAsset[a.Key] {
			op, rev := d.Op, d.Revision
			st := stages[slices.IndexFunc(stages, func(st odcStage) bool { return st.Key == op.EnvironmentKey })]
			if nameContains != "" && !odcContainsFold(rev.Name, nameContains) {
				continue
			}
			deployments = append(deployments, odcDeployment{
				EnvironmentKey: st.Key, Name: rev.Name, Revision: rev.Revision, BuildKey: op.BuildKey, DeploymentKey: op.Key,
				DeploymentDateTime: formatTime(op.FinishesAt), DeploymentUserID: op.DeployedBy,
				URL: "https://" + s.odcStageDomain(st) + "/" + strings.ReplaceAll(rev.Name, " ", ""),
				Tag: rev.Tag, TaggingUserKey: rev.TaggedBy, TaggingDateTime: odcTime(rev.TaggedAt), PortfolioKey: s.odc.meta.PortfolioKey,
			})
		}
		if len(deployments) == 0 {
			continue
		}
		slices.SortStableFunc(deployments, func(x, y odcDeployment) int { return strings.Compare(y.DeploymentDateTime, x.DeploymentDateTime) })
		out = append(out, odcDeployedAsset{Type: a.AssetType, Key: a.Key, Deployments: deployments})
	}
	odcWritePaged(w, out, p)
}

// --- portfolio: libraries ---

type odcLibrary struct {
	Key          string               `json:"key"`
	Type         string               `json:"type"`
	IsBuiltIn    bool                 `json:"isBuiltIn"`
	PortfolioKey string               `json:"portfolioKey"`
	Revisions    []odcLibraryRevision `json:"revisions"`
}

type odcLibraryRevision struct {
	Revision        int     `json:"revision"`
	Name            string  `json:"name"`
	Description     *string `json:"description"`
	IconURL         *string `json:"iconUrl"`
	PublishDateTime string  `json:"publishDateTime,omitempty"`
	PublishUserKey  *string `json:"publishUserKey"`
	Tag             *string `json:"tag"`
	TaggingUserKey  *string `json:"taggingUserKey"`
	TaggingDateTime *string `json:"taggingDateTime"`
	IsLatest        bool    `json:"isLatest"`
}

// odcListLibraries lists libraries with the revisions asked for: the
// latest (default), the highest tagged, or the latest and every tagged one.
func (s *Sandbox) odcListLibraries(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	p, err := odcParsePaging(q, odcMaxLimit)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	which := strings.ToLower(cmp.Or(q.Get("revisions"), "latest"))
	if !slices.Contains([]string{"latest", "highesttag", "all"}, which) {
		s.odcFail(w, r, invalidf("Query parameter 'revisions' must be Latest, HighestTag or All, not '%s'.", q.Get("revisions")))
		return
	}
	f := odcAssetFilter{keys: odcLowered(odcQueryList(q, "key")), types: odcQueryList(q, "type"), libraries: odcBool(true)}
	nameContains, portfolio := q.Get("nameContains"), q.Get("portfolioKey")
	var page []*odcAsset
	var next *int
	var total int
	tagged := map[string][]*odcRevision{}
	var published map[odcRevisionRef]*odcPublishOp
	if !s.odcRead(w, r, func(ctx context.Context, tx *sql.Tx) error {
		libs, err := odcAssets(ctx, tx, f)
		if err != nil {
			return err
		}
		libs = slices.DeleteFunc(libs, func(a *odcAsset) bool {
			return nameContains != "" && !odcContainsFold(a.latest().Name, nameContains) ||
				portfolio != "" && !strings.EqualFold(portfolio, s.odc.meta.PortfolioKey)
		})
		total = len(libs)
		page, next = odcPageOf(libs, p)
		if len(page) == 0 {
			return nil
		}
		// Only the page's libraries: their tagged revisions and when each
		// revision shown was first published.
		var refs []odcRevisionRef
		for _, a := range page {
			refs = append(refs, odcRevisionRef{a.Key, a.latest().Revision})
		}
		if which != "latest" {
			keys := make([]string, len(page))
			for i, a := range page {
				keys[i] = a.Key
			}
			in, args := odcInList(keys)
			revs, err := odcRevisions(ctx, tx, "r.tag IS NOT NULL AND r.asset_key IN ("+in+")", args...)
			if err != nil {
				return err
			}
			for _, rev := range revs {
				tagged[rev.AssetKey] = append(tagged[rev.AssetKey], rev)
				refs = append(refs, odcRevisionRef{rev.AssetKey, rev.Revision})
			}
		}
		published, err = odcFirstPublished(ctx, tx, refs, time.Now())
		return err
	}) {
		return
	}
	out := make([]odcLibrary, 0, len(page))
	for _, a := range page {
		var revs []*odcRevision
		switch which {
		case "latest":
			revs = []*odcRevision{a.latest()}
		case "highesttag":
			var h *odcRevision
			for _, rev := range tagged[a.Key] {
				if h == nil || compareODCTags(*rev.Tag, *h.Tag) > 0 {
					h = rev
				}
			}
			if h != nil {
				revs = []*odcRevision{h}
			}
		case "all":
			revs = tagged[a.Key]
			if a.latest().Tag == nil {
				revs = append(revs, a.latest())
			}
		}
		lib := odcLibrary{Key: a.Key, Type: a.AssetType, PortfolioKey: s.odc.meta.PortfolioKey, Revisions: []odcLibraryRevision{}}
		for _, rev := range revs {
			isLatest := rev.Revision == a.latest().Revision
			lr := odcLibraryRevision{Revision: rev.Revision, Name: rev.Name, Tag: rev.Tag, TaggingUserKey: rev.TaggedBy,
				TaggingDateTime: odcTime(rev.TaggedAt), IsLatest: isLatest}
			if op, ok := published[odcRevisionRef{a.Key, rev.Revision}]; ok {
				lr.PublishDateTime, lr.PublishUserKey = formatTime(op.FinishesAt), &op.DeployedBy
			}
			lib.Revisions = append(lib.Revisions, lr)
		}
		out = append(out, lib)
	}
	writeJSON(w, http.StatusOK, odcPagedList[odcLibrary]{Results: out, Page: odcTotalsPage(len(out), total, p, next)})
}

// --- asset repository ---

type odcAssetRevision struct {
	AssetKey      string              `json:"assetKey"`
	PortfolioKey  string              `json:"portfolioKey"`
	Revision      int                 `json:"revision"`
	Name          string              `json:"name"`
	Description   *string             `json:"description"`
	IsExternal    bool                `json:"isExternal"`
	Tag           *string             `json:"tag"`
	ModelDigest   string              `json:"modelDigest"`
	AssetType     string              `json:"assetType"`
	CreatedBy     string              `json:"createdBy"`
	CreatedAt     string              `json:"createdAt"`
	CommitMessage *string             `json:"commitMessage"`
	TaggedBy      *string             `json:"taggedBy"`
	TaggedAt      *string             `json:"taggedAt"`
	Embedded      *odcAssetEmbeddings `json:"_embedded,omitempty"`
}

type odcAssetEmbeddings struct {
	ReleaseNote *odcReleaseNoteLink `json:"releaseNote,omitempty"`
	Metadata    *odcAssetMetadata   `json:"metadata,omitempty"`
}

type odcReleaseNoteLink struct {
	Tag            *string `json:"tag"`
	ReleaseNoteURL *string `json:"releaseNoteUrl"`
}

type odcAssetMetadata struct {
	URLPath        *string `json:"urlPath"`
	IsDeployable   bool    `json:"isDeployable"`
	IsBuiltInAsset bool    `json:"isBuiltInAsset"`
}

// odcEmbedSet is the embed query parameter. The sandbox has release notes and
// metadata; icons, source code and signatures are recognized and left out.
type odcEmbedSet struct{ releaseNote, metadata bool }

func odcParseEmbed(q url.Values) (odcEmbedSet, error) {
	var e odcEmbedSet
	for _, v := range odcQueryList(q, "embed") {
		switch v {
		case "releaseNote":
			e.releaseNote = true
		case "metadata":
			e.metadata = true
		case "icon", "sourceCode", "signature":
		default:
			return e, invalidf("Unknown embed '%s': recognized values are releaseNote, icon, sourceCode, signature and metadata.", v)
		}
	}
	return e, nil
}

func (s *Sandbox) odcRevisionJSON(r *http.Request, a *odcAsset, rev *odcRevision, e odcEmbedSet) odcAssetRevision {
	out := odcAssetRevision{
		AssetKey: a.Key, PortfolioKey: s.odc.meta.PortfolioKey, Revision: rev.Revision, Name: rev.Name, Tag: rev.Tag,
		ModelDigest: rev.ModelDigest, AssetType: a.AssetType, CreatedBy: rev.CreatedBy, CreatedAt: formatTime(rev.CreatedAt),
		CommitMessage: rev.CommitMessage, TaggedBy: rev.TaggedBy, TaggedAt: odcTime(rev.TaggedAt),
	}
	if e.releaseNote || e.metadata {
		out.Embedded = &odcAssetEmbeddings{}
	}
	if e.releaseNote {
		link := &odcReleaseNoteLink{Tag: rev.Tag}
		if rev.Tag != nil {
			link.ReleaseNoteURL = odcStr(fmt.Sprintf("%s%s/assets/%s/revisions/%d/release-notes", odcRequestBase(r), assetRepoBase, a.Key, rev.Revision))
		}
		out.Embedded.ReleaseNote = link
	}
	if e.metadata {
		deployable := a.AssetType != AssetTypeLibrary
		md := &odcAssetMetadata{IsDeployable: deployable}
		if deployable {
			md.URLPath = odcStr(strings.ReplaceAll(rev.Name, " ", ""))
		}
		out.Embedded.Metadata = md
	}
	return out
}

// odcListAssets lists the latest revision of every asset matching the
// filters. Filters on things the sandbox does not model (templates, URL
// paths, permissions) are ignored.
func (s *Sandbox) odcListAssets(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	p, err := odcParsePaging(q, odcMaxAssetRepoLimit)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	e, err := odcParseEmbed(q)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	deployable, err := odcQueryBool(q, "metadata.isDeployable")
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	external, err := odcQueryBool(q, "isExternal")
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	f := odcAssetFilter{types: odcQueryList(q, "assetTypes"), keys: odcLowered(odcQueryList(q, "assetKeys"))}
	if deployable != nil {
		f.libraries = odcBool(!*deployable)
	}
	var assets []*odcAsset
	if !s.odcRead(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		assets, err = odcAssets(ctx, tx, f)
		return err
	}) {
		return
	}
	switch sort := q.Get("sort"); sort {
	case "", "name":
	case "-name":
		slices.Reverse(assets)
	case "createdAt", "-createdAt":
		slices.SortStableFunc(assets, func(x, y *odcAsset) int { return x.CreatedAt.Compare(y.CreatedAt) })
		if sort == "-createdAt" {
			slices.Reverse(assets)
		}
	default:
		s.odcFail(w, r, invalidf("Unknown sort '%s': use name or createdAt, with '-' for descending.", sort))
		return
	}
	name := cmp.Or(q.Get("nameContains"), q.Get("nameOrDescriptionContains"))
	portfolios := odcQueryList(q, "portfolioKeys")
	var out []odcAssetRevision
	for _, a := range assets {
		latest := a.latest()
		if name != "" && !odcContainsFold(latest.Name, name) ||
			len(portfolios) > 0 && !slices.ContainsFunc(portfolios, func(k string) bool { return strings.EqualFold(k, s.odc.meta.PortfolioKey) }) ||
			external != nil && *external {
			continue
		}
		out = append(out, s.odcRevisionJSON(r, a, latest, e))
	}
	odcWritePaged(w, out, p)
}

// odcGetAsset answers GET /assets/{key} and /assets/{key}/latest-revision:
// both return the latest revision.
func (s *Sandbox) odcGetAsset(w http.ResponseWriter, r *http.Request, _ string) {
	e, err := odcParseEmbed(r.URL.Query())
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	var a *odcAsset
	if !s.odcRead(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		a, err = odcAssetByKey(ctx, tx, r.PathValue("assetKey"))
		return err
	}) {
		return
	}
	writeJSON(w, http.StatusOK, s.odcRevisionJSON(r, a, a.latest(), e))
}

func (s *Sandbox) odcGetHighestTagRevision(w http.ResponseWriter, r *http.Request, _ string) {
	e, err := odcParseEmbed(r.URL.Query())
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	var a *odcAsset
	var rev *odcRevision
	if !s.odcRead(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		if a, err = odcAssetByKey(ctx, tx, r.PathValue("assetKey")); err != nil {
			return err
		}
		if rev, err = odcHighestTag(ctx, tx, a.Key, 0); err == nil && rev == nil {
			err = notFoundf("Asset '%s' (key %s) has no tagged revision.", a.latest().Name, a.Key)
		}
		return err
	}) {
		return
	}
	writeJSON(w, http.StatusOK, s.odcRevisionJSON(r, a, rev, e))
}

func (s *Sandbox) odcGetRevision(w http.ResponseWriter, r *http.Request, _ string) {
	e, err := odcParseEmbed(r.URL.Query())
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	n, err := odcRevisionParam(r)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	var a *odcAsset
	var rev *odcRevision
	if !s.odcRead(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		a, rev, err = odcLoadRevision(ctx, tx, r.PathValue("assetKey"), n)
		return err
	}) {
		return
	}
	writeJSON(w, http.StatusOK, s.odcRevisionJSON(r, a, rev, e))
}

// odcListRevisions lists an asset's revisions, by revision number unless
// sorted otherwise.
func (s *Sandbox) odcListRevisions(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	p, err := odcParsePaging(q, odcMaxAssetRepoLimit)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	e, err := odcParseEmbed(q)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	tagged, err := odcQueryBool(q, "isTagged")
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	since, err := odcQueryTime(q, "revisionDateTimeSince")
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	until, err := odcQueryTime(q, "revisionDateTimeTo")
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	var a *odcAsset
	var all []*odcRevision
	if !s.odcRead(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		if a, err = odcAssetByKey(ctx, tx, r.PathValue("assetKey")); err != nil {
			return err
		}
		all, err = odcAllRevisions(ctx, tx, a.Key)
		return err
	}) {
		return
	}
	tag, digest, commit := q.Get("tag"), q.Get("modelDigest"), q.Get("commitMessage")
	var revs []*odcRevision
	for _, rev := range all {
		if tagged != nil && *tagged != (rev.Tag != nil) ||
			tag != "" && (rev.Tag == nil || *rev.Tag != tag) ||
			digest != "" && rev.ModelDigest != digest ||
			commit != "" && (rev.CommitMessage == nil || !odcContainsFold(*rev.CommitMessage, commit)) ||
			since != nil && rev.CreatedAt.Before(*since) ||
			until != nil && rev.CreatedAt.After(*until) {
			continue
		}
		revs = append(revs, rev)
	}
	switch sort := q.Get("sort"); sort {
	case "", "revision":
	case "-revision":
		slices.Reverse(revs)
	case "tag", "-tag":
		// Untagged revisions sort before tagged ones.
		slices.SortStableFunc(revs, func(x, y *odcRevision) int {
			switch {
			case x.Tag == nil || y.Tag == nil:
				return cmp.Compare(odcBoolInt(x.Tag != nil), odcBoolInt(y.Tag != nil))
			default:
				return compareODCTags(*x.Tag, *y.Tag)
			}
		})
		if sort == "-tag" {
			slices.Reverse(revs)
		}
	default:
		s.odcFail(w, r, invalidf("Unknown sort '%s': use revision or tag, with '-' for descending.", sort))
		return
	}
	out := make([]odcAssetRevision, len(revs))
	for i, rev := range revs {
		out[i] = s.odcRevisionJSON(r, a, rev, e)
	}
	odcWritePaged(w, out, p)
}

func odcBoolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// odcPatchRevision tags (releases) a revision, changes its release notes
// or commit message, or clears its tag with "tag": null. Absent fields are
// left as they are.
func (s *Sandbox) odcPatchRevision(w http.ResponseWriter, r *http.Request, caller string) {
	n, err := odcRevisionParam(r)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	var body map[string]json.RawMessage
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(&body); err != nil || body == nil || jsonEnd(dec) != nil {
		s.odcFail(w, r, invalidf(`Send a JSON object like {"tag": "1.0.0", "releaseNotes": "...", "commitMessage": "..."}.`))
		return
	}
	var patch odcRevisionPatch
	fields := map[string]***string{"tag": &patch.Tag, "releaseNotes": &patch.ReleaseNotes, "commitMessage": &patch.CommitMessage}
	for name, raw := range body {
		dst, known := fields[name]
		if !known {
			s.odcFail(w, r, invalidf("Unknown field '%s': a revision patch has tag, releaseNotes and commitMessage.", name))
			return
		}
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			s.odcFail(w, r, invalidf("Field '%s' must be a string or null.", name))
			return
		}
		*dst = &v
	}
	if err := s.store.odcPatch(r.Context(), r.PathValue("assetKey"), n, patch, caller, time.Now()); err != nil {
		s.odcFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type odcReleaseNoteContent struct {
	Tag     *string `json:"tag"`
	Content *string `json:"content"`
}

func (s *Sandbox) odcGetReleaseNotes(w http.ResponseWriter, r *http.Request, _ string) {
	n, err := odcRevisionParam(r)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	var rev *odcRevision
	if !s.odcRead(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		_, rev, err = odcLoadRevision(ctx, tx, r.PathValue("assetKey"), n)
		return err
	}) {
		return
	}
	writeJSON(w, http.StatusOK, odcReleaseNoteContent{Tag: rev.Tag, Content: rev.ReleaseNotes})
}

// --- dependency management ---

// odcDependency is the AssetDependency family of the dependency management
// API; Producers differs by endpoint (keys or nested objects), IsDirect
// appears on the producers list only.
type odcDependency struct {
	Key          string  `json:"key"`
	PortfolioKey string  `json:"portfolioKey"`
	Revision     int     `json:"revision"`
	Name         string  `json:"name"`
	Description  *string `json:"description"`
	Type         string  `json:"type"`
	ModelDigest  string  `json:"modelDigest"`
}

type odcProducerWithReferences struct {
	odcDependency
	IsDirectProducer bool     `json:"isDirectProducer"`
	Producers        []string `json:"producers"`
}

type odcProducerNode struct {
	odcDependency
	Producers []odcProducerNode `json:"producers"`
}

func (s *Sandbox) odcDependencyJSON(a *odcAsset, rev *odcRevision) odcDependency {
	return odcDependency{Key: a.Key, PortfolioKey: s.odc.meta.PortfolioKey, Revision: rev.Revision, Name: rev.Name,
		Type: a.AssetType, ModelDigest: rev.ModelDigest}
}

// odcDependencyQuery is what the producer endpoints share.
type odcDependencyQuery struct {
	now      time.Time
	deployed map[string]*odcDeployed // in the stage, by asset key, as loaded
	asset    *odcAsset
	revision *odcRevision
	stage    odcStage
	maxDepth int // 0 = unlimited
	typeOK   func(assetType string) bool
	desc     bool
}

// odcParseDependencyQuery reads the parameters, then the asset (and
// revision) and the stage, then what load reads, in one transaction.
func (s *Sandbox) odcParseDependencyQuery(w http.ResponseWriter, r *http.Request, withRevision bool,
	load func(ctx context.Context, tx *sql.Tx, d *odcDependencyQuery) error,
) (*odcDependencyQuery, bool) {
	q := r.URL.Query()
	d := &odcDependencyQuery{now: time.Now(), deployed: map[string]*odcDeployed{}, typeOK: func(string) bool { return true }}
	var err error
	if d.maxDepth, err = odcQueryInt(q, "maxDepth", 0, 0, 1<<31-1); err != nil {
		s.odcFail(w, r, err)
		return nil, false
	}
	switch f := q.Get("producerTypeFilter"); f {
	case "", "All":
	case "Deployable":
		d.typeOK = func(t string) bool { return t != AssetTypeLibrary }
	case "Libraries":
		d.typeOK = func(t string) bool { return t == AssetTypeLibrary }
	default:
		s.odcFail(w, r, invalidf("Unknown producerTypeFilter '%s': use Deployable, Libraries or All.", f))
		return nil, false
	}
	switch sort := q.Get("sort"); sort {
	case "", "name":
	case "-name":
		d.desc = true
	default:
		s.odcFail(w, r, invalidf("Unknown sort '%s': use name or -name.", sort))
		return nil, false
	}
	var revision int
	if withRevision {
		if revision, err = odcRevisionParam(r); err != nil {
			s.odcFail(w, r, err)
			return nil, false
		}
	}
	ok := s.odcRead(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		if withRevision {
			d.asset, d.revision, err = odcLoadRevision(ctx, tx, r.PathValue("assetKey"), revision)
		} else {
			d.asset, err = odcAssetByKey(ctx, tx, r.PathValue("assetKey"))
		}
		if err != nil {
			return err
		}
		if d.stage, err = odcStageOrDevelopment(ctx, tx, q.Get("environmentKey")); err != nil {
			return err
		}
		return load(ctx, tx, d)
	})
	return d, ok
}

// odcLoadProducers reads what is deployed in the stage of every producer
// reachable from the revision through deployed revisions, down to
// maxDepth: one query per level.
func odcLoadProducers(ctx context.Context, tx *sql.Tx, d *odcDependencyQuery) error {
	loaded := map[string]bool{}
	frontier := []*odcRevision{d.revision}
	for depth := 1; len(frontier) > 0 && (d.maxDepth == 0 || depth <= d.maxDepth); depth++ {
		var keys []string
		for _, rev := range frontier {
			for _, pk := range rev.Producers {
				if !loaded[pk] {
					loaded[pk] = true
					keys = append(keys, pk)
				}
			}
		}
		if len(keys) == 0 {
			break
		}
		found, err := odcDeployments(ctx, tx, odcDeployedFilter{stageKeys: []string{d.stage.Key}, assetKeys: keys}, d.now)
		if err != nil {
			return err
		}
		frontier = frontier[:0:0]
		for i := range found {
			d.deployed[found[i].Asset.Key] = &found[i]
			frontier = append(frontier, found[i].Revision)
		}
	}
	return nil
}

// deployedProducer resolves a producer key to the asset and the revision
// deployed in the query's stage; ok is false when it is not deployed there.
func (d *odcDependencyQuery) deployedProducer(key string) (*odcAsset, *odcRevision, bool) {
	dep, ok := d.deployed[key]
	if !ok {
		return nil, nil, false
	}
	return dep.Asset, dep.Revision, true
}

// odcFindDeployed finds the deployment of an asset in a list.
func odcFindDeployed(list []odcDeployed, key string) (*odcAsset, *odcRevision, bool) {
	i := slices.IndexFunc(list, func(d odcDeployed) bool { return d.Asset.Key == key })
	if i < 0 {
		return nil, nil, false
	}
	return list[i].Asset, list[i].Revision, true
}

func odcSortByName[T any](items []T, name func(T) string, desc bool) {
	slices.SortStableFunc(items, func(x, y T) int {
		c := strings.Compare(strings.ToLower(name(x)), strings.ToLower(name(y)))
		if desc {
			return -c
		}
		return c
	})
}

// odcListProducers lists every producer the revision depends on, directly
// or not, down to maxDepth. As documented, only producers deployed in the
// stage (default: Development) are returned, in the revision deployed
// there; the walk continues through their producers.
func (s *Sandbox) odcListProducers(w http.ResponseWriter, r *http.Request, _ string) {
	d, ok := s.odcParseDependencyQuery(w, r, true, odcLoadProducers)
	if !ok {
		return
	}
	type item struct {
		asset    *odcAsset
		revision *odcRevision
	}
	found := map[string]*odcProducerWithReferences{}
	var order []string
	frontier := []item{{d.asset, d.revision}}
	for depth := 1; len(frontier) > 0 && (d.maxDepth == 0 || depth <= d.maxDepth); depth++ {
		var next []item
		for _, it := range frontier {
			for _, pk := range it.revision.Producers {
				if _, seen := found[pk]; seen || pk == d.asset.Key {
					continue
				}
				pa, prev, deployed := d.deployedProducer(pk)
				if !deployed {
					continue
				}
				refs := slices.Clone(prev.Producers)
				if refs == nil {
					refs = []string{}
				}
				found[pk] = &odcProducerWithReferences{odcDependency: s.odcDependencyJSON(pa, prev), IsDirectProducer: depth == 1, Producers: refs}
				order = append(order, pk)
				next = append(next, item{pa, prev})
			}
		}
		frontier = next
	}
	var out []odcProducerWithReferences
	for _, k := range order {
		if p := found[k]; d.typeOK(p.Type) {
			out = append(out, *p)
		}
	}
	odcSortByName(out, func(p odcProducerWithReferences) string { return p.Name }, d.desc)
	odcWriteList(w, out)
}

// odcProducerGraph returns the same producers as a tree.
func (s *Sandbox) odcProducerGraph(w http.ResponseWriter, r *http.Request, _ string) {
	d, ok := s.odcParseDependencyQuery(w, r, true, odcLoadProducers)
	if !ok {
		return
	}
	var build func(rev *odcRevision, depth int, path []string) []odcProducerNode
	build = func(rev *odcRevision, depth int, path []string) []odcProducerNode {
		nodes := []odcProducerNode{}
		if d.maxDepth != 0 && depth > d.maxDepth {
			return nodes
		}
		for _, pk := range rev.Producers {
			pa, prev, deployed := d.deployedProducer(pk)
			if !deployed || slices.Contains(path, pk) {
				continue
			}
			node := odcProducerNode{odcDependency: s.odcDependencyJSON(pa, prev), Producers: build(prev, depth+1, append(slices.Clone(path), pk))}
			if d.typeOK(pa.AssetType) {
				nodes = append(nodes, node)
			} else {
				nodes = append(nodes, node.Producers...)
			}
		}
		odcSortByName(nodes, func(n odcProducerNode) string { return n.Name }, d.desc)
		return nodes
	}
	odcWriteList(w, build(d.revision, 1, []string{d.asset.Key}))
}

// odcListConsumers lists the assets deployed in the stage (default:
// Development) whose deployed revision consumes the asset directly.
func (s *Sandbox) odcListConsumers(w http.ResponseWriter, r *http.Request, _ string) {
	var consumers []odcDeployed
	d, ok := s.odcParseDependencyQuery(w, r, false, func(ctx context.Context, tx *sql.Tx, d *odcDependencyQuery) (err error) {
		consumers, err = odcDeployments(ctx, tx, odcDeployedFilter{stageKeys: []string{d.stage.Key}, consumes: d.asset.Key}, d.now)
		return err
	})
	if !ok {
		return
	}
	assets := make([]*odcAsset, len(consumers))
	for i, c := range consumers {
		assets[i] = c.Asset
	}
	sortODCAssets(assets)
	var out []odcDependency
	for _, a := range assets {
		_, rev, _ := odcFindDeployed(consumers, a.Key)
		out = append(out, s.odcDependencyJSON(a, rev))
	}
	odcSortByName(out, func(c odcDependency) string { return c.Name }, d.desc)
	odcWriteList(w, out)
}

// --- deployments: publish operations ---

type odcPublishOperation struct {
	Key              string  `json:"key"`
	Status           string  `json:"status"`
	StartedDateTime  string  `json:"startedDateTime"`
	FinishedDateTime string  `json:"finishedDateTime,omitempty"`
	DeployedBy       string  `json:"deployedBy"`
	AssetKey         string  `json:"assetKey"`
	Revision         int     `json:"revision"`
	BuildKey         *string `json:"buildKey"`
	PortfolioKey     string  `json:"portfolioKey"`
	Operation        string  `json:"operation"`
}

// odcPublishOpJSON shows an operation as of now: the build key once it
// finished successfully, the finish time once finished.
func (s *Sandbox) odcPublishOpJSON(op *odcPublishOp, now time.Time) odcPublishOperation {
	out := odcPublishOperation{Key: op.Key, Status: op.status(now), StartedDateTime: formatTime(op.StartedAt), DeployedBy: op.DeployedBy,
		AssetKey: op.AssetKey, Revision: op.Revision, PortfolioKey: s.odc.meta.PortfolioKey, Operation: odcOperationPublish}
	if out.Status != odcStatusRunning {
		out.FinishedDateTime = formatTime(op.FinishesAt)
	}
	if out.Status == odcStatusFinished {
		out.BuildKey = &op.BuildKey
	}
	return out
}

type odcPublishRequestBody struct {
	Operation      *string `json:"operation"`
	AssetKey       *string `json:"assetKey"`
	Revision       *int    `json:"revision"`
	EnvironmentKey *string `json:"environmentKey"`
}

// odcStartPublish starts publishing an asset revision to a stage (default:
// Development). It answers 201 at once with status Running; the operation
// finishes after the sandbox's publish duration.
func (s *Sandbox) odcStartPublish(w http.ResponseWriter, r *http.Request, caller string) {
	var body odcPublishRequestBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	if err == nil {
		err = jsonEnd(dec)
	}
	if err != nil {
		s.odcFail(w, r, invalidf(`Send a JSON object like {"operation": "Publish", "assetKey": "...", "revision": 1, "environmentKey": "..."}: %v.`, err))
		return
	}
	switch {
	case body.Operation != nil && *body.Operation != odcOperationPublish:
		s.odcFail(w, r, invalidf("Operation '%s' is not supported: use Publish.", *body.Operation))
		return
	case body.AssetKey == nil || *body.AssetKey == "":
		s.odcFail(w, r, invalidf("assetKey is required."))
		return
	case body.Revision == nil || *body.Revision < 1:
		s.odcFail(w, r, invalidf("revision is required and must be 1 or more."))
		return
	}
	req := odcPublishRequest{AssetKey: *body.AssetKey, Revision: *body.Revision}
	if body.EnvironmentKey != nil {
		req.EnvironmentKey = *body.EnvironmentKey
	}
	now := time.Now()
	op, err := s.store.odcPublish(r.Context(), req, caller, s.odc.publishDuration, now)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	w.Header().Set("Location", deploymentBase+"/publish-operations/"+op.Key)
	writeJSON(w, http.StatusCreated, s.odcPublishOpJSON(op, now))
}

// odcInt32PageInfo is the Int32NullablePageInfo of the deployments API.
type odcInt32PageInfo struct {
	Count          int  `json:"count"`
	Limit          int  `json:"limit"`
	Offset         int  `json:"offset"`
	NextPageOffset *int `json:"nextPageOffset"`
}

// odcListPublishOperations lists publish operations matching the filters,
// newest first unless sorted otherwise.
func (s *Sandbox) odcListPublishOperations(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	p, err := odcParsePaging(q, odcMaxLimit)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	f := odcPublishOpFilter{status: q.Get("status")}
	if f.status != "" && !slices.Contains([]string{odcStatusRunning, odcStatusFinished, odcStatusFinishedWithError}, f.status) {
		s.odcFail(w, r, invalidf("Unknown status '%s': use Running, Finished or FinishedWithError.", f.status))
		return
	}
	for name, dst := range map[string]*string{"assetKey": &f.assetKey, "environmentKey": &f.environmentKey} {
		if v := q.Get(name); v != "" {
			if *dst, err = parseKey(name, v); err != nil {
				s.odcFail(w, r, err)
				return
			}
		}
	}
	if f.revision, err = odcQueryInt(q, "revision", 0, 1, 1<<31-1); err != nil {
		s.odcFail(w, r, err)
		return
	}
	since, err := odcQueryTime(q, "createdDateSince")
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	until, err := odcQueryTime(q, "createdDateTo")
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	now := time.Now()
	ops, err := s.store.odcPublishOps(r.Context(), f, now)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	if portfolio := q.Get("portfolioKey"); portfolio != "" && !strings.EqualFold(portfolio, s.odc.meta.PortfolioKey) {
		ops = nil
	}
	ops = slices.DeleteFunc(ops, func(op *odcPublishOp) bool {
		return since != nil && op.StartedAt.Before(*since) || until != nil && op.StartedAt.After(*until)
	})
	switch sort := q.Get("sort"); sort {
	case "", "-CreatedAt":
	case "CreatedAt":
		slices.Reverse(ops)
	case "FinishedAt", "-FinishedAt":
		slices.SortStableFunc(ops, func(x, y *odcPublishOp) int { return x.FinishesAt.Compare(y.FinishesAt) })
		if sort == "-FinishedAt" {
			slices.Reverse(ops)
		}
	default:
		s.odcFail(w, r, invalidf("Unknown sort '%s': use CreatedAt or FinishedAt, with '-' for descending.", sort))
		return
	}
	out := make([]odcPublishOperation, len(ops))
	for i, op := range ops {
		out[i] = s.odcPublishOpJSON(op, now)
	}
	page, next := odcPageOf(out, p)
	writeJSON(w, http.StatusOK, odcPagedList[odcPublishOperation]{Results: page,
		Page: odcInt32PageInfo{Count: len(page), Limit: p.limit, Offset: p.offset, NextPageOffset: next}})
}

func (s *Sandbox) odcPublishOpByKey(w http.ResponseWriter, r *http.Request, now time.Time) (*odcPublishOp, bool) {
	key, err := parseKey("operationKey", r.PathValue("operationKey"))
	if err != nil {
		s.odcFail(w, r, err)
		return nil, false
	}
	ops, err := s.store.odcPublishOps(r.Context(), odcPublishOpFilter{key: key}, now)
	if err == nil && len(ops) == 0 {
		err = notFoundf("Publish operation with key '%s' was not found.", key)
	}
	if err != nil {
		s.odcFail(w, r, err)
		return nil, false
	}
	return ops[0], true
}

func (s *Sandbox) odcGetPublishOperation(w http.ResponseWriter, r *http.Request, _ string) {
	now := time.Now()
	if op, ok := s.odcPublishOpByKey(w, r, now); ok {
		writeJSON(w, http.StatusOK, s.odcPublishOpJSON(op, now))
	}
}

type odcTaskMessage struct {
	Timestamp      string            `json:"timestamp"`
	Type           string            `json:"type"`
	Severity       string            `json:"severity"`
	Message        string            `json:"message"`
	AdditionalInfo odcMessageDetails `json:"additionalInfo"`
}

type odcMessageDetails struct {
	StepID   string  `json:"stepId"`
	AssetKey *string `json:"assetKey"`
}

// odcStringPageInfo is the StringPageInfo of the messages endpoints, whose
// offsets are strings.
type odcStringPageInfo struct {
	Count          int     `json:"count"`
	Limit          int     `json:"limit"`
	Offset         *string `json:"offset"`
	NextPageOffset *string `json:"nextPageOffset"`
}

// odcListPublishMessages lists the messages an operation logged so far.
func (s *Sandbox) odcListPublishMessages(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	p, err := odcParsePaging(q, odcMaxLimit)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	now := time.Now()
	op, ok := s.odcPublishOpByKey(w, r, now)
	if !ok {
		return
	}
	msgs, err := s.store.odcPublishMessages(r.Context(), op.Key, now)
	if err != nil {
		s.odcFail(w, r, err)
		return
	}
	out := make([]odcTaskMessage, len(msgs))
	for i, m := range msgs {
		out[i] = odcTaskMessage{Timestamp: formatTime(m.At), Type: m.Type, Severity: m.Severity, Message: m.Message,
			AdditionalInfo: odcMessageDetails{StepID: m.StepID, AssetKey: odcOptional(m.AssetKey)}}
	}
	page, next := odcPageOf(out, p)
	info := odcStringPageInfo{Count: len(page), Limit: p.limit, Offset: odcStr(strconv.Itoa(p.offset))}
	if next != nil {
		info.NextPageOffset = odcStr(strconv.Itoa(*next))
	}
	writeJSON(w, http.StatusOK, odcPagedList[odcTaskMessage]{Results: page, Page: info})
}

// --- admin ---

type adminODCAssetResponse struct {
	AssetKey string `json:"assetKey"`
	Revision int    `json:"revision"`
}

// adminCreateODCAsset records a migrated asset, taking a MigratedAsset as
// JSON, as a code migration would.
func (s *Sandbox) adminCreateODCAsset(w http.ResponseWriter, r *http.Request) {
	var a MigratedAsset
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		writeAdminError(w, http.StatusBadRequest, `send a JSON body like {"key": "<guid>", "name": "Customer Core", "assetType": "LowCodeLibrary", "producers": [], "publishErrors": []}`)
		return
	}
	revision, err := s.seedODCAsset(r.Context(), a)
	if err != nil {
		s.writeStoreError(w, r, err, writeAdminError)
		return
	}
	key, _ := parseKey("key", a.Key)
	writeJSON(w, http.StatusCreated, adminODCAssetResponse{AssetKey: key, Revision: revision})
}
