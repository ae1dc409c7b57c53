package sandbox

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"
)

//go:embed fixture/default.json
var defaultFixtureJSON []byte

// Fixture is the initial state the sandbox seeds an empty database with.
// The top level is decoded leniently: sections this version of the sandbox
// does not know are ignored, the known ones are decoded strictly.
type Fixture struct {
	Name     string          `json:"name"`
	LifeTime LifeTimeFixture `json:"lifetime"`
	ODC      ODCFixture      `json:"odc"`
	// Assessment is what the Migration Kit's assessment tool finds in the
	// O11 code (assessment_fixture.go).
	Assessment AssessmentFixture `json:"assessment"`
	// CodeMigration is how code migrations treat some applications
	// (codemigration_fixture.go).
	CodeMigration CodeMigrationFixture `json:"codeMigration"`
}

// LifeTimeFixture describes the OutSystems 11 infrastructure seen through
// LifeTime: service accounts, environments, modules and applications.
type LifeTimeFixture struct {
	ServiceAccounts []FixtureServiceAccount `json:"serviceAccounts"`
	Environments    []FixtureEnvironment    `json:"environments"`
	Modules         []FixtureModule         `json:"modules"`
	Applications    []FixtureApplication    `json:"applications"`
}

// Service account roles.
const (
	RoleAdministrator = "Administrator"
	RoleReadOnly      = "ReadOnly"
)

// FixtureServiceAccount is a LifeTime service account and its API token.
type FixtureServiceAccount struct {
	Name  string `json:"name"`
	Token string `json:"token"`
	Role  string `json:"role"`
}

// FixtureEnvironment is an OutSystems 11 environment registered in LifeTime.
type FixtureEnvironment struct {
	Key                   string `json:"key"`
	Name                  string `json:"name"`
	Order                 int    `json:"order"`
	HostName              string `json:"hostName"`
	EnvironmentType       string `json:"environmentType"`
	OSVersion             string `json:"osVersion"`
	UseHTTPS              bool   `json:"useHttps"`
	IsCloudEnvironment    bool   `json:"isCloudEnvironment"`
	NumberOfFrontEnds     int    `json:"numberOfFrontEnds"`
	ApplicationServerType string `json:"applicationServerType"`
	ApplicationServer     string `json:"applicationServer"`
	DatabaseProvider      string `json:"databaseProvider"`
}

// FixtureModule is an OutSystems 11 module. References name the modules it
// consumes (producers).
type FixtureModule struct {
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Type        string   `json:"type"`
	Description string   `json:"description"`
	References  []string `json:"references"`
}

// FixtureApplication is an OutSystems 11 application: its modules (by name),
// its tagged versions (oldest first) and what runs in each environment (by
// environment name).
type FixtureApplication struct {
	Key          string                       `json:"key"`
	Name         string                       `json:"name"`
	Kind         string                       `json:"kind"`
	Team         string                       `json:"team"`
	Description  string                       `json:"description"`
	URLPath      string                       `json:"urlPath"`
	IsSystem     bool                         `json:"isSystem"`
	Modules      []string                     `json:"modules"`
	Versions     []FixtureVersion             `json:"versions"`
	Environments map[string]FixtureDeployment `json:"environments"`
}

// FixtureVersion is a tagged application version.
type FixtureVersion struct {
	Key            string                 `json:"key"`
	Version        string                 `json:"version"`
	ChangeLog      string                 `json:"changeLog"`
	CreatedOn      time.Time              `json:"createdOn"`
	MobileVersions []FixtureMobileVersion `json:"mobileVersions"`
}

// FixtureMobileVersion is the native build of a mobile application version.
type FixtureMobileVersion struct {
	NativePlatform     string `json:"nativePlatform"`
	VersionNumber      string `json:"versionNumber"`
	VersionDescription string `json:"versionDescription"`
}

// FixtureDeployment is the state of an application in one environment:
// the tagged version it is based on and whether it changed since.
type FixtureDeployment struct {
	Version    string `json:"version"`
	IsModified bool   `json:"isModified"`
}

var (
	environmentTypes = []string{"Development", "Test", "Production"}
	moduleKinds      = []string{"eSpace", "Extension"}
	moduleTypes      = []string{"Reactive", "Mobile", "Library", "Extension"}
	applicationKinds = []string{"WebResponsive", "Mobile"}
	nativePlatforms  = []string{"Android", "iOS"}
	serviceRoles     = []string{RoleAdministrator, RoleReadOnly}
)

// versionPattern matches LifeTime application versions: one to four numbers
// separated by dots.
var versionPattern = regexp.MustCompile(`^[0-9]{1,9}(\.[0-9]{1,9}){0,3}$`)

