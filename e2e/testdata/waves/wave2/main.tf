# Wave 2, in a state of its own: the apps that consume wave 1's libraries.
# It reads wave 1's outputs from wave 1's state and checks in ODC that those
# libraries are there before migrating anything.
terraform {
  required_providers {
    outsystems = {
      source = "seed-1be1de96/outsystems"
    }
  }
}

provider "outsystems" {}

variable "wave1_state" {
  description = "Path of wave 1's state."
  type        = string
  default     = "../wave1/terraform.tfstate"
}

variable "apps" {
  type    = list(string)
  default = ["Customer Portal", "Broker Portal"]
}

data "terraform_remote_state" "wave1" {
  backend = "local"
  config = {
    path = var.wave1_state
  }
}

# Wave 1's libraries as ODC knows them.
data "outsystems_odc_assets" "wave1" {
  names       = keys(data.terraform_remote_state.wave1.outputs.libraries)
  asset_types = { for name in keys(data.terraform_remote_state.wave1.outputs.libraries) : name => "library" }

  lifecycle {
    postcondition {
      condition     = alltrue([for name, l in data.terraform_remote_state.wave1.outputs.libraries : self.assets[name].key == l.asset_key])
      error_message = "Wave 1's state and ODC disagree on the libraries' keys."
    }
  }
}

data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

data "outsystems_lifetime_application" "app" {
  for_each = toset(var.apps)
  name     = each.value
}

data "outsystems_odc_stage" "dev" {
  purpose = "Development"
}

resource "outsystems_app_mapping" "app" {
  for_each             = data.outsystems_lifetime_application.app
  name                 = each.key
  asset_type           = "web_app"
  o11_application_keys = [each.value.key]
}

resource "outsystems_lifetime_tag" "app" {
  for_each        = data.outsystems_lifetime_application.app
  environment_key = data.outsystems_lifetime_environment.dev.key
  application_key = each.value.key
  change_log      = "Wave 2"
}

resource "outsystems_code_migration" "wave2" {
  source_environment_key = data.outsystems_lifetime_environment.dev.key
  mapping_ids            = [for m in outsystems_app_mapping.app : m.id]
  depends_on             = [outsystems_lifetime_tag.app, data.outsystems_odc_assets.wave1]
}

resource "outsystems_asset_publication" "app" {
  for_each  = toset(var.apps)
  asset_key = outsystems_code_migration.wave2.assets[each.key].asset_key
  revision  = outsystems_code_migration.wave2.assets[each.key].revision
  stage_key = data.outsystems_odc_stage.dev.key
}

output "tags" {
  value = { for name, t in outsystems_lifetime_tag.app : name => t.version }
}
