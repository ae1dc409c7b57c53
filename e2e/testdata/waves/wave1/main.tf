# Wave 1 of a two-wave migration, in its own state: the shared libraries,
# published and released with for_each over a list of names the team keeps
# in producer order (the plan reads every name, so one apply does it).
terraform {
  required_providers {
    outsystems = {
      source = "seed-1be1de96/outsystems"
    }
  }
}

provider "outsystems" {}

variable "libraries" {
  description = "The O11 library apps of this wave, each migrated to an ODC library of the same name."
  type        = list(string)
  default     = ["Acme Theme", "Common Utils", "Customer Core", "Policy Core"]
}

data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

data "outsystems_lifetime_application" "lib" {
  for_each = toset(var.libraries)
  name     = each.value
}

data "outsystems_odc_stage" "dev" {
  purpose = "Development"
}

resource "outsystems_app_mapping" "lib" {
  for_each             = data.outsystems_lifetime_application.lib
  name                 = each.key
  asset_type           = "library"
  o11_application_keys = [each.value.key]
}

resource "outsystems_lifetime_tag" "lib" {
  for_each        = data.outsystems_lifetime_application.lib
  environment_key = data.outsystems_lifetime_environment.dev.key
  application_key = each.value.key
  change_log      = "Wave 1"
}

resource "outsystems_code_migration" "wave1" {
  source_environment_key = data.outsystems_lifetime_environment.dev.key
  mapping_ids            = [for m in outsystems_app_mapping.lib : m.id]
  depends_on             = [outsystems_lifetime_tag.lib]
}

# The libraries consume each other (Customer Core and Policy Core consume
# Common Utils): publish wave by wave, each wave after the releases of the
# one before.
resource "outsystems_asset_publication" "first" {
  for_each  = { for name in ["Acme Theme", "Common Utils"] : name => outsystems_code_migration.wave1.assets[name] }
  asset_key = each.value.asset_key
  revision  = each.value.revision
  stage_key = data.outsystems_odc_stage.dev.key
}

resource "outsystems_library_release" "first" {
  for_each        = outsystems_asset_publication.first
  asset_key       = each.value.asset_key
  revision        = each.value.revision
  version         = "1.0.0"
  keep_on_destroy = true
}

resource "outsystems_asset_publication" "second" {
  for_each   = { for name in ["Customer Core", "Policy Core"] : name => outsystems_code_migration.wave1.assets[name] }
  asset_key  = each.value.asset_key
  revision   = each.value.revision
  stage_key  = data.outsystems_odc_stage.dev.key
  depends_on = [outsystems_library_release.first]
}

resource "outsystems_library_release" "second" {
  for_each        = outsystems_asset_publication.second
  asset_key       = each.value.asset_key
  revision        = each.value.revision
  version         = "1.0.0"
  keep_on_destroy = true
}

output "libraries" {
  description = "What wave 2 needs of wave 1: every library's asset key and released version."
  value = {
    for name, r in merge(outsystems_library_release.first, outsystems_library_release.second) :
    name => { asset_key = r.asset_key, version = r.version }
  }
}
