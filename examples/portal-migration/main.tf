# Publish and release what a code migration run in the ODC portal produced,
# producers first. This is how a migration runs on an organization today: the
# Migration Kit has no public API, so a team migrates its O11 apps by hand in
# the ODC portal, then lets Terraform publish every produced asset to the
# Development stage and release every library, wave by wave.
#
# The data source finds the assets by name and reads, from ODC's own dependency
# data, which assets each one consumes; it computes the waves (1 for an asset
# with no producer among the names, else one more than its producers' highest)
# and the order. Wave N is published once the libraries of wave N-1 are released.
#
# Settings come from the OUTSYSTEMS_* environment variables (the sandbox prints them).
terraform {
  required_providers {
    outsystems = {
      source = "seed-1be1de96/outsystems"
    }
  }
}

provider "outsystems" {}

variable "assets" {
  description = "The ODC assets the portal migration produced, by name, with the type each must be: library, web_app, mobile_app, or app (either)."
  type        = map(string)
  default = {
    "Acme Theme"      = "library"
    "Common Utils"    = "library"
    "Customer Core"   = "library"
    "Policy Core"     = "library"
    "Customer Portal" = "app"
  }
}

variable "release_version" {
  description = "Version given to the first release of every migrated library."
  type        = string
  default     = "1.0.0"
}

data "outsystems_odc_stage" "dev" {
  purpose = "Development"
}

data "outsystems_odc_assets" "migrated" {
  names       = keys(var.assets)
  asset_types = var.assets

  lifecycle {
    postcondition {
      condition     = length(self.waves) <= 4
      error_message = "This configuration publishes 4 waves; add a wave block for the deeper producer chains."
    }
    postcondition {
      condition     = length(self.external_producers) == 0
      error_message = "Some assets consume assets not listed in var.assets: ${join(", ", [for p in self.external_producers : p.name])}. Add them, or publish and release them first."
    }
  }
}

locals {
  assets = data.outsystems_odc_assets.migrated.assets
  wave   = { for w in [1, 2, 3, 4] : w => { for name, a in local.assets : name => a if a.publish_wave == w } }
  libs   = { for w, assets in local.wave : w => { for name, a in assets : name => a if a.asset_type == "library" } }
}

resource "outsystems_asset_publication" "wave1" {
  for_each  = local.wave[1]
  asset_key = each.value.key
  revision  = each.value.revision
  stage_key = data.outsystems_odc_stage.dev.key
}

resource "outsystems_library_release" "wave1" {
  for_each      = local.libs[1]
  asset_key     = outsystems_asset_publication.wave1[each.key].asset_key
  revision      = outsystems_asset_publication.wave1[each.key].revision
  version       = var.release_version
  release_notes = "First release after the migration from O11."
  # Consumers depend on these releases: destroying this configuration only forgets them.
  keep_on_destroy = true
}

resource "outsystems_asset_publication" "wave2" {
  for_each   = local.wave[2]
  asset_key  = each.value.key
  revision   = each.value.revision
  stage_key  = data.outsystems_odc_stage.dev.key
  depends_on = [outsystems_library_release.wave1]
}

resource "outsystems_library_release" "wave2" {
  for_each        = local.libs[2]
  asset_key       = outsystems_asset_publication.wave2[each.key].asset_key
  revision        = outsystems_asset_publication.wave2[each.key].revision
  version         = var.release_version
  release_notes   = "First release after the migration from O11."
  keep_on_destroy = true
}

resource "outsystems_asset_publication" "wave3" {
  for_each   = local.wave[3]
  asset_key  = each.value.key
  revision   = each.value.revision
  stage_key  = data.outsystems_odc_stage.dev.key
  depends_on = [outsystems_library_release.wave2]
}

resource "outsystems_library_release" "wave3" {
  for_each        = local.libs[3]
  asset_key       = outsystems_asset_publication.wave3[each.key].asset_key
  revision        = outsystems_asset_publication.wave3[each.key].revision
  version         = var.release_version
  release_notes   = "First release after the migration from O11."
  keep_on_destroy = true
}

resource "outsystems_asset_publication" "wave4" {
  for_each   = local.wave[4]
  asset_key  = each.value.key
  revision   = each.value.revision
  stage_key  = data.outsystems_odc_stage.dev.key
  depends_on = [outsystems_library_release.wave3]
}

resource "outsystems_library_release" "wave4" {
  for_each        = local.libs[4]
  asset_key       = outsystems_asset_publication.wave4[each.key].asset_key
  revision        = outsystems_asset_publication.wave4[each.key].revision
  version         = var.release_version
  release_notes   = "First release after the migration from O11."
  keep_on_destroy = true
}

output "publish_order" {
  description = "The assets in the order they are published: producers first."
  value       = data.outsystems_odc_assets.migrated.publish_order
}

output "published" {
  description = "Every publication, by asset name: wave and revision."
  value = merge([
    for w, pubs in {
      1 = outsystems_asset_publication.wave1, 2 = outsystems_asset_publication.wave2,
      3 = outsystems_asset_publication.wave3, 4 = outsystems_asset_publication.wave4,
    } : { for name, p in pubs : name => "wave ${w}, revision ${p.revision}" }
  ]...)
}

output "released" {
  description = "Every library released, with its version."
  value = merge(
    { for name, r in outsystems_library_release.wave1 : name => r.version },
    { for name, r in outsystems_library_release.wave2 : name => r.version },
    { for name, r in outsystems_library_release.wave3 : name => r.version },
    { for name, r in outsystems_library_release.wave4 : name => r.version },
  )
}
