package odc

import (
	"context"
	"database/sql"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// --- dependency management ---

// dependency is the AssetDependency family of the dependency management
// API; Producers differs by endpoint (keys or nested objects), IsDirect
// appears on the producers list only.
type dependency struct {
	Key          string  `json:"key"`
	PortfolioKey string  `json:"portfolioKey"`
	Revision     int     `json:"revision"`
	Name         string  `json:"name"`
	Description  *string `json:"description"`
	Type         string  `json:"type"`
	// SignatureDigest and CompatibilitySignatureDigest are over the
	// revision's public elements (elements.go).
	SignatureDigest              *string `json:"signatureDigest"`
	CompatibilitySignatureDigest *string `json:"compatibilitySignatureDigest"`
	ModelDigest                  string  `json:"modelDigest"`
}

type producerWithReferences struct {
	dependency
	IsDirectProducer bool     `json:"isDirectProducer"`
	Producers        []string `json:"producers"`
}

type producerNode struct {
	dependency
	Producers []producerNode `json:"producers"`
}

func (s *Service) dependencyJSON(a *Asset, rev *Revision) dependency {
	sig, compat := revisionDigests(a.Key, a.AssetType, rev.Name)
	return dependency{Key: a.Key, PortfolioKey: s.meta.PortfolioKey, Revision: rev.Revision, Name: rev.Name,
		Type: a.AssetType, SignatureDigest: sig, CompatibilitySignatureDigest: compat, ModelDigest: rev.ModelDigest}
}

// dependencyQuery is what the producer endpoints share.
type dependencyQuery struct {
	now      time.Time
	deployed map[string]*Deployed // in the stage, by asset key, as loaded
	asset    *Asset
	revision *Revision
	stage    Stage
	maxDepth int // 0 = unlimited
	typeOK   func(assetType string) bool
	desc     bool
}

// parseDependencyQuery reads the parameters, then the asset (and
// revision) and the stage, then what load reads, in one transaction.
func (s *Service) parseDependencyQuery(w http.ResponseWriter, r *http.Request, withRevision bool,
	load func(ctx context.Context, tx *sql.Tx, d *dependencyQuery) error,
) (*dependencyQuery, bool) {
	q := r.URL.Query()
	d := &dependencyQuery{now: time.Now(), deployed: map[string]*Deployed{}, typeOK: func(string) bool { return true }}
	var err error
	if d.maxDepth, err = queryInt(q, "maxDepth", 0, 0, 1<<31-1); err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	switch f := q.Get("producerTypeFilter"); f {
	case "", "All":
	case "Deployable":
		d.typeOK = func(t string) bool { return t != AssetTypeLibrary }
	case "Libraries":
		d.typeOK = func(t string) bool { return t == AssetTypeLibrary }
	default:
		s.fail(w, r, httpx.Invalidf("Unknown producerTypeFilter '%s': use Deployable, Libraries or All.", f))
		return nil, false
	}
	switch sort := q.Get("sort"); sort {
	case "", "name":
	case "-name":
		d.desc = true
	default:
		s.fail(w, r, httpx.Invalidf("Unknown sort '%s': use name or -name.", sort))
		return nil, false
	}
	var revision int
	if withRevision {
		if revision, err = revisionParam(r); err != nil {
			s.fail(w, r, err)
			return nil, false
		}
	}
	ok := s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		if withRevision {
			d.asset, d.revision, err = loadRevision(ctx, tx, r.PathValue("assetKey"), revision)
		} else {
			d.asset, err = assetByKey(ctx, tx, r.PathValue("assetKey"))
		}
		if err != nil {
			return err
		}
		if d.stage, err = stageOrDevelopment(ctx, tx, q.Get("environmentKey")); err != nil {
			return err
		}
		return load(ctx, tx, d)
	})
	return d, ok
}

