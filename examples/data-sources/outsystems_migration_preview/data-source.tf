# The mapping definitions, shared by the mappings and the preview.
variable "mappings" {
  type = map(object({
    asset_type = string
    apps       = list(string)
  }))
  default = {
    "Common Utils"    = { asset_type = "library", apps = ["Common Utils"] }
    "Policy Core"     = { asset_type = "library", apps = ["Policy Core"] }
    "Customer Portal" = { asset_type = "web_app", apps = ["Customer Portal"] }
  }
}

data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

data "outsystems_lifetime_application" "app" {
  for_each = toset(flatten([for m in var.mappings : m.apps]))
  name     = each.value
}

locals {
  definitions = {
    for name, m in var.mappings : name => {
      asset_type           = m.asset_type
      o11_application_keys = [for app in m.apps : data.outsystems_lifetime_application.app[app].key]
    }
  }
}

# Read at plan time, before any mapping exists.
data "outsystems_migration_preview" "wave" {
  source_environment_key = data.outsystems_lifetime_environment.dev.key
  mappings               = local.definitions

  lifecycle {
    postcondition {
      condition     = !self.blocked
      error_message = self.summary
    }
  }
}

resource "outsystems_app_mapping" "asset" {
  for_each             = local.definitions
  name                 = each.key
  asset_type           = each.value.asset_type
  o11_application_keys = each.value.o11_application_keys
}

# The first wave's assets, known at plan time: a for_each over them works on an empty state.
output "first_wave" {
  value = data.outsystems_migration_preview.wave.waves[0]
}

# Paste into a pull request comment inside a mermaid code block.
output "producer_graph" {
  value = data.outsystems_migration_preview.wave.mermaid
}
