package migrationkit

import (
	"cmp"
	"slices"
	"strings"
)

// Asset is an asset of a code migration, for PlanPublishOrder: its
// mapping's key and name, and the keys of the mappings it consumes.
// Producers outside the migration are ignored.
type Asset struct {
	Key, Name string
	Producers []string
}

// Placement is where an asset is published: its wave (1 for an asset with
// no producer in the migration, else one more than the highest wave of its
// producers there) and its position (from 1) in the producers-first order,
// by wave and then by name. Dropped lists, in the asset's order of
// producers, the producers whose references could not be converted because
// they formed a cycle with the asset.
type Placement struct {
	Wave, Order int
	Dropped     []string
}

// PlanPublishOrder places each asset (the result is in the order of
// assets). ODC assets cannot depend on each other in a cycle; a cycle
// between mappings is broken at its asset first by name, which loses its
// producers left in the cycle (Placement.Dropped). Keys are compared as
// given; names ignoring letter case, then by key.
func PlanPublishOrder(assets []Asset) []Placement {
	out := make([]Placement, len(assets))
	index := make(map[string]int, len(assets))
	for i, a := range assets {
		index[a.Key] = i
	}
	producersIn := make([][]int, len(assets))
	for i, a := range assets {
		for _, p := range a.Producers {
			if j, ok := index[p]; ok && j != i {
				producersIn[i] = append(producersIn[i], j)
			}
		}
	}
	byName := make([]int, len(assets))
	for i := range byName {
		byName[i] = i
	}
	compare := func(i, j int) int {
		return cmp.Or(strings.Compare(strings.ToLower(assets[i].Name), strings.ToLower(assets[j].Name)),
			strings.Compare(assets[i].Key, assets[j].Key))
	}
	slices.SortFunc(byName, compare)
	for left := len(assets); left > 0; {
		progressed := false
		for _, i := range byName {
			if out[i].Wave > 0 {
				continue
			}
			wave, ready := 1, true
			for _, p := range producersIn[i] {
				if out[p].Wave == 0 {
					ready = false
					break
				}
				wave = max(wave, out[p].Wave+1)
			}
			if ready {
				out[i].Wave = wave
				left--
				progressed = true
			}
		}
		if progressed {
			continue
		}
		// A cycle: break it at the first waiting asset by name.
		k := slices.IndexFunc(byName, func(i int) bool { return out[i].Wave == 0 })
		i := byName[k]
		var kept []int
		for _, p := range producersIn[i] {
			if out[p].Wave > 0 {
				kept = append(kept, p)
			} else {
				out[i].Dropped = append(out[i].Dropped, assets[p].Key)
			}
		}
		producersIn[i] = kept
	}
	ordered := slices.Clone(byName)
	slices.SortStableFunc(ordered, func(i, j int) int { return cmp.Or(out[i].Wave-out[j].Wave, compare(i, j)) })
	for pos, i := range ordered {
		out[i].Order = pos + 1
	}
	return out
}
