package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunTLSWritesTheCAAndPrintsItsExports(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "sb.db"), "--quiet", "--tls", "--tls-ca-out", caFile}, pw, &stderr)
		pw.Close()
		done <- err
	}()

	vars := map[string]string{}
	lines := bufio.NewScanner(pr)
	for len(vars) < 6 && lines.Scan() {
		name, value, ok := strings.Cut(strings.TrimPrefix(lines.Text(), "export "), "=")
		if !ok || !strings.HasPrefix(lines.Text(), "export ") {
			t.Fatalf("stdout line %q is not an export line", lines.Text())
		}
		vars[name] = value
	}
	url := vars["OUTSYSTEMS_LIFETIME_URL"]
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("OUTSYSTEMS_LIFETIME_URL = %q, want https", url)
	}
	for {
		if _, ok := vars["OUTSYSTEMS_ODC_CA_CERTIFICATE"]; ok || !lines.Scan() {
			break
		}
		name, value, _ := strings.Cut(strings.TrimPrefix(lines.Text(), "export "), "=")
		vars[name] = value
	}
	for _, env := range []string{"OUTSYSTEMS_LIFETIME_CA_CERTIFICATE", "OUTSYSTEMS_ASSESSMENT_CA_CERTIFICATE", "OUTSYSTEMS_ODC_CA_CERTIFICATE"} {
		if want := `"$(cat '` + caFile + `')"`; vars[env] != want {
			t.Errorf("%s = %q, want %q", env, vars[env], want)
		}
	}

	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("%s holds no PEM certificate", caFile)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := hc.Get(url + "/_sandbox/health")
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
	if !strings.Contains(stderr.String(), caFile) {
		t.Errorf("stderr %q does not say where the CA certificate is", stderr.String())
	}
}

func TestWriteCACertificateDefaultsNextToTheDatabase(t *testing.T) {
	dir := t.TempDir()
	got, err := writeCACertificate([]byte("pem"), "", filepath.Join(dir, "sb.db"))
	if err != nil || got != filepath.Join(dir, "sandbox-ca.pem") {
		t.Fatalf("writeCACertificate = %q, %v; want sandbox-ca.pem next to the database", got, err)
	}
	got, err = writeCACertificate([]byte("pem"), "", "")
	if err != nil || !filepath.IsAbs(got) {
		t.Fatalf("writeCACertificate in memory = %q, %v; want an absolute temporary file", got, err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(got)) })
	if b, err := os.ReadFile(got); err != nil || string(b) != "pem" {
		t.Fatalf("reading %s = %q, %v", got, b, err)
	}
}

func TestRunTLSCAOutNeedsTLS(t *testing.T) {
	var stdout strings.Builder
	err := run(t.Context(), []string{"--listen", "127.0.0.1:0", "--tls-ca-out", filepath.Join(t.TempDir(), "ca.pem")}, &stdout, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--tls-ca-out needs --tls") {
		t.Fatalf("run = %v, want an error saying --tls-ca-out needs --tls", err)
	}
}
