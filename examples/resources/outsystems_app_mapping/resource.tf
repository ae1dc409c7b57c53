data "outsystems_lifetime_application" "app" {
  for_each = toset(["Customer Core", "Claims Backoffice", "Policy Admin"])
  name     = each.value
}

# A library, from one library-only O11 app.
resource "outsystems_app_mapping" "customer_core" {
  name                 = "Customer Core"
  asset_type           = "library"
  o11_application_keys = [data.outsystems_lifetime_application.app["Customer Core"].key]
  description          = "Customer entities and core services"
}

# One ODC web app from two reactive O11 apps.
resource "outsystems_app_mapping" "backoffice" {
  name       = "Backoffice"
  asset_type = "web_app"
  o11_application_keys = [
    data.outsystems_lifetime_application.app["Claims Backoffice"].key,
    data.outsystems_lifetime_application.app["Policy Admin"].key,
  ]

  timeouts = {
    create = "30m"
    update = "30m"
  }
}

output "backoffice_status" {
  description = "ReadyForOdc, ChangeInOdc, NotReady or Assessing."
  value       = outsystems_app_mapping.backoffice.status
}
