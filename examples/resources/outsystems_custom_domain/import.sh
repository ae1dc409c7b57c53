# <stage_key>/<hostname> (or <stage_key>/<domain_key>).
terraform import outsystems_custom_domain.portal 7c1b5e2a-3f4d-4a6b-8c9d-0e1f2a3b4c5d/portal.example.com
