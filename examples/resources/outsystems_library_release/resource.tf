variable "mapping_ids" {
  description = "Ids of the outsystems_app_mapping resources to migrate."
  type        = set(string)
}

data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

data "outsystems_odc_stage" "dev" {
  name = "Development"
}

resource "outsystems_code_migration" "wave" {
  source_environment_key = data.outsystems_lifetime_environment.dev.key
  mapping_ids            = var.mapping_ids
}

locals {
  common_utils  = outsystems_code_migration.wave.assets["Common Utils"]
  customer_core = outsystems_code_migration.wave.assets["Customer Core"]
}

resource "outsystems_asset_publication" "common_utils" {
  asset_key = local.common_utils.asset_key
  revision  = local.common_utils.revision
  stage_key = data.outsystems_odc_stage.dev.key
}

# A release needs its revision published: reference the publication.
resource "outsystems_library_release" "common_utils" {
  asset_key     = outsystems_asset_publication.common_utils.asset_key
  revision      = outsystems_asset_publication.common_utils.revision
  version       = "1.0.0"
  release_notes = "First release after the migration from O11."
  # Consumers will depend on this release: destroying it only forgets it.
  keep_on_destroy = true
}

# Customer Core consumes Common Utils: producer libraries are released first.
resource "outsystems_asset_publication" "customer_core" {
  asset_key  = local.customer_core.asset_key
  revision   = local.customer_core.revision
  stage_key  = data.outsystems_odc_stage.dev.key
  depends_on = [outsystems_library_release.common_utils]
}

resource "outsystems_library_release" "customer_core" {
  asset_key = outsystems_asset_publication.customer_core.asset_key
  revision  = outsystems_asset_publication.customer_core.revision
  version   = "1.0.0"
}
