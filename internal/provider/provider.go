// Package provider implements the outsystems Terraform provider on the
// terraform-plugin-framework.
package provider

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// Address is the provider's registry address.
const Address = "registry.terraform.io/seed-1be1de96/outsystems"

// Environment variables read when the provider block leaves a setting unset.
const (
	EnvLifeTimeURL   = "OUTSYSTEMS_LIFETIME_URL"
	EnvLifeTimeToken = "OUTSYSTEMS_LIFETIME_TOKEN"
	EnvMaxRetries    = "OUTSYSTEMS_MAX_RETRIES"
)

var _ provider.Provider = (*outsystemsProvider)(nil)

type outsystemsProvider struct{ version string }

// New returns a provider factory for providerserver.Serve and tests.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &outsystemsProvider{version: version} }
}

func (p *outsystemsProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "outsystems"
	resp.Version = p.version
}

func (p *outsystemsProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Runs the OutSystems 11 (O11) to OutSystems Developer Cloud (ODC) code migration as code: " +
			"tags O11 apps in LifeTime, maps them to ODC assets in the Migration Kit's assessment tool, starts the code " +
			"migration and publishes and releases the produced ODC apps and libraries producers first.\n\n" +
			"Each service is optional: configure the ones the resources you use need. Every setting can come from an " +
			"environment variable instead, which is how HCP Terraform workspaces should pass the tokens.",
		Attributes: map[string]schema.Attribute{
			"lifetime": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "LifeTime API v2 of the O11 infrastructure (tags, environments, applications).",
				Attributes: map[string]schema.Attribute{
					"url": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "URL of the LifeTime host, e.g. `https://lifetime.example.com` (the API path `" +
							client.LifeTimeAPIPrefix + "` is added). Plain `http://` is accepted only for loopback hosts such as the sandbox. " +
							"Defaults to `" + EnvLifeTimeURL + "`.",
					},
					"token": schema.StringAttribute{
						Optional:  true,
						Sensitive: true,
						MarkdownDescription: "Token of a LifeTime service account (User Management > Service Accounts). " +
							"Defaults to `" + EnvLifeTimeToken + "`.",
					},
				},
			},
			"max_retries": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("How many times one API call is retried on connection errors, `429` and `5xx` "+
					"answers (never on `501`). Defaults to `%s`, else %d.", EnvMaxRetries, client.DefaultMaxRetries),
				Validators: []validator.Int64{int64validator.Between(0, 20)},
			},
		},
	}
}

// serviceSetting reads a string setting of a service object, falling back to
// an environment variable. It reports unknown when the value is not known yet.
func serviceSetting(ctx context.Context, req provider.ConfigureRequest, p path.Path, envVar string, diags *diag.Diagnostics) (string, bool) {
	var v types.String
	diags.Append(req.Config.GetAttribute(ctx, p, &v)...)
	if v.IsUnknown() {
		diags.AddAttributeError(p, "Unknown "+attrLabel(p),
			fmt.Sprintf("The provider cannot create its API clients because %s is not known until apply. "+
				"Set it to a value known at plan time, or set the %s environment variable instead.", attrLabel(p), envVar))
		return "", false
	}
	if !v.IsNull() && v.ValueString() != "" {
		return v.ValueString(), true
	}
	return os.Getenv(envVar), true
}

func attrLabel(p path.Path) string { return "`" + strings.ReplaceAll(p.String(), "\"", "") + "`" }

