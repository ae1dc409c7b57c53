package client

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrNoCertificate is returned for CA certificate text that holds no PEM
// certificate.
var ErrNoCertificate = errors.New("it holds no PEM-encoded certificate")

// ParseCACertificates reads PEM text holding one or more CA certificates.
// Its errors never repeat the text.
func ParseCACertificates(pemText string) ([]*x509.Certificate, error) {
	rest := []byte(strings.TrimSpace(pemText))
	var certs []*x509.Certificate
	for len(rest) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d cannot be parsed: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, ErrNoCertificate
	}
	return certs, nil
}

// rootCAs is the system roots plus the certificates of pemText.
func rootCAs(pemText string) (*x509.CertPool, error) {
	certs, err := ParseCACertificates(pemText)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// withCACertificate returns an HTTP client like hc (nil: a new one) whose
// transport also trusts the CA certificates of pemText, for this service
// only. The transport keeps its proxy settings (HTTPS_PROXY, NO_PROXY).
func withCACertificate(hc *http.Client, pemText string) (*http.Client, error) {
	pool, err := rootCAs(pemText)
	if err != nil {
		return nil, fmt.Errorf("the CA certificate is not usable: %w", err)
	}
	var base *http.Transport
	switch t := hc.Transport.(type) {
	case nil:
		dt, ok := http.DefaultTransport.(*http.Transport)
		if !ok {
			return nil, errors.New("the default HTTP transport is not an *http.Transport")
		}
		base = dt.Clone()
	case *http.Transport:
		base = t.Clone()
	default:
		return nil, fmt.Errorf("a CA certificate needs an *http.Transport, the HTTP client has a %T", t)
	}
	if base.Proxy == nil {
		base.Proxy = http.ProxyFromEnvironment
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if base.TLSClientConfig != nil {
		tc = base.TLSClientConfig.Clone()
		if tc.MinVersion < tls.VersionTLS12 {
			tc.MinVersion = tls.VersionTLS12
		}
	}
	tc.RootCAs = pool
	base.TLSClientConfig = tc
	out := *hc
	out.Transport = base
	return &out, nil
}

// UntrustedCertificateError is a call refused because the server's
// certificate does not chain to a trusted authority.
type UntrustedCertificateError struct {
	Host string
	// Hint says how to trust a private certificate authority for the service.
	Hint string
	Err  error
}

func (e *UntrustedCertificateError) Error() string {
	hint := e.Hint
	if hint == "" {
		hint = "configure the service's CA certificate (PEM)"
	}
	return fmt.Sprintf("%v: the certificate of %s is not signed by an authority this client trusts (the system roots plus the service's CA certificate, if any). "+
		"If the server uses a private or internal certificate authority, %s", e.Err, e.Host, hint)
}

func (e *UntrustedCertificateError) Unwrap() error { return e.Err }

// isUntrustedCertificate reports whether err is a certificate that does not
// chain to a trusted authority, which retrying cannot fix.
func isUntrustedCertificate(err error) bool {
	var unknown x509.UnknownAuthorityError
	return errors.As(err, &unknown)
}

// isCertificateError reports whether err is a failed TLS certificate check.
func isCertificateError(err error) bool {
	var verify *tls.CertificateVerificationError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &hostname) || errors.As(err, &invalid) || isUntrustedCertificate(err)
}
