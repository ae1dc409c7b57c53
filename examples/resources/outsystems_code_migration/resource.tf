data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

data "outsystems_lifetime_application" "app" {
  for_each = toset(["Common Utils", "Customer Core", "Customer Portal"])
  name     = each.value
}

resource "outsystems_app_mapping" "asset" {
  for_each = {
    "Common Utils"    = "library"
    "Customer Core"   = "library"
    "Customer Portal" = "web_app"
  }
  name                 = each.key
  asset_type           = each.value
  o11_application_keys = [data.outsystems_lifetime_application.app[each.key].key]
}

# The Migration Kit migrates the latest tag of each app: tag after mapping.
resource "outsystems_lifetime_tag" "app" {
  for_each        = data.outsystems_lifetime_application.app
  environment_key = data.outsystems_lifetime_environment.dev.key
  application_key = each.value.key
  change_log      = "Ready for ODC"

  depends_on = [outsystems_app_mapping.asset]
}

# Preflight: every asset Ready for ODC and every app tagged; then migrate and wait.
resource "outsystems_code_migration" "wave" {
  source_environment_key = data.outsystems_lifetime_environment.dev.key
  mapping_ids            = [for m in outsystems_app_mapping.asset : m.id]

  # Change a value to run the migration again.
  triggers_replace = {
    run = "1"
  }

  timeouts = {
    create = "90m"
  }

  depends_on = [outsystems_lifetime_tag.app]
}

# publish_wave and publish_order tell the producers-first order.
output "publish_order" {
  value = outsystems_code_migration.wave.publish_order
}

# assets is keyed by the mappings' names: index it with the mapping's name, and a rename follows.
output "customer_portal_revision" {
  value = outsystems_code_migration.wave.assets[outsystems_app_mapping.asset["Customer Portal"].name].revision
}
