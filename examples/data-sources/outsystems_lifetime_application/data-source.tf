data "outsystems_lifetime_application" "portal" {
  name = "Customer Portal"
}

# The Migration Kit migrates the latest tag: fail the plan while Development
# has changes that were never tagged.
check "portal_tagged" {
  assert {
    condition     = !data.outsystems_lifetime_application.portal.environments["Development"].is_modified
    error_message = "Customer Portal has untagged changes in Development: tag it with outsystems_lifetime_tag."
  }
}

output "portal_running_version" {
  value = data.outsystems_lifetime_application.portal.environments["Development"].running_version
}
