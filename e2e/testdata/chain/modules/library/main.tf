# Publish one migrated asset and, when it is a library, release it.
terraform {
  required_providers {
    outsystems = {
      source = "seed-1be1de96/outsystems"
    }
  }
}

variable "asset" {
  description = "The asset, as outsystems_code_migration.assets holds it."
  type = object({
    asset_key = string
    revision  = number
  })
}

variable "stage_key" {
  type = string
}

variable "release" {
  description = "Release the asset after publishing it (libraries)."
  type        = bool
  default     = true
}

variable "release_version" {
  type    = string
  default = "1.0.0"
}

resource "outsystems_asset_publication" "this" {
  asset_key = var.asset.asset_key
  revision  = var.asset.revision
  stage_key = var.stage_key
}

resource "outsystems_library_release" "this" {
  count           = var.release ? 1 : 0
  asset_key       = outsystems_asset_publication.this.asset_key
  revision        = outsystems_asset_publication.this.revision
  version         = var.release_version
  keep_on_destroy = true
}
