// Package provider implements the outsystems Terraform provider on the
// terraform-plugin-framework.
package provider

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

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
	EnvLifeTimeURL     = "OUTSYSTEMS_LIFETIME_URL"
	EnvLifeTimeToken   = "OUTSYSTEMS_LIFETIME_TOKEN"
	EnvAssessmentURL   = "OUTSYSTEMS_ASSESSMENT_URL"
	EnvAssessmentToken = "OUTSYSTEMS_ASSESSMENT_TOKEN"
	EnvODCPortalURL    = "OUTSYSTEMS_ODC_PORTAL_URL"
	EnvODCClientID     = "OUTSYSTEMS_ODC_CLIENT_ID"
	EnvODCClientSecret = "OUTSYSTEMS_ODC_CLIENT_SECRET"
	EnvMaxRetries      = "OUTSYSTEMS_MAX_RETRIES"
)

// Default client-side pacing: ODC documents 100 requests per minute per
// organization, and 10 per minute for deployment POSTs. LifeTime and the
// assessment tool document no limit.
const (
	defaultODCRequestsPerMinute        = 100
	defaultODCDeploymentPostsPerMinute = 10
)

// rateSchema is the requests_per_minute attribute of a service object.
func rateSchema(service, env string, def int) schema.Int64Attribute {
	d := "no limit"
	if def > 0 {
		d = fmt.Sprintf("%d", def)
	}
	return schema.Int64Attribute{
		Optional: true,
		MarkdownDescription: fmt.Sprintf("Most requests the provider sends to %s in any minute, retries included, shared by all "+
			"resources of a run, so a large apply paces itself instead of collecting `429`s. `0` means no limit. Defaults to `%s`, else %s.",
			service, env, d),
		Validators: []validator.Int64{int64validator.Between(0, 100000)},
	}
}

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
					"requests_per_minute": rateSchema("LifeTime", "OUTSYSTEMS_LIFETIME_REQUESTS_PER_MINUTE", 0),
				},
			},
			"assessment": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "The Migration Kit's assessment tool (mappings, readiness). The kit publishes no API: the provider " +
					"speaks its own versioned contract (`api/migration-kit/v1/openapi.yaml` in the provider's repository), which the sandbox implements.",
				Attributes: map[string]schema.Attribute{
					"url": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "URL of the assessment tool's console on the O11 Development environment, e.g. " +
							"`https://dev.example.com/MigrationAssessment` (newer kits: `/ConversionAssessment`). Defaults to `" + EnvAssessmentURL + "`.",
					},
					"token": schema.StringAttribute{
						Optional:  true,
						Sensitive: true,
						MarkdownDescription: "LifeTime service-account token the console accepts (Administrator role). Defaults to `" +
							EnvAssessmentToken + "`, then to the LifeTime token.",
					},
					"requests_per_minute": rateSchema("the assessment tool", "OUTSYSTEMS_ASSESSMENT_REQUESTS_PER_MINUTE", 0),
				},
			},
			"odc": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "The ODC portal APIs (code migration, asset repository, dependencies, publishing, releases), with an API client's credentials.",
				Attributes: map[string]schema.Attribute{
					"portal_url": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "URL of the organization's ODC portal, e.g. `https://acme.outsystems.dev`. Defaults to `" + EnvODCPortalURL + "`.",
					},
					"client_id": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "ID of the ODC API client. Defaults to `" + EnvODCClientID + "`.",
					},
					"client_secret": schema.StringAttribute{
						Optional:            true,
						Sensitive:           true,
						MarkdownDescription: "Secret of the ODC API client. Defaults to `" + EnvODCClientSecret + "`.",
					},
					"requests_per_minute": rateSchema("the ODC APIs (deployment POSTs are also held to 10 per minute, as ODC documents)",
						"OUTSYSTEMS_ODC_REQUESTS_PER_MINUTE", defaultODCRequestsPerMinute),
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
	data := &providerData{version: p.version, attempts: client.DefaultMaxRetries + 1,
		environments: &memo[[]client.Environment]{}, stages: &memo[[]client.Stage]{}}
	cfg := client.Config{MaxRetries: -1, UserAgent: "terraform-provider-outsystems/" + p.version}

	var maxRetries types.Int64
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("max_retries"), &maxRetries)...)
	switch {
	case maxRetries.IsUnknown():
		resp.Diagnostics.AddAttributeError(path.Root("max_retries"), "Unknown `max_retries`",
			"The provider cannot create its API clients because `max_retries` is not known until apply. Use a value known at plan time.")
	case !maxRetries.IsNull():
		cfg.MaxRetries = int(maxRetries.ValueInt64())
		data.attempts = cfg.MaxRetries + 1
	case os.Getenv(EnvMaxRetries) != "":
		var n int
		if _, err := fmt.Sscanf(os.Getenv(EnvMaxRetries), "%d", &n); err != nil || n < 0 || n > 20 {
			resp.Diagnostics.AddError("Invalid "+EnvMaxRetries,
				fmt.Sprintf("The environment variable %s is %q; it must be a whole number from 0 to 20.", EnvMaxRetries, os.Getenv(EnvMaxRetries)))
		} else {
			cfg.MaxRetries = n
			data.attempts = n + 1
		}
	}

	lt := readService(ctx, req, "lifetime", "LifeTime", &resp.Diagnostics,
		&setting{name: "url", env: EnvLifeTimeURL, required: true},
		&setting{name: "token", env: EnvLifeTimeToken, required: true})
	if lt != nil {
		cfg := cfg
		cfg.BaseURL = lt[0]
		cfg.RequestsPerMinute = rateSetting(ctx, req, "lifetime", "OUTSYSTEMS_LIFETIME_REQUESTS_PER_MINUTE", 0, &resp.Diagnostics)
		c, err := client.NewLifeTime(cfg, lt[1])
		invalidURL(&resp.Diagnostics, "lifetime", "url", EnvLifeTimeURL, "LifeTime", err)
		data.lifeTime = c
	}

	as := readService(ctx, req, "assessment", "Assessment Tool", &resp.Diagnostics,
		&setting{name: "url", env: EnvAssessmentURL, required: true},
		&setting{name: "token", env: EnvAssessmentToken})
	if as != nil {
		token := as[1]
		if token == "" && lt != nil {
			token = lt[1]
		}
		if token == "" {
			resp.Diagnostics.AddAttributeError(path.Root("assessment").AtName("token"), "Missing Assessment Tool Token",
				"The assessment tool URL is configured but no token, and there is no LifeTime token to fall back to. Set `assessment.token` "+
					"(or "+EnvAssessmentToken+"), or `lifetime.token` (or "+EnvLifeTimeToken+").")
		} else {
			cfg := cfg
			cfg.BaseURL = as[0]
			cfg.RequestsPerMinute = rateSetting(ctx, req, "assessment", "OUTSYSTEMS_ASSESSMENT_REQUESTS_PER_MINUTE", 0, &resp.Diagnostics)
			c, err := client.NewAssessment(cfg, token)
			invalidURL(&resp.Diagnostics, "assessment", "url", EnvAssessmentURL, "Assessment Tool", err)
			data.assessment = c
		}
	}

	odc := readService(ctx, req, "odc", "ODC", &resp.Diagnostics,
		&setting{name: "portal_url", env: EnvODCPortalURL, required: true},
		&setting{name: "client_id", env: EnvODCClientID, required: true},
		&setting{name: "client_secret", env: EnvODCClientSecret, required: true})
	if odc != nil {
		cfg := cfg
		cfg.BaseURL = odc[0]
		cfg.RequestsPerMinute = rateSetting(ctx, req, "odc", "OUTSYSTEMS_ODC_REQUESTS_PER_MINUTE", defaultODCRequestsPerMinute, &resp.Diagnostics)
		cfg.DeploymentRequestsPerMinute = defaultODCDeploymentPostsPerMinute
		if cfg.RequestsPerMinute == 0 {
			cfg.DeploymentRequestsPerMinute = 0 // pacing turned off altogether
		}
		c, err := client.NewODC(cfg, odc[1], odc[2])
		invalidURL(&resp.Diagnostics, "odc", "portal_url", EnvODCPortalURL, "ODC", err)
		data.odc = c
	}

	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Debug(ctx, "Configured the OutSystems provider", map[string]any{
		"lifetime_configured": data.lifeTime != nil, "assessment_configured": data.assessment != nil, "odc_configured": data.odc != nil,
	})
	resp.ResourceData = data
	resp.DataSourceData = data
}

