package provider

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// parsedGraph is a producer graph read back from its text: the waves in
// order with their nodes (id → label), and the edges.
type parsedGraph struct {
	waves  []parsedWave
	labels map[string]string // node id -> label
	waveOf map[string]int
	edges  [][2]string
}

type parsedWave struct {
	number int
	nodes  []string
}

var (
	mmSubgraph = regexp.MustCompile(`^  subgraph wave([1-9][0-9]*)\["Wave ([1-9][0-9]*)"\]$`)
	mmNode     = regexp.MustCompile(`^    (n[1-9][0-9]*)\["([^"]*)"\]$`)
	mmEdge     = regexp.MustCompile(`^  (n[1-9][0-9]*) --> (n[1-9][0-9]*)$`)
	mmEntity   = regexp.MustCompile(`#([a-z]+|[0-9]+);`)
)

// parseMermaid reads the subset of Mermaid renderMermaid writes, strictly:
// "flowchart LR", then the wave subgraphs (numbered 1, 2, … in order, each
// with at least one node, each node once), then the edges between declared
// nodes. Labels may hold only the entity codes Mermaid knows for the
// characters escaped.
func parseMermaid(text string) (*parsedGraph, error) {
	if !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("no final newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if lines[0] != "flowchart LR" {
		return nil, fmt.Errorf("line 1 %q: want flowchart LR", lines[0])
	}
	g := &parsedGraph{labels: map[string]string{}, waveOf: map[string]int{}}
	in := false
	for i, l := range lines[1:] {
		at := fmt.Sprintf("line %d %q", i+2, l)
		switch {
		case mmSubgraph.MatchString(l):
			m := mmSubgraph.FindStringSubmatch(l)
			if in || len(g.edges) > 0 || m[1] != m[2] {
				return nil, fmt.Errorf("%s: subgraph inside another, after edges, or id and title disagree", at)
			}
			n, _ := strconv.Atoi(m[1])
			if n != len(g.waves)+1 {
				return nil, fmt.Errorf("%s: wave %d after %d waves", at, n, len(g.waves))
			}
			g.waves = append(g.waves, parsedWave{number: n})
			in = true
		case l == "  end":
			if !in || len(g.waves[len(g.waves)-1].nodes) == 0 {
				return nil, fmt.Errorf("%s: end without an open, non-empty subgraph", at)
			}
			in = false
		case mmNode.MatchString(l):
			m := mmNode.FindStringSubmatch(l)
			if !in {
				return nil, fmt.Errorf("%s: node outside a wave", at)
			}
			if _, dup := g.labels[m[1]]; dup {
				return nil, fmt.Errorf("%s: node %s declared twice", at, m[1])
			}
			label, err := mermaidDecode(m[2])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			w := &g.waves[len(g.waves)-1]
			w.nodes = append(w.nodes, m[1])
			g.labels[m[1]], g.waveOf[m[1]] = label, w.number
		case mmEdge.MatchString(l):
			m := mmEdge.FindStringSubmatch(l)
			if in {
				return nil, fmt.Errorf("%s: edge inside a subgraph", at)
			}
			for _, id := range m[1:3] {
				if _, ok := g.labels[id]; !ok {
					return nil, fmt.Errorf("%s: edge to undeclared node %s", at, id)
				}
			}
			g.edges = append(g.edges, [2]string{m[1], m[2]})
		default:
			return nil, fmt.Errorf("%s: not in the subset", at)
		}
	}
	if in {
		return nil, fmt.Errorf("subgraph not closed")
	}
	return g, nil
}

func mermaidDecode(s string) (string, error) {
	var err error
	out := mmEntity.ReplaceAllStringFunc(s, func(e string) string {
		switch e {
		case "#quot;":
			return `"`
		case "#lt;":
			return "<"
		case "#gt;":
			return ">"
		case "#35;":
			return "#"
		}
		err = fmt.Errorf("unknown entity %s", e)
		return e
	})
	if rest := mmEntity.ReplaceAllString(s, ""); err == nil && strings.ContainsAny(rest, "#\"<>\n") {
		err = fmt.Errorf("label %q holds an unescaped character", s)
	}
	return out, err
}

var (
	dotCluster = regexp.MustCompile(`^  subgraph cluster_wave([1-9][0-9]*) \{$`)
	dotLabel   = regexp.MustCompile(`^    label="Wave ([1-9][0-9]*)";$`)
	dotNode    = regexp.MustCompile(`^    (n[1-9][0-9]*) \[label="((?:[^"\\]|\\.)*)", shape=(box|note)\];$`)
	dotEdge    = regexp.MustCompile(`^  (n[1-9][0-9]*) -> (n[1-9][0-9]*);$`)
)

