# <stage_key>/<asset_key>: the stage and the app.
terraform import outsystems_app_configuration.hr_qa 5915f4d3-73fb-4788-88c9-57f364bda60b/3f2504e0-4f89-41d3-9a0c-0305e82c3301
