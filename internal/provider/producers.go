package provider

// Producers first: before publishing or releasing an asset revision, the
// provider checks that the assets it consumes are in place, so the apply
// fails early with an error that names what to reference instead of a
// failed publish operation.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// gatedProducerTypes are the producer asset types the gate checks: those
// outsystems_asset_publication publishes and outsystems_library_release
// releases. Other producers (external libraries and connections, extension
// libraries) are not published that way; ODC's own publish still checks them.
var gatedProducerTypes = []string{client.AssetTypeLibrary, client.AssetTypeWebApplication, client.AssetTypeMobileApplication}

// revisionRef names one revision of one asset; the key is lower-case.
type revisionRef struct {
	assetKey string
	revision int
}

// revisionProducers returns the direct producers of an asset revision, from
// the public elements it references in ODC (dependency management's
// referenced-elements). That works for every asset, migrated by the
// Migration Kit or by hand, and lists producers whether or not they are
// deployed anywhere (ODC's producers endpoint lists only those deployed in a
// stage). A revision never changes, so each is read once per provider
// process.
func (d *providerData) revisionProducers(ctx context.Context, odc *client.ODC, assetKey string, revision int) ([]client.ReferencedProducer, error) {
	ref := revisionRef{strings.ToLower(assetKey), revision}
	d.mu.Lock()
	if d.producers == nil {
		d.producers = map[revisionRef]*memo[[]client.ReferencedProducer]{}
	}
	m, ok := d.producers[ref]
	if !ok {
		m = &memo[[]client.ReferencedProducer]{}
		d.producers[ref] = m
	}
	d.mu.Unlock()
	return m.get(ctx, func(ctx context.Context) ([]client.ReferencedProducer, error) {
		return odc.RevisionProducers(ctx, assetKey, revision)
	})
}

// missingProducers returns the direct producers of an asset revision (only
// libraries when onlyLibraries) for which ok answers false, by name.
func missingProducers(ctx context.Context, d *providerData, odc *client.ODC, assetKey string, revision int, onlyLibraries bool,
	ok func(client.ReferencedProducer) (bool, error),
) ([]client.ReferencedProducer, error) {
	producers, err := d.revisionProducers(ctx, odc, assetKey, revision)
	if err != nil {
		return nil, err
	}
	var missing []client.ReferencedProducer
	for _, p := range producers {
		if strings.EqualFold(p.AssetKey, assetKey) || !slices.Contains(gatedProducerTypes, p.AssetType) ||
			(onlyLibraries && p.AssetType != client.AssetTypeLibrary) {
			continue
		}
		done, err := ok(p)
		if err != nil {
			return nil, err
		}
		if !done {
			missing = append(missing, p)
		}
	}
	return missing, nil
}

// producerLabels names producers as `"Name" (asset key)`, comma separated.
func producerLabels(producers []client.ReferencedProducer) string {
	labels := make([]string, len(producers))
	for i, p := range producers {
		labels[i] = fmt.Sprintf("%q (asset %s)", p.Name, p.AssetKey)
	}
	return strings.Join(labels, ", ")
}

// stageLabel names a stage as `"Name" (key)`, or by its key alone when the
// stages cannot be read or none has that key.
func (d *providerData) stageLabel(ctx context.Context, odc *client.ODC, stageKey string) string {
	stages, err := d.listStages(ctx, odc)
	if err == nil {
		for _, s := range stages {
			if strings.EqualFold(s.Key, stageKey) {
				return fmt.Sprintf("%q (%s)", s.Name, s.Key)
			}
		}
	}
	return stageKey
}