// parseDOT reads the subset of DOT renderDOT writes, as strictly.
func parseDOT(text string) (*parsedGraph, map[string]string, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	head := []string{"digraph producers {", "  rankdir=LR;", "  node [shape=box];"}
	if !strings.HasSuffix(text, "}\n") || len(lines) < 4 || !slices.Equal(lines[:3], head) {
		return nil, nil, fmt.Errorf("not a digraph producers {...} with the header %v", head)
	}
	g := &parsedGraph{labels: map[string]string{}, waveOf: map[string]int{}}
	shapes := map[string]string{}
	in, labelled := false, false
	for i, l := range lines[3 : len(lines)-1] {
		at := fmt.Sprintf("line %d %q", i+4, l)
		switch {
		case dotCluster.MatchString(l):
			n, _ := strconv.Atoi(dotCluster.FindStringSubmatch(l)[1])
			if in || len(g.edges) > 0 || n != len(g.waves)+1 {
				return nil, nil, fmt.Errorf("%s: cluster out of place", at)
			}
			g.waves = append(g.waves, parsedWave{number: n})
			in, labelled = true, false
		case dotLabel.MatchString(l):
			if n, _ := strconv.Atoi(dotLabel.FindStringSubmatch(l)[1]); !in || labelled || n != len(g.waves) {
				return nil, nil, fmt.Errorf("%s: label out of place", at)
			}
			labelled = true
		case l == "  }":
			if !in || !labelled || len(g.waves[len(g.waves)-1].nodes) == 0 {
				return nil, nil, fmt.Errorf("%s: closing an empty or unlabelled cluster", at)
			}
			in = false
		case dotNode.MatchString(l):
			m := dotNode.FindStringSubmatch(l)
			if _, dup := g.labels[m[1]]; !in || !labelled || dup {
				return nil, nil, fmt.Errorf("%s: node out of place or twice", at)
			}
			label, err := dotDecode(m[2])
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", at, err)
			}
			w := &g.waves[len(g.waves)-1]
			w.nodes = append(w.nodes, m[1])
			g.labels[m[1]], g.waveOf[m[1]], shapes[m[1]] = label, w.number, m[3]
		case dotEdge.MatchString(l):
			m := dotEdge.FindStringSubmatch(l)
			_, ok1 := g.labels[m[1]]
			_, ok2 := g.labels[m[2]]
			if in || !ok1 || !ok2 {
				return nil, nil, fmt.Errorf("%s: edge out of place or to an undeclared node", at)
			}
			g.edges = append(g.edges, [2]string{m[1], m[2]})
		default:
			return nil, nil, fmt.Errorf("%s: not in the subset", at)
		}
	}
	if in {
		return nil, nil, fmt.Errorf("cluster not closed")
	}
	return g, shapes, nil
}

func dotDecode(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '\\', '"':
			b.WriteByte(s[i])
		case 'n':
			b.WriteByte('\n')
		default:
			return "", fmt.Errorf("unknown escape \\%c", s[i])
		}
	}
	return b.String(), nil
}

// checkGraph checks a parsed graph against the assets drawn: every asset
// once, in its wave, in publish order, and exactly the producer edges
// between assets of the graph, each from a lower wave to a higher one.
func checkGraph(t *testing.T, kind string, g *parsedGraph, assets []graphAsset, label func(graphAsset) string) {
	t.Helper()
	ordered := slices.Clone(assets)
	slices.SortFunc(ordered, func(a, b graphAsset) int { return a.order - b.order })
	idOf := map[string]string{}
	var seen []graphAsset
	for _, w := range g.waves {
		for _, id := range w.nodes {
			i := slices.IndexFunc(ordered, func(a graphAsset) bool { return label(a) == g.labels[id] })
			if i < 0 {
				t.Fatalf("%s: node %s %q is no asset", kind, id, g.labels[id])
			}
			if ordered[i].wave != w.number {
				t.Errorf("%s: %s in wave %d, want %d", kind, ordered[i].name, w.number, ordered[i].wave)
			}
			idOf[ordered[i].name] = id
			seen = append(seen, ordered[i])
		}
	}
	if len(seen) != len(ordered) || !slices.EqualFunc(seen, ordered, func(a, b graphAsset) bool { return a.name == b.name }) {
		t.Errorf("%s: nodes %v, want every asset once in publish order", kind, seen)
	}
	var want [][2]string
	for _, a := range ordered {
		for _, p := range a.producers {
			if id, ok := idOf[p]; ok && !slices.Contains(want, [2]string{id, idOf[a.name]}) {
				want = append(want, [2]string{id, idOf[a.name]})
			}
		}
	}
	sortEdges := func(e [][2]string) [][2]string {
		e = slices.Clone(e)
		slices.SortFunc(e, func(a, b [2]string) int { return strings.Compare(a[0]+" "+a[1], b[0]+" "+b[1]) })
		return e
	}
	if !slices.Equal(sortEdges(g.edges), sortEdges(want)) {
		t.Errorf("%s: edges %v, want %v", kind, g.edges, want)
	}
	for _, e := range g.edges {
		if g.waveOf[e[0]] >= g.waveOf[e[1]] {
			t.Errorf("%s: edge %v goes from wave %d to wave %d", kind, e, g.waveOf[e[0]], g.waveOf[e[1]])
		}
	}
}