func (p *outsystemsProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	data := &providerData{version: p.version}
	cfg := client.Config{MaxRetries: -1, UserAgent: "terraform-provider-outsystems/" + p.version}

	var maxRetries types.Int64
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("max_retries"), &maxRetries)...)
	switch {
	case maxRetries.IsUnknown():
		resp.Diagnostics.AddAttributeError(path.Root("max_retries"), "Unknown `max_retries`",
			"The provider cannot create its API clients because `max_retries` is not known until apply. Use a value known at plan time.")
	case !maxRetries.IsNull():
		cfg.MaxRetries = int(maxRetries.ValueInt64())
	case os.Getenv(EnvMaxRetries) != "":
		var n int
		if _, err := fmt.Sscanf(os.Getenv(EnvMaxRetries), "%d", &n); err != nil || n < 0 || n > 20 {
			resp.Diagnostics.AddError("Invalid "+EnvMaxRetries,
				fmt.Sprintf("The environment variable %s is %q; it must be a whole number from 0 to 20.", EnvMaxRetries, os.Getenv(EnvMaxRetries)))
		} else {
			cfg.MaxRetries = n
		}
	}

	ltURL, okURL := serviceSetting(ctx, req, path.Root("lifetime").AtName("url"), EnvLifeTimeURL, &resp.Diagnostics)
	ltToken, okToken := serviceSetting(ctx, req, path.Root("lifetime").AtName("token"), EnvLifeTimeToken, &resp.Diagnostics)
	if okURL && okToken {
		data.lifeTime = newLifeTime(cfg, ltURL, ltToken, &resp.Diagnostics)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Debug(ctx, "Configured the OutSystems provider", map[string]any{
		"lifetime_configured": data.lifeTime != nil,
	})
	resp.ResourceData = data
	resp.DataSourceData = data
}

// newLifeTime builds the LifeTime client when its settings are present. A
// service with no settings at all is left unconfigured (resources that need
// it say how to configure it); a half-configured one is an error now.
func newLifeTime(cfg client.Config, rawURL, token string, diags *diag.Diagnostics) *client.LifeTime {
	if rawURL == "" && token == "" {
		return nil
	}
	if rawURL == "" {
		diags.AddAttributeError(path.Root("lifetime").AtName("url"), "Missing LifeTime URL",
			"A LifeTime token is configured but no URL. Set `lifetime.url` in the provider block or the "+EnvLifeTimeURL+" environment variable.")
		return nil
	}
	if token == "" {
		diags.AddAttributeError(path.Root("lifetime").AtName("token"), "Missing LifeTime Token",
			"A LifeTime URL is configured but no token. Set `lifetime.token` in the provider block or the "+EnvLifeTimeToken+
				" environment variable to the token of a LifeTime service account.")
		return nil
	}
	cfg.BaseURL = rawURL
	c, err := client.NewLifeTime(cfg, token)
	if err != nil {
		diags.AddAttributeError(path.Root("lifetime").AtName("url"), "Invalid LifeTime URL",
			"While attempting to configure the LifeTime API client, the provider found a problem with `lifetime.url` (or "+
				EnvLifeTimeURL+"): "+err.Error())
		return nil
	}
	return c
}

func (p *outsystemsProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewLifeTimeTagResource,
	}
}

func (p *outsystemsProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewLifeTimeEnvironmentDataSource,
		NewLifeTimeApplicationDataSource,
	}
}

// providerData is what Configure hands to resources and data sources.
type providerData struct {
	version  string
	lifeTime *client.LifeTime
}

// requireLifeTime returns the LifeTime client or an error saying how to configure it.
func (d *providerData) requireLifeTime(diags *diag.Diagnostics) *client.LifeTime {
	if d == nil {
		diags.AddError("Provider Not Configured", "The provider was not configured before this resource was used. This is a bug in the provider; please report it.")
		return nil
	}
	if d.lifeTime == nil {
		diags.AddError("LifeTime API Not Configured",
			"This resource calls LifeTime API v2, which the provider has no settings for. Set `lifetime.url` and `lifetime.token` "+
				"in the provider block, or the "+EnvLifeTimeURL+" and "+EnvLifeTimeToken+" environment variables.")
		return nil
	}
	return d.lifeTime
}

// providerDataFrom converts the ProviderData a resource or data source receives.
func providerDataFrom(v any, diags *diag.Diagnostics) *providerData {
	if v == nil {
		return nil // not configured yet (e.g. during validation)
	}
	d, ok := v.(*providerData)
	if !ok {
		diags.AddError("Unexpected Provider Data",
			fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", v))
		return nil
	}
	return d
}
