package provider

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc/odctest"
)

// kitPermissions are the Migration Kit's ODC permission, under its old and
// new names (migration-kit.md). The code migration has no public API, so
// no OpenAPI document lists it.
var kitPermissions = []string{"O11 Migrations > Migrate O11 code", "Organization management > Convert O11 code"}

// lifeTimeLevels are the LifeTime permission levels and roles the docs may
// name: the level the sandbox's LifeTime asks for to tag, the level below
// every other, and the role the assessment tool writes with.
var lifeTimeLevels = []string{lifetime.PermissionChangeDeploy, "No Access", fixture.RoleAdministrator}

var (
	// An ODC permission is written bold, "**Category > Permission**"; bold
	// is kept for them in a Permissions section.
	odcPermission = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	// A LifeTime level or role is written in italics, "*Level*" (looked
	// for once the bold names are taken out).
	lifeTimeLevel = regexp.MustCompile(`\*([^*]+)\*`)
	subcategory   = regexp.MustCompile(`(?m)^subcategory: "([^"]*)"`)
)

// permissionProblems lists what is wrong with a template's Permissions
// section: none, a permission the documents do not define, or no
// permission where the service has them.
func permissionProblems(text string, documented []string) []string {
	_, section, ok := strings.Cut(text, "\n## Permissions\n")
	if !ok {
		return []string{`no "## Permissions" section`}
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	if i := strings.Index(section, "{{"); i >= 0 {
		section = section[:i]
	}
	var problems []string
	var odcNames []string
	for _, m := range odcPermission.FindAllStringSubmatch(section, -1) {
		name := strings.Join(strings.Fields(m[1]), " ") // a name may wrap
		odcNames = append(odcNames, name)
		if !slices.Contains(documented, name) && !slices.Contains(kitPermissions, name) {
			problems = append(problems, "names ODC permission '"+name+"', which no OpenAPI document's x-os-permissions defines")
		}
	}
	var levels []string
	for _, m := range lifeTimeLevel.FindAllStringSubmatch(odcPermission.ReplaceAllString(section, ""), -1) {
		name := strings.Join(strings.Fields(m[1]), " ")
		levels = append(levels, name)
		if !slices.Contains(lifeTimeLevels, name) {
			problems = append(problems, "names LifeTime level or role '"+name+"', which is not one of "+strings.Join(lifeTimeLevels, ", "))
		}
	}
	sub := ""
	if m := subcategory.FindStringSubmatch(text); m != nil {
		sub = m[1]
	}
	switch {
	case sub == "ODC" && len(odcNames) == 0:
		problems = append(problems, "an ODC page that names no ODC permission")
	case strings.HasPrefix(sub, "LifeTime") || sub == "Migration Kit":
		if !strings.Contains(section, "service account") || len(levels) == 0 {
			problems = append(problems, "a LifeTime-backed page that names no service account permission level or role")
		}
	}
	return problems
}

// TestDocsNamePermissions: every resource and data source page says which
// permissions its API client or service account needs, by the names the
// official documents use, so the docs cannot name a permission that does
// not exist.
func TestDocsNamePermissions(t *testing.T) {
	documented, err := odctest.Permissions()
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, dir := range []string{"resources", "data-sources"} {
		matches, err := filepath.Glob(filepath.Join("..", "..", "templates", dir, "*.md.tmpl"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) < 9 {
		t.Fatalf("found %d templates: %q", len(files), files)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range permissionProblems(string(data), documented) {
			t.Errorf("%s: %s", file, p)
		}
	}
}

// The check catches what issue 11 found: permission names ODC does not
// have, and pages without the section.
func TestPermissionProblems(t *testing.T) {
	documented := []string{"Asset management > Change", "Stage > View stage"}
	page := func(sub, section string) string {
		return "---\nsubcategory: \"" + sub + "\"\n---\n# x\n\n## Permissions\n\n" + section + "\n\n{{ .SchemaMarkdown }}\n"
	}
	for _, c := range []struct {
		name, text string
		want       string
	}{
		{"good ODC", page("ODC", "Needs **Asset management >\n  Change** and **Stage > View stage**."), ""},
		{"good LifeTime", page("LifeTime (O11)", "The service account needs *Change & Deploy Applications*, *No Access* *Administrator*."), ""},
		{"second level invented", page("LifeTime (O11)", "The service account needs *No Access* *Deploy Everything*."), "Deploy Everything"},
		{"invented ODC permission", page("ODC", "Needs **Publish > Publish apps and libraries**."), "Publish apps and libraries"},
		{"ODC permission without its category", page("ODC", "Needs **Stage > View stage** and **Release libraries**."), "Release libraries"},
		{"no ODC permission", page("ODC", "Needs the right permission."), "names no ODC permission"},
		{"invented LifeTime level", page("LifeTime (O11)", "The service account needs *Deploy Everything*."), "Deploy Everything"},
		{"no section", "---\nsubcategory: \"ODC\"\n---\n# x\n", "no \"## Permissions\" section"},
	} {
		problems := permissionProblems(c.text, documented)
		switch {
		case c.want == "" && len(problems) > 0:
			t.Errorf("%s: %q", c.name, problems)
		case c.want != "" && !strings.Contains(strings.Join(problems, "; "), c.want):
			t.Errorf("%s: %q, want a problem mentioning %q", c.name, problems, c.want)
		}
	}
}
