# Promote what a migration published to a later stage (QA by default):
# gate every app on ODC's code-quality analysis, set the stage's defaults,
# deploy the apps producers first, and configure each one for the stage.
#
# This is a configuration (and state) of its own, apart from examples/complete:
# the "migrate" pipeline owns the mappings, tags, migration, publications and
# releases; this "promote" pipeline only reads the migrated assets by name and
# owns what the stage holds. Run it once per stage, each stage in its own
# state (workspace or backend key), with that stage's values:
#
#   terraform apply                                          # QA
#   terraform apply -var stage=Production -var-file=production.tfvars
#
# Libraries are never deployed: ODC bundles each released library into the
# apps that consume it, so only apps are listed here.
#
# Secrets (secret settings, the SMTP password) are left out: they go through
# write-only attributes, which need Terraform 1.11+ or OpenTofu 1.11+; the
# guide "From O11 to Production" shows them.
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

variable "stage" {
  description = "Name of the stage to promote to (any stage after Development)."
  type        = string
  default     = "QA"
}

variable "apps" {
  description = "The migrated apps to promote, by ODC asset name."
  type        = list(string)
  # Claims Backoffice is left out on purpose: its migrated revision has 2
  # critical code-quality findings (an SQL injection and a hard-coded
  # secret), so the gate below would stop the whole plan. Once they are fixed
  # in ODC Studio and the new revision is published, add it:
  #   terraform apply -var 'apps=["Customer Portal", "Broker Portal", "HR Self Service", "Agent Mobile", "Claims Backoffice"]'
  default = ["Customer Portal", "Broker Portal", "HR Self Service", "Agent Mobile"]
}

variable "revisions" {
  description = "Revisions to promote instead of each app's latest, by app name: in a Production pipeline, the revisions QA validated (this configuration's `revisions` output in QA's state)."
  type        = map(number)
  default     = {}
}

variable "configuration" {
  description = "The stage's values of each app, by app name: settings and integrations (base URLs of consumed REST APIs) by name, and whether each timer runs. Only the names given are managed."
  type = map(object({
    settings     = optional(map(string), {})
    timers       = optional(map(bool), {})
    integrations = optional(map(string), {})
  }))
  default = {
    "Customer Portal" = {
      settings     = { SessionTimeoutMinutes = "30", SupportEmail = "support-qa@acme.example" }
      timers       = { SendRenewalReminders = false } # no reminder emails to policyholders from QA
      integrations = { PaymentGateway = "https://payments.qa.acme.example/api/v2" }
    }
    "HR Self Service" = {
      settings     = { WelcomeText = "HR Self Service (QA)" }
      timers       = { SyncEmployees = true }
      integrations = { PayrollService = "https://payroll.qa.acme.example/api" }
    }
  }
}

variable "system_configuration" {
  description = "The stage's default system configurations (SMTP and the others), by name. Only the names given are managed."
  type        = map(string)
  default = {
    SMTPServer         = "smtp.qa.acme.example"
    SMTPPort           = "587"
    SMTPUsername       = "odc-qa-mailer"
    EmailSenderAddress = "no-reply-qa@acme.example"
  }
}

data "outsystems_odc_stage" "target" {
  name = var.stage

  lifecycle {
    postcondition {
      condition     = self.order > 1
      error_message = "Stage ${var.stage} is the Development stage: publish there (examples/complete) and promote to the stages after it."
    }
  }
}

# 1. The migrated apps, by name, with their latest revision and the waves
#    among them: an app that consumes another app's public elements is
#    deployed after it.
data "outsystems_odc_assets" "apps" {
  names       = var.apps
  asset_types = { for name in var.apps : name => "app" }

  lifecycle {
    postcondition {
      condition     = length(self.waves) <= 3
      error_message = "This configuration deploys 3 waves of apps; add a wave block for the deeper producer chains."
    }
    postcondition {
      condition     = alltrue([for p in self.external_producers : p.asset_type == "library"])
      error_message = "Some apps consume apps not listed in var.apps: ${join(", ", [for p in self.external_producers : p.name if p.asset_type != "library"])}. Add them, or deploy them to ${var.stage} first."
    }
  }
}

