# <asset_key>/<revision> of the released library revision.
terraform import outsystems_library_release.customer_core 3f2504e0-4f89-41d3-9a0c-0305e82c3301/4
