package provider

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

var (
	_ resource.ResourceWithConfigure      = (*appConfigurationResource)(nil)
	_ resource.ResourceWithImportState    = (*appConfigurationResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*appConfigurationResource)(nil)
	_ resource.ResourceWithValidateConfig = (*appConfigurationResource)(nil)
)

// defaultApplyConfigsTimeout bounds a create or update that applies the
// values (ApplyConfigs) and waits for it.
const defaultApplyConfigsTimeout = 20 * time.Minute

// secretDriftVersion is what Read puts in secret_settings_wo_version when a
// secret changed outside Terraform, so the plan shows it and the next apply
// writes the configured secrets again.
const secretDriftVersion = "(a secret changed outside Terraform)"

// NewAppConfigurationResource is the outsystems_app_configuration resource.
func NewAppConfigurationResource() resource.Resource { return &appConfigurationResource{} }

type appConfigurationResource struct{ data *providerData }

type appConfigurationModel struct {
	ID                      types.String   `tfsdk:"id"`
	AssetKey                types.String   `tfsdk:"asset_key"`
	StageKey                types.String   `tfsdk:"stage_key"`
	Settings                types.Map      `tfsdk:"settings"`
	Timers                  types.Map      `tfsdk:"timers"`
	Integrations            types.Map      `tfsdk:"integrations"`
	LibrarySettings         types.Map      `tfsdk:"library_settings"`
	SecretSettingsWO        types.Map      `tfsdk:"secret_settings_wo"`
	SecretSettingsWOVersion types.String   `tfsdk:"secret_settings_wo_version"`
	SecretSettingsUpdatedAt types.Map      `tfsdk:"secret_settings_updated_at"`
	Apply                   types.Bool     `tfsdk:"apply"`
	Pending                 types.Bool     `tfsdk:"pending"`
	Revision                types.Int64    `tfsdk:"revision"`
	Name                    types.String   `tfsdk:"name"`
	Timeouts                timeouts.Value `tfsdk:"timeouts"`
}

func (r *appConfigurationResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_app_configuration"
}

