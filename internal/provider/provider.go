// Package provider implements the outsystems Terraform provider on the
// terraform-plugin-framework.
package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// Address is the provider's registry address.
const Address = "registry.terraform.io/seed-1be1de96/outsystems"

var _ provider.Provider = (*outsystemsProvider)(nil)

type outsystemsProvider struct {
	version string
	// rateWindow is the window the clients pace in (0: the minute
	// OutSystems counts in); only tests shorten it, against a sandbox
	// counting in the same window.
	rateWindow time.Duration
}

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
					"requests_per_minute": rateSchema("LifeTime", EnvLifeTimeRequestsPerMinute, 0),
					"ca_certificate":      caCertificateSchema("lifetime", "LifeTime", EnvLifeTimeCACertificate),
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
					"requests_per_minute": rateSchema("the assessment tool", EnvAssessmentRequestsPerMinute, 0),
					"ca_certificate":      caCertificateSchema("assessment", "the assessment tool", EnvAssessmentCACertificate),
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
					"requests_per_minute": rateSchema("each ODC API domain (portfolios, asset repository, deployments, ...; "+
						"environment configurations at most 10, as ODC documents)", EnvODCRequestsPerMinute, defaultODCRequestsPerMinute),
					"post_requests_per_minute": rateSchema("each ODC POST endpoint with a limit of its own (each POST of builds and deployments, "+
						"`POST /assets`, `POST /code-analyses`; they count toward their domain's `requests_per_minute` too); "+
						"when `requests_per_minute` is `0` this defaults to `0` as well", EnvODCPostRequestsPerMinute, defaultODCDeploymentPostsPerMinute),
					"ca_certificate": caCertificateSchema("odc", "the ODC portal", EnvODCCACertificate),
				},
			},
			"max_retries": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: fmt.Sprintf("How many times one API call is retried on connection errors and `5xx` "+
					"answers (never on `501`). Defaults to `%s`, else %d. A `429` answer is retried apart from this count, "+
					"after the server's `Retry-After` or, without one (ODC documents none), a good share of a minute, "+
					"for as long as the operation's timeout allows.", EnvMaxRetries, client.DefaultMaxRetries),
				Validators: []validator.Int64{int64validator.Between(0, maxRetriesLimit)},
			},
		},
	}
}

func (p *outsystemsProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewLifeTimeTagResource,
		NewAppMappingResource,
		NewCodeMigrationResource,
		NewAssetPublicationResource,
		NewLibraryReleaseResource,
		NewStageSystemConfigurationResource,
		NewCustomDomainResource,
		NewAppConfigurationResource,
		NewAssetDeploymentResource,
	}
}

func (p *outsystemsProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewLifeTimeEnvironmentDataSource,
		NewLifeTimeApplicationDataSource,
		NewMigrationReadinessDataSource,
		NewODCStageDataSource,
		NewODCAssetsDataSource,
		NewCodeQualityDataSource,
		NewMigrationPreviewDataSource,
	}
}

// rateSchema is the requests_per_minute attribute of a service object.
func rateSchema(service, env string, def int) schema.Int64Attribute {
	d := "no limit"
	if def > 0 {
		d = fmt.Sprintf("%d", def)
	}
	return schema.Int64Attribute{
		Optional: true,
		MarkdownDescription: fmt.Sprintf("Most requests the provider sends to %s in any minute, retries included, shared by all "+
			"resources of a run and spread evenly (no burst, so a run that follows another stays under the limit too), so a large apply paces itself instead of collecting `429`s. `0` means no limit. Defaults to `%s`, else %s.",
			service, env, d),
		Validators: []validator.Int64{int64validator.Between(0, 100000)},
	}
}

// caCertificateSchema is the ca_certificate attribute of a service object.
func caCertificateSchema(block, service, env string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true,
		MarkdownDescription: fmt.Sprintf("PEM text of the certificate authority (one or more `-----BEGIN CERTIFICATE-----` blocks) "+
			"that signed the certificate of %s, for a server behind a private or internal CA, e.g. `file(\"internal-ca.pem\")`. "+
			"It is trusted besides the system roots, for this service only. Defaults to `%s`.", service, env),
		Validators: []validator.String{caCertificateValidator{block: block, env: env}},
	}
}