// rateSetting reads a service's requests_per_minute, falling back to its
// environment variable, then to def.
func rateSetting(ctx context.Context, req provider.ConfigureRequest, block, env string, def int, diags *diag.Diagnostics) int {
	p := path.Root(block).AtName("requests_per_minute")
	var v types.Int64
	diags.Append(req.Config.GetAttribute(ctx, p, &v)...)
	switch {
	case v.IsUnknown():
		diags.AddAttributeError(p, "Unknown "+attrLabel(p), "The provider cannot create its API clients because "+attrLabel(p)+" is not known until apply. Use a value known at plan time.")
	case !v.IsNull():
		return int(v.ValueInt64())
	case os.Getenv(env) != "":
		n, err := strconv.Atoi(os.Getenv(env))
		if err != nil || n < 0 {
			diags.AddError("Invalid "+env, fmt.Sprintf("The environment variable %s is %q; it must be a whole number, 0 or more (0 = no limit).", env, os.Getenv(env)))
			return def
		}
		return n
	}
	return def
}

// setting is one string attribute of a service object and its environment variable.
type setting struct {
	name, env string
	required  bool
}

// readService reads a service object's settings, each falling back to its
// environment variable. It returns nil when the service is not configured at
// all (resources that need it then say how to configure it) or cannot be; a
// half-configured service is an error now, naming what is missing.
func readService(ctx context.Context, req provider.ConfigureRequest, block, label string, diags *diag.Diagnostics, settings ...*setting) []string {
	values := make([]string, len(settings))
	set, known := false, true
	for i, st := range settings {
		v, ok := serviceSetting(ctx, req, path.Root(block).AtName(st.name), st.env, diags)
		known = known && ok
		values[i] = v
		set = set || v != ""
	}
	if !known || !set {
		return nil
	}
	missing := false
	for i, st := range settings {
		if st.required && values[i] == "" {
			missing = true
			diags.AddAttributeError(path.Root(block).AtName(st.name), "Missing "+label+" "+titleWord(st.name),
				fmt.Sprintf("Some %s settings are configured but `%s.%s` is not. Set it in the provider block or the %s environment variable.",
					label, block, st.name, st.env))
		}
	}
	if missing {
		return nil
	}
	return values
}

