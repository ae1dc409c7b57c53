package migrationkit

import (
	"slices"
	"testing"
)

func keysOf(apps []Application) []string {
	out := make([]string, len(apps))
	for i, a := range apps {
		out[i] = a.Key
	}
	return out
}

func TestCheckMapping(t *testing.T) {
	web := Application{Key: "web", Kind: "Reactive", ModuleCount: 3}
	web2 := Application{Key: "web2", Kind: "Reactive", ModuleCount: 18}
	mob := Application{Key: "mob", Kind: KindMobile, ModuleCount: 2}
	lib := Application{Key: "lib", Kind: "Reactive", LibraryOnly: true, ModuleCount: 1}
	mobLib := Application{Key: "moblib", Kind: KindMobile, LibraryOnly: true, ModuleCount: 1}
	ext := Application{Key: "ext", Kind: "Reactive", HasExtensions: true, ModuleCount: 1}
	held := Application{Key: "held", Kind: "Reactive", ModuleCount: 1, MappingKey: "ABC"}
	type want struct {
		rule Rule
		apps []string
	}
	for _, c := range []struct {
		name, assetType, self string
		apps                  []Application
		want                  []want
	}{
		{"web app of reactive and library apps", AssetWebApplication, "", []Application{web, lib, mobLib}, nil},
		{"mobile app of mobile and library apps", AssetMobileApplication, "", []Application{mob, lib}, nil},
		{"library of library-only apps", AssetLowCodeLibrary, "", []Application{lib, mobLib}, nil},
		{"already mapped", AssetWebApplication, "", []Application{web, held}, []want{{RuleAlreadyMapped, []string{"held"}}}},
		{"held by the mapping itself, any letter case", AssetWebApplication, "abc", []Application{held}, nil},
		{"extension", AssetWebApplication, "", []Application{ext, web}, []want{{RuleExtensionNotMappable, []string{"ext"}}}},
		{"library with an app", AssetLowCodeLibrary, "", []Application{lib, web, mob}, []want{{RuleLibraryNeedsLibraryOnly, []string{"web", "mob"}}}},
		{"mobile in a web app", AssetWebApplication, "", []Application{web, mob}, []want{{RuleMobileInWebApp, []string{"mob"}}}},
		{"reactive in a mobile app", AssetMobileApplication, "", []Application{web, mob}, []want{{RuleReactiveInMobileApp, []string{"web"}}}},
		{"mobile app of libraries only", AssetMobileApplication, "", []Application{lib, mobLib}, []want{{RuleMobileAppNeedsMobile, []string{"lib", "moblib"}}}},
		{"exactly the module limit", AssetWebApplication, "", []Application{web2, mob}, []want{{RuleMobileInWebApp, []string{"mob"}}}},
		{"too many modules", AssetWebApplication, "", []Application{web, web2}, []want{{RuleTooManyModules, []string{"web", "web2"}}}},
		{"every rule, in the kit's order", AssetMobileApplication, "", []Application{held, ext, web2, web}, []want{
			{RuleAlreadyMapped, []string{"held"}}, {RuleExtensionNotMappable, []string{"ext"}},
			{RuleReactiveInMobileApp, []string{"held", "ext", "web2", "web"}}, {RuleTooManyModules, []string{"held", "ext", "web2", "web"}},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := CheckMapping(c.assetType, c.apps, c.self)
			if len(got) != len(c.want) {
				t.Fatalf("CheckMapping = %+v, want %+v", got, c.want)
			}
			for i, w := range c.want {
				if got[i].Rule != w.rule || !slices.Equal(keysOf(got[i].Apps), w.apps) {
					t.Errorf("violation %d = %+v, want %+v", i, got[i], w)
				}
			}
		})
	}
	if v := CheckMapping(AssetWebApplication, []Application{web, web2}, ""); v[0].Modules != 21 {
		t.Errorf("modules = %d, want 21", v[0].Modules)
	}
}

