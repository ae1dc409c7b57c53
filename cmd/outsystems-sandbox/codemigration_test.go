package main

import (
	"context"
	"strings"
	"testing"
)

func TestRunRefusesBadMigrationDuration(t *testing.T) {
	for _, d := range []string{"0", "-1s"} {
		var stdout, stderr strings.Builder
		err := run(context.Background(), []string{"--listen", "127.0.0.1:0", "--migration-duration", d}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "--migration-duration must be positive") {
			t.Errorf("run --migration-duration %s = %v, want a refusal", d, err)
		}
		if stdout.Len() != 0 {
			t.Errorf("stdout = %q, want nothing", stdout.String())
		}
	}
	var stderr strings.Builder
	err := run(context.Background(), []string{"--migration-duration", "soon"}, &strings.Builder{}, &stderr)
	if err == nil || !strings.Contains(stderr.String(), "migration-duration") {
		t.Errorf("run --migration-duration soon = %v (stderr %q), want a flag error", err, stderr.String())
	}
}
