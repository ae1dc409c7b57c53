package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

var (
	_ resource.ResourceWithConfigure   = (*customDomainResource)(nil)
	_ resource.ResourceWithImportState = (*customDomainResource)(nil)
)

// NewCustomDomainResource is the outsystems_custom_domain resource.
func NewCustomDomainResource() resource.Resource { return &customDomainResource{} }

type customDomainResource struct{ data *providerData }

type customDomainModel struct {
	ID                   types.String `tfsdk:"id"`
	StageKey             types.String `tfsdk:"stage_key"`
	Hostname             types.String `tfsdk:"hostname"`
	Name                 types.String `tfsdk:"name"`
	DefaultAppKey        types.String `tfsdk:"default_app_key"`
	RedirectOption       types.String `tfsdk:"redirect_option"`
	DomainKey            types.String `tfsdk:"domain_key"`
	CNameValue           types.String `tfsdk:"cname_value"`
	CertificateStatus    types.String `tfsdk:"certificate_status"`
	ValidationCNameName  types.String `tfsdk:"certificate_validation_cname_name"`
	ValidationCNameValue types.String `tfsdk:"certificate_validation_cname_value"`
	IsDefault            types.Bool   `tfsdk:"is_default"`
}

// hostnameLabelRegexp is one label of a DNS hostname, in lower case.
var hostnameLabelRegexp = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// hostnameProblem says why a hostname cannot be a custom domain, or "".
func hostnameProblem(h string) string {
	switch {
	case len(h) > 253:
		return "is longer than 253 characters"
	case strings.ToLower(h) != h:
		return fmt.Sprintf("has upper-case letters: write it in lower case (%q)", strings.ToLower(h))
	case strings.HasPrefix(h, "*."):
		return "is a wildcard: a custom domain names one host"
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return "is not fully qualified: write it with its domain, like app.example.com"
	}
	for _, l := range labels {
		if !hostnameLabelRegexp.MatchString(l) {
			return fmt.Sprintf("has label %q: each dot-separated label takes 1 to 63 letters, digits and inner hyphens", l)
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "is an IP address or ends in a numeric label: use a DNS name"
	}
	for _, builtin := range []string{"outsystems.app", "outsystems.dev", "outsystemscloud.com"} {
		if h == builtin || strings.HasSuffix(h, "."+builtin) {
			return fmt.Sprintf("is under %s, a domain OutSystems provides: a custom domain must be one you own", builtin)
		}
	}
	return ""
}

type hostnameValidator struct{}

func (hostnameValidator) Description(context.Context) string {
	return "a lower-case, fully qualified hostname you own"
}
func (v hostnameValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (hostnameValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	h := req.ConfigValue.ValueString()
	if p := hostnameProblem(h); p != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Hostname", fmt.Sprintf("`hostname` %q %s.", h, p))
	}
}

func (r *customDomainResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_custom_domain"
}

func (r *customDomainResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A custom domain of an ODC stage: a hostname you own mapped to the stage, through ODC's Environment " +
			"Configurations API (`/environments/{environmentKey}/domains`).\n\n" +
			"After creating it, point the hostname's DNS at `cname_value` and add the certificate's validation record " +
			"(`certificate_validation_cname_name` → `certificate_validation_cname_value`); ODC then issues the certificate " +
			"(`certificate_status` goes from `Creating` and `PendingValidation` to `Active`). The resource does not wait for that.\n\n" +
			"ODC allows the whole Environment Configurations API only **10 requests a minute** per organization. The provider paces " +
			"its calls to that rate (shared by every resource of a run), so many domains apply without `429 Too Many Requests`, at " +
			"about 6 seconds a call; a refresh reads a stage's domains 100 at a time.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "`<stage_key>/<domain_key>`.", PlanModifiers: keep},
			"stage_key": schema.StringAttribute{
				Required: true, MarkdownDescription: "Key of the ODC stage the hostname maps to.",
				Validators: []validator.String{guidValidator("ODC stage key")}, PlanModifiers: replace,
			},
			"hostname": schema.StringAttribute{
				Required: true, MarkdownDescription: "The hostname, in lower case (e.g. `portal.example.com`). A hostname maps to one stage at a time.",
				Validators: []validator.String{hostnameValidator{}}, PlanModifiers: replace,
			},
			"name": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Name shown in the ODC Portal; ODC names the domain after its hostname when unset. ODC cannot rename a domain: changing it replaces the domain.",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 100)},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured(), stringplanmodifier.UseStateForUnknown()},
			},
			"default_app_key": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Key of the app the domain opens at its root. ODC accepts an app (not a library) deployed in the stage: " +
					"reference the deployment or publication of that app so it is in place first.",
				Validators: []validator.String{guidValidator("ODC app key")},
			},
			"redirect_option": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(client.RedirectPermanent),
				MarkdownDescription: "How the domain redirects: `Permanent` (301, ODC's default), `Temporary` or `None`.",
				Validators:          []validator.String{stringvalidator.OneOf(client.RedirectOptions...)},
			},
			"domain_key": schema.StringAttribute{Computed: true, MarkdownDescription: "ODC's key of the domain.", PlanModifiers: keep},
			"cname_value": schema.StringAttribute{
				Computed: true, MarkdownDescription: "What the hostname's DNS CNAME record must point to.", PlanModifiers: keep,
			},
			"certificate_status": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Status of the domain's certificate: `Creating`, `PendingValidation`, `Issued`, `Active`, `Failed`, `Expired`, ... as ODC reports it.",
			},
			"certificate_validation_cname_name": schema.StringAttribute{
				Computed: true, MarkdownDescription: "Name of the DNS CNAME record that validates the certificate (\"\" until ODC gives it).",
			},
			"certificate_validation_cname_value": schema.StringAttribute{
				Computed: true, MarkdownDescription: "Value of the DNS CNAME record that validates the certificate (\"\" until ODC gives it).",
			},
			"is_default": schema.BoolAttribute{
				Computed: true, MarkdownDescription: "Whether the domain is the stage's default domain for apps (set in the ODC Portal).",
			},
		},
	}
}

