# A team that reviews the mapping first (terraform apply -target on the
# mapping, then looks at the assessment), then migrates, publishes and
# releases. Two O11 library apps become one ODC library.
terraform {
  required_providers {
    outsystems = {
      source = "seed-1be1de96/outsystems"
    }
  }
}

provider "outsystems" {}

variable "asset_name" {
  type    = string
  default = "Utilities"
}

variable "apps" {
  type    = list(string)
  default = ["Common Utils", "Notifications"]
}

variable "stage" {
  description = "Name of the ODC stage the library is published to."
  type        = string
  default     = "Development"
}

variable "library_version" {
  description = "Version of the library's release: above every earlier release of the library."
  type        = string
  default     = "1.0.0"
}

data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

data "outsystems_lifetime_application" "app" {
  for_each = toset(var.apps)
  name     = each.value
}

data "outsystems_odc_stage" "target" {
  name = var.stage
}

resource "outsystems_app_mapping" "utilities" {
  name                 = var.asset_name
  asset_type           = "library"
  o11_application_keys = [for a in data.outsystems_lifetime_application.app : a.key]
  description          = "Shared utilities, merged."
}

resource "outsystems_code_migration" "utilities" {
  source_environment_key = data.outsystems_lifetime_environment.dev.key
  mapping_ids            = [outsystems_app_mapping.utilities.id]
}

resource "outsystems_asset_publication" "utilities" {
  asset_key = outsystems_code_migration.utilities.assets[outsystems_app_mapping.utilities.name].asset_key
  revision  = outsystems_code_migration.utilities.assets[outsystems_app_mapping.utilities.name].revision
  stage_key = data.outsystems_odc_stage.target.key
}

resource "outsystems_library_release" "utilities" {
  asset_key       = outsystems_asset_publication.utilities.asset_key
  revision        = outsystems_asset_publication.utilities.revision
  version         = var.library_version
  keep_on_destroy = true
}

output "status" {
  value = outsystems_app_mapping.utilities.status
}
