# Quickstart: map a few O11 apps to ODC assets, gate on their readiness, and
# tag them in LifeTime so the Migration Kit migrates what runs in Development.
#
# Against the sandbox: start it (`make sandbox`), paste the export lines it
# prints, then `terraform apply`. The provider reads its settings from the
# OUTSYSTEMS_* environment variables.
terraform {
  required_providers {
    outsystems = {
      source = "seed-1be1de96/outsystems"
    }
  }
}

provider "outsystems" {}

variable "mappings" {
  description = "ODC assets to create, by name: the asset type and the O11 apps mapped to it."
  type = map(object({
    asset_type = string
    apps       = list(string)
  }))
  default = {
    "Common Utils"    = { asset_type = "library", apps = ["Common Utils"] }
    "Customer Core"   = { asset_type = "library", apps = ["Customer Core"] }
    "Policy Core"     = { asset_type = "library", apps = ["Policy Core"] }
    "Customer Portal" = { asset_type = "web_app", apps = ["Customer Portal"] }
  }
}

locals {
  apps = toset(flatten([for m in var.mappings : m.apps]))
}

data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

data "outsystems_lifetime_application" "app" {
  for_each = local.apps
  name     = each.value
}

resource "outsystems_app_mapping" "asset" {
  for_each             = var.mappings
  name                 = each.key
  asset_type           = each.value.asset_type
  o11_application_keys = [for app in each.value.apps : data.outsystems_lifetime_application.app[app].key]
}

# The gate: the plan (or apply, for new mappings) fails with every asset that
# is not Ready for ODC and its findings.
data "outsystems_migration_readiness" "plan" {
  mapping_ids = [for m in outsystems_app_mapping.asset : m.id]

  lifecycle {
    postcondition {
      condition     = self.all_ready
      error_message = self.summary
    }
  }
}

# Tag every mapped app after mapping it: the latest tag is what gets migrated.
resource "outsystems_lifetime_tag" "app" {
  for_each        = data.outsystems_lifetime_application.app
  environment_key = data.outsystems_lifetime_environment.dev.key
  application_key = each.value.key
  change_log      = "Mapped and ready for ODC"

  depends_on = [data.outsystems_migration_readiness.plan]
}

output "readiness" {
  description = "Readiness of the mapped assets."
  value       = data.outsystems_migration_readiness.plan.summary
}

output "tags" {
  description = "The tags created, by application name."
  value       = { for name, tag in outsystems_lifetime_tag.app : name => tag.version }
}
