data "outsystems_lifetime_application" "app" {
  for_each = toset(["Common Utils", "Customer Portal"])
  name     = each.value
}

resource "outsystems_app_mapping" "asset" {
  for_each             = { "Common Utils" = "library", "Customer Portal" = "web_app" }
  name                 = each.key
  asset_type           = each.value
  o11_application_keys = [data.outsystems_lifetime_application.app[each.key].key]
}

# The readiness gate: the plan fails, naming every asset that is not Ready for
# ODC and its findings, until all the mapped assets can be migrated.
data "outsystems_migration_readiness" "wave" {
  mapping_ids = [for m in outsystems_app_mapping.asset : m.id]

  lifecycle {
    postcondition {
      condition     = self.all_ready
      error_message = self.summary
    }
  }
}

# Every mapping in the assessment tool, without waiting for assessments that
# are still running.
data "outsystems_migration_readiness" "all" {
  wait_for_assessments = false
}

output "not_ready" {
  value = data.outsystems_migration_readiness.all.not_ready_mapping_ids
}