func (r *appConfigurationResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	names := stringvalidator.LengthAtLeast(1)
	resp.Schema = schema.Schema{
		MarkdownDescription: "The configuration of one ODC app in one stage, through ODC's asset configurations API: its **settings** " +
			"(O11 site properties become settings), **timers** (active or not), **integrations** (the base URL of each consumed REST " +
			"API) and the settings of the **libraries** it consumes (ODC sets a library's settings through each consuming app). " +
			"Everything is named as in ODC Studio; the provider looks up the keys.\n\n" +
			"Only the values named here are managed: values nobody names are left as they are, and a managed value changed " +
			"outside Terraform shows in the plan. Changed values stay **pending** in ODC until an `ApplyConfigs` or a deploy " +
			"runs in the stage (a publish, in Development): set `apply` to run `ApplyConfigs` after each change.\n\n" +
			"**Secrets never land in state**: give them in `secret_settings_wo`, a write-only attribute (Terraform 1.11 or later, " +
			"OpenTofu 1.11 or later), and change `secret_settings_wo_version` to write them again. A setting must be secret in " +
			"ODC to take a secret: O11 secret site properties arrive in ODC as ordinary settings; mark them secret in ODC Studio " +
			"and publish first.\n\nDestroying the resource leaves every value in ODC as it is.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "`<stage_key>/<asset_key>`.", PlanModifiers: keep},
			"asset_key": schema.StringAttribute{
				Required: true, MarkdownDescription: "Key of the ODC app (not a library: a library's settings are set through its consumers' `library_settings`).",
				Validators: []validator.String{guidValidator("ODC asset key")}, PlanModifiers: replace,
			},
			"stage_key": schema.StringAttribute{
				Required: true, MarkdownDescription: "Key of the stage (for example from `data.outsystems_odc_stage`). The app must be deployed there (published, in Development).",
				Validators: []validator.String{guidValidator("ODC stage key")}, PlanModifiers: replace,
			},
			"settings": schema.MapAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Values of the app's settings, by setting name, as text (`\"25\"`, `\"true\"`). Not for secret settings: use `secret_settings_wo`.",
				Validators:          []validator.Map{mapvalidator.KeysAre(names)},
			},
			"timers": schema.MapAttribute{
				ElementType: types.BoolType, Optional: true,
				MarkdownDescription: "Whether each timer runs (its `IsActive`), by timer name.",
				Validators:          []validator.Map{mapvalidator.KeysAre(names)},
			},
			"integrations": schema.MapAttribute{
				ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Base URL of each consumed REST API in this stage, by integration name.",
				Validators:          []validator.Map{mapvalidator.KeysAre(names)},
			},
			"library_settings": schema.MapAttribute{
				ElementType: types.MapType{ElemType: types.StringType}, Optional: true,
				MarkdownDescription: "Values of the settings of the libraries the app consumes, set through this app: library name → setting name → value.",
				Validators:          []validator.Map{mapvalidator.KeysAre(names)},
			},
			"secret_settings_wo": schema.MapAttribute{
				ElementType: types.StringType, Optional: true, WriteOnly: true, Sensitive: true,
				MarkdownDescription: "Values of secret settings, by setting name. **Write-only**: never stored in state or plan " +
					"(Terraform 1.11 or later, OpenTofu 1.11 or later). Written on create and whenever `secret_settings_wo_version` " +
					"changes or a secret is added here. Each setting must be secret in ODC (mark it in ODC Studio and publish).",
				Validators: []validator.Map{mapvalidator.KeysAre(names)},
			},
			"secret_settings_wo_version": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Any value; change it to write `secret_settings_wo` again (for example after rotating a secret). " +
					"When a secret changed outside Terraform, the refresh sets it to `" + secretDriftVersion + "` so the plan shows it and the next apply writes the secrets again.",
			},
			"secret_settings_updated_at": schema.MapAttribute{
				ElementType: types.StringType, Computed: true,
				MarkdownDescription: "When each secret of `secret_settings_wo` was last set, as ODC reports it (`updatedAt`); never the value.",
			},
			"apply": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "When `true`, the provider runs ODC's `ApplyConfigs` in the stage after changing values (and whenever " +
					"managed values are pending), and waits for it, polling as ODC advises. Default `false`: values stay pending " +
					"until the next deploy or `ApplyConfigs` (OutSystems advises changing values right before the deploy that should carry them).",
			},
			"pending": schema.BoolAttribute{
				Computed:            true,
				MarkdownDescription: "Whether a managed value (or secret) was changed after the last deploy or `ApplyConfigs` in the stage.",
			},
			"revision": schema.Int64Attribute{
				Computed: true, MarkdownDescription: "The app's revision deployed in the stage, whose settings these are.",
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"name":     schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the app.", PlanModifiers: keep},
			"timeouts": timeouts.Attributes(ctx, timeouts.Opts{Create: true, Update: true}),
		},
	}
}

func (r *appConfigurationResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig refuses secrets on a Terraform without write-only
// attributes with what to do, besides the framework's own error.
func (r *appConfigurationResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var secrets types.Map
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("secret_settings_wo"), &secrets)...)
	if secrets.IsNull() || req.ClientCapabilities.WriteOnlyAttributesAllowed {
		return
	}
	resp.Diagnostics.AddAttributeError(path.Root("secret_settings_wo"), "Secret Settings Need Terraform 1.11 Or Later",
		"`secret_settings_wo` is a write-only attribute, so secret values never land in state or plan; this Terraform does not "+
			"support write-only attributes. Run this configuration with Terraform 1.11 or later (or OpenTofu 1.11 or later). "+
			"Until then remove `secret_settings_wo` and set the secret values in the ODC Portal; do not move them to `settings`, "+
			"which is stored in state (and which the provider refuses for secret settings).")
}

// desired is what a configuration asks for, in Go values.
type desired struct {
	settings     map[string]string
	timers       map[string]bool
	integrations map[string]string
	libraries    map[string]map[string]string
	secrets      map[string]string // nil when unknown or not given
}

func (m *appConfigurationModel) desired(ctx context.Context, diags *diag.Diagnostics) desired {
	var d desired
	for _, x := range []struct {
		v    types.Map
		into any
	}{{m.Settings, &d.settings}, {m.Timers, &d.timers}, {m.Integrations, &d.integrations}, {m.LibrarySettings, &d.libraries}} {
		if !x.v.IsNull() && !x.v.IsUnknown() {
			diags.Append(x.v.ElementsAs(ctx, x.into, false)...)
		}
	}
	return d
}

