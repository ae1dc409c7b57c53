package sandbox

import "github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"

// The fixture names lifetime_test.go still uses; that file is being moved
// by another change, and these go with it once it calls package fixture.
type (
	Fixture               = fixture.Fixture
	LifeTimeFixture       = fixture.LifeTime
	FixtureServiceAccount = fixture.ServiceAccount
	FixtureEnvironment    = fixture.Environment
	FixtureModule         = fixture.Module
	FixtureApplication    = fixture.Application
)

const RoleAdministrator = fixture.RoleAdministrator
