package odc

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// --- portfolio: environments (stages) ---

type environment struct {
	Key           string  `json:"key"`
	Name          string  `json:"name"`
	BuiltinDomain string  `json:"builtinDomain"`
	DefaultDomain string  `json:"defaultDomain"`
	Purpose       string  `json:"purpose"`
	Order         int     `json:"order"`
	Region        *string `json:"region"`
	Hosting       string  `json:"hosting"`
	// Status is the SelfHostedStateKind of a self-hosted stage; null for
	// the OutSystems cloud stages the sandbox has.
	Status       *string `json:"status"`
	PortfolioKey string  `json:"portfolioKey"`
}

// stageDomain is the domain the apps of a stage are served on.
func (s *Service) stageDomain(st Stage) string {
	return fmt.Sprintf("%s-%s.outsystems.app", slug(s.meta.Organization), slug(st.Name))
}

func (s *Service) listEnvironments(w http.ResponseWriter, r *http.Request, _ string) {
	var stages []Stage
	if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		stages, err = loadStages(ctx, tx)
		return err
	}) {
		return
	}
	portfolio := r.URL.Query().Get("portfolioKey")
	var out []environment
	for _, st := range stages {
		if portfolio != "" && !strings.EqualFold(portfolio, s.meta.PortfolioKey) {
			continue
		}
		domain := s.stageDomain(st)
		out = append(out, environment{Key: st.Key, Name: st.Name, BuiltinDomain: domain, DefaultDomain: domain,
			Purpose: st.Purpose, Order: st.Order, Hosting: "oscloud", PortfolioKey: s.meta.PortfolioKey})
	}
	writeList(w, out)
}

// --- portfolio: deployed assets ---

type deployedAsset struct {
	Type        string       `json:"type"`
	Key         string       `json:"key"`
	IsBuiltIn   bool         `json:"isBuiltIn"`
	Deployments []deployment `json:"deployments"`
}

type deployment struct {
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

// listDeployedAssets lists the apps deployed in each stage. Libraries
// are not deployed to stages in ODC (apps bundle them); they are listed by
// /libraries.
func (s *Service) listDeployedAssets(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	p, err := parsePaging(q, MaxLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Keys are canonical GUIDs: matching them lower-cased is matching
	// them case-insensitively.
	f := deployedFilter{libraries: boolPtr(false)}
	f.stageKeys, f.assetKeys = lowered(queryList(q, "environmentKey")), lowered(queryList(q, "key"))
	types, nameContains, portfolio := queryList(q, "type"), q.Get("nameContains"), q.Get("portfolioKey")
	var stages []Stage
	var deployed []Deployed
	if portfolio == "" || strings.EqualFold(portfolio, s.meta.PortfolioKey) {
		if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
			if stages, err = loadStages(ctx, tx); err != nil {
				return err
			}
			deployed, err = loadDeployments(ctx, tx, f, time.Now())
			return err
		}) {
			return
		}
	}
	var assets []*Asset
	byAsset := map[string][]Deployed{} // in stage order
	for _, d := range deployed {
		if _, seen := byAsset[d.Asset.Key]; !seen {
			assets = append(assets, d.Asset)
		}
		byAsset[d.Asset.Key] = append(byAsset[d.Asset.Key], d)
	}
	sortAssets(assets)
	var out []deployedAsset
	for _, a := range assets {
		if len(types) > 0 && !slices.Contains(types, a.AssetType) {
			continue
		}
		var deployments []deployment
		for _, d := range byAsset[a.Key] {
			op, rev := d.Op, d.Revision
			st := stages[slices.IndexFunc(stages, func(st Stage) bool { return st.Key == op.EnvironmentKey })]
			if nameContains != "" && !containsFold(rev.Name, nameContains) {
				continue
			}
			deployments = append(deployments, deployment{
				EnvironmentKey: st.Key, Name: rev.Name, Revision: rev.Revision, BuildKey: op.BuildKey, DeploymentKey: op.Key,
				DeploymentDateTime: sqldb.FormatTime(op.FinishesAt), DeploymentUserID: op.DeployedBy,
				URL: "https://" + s.stageDomain(st) + "/" + strings.ReplaceAll(rev.Name, " ", ""),
				Tag: rev.Tag, TaggingUserKey: rev.TaggedBy, TaggingDateTime: timeOf(rev.TaggedAt), PortfolioKey: s.meta.PortfolioKey,
			})
		}
		if len(deployments) == 0 {
			continue
		}
		slices.SortStableFunc(deployments, func(x, y deployment) int { return strings.Compare(y.DeploymentDateTime, x.DeploymentDateTime) })
		out = append(out, deployedAsset{Type: a.AssetType, Key: a.Key, Deployments: deployments})
	}
	writePaged(w, out, p)
}