// DefaultFixture returns a fresh copy of the built-in "Acme Insurance"
// portfolio.
func DefaultFixture() *Fixture {
	f, err := parseFixture(defaultFixtureJSON)
	if err != nil {
		panic("sandbox: embedded default fixture is invalid: " + err.Error())
	}
	return f
}

// LoadFixture reads and validates a fixture file.
func LoadFixture(path string) (*Fixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read fixture: %w", err)
	}
	f, err := parseFixture(data)
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", path, err)
	}
	return f, nil
}

// parseFixture decodes and validates a fixture document.
func parseFixture(data []byte) (*Fixture, error) {
	var sections map[string]json.RawMessage
	if err := json.Unmarshal(data, &sections); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	f := &Fixture{}
	if raw, ok := sections["name"]; ok {
		if err := json.Unmarshal(raw, &f.Name); err != nil {
			return nil, fmt.Errorf("name: %w", err)
		}
	}
	raw, ok := sections["lifetime"]
	if !ok {
		return nil, errors.New(`missing "lifetime" section`)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f.LifeTime); err != nil {
		return nil, fmt.Errorf("lifetime: %w", err)
	}
	if raw, ok := sections["assessment"]; ok {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f.Assessment); err != nil {
			return nil, fmt.Errorf("assessment: %w", err)
		}
	}
	if raw, ok := sections["codeMigration"]; ok {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f.CodeMigration); err != nil {
			return nil, fmt.Errorf("codeMigration: %w", err)
		}
	}
	if raw, ok := sections["odc"]; ok {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f.ODC); err != nil {
			return nil, fmt.Errorf("odc: %w", err)
		}
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// Validate checks the fixture is self-consistent and normalises its keys to
// lower-case GUIDs. It reports every problem found.
func (f *Fixture) Validate() error {
	v := &fixtureValidator{}
	lt := &f.LifeTime
	v.serviceAccounts(lt.ServiceAccounts)
	envNames := v.environments(lt.Environments)
	moduleNames := v.modules(lt.Modules)
	owner := v.applications(lt.Applications, envNames, moduleNames)
	for _, m := range lt.Modules {
		if m.Name != "" && owner[m.Name] == "" {
			v.addf("lifetime.modules: module %q does not belong to any application", m.Name)
		}
	}
	v.assessment(&f.Assessment, lt)
	v.codeMigration(&f.CodeMigration, lt)
	v.odc(&f.ODC)
	return errors.Join(v.errs...)
}

type fixtureValidator struct {
	errs []error
	keys map[string]string // every GUID key seen, to the place it was declared
}

func (v *fixtureValidator) addf(format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf(format, args...))
}

// key checks a GUID key is well formed and globally unique, and rewrites it
// in canonical form.
func (v *fixtureValidator) key(where string, key *string) {
	id, err := uuid.Parse(*key)
	if err != nil {
		v.addf("%s: key %q is not a GUID", where, *key)
		return
	}
	*key = id.String()
	if v.keys == nil {
		v.keys = map[string]string{}
	}
	if prev, dup := v.keys[*key]; dup {
		v.addf("%s: key %s is already used by %s", where, *key, prev)
		return
	}
	v.keys[*key] = where
}

func (v *fixtureValidator) oneOf(where, field, value string, allowed []string) {
	if !slices.Contains(allowed, value) {
		v.addf("%s: %s %q must be one of %q", where, field, value, allowed)
	}
}

// unique reports an empty or repeated name and records it in seen.
func (v *fixtureValidator) unique(where, field, value string, seen map[string]bool) {
	switch {
	case value == "":
		v.addf("%s: %s is required", where, field)
	case seen[value]:
		v.addf("%s: %s %q is used more than once", where, field, value)
	default:
		seen[value] = true
	}
}

func (v *fixtureValidator) serviceAccounts(accounts []FixtureServiceAccount) {
	names, tokens := map[string]bool{}, map[string]bool{}
	admins := 0
	for i, a := range accounts {
		where := fmt.Sprintf("lifetime.serviceAccounts[%d] (%q)", i, a.Name)
		v.unique(where, "name", a.Name, names)
		v.unique(where, "token", a.Token, tokens)
		v.oneOf(where, "role", a.Role, serviceRoles)
		if a.Role == RoleAdministrator {
			admins++
		}
	}
	if admins == 0 {
		v.addf("lifetime.serviceAccounts: at least one service account with role %q is required", RoleAdministrator)
	}
}

