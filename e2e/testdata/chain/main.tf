# A chain of producers, Common Utils -> Policy Core -> Claims Core -> Field
# Inspector, with a local module publishing (and releasing) each asset and
# module-level depends_on holding the order.
terraform {
  required_providers {
    outsystems = {
      source = "seed-1be1de96/outsystems"
    }
  }
}

provider "outsystems" {}

locals {
  mappings = {
    "Common Utils"    = "library"
    "Policy Core"     = "library"
    "Claims Core"     = "library"
    "Field Inspector" = "mobile_app"
  }
  assets = outsystems_code_migration.chain.assets
}

data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

data "outsystems_lifetime_application" "app" {
  for_each = local.mappings
  name     = each.key
}

data "outsystems_odc_stage" "dev" {
  purpose = "Development"
}

resource "outsystems_app_mapping" "asset" {
  for_each             = local.mappings
  name                 = each.key
  asset_type           = each.value
  o11_application_keys = [data.outsystems_lifetime_application.app[each.key].key]
}

resource "outsystems_code_migration" "chain" {
  source_environment_key = data.outsystems_lifetime_environment.dev.key
  mapping_ids            = [for m in outsystems_app_mapping.asset : m.id]
}

module "common_utils" {
  source    = "./modules/library"
  asset     = local.assets["Common Utils"]
  stage_key = data.outsystems_odc_stage.dev.key
}

module "policy_core" {
  source     = "./modules/library"
  asset      = local.assets["Policy Core"]
  stage_key  = data.outsystems_odc_stage.dev.key
  depends_on = [module.common_utils]
}

module "claims_core" {
  source     = "./modules/library"
  asset      = local.assets["Claims Core"]
  stage_key  = data.outsystems_odc_stage.dev.key
  depends_on = [module.policy_core]
}

module "field_inspector" {
  source     = "./modules/library"
  asset      = local.assets["Field Inspector"]
  stage_key  = data.outsystems_odc_stage.dev.key
  release    = false
  depends_on = [module.claims_core]
}

output "mapping_ids" {
  value = { for name, m in outsystems_app_mapping.asset : name => m.id }
}
