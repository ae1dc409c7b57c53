// Command pprofprovider serves the OutSystems provider, like the real
// binary, with a CPU profile of the process written to
// $BENCH_PPROF_DIR/cpu-<pid>.pprof when Terraform stops it. It is a
// diagnostic of tools/bench: install it in place of the provider through
// dev_overrides and read the profiles with go tool pprof.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/provider"
)

func main() {
	if dir := os.Getenv("BENCH_PPROF_DIR"); dir != "" {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", os.Getpid())))
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	provider.QuietSDKLogs() // as the released binary's main does
	err := providerserver.Serve(context.Background(), provider.New("pprof"), providerserver.ServeOpts{Address: provider.Address})
	if err != nil {
		log.Print(err)
	}
}
