data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

data "outsystems_lifetime_application" "portal" {
  name = "Customer Portal"
}

# Tag what runs in Development: the Migration Kit migrates the latest tag.
# Without `version`, the next patch version after the running one is taken
# (and shown in the plan); an app with no changes since its last tag is not
# tagged again, its running version is adopted (force_new_version = true
# tags anyway).
resource "outsystems_lifetime_tag" "portal" {
  environment_key = data.outsystems_lifetime_environment.dev.key
  application_key = data.outsystems_lifetime_application.portal.key
  change_log      = "Ready for ODC"
}

# A mobile app, with an explicit version and its native builds.
data "outsystems_lifetime_application" "agent" {
  name = "Agent Mobile"
}

resource "outsystems_lifetime_tag" "agent" {
  environment_key = data.outsystems_lifetime_environment.dev.key
  application_key = data.outsystems_lifetime_application.agent.key
  version         = "2.3.0"
  change_log      = "Last O11 version before the migration"

  mobile_versions = [
    { platform = "Android", version_number = "2.3.0" },
    { platform = "iOS", version_number = "2.3.0", description = "App Store build" },
  ]
}
