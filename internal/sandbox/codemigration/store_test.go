package codemigration

import (
	"strings"
	"testing"
)

func TestPublishPlan(t *testing.T) {
	item := func(name string, producers ...string) *itemRow {
		return &itemRow{mappingKey: "k-" + name, name: name, producerMappingKeys: producers}
	}
	// d consumes b and c, b consumes a; c and e are free; b and f consume
	// each other (a cycle), x is outside the migration.
	a, b, c, d := item("a"), item("B", "k-a", "k-f"), item("c", "k-x"), item("d", "k-B", "k-c")
	e, f := item("e"), item("f", "k-B")
	items := []*itemRow{d, f, e, c, b, a}
	planPublishOrder(items)
	want := map[*itemRow][2]int{a: {1, 1}, c: {1, 2}, e: {1, 3}, b: {2, 4}, d: {3, 5}, f: {3, 6}}
	for it, w := range want {
		if it.wave != w[0] || it.order != w[1] {
			t.Errorf("%s: wave %d order %d, want %v", it.name, it.wave, it.order, w)
		}
	}
	if len(b.errors) != 1 || b.errors[0].Code != CodeDependencyNotConverted || !strings.Contains(b.errors[0].Message, "'f'") {
		t.Errorf("the cycle is not broken at B: %+v", b.errors)
	}
	for _, it := range []*itemRow{a, c, d, e, f} {
		if len(it.errors) != 0 {
			t.Errorf("%s: errors %+v", it.name, it.errors)
		}
	}
}
