import {
  to = outsystems_code_migration.wave
  id = "2c4e6a8b-1d3f-4b5a-8c7e-9f0a1b2c3d4e"
}
