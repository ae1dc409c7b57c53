package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuilder is a strings.Builder the sandbox's logger and the test can
// share.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// --without-migration-kit runs the tenant profile: no assessment tool URL
// exported, the kit's paths answer 404, and the startup text says so.
func TestRunWithoutMigrationKit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr lockedBuilder
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"--listen", "127.0.0.1:0", "--without-migration-kit"}, pw, &stderr)
		pw.Close()
		done <- err
	}()

	vars := map[string]string{}
	lines := bufio.NewScanner(pr)
	for (vars["OUTSYSTEMS_LIFETIME_URL"] == "" || vars["OUTSYSTEMS_LIFETIME_TOKEN"] == "" || vars["OUTSYSTEMS_ODC_PORTAL_URL"] == "") && lines.Scan() {
		name, value, ok := strings.Cut(strings.TrimPrefix(lines.Text(), "export "), "=")
		if !ok || !strings.HasPrefix(lines.Text(), "export ") {
			t.Fatalf("stdout line %q is not an export line", lines.Text())
		}
		vars[name] = value
	}
	url := vars["OUTSYSTEMS_LIFETIME_URL"]
	for _, path := range []string{"/MigrationAssessment/api/v1/mappings", "/api/migration-kit/v1/code-migrations"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404 in the tenant profile", path, resp.StatusCode)
		}
	}
	resp, err := http.Get(url + "/lifetimeapi/rest/v2/environments")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET LifeTime environments without a token = %d, want 401: LifeTime is served", resp.StatusCode)
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
	rest, _ := io.ReadAll(pr)
	for _, l := range append(strings.Split(string(rest), "\n"), "export OUTSYSTEMS_LIFETIME_URL="+url) {
		if strings.HasPrefix(l, "export OUTSYSTEMS_ASSESSMENT_URL=") || vars["OUTSYSTEMS_ASSESSMENT_URL"] != "" {
			t.Errorf("the tenant profile exported the assessment tool's URL: %q", l)
		}
	}
	log := stderr.String()
	for _, want := range []string{"profile: tenant", "no Migration Kit API", "outsystems_odc_assets"} {
		if !strings.Contains(log, want) {
			t.Errorf("startup text does not say %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "serving the Migration Kit") {
		t.Errorf("startup text claims a Migration Kit API:\n%s", log)
	}
}
