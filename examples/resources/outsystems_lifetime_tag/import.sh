# <application_key>/<version_key>: the environment is the one the version runs in.
terraform import outsystems_lifetime_tag.portal 6f1c0b4e-2a7d-4c1e-9b3a-5d8e7f6a1b2c/0b9d4e3a-7c21-4f5e-8a6b-1c2d3e4f5a6b

# <environment_key>/<application_key>/<version_key>: a version that runs in no environment, or in several.
terraform import outsystems_lifetime_tag.portal 4d3c2b1a-9e8f-4a7b-8c6d-5e4f3a2b1c0d/6f1c0b4e-2a7d-4c1e-9b3a-5d8e7f6a1b2c/0b9d4e3a-7c21-4f5e-8a6b-1c2d3e4f5a6b
