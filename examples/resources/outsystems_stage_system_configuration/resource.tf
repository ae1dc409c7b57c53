# Write-only attributes and ephemeral variables need Terraform 1.11+ (or OpenTofu 1.11+).
terraform {
  required_version = ">= 1.11"
}

# The SMTP server apps in the QA stage send email through. Only the values
# named here are managed; the stage's other defaults are left alone.
data "outsystems_odc_stage" "qa" {
  name = "QA"
}

variable "qa_smtp_password" {
  description = "Password of the QA SMTP account. Write-only: it never lands in state (Terraform 1.11+)."
  type        = string
  sensitive   = true
  ephemeral   = true
}

resource "outsystems_stage_system_configuration" "qa" {
  stage_key = data.outsystems_odc_stage.qa.key
  values = {
    SMTPServer         = "smtp.example.com"
    SMTPPort           = "587"
    SMTPUsername       = "odc-qa-mailer"
    SMTPUseTLS         = "True"
    EmailSenderAddress = "no-reply@example.com"
  }
  # Write-only: sent at create and whenever the version changes.
  smtp_password_wo         = var.qa_smtp_password
  smtp_password_wo_version = 1
}