// secretsFrom reads secret_settings_wo from a configuration (write-only
// values exist only there).
func secretsFrom(ctx context.Context, config interface {
	GetAttribute(context.Context, path.Path, any) diag.Diagnostics
}, diags *diag.Diagnostics) (map[string]string, bool) {
	var v types.Map
	diags.Append(config.GetAttribute(ctx, path.Root("secret_settings_wo"), &v)...)
	if v.IsUnknown() {
		return nil, false
	}
	out := map[string]string{}
	if !v.IsNull() {
		diags.Append(v.ElementsAs(ctx, &out, false)...)
	}
	return out, true
}

// appConfigIndex finds an app configuration's elements by name.
type appConfigIndex struct {
	cfg          *client.AppConfiguration
	settings     map[string]client.ConfigValue
	timers       map[string]client.ConfigElement
	integrations map[string]client.ConfigElement
	libraries    map[string]client.LibraryConfig
}

func indexConfig(cfg *client.AppConfiguration) *appConfigIndex {
	x := &appConfigIndex{cfg: cfg, settings: map[string]client.ConfigValue{}, timers: map[string]client.ConfigElement{},
		integrations: map[string]client.ConfigElement{}, libraries: map[string]client.LibraryConfig{}}
	for _, s := range cfg.Settings {
		x.settings[s.Name] = s
	}
	for _, t := range cfg.Timers {
		x.timers[t.Name] = t
	}
	for _, i := range cfg.Integrations {
		x.integrations[i.Name] = i
	}
	for _, l := range cfg.Libraries {
		x.libraries[l.Name] = l
	}
	return x
}

func librarySetting(l client.LibraryConfig, name string) (client.ConfigValue, bool) {
	for _, s := range l.Settings {
		if s.Name == name {
			return s, true
		}
	}
	return client.ConfigValue{}, false
}

