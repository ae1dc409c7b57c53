package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

var (
	_ resource.ResourceWithConfigure   = (*assetPublicationResource)(nil)
	_ resource.ResourceWithImportState = (*assetPublicationResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*assetPublicationResource)(nil)
)

const defaultPublishTimeout = 30 * time.Minute

// NewAssetPublicationResource is the outsystems_asset_publication resource.
func NewAssetPublicationResource() resource.Resource { return &assetPublicationResource{} }

type assetPublicationResource struct{ data *providerData }

type assetPublicationModel struct {
	ID         types.String   `tfsdk:"id"`
	AssetKey   types.String   `tfsdk:"asset_key"`
	Revision   types.Int64    `tfsdk:"revision"`
	StageKey   types.String   `tfsdk:"stage_key"`
	AssetName  types.String   `tfsdk:"asset_name"`
	AssetType  types.String   `tfsdk:"asset_type"`
	Status     types.String   `tfsdk:"status"`
	BuildKey   types.String   `tfsdk:"build_key"`
	StartedAt  types.String   `tfsdk:"started_at"`
	FinishedAt types.String   `tfsdk:"finished_at"`
	Timeouts   timeouts.Value `tfsdk:"timeouts"`
}

func (r *assetPublicationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_asset_publication"
}

func (r *assetPublicationResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Publishes a revision of a migrated ODC app or library to a stage (ODC Deployments API publish " +
			"operation) and waits for the result.\n\n" +
			"**Producers first.** Before publishing, every producer of that revision must already be published in the stage; " +
			"a producer this apply is publishing is waited for, and otherwise the apply fails naming each missing producer and " +
			"the publication to reference. Reference the producers' " +
			"publications (or, for libraries, their `outsystems_library_release`) so Terraform's graph publishes in order.\n\n" +
			"**Stages.** Publishing builds the revision and deploys it to the **Development** stage (the stage whose purpose is " +
			"Development), which is where `stage_key` defaults to, as ODC's 1-Click Publish does. Later stages (QA, Production, " +
			"custom stages) are reached by deploying a Release build of the revision, not by publishing; publishing straight to " +
			"another stage is what ODC keeps for hotfixes.\n\n" +
			"A publication that fails (e.g. TrueChange errors) fails the apply with the operation's messages: fix them in ODC " +
			"Studio and apply again. ODC has no API to unpublish, so destroying the resource only forgets it.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "Key of the publish operation.", PlanModifiers: keep},
			"asset_key": schema.StringAttribute{
				Required: true, MarkdownDescription: "Key of the ODC asset, e.g. `outsystems_code_migration.x.assets[\"Name\"].asset_key`.",
				Validators:    []validator.String{guidValidator("ODC asset key")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"revision": schema.Int64Attribute{
				Required: true, MarkdownDescription: "Revision of the asset to publish.",
				Validators:    []validator.Int64{int64validator.AtLeast(1)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"stage_key": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Key of the ODC stage to publish to; defaults to the Development stage (the stage with purpose " +
					"Development), and the publish request then names no stage, as ODC expects. Set it only for a hotfix published " +
					"straight to another stage; look keys up with `data.outsystems_odc_stage`.",
				Validators:    []validator.String{guidValidator("ODC stage key")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplace()},
			},
			"asset_name":  schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the asset.", PlanModifiers: keep},
			"asset_type":  schema.StringAttribute{Computed: true, MarkdownDescription: "`web_app`, `mobile_app` or `library`.", PlanModifiers: keep},
			"status":      schema.StringAttribute{Computed: true, MarkdownDescription: "Final status of the publish operation.", PlanModifiers: keep},
			"build_key":   schema.StringAttribute{Computed: true, MarkdownDescription: "Key of the build the publish produced.", PlanModifiers: keep},
			"started_at":  schema.StringAttribute{Computed: true, MarkdownDescription: "When the publish started.", PlanModifiers: keep},
			"finished_at": schema.StringAttribute{Computed: true, MarkdownDescription: "When the publish finished.", PlanModifiers: keep},
			"timeouts":    timeouts.Attributes(ctx, timeouts.Opts{Create: true}),
		},
	}
}

// ModifyPlan fails the plan when ODC is not configured, and puts the
// Development stage's key in the plan when stage_key is not set (a
// publication in another stage is then replaced).
func (r *assetPublicationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || !r.data.configuredForPlan(&resp.Diagnostics, false, false, true) {
		return
	}
	var configured types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("stage_key"), &configured)...)
	if !configured.IsNull() || resp.Diagnostics.HasError() {
		return
	}
	dev, err := r.developmentStage(ctx)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To List ODC Stages", "find the Development stage, where stage_key defaults to", err)
		return
	}
	if dev == "" {
		resp.Diagnostics.AddAttributeError(path.Root("stage_key"), "No Development Stage",
			"The ODC organization has no stage with purpose Development, where publications go by default. Set stage_key.")
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("stage_key"), dev)...)
	if !req.State.Raw.IsNull() {
		var current types.String
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("stage_key"), &current)...)
		if !current.IsNull() && !strings.EqualFold(current.ValueString(), dev) {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("stage_key"))
		}
	}
}

