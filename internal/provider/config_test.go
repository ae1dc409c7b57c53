package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

func TestMaxRetriesFromEnv(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  int // -1: rejected
	}{
		{"3abc", -1},
		{"1.5", -1},
		{"-1", -1},
		{"21", -1},
		{"4", 4},
		{"0", 0},
		{"20", 20},
	} {
		t.Run(tt.value, func(t *testing.T) {
			t.Setenv(EnvMaxRetries, tt.value)
			var diags diag.Diagnostics
			got := maxRetriesFromEnv(&diags)
			if got != tt.want {
				t.Errorf("maxRetriesFromEnv with %s=%q = %d, want %d", EnvMaxRetries, tt.value, got, tt.want)
			}
			if tt.want >= 0 {
				if diags.HasError() {
					t.Errorf("unexpected errors: %v", diags)
				}
				return
			}
			if diags.ErrorsCount() != 1 {
				t.Fatalf("want one error, got %v", diags)
			}
			d := diags.Errors()[0]
			wantDetail := "The environment variable " + EnvMaxRetries + " is \"" + tt.value + "\"; it must be a whole number from 0 to 20."
			if d.Summary() != "Invalid "+EnvMaxRetries || d.Detail() != wantDetail {
				t.Errorf("error = %q: %q, want %q", d.Summary(), d.Detail(), wantDetail)
			}
		})
	}
	t.Run("unset", func(t *testing.T) {
		t.Setenv(EnvMaxRetries, "")
		var diags diag.Diagnostics
		if got := maxRetriesFromEnv(&diags); got != -1 || diags.HasError() {
			t.Errorf("maxRetriesFromEnv unset = %d, %v", got, diags)
		}
	})
}