func TestProducerGraphRendering(t *testing.T) {
	assets := []graphAsset{
		{name: "Customer Portal", assetType: "web_app", wave: 3, order: 5, producers: []string{"Customer Core", "Policy Core", "Outside"}},
		{name: `Acme "Theme" #1 <beta>`, assetType: "library", wave: 1, order: 1},
		{name: "Common Utils", assetType: "library", wave: 1, order: 2},
		{name: "Customer Core", assetType: "library", wave: 2, order: 3, producers: []string{"Common Utils"}},
		{name: "Policy Core", assetType: "library", wave: 2, order: 4, producers: []string{"Common Utils", "Common Utils"}},
		{name: "Agent Mobile", assetType: "mobile_app", wave: 3, order: 6, producers: []string{`Acme "Theme" #1 <beta>`, "Customer Core"}},
	}
	mermaid := renderMermaid(assets)
	g, err := parseMermaid(mermaid)
	if err != nil {
		t.Fatalf("Mermaid does not parse: %v\n%s", err, mermaid)
	}
	checkGraph(t, "mermaid", g, assets, func(a graphAsset) string { return fmt.Sprintf("%d. %s (%s)", a.order, a.name, a.assetType) })
	if len(g.waves) != 3 || len(g.edges) != 6 {
		t.Errorf("mermaid: %d waves, %d edges; want 3 and 6 (the outside producer and the repeated one left out)\n%s", len(g.waves), len(g.edges), mermaid)
	}

	dot := renderDOT(assets)
	dg, shapes, err := parseDOT(dot)
	if err != nil {
		t.Fatalf("DOT does not parse: %v\n%s", err, dot)
	}
	checkGraph(t, "dot", dg, assets, func(a graphAsset) string { return fmt.Sprintf("%d. %s\n%s", a.order, a.name, a.assetType) })
	if shapes["n1"] != "note" || shapes["n5"] != "box" {
		t.Errorf("dot shapes %v: libraries are notes, apps boxes", shapes)
	}

	// The parsers refuse what is not the subset.
	for name, bad := range map[string]string{
		"no header":          "graph TD\n",
		"raw quote":          "flowchart LR\n  subgraph wave1[\"Wave 1\"]\n    n1[\"a\"b\"]\n  end\n",
		"unknown entity":     "flowchart LR\n  subgraph wave1[\"Wave 1\"]\n    n1[\"a#amp;\"]\n  end\n",
		"wave 2 first":       "flowchart LR\n  subgraph wave2[\"Wave 2\"]\n    n1[\"a\"]\n  end\n",
		"undeclared edge":    "flowchart LR\n  subgraph wave1[\"Wave 1\"]\n    n1[\"a\"]\n  end\n  n1 --> n2\n",
		"node twice":         "flowchart LR\n  subgraph wave1[\"Wave 1\"]\n    n1[\"a\"]\n    n1[\"b\"]\n  end\n",
		"unclosed":           "flowchart LR\n  subgraph wave1[\"Wave 1\"]\n    n1[\"a\"]\n",
		"node outside waves": "flowchart LR\n    n1[\"a\"]\n",
	} {
		if _, err := parseMermaid(bad); err == nil {
			t.Errorf("parseMermaid accepted %s", name)
		}
	}
	if _, _, err := parseDOT(strings.Replace(dot, `\"Theme\"`, `"Theme"`, 1)); err == nil {
		t.Error("parseDOT accepted an unescaped quote")
	}
	if renderMermaid(nil) != "flowchart LR\n" {
		t.Errorf("empty graph: %q", renderMermaid(nil))
	}
	if _, err := parseMermaid(renderMermaid(nil)); err != nil {
		t.Errorf("empty graph does not parse: %v", err)
	}
}
