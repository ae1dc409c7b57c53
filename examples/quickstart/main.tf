# Quickstart: tag the O11 apps that have changes since their last tag in
# Development, so the Migration Kit migrates what is running there.
#
# Against the sandbox: start it (`make sandbox`), paste the exports it prints,
# then `terraform apply`. The provider reads OUTSYSTEMS_LIFETIME_URL and
# OUTSYSTEMS_LIFETIME_TOKEN.
terraform {
  required_providers {
    outsystems = {
      source = "seed-1be1de96/outsystems"
    }
  }
}

provider "outsystems" {}

variable "apps" {
  description = "Names of the O11 apps to tag."
  type        = set(string)
  default     = ["Customer Portal", "Agent Mobile", "Policy Admin"]
}

data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

data "outsystems_lifetime_application" "app" {
  for_each = var.apps
  name     = each.value
}

resource "outsystems_lifetime_tag" "app" {
  for_each        = data.outsystems_lifetime_application.app
  environment_key = data.outsystems_lifetime_environment.dev.key
  application_key = each.value.key
  change_log      = "Tagged for the ODC migration"
}

output "tags" {
  description = "The tags created, by application name."
  value = {
    for name, tag in outsystems_lifetime_tag.app : name => {
      version     = tag.version
      version_key = tag.id
    }
  }
}