// --- portfolio: libraries ---

type library struct {
	Key          string            `json:"key"`
	Type         string            `json:"type"`
	IsBuiltIn    bool              `json:"isBuiltIn"`
	PortfolioKey string            `json:"portfolioKey"`
	Revisions    []libraryRevision `json:"revisions"`
}

type libraryRevision struct {
	Revision        int     `json:"revision"`
	Name            string  `json:"name"`
	Description     *string `json:"description"`
	IconURL         *string `json:"iconUrl"`
	PublishDateTime string  `json:"publishDateTime"`
	PublishUserKey  *string `json:"publishUserKey"`
	Tag             *string `json:"tag"`
	TaggingUserKey  *string `json:"taggingUserKey"`
	TaggingDateTime *string `json:"taggingDateTime"`
	IsLatest        bool    `json:"isLatest"`
}

// listLibraries lists libraries with the revisions asked for: the
// latest (default), the highest tagged, or the latest and every tagged one.
func (s *Service) listLibraries(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	p, err := parsePaging(q, MaxLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	which := strings.ToLower(cmp.Or(q.Get("revisions"), "latest"))
	if !slices.Contains([]string{"latest", "highesttag", "all"}, which) {
		s.fail(w, r, httpx.Invalidf("Query parameter 'revisions' must be Latest, HighestTag or All, not '%s'.", q.Get("revisions")))
		return
	}
	f := assetFilter{keys: lowered(queryList(q, "key")), types: queryList(q, "type"), libraries: boolPtr(true)}
	nameContains, portfolio := q.Get("nameContains"), q.Get("portfolioKey")
	var page []*Asset
	var next *int
	var total int
	tagged := map[string][]*Revision{}
	var published map[RevisionRef]*PublishOperation
	if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) error {
		libs, err := loadAssets(ctx, tx, f)
		if err != nil {
			return err
		}
		libs = slices.DeleteFunc(libs, func(a *Asset) bool {
			return nameContains != "" && !containsFold(a.latest().Name, nameContains) ||
				portfolio != "" && !strings.EqualFold(portfolio, s.meta.PortfolioKey)
		})
		total = len(libs)
		page, next = pageOf(libs, p)
		if len(page) == 0 {
			return nil
		}
		// Only the page's libraries: their tagged revisions and when each
		// revision shown was first published.
		var refs []RevisionRef
		for _, a := range page {
			refs = append(refs, RevisionRef{a.Key, a.latest().Revision})
		}
		if which != "latest" {
			keys := make([]string, len(page))
			for i, a := range page {
				keys[i] = a.Key
			}
			in, args := inList(keys)
			revs, err := queryRevisions(ctx, tx, "r.tag IS NOT NULL AND r.asset_key IN ("+in+")", args...)
			if err != nil {
				return err
			}
			for _, rev := range revs {
				tagged[rev.AssetKey] = append(tagged[rev.AssetKey], rev)
				refs = append(refs, RevisionRef{rev.AssetKey, rev.Revision})
			}
		}
		published, err = firstPublished(ctx, tx, refs, time.Now())
		return err
	}) {
		return
	}
	out := make([]library, 0, len(page))
	for _, a := range page {
		var revs []*Revision
		switch which {
		case "latest":
			revs = []*Revision{a.latest()}
		case "highesttag":
			var h *Revision
			for _, rev := range tagged[a.Key] {
				if h == nil || compareTags(*rev.Tag, *h.Tag) > 0 {
					h = rev
				}
			}
			if h != nil {
				revs = []*Revision{h}
			}
		case "all":
			revs = tagged[a.Key]
			if a.latest().Tag == nil {
				revs = append(revs, a.latest())
			}
		}
		lib := library{Key: a.Key, Type: a.AssetType, PortfolioKey: s.meta.PortfolioKey, Revisions: []libraryRevision{}}
		for _, rev := range revs {
			isLatest := rev.Revision == a.latest().Revision
			lr := libraryRevision{Revision: rev.Revision, Name: rev.Name, Tag: rev.Tag, TaggingUserKey: rev.TaggedBy,
				TaggingDateTime: timeOf(rev.TaggedAt), IsLatest: isLatest, PublishDateTime: unsetDateTime}
			if op, ok := published[RevisionRef{a.Key, rev.Revision}]; ok {
				lr.PublishDateTime, lr.PublishUserKey = sqldb.FormatTime(op.FinishesAt), &op.DeployedBy
			}
			lib.Revisions = append(lib.Revisions, lr)
		}
		out = append(out, lib)
	}
	httpx.WriteJSON(w, http.StatusOK, pagedList[library]{Results: out, Page: totalsPage(len(out), total, p, next)})
}
