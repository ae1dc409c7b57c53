package client

import (
	"bufio"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// newTLSSandbox starts a sandbox serving HTTPS with a CA of its own.
func newTLSSandbox(t *testing.T) (*sandbox.Sandbox, string) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{DBPath: filepath.Join(t.TempDir(), "sb.db"), TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("Start = %q, want an https:// URL", url)
	}
	return sb, url
}

func fixtureAdminToken(t *testing.T, f *fixture.Fixture) string {
	t.Helper()
	for _, sa := range f.LifeTime.ServiceAccounts {
		if sa.Role == fixture.RoleAdministrator {
			return sa.Token
		}
	}
	t.Fatal("the fixture has no administrator service account")
	return ""
}

func fixtureODCClient(t *testing.T, f *fixture.Fixture) (string, string) {
	t.Helper()
	for _, c := range f.ODC.APIClients {
		if c.Name == "migration-pipeline" {
			return c.ClientID, c.ClientSecret
		}
	}
	t.Fatal("the fixture has no migration-pipeline API client")
	return "", ""
}

// otherCA is the PEM of a certificate authority that signed nothing the
// tests serve.
func otherCA(t *testing.T) string {
	t.Helper()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
}

func TestPrivateCATrustedOnlyWhereConfigured(t *testing.T) {
	sb, url := newTLSSandbox(t)
	caPEM := string(sb.CACertificatePEM())
	if !strings.Contains(caPEM, "-----BEGIN CERTIFICATE-----") {
		t.Fatalf("CACertificatePEM = %q, want a PEM certificate", caPEM)
	}
	token := fixtureAdminToken(t, sb.Fixture())
	id, secret := fixtureODCClient(t, sb.Fixture())
	const hint = "set `lifetime.ca_certificate` or LIFETIME_CA"

	t.Run("LifeTime without its CA names what to set", func(t *testing.T) {
		lt, err := NewLifeTime(Config{BaseURL: url, MaxRetries: 3, CACertificateHint: hint}, token)
		if err != nil {
			t.Fatal(err)
		}
		_, err = lt.ListEnvironments(t.Context())
		var untrusted *UntrustedCertificateError
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &untrusted) || !errors.As(err, &unknown) {
			t.Fatalf("ListEnvironments = %v, want an UntrustedCertificateError wrapping x509.UnknownAuthorityError", err)
		}
		for _, want := range []string{"unknown authority", "127.0.0.1", "private or internal certificate authority", hint} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
		if strings.Contains(err.Error(), "last retryable error") {
			t.Errorf("error %q: an untrusted certificate was retried", err)
		}
	})

	t.Run("LifeTime and assessment with the CA work", func(t *testing.T) {
		lt, err := NewLifeTime(Config{BaseURL: url, MaxRetries: 0, CACertificate: caPEM}, token)
		if err != nil {
			t.Fatal(err)
		}
		envs, err := lt.ListEnvironments(t.Context())
		if err != nil || len(envs) == 0 {
			t.Fatalf("ListEnvironments = %v, %v; want the fixture's environments", envs, err)
		}
		as, err := NewAssessment(Config{BaseURL: url + "/MigrationAssessment", MaxRetries: 0, CACertificate: caPEM}, token)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := as.ListApplications(t.Context()); err != nil {
			t.Fatalf("assessment ListApplications = %v", err)
		}
	})

	t.Run("the CA of LifeTime does not make ODC trust it", func(t *testing.T) {
		// Configured like the provider does: a CA for LifeTime only.
		lt, err := NewLifeTime(Config{BaseURL: url, MaxRetries: 0, CACertificate: caPEM}, token)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lt.ListEnvironments(t.Context()); err != nil {
			t.Fatal(err)
		}
		odc, err := NewODC(Config{BaseURL: url, MaxRetries: 0}, id, secret)
		if err != nil {
			t.Fatal(err)
		}
		_, err = odc.ListStages(t.Context())
		var untrusted *UntrustedCertificateError
		if !errors.As(err, &untrusted) {
			t.Fatalf("ODC ListStages without its CA = %v, want an UntrustedCertificateError", err)
		}
		// Another authority does not help either.
		odc, err = NewODC(Config{BaseURL: url, MaxRetries: 0, CACertificate: otherCA(t)}, id, secret)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := odc.ListStages(t.Context()); !errors.As(err, &untrusted) {
			t.Fatalf("ODC ListStages with another CA = %v, want an UntrustedCertificateError", err)
		}
		odc, err = NewODC(Config{BaseURL: url, MaxRetries: 0, CACertificate: caPEM}, id, secret)
		if err != nil {
			t.Fatal(err)
		}
		stages, err := odc.ListStages(t.Context())
		if err != nil || len(stages) == 0 {
			t.Fatalf("ODC ListStages with its CA = %v, %v; want the fixture's stages", stages, err)
		}
	})
}

