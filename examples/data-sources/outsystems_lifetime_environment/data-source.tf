# Name environments instead of using their GUIDs.
data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

output "development_key" {
  value = data.outsystems_lifetime_environment.dev.key
}
