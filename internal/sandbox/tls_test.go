package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestTLSServesHTTPSWithItsOwnCA(t *testing.T) {
	s, base := startSandbox(t, Options{TLS: true})
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("Start = %q, want an https:// URL", base)
	}
	caPEM := s.CACertificatePEM()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("CACertificatePEM = %q, want a PEM certificate", caPEM)
	}

	// Without the CA the certificate is not trusted.
	_, err := http.Get(base + "/_sandbox/health")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("GET without the CA = %v, want x509.UnknownAuthorityError", err)
	}

	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	for _, host := range []string{base, strings.Replace(base, "127.0.0.1", "localhost", 1)} {
		resp, err := hc.Get(host + "/_sandbox/health")
		if err != nil {
			t.Fatalf("GET %s with the CA: %v", host, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", host, resp.StatusCode)
		}
		leaf := resp.TLS.PeerCertificates[0]
		if key, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || key.Curve != elliptic.P256() {
			t.Errorf("server key = %T, want ECDSA P-256", leaf.PublicKey)
		}
	}

	// OIDC discovery hands out https endpoints.
	resp, err := hc.Get(base + "/identity/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || !strings.HasPrefix(doc.TokenEndpoint, base+"/") {
		t.Fatalf("discovery token_endpoint = %q (%v), want one under %s", doc.TokenEndpoint, err, base)
	}

	for _, line := range s.Exports() {
		if strings.Contains(line, "_URL=") && !strings.Contains(line, "=https://") {
			t.Errorf("export %q is not an https URL", line)
		}
	}
}

func TestTLSCACertificateExports(t *testing.T) {
	plain, _ := startSandbox(t, Options{})
	if plain.CACertificatePEM() != nil || plain.CACertificateExports("/tmp/ca.pem") != nil {
		t.Error("a plain-HTTP sandbox has a CA certificate")
	}

	s, _ := startSandbox(t, Options{TLS: true})
	caFile := filepath.Join(t.TempDir(), "it's ca.pem")
	if err := os.WriteFile(caFile, s.CACertificatePEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	lines := s.CACertificateExports(caFile)
	if len(lines) != 3 {
		t.Fatalf("CACertificateExports = %q, want three lines", lines)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to source the exports with")
	}
	script := strings.Join(lines, "\n") + "\nprintf '%s|%s|%s' \"$OUTSYSTEMS_LIFETIME_CA_CERTIFICATE\" \"$OUTSYSTEMS_ASSESSMENT_CA_CERTIFICATE\" \"$OUTSYSTEMS_ODC_CA_CERTIFICATE\""
	out, err := exec.CommandContext(t.Context(), sh, "-c", script).Output()
	if err != nil {
		t.Fatalf("sourcing %q: %v", lines, err)
	}
	want := strings.TrimSpace(string(s.CACertificatePEM()))
	for i, got := range strings.Split(string(out), "|") {
		if got != want {
			t.Errorf("variable %d = %q, want the CA PEM", i, got)
		}
	}
}
