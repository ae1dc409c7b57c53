data "outsystems_odc_stage" "production" {
  name = "Production"
}

variable "portal_app_key" {
  description = "Key of the Customer Portal app, deployed in Production."
  type        = string
}

# portal.example.com opens the Customer Portal in Production. Point the
# hostname's DNS at cname_value and add the certificate's validation record.
resource "outsystems_custom_domain" "portal" {
  stage_key       = data.outsystems_odc_stage.production.key
  hostname        = "portal.example.com"
  name            = "Customer portal"
  default_app_key = var.portal_app_key
  redirect_option = "Permanent"
}

output "portal_dns_records" {
  value = {
    (outsystems_custom_domain.portal.hostname)                          = outsystems_custom_domain.portal.cname_value
    (outsystems_custom_domain.portal.certificate_validation_cname_name) = outsystems_custom_domain.portal.certificate_validation_cname_value
  }
}
