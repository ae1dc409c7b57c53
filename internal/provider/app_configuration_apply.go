package provider

import (
	"context"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// applyConfigs runs ODC's ApplyConfigs for the app revision deployed in a
// stage and waits for it (h-dep's deployment operations client), polling as
// ODC advises (odcPoll: every 5 s for 30 s, then every 30 s, or
// OUTSYSTEMS_ODC_POLL_INTERVAL); a failed operation's messages make the
// error.
func applyConfigs(ctx context.Context, odc *client.ODC, stageKey, assetKey string, revision int) error {
	op, err := odc.StartApplyConfigs(ctx, assetKey, revision, stageKey)
	if err != nil {
		return err
	}
	_, err = odc.WaitDeploymentOperation(ctx, op.Key, stageKey, odcPoll)
	return err
}
