package provider

// The provider's look-ups shared by resources and data sources during a run,
// and the caches that let one run read each answer once.

import (
	"context"
	"strings"
	"sync"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// memo holds one look-up's answer for the provider process: the first
// caller reads it, concurrent callers wait for that read, and a failed read
// is tried again by the next caller.
type memo[T any] struct {
	mu    sync.Mutex
	done  bool
	value T
}

func (m *memo[T]) get(ctx context.Context, read func(context.Context) (T, error)) (T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done {
		return m.value, nil
	}
	v, err := read(ctx)
	if err != nil {
		return v, err
	}
	m.value, m.done = v, true
	return v, nil
}

// listEnvironments returns LifeTime's environments, read once per run.
func (d *providerData) listEnvironments(ctx context.Context, lt *client.LifeTime) ([]client.Environment, error) {
	return d.environments.get(ctx, lt.ListEnvironments)
}

// listStages returns the ODC stages, read once per run.
func (d *providerData) listStages(ctx context.Context, odc *client.ODC) ([]client.Stage, error) {
	return d.stages.get(ctx, odc.ListStages)
}

// deployedAssets returns the assets published in a stage, keyed by lower-case asset key.
func (d *providerData) deployedAssets(ctx context.Context, odc *client.ODC, stageKey string) (map[string]client.DeployedAsset, error) {
	key := strings.ToLower(stageKey)
	d.mu.Lock()
	cached, ok := d.deployed[key]
	d.mu.Unlock()
	if ok {
		return cached, nil
	}
	list, err := odc.DeployedAssets(ctx, stageKey)
	if err != nil {
		return nil, err
	}
	out := make(map[string]client.DeployedAsset, len(list))
	for _, a := range list {
		out[strings.ToLower(a.AssetKey)] = a
	}
	d.mu.Lock()
	if d.deployed == nil {
		d.deployed = map[string]map[string]client.DeployedAsset{}
	}
	d.deployed[key] = out
	d.mu.Unlock()
	return out, nil
}

// publishedIn reports whether an asset is published in a stage. Apps are
// listed among the stage's deployed assets; libraries are not deployed (apps
// bundle them), so for them a finished publish operation to the stage counts.
func (d *providerData) publishedIn(ctx context.Context, odc *client.ODC, stageKey, assetKey, wireType string) (bool, error) {
	if wireType == client.AssetTypeLibrary {
		ops, err := odc.ListPublishOperations(ctx, assetKey, stageKey)
		if err != nil {
			return false, err
		}
		for _, op := range ops {
			if op.Succeeded() {
				return true, nil
			}
		}
		return false, nil
	}
	deployed, err := d.deployedAssets(ctx, odc, stageKey)
	if err != nil {
		return false, err
	}
	_, ok := deployed[strings.ToLower(assetKey)]
	return ok, nil
}

// forgetDeployedAssets drops the cached list of a stage after a publish.
func (d *providerData) forgetDeployedAssets(stageKey string) {
	d.mu.Lock()
	delete(d.deployed, strings.ToLower(stageKey))
	d.mu.Unlock()
}
