package provider

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

var (
	_ resource.ResourceWithConfigure      = (*stageSystemConfigurationResource)(nil)
	_ resource.ResourceWithImportState    = (*stageSystemConfigurationResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*stageSystemConfigurationResource)(nil)
	_ resource.ResourceWithValidateConfig = (*stageSystemConfigurationResource)(nil)
)

// smtpPasswordName is the name ODC gives the secret SMTP password among a
// stage's default system configurations.
const smtpPasswordName = "SMTPPassword"

// NewStageSystemConfigurationResource is the
// outsystems_stage_system_configuration resource.
func NewStageSystemConfigurationResource() resource.Resource {
	return &stageSystemConfigurationResource{}
}

type stageSystemConfigurationResource struct{ data *providerData }

type stageSystemConfigurationModel struct {
	ID                    types.String `tfsdk:"id"`
	StageKey              types.String `tfsdk:"stage_key"`
	Values                types.Map    `tfsdk:"values"`
	SMTPPasswordWO        types.String `tfsdk:"smtp_password_wo"`
	SMTPPasswordWOVersion types.Int64  `tfsdk:"smtp_password_wo_version"`
	SMTPPasswordUpdatedAt types.String `tfsdk:"smtp_password_updated_at"`
}

func (r *stageSystemConfigurationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_stage_system_configuration"
}

func (r *stageSystemConfigurationResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The default system configurations of one ODC stage: the email (SMTP) settings apps send mail with and the " +
			"other stage-wide defaults ODC's Asset Configurations API serves (`/environments/{environmentKey}/default-system-configurations`).\n\n" +
			"Only the configurations named in `values` (and the SMTP password, when `smtp_password_wo` is set) are managed; the others " +
			"are left as they are. A managed value changed outside Terraform shows in the next plan. Removing a name from `values`, or " +
			"destroying the resource, resets those configurations to the stage's defaults.\n\n" +
			"The SMTP password is **write-only**: it is sent to ODC and never stored in state or plan. It needs Terraform 1.11 or later " +
			"(or OpenTofu 1.11 or later). Change `smtp_password_wo_version` to send it again; a password changed outside Terraform (ODC's " +
			"`updatedAt` moves) shows as a change of `smtp_password_wo_version` that sends it again.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The stage key.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"stage_key": schema.StringAttribute{
				Required: true, MarkdownDescription: "Key of the ODC stage (e.g. from `data.outsystems_odc_stage`).",
				Validators:    []validator.String{guidValidator("ODC stage key")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"values": schema.MapAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Values by configuration name as ODC names them (for example `SMTPServer`, `SMTPPort`, `SMTPUsername`, " +
					"`SMTPUseTLS`, `EmailSenderAddress`, `DefaultTimeZone`), as strings. Secret configurations cannot be set here: use " +
					"`smtp_password_wo` for the SMTP password.",
				Validators: []validator.Map{mapvalidator.SizeAtLeast(1)},
			},
			"smtp_password_wo": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true,
				MarkdownDescription: "The SMTP password (`" + smtpPasswordName + "`), write-only: never stored. Needs Terraform 1.11+ or " +
					"OpenTofu 1.11+, and `smtp_password_wo_version`.",
			},
			"smtp_password_wo_version": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "Any number; the password is sent when the resource is created and whenever this number changes. " +
					"Required with `smtp_password_wo`.",
				Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRoot("smtp_password_wo"))},
			},
			"smtp_password_updated_at": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "When ODC last recorded a change of the SMTP password (\"\" when it was never set): how drift of the secret is seen without reading it.",
			},
		},
	}
}

func (r *stageSystemConfigurationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig refuses a write-only password on a Terraform that cannot
// send write-only values, saying what to do, and a password without the
// version that says when to send it.
func (r *stageSystemConfigurationResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var cfg stageSystemConfigurationModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !cfg.SMTPPasswordWO.IsNull() && !req.ClientCapabilities.WriteOnlyAttributesAllowed {
		resp.Diagnostics.AddAttributeError(path.Root("smtp_password_wo"), "Write-Only Attribute Needs Terraform 1.11",
			"`smtp_password_wo` is write-only, so the SMTP password never lands in state or plan, and this Terraform cannot send "+
				"write-only values. Run Terraform 1.11 or later (or OpenTofu 1.11 or later), or leave `smtp_password_wo` and "+
				"`smtp_password_wo_version` out and set the SMTP password in the ODC Portal (the stage's email configuration).")
	}
	if !cfg.SMTPPasswordWO.IsNull() && !cfg.SMTPPasswordWO.IsUnknown() && cfg.SMTPPasswordWOVersion.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("smtp_password_wo_version"), "Missing Password Version",
			"`smtp_password_wo` is set without `smtp_password_wo_version`. Terraform never stores the password, so it cannot see "+
				"when it changes: set `smtp_password_wo_version = 1` and raise it whenever the password should be sent again.")
	}
}