func namesOf[T any](m map[string]T) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, fmt.Sprintf("%q", n))
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// check refuses names ODC does not know, plain values for secret settings
// and secrets for settings ODC does not report secret, each error naming
// the attribute and what to do. It never shows a secret's value.
func (x *appConfigIndex) check(d desired, diags *diag.Diagnostics) {
	app := fmt.Sprintf("app %q revision %d", x.cfg.Name, x.cfg.RevisionBaseline)
	for _, name := range sortedKeys(d.settings) {
		s, ok := x.settings[name]
		at := path.Root("settings").AtMapKey(name)
		switch {
		case !ok:
			diags.AddAttributeError(at, "Unknown Setting", fmt.Sprintf("%s has no setting %q. Its settings are: %s. Use the name as ODC Studio shows it.", app, name, namesOf(x.settings)))
		case s.IsSecret:
			diags.AddAttributeError(at, "Secret Setting Given As Plain Setting", fmt.Sprintf("Setting %q of %s is secret in ODC: a value in "+
				"`settings` would be stored in state. Move it to `secret_settings_wo` (write-only; Terraform 1.11 or later).", name, app))
		default:
			if why := configValueProblem(s.DataType, d.settings[name]); why != "" {
				diags.AddAttributeError(at, "Invalid Setting Value", fmt.Sprintf("Setting %q of %s is a %s; %q is not one: %s.", name, app, s.DataType, d.settings[name], why))
			}
		}
	}
	for _, name := range sortedKeys(d.secrets) {
		s, ok := x.settings[name]
		at := path.Root("secret_settings_wo").AtMapKey(name)
		switch {
		case !ok:
			diags.AddAttributeError(at, "Unknown Secret Setting", fmt.Sprintf("%s has no setting %q. Its settings are: %s.", app, name, namesOf(x.settings)))
		case s.IsSecret:
			if why := configValueProblem(s.DataType, d.secrets[name]); why != "" {
				// Never the value: it is a secret.
				diags.AddAttributeError(at, "Invalid Secret Value", fmt.Sprintf("Secret setting %q of %s is a %s; the value given is not one: %s.", name, app, s.DataType, why))
			}
		default:
			diags.AddAttributeError(at, "Setting Is Not Secret In ODC", fmt.Sprintf("Setting %q of %s is not secret in ODC, so ODC would "+
				"show its value to anyone who can view configurations. O11 secret site properties arrive in ODC as ordinary settings: "+
				"open the app in ODC Studio, set the setting's Is Secret property, publish the app (and deploy it to this stage), "+
				"then apply again.", name, app))
		}
	}
	for _, name := range sortedKeys(d.timers) {
		if _, ok := x.timers[name]; !ok {
			diags.AddAttributeError(path.Root("timers").AtMapKey(name), "Unknown Timer", fmt.Sprintf("%s has no timer %q. Its timers are: %s.", app, name, namesOf(x.timers)))
		}
	}
	for _, name := range sortedKeys(d.integrations) {
		i, ok := x.integrations[name]
		if _, hasURL := i.Config(client.IntegrationConfigBaseURL); !ok || !hasURL {
			diags.AddAttributeError(path.Root("integrations").AtMapKey(name), "Unknown Integration", fmt.Sprintf("%s has no consumed REST API %q with a base URL. Its integrations are: %s.", app, name, namesOf(x.integrations)))
		} else if u, err := url.Parse(d.integrations[name]); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			diags.AddAttributeError(path.Root("integrations").AtMapKey(name), "Invalid Base URL", fmt.Sprintf("The base URL of %q, %q, is not an absolute http or https URL: use one like https://api.example.com/v1.", name, d.integrations[name]))
		}
	}
	for _, lib := range sortedKeys(d.libraries) {
		l, ok := x.libraries[lib]
		if !ok {
			diags.AddAttributeError(path.Root("library_settings").AtMapKey(lib), "Unknown Library", fmt.Sprintf("%s consumes no library %q. It consumes: %s.", app, lib, namesOf(x.libraries)))
			continue
		}
		for _, name := range sortedKeys(d.libraries[lib]) {
			s, ok := librarySetting(l, name)
			if ok && !s.IsSecret {
				if why := configValueProblem(s.DataType, d.libraries[lib][name]); why != "" {
					diags.AddAttributeError(path.Root("library_settings").AtMapKey(lib), "Invalid Library Setting Value", fmt.Sprintf("Setting %q of library %q is a %s; %q is not one: %s.", name, lib, s.DataType, d.libraries[lib][name], why))
				}
			}
			switch {
			case !ok:
				diags.AddAttributeError(path.Root("library_settings").AtMapKey(lib), "Unknown Library Setting", fmt.Sprintf("Library %q (revision %d, consumed by %s) has no setting %q.", lib, l.Revision, app, name))
			case s.IsSecret:
				diags.AddAttributeError(path.Root("library_settings").AtMapKey(lib), "Secret Library Setting", fmt.Sprintf("Setting %q of library %q is secret in ODC: the provider does not put secrets in state; set it in the ODC Portal.", name, lib))
			}
		}
	}
}

// configValueProblem reports why value is not a value of an ODC setting
// data type, for the types whose form is plain; "" when it fits (ODC checks
// the others). It never repeats the value.
func configValueProblem(dataType, value string) string {
	switch dataType {
	case "Integer":
		if _, err := strconv.ParseInt(value, 10, 32); err != nil {
			return "a whole number from -2147483648 to 2147483647 is expected"
		}
	case "LongInteger":
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return "a whole number is expected"
		}
	case "Decimal", "Currency":
		if _, err := strconv.ParseFloat(value, 64); err != nil || strings.ContainsAny(value, "eE") {
			return "a decimal number like 12.5 is expected"
		}
	case "Boolean":
		if !strings.EqualFold(value, "true") && !strings.EqualFold(value, "false") {
			return "true or false is expected"
		}
	}
	return ""
}

