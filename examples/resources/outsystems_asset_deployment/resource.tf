data "outsystems_odc_stage" "qa" {
  name = "QA"
}

data "outsystems_odc_assets" "orders" {
  names       = ["Orders API", "Orders Portal"]
  asset_types = { "Orders API" = "app", "Orders Portal" = "app" }
}

locals {
  # Keyed by asset name.
  assets = data.outsystems_odc_assets.orders.assets
}

# Producers first: Orders Portal consumes service actions of Orders API, so
# its deployment depends on the API's. The libraries both consume need no
# deployment: ODC bundles them into each app.
resource "outsystems_asset_deployment" "orders_api" {
  stage_key = data.outsystems_odc_stage.qa.key
  asset_key = local.assets["Orders API"].key
  revision  = local.assets["Orders API"].revision
}

resource "outsystems_asset_deployment" "orders_portal" {
  stage_key = data.outsystems_odc_stage.qa.key
  asset_key = local.assets["Orders Portal"].key
  revision  = local.assets["Orders Portal"].revision

  # Remove the app from QA when this resource is destroyed.
  undeploy_on_destroy = true

  timeouts = {
    create = "90m"
    update = "90m"
  }

  depends_on = [outsystems_asset_deployment.orders_api]
}