# 2. The gate: no app reaches the stage with critical code-quality findings.
#    The first read of a revision starts ODC's analysis and waits for it.
data "outsystems_code_quality" "app" {
  for_each  = data.outsystems_odc_assets.apps.assets
  asset_key = each.value.key
  revision  = lookup(var.revisions, each.key, each.value.revision)

  lifecycle {
    postcondition {
      condition     = self.critical_findings == 0
      error_message = "${each.key} revision ${self.revision} has ${self.critical_findings} critical code-quality findings (all findings by category: ${jsonencode(self.findings_by_category)}). Fix them in ODC Studio, publish, and promote the new revision; or leave the app out of var.apps."
    }
  }
}

# 3. The stage's defaults, before any app arrives.
resource "outsystems_stage_system_configuration" "target" {
  stage_key = data.outsystems_odc_stage.target.key
  values    = var.system_configuration
}

# 4. Deploy, producers first: wave N waits for the deployments of wave N-1.
#    Each deployment takes the revision the gate passed (a Release build,
#    then ODC's Deploy). Destroying this configuration leaves the apps
#    deployed (undeploy_on_destroy is false by default).
locals {
  assets = data.outsystems_odc_assets.apps.assets
  wave = {
    for w in [1, 2, 3] : w => {
      for name, a in local.assets : name => {
        key      = a.key
        revision = data.outsystems_code_quality.app[name].revision
      } if a.publish_wave == w
    }
  }
}

resource "outsystems_asset_deployment" "wave1" {
  for_each   = local.wave[1]
  stage_key  = data.outsystems_odc_stage.target.key
  asset_key  = each.value.key
  revision   = each.value.revision
  depends_on = [outsystems_stage_system_configuration.target]
}

resource "outsystems_asset_deployment" "wave2" {
  for_each   = local.wave[2]
  stage_key  = data.outsystems_odc_stage.target.key
  asset_key  = each.value.key
  revision   = each.value.revision
  depends_on = [outsystems_asset_deployment.wave1]
}

resource "outsystems_asset_deployment" "wave3" {
  for_each   = local.wave[3]
  stage_key  = data.outsystems_odc_stage.target.key
  asset_key  = each.value.key
  revision   = each.value.revision
  depends_on = [outsystems_asset_deployment.wave2]
}

# 5. Configure each app in the stage. ODC holds an app's configuration in a
#    stage once the app is deployed there, so the first promotion deploys,
#    then sets the values and applies them (ApplyConfigs). Later, values
#    changed here are applied at once, and a Deploy of a later revision
#    applies whatever is pending in the stage.
locals {
  deployed = merge(outsystems_asset_deployment.wave1, outsystems_asset_deployment.wave2, outsystems_asset_deployment.wave3)
}

resource "outsystems_app_configuration" "app" {
  for_each     = { for name, c in var.configuration : name => c if contains(var.apps, name) }
  stage_key    = data.outsystems_odc_stage.target.key
  asset_key    = local.deployed[each.key].asset_key
  settings     = each.value.settings
  timers       = each.value.timers
  integrations = each.value.integrations
  apply        = true
}

output "deployed" {
  description = "What the stage holds, by app name: the revision deployed and its wave."
  value = merge([
    for w, deps in {
      1 = outsystems_asset_deployment.wave1, 2 = outsystems_asset_deployment.wave2, 3 = outsystems_asset_deployment.wave3,
    } : { for name, d in deps : name => "revision ${d.revision}, wave ${w}" }
  ]...)
}

output "revisions" {
  description = "The revision deployed in the stage, by app name: what the next stage's pipeline takes as var.revisions."
  value       = { for name, d in local.deployed : name => d.revision }
}

output "code_quality" {
  description = "The gate's reading of each app: score and findings by severity."
  value = {
    for name, q in data.outsystems_code_quality.app : name =>
    "score ${q.score}, ${q.critical_findings} critical, ${q.total_findings} findings in all"
  }
}

output "configured" {
  description = "Each configured app's revision in the stage and whether a value is still pending."
  value = {
    for name, c in outsystems_app_configuration.app : name =>
    "revision ${c.revision}, ${c.pending ? "values pending" : "values applied"}"
  }
}
