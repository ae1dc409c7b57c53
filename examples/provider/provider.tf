terraform {
  required_providers {
    outsystems = {
      source = "seed-1be1de96/outsystems"
    }
  }
}

# Configure the services your resources use; each setting falls back to its
# OUTSYSTEMS_* environment variable, so `provider "outsystems" {}` is enough
# when the environment carries them (HCP Terraform, CI, the sandbox).
provider "outsystems" {
  lifetime = {
    url   = "https://lifetime.example.com" # or OUTSYSTEMS_LIFETIME_URL
    token = var.lifetime_token             # or OUTSYSTEMS_LIFETIME_TOKEN
    # Behind an internal certificate authority (on-premises O11):
    # ca_certificate = file("internal-ca.pem") # or OUTSYSTEMS_LIFETIME_CA_CERTIFICATE
  }

  assessment = {
    url = "https://dev.example.com/MigrationAssessment" # or OUTSYSTEMS_ASSESSMENT_URL
    # token: OUTSYSTEMS_ASSESSMENT_TOKEN, else the LifeTime token
    # ca_certificate = file("internal-ca.pem") # or OUTSYSTEMS_ASSESSMENT_CA_CERTIFICATE
  }

  odc = {
    portal_url    = "https://acme.outsystems.dev" # or OUTSYSTEMS_ODC_PORTAL_URL
    client_id     = var.odc_client_id             # or OUTSYSTEMS_ODC_CLIENT_ID
    client_secret = var.odc_client_secret         # or OUTSYSTEMS_ODC_CLIENT_SECRET
  }

  max_retries = 4 # or OUTSYSTEMS_MAX_RETRIES
}

variable "lifetime_token" {
  description = "Token of a LifeTime service account."
  type        = string
  sensitive   = true
}

variable "odc_client_id" {
  description = "ID of the ODC API client."
  type        = string
}

variable "odc_client_secret" {
  description = "Secret of the ODC API client."
  type        = string
  sensitive   = true
}
