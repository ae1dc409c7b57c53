# By name, as the ODC portal shows it.
data "outsystems_odc_stage" "qa" {
  name = "QA"
}

# By purpose: the first stage in order with that purpose.
data "outsystems_odc_stage" "dev" {
  purpose = "Development"
}

output "stage_keys" {
  value = {
    development = data.outsystems_odc_stage.dev.key
    qa          = data.outsystems_odc_stage.qa.key
  }
}