// developmentStage returns the key of the stage with purpose Development
// ("" when there is none).
func (r *assetPublicationResource) developmentStage(ctx context.Context) (string, error) {
	stages, err := r.data.listStages(ctx, r.data.odc)
	if err != nil {
		return "", err
	}
	for _, st := range stages {
		if st.Purpose == "Development" {
			return st.Key, nil
		}
	}
	return "", nil
}

func (r *assetPublicationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *assetPublicationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var plan assetPublicationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultPublishTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	assetKey, revision, stageKey := plan.AssetKey.ValueString(), int(plan.Revision.ValueInt64()), plan.StageKey.ValueString()
	// Without stage_key the request names no stage: ODC publishes to
	// Development (stageKey is that stage's key, from the plan).
	var configuredStage types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("stage_key"), &configuredStage)...)
	requestStage := configuredStage.ValueString()

	rev, err := odc.GetRevision(ctx, assetKey, revision)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Asset", fmt.Sprintf("read asset %s revision %d", assetKey, revision), err)
		return
	}
	plan.AssetName = types.StringValue(rev.Name)
	plan.AssetType = types.StringValue(assetTypeFromWire(rev.AssetType))
	// Recorded before the gate: a consumer of this asset in the same apply
	// waits for this publication rather than failing.
	defer r.data.order.begin(publishOrderKey(stageKey, assetKey))()
	missing, err := r.data.awaitProducers(ctx, fmt.Sprintf("the producers of %q revision %d to be published", rev.Name, revision),
		func(ctx context.Context) (producerCheck, error) {
			return r.checkProducers(ctx, odc, assetKey, revision, stageKey)
		})
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Producers", fmt.Sprintf("read the producers of asset %s revision %d (the elements it references)", assetKey, revision), err)
		return
	}
	if len(missing) > 0 {
		stage := r.data.stageLabel(ctx, odc, stageKey)
		resp.Diagnostics.AddAttributeError(path.Root("asset_key"), "Producers Not Published",
			fmt.Sprintf("Asset %q (%s) revision %d consumes producers that are not published in stage %s: %s. No publish of them ran or "+
				"started in that stage while this publication waited for them.\n\nODC publishes producers first. Reference the "+
				"outsystems_asset_publication of each of these producers (the one whose asset_key is the producer's key, publishing to "+
				"stage %s) from this resource, directly or through depends_on on the releases of an earlier wave, or publish them in "+
				"an earlier wave (publish_wave of outsystems_code_migration). If the configuration already references it, that "+
				"publication did not publish in this apply: check that it is in this configuration and its state (terraform state "+
				"list), that it publishes to the same stage, and whether it failed earlier in this apply; then apply again.",
				rev.Name, assetKey, revision, stage, producerLabels(missing), stage))
		return
	}

	attempted := time.Now()
	op, err := createOnce(ctx, fmt.Sprintf("publish of %q revision %d", rev.Name, revision), r.data.attempts,
		func(ctx context.Context) (*client.PublishOperation, error) {
			return odc.StartPublish(ctx, assetKey, revision, requestStage)
		},
		func(ctx context.Context) (*client.PublishOperation, bool, error) {
			ops, err := odc.ListPublishOperations(ctx, assetKey, stageKey)
			for i := range ops {
				if ops[i].Revision == revision && recentlyStarted(ops[i].StartedAt, attempted) {
					ops[i].EnvironmentKey = stageKey
					return &ops[i], true, nil
				}
			}
			return nil, false, err
		})
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Publish", fmt.Sprintf("publish asset %q (%s) revision %d to stage %s", rev.Name, assetKey, revision, r.data.stageLabel(ctx, odc, stageKey)), err)
		return
	}
	r.data.forgetDeployedAssets(stageKey)
	r.data.forgetLibrary(assetKey)
	plan.ID = types.StringValue(op.Key)
	plan.StartedAt = types.StringValue(op.StartedAt)
	plan.Status = types.StringValue(op.Status)
	plan.BuildKey = types.StringValue(op.BuildKey)
	plan.FinishedAt = types.StringValue(op.FinishedAt)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)

	err = waitForODC(ctx, fmt.Sprintf("publish operation %s of asset %s revision %d", op.Key, assetKey, revision), func(ctx context.Context) (pollState, error) {
		got, err := odc.GetPublishOperation(ctx, op.Key)
		if err != nil {
			return pollState{}, err
		}
		op = got
		return pollState{done: got.Done(), status: got.Status}, nil
	})
	if err != nil {
		resp.Diagnostics.AddError("Publish Did Not Finish",
			fmt.Sprintf("While attempting to wait for publish operation %s, the provider stopped: %s\n\nThe operation continues in ODC and its id is in state.", op.Key, err))
		return
	}
	r.data.forgetDeployedAssets(stageKey)
	r.data.forgetLibrary(assetKey)
	plan.fromOperation(op)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if op.Status != client.PublishStatusFinished {
		resp.Diagnostics.Append(publishFailure(ctx, odc, op)...)
	}
}

