package sandbox

import (
	"fmt"
	"slices"
)

// ODCFixture describes the OutSystems Developer Cloud organization: its API
// clients (OAuth client-credentials identities with permissions) and its
// stages. Assets are not part of the fixture: a code migration creates them.
// An empty section leaves the ODC APIs without clients or stages.
type ODCFixture struct {
	// Organization names the identity realm: the token endpoint is
	// <portal>/identity/realms/<organization>/protocol/openid-connect/token.
	Organization string `json:"organization"`
	// PortfolioKey is the organization's portfolio; "" derives one.
	PortfolioKey string             `json:"portfolioKey"`
	APIClients   []FixtureAPIClient `json:"apiClients"`
	Stages       []FixtureStage     `json:"stages"`
}

// FixtureAPIClient is an ODC API client: the OAuth client id and secret the
// provider authenticates with, and the permissions it was granted.
type FixtureAPIClient struct {
	Name         string   `json:"name"`
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret"`
	Permissions  []string `json:"permissions"`
}

// FixtureStage is an ODC stage, which the APIs call an environment.
type FixtureStage struct {
	Key     string `json:"key"`
	Name    string `json:"name"`
	Purpose string `json:"purpose"`
	Order   int    `json:"order"`
}

// ODC API client permissions, as the sandbox names them. Each maps to the
// permission the ODC portal shows (see odcPermissionHelp).
const (
	PermissionMigrate       = "Migrate O11 code"
	PermissionPublish       = "Publish apps and libraries"
	PermissionRelease       = "Release libraries"
	PermissionViewPortfolio = "View portfolio"
)

// odcPermissions lists every permission an API client may hold.
var odcPermissions = []string{PermissionMigrate, PermissionPublish, PermissionRelease, PermissionViewPortfolio}

// odcPermissionHelp says where each permission lives in the ODC portal, for
// the 403 answers.
var odcPermissionHelp = map[string]string{
	PermissionMigrate:       "'Migrate O11 code' (O11 Migrations > Migrate O11 code; renamed 'Convert O11 code' under Organization management > Convert O11 code)",
	PermissionPublish:       "'Publish apps and libraries' (Asset management > Change)",
	PermissionRelease:       "'Release libraries' (Asset management > Change or Release management > Release)",
	PermissionViewPortfolio: "'View portfolio' (Stage > View stage)",
}

// Stage purposes, from the portfolio API's EnvironmentPurpose.
const (
	PurposeDevelopment   = "Development"
	PurposeNonProduction = "NonProduction"
	PurposeProduction    = "Production"
)

var odcStagePurposes = []string{PurposeDevelopment, PurposeNonProduction, PurposeProduction}

// isZero reports whether the section is absent or empty.
func (o *ODCFixture) isZero() bool {
	return o.Organization == "" && o.PortfolioKey == "" && len(o.APIClients) == 0 && len(o.Stages) == 0
}

// odc checks the ODC section: unique client names and ids, known
// permissions, unique stage keys, names and orders, and exactly one
// Development stage (where publishing happens first) when there are stages.
func (v *fixtureValidator) odc(o *ODCFixture) {
	if o.isZero() {
		return
	}
	if o.Organization == "" {
		v.addf("odc: organization is required")
	}
	if o.PortfolioKey != "" {
		v.key("odc.portfolioKey", &o.PortfolioKey)
	}
	names, ids := map[string]bool{}, map[string]bool{}
	for i, c := range o.APIClients {
		where := fmt.Sprintf("odc.apiClients[%d] (%q)", i, c.Name)
		v.unique(where, "name", c.Name, names)
		v.unique(where, "clientId", c.ClientID, ids)
		if c.ClientSecret == "" {
			v.addf("%s: clientSecret is required", where)
		}
		seen := map[string]bool{}
		for _, p := range c.Permissions {
			v.oneOf(where, "permission", p, odcPermissions)
			if seen[p] {
				v.addf("%s: permission %q is listed more than once", where, p)
			}
			seen[p] = true
		}
	}
	stageNames := map[string]bool{}
	orders := map[int]bool{}
	development := 0
	for i := range o.Stages {
		st := &o.Stages[i]
		where := fmt.Sprintf("odc.stages[%d] (%q)", i, st.Name)
		v.key(where, &st.Key)
		v.unique(where, "name", st.Name, stageNames)
		v.oneOf(where, "purpose", st.Purpose, odcStagePurposes)
		if st.Purpose == PurposeDevelopment {
			development++
		}
		if orders[st.Order] {
			v.addf("%s: order %d is used more than once", where, st.Order)
		}
		orders[st.Order] = true
	}
	if len(o.Stages) > 0 && development != 1 {
		v.addf("odc.stages: exactly one stage must have purpose %q (it has %d)", PurposeDevelopment, development)
	}
}

// hasAllPermissions reports whether the client holds every permission.
func (c FixtureAPIClient) hasAllPermissions() bool {
	for _, p := range odcPermissions {
		if !slices.Contains(c.Permissions, p) {
			return false
		}
	}
	return true
}
