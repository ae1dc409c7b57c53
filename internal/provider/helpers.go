package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

var guidRegexp = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// guidValidator checks a key is a GUID (8-4-4-4-12 hexadecimal).
func guidValidator(what string) validator.String {
	return stringvalidator.RegexMatches(guidRegexp,
		fmt.Sprintf("must be the %s: a GUID such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301. Look it up by name with the outsystems_lifetime_* data sources", what))
}

// lifeTimeVersionRegexp is a LifeTime application version: 1 to 4 dotted numbers.
var lifeTimeVersionRegexp = regexp.MustCompile(`^[0-9]{1,9}(\.[0-9]{1,9}){0,3}$`)

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

// remedy says what a user can do about common API errors.
func remedy(err error) string {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.StatusCode {
		case http.StatusUnauthorized:
			switch apiErr.Service {
			case "LifeTime":
				return "LifeTime did not accept the service account token. Check `lifetime.token` (or " + EnvLifeTimeToken +
					"): generating a new token for a service account revokes the old one."
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

// Polling policy for long operations: the wait between two polls is a tenth
// of the time waited so far, kept between pollMin and pollMax, so a short
// operation is seen finishing quickly and a long one is not polled needlessly.
// A server hint (Retry-After on the status answer: when it expects the work
// to end) replaces the computed wait, up to pollMaxHint.
const (
	pollMin     = 250 * time.Millisecond
	pollMax     = 30 * time.Second
	pollMaxHint = 5 * time.Minute
)

// pollState is what one poll saw.
type pollState struct {
	done       bool
	status     string        // shown in progress logs and in a timeout error
	retryAfter time.Duration // server hint, 0 = none
}

// waitFor polls check until it reports done, check fails, or ctx ends (a
// resource's timeout or an interrupt). A timeout error says what was waited
// for, for how long, and the last status seen.
func waitFor(ctx context.Context, what string, check func(context.Context) (pollState, error)) error {
	start := time.Now()
	last := pollState{status: "not read yet"}
	for polls := 1; ; polls++ {
		st, err := check(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return waitError(ctx, what, start, last, err)
			}
			return err
		}
		last = st
		if st.done {
			tflog.Debug(ctx, "Finished waiting", map[string]any{"for": what, "status": st.status, "polls": polls, "elapsed": time.Since(start).String()})
			return nil
		}
		wait := min(max(time.Since(start)/10, pollMin), pollMax)
		if st.retryAfter > 0 {
			wait = min(max(st.retryAfter, pollMin), pollMaxHint)
		}
		tflog.Debug(ctx, "Waiting", map[string]any{"for": what, "status": st.status, "next_poll_in": wait.String()})
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return waitError(ctx, what, start, last, nil)
		case <-timer.C:
		}
	}
}

func waitError(ctx context.Context, what string, start time.Time, last pollState, err error) error {
	reason := "was interrupted"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		reason = "timed out"
	}
	msg := fmt.Sprintf("%s after %s waiting for %s; the last status seen was %q", reason, time.Since(start).Round(time.Second), what, last.status)
	if err != nil {
		msg += fmt.Sprintf(" (last error: %v)", err)
	}
	return errors.New(msg)
}

// createOnce performs a create that is not idempotent without ever making a
// second object: when an answer leaves it unknown whether the server acted
// (the connection broke after sending, or a 5xx), it first looks for the
// object the lost attempt may have made (find, by its natural key) and
// adopts it; only when it is not there does it try again, at most attempts
// times in all. An error after such a retry (e.g. "already exists") is also
// checked against find, since the first attempt may have won after all.
func createOnce[T any](ctx context.Context, what string, attempts int, create func(context.Context) (T, error), find func(context.Context) (T, bool, error)) (T, error) {
	var zero T
	var lastErr error
	ambiguous := false
	for i := 0; i < max(attempts, 1); i++ {
		v, err := create(ctx)
		if err == nil {
			return v, nil
		}
		if !client.IsAmbiguous(err) && !ambiguous {
			return zero, err
		}
		ambiguous = true
		lastErr = err
		tflog.Warn(ctx, "A create's answer was lost or failed; looking for what it may have made before trying again",
			map[string]any{"what": what, "attempt": i + 1, "error": err.Error()})
		if found, ok, ferr := find(ctx); ferr == nil && ok {
			tflog.Info(ctx, "Adopted the object a previous attempt created", map[string]any{"what": what})
			return found, nil
		}
		if !client.IsAmbiguous(err) || ctx.Err() != nil {
			break
		}
		timer := time.NewTimer(pollMin << min(i, 5))
		select {
		case <-ctx.Done():
			timer.Stop()
			return zero, lastErr
		case <-timer.C:
		}
	}
	return zero, lastErr
}

// recentlyStarted reports whether an RFC 3339 time is no earlier than a
// minute before since (allowing for clock skew between client and server).
func recentlyStarted(at string, since time.Time) bool {
	t, err := time.Parse(time.RFC3339Nano, at)
	return err == nil && !t.Before(since.Add(-time.Minute))
}