// patch builds the change from what ODC holds to what is desired: the
// values that differ, and the secrets when writeSecrets.
func (x *appConfigIndex) patch(d desired, writeSecrets bool) client.AppConfigPatch {
	p := client.AppConfigPatch{RevisionBaseline: x.cfg.RevisionBaseline}
	for _, name := range sortedKeys(d.settings) {
		if s := x.settings[name]; valueOf(s) != d.settings[name] {
			p.Settings = append(p.Settings, client.ConfigPatchValue{Key: s.Key, Value: d.settings[name]})
		}
	}
	if writeSecrets {
		for _, name := range sortedKeys(d.secrets) {
			p.Settings = append(p.Settings, client.ConfigPatchValue{Key: x.settings[name].Key, Value: d.secrets[name]})
		}
	}
	for _, name := range sortedKeys(d.timers) {
		t := x.timers[name]
		c, _ := t.Config(client.TimerConfigIsActive)
		if want := fmt.Sprint(d.timers[name]); !strings.EqualFold(valueOf(c), want) {
			p.Timers = append(p.Timers, client.ConfigElementPatch{Key: t.Key, Configs: []client.ConfigPatchValue{{Key: client.TimerConfigIsActive, Value: want}}})
		}
	}
	for _, name := range sortedKeys(d.integrations) {
		i := x.integrations[name]
		if c, _ := i.Config(client.IntegrationConfigBaseURL); valueOf(c) != d.integrations[name] {
			p.Integrations = append(p.Integrations, client.ConfigElementPatch{Key: i.Key, Configs: []client.ConfigPatchValue{{Key: client.IntegrationConfigBaseURL, Value: d.integrations[name]}}})
		}
	}
	for _, lib := range sortedKeys(d.libraries) {
		l := x.libraries[lib]
		lp := client.LibraryConfigPatch{Key: l.Key, Revision: l.Revision}
		for _, name := range sortedKeys(d.libraries[lib]) {
			if s, _ := librarySetting(l, name); valueOf(s) != d.libraries[lib][name] {
				lp.Settings = append(lp.Settings, client.ConfigPatchValue{Key: s.Key, Value: d.libraries[lib][name]})
			}
		}
		if len(lp.Settings) > 0 {
			p.Libraries = append(p.Libraries, lp)
		}
	}
	return p
}

func valueOf(v client.ConfigValue) string {
	if v.Value == nil {
		return ""
	}
	return *v.Value
}

// pending reports whether a managed value or secret is pending in ODC.
func (x *appConfigIndex) pending(d desired, secretNames []string) bool {
	for name := range d.settings {
		if x.settings[name].Pending() {
			return true
		}
	}
	for _, name := range secretNames {
		if x.settings[name].Pending() {
			return true
		}
	}
	for name := range d.timers {
		if c, _ := x.timers[name].Config(client.TimerConfigIsActive); c.Pending() {
			return true
		}
	}
	for name := range d.integrations {
		if c, _ := x.integrations[name].Config(client.IntegrationConfigBaseURL); c.Pending() {
			return true
		}
	}
	for lib, settings := range d.libraries {
		for name := range settings {
			if s, _ := librarySetting(x.libraries[lib], name); s.Pending() {
				return true
			}
		}
	}
	return false
}

// refresh sets the managed maps (the names they hold) to ODC's values; a
// name ODC no longer has leaves the map, so the plan shows it again.
func (x *appConfigIndex) refresh(m *appConfigurationModel, d desired) {
	settings, timers, integrations := map[string]attr.Value{}, map[string]attr.Value{}, map[string]attr.Value{}
	for name := range d.settings {
		if s, ok := x.settings[name]; ok && !s.IsSecret {
			settings[name] = types.StringValue(valueOf(s))
		}
	}
	for name := range d.timers {
		if c, ok := x.timers[name].Config(client.TimerConfigIsActive); ok {
			timers[name] = types.BoolValue(strings.EqualFold(valueOf(c), "true"))
		}
	}
	for name := range d.integrations {
		if c, ok := x.integrations[name].Config(client.IntegrationConfigBaseURL); ok {
			integrations[name] = types.StringValue(valueOf(c))
		}
	}
	libraries := map[string]attr.Value{}
	for lib, names := range d.libraries {
		l, ok := x.libraries[lib]
		if !ok {
			continue
		}
		values := map[string]attr.Value{}
		for name := range names {
			if s, ok := librarySetting(l, name); ok && !s.IsSecret {
				values[name] = types.StringValue(valueOf(s))
			}
		}
		libraries[lib] = types.MapValueMust(types.StringType, values)
	}
	if !m.Settings.IsNull() {
		m.Settings = types.MapValueMust(types.StringType, settings)
	}
	if !m.Timers.IsNull() {
		m.Timers = types.MapValueMust(types.BoolType, timers)
	}
	if !m.Integrations.IsNull() {
		m.Integrations = types.MapValueMust(types.StringType, integrations)
	}
	if !m.LibrarySettings.IsNull() {
		m.LibrarySettings = types.MapValueMust(types.MapType{ElemType: types.StringType}, libraries)
	}
	m.Name = types.StringValue(x.cfg.Name)
	m.Revision = types.Int64Value(int64(x.cfg.RevisionBaseline))
	m.ID = types.StringValue(m.StageKey.ValueString() + "/" + m.AssetKey.ValueString())
}

