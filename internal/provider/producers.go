package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// missingProducers lists, as "Name (key)" labels, the producers of a
// migrated asset revision for which ok answers false. The producers are those
// the code migration recorded; a revision no migration produced has none to
// check here (ODC's own publish still checks it).
func missingProducers(ctx context.Context, d *providerData, odc *client.ODC, assetKey string, revision int, onlyLibraries bool, ok func(client.MigratedAsset) (bool, error)) ([]string, error) {
	asset, all, err := d.migratedAsset(ctx, odc, assetKey, revision)
	if err != nil || asset == nil {
		return nil, err
	}
	var missing []string
	for _, key := range asset.ProducerAssetKeys {
		p, found := all[strings.ToLower(key)]
		if !found {
			p = client.MigratedAsset{AssetKey: key, Name: key}
		}
		if onlyLibraries && p.AssetType != client.AssetTypeLibrary {
			continue
		}
		published, err := ok(p)
		if err != nil {
			return nil, err
		}
		if !published {
			missing = append(missing, fmt.Sprintf("%q (asset %s)", p.Name, p.AssetKey))
		}
	}
	sort.Strings(missing)
	return missing, nil
}
