package main

import (
	"context"
	"strings"
	"testing"
)

func TestRunRefusesBadCodeAnalysisDuration(t *testing.T) {
	for _, d := range []string{"0", "-1s"} {
		var stdout, stderr strings.Builder
		err := run(context.Background(), []string{"--listen", "127.0.0.1:0", "--code-analysis-duration", d}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "--code-analysis-duration must be positive") {
			t.Errorf("run --code-analysis-duration %s = %v, want a refusal", d, err)
		}
	}
}
