package provider

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

func TestWaitForHonoursTheServerHint(t *testing.T) {
	polls := 0
	start := time.Now()
	err := waitFor(context.Background(), "a test operation", func(context.Context) (pollState, error) {
		polls++
		if polls == 1 {
			return pollState{status: "Running", retryAfter: 1500 * time.Millisecond}, nil
		}
		return pollState{done: true, status: "Finished"}, nil
	})
	if err != nil || polls != 2 {
		t.Fatalf("err = %v after %d polls", err, polls)
	}
	if waited := time.Since(start); waited < 1400*time.Millisecond {
		t.Fatalf("the second poll came after %v, before the server's 1.5s hint", waited)
	}
}

func TestWaitForTimeoutSaysWhatAndLastStatus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	err := waitFor(ctx, "code migration 42 to finish", func(context.Context) (pollState, error) {
		return pollState{status: "Migrating"}, nil
	})
	if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "code migration 42 to finish") ||
		!strings.Contains(err.Error(), `"Migrating"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestWaitForStopsOnAFailedPoll(t *testing.T) {
	boom := &client.APIError{Service: "ODC", StatusCode: 404}
	err := waitFor(context.Background(), "x", func(context.Context) (pollState, error) { return pollState{}, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}

func TestCreateOnceAdoptsWhatALostAttemptMade(t *testing.T) {
	creates, finds := 0, 0
	lost := &client.TransportError{Service: "LifeTime", Err: errors.New("connection reset by peer")}
	got, err := createOnce(context.Background(), "tag", 3,
		func(context.Context) (string, error) { creates++; return "", lost },
		func(context.Context) (string, bool, error) { finds++; return "made-by-the-lost-attempt", true, nil })
	if err != nil || got != "made-by-the-lost-attempt" || creates != 1 || finds != 1 {
		t.Fatalf("got %q, %v after %d creates and %d finds", got, err, creates, finds)
	}
	// Not there: try again; a definite refusal is not retried.
	creates = 0
	got, err = createOnce(context.Background(), "tag", 3,
		func(context.Context) (string, error) {
			creates++
			if creates == 1 {
				return "", &client.APIError{StatusCode: 503}
			}
			return "made", nil
		},
		func(context.Context) (string, bool, error) { return "", false, nil })
	if err != nil || got != "made" || creates != 2 {
		t.Fatalf("got %q, %v after %d creates", got, err, creates)
	}
	creates = 0
	_, err = createOnce(context.Background(), "tag", 3,
		func(context.Context) (string, error) { creates++; return "", &client.APIError{StatusCode: 409} },
		func(context.Context) (string, bool, error) {
			t.Fatal("find after a definite answer")
			return "", false, nil
		})
	if client.StatusCode(err) != 409 || creates != 1 {
		t.Fatalf("err = %v after %d creates", err, creates)
	}
}

// A lost answer, then a refusal of the retry ("already exists") while the
// server does not list the object yet (LifeTime processes a tag before
// listing it): the object is adopted once listed, not reported as an error.
func TestCreateOnceWaitsForWhatTheLostAttemptMade(t *testing.T) {
	creates, finds := 0, 0
	got, err := createOnce(context.Background(), "tag", 3,
		func(context.Context) (string, error) {
			creates++
			if creates == 1 {
				return "", &client.TransportError{Service: "LifeTime", Err: errors.New("connection reset by peer")}
			}
			return "", &client.APIError{StatusCode: 400}
		},
		func(context.Context) (string, bool, error) {
			finds++
			return "made", finds > 3, nil // listed from the fourth look on
		})
	if err != nil || got != "made" || creates != 2 || finds != 4 {
		t.Fatalf("got %q, %v after %d creates and %d finds", got, err, creates, finds)
	}
	// Never listed: the refusal is the answer, after settleWait.
	defer func(w time.Duration) { settleWait = w }(settleWait)
	settleWait = time.Second
	creates = 0
	_, err = createOnce(context.Background(), "tag", 3,
		func(context.Context) (string, error) {
			creates++
			if creates == 1 {
				return "", &client.TransportError{Service: "LifeTime", Err: errors.New("connection reset by peer")}
			}
			return "", &client.APIError{StatusCode: 400}
		},
		func(context.Context) (string, bool, error) { return "", false, nil })
	if client.StatusCode(err) != 400 || creates != 2 {
		t.Fatalf("err = %v after %d creates", err, creates)
	}
}

// TestODCPollPolicy: ODC operations are polled every 5 s for the first
// 30 s, then every 30 s, unless OUTSYSTEMS_ODC_POLL_INTERVAL sets one
// interval (the tests' own setting is put aside here).
func TestODCPollPolicy(t *testing.T) {
	t.Setenv(EnvODCPollInterval, "")
	for _, tc := range []struct{ elapsed, want time.Duration }{
		{0, 5 * time.Second}, {29 * time.Second, 5 * time.Second}, {30 * time.Second, 30 * time.Second}, {10 * time.Minute, 30 * time.Second},
	} {
		if got := odcPoll(tc.elapsed); got != tc.want {
			t.Errorf("odcPoll(%v) = %v, want %v", tc.elapsed, got, tc.want)
		}
	}
	t.Setenv(EnvODCPollInterval, "200ms")
	if got := odcPoll(time.Hour); got != 200*time.Millisecond {
		t.Errorf("odcPoll with %s=200ms = %v", EnvODCPollInterval, got)
	}
	t.Setenv(EnvODCPollInterval, "soon")
	if got := odcPoll(0); got != 5*time.Second {
		t.Errorf("odcPoll with an invalid override = %v, want the guidance", got)
	}
}