// checkProducers looks at the producers of an asset revision in a stage:
// published there, being published (a publish running in ODC, or one this
// apply is making), or missing; a library not published in the stage but
// released is accepted only once nothing is under way (apps bundle
// libraries, and libraries installed from Forge come released). The stage's
// cached deployments are read again after a look that found one missing.
func (r *assetPublicationResource) checkProducers(ctx context.Context, odc *client.ODC, assetKey string, revision int, stageKey string) (producerCheck, error) {
	var got producerCheck
	_, err := missingProducers(ctx, r.data, odc, assetKey, revision, func(p client.ReferencedProducer) (bool, error) {
		published, err := r.data.publishedIn(ctx, odc, stageKey, p.AssetKey, p.AssetType)
		if published || err != nil {
			return published, err
		}
		running := r.data.order.underway(publishOrderKey(stageKey, p.AssetKey))
		if !running {
			ops, err := odc.ListPublishOperations(ctx, p.AssetKey, stageKey)
			if err != nil {
				return false, err
			}
			running = slices.ContainsFunc(ops, func(op client.PublishOperation) bool { return !op.Done() })
		}
		if running {
			got.underway = true
			got.missing = append(got.missing, p)
			return false, nil
		}
		if p.AssetType == client.AssetTypeLibrary {
			h, err := odc.HighestTagRevision(ctx, p.AssetKey)
			if err != nil {
				return false, err
			}
			if h != nil && h.Tag != "" {
				got.fallback = append(got.fallback, p)
				return false, nil
			}
		}
		got.missing = append(got.missing, p)
		return false, nil
	})
	if len(got.missing)+len(got.fallback) > 0 {
		r.data.forgetDeployedAssets(stageKey) // the next look reads the stage again
	}
	return got, err
}

// publishFailure reports a failed publish with the operation's messages.
func publishFailure(ctx context.Context, odc *client.ODC, op *client.PublishOperation) diag.Diagnostics {
	var diags diag.Diagnostics
	msgs, err := odc.PublishOperationMessages(ctx, op.Key)
	lines := make([]string, 0, len(msgs))
	for _, m := range msgs {
		lines = append(lines, fmt.Sprintf("- [%s] %s", m.Severity, m.Message))
	}
	if err != nil {
		lines = append(lines, "- (the provider could not read the operation's messages: "+err.Error()+")")
	}
	diags.AddError("Publish Failed",
		fmt.Sprintf("Publish operation %s of asset %s revision %d ended %s:\n%s\n\nOpen the asset in ODC Studio, run Check for dependency "+
			"updates, fix the TrueChange errors, publish the fixed revision, and apply again (point `revision` at it).",
			op.Key, op.AssetKey, op.Revision, op.Status, strings.Join(lines, "\n")))
	return diags
}

func (m *assetPublicationModel) fromOperation(op *client.PublishOperation) {
	m.ID = types.StringValue(op.Key)
	m.AssetKey = types.StringValue(op.AssetKey)
	m.Revision = types.Int64Value(int64(op.Revision))
	if op.EnvironmentKey != "" {
		m.StageKey = types.StringValue(op.EnvironmentKey)
	}
	m.Status = types.StringValue(op.Status)
	m.BuildKey = types.StringValue(op.BuildKey)
	m.StartedAt = types.StringValue(op.StartedAt)
	m.FinishedAt = types.StringValue(op.FinishedAt)
}

