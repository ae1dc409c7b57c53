package sandbox

import (
	"strings"
)

// Environment variables of the services' CA certificates, printed by
// CACertificateExports.
const (
	envLifeTimeCA   = "OUTSYSTEMS_LIFETIME_CA_CERTIFICATE"
	envAssessmentCA = "OUTSYSTEMS_ASSESSMENT_CA_CERTIFICATE"
	envODCCA        = "OUTSYSTEMS_ODC_CA_CERTIFICATE"
)

// CACertificatePEM returns the PEM of the certificate authority that signed
// the sandbox's server certificate when it serves HTTPS (Options.TLS), nil
// otherwise. Clients trust it through the services' ca_certificate settings.
func (s *Sandbox) CACertificatePEM() []byte {
	if s.tls == nil {
		return nil
	}
	return append([]byte(nil), s.tls.CAPEM...)
}

// CACertificateExports returns shell lines that set the CA certificate of
// every service to the PEM in caFile (where the caller wrote
// CACertificatePEM), read when the lines are sourced; nil without TLS.
func (s *Sandbox) CACertificateExports(caFile string) []string {
	if s.tls == nil {
		return nil
	}
	quoted := "'" + strings.ReplaceAll(caFile, "'", `'\''`) + "'"
	var lines []string
	for _, env := range []string{envLifeTimeCA, envAssessmentCA, envODCCA} {
		lines = append(lines, "export "+env+`="$(cat `+quoted+`)"`)
	}
	return lines
}
