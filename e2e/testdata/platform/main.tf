# A platform team's wave, written by hand: one resource block per asset so
# the whole wave plans and applies in one go, and depends_on following the
# producer graph. "Foundation" merges two O11 apps into one ODC library;
# Customer Core and Policy Core both consume it and Broker Portal consumes
# both (a diamond).
terraform {
  required_providers {
    outsystems = {
      source = "seed-1be1de96/outsystems"
    }
  }
}

provider "outsystems" {}

variable "mappings" {
  description = "ODC assets by a stable key: the asset's name, its type and the O11 apps it is made of."
  type = map(object({
    name = string
    type = string
    apps = list(string)
  }))
  default = {
    foundation = { name = "Foundation", type = "library", apps = ["Common Utils", "Acme Theme"] }
    customer   = { name = "Customer Core", type = "library", apps = ["Customer Core"] }
    policy     = { name = "Policy Core", type = "library", apps = ["Policy Core"] }
    broker     = { name = "Broker Portal", type = "web_app", apps = ["Broker Portal"] }
  }
}

variable "stage" {
  type    = string
  default = "Development"
}

variable "library_version" {
  type    = string
  default = "1.0.0"
}

data "outsystems_lifetime_environment" "source" {
  name = "Development"
}

data "outsystems_lifetime_application" "o11" {
  for_each = toset(flatten([for m in var.mappings : m.apps]))
  name     = each.value
}

data "outsystems_odc_stage" "target" {
  name = var.stage
}

resource "outsystems_app_mapping" "this" {
  for_each             = var.mappings
  name                 = each.value.name
  asset_type           = each.value.type
  o11_application_keys = [for app in each.value.apps : data.outsystems_lifetime_application.o11[app].key]
}

resource "outsystems_lifetime_tag" "this" {
  for_each        = data.outsystems_lifetime_application.o11
  environment_key = data.outsystems_lifetime_environment.source.key
  application_key = each.value.key
  change_log      = "Before the ODC migration"
}

resource "outsystems_code_migration" "this" {
  source_environment_key = data.outsystems_lifetime_environment.source.key
  mapping_ids            = [for m in outsystems_app_mapping.this : m.id]
  depends_on             = [outsystems_lifetime_tag.this]
}

locals {
  asset = { for k, m in var.mappings : k => outsystems_code_migration.this.assets[outsystems_app_mapping.this[k].name] }
}

resource "outsystems_asset_publication" "foundation" {
  asset_key = local.asset.foundation.asset_key
  revision  = local.asset.foundation.revision
  stage_key = data.outsystems_odc_stage.target.key
}

resource "outsystems_library_release" "foundation" {
  asset_key       = outsystems_asset_publication.foundation.asset_key
  revision        = outsystems_asset_publication.foundation.revision
  version         = var.library_version
  keep_on_destroy = true
}

resource "outsystems_asset_publication" "customer" {
  asset_key  = local.asset.customer.asset_key
  revision   = local.asset.customer.revision
  stage_key  = data.outsystems_odc_stage.target.key
  depends_on = [outsystems_library_release.foundation]
}

resource "outsystems_library_release" "customer" {
  asset_key       = outsystems_asset_publication.customer.asset_key
  revision        = outsystems_asset_publication.customer.revision
  version         = var.library_version
  keep_on_destroy = true
}

resource "outsystems_asset_publication" "policy" {
  asset_key  = local.asset.policy.asset_key
  revision   = local.asset.policy.revision
  stage_key  = data.outsystems_odc_stage.target.key
  depends_on = [outsystems_library_release.foundation]
}

resource "outsystems_library_release" "policy" {
  asset_key       = outsystems_asset_publication.policy.asset_key
  revision        = outsystems_asset_publication.policy.revision
  version         = var.library_version
  keep_on_destroy = true
}

resource "outsystems_asset_publication" "broker" {
  asset_key  = local.asset.broker.asset_key
  revision   = local.asset.broker.revision
  stage_key  = data.outsystems_odc_stage.target.key
  depends_on = [outsystems_library_release.customer, outsystems_library_release.policy]
}

output "asset_keys" {
  value = { for k, a in local.asset : k => a.asset_key }
}