// configByName indexes a stage's configurations.
func configByName(configs []client.SystemConfiguration) map[string]client.SystemConfiguration {
	out := make(map[string]client.SystemConfiguration, len(configs))
	for _, c := range configs {
		out[c.Name] = c
	}
	return out
}

func configNames(configs []client.SystemConfiguration, secret bool) string {
	var names []string
	for _, c := range configs {
		if c.IsSecret == secret {
			names = append(names, c.Name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// checkValues checks planned values against the stage's configurations:
// known names, no secrets, values of the configuration's data type.
func checkValues(values map[string]string, configs []client.SystemConfiguration, stageKey string) []string {
	byName := configByName(configs)
	var problems []string
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		c, ok := byName[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("`values` names %q, which stage %s has no default system configuration called. "+
				"Its configurations are: %s (names are case-sensitive).", name, stageKey, configNames(configs, false)))
		case c.IsSecret:
			if name == smtpPasswordName {
				problems = append(problems, fmt.Sprintf("`values` names %q, a secret: secrets never go in `values`, which state keeps. "+
					"Set it with `smtp_password_wo` (write-only) and `smtp_password_wo_version`.", name))
			} else {
				problems = append(problems, fmt.Sprintf("`values` names %q, a secret configuration: secrets never go in `values`, "+
					"which state keeps. Set it in the ODC Portal.", name))
			}
		default:
			if why := badValue(c.DataType, values[name]); why != "" {
				problems = append(problems, fmt.Sprintf("`values[%q]` = %q is not %s, as configuration %q (%s) takes.", name, values[name], why, name, c.DataType))
			}
		}
	}
	return problems
}

// badValue says what a value of a data type must be, or "" when it is one.
func badValue(dataType, v string) string {
	switch dataType {
	case "Integer", "LongInteger":
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return "an integer"
		}
	case "Decimal", "Currency":
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "a decimal number"
		}
	case "Boolean":
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return "True or False"
		}
	}
	return ""
}

// ModifyPlan checks the named values against what the stage offers, when
// the stage is known.
func (r *stageSystemConfigurationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || !r.data.configuredForPlan(&resp.Diagnostics, false, false, true) {
		return
	}
	var plan stageSystemConfigurationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !req.State.Raw.IsNull() {
		// The password's updatedAt moves only when the password is sent
		// (or reset) again.
		var state stageSystemConfigurationModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if plan.SMTPPasswordWOVersion.Equal(state.SMTPPasswordWOVersion) && plan.SMTPPasswordUpdatedAt.IsUnknown() {
			plan.SMTPPasswordUpdatedAt = state.SMTPPasswordUpdatedAt
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("smtp_password_updated_at"), state.SMTPPasswordUpdatedAt)...)
		}
	}
	if plan.StageKey.IsUnknown() || plan.Values.IsUnknown() {
		return
	}
	values, ok := knownStringMap(plan.Values)
	if !ok || len(values) == 0 {
		return
	}
	stageKey := plan.StageKey.ValueString()
	configs, err := r.data.odc.SystemConfigurations(ctx, stageKey)
	if client.IsNotFound(err) {
		resp.Diagnostics.AddAttributeError(path.Root("stage_key"), "Stage Not Found", stageNotFound(stageKey))
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Stage's System Configurations", "read the default system configurations of stage "+stageKey, err)
		return
	}
	for _, p := range checkValues(values, configs, stageKey) {
		resp.Diagnostics.AddAttributeError(path.Root("values"), "Invalid System Configuration Value", p)
	}
}

func stageNotFound(stageKey string) string {
	return fmt.Sprintf("ODC has no stage with key %s, or the API client may not see it. Take the key from data.outsystems_odc_stage.", stageKey)
}

// knownStringMap reads a map whose elements are all known; ok is false
// when one is not.
func knownStringMap(m types.Map) (map[string]string, bool) {
	out := map[string]string{}
	if m.IsNull() {
		return out, true
	}
	if m.IsUnknown() {
		return nil, false
	}
	for k, v := range m.Elements() {
		s, isStr := v.(types.String)
		if !isStr || s.IsUnknown() {
			return nil, false
		}
		out[k] = s.ValueString()
	}
	return out, true
}

// readConfigs reads a stage's configurations, adding the error (naming the
// stage when it is not found) to diags; nil on error.
func (r *stageSystemConfigurationResource) readConfigs(ctx context.Context, odc *client.ODC, stageKey string, diags *diag.Diagnostics) []client.SystemConfiguration {
	configs, err := odc.SystemConfigurations(ctx, stageKey)
	switch {
	case client.IsNotFound(err):
		diags.AddAttributeError(path.Root("stage_key"), "Stage Not Found", stageNotFound(stageKey))
		return nil
	case err != nil:
		diags.AddError("Failed To Read The Stage's System Configurations",
			apiErrorDetail("read the default system configurations of stage "+stageKey, err))
		return nil
	}
	return configs
}

