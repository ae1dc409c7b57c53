package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheckListenAddr(t *testing.T) {
	tests := []struct {
		addr        string
		allowRemote bool
		wantErr     string
	}{
		{addr: "127.0.0.1:8085"},
		{addr: "127.0.0.2:0"},
		{addr: "[::1]:8085"},
		{addr: "localhost:8085"},
		{addr: "0.0.0.0:8085", wantErr: `refusing to listen on "0.0.0.0"`},
		{addr: ":8085", wantErr: "refusing to listen on all interfaces"},
		{addr: "192.168.1.10:8085", wantErr: "--allow-remote"},
		{addr: "[::]:8085", wantErr: "loopback"},
		{addr: "sandbox.example:8085", wantErr: "refusing"},
		{addr: "0.0.0.0:8085", allowRemote: true},
		{addr: ":8085", allowRemote: true},
		{addr: "127.0.0.1", wantErr: "invalid --listen address"},
	}
	for _, tt := range tests {
		err := checkListenAddr(tt.addr, tt.allowRemote)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("checkListenAddr(%q, %v) = %v, want nil", tt.addr, tt.allowRemote, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("checkListenAddr(%q, %v) = %v, want an error containing %q", tt.addr, tt.allowRemote, err, tt.wantErr)
		}
	}
}

func TestRunRefusesRemoteListen(t *testing.T) {
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"--listen", "0.0.0.0:0"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Fatalf("run = %v, want a refusal mentioning --allow-remote", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
}

func TestRunPrintsExportsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"--listen", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "sb.db"), "--quiet"}, pw, io.Discard)
		pw.Close()
		done <- err
	}()

	vars := map[string]string{}
	lines := bufio.NewScanner(pr)
	for len(vars) < 3 && lines.Scan() {
		name, value, ok := strings.Cut(strings.TrimPrefix(lines.Text(), "export "), "=")
		if !ok || !strings.HasPrefix(lines.Text(), "export ") {
			t.Fatalf("stdout line %q is not an export line", lines.Text())
		}
		vars[name] = value
	}
	url := vars["OUTSYSTEMS_LIFETIME_URL"]
	if !strings.HasPrefix(url, "http://127.0.0.1:") || vars["OUTSYSTEMS_LIFETIME_TOKEN"] == "" || vars["OUTSYSTEMS_ASSESSMENT_URL"] != url+"/MigrationAssessment" {
		t.Fatalf("exports = %v, want the LifeTime URL and token and the assessment tool URL", vars)
	}

	resp, err := http.Get(url + "/_sandbox/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health = %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run = %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop after cancellation")
	}
	if rest, _ := io.ReadAll(pr); len(rest) != 0 {
		t.Errorf("unexpected stdout after exports: %q", rest)
	}
	if _, err := http.Get(url + "/_sandbox/health"); err == nil {
		t.Error("the sandbox still answers after stopping")
	}
}
