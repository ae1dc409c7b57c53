package provider

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

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

	EnvLifeTimeCACertificate   = "OUTSYSTEMS_LIFETIME_CA_CERTIFICATE"
	EnvAssessmentCACertificate = "OUTSYSTEMS_ASSESSMENT_CA_CERTIFICATE"
	EnvODCCACertificate        = "OUTSYSTEMS_ODC_CA_CERTIFICATE"

	EnvLifeTimeRequestsPerMinute   = "OUTSYSTEMS_LIFETIME_REQUESTS_PER_MINUTE"
	EnvAssessmentRequestsPerMinute = "OUTSYSTEMS_ASSESSMENT_REQUESTS_PER_MINUTE"
	EnvODCRequestsPerMinute        = "OUTSYSTEMS_ODC_REQUESTS_PER_MINUTE"
	EnvODCPostRequestsPerMinute    = "OUTSYSTEMS_ODC_POST_REQUESTS_PER_MINUTE"
)

// maxRetriesLimit is the highest max_retries the provider accepts.
const maxRetriesLimit = 20

// Default client-side pacing: ODC documents 100 requests per minute per
// organization for each API domain, and 10 per minute for each POST
// endpoint of builds and deployments (and POST /assets). LifeTime and the
// assessment tool document no limit.
const (
	defaultODCRequestsPerMinute        = 100
	defaultODCDeploymentPostsPerMinute = 10
)

// maxRetriesSetting reads max_retries, falling back to its environment
// variable. It returns -1 (the client's default) when neither is set or the
// value is not usable, which it reports.
func maxRetriesSetting(ctx context.Context, req provider.ConfigureRequest, diags *diag.Diagnostics) int {
	var v types.Int64
	diags.Append(req.Config.GetAttribute(ctx, path.Root("max_retries"), &v)...)
	switch {
	case v.IsUnknown():
		diags.AddAttributeError(path.Root("max_retries"), "Unknown `max_retries`",
			"The provider cannot create its API clients because `max_retries` is not known until apply. Use a value known at plan time.")
		return -1
	case !v.IsNull():
		return int(v.ValueInt64())
	}
	return maxRetriesFromEnv(diags)
}

// maxRetriesFromEnv reads the max retries environment variable, a whole
// number from 0 to maxRetriesLimit. It returns -1 when the variable is unset,
// or when it is invalid, which it reports.
func maxRetriesFromEnv(diags *diag.Diagnostics) int {
	value := os.Getenv(EnvMaxRetries)
	if value == "" {
		return -1
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < 0 || n > maxRetriesLimit {
		diags.AddError("Invalid "+EnvMaxRetries,
			fmt.Sprintf("The environment variable %s is %q; it must be a whole number from 0 to %d.", EnvMaxRetries, value, maxRetriesLimit))
		return -1
	}
	return n
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

// rateSetting reads a service's requests_per_minute (or the attribute
// named), falling back to its environment variable, then to def.
func rateSetting(ctx context.Context, req provider.ConfigureRequest, block, env string, def int, diags *diag.Diagnostics, attr ...string) int {
	name := "requests_per_minute"
	if len(attr) > 0 {
		name = attr[0]
	}
	p := path.Root(block).AtName(name)
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

// caCertificateSetting reads a service's ca_certificate, falling back to its
// environment variable, and checks it holds PEM certificates. It returns ""
// when neither is set, and reports a value that is unknown or not usable
// without repeating it.
func caCertificateSetting(ctx context.Context, req provider.ConfigureRequest, block, env string, diags *diag.Diagnostics) string {
	p := path.Root(block).AtName("ca_certificate")
	v, ok := serviceSetting(ctx, req, p, env, diags)
	if !ok || strings.TrimSpace(v) == "" {
		return ""
	}
	if _, err := client.ParseCACertificates(v); err != nil {
		diags.AddAttributeError(p, "Invalid "+attrLabel(p), invalidCACertificateDetail(block, env, err))
		return ""
	}
	return v
}

func invalidCACertificateDetail(block, env string, err error) string {
	return fmt.Sprintf("`%s.ca_certificate` (or the %s environment variable) must be the PEM text of the certificate authority "+
		"that signed the server's certificate, one or more -----BEGIN CERTIFICATE----- blocks (for example file(\"internal-ca.pem\")), "+
		"but %s.", block, env, err.Error())
}

// caCertificateHint completes the client's error for a server certificate
// signed by an unknown authority.
func caCertificateHint(block, env string) string {
	return fmt.Sprintf("set `%s.ca_certificate` in the provider block, or the %s environment variable, to the PEM of that "+
		"certificate authority (or add it to the system trust store of the machine running Terraform).", block, env)
}

// caCertificateValidator checks at plan time that a configured
// ca_certificate holds PEM certificates, without repeating the value.
type caCertificateValidator struct{ block, env string }

var _ validator.String = caCertificateValidator{}

func (v caCertificateValidator) Description(context.Context) string {
	return "must be PEM text holding one or more CA certificates"
}

func (v caCertificateValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (v caCertificateValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || strings.TrimSpace(req.ConfigValue.ValueString()) == "" {
		return
	}
	if _, err := client.ParseCACertificates(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+attrLabel(req.Path), invalidCACertificateDetail(v.block, v.env, err))
	}
}
