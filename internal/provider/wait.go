package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

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

// ODC's polling guidance for its operations (publish, deploy, apply
// configurations): about every 5 s for the first 30 s, then about every
// 30 s. EnvODCPollInterval replaces both with one fixed interval, for
// rehearsals against the sandbox (whose operations take seconds) and the
// acceptance tests.
const (
	odcPollEarly       = 5 * time.Second
	odcPollEarlyPeriod = 30 * time.Second
	odcPollLate        = 30 * time.Second
	EnvODCPollInterval = "OUTSYSTEMS_ODC_POLL_INTERVAL"
)

// pollPolicy is the wait before the next poll after elapsed of waiting.
type pollPolicy func(elapsed time.Duration) time.Duration

// growingPoll waits a tenth of the time waited so far, kept between
// pollMin and pollMax (the Migration Kit's assessments).
func growingPoll(elapsed time.Duration) time.Duration {
	return min(max(elapsed/10, pollMin), pollMax)
}

// odcPoll is ODC's guidance, or the interval EnvODCPollInterval sets (a Go
// duration such as 200ms; ignored when not a positive duration).
func odcPoll(elapsed time.Duration) time.Duration {
	if v := os.Getenv(EnvODCPollInterval); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	if elapsed < odcPollEarlyPeriod {
		return odcPollEarly
	}
	return odcPollLate
}

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
	return waitWith(ctx, what, growingPoll, check)
}

// waitForODC is waitFor with ODC's polling guidance (odcPoll); a server
// hint (the code migration contract's Retry-After) still wins.
func waitForODC(ctx context.Context, what string, check func(context.Context) (pollState, error)) error {
	return waitWith(ctx, what, odcPoll, check)
}

func waitWith(ctx context.Context, what string, policy pollPolicy, check func(context.Context) (pollState, error)) error {
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
		wait := policy(time.Since(start))
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
		if !client.IsAmbiguous(err) {
			// A definite refusal after a lost answer (e.g. "already exists")
			// says the lost attempt most likely won, but the server may
			// not list what it made yet (LifeTime processes a tag before
			// listing it): keep looking for a while before giving up.
			if found, ok := findSettled(ctx, what, find); ok {
				return found, nil
			}
			break
		}
		if ctx.Err() != nil {
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

// settleWait bounds how long createOnce keeps looking for what a lost
// attempt made once the server refuses a retry.
var settleWait = 20 * time.Second

// findSettled looks for the object with find, backing off from pollMin,
// until it is found, settleWait has passed or ctx ends.
func findSettled[T any](ctx context.Context, what string, find func(context.Context) (T, bool, error)) (T, bool) {
	var zero T
	deadline := time.Now().Add(settleWait)
	for delay := pollMin; time.Now().Before(deadline); delay = min(2*delay, 2*time.Second) {
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return zero, false
		case <-timer.C:
		}
		if found, ok, err := find(ctx); err == nil && ok {
			tflog.Info(ctx, "Adopted the object a previous attempt created, once the server listed it", map[string]any{"what": what})
			return found, true
		}
	}
	return zero, false
}

// actOnce is createOnce for an action that leaves nothing to return (e.g.
// tagging a revision): done reports whether the action has taken effect.
func actOnce(ctx context.Context, what string, attempts int, act func(context.Context) error, done func(context.Context) (bool, error)) error {
	_, err := createOnce(ctx, what, attempts,
		func(ctx context.Context) (struct{}, error) { return struct{}{}, act(ctx) },
		func(ctx context.Context) (struct{}, bool, error) {
			ok, err := done(ctx)
			return struct{}{}, ok, err
		})
	return err
}

// recentlyStarted reports whether an RFC 3339 time is no earlier than a
// minute before since (allowing for clock skew between client and server).
func recentlyStarted(at string, since time.Time) bool {
	t, err := time.Parse(time.RFC3339Nano, at)
	return err == nil && !t.Before(since.Add(-time.Minute))
}

// waitForAssessment waits for the latest assessment of a mapping to finish.
func waitForAssessment(ctx context.Context, as *client.Assessment, mp *client.Mapping) error {
	key := mp.LatestAssessmentKey
	return waitFor(ctx, fmt.Sprintf("the assessment %s of mapping %q", key, mp.Name), func(ctx context.Context) (pollState, error) {
		run, err := as.GetAssessment(ctx, key)
		if err != nil {
			return pollState{}, err
		}
		return pollState{done: run.Status == "Finished", status: run.Status}, nil
	})
}
