package provider

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The producer graph of a set of ODC assets as text that renders as a
// picture: a Mermaid flowchart (GitHub and GitLab draw it in a pull
// request comment or a Markdown file) and Graphviz DOT. Both group the
// assets by publish wave and draw an arrow from each producer to its
// consumers, so the arrows point the way the publishing goes. Shared by
// data.outsystems_migration_preview and data.outsystems_odc_assets.

// graphAsset is an asset of a producer graph: its name, its type as the
// provider names it (library, web_app, mobile_app), its publish wave and
// order, and the names of its producers in the graph.
type graphAsset struct {
	name, assetType string
	wave, order     int
	producers       []string
}

// byOrder returns the assets in publish order, and the node id of each
// name (n1, n2, … in that order).
func byOrder(assets []graphAsset) ([]graphAsset, map[string]string) {
	out := slices.Clone(assets)
	slices.SortStableFunc(out, func(a, b graphAsset) int { return a.order - b.order })
	ids := make(map[string]string, len(out))
	for i, a := range out {
		ids[a.name] = fmt.Sprintf("n%d", i+1)
	}
	return out, ids
}

// graphEdges lists producer→consumer pairs of node ids, by consumer in
// publish order and then producer in publish order; producers outside the
// graph are left out.
func graphEdges(ordered []graphAsset, ids map[string]string) [][2]string {
	var edges [][2]string
	for _, a := range ordered {
		var from []string
		for _, p := range a.producers {
			if id, ok := ids[p]; ok && id != ids[a.name] && !slices.Contains(from, id) {
				from = append(from, id)
			}
		}
		slices.SortFunc(from, func(x, y string) int { return nodeNumber(x) - nodeNumber(y) })
		for _, id := range from {
			edges = append(edges, [2]string{id, ids[a.name]})
		}
	}
	return edges
}

// nodeNumber is the publish position of a node id ("n3" → 3).
func nodeNumber(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "n")) // ids are made by byOrder
	return n
}

// mermaidText escapes a label for a quoted Mermaid label: Mermaid's entity
// codes for the characters that would end or break it.
func mermaidText(s string) string {
	return strings.NewReplacer("#", "#35;", `"`, "#quot;", "<", "#lt;", ">", "#gt;", "\n", " ", "\r", " ").Replace(s)
}

// renderMermaid writes the graph as a Mermaid flowchart, left to right:
// one subgraph per wave ("Wave 1", …) holding its assets in publish
// order, then the producer→consumer arrows.
func renderMermaid(assets []graphAsset) string {
	ordered, ids := byOrder(assets)
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for i := 0; i < len(ordered); {
		wave := ordered[i].wave
		fmt.Fprintf(&b, "  subgraph wave%d[\"Wave %d\"]\n", wave, wave)
		for ; i < len(ordered) && ordered[i].wave == wave; i++ {
			a := ordered[i]
			fmt.Fprintf(&b, "    %s[\"%d. %s (%s)\"]\n", ids[a.name], a.order, mermaidText(a.name), mermaidText(a.assetType))
		}
		b.WriteString("  end\n")
	}
	for _, e := range graphEdges(ordered, ids) {
		fmt.Fprintf(&b, "  %s --> %s\n", e[0], e[1])
	}
	return b.String()
}

// dotText quotes a DOT string.
func dotText(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "").Replace(s) + `"`
}

// renderDOT writes the graph in Graphviz DOT: one cluster per wave, a box
// per app and a box with a folded corner (note) per library.
func renderDOT(assets []graphAsset) string {
	ordered, ids := byOrder(assets)
	var b strings.Builder
	b.WriteString("digraph producers {\n  rankdir=LR;\n  node [shape=box];\n")
	for i := 0; i < len(ordered); {
		wave := ordered[i].wave
		fmt.Fprintf(&b, "  subgraph cluster_wave%d {\n    label=%s;\n", wave, dotText(fmt.Sprintf("Wave %d", wave)))
		for ; i < len(ordered) && ordered[i].wave == wave; i++ {
			a := ordered[i]
			shape := "box"
			if a.assetType == "library" {
				shape = "note"
			}
			fmt.Fprintf(&b, "    %s [label=%s, shape=%s];\n", ids[a.name], dotText(fmt.Sprintf("%d. %s\n%s", a.order, a.name, a.assetType)), shape)
		}
		b.WriteString("  }\n")
	}
	for _, e := range graphEdges(ordered, ids) {
		fmt.Fprintf(&b, "  %s -> %s;\n", e[0], e[1])
	}
	b.WriteString("}\n")
	return b.String()
}