// secretTimes is when each named secret was last set, as ODC reports it.
func (x *appConfigIndex) secretTimes(names []string) types.Map {
	out := map[string]attr.Value{}
	for _, name := range names {
		if s, ok := x.settings[name]; ok && s.UpdatedAt != nil {
			out[name] = types.StringValue(*s.UpdatedAt)
		} else {
			out[name] = types.StringValue("")
		}
	}
	return types.MapValueMust(types.StringType, out)
}

// readConfig reads the configuration deployed in the stage, with an error
// saying what to do when the app is not deployed there.
func (r *appConfigurationResource) readConfig(ctx context.Context, odc *client.ODC, m *appConfigurationModel, diags *diag.Diagnostics) *appConfigIndex {
	stageKey, assetKey := m.StageKey.ValueString(), m.AssetKey.ValueString()
	cfg, err := odc.AppConfiguration(ctx, stageKey, assetKey, 0)
	if client.IsNotFound(err) {
		diags.AddAttributeError(path.Root("asset_key"), "App Not Deployed In The Stage",
			fmt.Sprintf("ODC has no configuration of app %s deployed in stage %s: %s\n\nThe app must be deployed in the stage "+
				"(published, in Development) before it is configured there: reference its outsystems_asset_publication or "+
				"deployment (depends_on), check asset_key is an app (a library's settings go in its consumers' library_settings), then apply again.",
				assetKey, r.data.stageLabel(ctx, odc, stageKey), apiMessages(err)))
		return nil
	}
	if err != nil {
		addAPIError(diags, "Failed To Read The App Configuration", fmt.Sprintf("read the configuration of app %s in stage %s", assetKey, stageKey), err)
		return nil
	}
	return indexConfig(cfg)
}

func (r *appConfigurationResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || !r.data.configuredForPlan(&resp.Diagnostics, false, false, true) {
		return
	}
	var plan appConfigurationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Apply.ValueBool() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("pending"), false)...)
	}
	if !req.State.Raw.IsNull() {
		var state appConfigurationModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		secretsChanged := !plan.SecretSettingsWOVersion.Equal(state.SecretSettingsWOVersion)
		secrets, known := secretsFrom(ctx, req.Config, &resp.Diagnostics)
		if known && !secretsChanged && sameKeys(sortedKeys(secrets), sortedKeys(state.SecretSettingsUpdatedAt.Elements())) {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("secret_settings_updated_at"), state.SecretSettingsUpdatedAt)...)
		}
		if !plan.Apply.ValueBool() && plan.Settings.Equal(state.Settings) && plan.Timers.Equal(state.Timers) &&
			plan.Integrations.Equal(state.Integrations) && plan.LibrarySettings.Equal(state.LibrarySettings) && !secretsChanged {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("pending"), state.Pending)...)
		}
	}
	if plan.AssetKey.IsUnknown() || plan.StageKey.IsUnknown() {
		return
	}
	d := plan.desired(ctx, &resp.Diagnostics)
	secrets, known := secretsFrom(ctx, req.Config, &resp.Diagnostics)
	if known {
		d.secrets = secrets
	}
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil || resp.Diagnostics.HasError() {
		return
	}
	if plan.Apply.ValueBool() {
		r.checkApplyStage(ctx, odc, plan.StageKey.ValueString(), &resp.Diagnostics)
	}
	cfg, err := odc.AppConfiguration(ctx, plan.StageKey.ValueString(), plan.AssetKey.ValueString(), 0)
	if client.IsNotFound(err) {
		// Not deployed there yet: it may be in this apply; the apply checks again.
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The App Configuration", fmt.Sprintf("read the configuration of app %s in stage %s", plan.AssetKey.ValueString(), plan.StageKey.ValueString()), err)
		return
	}
	indexConfig(cfg).check(d, &resp.Diagnostics)
}

