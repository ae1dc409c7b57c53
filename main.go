// Command terraform-provider-outsystems is the Terraform provider for the
// OutSystems 11 to ODC code migration.
package main

import (
	"context"
	"flag"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/provider"
)

// quietSDKLogs turns the plugin SDK's own trace logging off when no log is
// asked for. Without a level, terraform-plugin-go and the framework log every
// RPC and attribute at TRACE anyway; Terraform parses each line only to drop
// it, which made a 500-resource plan spend a quarter of its CPU on logs (make
// bench). Any TF_LOG* setting keeps today's behaviour.
func quietSDKLogs() {
	for _, v := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		if os.Getenv(v) != "" {
			return
		}
	}
	for _, v := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
		_ = os.Setenv(v, "off")
	}
}

// version is set by the release build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	quietSDKLogs()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: provider.Address,
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