func (r *customDomainResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

// fillDomain records what ODC answered about a domain.
func fillDomain(m *customDomainModel, stageKey string, d *client.CustomDomain) {
	m.ID = types.StringValue(stageKey + "/" + d.Key)
	m.StageKey = types.StringValue(stageKey)
	m.DomainKey = types.StringValue(d.Key)
	m.Hostname = types.StringValue(d.Hostname)
	m.Name = types.StringValue(d.Name)
	m.DefaultAppKey = types.StringNull()
	if d.DefaultApplicationKey != "" {
		m.DefaultAppKey = types.StringValue(d.DefaultApplicationKey)
	}
	m.RedirectOption = types.StringValue(d.RedirectOption)
	m.CNameValue = types.StringValue(d.CNameValue)
	m.CertificateStatus = types.StringValue(d.Certificate.Status)
	m.ValidationCNameName = types.StringValue(d.Certificate.CNameKey)
	m.ValidationCNameValue = types.StringValue(d.Certificate.CNameValue)
	m.IsDefault = types.BoolValue(d.IsDefault)
}

func domainAppKey(m customDomainModel) string {
	return strings.ToLower(m.DefaultAppKey.ValueString())
}

// Create maps the hostname to the stage, records it in state at once, then
// sets the default app and redirect when they differ from ODC's defaults.
func (r *customDomainResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var plan customDomainModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	stageKey, hostname := strings.ToLower(plan.StageKey.ValueString()), plan.Hostname.ValueString()
	name := ""
	if !plan.Name.IsUnknown() && !plan.Name.IsNull() {
		name = plan.Name.ValueString()
	}
	d, err := odc.CreateDomain(ctx, stageKey, hostname, name)
	if err != nil {
		summary, attempt := "Failed To Add The Custom Domain", fmt.Sprintf("map hostname %s to stage %s", hostname, stageKey)
		switch client.StatusCode(err) {
		case 404:
			resp.Diagnostics.AddAttributeError(path.Root("stage_key"), "Stage Not Found", stageNotFound(stageKey))
		case 409:
			resp.Diagnostics.AddAttributeError(path.Root("hostname"), "Hostname Already Mapped",
				fmt.Sprintf("ODC already maps %s: %s\n\nA hostname maps to one stage at a time. Remove it from the other stage "+
					"(or import it: terraform import <address> %s/%s), then apply again.", hostname, apiMessages(err), stageKey, hostname))
		default:
			addAPIError(&resp.Diagnostics, summary, attempt, err)
		}
		return
	}
	want := customDomainModel{DefaultAppKey: plan.DefaultAppKey, RedirectOption: plan.RedirectOption}
	fillDomain(&plan, stageKey, d)
	r.data.domainCache().put(stageKey, *d)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if domainAppKey(want) == d.DefaultApplicationKey && want.RedirectOption.ValueString() == d.RedirectOption {
		return
	}
	updated, err := odc.UpdateDomain(ctx, stageKey, d.Key, domainAppKey(want), want.RedirectOption.ValueString())
	if err != nil {
		r.addUpdateError(&resp.Diagnostics, hostname, domainAppKey(want), err)
		return
	}
	fillDomain(&plan, stageKey, updated)
	r.data.domainCache().put(stageKey, *updated)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *customDomainResource) addUpdateError(diags interface {
	AddAttributeError(path.Path, string, string)
	AddError(string, string)
}, hostname, appKey string, err error) {
	if client.StatusCode(err) == 400 && appKey != "" {
		diags.AddAttributeError(path.Root("default_app_key"), "Default App Not Accepted",
			fmt.Sprintf("ODC did not accept app %s as the default of %s: %s\n\nThe default must be an app (not a library) deployed "+
				"in the domain's stage: deploy it there first (reference its deployment so Terraform orders them), or leave "+
				"`default_app_key` unset.", appKey, hostname, apiMessages(err)))
		return
	}
	diags.AddError("Failed To Update The Custom Domain", apiErrorDetail("set the default app and redirect of "+hostname, err))
}

func (r *customDomainResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var state customDomainModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	stageKey := strings.ToLower(state.StageKey.ValueString())
	d, err := r.data.domainCache().get(ctx, odc, stageKey, state.DomainKey.ValueString())
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Read The Custom Domain", "read custom domain "+state.Hostname.ValueString()+" of stage "+stageKey, err)
		return
	}
	fillDomain(&state, stageKey, d)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *customDomainResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var plan, state customDomainModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	stageKey := strings.ToLower(state.StageKey.ValueString())
	updated, err := odc.UpdateDomain(ctx, stageKey, state.DomainKey.ValueString(), domainAppKey(plan), plan.RedirectOption.ValueString())
	if err != nil {
		r.addUpdateError(&resp.Diagnostics, state.Hostname.ValueString(), domainAppKey(plan), err)
		return
	}
	fillDomain(&plan, stageKey, updated)
	r.data.domainCache().put(stageKey, *updated)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *customDomainResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	var state customDomainModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	stageKey := strings.ToLower(state.StageKey.ValueString())
	if err := odc.DeleteDomain(ctx, stageKey, state.DomainKey.ValueString()); err != nil {
		addAPIError(&resp.Diagnostics, "Failed To Remove The Custom Domain", "remove custom domain "+state.Hostname.ValueString()+" from stage "+stageKey, err)
		return
	}
	r.data.domainCache().forget(stageKey, state.DomainKey.ValueString())
}