// checkApplyStage refuses `apply` in the Development stage, where ODC
// takes no ApplyConfigs: a publish applies the values there.
func (r *appConfigurationResource) checkApplyStage(ctx context.Context, odc *client.ODC, stageKey string, diags *diag.Diagnostics) {
	stages, err := r.data.listStages(ctx, odc)
	if err != nil {
		addAPIError(diags, "Failed To List The Stages", "list the ODC stages", err)
		return
	}
	for _, s := range stages {
		if strings.EqualFold(s.Key, stageKey) && s.Purpose == client.StagePurposeDevelopment {
			diags.AddAttributeError(path.Root("apply"), "No ApplyConfigs In Development",
				fmt.Sprintf("`apply = true` runs ODC's ApplyConfigs, which ODC runs in the stages after Development only; stage %q is "+
					"the Development stage, where the next publish of the app applies the values. Set `apply = false` here (values stay "+
					"pending until the app is published again), or configure a later stage.", s.Name))
		}
	}
}

func (r *appConfigurationResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan appConfigurationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultApplyConfigsTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	secrets, _ := secretsFrom(ctx, req.Config, &resp.Diagnostics)
	r.write(ctx, &plan, secrets, true, &resp.Diagnostics)
	if plan.ID.IsUnknown() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *appConfigurationResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state appConfigurationModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultApplyConfigsTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	secrets, _ := secretsFrom(ctx, req.Config, &resp.Diagnostics)
	writeSecrets := !plan.SecretSettingsWOVersion.Equal(state.SecretSettingsWOVersion)
	if !writeSecrets {
		// A secret named for the first time is written; one dropped is only forgotten.
		known := map[string]bool{}
		for _, k := range sortedKeys(state.SecretSettingsUpdatedAt.Elements()) {
			known[k] = true
		}
		for name := range secrets {
			writeSecrets = writeSecrets || !known[name]
		}
	}
	r.write(ctx, &plan, secrets, writeSecrets, &resp.Diagnostics)
	if plan.ID.IsUnknown() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// write sends what differs (and the secrets when writeSecrets), runs
// ApplyConfigs when asked, and reads the result into m. On failure m.ID
// stays unknown on create.
func (r *appConfigurationResource) write(ctx context.Context, m *appConfigurationModel, secrets map[string]string, writeSecrets bool, diags *diag.Diagnostics) {
	odc := r.data.requireODC(diags)
	if odc == nil {
		return
	}
	if m.Apply.ValueBool() {
		r.checkApplyStage(ctx, odc, m.StageKey.ValueString(), diags)
	}
	x := r.readConfig(ctx, odc, m, diags)
	if x == nil {
		return
	}
	d := m.desired(ctx, diags)
	d.secrets = secrets
	x.check(d, diags)
	if diags.HasError() {
		return
	}
	p := x.patch(d, writeSecrets)
	stageKey, assetKey := m.StageKey.ValueString(), m.AssetKey.ValueString()
	if !p.Empty() {
		if err := odc.PatchAppConfiguration(ctx, stageKey, assetKey, p); err != nil {
			addAPIError(diags, "Failed To Change The App Configuration", fmt.Sprintf("change %d value(s) of app %q in stage %s", len(p.Settings)+len(p.Timers)+len(p.Integrations)+len(p.Libraries), x.cfg.Name, r.data.stageLabel(ctx, odc, stageKey)), err)
			return
		}
		if x = r.readConfig(ctx, odc, m, diags); x == nil {
			return
		}
	}
	secretNames := sortedKeys(secrets)
	if m.Apply.ValueBool() && x.pending(d, secretNames) {
		if err := applyConfigs(ctx, odc, stageKey, assetKey, x.cfg.RevisionBaseline); err != nil {
			addAPIError(diags, "Failed To Apply The Configuration", fmt.Sprintf("apply the configuration of app %q in stage %s (ApplyConfigs)", x.cfg.Name, r.data.stageLabel(ctx, odc, stageKey)), err)
			return
		}
		if x = r.readConfig(ctx, odc, m, diags); x == nil {
			return
		}
	}
	x.refresh(m, d)
	m.Pending = types.BoolValue(x.pending(d, secretNames))
	m.SecretSettingsUpdatedAt = x.secretTimes(secretNames)
}

func (r *appConfigurationResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var state appConfigurationModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg, err := odc.AppConfiguration(ctx, state.StageKey.ValueString(), state.AssetKey.ValueString(), 0)
	if client.IsNotFound(err) {
		resp.Diagnostics.AddWarning("App No Longer Deployed In The Stage",
			fmt.Sprintf("App %s is not deployed in stage %s any more (%s), so its configuration there cannot be read; the provider "+
				"forgets it. Deploy the app there again and apply to configure it.", state.AssetKey.ValueString(), state.StageKey.ValueString(), apiMessages(err)))
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The App Configuration", fmt.Sprintf("read the configuration of app %s in stage %s", state.AssetKey.ValueString(), state.StageKey.ValueString()), err)
		return
	}
	x := indexConfig(cfg)
	d := state.desired(ctx, &resp.Diagnostics)
	secretNames := sortedKeys(state.SecretSettingsUpdatedAt.Elements())
	recorded := map[string]string{}
	resp.Diagnostics.Append(state.SecretSettingsUpdatedAt.ElementsAs(ctx, &recorded, false)...)
	for _, name := range secretNames {
		if s, ok := x.settings[name]; !ok || !s.IsSecret || s.UpdatedAt == nil || *s.UpdatedAt != recorded[name] {
			// Changed (or unmarked) outside Terraform: the plan shows it
			// through the version, and the next apply writes the secrets.
			state.SecretSettingsWOVersion = types.StringValue(secretDriftVersion)
		}
	}
	x.refresh(&state, d)
	state.Pending = types.BoolValue(x.pending(d, secretNames))
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Delete forgets the configuration: ODC has no "unset", and resetting
// values to their defaults could break the running app, so every value
// stays as it is.
func (r *appConfigurationResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

// ImportState takes "<stage_key>/<asset_key>" and brings back every
// non-secret setting, timer, integration and consumed library setting with
// its current value; secrets are never read.
func (r *appConfigurationResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	stageKey, assetKey, ok := strings.Cut(req.ID, "/")
	if !ok || !guidRegexp.MatchString(stageKey) || !guidRegexp.MatchString(assetKey) {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("The import ID %q is not \"<stage_key>/<asset_key>\": use the stage's key and the app's key, both GUIDs, joined by a slash.", req.ID))
		return
	}
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	m := appConfigurationModel{StageKey: types.StringValue(strings.ToLower(stageKey)), AssetKey: types.StringValue(strings.ToLower(assetKey)),
		Apply: types.BoolValue(false), SecretSettingsWOVersion: types.StringNull(), SecretSettingsWO: types.MapNull(types.StringType),
		SecretSettingsUpdatedAt: types.MapValueMust(types.StringType, map[string]attr.Value{}),
		Timeouts:                timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{"create": types.StringType, "update": types.StringType})}}
	x := r.readConfig(ctx, odc, &m, &resp.Diagnostics)
	if x == nil {
		return
	}
	d := desired{settings: map[string]string{}, timers: map[string]bool{}, integrations: map[string]string{}, libraries: map[string]map[string]string{}}
	for name, s := range x.settings {
		if !s.IsSecret {
			d.settings[name] = ""
		}
	}
	for name := range x.timers {
		d.timers[name] = false
	}
	for name, i := range x.integrations {
		if _, ok := i.Config(client.IntegrationConfigBaseURL); ok {
			d.integrations[name] = ""
		}
	}
	for name, l := range x.libraries {
		values := map[string]string{}
		for _, s := range l.Settings {
			if !s.IsSecret {
				values[s.Name] = ""
			}
		}
		if len(values) > 0 {
			d.libraries[name] = values
		}
	}
	m.Settings, m.Timers, m.Integrations, m.LibrarySettings = emptyOrNull(types.StringType, len(d.settings)), emptyOrNull(types.BoolType, len(d.timers)),
		emptyOrNull(types.StringType, len(d.integrations)), emptyOrNull(types.MapType{ElemType: types.StringType}, len(d.libraries))
	x.refresh(&m, d)
	m.Pending = types.BoolValue(x.pending(d, nil))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// emptyOrNull is an empty map of t (refresh fills it) when n > 0, else null.
func emptyOrNull(t attr.Type, n int) types.Map {
	if n == 0 {
		return types.MapNull(t)
	}
	return types.MapValueMust(t, map[string]attr.Value{})
}
