# The whole code migration of a wave, as in OutSystems' "Code migration using
# the tool": map O11 apps to ODC assets, gate on readiness, tag the apps in
# LifeTime, migrate, then publish every produced asset and release every
# library, producers first.
#
# One `terraform apply`, even on an empty state: the Migration Kit's preview
# (data.outsystems_migration_preview) reads the same definitions the mappings
# are made of at plan time, so the plan already shows every asset with its
# apps, versions, modules, wave and order, and the per-wave for_each below is
# known before any mapping exists. The migration checks it converts what the
# plan showed (expected_versions, expected_publish_order).
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

variable "mappings" {
  description = "The migration plan: ODC assets by name, with their type and the O11 apps mapped to each."
  type = map(object({
    asset_type = string
    apps       = list(string)
  }))
  default = {
    "Acme Theme"        = { asset_type = "library", apps = ["Acme Theme"] }
    "Common Utils"      = { asset_type = "library", apps = ["Common Utils"] }
    "Customer Core"     = { asset_type = "library", apps = ["Customer Core"] }
    "Policy Core"       = { asset_type = "library", apps = ["Policy Core"] }
    "Claims Core"       = { asset_type = "library", apps = ["Claims Core"] }
    "Notifications"     = { asset_type = "library", apps = ["Notifications"] }
    "Customer Portal"   = { asset_type = "web_app", apps = ["Customer Portal"] }
    "Broker Portal"     = { asset_type = "web_app", apps = ["Broker Portal"] }
    "HR Self Service"   = { asset_type = "web_app", apps = ["HR Self Service"] }
    "Claims Backoffice" = { asset_type = "web_app", apps = ["Claims Backoffice"] }
    "Agent Mobile"      = { asset_type = "mobile_app", apps = ["Agent Mobile"] }
  }
}

variable "release_version" {
  description = "Version given to the first release of every migrated library."
  type        = string
  default     = "1.0.0"
}

locals {
  apps = toset(flatten([for m in var.mappings : m.apps]))
  # The definitions the mappings and the preview share.
  definitions = {
    for name, m in var.mappings : name => {
      asset_type           = m.asset_type
      o11_application_keys = [for app in m.apps : data.outsystems_lifetime_application.app[app].key]
    }
  }
}

data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

data "outsystems_lifetime_application" "app" {
  for_each = local.apps
  name     = each.value
}

data "outsystems_odc_stage" "dev" {
  purpose = "Development"
}

# 0. Review: what the migration will take, known at plan time.
data "outsystems_migration_preview" "wave" {
  source_environment_key = data.outsystems_lifetime_environment.dev.key
  mappings               = local.definitions

  lifecycle {
    postcondition {
      condition     = !self.blocked
      error_message = self.summary
    }
    postcondition {
      condition     = length(self.waves) <= 4
      error_message = "This configuration publishes 4 waves; add a wave block for the deeper producer chains."
    }
  }
}

# The review record: the plan of a new wave shows the preview's summary (every
# asset by wave with its apps, the versions migrated, their modules and the
# findings); it keeps the summary this wave was applied with, so later tags do
# not show as changes.
resource "terraform_data" "reviewed_preview" {
  input = data.outsystems_migration_preview.wave.summary

  lifecycle {
    ignore_changes = [input]
  }
}

# 1. Map the O11 apps to ODC assets (assessment tool).
resource "outsystems_app_mapping" "asset" {
  for_each             = local.definitions
  name                 = each.key
  asset_type           = each.value.asset_type
  o11_application_keys = each.value.o11_application_keys
}

# 2. Every asset must be Ready for ODC (or Change in ODC).
data "outsystems_migration_readiness" "plan" {
  mapping_ids = [for m in outsystems_app_mapping.asset : m.id]

  lifecycle {
    postcondition {
      condition     = self.all_ready
      error_message = self.summary
    }
  }
}

# 3. Tag the apps after mapping them: the latest tag is what gets migrated.
resource "outsystems_lifetime_tag" "app" {
  for_each        = data.outsystems_lifetime_application.app
  environment_key = data.outsystems_lifetime_environment.dev.key
  application_key = each.value.key
  change_log      = "Ready for ODC"

  depends_on = [data.outsystems_migration_readiness.plan]
}

