package provider

import (
	"context"
	"slices"
	"testing"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// TestMissingProducers: the gate asks ok about each direct producer ODC
// reports (only libraries when asked), reads each revision's referenced
// elements once per process, and never calls the Migration Kit.
func TestMissingProducers(t *testing.T) {
	e := newTestEnv(t)
	const (
		lib1 = "1a2b3c4d-0000-4000-8000-000000000001"
		lib2 = "1a2b3c4d-0000-4000-8000-000000000002"
		app1 = "1a2b3c4d-0000-4000-8000-000000000003"
		app2 = "1a2b3c4d-0000-4000-8000-000000000004"
	)
	for _, a := range []odc.MigratedAsset{
		{Key: lib1, Name: "Base Lib", AssetType: client.AssetTypeLibrary},
		{Key: lib2, Name: "Another Lib", AssetType: client.AssetTypeLibrary},
		{Key: app1, Name: "Service App", AssetType: client.AssetTypeWebApplication},
		{Key: app2, Name: "Front App", AssetType: client.AssetTypeMobileApplication, Producers: []string{lib1, lib2, app1}},
	} {
		if err := e.sb.SeedODCAsset(a); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	d := &providerData{stages: &memo[[]client.Stage]{}}
	c := e.odcClient()
	var asked []string
	ok := func(p client.ReferencedProducer) (bool, error) {
		asked = append(asked, p.Name)
		return p.AssetKey == lib2, nil
	}
	missing, err := missingProducers(ctx, d, c, app2, 1, ok)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Another Lib", "Base Lib", "Service App"}; !slices.Equal(asked, want) {
		t.Errorf("asked about %v, want %v", asked, want)
	}
	if got := producerLabels(missing); got != `"Base Lib" (asset `+lib1+`), "Service App" (asset `+app1+`)` {
		t.Errorf("missing = %s", got)
	}

	before := e.sb.RequestStats().ByFamily[sandbox.FamilyODC].Requests
	asked = nil
	// Libraries only (what a release checks), from the cached producers.
	all, err := d.revisionProducers(ctx, c, app2, 1)
	missing = nil
	for _, p := range gatedProducers(all, app2, true) {
		if done, _ := ok(p); !done {
			missing = append(missing, p)
		}
	}
	if err != nil || len(missing) != 1 || missing[0].AssetKey != lib1 || !slices.Equal(asked, []string{"Another Lib", "Base Lib"}) {
		t.Errorf("libraries only: missing %+v, asked %v, %v", missing, asked, err)
	}
	if n := e.sb.RequestStats().ByFamily[sandbox.FamilyODC].Requests - before; n != 0 {
		t.Errorf("the second check of one revision made %d ODC requests, want 0 (read once per process)", n)
	}
	if n := e.sb.RequestStats().ByFamily[sandbox.FamilyCodeMigration].Requests; n != 0 {
		t.Errorf("%d requests to the Migration Kit, want none", n)
	}

	// A revision without producers, and one that does not exist.
	if missing, err := missingProducers(ctx, d, c, lib1, 1, ok); err != nil || len(missing) != 0 {
		t.Errorf("producers of a library consuming nothing = %+v, %v", missing, err)
	}
	if _, err := missingProducers(ctx, d, c, app2, 7, ok); !client.IsNotFound(err) {
		t.Errorf("producers of an unknown revision: %v, want not found", err)
	}
	if got := d.stageLabel(ctx, c, e.stageKey("QA")); got != `"QA" (`+e.stageKey("QA")+`)` {
		t.Errorf("stage label = %s", got)
	}
	if got := d.stageLabel(ctx, c, "not-a-stage"); got != "not-a-stage" {
		t.Errorf("label of an unknown stage = %s", got)
	}
}
