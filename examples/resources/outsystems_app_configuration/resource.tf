# Write-only attributes and ephemeral variables need Terraform 1.11+ (or OpenTofu 1.11+).
terraform {
  required_version = ">= 1.11"
}

variable "hr_app_key" {
  description = "Key of the migrated HR Self Service app (for example outsystems_code_migration.wave.assets[\"HR Self Service\"].asset_key)."
  type        = string
}

# Ephemeral: the value is kept in neither state nor plan files
# (Terraform 1.10+ / OpenTofu 1.11+); pass it with TF_VAR_payroll_api_token.
variable "payroll_api_token" {
  type      = string
  sensitive = true
  ephemeral = true
}

data "outsystems_odc_stage" "qa" {
  name = "QA"
}

# The app's configuration in QA, applied at once (ApplyConfigs).
resource "outsystems_app_configuration" "hr_qa" {
  asset_key = var.hr_app_key
  stage_key = data.outsystems_odc_stage.qa.key
  apply     = true

  # O11 site properties become ODC settings; values are text.
  settings = {
    MaxUploadMB = "25"
    WelcomeText = "Welcome to HR (QA)"
  }
  timers       = { SyncEmployees = false }
  integrations = { PayrollService = "https://payroll.qa.acme.example/api" }

  # Settings of the libraries the app consumes are set through the app.
  library_settings = {
    "Acme Theme" = { BrandColor = "#003366" }
  }

  # Write-only (Terraform 1.11+ / OpenTofu 1.11+): never stored in state.
  # PayrollApiToken was secret in O11 and arrives in ODC as an ordinary
  # setting: mark it secret in ODC Studio and publish before applying this.
  secret_settings_wo         = { PayrollApiToken = var.payroll_api_token }
  secret_settings_wo_version = "2026-11" # change it after rotating the secret
}
