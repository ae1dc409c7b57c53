package sandbox

import (
	"fmt"
)

// AssessmentFixture is what the Migration Kit's assessment tool finds in the
// O11 code: findings per application module. Applications without findings
// assess Ready for ODC.
type AssessmentFixture struct {
	Findings []FixtureFinding `json:"findings"`
}

// FixtureFinding is one code pattern the assessment tool found in a module.
// Application and Module are names from the lifetime section; the module must
// belong to the application.
type FixtureFinding struct {
	Application  string `json:"application"`
	Module       string `json:"module"`
	CodePattern  string `json:"codePattern"`
	Category     string `json:"category"`
	PatternClass string `json:"patternClass"`
	WhereToFix   string `json:"whereToFix"`
	Count        int    `json:"count"`
	Message      string `json:"message"`
}

// Pattern classes of findings, and where each is fixed.
const (
	PatternFixInO11        = "FixInO11"
	PatternFixInOdc        = "FixInOdc"
	PatternOptional        = "Optional"
	PatternNotYetSupported = "NotYetSupported"

	fixInO11 = "O11"
	fixInODC = "ODC"
)

var (
	patternClasses = []string{PatternFixInO11, PatternFixInOdc, PatternOptional, PatternNotYetSupported}
	fixPlaces      = []string{fixInO11, fixInODC}
	// requiredFixPlace is where a pattern class must be fixed; Optional
	// findings may name either place.
	requiredFixPlace = map[string]string{
		PatternFixInO11:        fixInO11,
		PatternNotYetSupported: fixInO11,
		PatternFixInOdc:        fixInODC,
	}
)

// assessment checks the findings against the lifetime section: each names an
// application and one of its modules, at most once per code pattern.
func (v *fixtureValidator) assessment(a *AssessmentFixture, lt *LifeTimeFixture) {
	modulesOf := map[string]map[string]bool{}
	for _, app := range lt.Applications {
		modulesOf[app.Name] = map[string]bool{}
		for _, m := range app.Modules {
			modulesOf[app.Name][m] = true
		}
	}
	seen := map[[3]string]bool{}
	for i, f := range a.Findings {
		where := fmt.Sprintf("assessment.findings[%d] (%q in %q)", i, f.CodePattern, f.Module)
		modules, ok := modulesOf[f.Application]
		switch {
		case !ok:
			v.addf("%s: application %q is not an application of lifetime.applications", where, f.Application)
		case !modules[f.Module]:
			v.addf("%s: module %q is not a module of application %q", where, f.Module, f.Application)
		}
		if f.CodePattern == "" {
			v.addf("%s: codePattern is required", where)
		}
		if f.Category == "" {
			v.addf("%s: category is required", where)
		}
		if f.Message == "" {
			v.addf("%s: message is required", where)
		}
		v.oneOf(where, "patternClass", f.PatternClass, patternClasses)
		v.oneOf(where, "whereToFix", f.WhereToFix, fixPlaces)
		if want, ok := requiredFixPlace[f.PatternClass]; ok && f.WhereToFix != want {
			v.addf("%s: %s findings are fixed in %s, not %q", where, f.PatternClass, want, f.WhereToFix)
		}
		if f.Count < 1 {
			v.addf("%s: count must be at least 1", where)
		}
		id := [3]string{f.Application, f.Module, f.CodePattern}
		if seen[id] {
			v.addf("%s: the same code pattern is listed twice for this module", where)
		}
		seen[id] = true
	}
}