func TestCACertificateRejectsTextWithoutCertificate(t *testing.T) {
	const secretish = "-----BEGIN PRIVATE KEY-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END PRIVATE KEY-----\n"
	for _, text := range []string{"not a pem at all", secretish, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"} {
		_, err := NewLifeTime(Config{BaseURL: "https://lifetime.example.com", CACertificate: text}, "t")
		if err == nil {
			t.Fatalf("NewLifeTime with CA %q: no error", text)
		}
		if !strings.Contains(err.Error(), "CA certificate") {
			t.Errorf("error %q does not say it is about the CA certificate", err)
		}
		if strings.Contains(err.Error(), "bm90IGEg") || strings.Contains(err.Error(), "not a pem at all") || strings.Contains(err.Error(), "AAAA") {
			t.Errorf("error %q repeats the PEM text", err)
		}
	}
	if _, err := ParseCACertificates("garbage"); !errors.Is(err, ErrNoCertificate) {
		t.Errorf("ParseCACertificates(garbage) = %v, want ErrNoCertificate", err)
	}
}

// transportOf returns the *http.Transport under a client's pacing.
func transportOf(t *testing.T, s *service) *http.Transport {
	t.Helper()
	rt := s.http.HTTPClient.Transport
	if p, ok := rt.(*pacedTransport); ok {
		rt = p.next
	}
	tr, ok := rt.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T, want *http.Transport", rt)
	}
	return tr
}

func TestCACertificateKeepsProxyFromEnvironment(t *testing.T) {
	caPEM := otherCA(t)
	for _, cfg := range []Config{
		{BaseURL: "https://lifetime.example.com"},
		{BaseURL: "https://lifetime.example.com", CACertificate: caPEM},
		{BaseURL: "https://lifetime.example.com", CACertificate: caPEM, RequestsPerMinute: 100},
	} {
		lt, err := NewLifeTime(cfg, "t")
		if err != nil {
			t.Fatal(err)
		}
		tr := transportOf(t, lt.s)
		if tr.Proxy == nil || reflect.ValueOf(tr.Proxy).Pointer() != reflect.ValueOf(http.ProxyFromEnvironment).Pointer() {
			t.Errorf("CA %v, pacing %d: the transport's Proxy is not http.ProxyFromEnvironment", cfg.CACertificate != "", cfg.RequestsPerMinute)
		}
		if cfg.CACertificate != "" && (tr.TLSClientConfig == nil || tr.TLSClientConfig.RootCAs == nil) {
			t.Errorf("a configured CA certificate left the transport's RootCAs unset")
		}
	}
	// The CA is the service's own: the shared default transport is untouched.
	if dt, ok := http.DefaultTransport.(*http.Transport); !ok || (dt.TLSClientConfig != nil && dt.TLSClientConfig.RootCAs != nil) {
		t.Error("configuring a CA certificate changed http.DefaultTransport")
	}
}

// TestCACertificateThroughHTTPSProxy runs a LifeTime call through a
// CONNECT proxy that HTTPS_PROXY names, to a server whose CA is configured.
// The proxy settings are read once per process, so it runs in a child process.
func TestCACertificateThroughHTTPSProxy(t *testing.T) {
	if os.Getenv("CLIENT_TEST_PROXY_CHILD") == "" {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Host == "" || !strings.HasPrefix(r.Host, "example.com:") {
				http.Error(w, "unexpected host "+r.Host, http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `[{"Key":"e1","Name":"Development"}]`)
		}))
		defer srv.Close()
		var tunnels atomic.Int64
		proxy := newConnectProxy(t, srv.Listener.Addr().String(), &tunnels)
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCACertificateThroughHTTPSProxy$", "-test.count=1")
		cmd.Env = append(os.Environ(), "CLIENT_TEST_PROXY_CHILD=1", "HTTPS_PROXY=http://"+proxy, "https_proxy=", "NO_PROXY=", "no_proxy=",
			"CLIENT_TEST_URL=https://example.com:"+port, "CLIENT_TEST_CA="+caPEM)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		if tunnels.Load() == 0 {
			t.Fatalf("the call did not go through the proxy\n%s", out)
		}
		return
	}
	lt, err := NewLifeTime(Config{BaseURL: os.Getenv("CLIENT_TEST_URL"), MaxRetries: 0, CACertificate: os.Getenv("CLIENT_TEST_CA")}, "t")
	if err != nil {
		t.Fatal(err)
	}
	envs, err := lt.ListEnvironments(t.Context())
	if err != nil || len(envs) != 1 {
		t.Fatalf("ListEnvironments through the proxy = %v, %v", envs, err)
	}
}

// newConnectProxy serves CONNECT tunnels, all to target, and returns its address.
func newConnectProxy(t *testing.T, target string, tunnels *atomic.Int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				req, err := http.ReadRequest(br)
				if err != nil || req.Method != http.MethodConnect {
					_, _ = io.WriteString(conn, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
					return
				}
				upstream, err := net.Dial("tcp", target)
				if err != nil {
					_, _ = io.WriteString(conn, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
					return
				}
				defer upstream.Close()
				tunnels.Add(1)
				_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection Established\r\n\r\n")
				go func() { _, _ = io.Copy(upstream, br) }()
				_, _ = io.Copy(conn, upstream)
			}()
		}
	}()
	return ln.Addr().String()
}