func titleWord(name string) string {
	words := strings.Split(name, "_")
	for i, w := range words {
		switch w {
		case "url":
			words[i] = "URL"
		case "id":
			words[i] = "ID"
		default:
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// invalidURL reports a client constructor's error against the URL attribute.
func invalidURL(diags *diag.Diagnostics, block, attr, env, label string, err error) {
	if err == nil {
		return
	}
	diags.AddAttributeError(path.Root(block).AtName(attr), "Invalid "+label+" "+titleWord(attr),
		fmt.Sprintf("While attempting to configure the %s API client, the provider found a problem with `%s.%s` (or %s): %s",
			label, block, attr, env, err.Error()))
}

func (p *outsystemsProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewLifeTimeTagResource,
		NewAppMappingResource,
		NewCodeMigrationResource,
		NewAssetPublicationResource,
		NewLibraryReleaseResource,
	}
}

func (p *outsystemsProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewLifeTimeEnvironmentDataSource,
		NewLifeTimeApplicationDataSource,
		NewMigrationReadinessDataSource,
		NewODCStageDataSource,
	}
}

// providerData is what Configure hands to resources and data sources.
type providerData struct {
	version string
	// attempts bounds how often a create is tried (max_retries + 1).
	attempts   int
	lifeTime   *client.LifeTime
	assessment *client.Assessment
	odc        *client.ODC

	// deployed caches, per stage, the assets published there, so the
	// publications of one run read each stage once. A publish forgets its stage.
	mu       sync.Mutex
	deployed map[string]map[string]client.DeployedAsset
	// Look-ups that do not change during a run, read once per process.
	environments *memo[[]client.Environment]
	stages       *memo[[]client.Stage]
	// migrations caches the code migrations, which know each migrated
	// asset's producers (ODC's producers endpoint only lists those already
	// deployed in a stage, so it cannot tell which ones are missing).
	migrationsMu sync.Mutex
	migrations   []client.CodeMigration
}

// migratedAsset finds, in the newest code migration that produced it, an
// asset revision and the other assets of that migration by lower-case key.
// It returns nil when no code migration produced that revision.
func (d *providerData) migratedAsset(ctx context.Context, odc *client.ODC, assetKey string, revision int) (*client.MigratedAsset, map[string]client.MigratedAsset, error) {
	find := func(migrations []client.CodeMigration) (*client.MigratedAsset, map[string]client.MigratedAsset) {
		for _, m := range migrations {
			for i, a := range m.Assets {
				if strings.EqualFold(a.AssetKey, assetKey) && a.Revision == revision {
					all := make(map[string]client.MigratedAsset, len(m.Assets))
					for _, o := range m.Assets {
						all[strings.ToLower(o.AssetKey)] = o
					}
					return &m.Assets[i], all
				}
			}
		}
		return nil, nil
	}
	// Held across the look-up and the read, so concurrent misses (the
	// publications or releases of one wave) share one read of the list.
	d.migrationsMu.Lock()
	defer d.migrationsMu.Unlock()
	if a, all := find(d.migrations); a != nil {
		return a, all, nil
	}
	fresh, err := odc.ListCodeMigrations(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	d.migrations = fresh
	a, all := find(fresh)
	return a, all, nil
}

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

// requireAssessment returns the assessment tool client or an error saying how to configure it.
func (d *providerData) requireAssessment(diags *diag.Diagnostics) *client.Assessment {
	if d == nil || d.assessment == nil {
		diags.AddError("Assessment Tool Not Configured",
			"This resource calls the Migration Kit's assessment tool, which the provider has no settings for. Set `assessment.url` "+
				"(and optionally `assessment.token`; it defaults to the LifeTime token) in the provider block, or the "+
				EnvAssessmentURL+" (and "+EnvAssessmentToken+") environment variables.")
		return nil
	}
	return d.assessment
}

// requireODC returns the ODC client or an error saying how to configure it.
func (d *providerData) requireODC(diags *diag.Diagnostics) *client.ODC {
	if d == nil || d.odc == nil {
		diags.AddError("ODC API Not Configured",
			"This resource calls the ODC portal APIs, which the provider has no settings for. Set `odc.portal_url`, `odc.client_id` "+
				"and `odc.client_secret` in the provider block, or the "+EnvODCPortalURL+", "+EnvODCClientID+" and "+EnvODCClientSecret+
				" environment variables.")
		return nil
	}
	return d.odc
}

// configuredForPlan checks at plan time that the services a resource needs
// are configured, adding the errors that say how to configure them. It
// reports false (without errors) before the provider is configured.
func (d *providerData) configuredForPlan(diags *diag.Diagnostics, lifeTime, assessment, odc bool) bool {
	if d == nil {
		return false
	}
	before := diags.ErrorsCount()
	if lifeTime {
		d.requireLifeTime(diags)
	}
	if assessment {
		d.requireAssessment(diags)
	}
	if odc {
		d.requireODC(diags)
	}
	return diags.ErrorsCount() == before
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
