# Gate a promotion on ODC's code-quality analysis of the revision to promote.
# The first read of a revision with no analysis starts one and waits for it.
data "outsystems_odc_assets" "portal" {
  names = ["Customer Portal"]
}

locals {
  portal = data.outsystems_odc_assets.portal.assets["Customer Portal"]
}

data "outsystems_code_quality" "portal" {
  asset_key = local.portal.key
  revision  = local.portal.revision

  timeouts = {
    read = "20m"
  }

  lifecycle {
    postcondition {
      condition     = self.critical_findings == 0
      error_message = "Customer Portal revision ${self.revision} has ${self.critical_findings} critical code-quality findings (by category: ${jsonencode(self.findings_by_category)}). Fix them in ODC Studio before promoting it."
    }
  }
}

output "portal_quality" {
  value = {
    score       = data.outsystems_code_quality.portal.score
    by_severity = data.outsystems_code_quality.portal.findings_by_severity
  }
}
