package migrationkit

// Application is what the mapping rules need to know of an O11
// application.
type Application struct {
	Key, Name string
	// Kind is the application's kind; KindMobile for mobile applications.
	Kind string
	// LibraryOnly is true when every module is a Library (see LibraryOnly).
	LibraryOnly bool
	// HasExtensions is true when a module is an Extension.
	HasExtensions bool
	ModuleCount   int
	// MappingKey is the mapping holding the application, "" when none.
	MappingKey string
}

// Mobile reports whether the application goes to a mobile app: a Mobile
// application that is not library-only.
func (a Application) Mobile() bool { return !a.LibraryOnly && a.Kind == KindMobile }

// Reactive reports whether the application goes to a web app: a
// WebResponsive (Reactive) application that is not library-only.
func (a Application) Reactive() bool { return !a.LibraryOnly && a.Kind != KindMobile }

// Rule names one of the Migration Kit's mapping rules.
type Rule int

// The mapping rules, in the order the kit checks them.
const (
	// RuleAlreadyMapped: an O11 application belongs to at most one mapping.
	RuleAlreadyMapped Rule = iota + 1
	// RuleExtensionNotMappable: applications with extensions cannot be mapped.
	RuleExtensionNotMappable
	// RuleLibraryNeedsLibraryOnly: a LowCodeLibrary takes only library-only
	// applications.
	RuleLibraryNeedsLibraryOnly
	// RuleMobileInWebApp: a WebApplication takes Reactive and library-only
	// applications, not Mobile ones.
	RuleMobileInWebApp
	// RuleReactiveInMobileApp: a MobileApplication takes Mobile and
	// library-only applications, not Reactive ones.
	RuleReactiveInMobileApp
	// RuleMobileAppNeedsMobile: a MobileApplication needs at least one Mobile
	// application.
	RuleMobileAppNeedsMobile
	// RuleTooManyModules: an asset holds at most MaxModulesPerAsset modules.
	RuleTooManyModules
)

// Violation is a broken rule with the applications that break it (for
// RuleMobileAppNeedsMobile and RuleTooManyModules: all of them) and, for
// RuleTooManyModules, the number of modules.
type Violation struct {
	Rule    Rule
	Apps    []Application
	Modules int
}

// CheckMapping applies the mapping rules to a mapping of assetType (a
// contract asset type) holding apps, and returns every broken rule in the
// kit's order. self is the mapping's own key ("" for a new mapping): the
// applications it already holds are not "already mapped". Whether the
// applications exist, and the uniqueness of names, are the caller's to
// check.
func CheckMapping(assetType string, apps []Application, self string) []Violation {
	var out []Violation
	add := func(rule Rule, pick func(Application) bool) {
		var hit []Application
		for _, a := range apps {
			if pick(a) {
				hit = append(hit, a)
			}
		}
		if len(hit) > 0 {
			out = append(out, Violation{Rule: rule, Apps: hit})
		}
	}
	add(RuleAlreadyMapped, func(a Application) bool { return a.MappingKey != "" && !equalKeys(a.MappingKey, self) })
	add(RuleExtensionNotMappable, func(a Application) bool { return a.HasExtensions })
	switch assetType {
	case AssetLowCodeLibrary:
		add(RuleLibraryNeedsLibraryOnly, func(a Application) bool { return !a.LibraryOnly })
	case AssetWebApplication:
		add(RuleMobileInWebApp, Application.Mobile)
	case AssetMobileApplication:
		n := len(out)
		add(RuleReactiveInMobileApp, Application.Reactive)
		if len(out) == n && !anyOf(apps, Application.Mobile) {
			out = append(out, Violation{Rule: RuleMobileAppNeedsMobile, Apps: apps})
		}
	}
	modules := 0
	for _, a := range apps {
		modules += a.ModuleCount
	}
	if modules > MaxModulesPerAsset {
		out = append(out, Violation{Rule: RuleTooManyModules, Apps: apps, Modules: modules})
	}
	return out
}

func anyOf(apps []Application, pick func(Application) bool) bool {
	for _, a := range apps {
		if pick(a) {
			return true
		}
	}
	return false
}

// equalKeys compares GUID keys, which may differ in letter case.
func equalKeys(a, b string) bool { return a != "" && b != "" && (a == b || SameName(a, b)) }