// ImportState takes `<stage_key>/<domain_key>` or `<stage_key>/<hostname>`.
func (r *customDomainResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	const want = "expected <stage_key>/<domain_key> or <stage_key>/<hostname>, e.g. 3f2504e0-4f89-11d3-9a0c-0305e82c3301/portal.example.com"
	stageKey, second, ok := strings.Cut(strings.TrimSpace(req.ID), "/")
	stageKey = strings.ToLower(stageKey)
	if !ok || !guidRegexp.MatchString(stageKey) || second == "" {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("Import ID %q: %s.", req.ID, want))
		return
	}
	odc := r.data.requireODC(&resp.Diagnostics)
	if odc == nil {
		return
	}
	domains, err := odc.ListDomains(ctx, stageKey)
	if client.IsNotFound(err) {
		resp.Diagnostics.AddError("Stage Not Found", stageNotFound(stageKey))
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Failed To List The Stage's Domains", "list the custom domains of stage "+stageKey, err)
		return
	}
	for i := range domains {
		d := &domains[i]
		if strings.EqualFold(d.Key, second) || strings.EqualFold(d.Hostname, second) {
			if d.BuiltIn {
				resp.Diagnostics.AddError("Built-In Domain", fmt.Sprintf("%s is a domain OutSystems provides, not a custom domain: only custom domains are imported.", d.Hostname))
				return
			}
			var m customDomainModel
			fillDomain(&m, stageKey, d)
			resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
			return
		}
	}
	resp.Diagnostics.AddError("Custom Domain Not Found", fmt.Sprintf("Stage %s has no custom domain %q (it has %d domains). %s.", stageKey, second, len(domains), want))
}

// domainCache holds, per stage, the domains one listing found, so a
// refresh of many domains reads each stage 100 domains a request instead
// of one request a domain (the API takes 10 a minute). This process's own
// changes update it; a domain the listing lacks is read alone before it is
// declared gone.
type domainCache struct {
	mu     sync.Mutex
	stages map[string]*memo[map[string]client.CustomDomain]
}

func (c *domainCache) stage(stageKey string) *memo[map[string]client.CustomDomain] {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stages == nil {
		c.stages = map[string]*memo[map[string]client.CustomDomain]{}
	}
	m, ok := c.stages[stageKey]
	if !ok {
		m = &memo[map[string]client.CustomDomain]{}
		c.stages[stageKey] = m
	}
	return m
}

func (c *domainCache) get(ctx context.Context, odc *client.ODC, stageKey, domainKey string) (*client.CustomDomain, error) {
	listing, err := c.stage(stageKey).get(ctx, func(ctx context.Context) (map[string]client.CustomDomain, error) {
		ds, err := odc.ListDomains(ctx, stageKey)
		if err != nil {
			return nil, err
		}
		out := make(map[string]client.CustomDomain, len(ds))
		for _, d := range ds {
			out[d.Key] = d
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	d, ok := listing[strings.ToLower(domainKey)]
	c.mu.Unlock()
	if ok {
		return &d, nil
	}
	return odc.GetDomain(ctx, stageKey, domainKey)
}

// put records a domain this process created or changed, in a listing
// already read.
func (c *domainCache) put(stageKey string, d client.CustomDomain) {
	m := c.stage(stageKey)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done {
		c.mu.Lock()
		m.value[d.Key] = d
		c.mu.Unlock()
	}
}

func (c *domainCache) forget(stageKey, domainKey string) {
	m := c.stage(stageKey)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done {
		c.mu.Lock()
		delete(m.value, strings.ToLower(domainKey))
		c.mu.Unlock()
	}
}

// domainCache is this run's listing of custom domains.
func (d *providerData) domainCache() *domainCache { return &d.customDomains }
