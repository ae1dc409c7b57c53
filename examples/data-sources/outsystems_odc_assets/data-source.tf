# The assets a code migration run in the ODC portal produced, by name.
data "outsystems_odc_assets" "wave" {
  names = ["Acme Theme", "Customer Core", "Customer Portal"]

  # Optional: fail before publishing when an asset is not of the type expected.
  asset_types = {
    "Acme Theme"      = "library"
    "Customer Core"   = "library"
    "Customer Portal" = "app"
  }
}

output "publish_order" {
  description = "Producers first."
  value       = data.outsystems_odc_assets.wave.publish_order
}

output "revisions" {
  value = { for name, a in data.outsystems_odc_assets.wave.assets : name => "${a.key} revision ${a.revision}, wave ${a.publish_wave}" }
}

output "publish_first" {
  description = "Producers outside names: they must be published (and released) already."
  value       = [for p in data.outsystems_odc_assets.wave.external_producers : p.name]
}
