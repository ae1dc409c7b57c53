variable "mapping_ids" {
  description = "Ids of the outsystems_app_mapping resources to migrate."
  type        = set(string)
}

data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

data "outsystems_odc_stage" "dev" {
  purpose = "Development"
}

resource "outsystems_code_migration" "wave" {
  source_environment_key = data.outsystems_lifetime_environment.dev.key
  mapping_ids            = var.mapping_ids
}

locals {
  # Keyed by mapping name.
  assets = outsystems_code_migration.wave.assets
}

# Producers first: the library is published and released before the app
# that consumes it, because the app's publication depends on the release.
resource "outsystems_asset_publication" "customer_core" {
  asset_key = local.assets["Customer Core"].asset_key
  revision  = local.assets["Customer Core"].revision
  stage_key = data.outsystems_odc_stage.dev.key
}

resource "outsystems_library_release" "customer_core" {
  asset_key = outsystems_asset_publication.customer_core.asset_key
  revision  = outsystems_asset_publication.customer_core.revision
  version   = "1.0.0"
}

resource "outsystems_asset_publication" "customer_portal" {
  asset_key = local.assets["Customer Portal"].asset_key
  revision  = local.assets["Customer Portal"].revision
  stage_key = data.outsystems_odc_stage.dev.key

  timeouts = {
    create = "45m"
  }

  depends_on = [outsystems_library_release.customer_core]
}
