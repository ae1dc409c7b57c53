import {
  to = outsystems_stage_system_configuration.qa
  id = "7c1b5e2a-3f4d-4a6b-8c9d-0e1f2a3b4c5d"
}
