package provider

import "os"

// QuietSDKLogs turns the plugin SDK's own trace logging, and the provider's
// own logger (TF_LOG_PROVIDER_OUTSYSTEMS), off when no log is asked for.
// Without a level, terraform-plugin-go and the framework log every RPC and
// attribute at TRACE anyway; Terraform parses each line only to drop it,
// which made a 500-resource plan spend a quarter of its CPU on logs (make
// bench); our own per-request DEBUG lines were another 2 % of the provider's
// CPU. Terraform drops every provider line when neither TF_LOG nor
// TF_LOG_PROVIDER is set, so nobody could read them. Any TF_LOG* setting
// keeps today's behaviour. The provider's main calls it before serving, and
// so do tools/bench's profiled build and same-schema floor, so they pay for
// logs exactly as the released binary does.
func QuietSDKLogs() {
	for _, v := range logSettings() {
		if os.Getenv(v) != "" {
			return
		}
	}
	for _, v := range quietedLogs {
		_ = os.Setenv(v, "off")
	}
}

// quietedLogs are the loggers QuietSDKLogs turns off: terraform-plugin-go's,
// its protocol logger, the framework's and the provider's own.
var quietedLogs = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_PROVIDER_OUTSYSTEMS"}

// logSettings are the variables any of which means a log was asked for.
func logSettings() []string {
	return append([]string{"TF_LOG", "TF_LOG_PROVIDER"}, quietedLogs...)
}
