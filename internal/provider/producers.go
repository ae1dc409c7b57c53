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
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

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

// gatedProducers keeps, of an asset's producers, those the gate checks:
// gatedProducerTypes (only libraries when onlyLibraries), the asset itself
// left out.
func gatedProducers(all []client.ReferencedProducer, assetKey string, onlyLibraries bool) []client.ReferencedProducer {
	var out []client.ReferencedProducer
	for _, p := range all {
		if strings.EqualFold(p.AssetKey, assetKey) || !slices.Contains(gatedProducerTypes, p.AssetType) ||
			(onlyLibraries && p.AssetType != client.AssetTypeLibrary) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// missingProducers returns the gated direct producers of an asset revision
// for which ok answers false, by name.
func missingProducers(ctx context.Context, d *providerData, odc *client.ODC, assetKey string, revision int,
	ok func(client.ReferencedProducer) (bool, error),
) ([]client.ReferencedProducer, error) {
	producers, err := d.revisionProducers(ctx, odc, assetKey, revision)
	if err != nil {
		return nil, err
	}
	var missing []client.ReferencedProducer
	for _, p := range gatedProducers(producers, assetKey, false) {
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

// Producers in one apply. Terraform orders the publications and releases by
// the configuration's references, but Terraform 1.5 does not order through
// a resource that has no change: when only the publications are replaced
// (a stage change, assets undeployed out of band) while the releases
// between the waves stay, every publication starts at once. So the gate
// does not fail at once on a producer that is missing: it waits while the
// producer may still arrive, that is while a publish of it runs in ODC or a
// create of this apply is under way for it, while another create of this
// apply is still working (Terraform may not have started the producer's
// yet, e.g. held back by -parallelism), and for a grace of a few polls after
// that. Only then does it fail with the named error.

// applyOrder is what one provider process (one Terraform run) knows of the
// publications and releases it is creating.
type applyOrder struct {
	mu sync.Mutex
	// active counts the creates that are working, not waiting for a
	// producer; pending counts the creates under way per orderKey.
	active  int
	pending map[string]int
	// changed is closed, and replaced, whenever either changes.
	changed chan struct{}
}

// orderKey names what a create makes: the publish of an asset in a stage,
// or the release of a library.
func publishOrderKey(stageKey, assetKey string) string {
	return "publish " + strings.ToLower(stageKey) + " " + strings.ToLower(assetKey)
}

func releaseOrderKey(assetKey string) string { return "release " + strings.ToLower(assetKey) }

// notifyLocked wakes the waiters; o.mu is held.
func (o *applyOrder) notifyLocked() {
	if o.changed != nil {
		close(o.changed)
	}
	o.changed = make(chan struct{})
}

// begin records a create under way for key; the returned func ends it.
func (o *applyOrder) begin(key string) (end func()) {
	o.mu.Lock()
	if o.pending == nil {
		o.pending = map[string]int{}
	}
	o.pending[key]++
	o.active++
	o.notifyLocked()
	o.mu.Unlock()
	return func() {
		o.mu.Lock()
		if o.pending[key]--; o.pending[key] <= 0 {
			delete(o.pending, key)
		}
		o.active--
		o.notifyLocked()
		o.mu.Unlock()
	}
}

// setWaiting marks the calling create as waiting for producers (or working
// again).
func (o *applyOrder) setWaiting(waiting bool) {
	o.mu.Lock()
	if waiting {
		o.active--
	} else {
		o.active++
	}
	o.notifyLocked()
	o.mu.Unlock()
}

// underway reports whether a create of this process is under way for key.
func (o *applyOrder) underway(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pending[key] > 0
}

// assetUnderway reports whether a create of this process is under way for
// the asset: its publish to any stage, or its release.
func (o *applyOrder) assetUnderway(assetKey string) bool {
	suffix := " " + strings.ToLower(assetKey)
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, n := range o.pending {
		if n > 0 && strings.HasSuffix(k, suffix) {
			return true
		}
	}
	return false
}

// progress reports whether another create of this process is working, and
// a channel closed on the next change.
func (o *applyOrder) progress() (bool, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.changed == nil {
		o.changed = make(chan struct{})
	}
	return o.active > 0, o.changed
}

// producerCheck is what one look at a consumer's producers found: those
// missing, whether any of them is under way (being published or
// released), and those only a fallback accepts (a released library not
// published in the stage), which the gate accepts once the grace has passed
// and nothing is under way.
type producerCheck struct {
	missing  []client.ReferencedProducer
	underway bool
	fallback []client.ReferencedProducer
}

// orderGracePolls is how many polls a consumer waits for a missing producer
// once nothing suggests it is coming.
const orderGracePolls = 3

// orderGrace is the grace of orderGracePolls polls, at least two seconds.
func orderGrace() time.Duration { return max(orderGracePolls*odcPoll(0), 2*time.Second) }

// awaitProducers runs check until nothing is missing, waiting (ODC's poll
// interval, or less when a create of this process changes) while a missing
// producer may still arrive, then returns what is still missing. The
// calling create must be recorded with d.order.begin.
func (d *providerData) awaitProducers(ctx context.Context, what string, check func(context.Context) (producerCheck, error)) ([]client.ReferencedProducer, error) {
	start := time.Now()
	lastHope := start
	grace := orderGrace()
	waiting := false
	defer func() {
		if waiting {
			d.order.setWaiting(false)
		}
	}()
	for polls := 1; ; polls++ {
		got, err := check(ctx)
		if err != nil {
			return nil, err
		}
		graceOver := time.Since(start) >= grace
		if len(got.missing) == 0 && (len(got.fallback) == 0 || (graceOver && !got.underway)) {
			return nil, nil
		}
		others, changed := d.order.progress()
		if got.underway || (others && len(got.missing) > 0) {
			lastHope = time.Now()
		}
		if len(got.missing) > 0 && time.Since(lastHope) >= grace {
			return got.missing, nil
		}
		if !waiting {
			waiting = true
			d.order.setWaiting(true)
		}
		wait := odcPoll(time.Since(start))
		tflog.Debug(ctx, "Waiting for producers", map[string]any{"for": what, "missing": producerLabels(append(got.missing, got.fallback...)),
			"underway": got.underway, "polls": polls, "next_poll_in": wait.String()})
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, waitError(ctx, what, start, pollState{status: "producers missing: " + producerLabels(got.missing)}, nil)
		case <-changed:
			timer.Stop()
		case <-timer.C:
		}
	}
}