func (v *fixtureValidator) environments(envs []FixtureEnvironment) map[string]bool {
	names := map[string]bool{}
	orders := map[int]bool{}
	for i := range envs {
		e := &envs[i]
		where := fmt.Sprintf("lifetime.environments[%d] (%q)", i, e.Name)
		v.key(where, &e.Key)
		v.unique(where, "name", e.Name, names)
		v.oneOf(where, "environmentType", e.EnvironmentType, environmentTypes)
		if e.HostName == "" {
			v.addf("%s: hostName is required", where)
		}
		if orders[e.Order] {
			v.addf("%s: order %d is used more than once", where, e.Order)
		}
		orders[e.Order] = true
		if e.NumberOfFrontEnds < 0 {
			v.addf("%s: numberOfFrontEnds must not be negative", where)
		}
	}
	return names
}

func (v *fixtureValidator) modules(modules []FixtureModule) map[string]bool {
	names := map[string]bool{}
	for i := range modules {
		m := &modules[i]
		where := fmt.Sprintf("lifetime.modules[%d] (%q)", i, m.Name)
		v.key(where, &m.Key)
		v.unique(where, "name", m.Name, names)
		v.oneOf(where, "kind", m.Kind, moduleKinds)
		v.oneOf(where, "type", m.Type, moduleTypes)
		if (m.Kind == "Extension") != (m.Type == "Extension") {
			v.addf("%s: kind %q does not match type %q (extensions have both kind and type \"Extension\")", where, m.Kind, m.Type)
		}
	}
	for i, m := range modules {
		where := fmt.Sprintf("lifetime.modules[%d] (%q)", i, m.Name)
		seen := map[string]bool{}
		for _, ref := range m.References {
			switch {
			case !names[ref]:
				v.addf("%s: reference %q is not a module of lifetime.modules", where, ref)
			case ref == m.Name:
				v.addf("%s: a module cannot reference itself", where)
			case seen[ref]:
				v.addf("%s: reference %q is listed more than once", where, ref)
			}
			seen[ref] = true
		}
	}
	return names
}

// applications checks the applications and returns the application that owns
// each module, by module name.
func (v *fixtureValidator) applications(apps []FixtureApplication, envNames, moduleNames map[string]bool) map[string]string {
	names := map[string]bool{}
	owner := map[string]string{} // module name -> application name
	for i := range apps {
		a := &apps[i]
		where := fmt.Sprintf("lifetime.applications[%d] (%q)", i, a.Name)
		v.key(where, &a.Key)
		v.unique(where, "name", a.Name, names)
		v.oneOf(where, "kind", a.Kind, applicationKinds)
		if len(a.Modules) == 0 {
			v.addf("%s: an application needs at least one module", where)
		}
		for _, m := range a.Modules {
			switch {
			case !moduleNames[m]:
				v.addf("%s: module %q is not a module of lifetime.modules", where, m)
			case owner[m] != "":
				v.addf("%s: module %q already belongs to application %q", where, m, owner[m])
			default:
				owner[m] = a.Name
			}
		}
		versions := v.versions(where, a)
		for _, envName := range slices.Sorted(maps.Keys(a.Environments)) {
			d := a.Environments[envName]
			if !envNames[envName] {
				v.addf("%s: environment %q is not an environment of lifetime.environments", where, envName)
			}
			if !versions[d.Version] {
				v.addf("%s: runs version %q in %q, which is not one of its versions", where, d.Version, envName)
			}
		}
	}
	return owner
}

func (v *fixtureValidator) versions(appWhere string, a *FixtureApplication) map[string]bool {
	seen := map[string]bool{}
	for j := range a.Versions {
		ver := &a.Versions[j]
		where := fmt.Sprintf("%s.versions[%d] (%q)", appWhere, j, ver.Version)
		v.key(where, &ver.Key)
		if !versionPattern.MatchString(ver.Version) {
			v.addf("%s: version %q is not valid (use one to four numbers separated by dots)", where, ver.Version)
		}
		v.unique(where, "version", ver.Version, seen)
		if ver.CreatedOn.IsZero() {
			v.addf("%s: createdOn is required", where)
		}
		if len(ver.MobileVersions) > 0 && a.Kind != "Mobile" {
			v.addf("%s: mobileVersions are only allowed for Mobile applications", where)
		}
		platforms := map[string]bool{}
		for _, mv := range ver.MobileVersions {
			v.oneOf(where, "nativePlatform", mv.NativePlatform, nativePlatforms)
			v.unique(where, "nativePlatform", mv.NativePlatform, platforms)
			if mv.VersionNumber == "" {
				v.addf("%s: versionNumber is required for %s", where, mv.NativePlatform)
			}
		}
	}
	return seen
}