// fill sets the model's values (the names it manages, as ODC now holds
// them) and the password's updatedAt from a fresh read.
func fillSystemConfiguration(m *stageSystemConfigurationModel, configs []client.SystemConfiguration, names []string) {
	byName := configByName(configs)
	if !m.Values.IsNull() {
		values := map[string]string{}
		for _, n := range names {
			if c, ok := byName[n]; ok && !c.IsSecret {
				values[n] = derefString(c.Value)
			}
		}
		m.Values = stringMap(values)
	}
	m.SMTPPasswordUpdatedAt = types.StringValue(byName[smtpPasswordName].UpdatedAt)
}

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func stringMap(values map[string]string) types.Map {
	elems := make(map[string]attr.Value, len(values))
	for k, v := range values {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

// privatePasswordManaged is the private state key that records whether
// the resource set the SMTP password (so destroy resets it), since the
// version alone cannot tell after a drift forgot it.
const privatePasswordManaged = "smtp_password_managed"

func passwordManaged(managed bool) []byte {
	if managed {
		return []byte("true")
	}
	return []byte("false")
}

// passwordChange is what a write does with the SMTP password.
type passwordChange int

const (
	passwordKeep passwordChange = iota
	passwordSend
	passwordReset
)

// write sends the changes: the values to set, the names to reset, and the
// password. The password comes from the configuration (write-only) and
// goes to ODC only.
func (r *stageSystemConfigurationResource) write(ctx context.Context, odc *client.ODC, stageKey string, configs []client.SystemConfiguration,
	set map[string]string, reset []string, pw passwordChange, password string) error {
	byName := configByName(configs)
	var changes []client.ConfigurationValue
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		v := set[n]
		changes = append(changes, client.ConfigurationValue{Key: byName[n].Key, Value: &v})
	}
	for _, n := range reset {
		if c, ok := byName[n]; ok {
			changes = append(changes, client.ConfigurationValue{Key: c.Key})
		}
	}
	if pw != passwordKeep {
		c, ok := byName[smtpPasswordName]
		if !ok || !c.IsSecret {
			return fmt.Errorf("stage %s has no secret default system configuration called %q (its secret configurations: %s), "+
				"so `smtp_password_wo` has nowhere to go: leave it and `smtp_password_wo_version` out", stageKey, smtpPasswordName, configNames(configs, true))
		}
		v := client.ConfigurationValue{Key: c.Key}
		if pw == passwordSend {
			v.Value = &password
		}
		changes = append(changes, v)
	}
	return odc.PatchSystemConfigurations(ctx, stageKey, changes)
}

func (r *stageSystemConfigurationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var plan stageSystemConfigurationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	var password types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("smtp_password_wo"), &password)...)
	if resp.Diagnostics.HasError() {
		return
	}
	stageKey := plan.StageKey.ValueString()
	values, _ := knownStringMap(plan.Values)
	configs := r.readConfigs(ctx, odc, stageKey, &resp.Diagnostics)
	if configs == nil {
		return
	}
	if problems := checkValues(values, configs, stageKey); len(problems) > 0 {
		for _, p := range problems {
			resp.Diagnostics.AddAttributeError(path.Root("values"), "Invalid System Configuration Value", p)
		}
		return
	}
	pw := passwordKeep
	if !password.IsNull() {
		pw = passwordSend
	}
	if err := r.write(ctx, odc, stageKey, configs, values, nil, pw, password.ValueString()); err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Set The Stage's System Configurations", "set the default system configurations of stage "+stageKey, err)
		return
	}
	plan.ID = types.StringValue(stageKey)
	plan.SMTPPasswordUpdatedAt = types.StringValue("")
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privatePasswordManaged, passwordManaged(pw == passwordSend))...)
	r.readBack(ctx, odc, &plan, values, &resp.State, &resp.Diagnostics)
}

// readBack reads what the write left and records it.
func (r *stageSystemConfigurationResource) readBack(ctx context.Context, odc *client.ODC, m *stageSystemConfigurationModel, values map[string]string,
	state *tfsdk.State, diags *diag.Diagnostics) {
	configs, err := odc.SystemConfigurations(ctx, m.StageKey.ValueString())
	if err != nil {
		addAPIError(diags, "Failed To Read The Stage's System Configurations", "read back the configurations just set; they are recorded in state", err)
		return
	}
	fillSystemConfiguration(m, configs, sortedKeys(values))
	diags.Append(state.Set(ctx, m)...)
}