# 4. Migrate. The preflight refuses untagged changes and assets not ready;
#    the migration fails, naming what changed, when it would convert other
#    versions (apps tagged since the plan, other than by the tags above) or
#    publish in another order than the plan's preview showed.
resource "outsystems_code_migration" "wave" {
  source_environment_key = data.outsystems_lifetime_environment.dev.key
  mapping_ids            = [for m in outsystems_app_mapping.asset : m.id]
  expected_versions      = data.outsystems_migration_preview.wave.versions
  expected_publish_order = data.outsystems_migration_preview.wave.publish_order

  depends_on = [outsystems_lifetime_tag.app]
}

# 5. Publish and release, producers first: wave N waits for the releases of
#    wave N-1, and each release waits for its own publication. The waves come
#    from the preview (known at plan time); the keys and revisions from the
#    migration.
locals {
  preview = data.outsystems_migration_preview.wave.assets
  wave = {
    for w in [1, 2, 3, 4] : w => {
      for name, a in local.preview : name => {
        asset_type = a.asset_type
        asset_key  = outsystems_code_migration.wave.assets[name].asset_key
        revision   = outsystems_code_migration.wave.assets[name].revision
      } if a.publish_wave == w
    }
  }
  libs = { for w in [1, 2, 3, 4] : w => { for name, a in local.preview : name => a if a.publish_wave == w && a.asset_type == "library" } }
}

resource "outsystems_asset_publication" "wave1" {
  for_each  = local.wave[1]
  asset_key = each.value.asset_key
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
  asset_key  = each.value.asset_key
  revision   = each.value.revision
  stage_key  = data.outsystems_odc_stage.dev.key
  depends_on = [outsystems_library_release.wave1]
}

resource "outsystems_library_release" "wave2" {
  for_each      = local.libs[2]
  asset_key     = outsystems_asset_publication.wave2[each.key].asset_key
  revision      = outsystems_asset_publication.wave2[each.key].revision
  version       = var.release_version
  release_notes = "First release after the migration from O11."
  # Consumers depend on these releases: destroying this configuration only forgets them.
  keep_on_destroy = true
}

resource "outsystems_asset_publication" "wave3" {
  for_each   = local.wave[3]
  asset_key  = each.value.asset_key
  revision   = each.value.revision
  stage_key  = data.outsystems_odc_stage.dev.key
  depends_on = [outsystems_library_release.wave2]
}

resource "outsystems_library_release" "wave3" {
  for_each      = local.libs[3]
  asset_key     = outsystems_asset_publication.wave3[each.key].asset_key
  revision      = outsystems_asset_publication.wave3[each.key].revision
  version       = var.release_version
  release_notes = "First release after the migration from O11."
  # Consumers depend on these releases: destroying this configuration only forgets them.
  keep_on_destroy = true
}

resource "outsystems_asset_publication" "wave4" {
  for_each   = local.wave[4]
  asset_key  = each.value.asset_key
  revision   = each.value.revision
  stage_key  = data.outsystems_odc_stage.dev.key
  depends_on = [outsystems_library_release.wave3]
}

resource "outsystems_library_release" "wave4" {
  for_each      = local.libs[4]
  asset_key     = outsystems_asset_publication.wave4[each.key].asset_key
  revision      = outsystems_asset_publication.wave4[each.key].revision
  version       = var.release_version
  release_notes = "First release after the migration from O11."
  # Consumers depend on these releases: destroying this configuration only forgets them.
  keep_on_destroy = true
}

output "publish_order" {
  description = "The migrated assets in the order they are published: producers first."
  value       = outsystems_code_migration.wave.publish_order
}

output "waves" {
  description = "Each asset's publish wave and order, and its O11 apps, from the preview (known at plan time)."
  value = {
    for name, a in data.outsystems_migration_preview.wave.assets : name =>
    "wave ${a.publish_wave}, #${a.publish_order}: ${join(", ", [for app in a.applications : app.name])}"
  }
}

output "producer_graph" {
  description = "The producer graph by wave, as a Mermaid flowchart (post it in a pull request inside a mermaid code block)."
  value       = data.outsystems_migration_preview.wave.mermaid
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
