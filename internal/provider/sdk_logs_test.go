package provider

import (
	"os"
	"testing"
)

func TestQuietSDKLogsOnlyWhenNoLogIsAskedFor(t *testing.T) {
	for _, v := range logSettings() {
		t.Setenv(v, "")
	}
	QuietSDKLogs()
	for _, v := range quietedLogs {
		if got := os.Getenv(v); got != "off" {
			t.Errorf("no TF_LOG*: %s = %q, want off", v, got)
		}
	}

	for _, asked := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_PROVIDER_OUTSYSTEMS", "TF_LOG_SDK_FRAMEWORK"} {
		for _, v := range logSettings() {
			t.Setenv(v, "")
		}
		t.Setenv(asked, "DEBUG")
		QuietSDKLogs()
		for _, v := range quietedLogs {
			if want := map[bool]string{true: "DEBUG", false: ""}[v == asked]; os.Getenv(v) != want {
				t.Errorf("%s=DEBUG: %s = %q, want %q (a log was asked for: nothing changes)", asked, v, os.Getenv(v), want)
			}
		}
	}
}