func TestNamesAndTypes(t *testing.T) {
	if !SameName("Customer Portal", "customer PORTAL") || !SameName("Ärzte", "äRZTE") || SameName("Portal", "Portals") {
		t.Error("SameName does not compare ignoring letter case")
	}
	if !LibraryOnly([]string{ModuleTypeLibrary, ModuleTypeLibrary}) || LibraryOnly([]string{ModuleTypeLibrary, "Reactive"}) {
		t.Error("LibraryOnly")
	}
	for resource, wire := range map[string]string{"web_app": "WebApplication", "mobile_app": "MobileApplication", "library": "LowCodeLibrary"} {
		if ResourceAssetTypes[resource] != wire || ResourceAssetType(wire) != resource {
			t.Errorf("%s <-> %s", resource, wire)
		}
	}
	if ResourceAssetType("Other") != "Other" || len(AssetTypes) != 3 {
		t.Error("unknown asset types")
	}
	if !Ready(StatusReadyForOdc) || !Ready(StatusChangeInOdc) || Ready(StatusNotReady) || Ready(StatusAssessing) {
		t.Error("Ready")
	}
}

func TestPlanPublishOrder(t *testing.T) {
	type placed struct{ wave, order int }
	check := func(t *testing.T, assets []Asset, want map[string]placed, dropped map[string][]string) {
		t.Helper()
		got := PlanPublishOrder(assets)
		for i, a := range assets {
			if w := want[a.Key]; got[i].Wave != w.wave || got[i].Order != w.order {
				t.Errorf("%s: wave %d order %d, want %+v", a.Key, got[i].Wave, got[i].Order, w)
			}
			if !slices.Equal(got[i].Dropped, dropped[a.Key]) {
				t.Errorf("%s: dropped %v, want %v", a.Key, got[i].Dropped, dropped[a.Key])
			}
		}
	}
	t.Run("chain", func(t *testing.T) {
		check(t, []Asset{{Key: "c", Name: "C", Producers: []string{"b"}}, {Key: "b", Name: "B", Producers: []string{"a"}}, {Key: "a", Name: "A"}},
			map[string]placed{"a": {1, 1}, "b": {2, 2}, "c": {3, 3}}, nil)
	})
	t.Run("diamond, outside producers ignored, names ignoring case", func(t *testing.T) {
		check(t, []Asset{
			{Key: "top", Name: "top", Producers: []string{"left", "right"}},
			{Key: "right", Name: "Right", Producers: []string{"base", "outside"}},
			{Key: "left", Name: "left", Producers: []string{"base"}},
			{Key: "base", Name: "Base"},
			{Key: "free", Name: "Free"},
		}, map[string]placed{"base": {1, 1}, "free": {1, 2}, "left": {2, 3}, "right": {2, 4}, "top": {3, 5}}, nil)
	})
	t.Run("cycle broken at the first by name", func(t *testing.T) {
		// b and f consume each other; b also consumes a; d consumes b.
		check(t, []Asset{
			{Key: "d", Name: "d", Producers: []string{"b"}},
			{Key: "f", Name: "f", Producers: []string{"b"}},
			{Key: "b", Name: "B", Producers: []string{"a", "f"}},
			{Key: "a", Name: "a"},
		}, map[string]placed{"a": {1, 1}, "b": {2, 2}, "d": {3, 3}, "f": {3, 4}}, map[string][]string{"b": {"f"}})
	})
	t.Run("three-cycle and self reference", func(t *testing.T) {
		check(t, []Asset{
			{Key: "x", Name: "X", Producers: []string{"z", "x"}},
			{Key: "y", Name: "Y", Producers: []string{"x"}},
			{Key: "z", Name: "Z", Producers: []string{"y"}},
		}, map[string]placed{"x": {1, 1}, "y": {2, 2}, "z": {3, 3}}, map[string][]string{"x": {"z"}})
	})
	t.Run("same names ordered by key", func(t *testing.T) {
		check(t, []Asset{{Key: "2", Name: "n"}, {Key: "1", Name: "N"}}, map[string]placed{"1": {1, 1}, "2": {1, 2}}, nil)
	})
	if got := PlanPublishOrder(nil); len(got) != 0 {
		t.Errorf("no assets: %v", got)
	}
}