func (r *stageSystemConfigurationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var state stageSystemConfigurationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	configs, err := odc.SystemConfigurations(ctx, state.StageKey.ValueString())
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Stage's System Configurations", "read the default system configurations of stage "+state.StageKey.ValueString(), err)
		return
	}
	values, _ := knownStringMap(state.Values)
	before := state.SMTPPasswordUpdatedAt.ValueString()
	fillSystemConfiguration(&state, configs, sortedKeys(values))
	if !state.SMTPPasswordWOVersion.IsNull() && state.SMTPPasswordUpdatedAt.ValueString() != before {
		// The password changed (or was reset) outside Terraform: forget the
		// version that sent it, so the plan sends the configured one again.
		state.SMTPPasswordWOVersion = types.Int64Null()
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *stageSystemConfigurationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var plan, state stageSystemConfigurationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	var password types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("smtp_password_wo"), &password)...)
	if resp.Diagnostics.HasError() {
		return
	}
	stageKey := plan.StageKey.ValueString()
	configs := r.readConfigs(ctx, odc, stageKey, &resp.Diagnostics)
	if configs == nil {
		return
	}
	values, _ := knownStringMap(plan.Values)
	old, _ := knownStringMap(state.Values)
	if problems := checkValues(values, configs, stageKey); len(problems) > 0 {
		for _, p := range problems {
			resp.Diagnostics.AddAttributeError(path.Root("values"), "Invalid System Configuration Value", p)
		}
		return
	}
	set := map[string]string{}
	for n, v := range values {
		if o, ok := old[n]; !ok || o != v {
			set[n] = v
		}
	}
	var reset []string
	for _, n := range sortedKeys(old) {
		if _, ok := values[n]; !ok {
			reset = append(reset, n)
		}
	}
	pw := passwordKeep
	switch {
	case !plan.SMTPPasswordWOVersion.IsNull() && !password.IsNull() && !plan.SMTPPasswordWOVersion.Equal(state.SMTPPasswordWOVersion):
		pw = passwordSend
	case plan.SMTPPasswordWOVersion.IsNull() && password.IsNull() && !state.SMTPPasswordWOVersion.IsNull():
		pw = passwordReset
	}
	if err := r.write(ctx, odc, stageKey, configs, set, reset, pw, password.ValueString()); err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Set The Stage's System Configurations", "set the default system configurations of stage "+stageKey, err)
		return
	}
	plan.ID = types.StringValue(stageKey)
	if plan.SMTPPasswordUpdatedAt.IsUnknown() {
		plan.SMTPPasswordUpdatedAt = state.SMTPPasswordUpdatedAt
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privatePasswordManaged, passwordManaged(!plan.SMTPPasswordWOVersion.IsNull()))...)
	r.readBack(ctx, odc, &plan, values, &resp.State, &resp.Diagnostics)
}

// Delete resets what the resource managed to the stage's defaults.
func (r *stageSystemConfigurationResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var state stageSystemConfigurationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	stageKey := state.StageKey.ValueString()
	configs, err := odc.SystemConfigurations(ctx, stageKey)
	if client.IsNotFound(err) {
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Stage's System Configurations", "read the default system configurations of stage "+stageKey, err)
		return
	}
	old, _ := knownStringMap(state.Values)
	pw := passwordKeep
	if managed, _ := req.Private.GetKey(ctx, privatePasswordManaged); string(managed) == "true" {
		pw = passwordReset
	}
	if err := r.write(ctx, odc, stageKey, configs, nil, sortedKeys(old), pw, ""); err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Reset The Stage's System Configurations", "reset the default system configurations of stage "+stageKey+" to their defaults", err)
	}
}

// ImportState takes a stage key; the imported resource manages every value
// set in the stage (non-secret ones whose origin is the stage's override).
// The password's version cannot be imported: add smtp_password_wo and
// smtp_password_wo_version to the configuration, and the first apply sends
// the password.
func (r *stageSystemConfigurationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	stageKey := strings.ToLower(strings.TrimSpace(req.ID))
	if !guidRegexp.MatchString(stageKey) {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("%q is not a stage key: import with the ODC stage's key, e.g. 3f2504e0-4f89-11d3-9a0c-0305e82c3301.", req.ID))
		return
	}
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	configs := r.readConfigs(ctx, odc, stageKey, &resp.Diagnostics)
	if configs == nil {
		return
	}
	values := map[string]string{}
	for _, c := range configs {
		if !c.IsSecret && c.ValueOrigin == "EnvironmentLevelOverride" {
			values[c.Name] = derefString(c.Value)
		}
	}
	m := stageSystemConfigurationModel{ID: types.StringValue(stageKey), StageKey: types.StringValue(stageKey), Values: types.MapNull(types.StringType),
		SMTPPasswordWO: types.StringNull(), SMTPPasswordWOVersion: types.Int64Null()}
	if len(values) > 0 {
		m.Values = stringMap(values)
	}
	fillSystemConfiguration(&m, configs, sortedKeys(values))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
