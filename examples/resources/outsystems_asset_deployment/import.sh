# "<stage_key>/<asset_key>": the deployment of the app in that stage, whatever revision it holds.
terraform import outsystems_asset_deployment.orders_portal 5915f4d3-73fb-4788-88c9-57f364bda60b/7e6d5c4b-3a29-4817-a6f5-e4d3c2b1a098
