# The key of the publish operation (ODC Deployments API).
terraform import outsystems_asset_publication.customer_portal 7e6d5c4b-3a29-4817-a6f5-e4d3c2b1a098
