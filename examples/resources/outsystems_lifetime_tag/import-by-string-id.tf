import {
  to = outsystems_lifetime_tag.portal
  id = "4d3c2b1a-9e8f-4a7b-8c6d-5e4f3a2b1c0d/6f1c0b4e-2a7d-4c1e-9b3a-5d8e7f6a1b2c/0b9d4e3a-7c21-4f5e-8a6b-1c2d3e4f5a6b"
}