// loadProducers reads what is deployed in the stage of every producer
// reachable from the revision through deployed revisions, down to
// maxDepth: one query per level.
func loadProducers(ctx context.Context, tx *sql.Tx, d *dependencyQuery) error {
	loaded := map[string]bool{}
	frontier := []*Revision{d.revision}
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
		found, err := loadDeployments(ctx, tx, deployedFilter{stageKeys: []string{d.stage.Key}, assetKeys: keys}, d.now)
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
func (d *dependencyQuery) deployedProducer(key string) (*Asset, *Revision, bool) {
	dep, ok := d.deployed[key]
	if !ok {
		return nil, nil, false
	}
	return dep.Asset, dep.Revision, true
}

func sortByName[T any](items []T, name func(T) string, desc bool) {
	slices.SortStableFunc(items, func(x, y T) int {
		c := strings.Compare(strings.ToLower(name(x)), strings.ToLower(name(y)))
		if desc {
			return -c
		}
		return c
	})
}

// listProducers lists every producer the revision depends on, directly
// or not, down to maxDepth. As documented, only producers deployed in the
// stage (default: Development) are returned, in the revision deployed
// there; the walk continues through their producers.
func (s *Service) listProducers(w http.ResponseWriter, r *http.Request, _ string) {
	d, ok := s.parseDependencyQuery(w, r, true, loadProducers)
	if !ok {
		return
	}
	type item struct {
		asset    *Asset
		revision *Revision
	}
	found := map[string]*producerWithReferences{}
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
				found[pk] = &producerWithReferences{dependency: s.dependencyJSON(pa, prev), IsDirectProducer: depth == 1, Producers: refs}
				order = append(order, pk)
				next = append(next, item{pa, prev})
			}
		}
		frontier = next
	}
	var out []producerWithReferences
	for _, k := range order {
		if p := found[k]; d.typeOK(p.Type) {
			out = append(out, *p)
		}
	}
	sortByName(out, func(p producerWithReferences) string { return p.Name }, d.desc)
	writeList(w, out)
}

// producerGraph returns the same producers as a tree.
func (s *Service) producerGraph(w http.ResponseWriter, r *http.Request, _ string) {
	d, ok := s.parseDependencyQuery(w, r, true, loadProducers)
	if !ok {
		return
	}
	var build func(rev *Revision, depth int, path []string) []producerNode
	build = func(rev *Revision, depth int, path []string) []producerNode {
		nodes := []producerNode{}
		if d.maxDepth != 0 && depth > d.maxDepth {
			return nodes
		}
		for _, pk := range rev.Producers {
			pa, prev, deployed := d.deployedProducer(pk)
			if !deployed || slices.Contains(path, pk) {
				continue
			}
			node := producerNode{dependency: s.dependencyJSON(pa, prev), Producers: build(prev, depth+1, append(slices.Clone(path), pk))}
			if d.typeOK(pa.AssetType) {
				nodes = append(nodes, node)
			} else {
				nodes = append(nodes, node.Producers...)
			}
		}
		sortByName(nodes, func(n producerNode) string { return n.Name }, d.desc)
		return nodes
	}
	writeList(w, build(d.revision, 1, []string{d.asset.Key}))
}

// listConsumers lists the assets deployed in the stage (default:
// Development) whose deployed revision consumes the asset directly.
func (s *Service) listConsumers(w http.ResponseWriter, r *http.Request, _ string) {
	var consumers []Deployed
	d, ok := s.parseDependencyQuery(w, r, false, func(ctx context.Context, tx *sql.Tx, d *dependencyQuery) (err error) {
		consumers, err = loadDeployments(ctx, tx, deployedFilter{stageKeys: []string{d.stage.Key}, consumes: d.asset.Key}, d.now)
		return err
	})
	if !ok {
		return
	}
	assets := make([]*Asset, len(consumers))
	deployed := map[string]*Revision{}
	for i, c := range consumers {
		assets[i], deployed[c.Asset.Key] = c.Asset, c.Revision
	}
	sortAssets(assets)
	var out []dependency
	for _, a := range assets {
		out = append(out, s.dependencyJSON(a, deployed[a.Key]))
	}
	sortByName(out, func(c dependency) string { return c.Name }, d.desc)
	writeList(w, out)
}
