package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

var (
	_ resource.ResourceWithConfigure   = (*assetDeploymentResource)(nil)
	_ resource.ResourceWithImportState = (*assetDeploymentResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*assetDeploymentResource)(nil)
)

// defaultDeployTimeout bounds a deployment's create, update and delete: a
// Release build, ODC's deployment analysis and the deploy itself.
const defaultDeployTimeout = 60 * time.Minute

// NewAssetDeploymentResource is the outsystems_asset_deployment resource.
func NewAssetDeploymentResource() resource.Resource { return &assetDeploymentResource{} }

type assetDeploymentResource struct{ data *providerData }

type assetDeploymentModel struct {
	ID                types.String   `tfsdk:"id"`
	StageKey          types.String   `tfsdk:"stage_key"`
	AssetKey          types.String   `tfsdk:"asset_key"`
	Revision          types.Int64    `tfsdk:"revision"`
	UndeployOnDestroy types.Bool     `tfsdk:"undeploy_on_destroy"`
	AssetName         types.String   `tfsdk:"asset_name"`
	AssetType         types.String   `tfsdk:"asset_type"`
	BuildKey          types.String   `tfsdk:"build_key"`
	Status            types.String   `tfsdk:"status"`
	StartedAt         types.String   `tfsdk:"started_at"`
	FinishedAt        types.String   `tfsdk:"finished_at"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
}

func (r *assetDeploymentResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_asset_deployment"
}

func (r *assetDeploymentResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Deploys a revision of an ODC app to a stage after Development (QA, Production, any custom stage): " +
			"finds a **Release** build of the revision or starts one (build operations), asks ODC's deployment analysis whether " +
			"the revision's producers are in place in the stage, runs a `Deploy` deployment operation and waits for it to finish. " +
			"The Development stage is reached by publishing: use `outsystems_asset_publication` there.\n\n" +
			"**Producers first.** Every app the revision consumes must be deployed in the stage before it; a producer this apply " +
			"is deploying is waited for, and otherwise the apply fails naming each missing producer and the deployment to " +
			"reference. Libraries are never deployed on their own: ODC bundles a library into each app that consumes it.\n\n" +
			"**Changes.** A new `revision` deploys it over the one in the stage (an in-place update). When the stage no longer " +
			"holds the deployed revision (undeployed or replaced out of band), the plan shows the deployment again.\n\n" +
			"**Destroy** leaves the app deployed unless `undeploy_on_destroy` is true; an undeploy is refused while an app " +
			"deployed in the stage consumes this one.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "Key of the deployment operation that deployed the revision.", PlanModifiers: keep},
			"stage_key": schema.StringAttribute{
				Required: true, MarkdownDescription: "Key of the ODC stage to deploy to; any stage but Development. Look keys up with `data.outsystems_odc_stage`.",
				Validators:    []validator.String{guidValidator("ODC stage key")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"asset_key": schema.StringAttribute{
				Required: true, MarkdownDescription: "Key of the ODC app (web or mobile), e.g. `outsystems_asset_publication.x.asset_key`.",
				Validators:    []validator.String{guidValidator("ODC asset key")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"revision": schema.Int64Attribute{
				Required: true, MarkdownDescription: "Revision of the app to deploy; a new revision is deployed over the one in the stage.",
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"undeploy_on_destroy": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Whether destroying the resource removes the app from the stage (an `Undeploy` operation). " +
					"Default `false`: destroy leaves the deployment in place.",
			},
			"asset_name":  schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the app.", PlanModifiers: keep},
			"asset_type":  schema.StringAttribute{Computed: true, MarkdownDescription: "`web_app` or `mobile_app`.", PlanModifiers: keep},
			"build_key":   schema.StringAttribute{Computed: true, MarkdownDescription: "Key of the Release build deployed.", PlanModifiers: keep},
			"status":      schema.StringAttribute{Computed: true, MarkdownDescription: "Final status of the deployment operation.", PlanModifiers: keep},
			"started_at":  schema.StringAttribute{Computed: true, MarkdownDescription: "When the deployment started.", PlanModifiers: keep},
			"finished_at": schema.StringAttribute{Computed: true, MarkdownDescription: "When the deployment finished.", PlanModifiers: keep},
			"timeouts":    timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *assetDeploymentResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// deployOrderKey names the deployment of an asset to a stage among this
// process's creates (applyOrder); it never ends in " <asset key>", so a
// release or publication waiting for the asset does not take it for theirs.
func deployOrderKey(stageKey, assetKey string) string {
	return "deploy " + strings.ToLower(stageKey) + "/" + strings.ToLower(assetKey)
}

// ModifyPlan refuses what ODC would refuse, when the plan knows it: a
// stage that does not exist or is the Development stage, a revision that
// does not exist, a library. A new revision plans a new deployment
// operation (id, build and times unknown).
func (r *assetDeploymentResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || !r.data.configuredForPlan(&resp.Diagnostics, false, false, true) {
		return
	}
	var plan, state assetDeploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	creating := req.State.Raw.IsNull()
	if !creating {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if planKnown(plan.StageKey) {
		stages, err := r.data.listStages(ctx, r.data.odc)
		if err != nil {
			addAPIError(&resp.Diagnostics, "Failed To List ODC Stages", "check stage_key "+plan.StageKey.ValueString(), err)
			return
		}
		var stage *client.Stage
		for i := range stages {
			if strings.EqualFold(stages[i].Key, plan.StageKey.ValueString()) {
				stage = &stages[i]
			}
		}
		switch {
		case stage == nil:
			resp.Diagnostics.AddAttributeError(path.Root("stage_key"), "Unknown ODC Stage",
				fmt.Sprintf("No ODC stage has key %q. Look stage keys up with data.outsystems_odc_stage (by name, e.g. \"QA\").", plan.StageKey.ValueString()))
			return
		case stage.Purpose == client.StagePurposeDevelopment:
			resp.Diagnostics.AddAttributeError(path.Root("stage_key"), "Development Is Published To, Not Deployed To",
				fmt.Sprintf("Stage %q (%s) is the Development stage: ODC reaches it by publishing a revision, not by deploying a Release "+
					"build. Use outsystems_asset_publication for the Development stage, and outsystems_asset_deployment for the stages "+
					"after it (QA, Production, custom stages).", stage.Name, stage.Key))
			return
		}
	}
	revisionChanged := !creating && planKnown(plan.Revision) && plan.Revision.ValueInt64() != state.Revision.ValueInt64()
	if planKnown(plan.AssetKey) && planKnown(plan.Revision) && (creating || revisionChanged) {
		rev, err := r.data.odc.GetRevision(ctx, plan.AssetKey.ValueString(), int(plan.Revision.ValueInt64()))
		if client.IsNotFound(err) {
			resp.Diagnostics.AddAttributeError(path.Root("revision"), "No Such Revision",
				fmt.Sprintf("ODC has no revision %d of asset %s: %s. Point revision at a revision the asset repository lists.",
					plan.Revision.ValueInt64(), plan.AssetKey.ValueString(), apiMessages(err)))
			return
		}
		if err != nil {
			addAPIError(&resp.Diagnostics, "Failed To Read The Asset", fmt.Sprintf("read asset %s revision %d", plan.AssetKey.ValueString(), plan.Revision.ValueInt64()), err)
			return
		}
		if rev.AssetType == client.AssetTypeLibrary {
			resp.Diagnostics.AddAttributeError(path.Root("asset_key"), "Libraries Are Not Deployed",
				fmt.Sprintf("Asset %q (%s) is a library. ODC does not deploy libraries to stages: it bundles a library into each app that "+
					"consumes it, so deploying those apps carries it. Release the library with outsystems_library_release and deploy its "+
					"consuming apps with outsystems_asset_deployment.", rev.Name, plan.AssetKey.ValueString()))
			return
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("asset_name"), rev.Name)...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("asset_type"), assetTypeFromWire(rev.AssetType))...)
	}
	if revisionChanged || (!creating && plan.Revision.IsUnknown()) {
		for _, attr := range []string{"id", "build_key", "status", "started_at", "finished_at"} {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(attr), types.StringUnknown())...)
		}
	}
}

// planKnown reports whether a planned value is known.
func planKnown(v interface{ IsUnknown() bool }) bool { return !v.IsUnknown() }

func (r *assetDeploymentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan assetDeploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultDeployTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r.deploy(ctx, &plan, func(m *assetDeploymentModel) diag.Diagnostics { return resp.State.Set(ctx, m) }, &resp.Diagnostics)
}

func (r *assetDeploymentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state assetDeploymentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Revision.ValueInt64() == state.Revision.ValueInt64() {
		// Only undeploy_on_destroy or timeouts changed.
		state.UndeployOnDestroy, state.Timeouts = plan.UndeployOnDestroy, plan.Timeouts
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultDeployTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r.deploy(ctx, &plan, func(m *assetDeploymentModel) diag.Diagnostics { return resp.State.Set(ctx, m) }, &resp.Diagnostics)
}

// odcAnalysisPoll is how often ODC's deployment analysis is polled: the
// rehearsal override when set, else the client's default (every second at
// first: an analysis takes seconds).
func odcAnalysisPoll() client.PollPolicy {
	if os.Getenv(EnvODCPollInterval) != "" {
		return odcPoll
	}
	return nil
}

// deploy deploys plan's revision to plan's stage: producers first (this
// apply's deployments of them awaited), ODC's deployment analysis, a
// Release build found or made, then the Deploy, whose id goes to state as
// soon as ODC accepts it.
func (r *assetDeploymentResource) deploy(ctx context.Context, plan *assetDeploymentModel, save func(*assetDeploymentModel) diag.Diagnostics, diags *diag.Diagnostics) {
	odc := r.data.requireODC(diags)
	if odc == nil {
		return
	}
	assetKey, revision, stageKey := plan.AssetKey.ValueString(), int(plan.Revision.ValueInt64()), plan.StageKey.ValueString()
	rev, err := odc.GetRevision(ctx, assetKey, revision)
	if err != nil {
		addAPIError(diags, "Failed To Read The Asset", fmt.Sprintf("read asset %s revision %d", assetKey, revision), err)
		return
	}
	if rev.AssetType == client.AssetTypeLibrary {
		diags.AddAttributeError(path.Root("asset_key"), "Libraries Are Not Deployed",
			fmt.Sprintf("Asset %q (%s) is a library: ODC bundles libraries into the apps that consume them. Deploy those apps instead.", rev.Name, assetKey))
		return
	}
	plan.AssetName = types.StringValue(rev.Name)
	plan.AssetType = types.StringValue(assetTypeFromWire(rev.AssetType))
	stage := r.data.stageLabel(ctx, odc, stageKey)
	subject := fmt.Sprintf("%q (%s) revision %d", rev.Name, assetKey, revision)

	// Recorded before the gate: a consumer of this app in the same apply
	// waits for this deployment rather than failing.
	defer r.data.order.begin(deployOrderKey(stageKey, assetKey))()
	missing, err := r.data.awaitProducers(ctx, fmt.Sprintf("the producers of %q revision %d to be deployed in stage %s", rev.Name, revision, stage),
		func(ctx context.Context) (producerCheck, error) {
			return r.checkProducers(ctx, odc, assetKey, revision, stageKey)
		})
	if err != nil {
		addAPIError(diags, "Failed To Read The Producers", fmt.Sprintf("check the producers of %s in stage %s", subject, stage), err)
		return
	}
	if len(missing) > 0 {
		diags.AddAttributeError(path.Root("asset_key"), "Producers Not Deployed",
			fmt.Sprintf("App %s consumes apps that are not deployed in stage %s: %s. No deployment of them ran or started in that stage "+
				"while this one waited for them.\n\nODC deploys producers first. Reference the outsystems_asset_deployment of each of "+
				"these producers (the one whose asset_key is the producer's key, deploying to stage %s) from this resource, directly or "+
				"through depends_on, and apply again. Libraries need no deployment: ODC bundles them into each app.",
				subject, stage, producerLabels(missing), stage))
		return
	}
	analysis, err := odc.AnalyzeDeployment(ctx, assetKey, revision, stageKey, odcAnalysisPoll())
	if err != nil {
		addAPIError(diags, "Deployment Analysis Failed", fmt.Sprintf("run ODC's deployment analysis of %s for stage %s", subject, stage), err)
		return
	}
	if errs := analysis.Errors(); len(errs) > 0 {
		diags.AddAttributeError(path.Root("asset_key"), "ODC's Deployment Analysis Found Errors",
			fmt.Sprintf("ODC's deployment analysis %s of %s for stage %s found errors:\n- %s\n\nFor a producer missing in the stage, reference "+
				"its outsystems_asset_deployment to that stage from this resource; for an incompatible element, deploy a revision of the "+
				"producer that has it, or a revision of this app built against the one deployed there.",
				analysis.Key, subject, stage, strings.Join(errs, "\n- ")))
		return
	}

	build, ok := r.releaseBuild(ctx, odc, assetKey, revision, subject, diags)
	if !ok {
		return
	}
	attempted := time.Now()
	op, err := createOnce(ctx, "deployment of "+subject, r.data.attempts,
		func(ctx context.Context) (*client.DeploymentOperation, error) {
			return odc.StartDeploy(ctx, assetKey, revision, build.Key, stageKey)
		},
		func(ctx context.Context) (*client.DeploymentOperation, bool, error) {
			ops, err := odc.ListDeploymentOperations(ctx, client.DeploymentOperationFilter{AssetKey: assetKey, EnvironmentKey: stageKey,
				Revision: revision, Operations: []string{client.DeploymentOperationDeploy}})
			for i := range ops {
				if strings.EqualFold(ops[i].BuildKey, build.Key) && recentlyStarted(ops[i].StartedAt, attempted) {
					return &ops[i], true, nil
				}
			}
			return nil, false, err
		})
	if err != nil {
		addAPIError(diags, "Failed To Deploy", fmt.Sprintf("deploy %s (Release build %s) to stage %s", subject, build.Key, stage), err)
		return
	}
	r.data.forgetDeployedAssets(stageKey)
	plan.fromOperation(op, build.Key)
	diags.Append(save(plan)...)

	done, err := odc.WaitDeploymentOperation(ctx, op.Key, stageKey, odcPoll)
	r.data.forgetDeployedAssets(stageKey)
	var failed *client.OperationFailedError
	switch {
	case errors.As(err, &failed):
		plan.fromOperation(done, build.Key)
		diags.Append(save(plan)...)
		diags.AddError("Deployment Failed",
			fmt.Sprintf("ODC's Deploy operation %s of %s to stage %s ended %s:\n%s\n\nDeploy the producers it names to that stage first "+
				"(reference their outsystems_asset_deployment), or fix what the messages say and apply again.",
				done.Key, subject, stage, done.Status, messageLines(failed.Messages)))
		return
	case err != nil:
		diags.AddError("Deployment Did Not Finish",
			fmt.Sprintf("While waiting for ODC's Deploy operation %s of %s to stage %s, the provider stopped: %s\n\nThe operation continues "+
				"in ODC and its id is in state; the next plan reads where it ended.", op.Key, subject, stage, err))
		return
	}
	plan.fromOperation(done, build.Key)
	diags.Append(save(plan)...)
}

// messageLines lists an operation's messages, one "- [Severity] text" per line.
func messageLines(msgs []client.OperationMessage) string {
	lines := make([]string, 0, len(msgs))
	for _, m := range msgs {
		lines = append(lines, fmt.Sprintf("- [%s] %s", m.Severity, m.Message))
	}
	if len(lines) == 0 {
		return "- (the operation logged no messages)"
	}
	return strings.Join(lines, "\n")
}

// releaseBuild returns a finished Release build of the revision: the newest
// that exists, one that is running (waited for), or a new one.
func (r *assetDeploymentResource) releaseBuild(ctx context.Context, odc *client.ODC, assetKey string, revision int, subject string, diags *diag.Diagnostics) (*client.Build, bool) {
	builds, err := odc.ListBuilds(ctx, assetKey, revision, client.BuildTypeRelease)
	if err != nil {
		addAPIError(diags, "Failed To List Builds", "find a Release build of "+subject, err)
		return nil, false
	}
	var best, running *client.Build
	for i := range builds {
		b := &builds[i]
		switch {
		case b.BuildType != client.BuildTypeRelease || b.Revision != revision:
		case b.Succeeded() && (best == nil || b.FinishedAt > best.FinishedAt):
			best = b
		case !b.Done():
			running = b
		}
	}
	if best != nil {
		return best, true
	}
	key := ""
	if running != nil {
		key = running.Key
	} else {
		attempted := time.Now()
		key, err = createOnce(ctx, "Release build of "+subject, r.data.attempts,
			func(ctx context.Context) (string, error) {
				return odc.StartBuild(ctx, assetKey, revision, client.BuildTypeRelease)
			},
			func(ctx context.Context) (string, bool, error) {
				builds, err := odc.ListBuilds(ctx, assetKey, revision, client.BuildTypeRelease)
				for _, b := range builds {
					if recentlyStarted(b.StartedAt, attempted) {
						return b.Key, true, nil
					}
				}
				return "", false, err
			})
		if err != nil {
			addAPIError(diags, "Failed To Start A Release Build", "start a Release build of "+subject, err)
			return nil, false
		}
	}
	tflog.Info(ctx, "Waiting for a Release build", map[string]any{"build_key": key, "asset_key": assetKey, "revision": revision})
	b, err := odc.WaitBuild(ctx, key, odcPoll)
	var failed *client.OperationFailedError
	switch {
	case errors.As(err, &failed):
		diags.AddError("Release Build Failed",
			fmt.Sprintf("The Release build %s of %s ended %s:\n%s\n\nOpen the app in ODC Studio, fix the errors, publish the fixed revision "+
				"and point revision at it.", key, subject, b.Status, messageLines(failed.Messages)))
		return nil, false
	case err != nil:
		addAPIError(diags, "Release Build Did Not Finish", "wait for the Release build "+key+" of "+subject, err)
		return nil, false
	}
	return b, true
}

// checkProducers looks at the apps an app revision consumes in a stage:
// deployed there, being deployed (a Deploy running in ODC, or one this
// apply is making), or missing. Libraries are bundled into their consumers
// and never missing. The stage's cached deployments are read again after a
// look that found one missing.
func (r *assetDeploymentResource) checkProducers(ctx context.Context, odc *client.ODC, assetKey string, revision int, stageKey string) (producerCheck, error) {
	var got producerCheck
	_, err := missingProducers(ctx, r.data, odc, assetKey, revision, func(p client.ReferencedProducer) (bool, error) {
		if p.AssetType == client.AssetTypeLibrary {
			return true, nil
		}
		deployed, err := r.data.publishedIn(ctx, odc, stageKey, p.AssetKey, p.AssetType)
		if deployed || err != nil {
			return deployed, err
		}
		running := r.data.order.underway(deployOrderKey(stageKey, p.AssetKey))
		if !running {
			ops, err := odc.ListDeploymentOperations(ctx, client.DeploymentOperationFilter{AssetKey: p.AssetKey, EnvironmentKey: stageKey,
				Operations: []string{client.DeploymentOperationDeploy}, Status: client.PublishStatusRunning})
			if err != nil {
				return false, err
			}
			running = len(ops) > 0
		}
		got.underway = got.underway || running
		got.missing = append(got.missing, p)
		return false, nil
	})
	if len(got.missing) > 0 {
		r.data.forgetDeployedAssets(stageKey)
	}
	return got, err
}

func (m *assetDeploymentModel) fromOperation(op *client.DeploymentOperation, buildKey string) {
	m.ID = types.StringValue(op.Key)
	m.Status = types.StringValue(op.Status)
	m.StartedAt = types.StringValue(op.StartedAt)
	m.FinishedAt = types.StringValue(op.FinishedAt)
	if op.BuildKey != "" {
		buildKey = op.BuildKey
	}
	m.BuildKey = types.StringValue(buildKey)
}

func (r *assetDeploymentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var state assetDeploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	stageKey, assetKey := state.StageKey.ValueString(), state.AssetKey.ValueString()
	imported := state.ID.IsNull() || state.ID.ValueString() == ""
	if !imported && state.Status.ValueString() == client.PublishStatusRunning {
		// The apply stopped waiting: read where the operation ended.
		op, err := odc.GetDeploymentOperation(ctx, state.ID.ValueString())
		if err != nil && !client.IsNotFound(err) {
			addAPIError(&resp.Diagnostics, "Failed To Read The Deployment", "read deployment operation "+state.ID.ValueString(), err)
			return
		}
		if err == nil {
			state.fromOperation(op, state.BuildKey.ValueString())
			if !op.Done() {
				resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
				return
			}
		}
	}
	deployed, err := r.data.deployedAssets(ctx, odc, stageKey)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Stage", "check what stage "+r.data.stageLabel(ctx, odc, stageKey)+" holds of asset "+assetKey, err)
		return
	}
	d, ok := deployed[strings.ToLower(assetKey)]
	if !ok {
		if imported {
			resp.Diagnostics.AddError("Nothing To Import",
				fmt.Sprintf("Stage %s holds no deployment of asset %s, so there is nothing to import.", r.data.stageLabel(ctx, odc, stageKey), assetKey))
			return
		}
		tflog.Warn(ctx, "The app is no longer deployed in the stage; the deployment will be made again", map[string]any{
			"asset_key": assetKey, "stage_key": stageKey, "revision": state.Revision.ValueInt64()})
		resp.State.RemoveResource(ctx)
		return
	}
	if imported || int64(d.Revision) != state.Revision.ValueInt64() {
		// Imported, or another revision deployed out of band: state says what
		// the stage holds, and the plan shows the way back to the configuration.
		state.Revision = types.Int64Value(int64(d.Revision))
		state.ID = types.StringValue(d.DeploymentKey)
		state.BuildKey = types.StringValue(d.BuildKey)
		state.Status = types.StringValue(client.PublishStatusFinished)
		state.FinishedAt = types.StringValue(d.DeployedAt)
		state.StartedAt = types.StringValue("")
		op, err := odc.GetDeploymentOperation(ctx, d.DeploymentKey)
		switch {
		case err == nil:
			state.fromOperation(op, d.BuildKey)
		case !client.IsNotFound(err):
			addAPIError(&resp.Diagnostics, "Failed To Read The Deployment", "read deployment operation "+d.DeploymentKey, err)
			return
		}
	}
	if state.AssetName.IsNull() || state.AssetType.IsNull() {
		rev, err := odc.GetRevision(ctx, assetKey, int(state.Revision.ValueInt64()))
		if err != nil {
			addAPIError(&resp.Diagnostics, "Failed To Read The Asset", fmt.Sprintf("read asset %s revision %d", assetKey, state.Revision.ValueInt64()), err)
			return
		}
		state.AssetName = types.StringValue(rev.Name)
		state.AssetType = types.StringValue(assetTypeFromWire(rev.AssetType))
	}
	if state.UndeployOnDestroy.IsNull() {
		state.UndeployOnDestroy = types.BoolValue(false)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *assetDeploymentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state assetDeploymentModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	assetKey, stageKey := state.AssetKey.ValueString(), state.StageKey.ValueString()
	subject := fmt.Sprintf("%q (%s)", state.AssetName.ValueString(), assetKey)
	if !state.UndeployOnDestroy.ValueBool() {
		resp.Diagnostics.AddWarning("Deployment Left In Place",
			fmt.Sprintf("App %s stays deployed in stage %s: the deployment was removed from Terraform state only. Set "+
				"undeploy_on_destroy = true to have destroy undeploy it.", subject, stageKey))
		return
	}
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultDeployTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stage := r.data.stageLabel(ctx, odc, stageKey)
	r.data.forgetDeployedAssets(stageKey)
	deployed, err := r.data.deployedAssets(ctx, odc, stageKey)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Stage", "check what stage "+stage+" holds", err)
		return
	}
	if _, ok := deployed[strings.ToLower(assetKey)]; !ok {
		return // already gone
	}
	consumers, err := odc.ConsumersIn(ctx, assetKey, stageKey)
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Consumers", fmt.Sprintf("list the apps deployed in stage %s that consume %s", stage, subject), err)
		return
	}
	if len(consumers) > 0 {
		labels := make([]string, len(consumers))
		for i, c := range consumers {
			labels[i] = fmt.Sprintf("%q (asset %s) revision %d", c.Name, c.AssetKey, c.Revision)
		}
		resp.Diagnostics.AddError("Consumers Still Deployed",
			fmt.Sprintf("App %s cannot be undeployed from stage %s: apps deployed there consume it: %s.\n\nUndeploy them first: destroy "+
				"their outsystems_asset_deployment with undeploy_on_destroy = true in the same apply (reference this deployment from "+
				"theirs so Terraform removes them first), or set undeploy_on_destroy = false here to leave this app deployed.",
				subject, stage, strings.Join(labels, ", ")))
		return
	}
	attempted := time.Now()
	op, err := createOnce(ctx, "undeploy of "+subject, r.data.attempts,
		func(ctx context.Context) (*client.DeploymentOperation, error) {
			return odc.StartUndeploy(ctx, assetKey, stageKey)
		},
		func(ctx context.Context) (*client.DeploymentOperation, bool, error) {
			ops, err := odc.ListDeploymentOperations(ctx, client.DeploymentOperationFilter{AssetKey: assetKey, EnvironmentKey: stageKey,
				Operations: []string{client.DeploymentOperationUndeploy}})
			for i := range ops {
				if recentlyStarted(ops[i].StartedAt, attempted) {
					return &ops[i], true, nil
				}
			}
			return nil, false, err
		})
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Undeploy", fmt.Sprintf("undeploy %s from stage %s", subject, stage), err)
		return
	}
	_, err = odc.WaitDeploymentOperation(ctx, op.Key, stageKey, odcPoll)
	r.data.forgetDeployedAssets(stageKey)
	var failed *client.OperationFailedError
	switch {
	case errors.As(err, &failed):
		resp.Diagnostics.AddError("Undeploy Failed",
			fmt.Sprintf("ODC's Undeploy operation %s of %s from stage %s ended %s:\n%s", op.Key, subject, stage, failed.Status, messageLines(failed.Messages)))
	case err != nil:
		resp.Diagnostics.AddError("Undeploy Did Not Finish",
			fmt.Sprintf("While waiting for ODC's Undeploy operation %s of %s from stage %s, the provider stopped: %s", op.Key, subject, stage, err))
	}
}

// ImportState takes "<stage_key>/<asset_key>": the deployment of the asset
// in the stage, whatever revision it holds.
func (r *assetDeploymentResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	stageKey, assetKey, ok := strings.Cut(strings.TrimSpace(req.ID), "/")
	if !ok || !guidRegexp.MatchString(stageKey) || !guidRegexp.MatchString(assetKey) {
		resp.Diagnostics.AddError("Invalid Import ID",
			fmt.Sprintf("Import ID %q is not \"<stage_key>/<asset_key>\" (two GUIDs): import the deployment of an app in a stage, e.g. "+
				"terraform import outsystems_asset_deployment.orders_qa 5915f4d3-73fb-4788-88c9-57f364bda60b/3fa85f64-5717-4562-b3fc-2c963f66afa6.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("stage_key"), stageKey)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("asset_key"), assetKey)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("undeploy_on_destroy"), false)...)
}
