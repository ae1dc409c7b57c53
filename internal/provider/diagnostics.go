package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// apiErrorDetail builds the detail of a diagnostic for a failed API call:
// what was attempted, what to do about it, and the original error.
func apiErrorDetail(attempt string, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "While attempting to %s, the provider received an error.\n\n", attempt)
	if hint := remedy(err); hint != "" {
		b.WriteString(hint)
		b.WriteString("\n\n")
	}
	fmt.Fprintf(&b, "Error: %s", err.Error())
	return b.String()
}

// The client's names of the services (client.APIError.Service).
const (
	lifeTimeService   = "LifeTime"
	assessmentService = "Migration Kit assessment"
	odcService        = "ODC"
)

// remedy says what a user can do about common API errors.
func remedy(err error) string {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.StatusCode {
		case http.StatusUnauthorized:
			switch apiErr.Service {
			case lifeTimeService:
				return "LifeTime did not accept the service account token. Check `lifetime.token` (or " + EnvLifeTimeToken +
					"): generating a new token for a service account revokes the old one."
			case assessmentService:
				return "The assessment tool did not accept the token. Check `assessment.token` (or " + EnvAssessmentToken +
					"). When neither is set, the provider sends the LifeTime service account's token, `lifetime.token` (or " +
					EnvLifeTimeToken + "): the assessment tool must accept that one, or set `assessment.token` to a token it accepts."
			case odcService:
				return "ODC did not accept the API client's access token. Check `odc.client_id` and `odc.client_secret` (or " +
					EnvODCClientID + " and " + EnvODCClientSecret + "): a regenerated secret revokes the old one."
			}
			return "The service did not accept the credentials. Check the provider's credentials for " + apiErr.Service + "."
		case http.StatusForbidden:
			return "The credentials are valid but lack a permission this call needs (the message below names it). " +
				"Grant it to the service account or API client, or use one that has it."
		case http.StatusTooManyRequests:
			return "The service kept rate-limiting the provider after every retry. Lower the parallelism (terraform apply -parallelism=N) or raise `max_retries`."
		}
		if apiErr.StatusCode >= 500 {
			return "The service failed after every retry. Try again later; if it persists, contact the service's support with the error below."
		}
		return ""
	}
	var tErr *client.TransportError
	if errors.As(err, &tErr) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return "The operation was interrupted or ran out of time before the service answered."
		}
		return "The service could not be reached. Check the URL and your network, then apply again."
	}
	return ""
}

// addAPIError adds an error diagnostic for a failed API call.
func addAPIError(diags *diag.Diagnostics, summary, attempt string, err error) {
	diags.AddError(summary, apiErrorDetail(attempt, err))
}

// apiMessages joins the server's messages of an API error.
func apiMessages(err error) string {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && len(apiErr.AllMessages()) > 0 {
		return strings.Join(apiErr.AllMessages(), "; ")
	}
	return err.Error()
}