func (r *assetPublicationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var state assetPublicationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// A finished publish operation never changes: only an unfinished or
	// imported one is read again.
	op := &client.PublishOperation{Key: state.ID.ValueString(), Status: state.Status.ValueString(), AssetKey: state.AssetKey.ValueString(),
		Revision: int(state.Revision.ValueInt64()), EnvironmentKey: state.StageKey.ValueString(), BuildKey: state.BuildKey.ValueString(),
		StartedAt: state.StartedAt.ValueString(), FinishedAt: state.FinishedAt.ValueString()}
	if !op.Done() || op.Status == "" || state.AssetType.IsNull() {
		got, err := odc.GetPublishOperation(ctx, state.ID.ValueString())
		if client.IsNotFound(err) {
			resp.State.RemoveResource(ctx)
			return
		}
		if err != nil {
			addAPIError(&resp.Diagnostics, "Failed To Read The Publication", "read publish operation "+state.ID.ValueString(), err)
			return
		}
		op = got
	}
	state.fromOperation(op)
	if state.AssetType.IsNull() || state.AssetName.IsNull() || state.StageKey.IsNull() {
		// Imported: learn what the operation does not say.
		resp.Diagnostics.Append(r.completeImported(ctx, odc, &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	if op.Status == client.PublishStatusFinished {
		// Published, unless the stage no longer holds this revision (removed
		// out of band, e.g. a stage reset, or an older revision published
		// over it): then the publication is planned again. The same source
		// as the producers-first gate (publishedRevision), so what the plan
		// keeps, the gate accepts.
		stageKey := state.StageKey.ValueString()
		got, published, err := r.data.publishedRevision(ctx, odc, stageKey, op.AssetKey, assetTypes[state.AssetType.ValueString()])
		if err != nil {
			addAPIError(&resp.Diagnostics, "Failed To Read The Stage", "check that asset "+op.AssetKey+" is still published in stage "+r.data.stageLabel(ctx, odc, stageKey), err)
			return
		}
		if !published || got < op.Revision {
			tflog.Warn(ctx, "The asset revision is no longer published in the stage; the publication will be made again", map[string]any{
				"asset_key": op.AssetKey, "revision": op.Revision, "stage_key": stageKey, "published_revision": got})
			resp.State.RemoveResource(ctx)
			return
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// completeImported fills the asset's name and type and the stage of an
// imported publication (the publish operation does not return the stage: it
// is found among the stages' publish operations of the asset).
func (r *assetPublicationResource) completeImported(ctx context.Context, odc *client.ODC, state *assetPublicationModel) diag.Diagnostics {
	var diags diag.Diagnostics
	rev, err := odc.GetRevision(ctx, state.AssetKey.ValueString(), int(state.Revision.ValueInt64()))
	if err != nil {
		addAPIError(&diags, "Failed To Read The Asset", "read the asset of publish operation "+state.ID.ValueString(), err)
		return diags
	}
	state.AssetName = types.StringValue(rev.Name)
	state.AssetType = types.StringValue(assetTypeFromWire(rev.AssetType))
	if !state.StageKey.IsNull() && !state.StageKey.IsUnknown() {
		return diags
	}
	stages, err := r.data.listStages(ctx, odc)
	if err != nil {
		addAPIError(&diags, "Failed To List ODC Stages", "find the stage of publish operation "+state.ID.ValueString(), err)
		return diags
	}
	for _, st := range stages {
		ops, err := odc.ListPublishOperations(ctx, state.AssetKey.ValueString(), st.Key)
		if err != nil {
			addAPIError(&diags, "Failed To List Publish Operations", "find the stage of publish operation "+state.ID.ValueString(), err)
			return diags
		}
		for _, op := range ops {
			if strings.EqualFold(op.Key, state.ID.ValueString()) {
				state.StageKey = types.StringValue(st.Key)
				return diags
			}
		}
	}
	diags.AddError("Cannot Tell The Publication's Stage",
		fmt.Sprintf("ODC lists publish operation %s under no stage, so the provider cannot tell where it published.", state.ID.ValueString()))
	return diags
}

func (r *assetPublicationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state assetPublicationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	state.Timeouts = plan.Timeouts
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *assetPublicationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state assetPublicationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.AddWarning("Publication Only Forgotten",
		fmt.Sprintf("The publication of asset %s revision %d (operation %s) was removed from Terraform state only: ODC has no API to "+
			"unpublish, so the asset stays published in the stage.", state.AssetKey.ValueString(), state.Revision.ValueInt64(), state.ID.ValueString()))
}

func (r *assetPublicationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !guidRegexp.MatchString(strings.TrimSpace(req.ID)) {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("Import ID %q is not a publish operation key (a GUID).", req.ID))
		return
	}
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
