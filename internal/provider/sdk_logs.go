package provider

import "os"

// QuietSDKLogs turns the plugin SDK's own trace logging off when no log is
// asked for. Without a level, terraform-plugin-go and the framework log every
// RPC and attribute at TRACE anyway; Terraform parses each line only to drop
// it, which made a 500-resource plan spend a quarter of its CPU on logs (make
// bench). Any TF_LOG* setting keeps today's behaviour. The provider's main
// calls it before serving, and so do tools/bench's profiled build and
// same-schema floor, so they pay for logs exactly as the released binary.
func QuietSDKLogs() {
	for _, v := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		if os.Getenv(v) != "" {
			return
		}
	}
	for _, v := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		_ = os.Setenv(v, "off")
	}
}
