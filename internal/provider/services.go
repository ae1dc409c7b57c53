package provider

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// Configure creates the API clients of the services the provider block (or
// the environment) configures, and hands them, with the run's caches, to
// resources and data sources as providerData.
func (p *outsystemsProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	data := &providerData{version: p.version, attempts: client.DefaultMaxRetries + 1,
		environments: &memo[[]client.Environment]{}, stages: &memo[[]client.Stage]{}}
	cfg := client.Config{MaxRetries: -1, UserAgent: "terraform-provider-outsystems/" + p.version, RateWindow: p.rateWindow}

	if n := maxRetriesSetting(ctx, req, &resp.Diagnostics); n >= 0 {
		cfg.MaxRetries = n
		data.attempts = n + 1
	}

	lt := readService(ctx, req, "lifetime", "LifeTime", &resp.Diagnostics,
		&setting{name: "url", env: EnvLifeTimeURL, required: true},
		&setting{name: "token", env: EnvLifeTimeToken, required: true})
	if lt != nil {
		cfg := cfg
		cfg.BaseURL = lt[0]
		cfg.RequestsPerMinute = rateSetting(ctx, req, "lifetime", EnvLifeTimeRequestsPerMinute, 0, &resp.Diagnostics)
		cfg.CACertificate = caCertificateSetting(ctx, req, "lifetime", EnvLifeTimeCACertificate, &resp.Diagnostics)
		cfg.CACertificateHint = caCertificateHint("lifetime", EnvLifeTimeCACertificate)
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
			cfg.RequestsPerMinute = rateSetting(ctx, req, "assessment", EnvAssessmentRequestsPerMinute, 0, &resp.Diagnostics)
			cfg.CACertificate = caCertificateSetting(ctx, req, "assessment", EnvAssessmentCACertificate, &resp.Diagnostics)
			cfg.CACertificateHint = caCertificateHint("assessment", EnvAssessmentCACertificate)
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
		cfg.RequestsPerMinute = rateSetting(ctx, req, "odc", EnvODCRequestsPerMinute, defaultODCRequestsPerMinute, &resp.Diagnostics)
		cfg.CACertificate = caCertificateSetting(ctx, req, "odc", EnvODCCACertificate, &resp.Diagnostics)
		cfg.CACertificateHint = caCertificateHint("odc", EnvODCCACertificate)
		postDefault := defaultODCDeploymentPostsPerMinute
		if cfg.RequestsPerMinute == 0 {
			postDefault = 0 // pacing turned off altogether unless asked for
		}
		cfg.DeploymentRequestsPerMinute = rateSetting(ctx, req, "odc", EnvODCPostRequestsPerMinute, postDefault, &resp.Diagnostics, "post_requests_per_minute")
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
	// kitAssessment and kitCodeMigrations are what a probe of each Migration
	// Kit API found, once per process (requireMigrationKit).
	kitAssessment     memo[kitAnswer]
	kitCodeMigrations memo[kitAnswer]
	// producers caches, per asset revision, its direct producers (from the
	// elements it references), read once per process; guarded by mu.
	producers map[revisionRef]*memo[[]client.ReferencedProducer]
	// libraries caches, by lower-case asset key, what ODC's portfolio lists
	// of a library (its latest and tagged revisions, when each was
	// published), read for the keys a release needs in one listing; nil for
	// a key ODC lists no library for. A publish of the asset forgets it, a
	// release this process makes updates it; guarded by mu.
	libraries map[string]*cachedLibrary
	// order tracks this process's publications and releases being created,
	// so a consumer can wait for a producer the same apply is publishing.
	order applyOrder

	// plannedMappings are the mappings this process planned (one plan of a
	// configuration), so a second mapping with the same name or app is
	// refused at plan time; guarded by mu (registerPlannedMapping).
	plannedMappings []plannedMapping
	// mappings is the assessment tool's list of mappings, read once per
	// process to check planned names against it.
	mappings memo[[]client.Mapping]
	// customDomains is the per-stage listing of custom domains a refresh
	// reads (custom_domain_resource.go).
	customDomains domainCache
	// plannedTags are the "<environment>/<application>" keys (lower case)
	// this process planned a new tag for; guarded by mu (registerPlannedTag).
	plannedTags map[string]bool

	// mappingsRead holds the mappings this run's refresh read, by lower-case
	// key, so a code migration judges its assets stale without reading them
	// again; guarded by mu.
	mappingsRead map[string]*client.Mapping
	// plannedNames holds the name this process planned for each existing
	// mapping, by lower-case key (registerPlannedName); guarded by mu.
	plannedNames plannedNameMap
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
