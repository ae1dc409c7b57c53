package provider

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// newTLSTestEnv is a testEnv whose sandbox serves HTTPS with a certificate
// signed by a CA of its own, like an O11 infrastructure behind an internal
// CA. It returns the CA's PEM.
func newTLSTestEnv(t *testing.T) (*testEnv, string) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{DBPath: filepath.Join(t.TempDir(), "sandbox.db"), TLS: true})
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("the TLS sandbox serves %s", url)
	}
	ca := string(sb.CACertificatePEM())
	e := &testEnv{t: t, sb: sb, url: url, fixture: sb.Fixture(), ca: ca}
	if e.lt, err = client.NewLifeTime(client.Config{BaseURL: url, MaxRetries: 0, CACertificate: ca}, e.token(fixture.RoleAdministrator)); err != nil {
		t.Fatal(err)
	}
	if e.as, err = client.NewAssessment(client.Config{BaseURL: e.assessmentURL(), MaxRetries: 0, CACertificate: ca}, e.token(fixture.RoleAdministrator)); err != nil {
		t.Fatal(err)
	}
	return e, ca
}

// tlsProviderConfig is a provider block for the TLS sandbox with the given
// ca_certificate of each service ("" leaves it out).
func (e *testEnv) tlsProviderConfig(lifeTimeCA, assessmentCA, odcCA string) string {
	var id, secret string
	for _, c := range e.fixture.ODC.APIClients {
		if c.Name == "migration-pipeline" {
			id, secret = c.ClientID, c.ClientSecret
		}
	}
	ca := func(pem string) string {
		if pem == "" {
			return ""
		}
		return fmt.Sprintf("\n    ca_certificate = %q", pem)
	}
	return fmt.Sprintf(`
provider "outsystems" {
  lifetime = {
    url   = %q
    token = %q%s
  }
  assessment = {
    url = %q%s
  }
  odc = {
    portal_url    = %q
    client_id     = %q
    client_secret = %q%s
  }
  max_retries = 1
}
`, e.url, e.token(fixture.RoleAdministrator), ca(lifeTimeCA), e.assessmentURL(), ca(assessmentCA), e.url, id, secret, ca(odcCA))
}

const tlsLookups = `
data "outsystems_lifetime_environment" "dev" { name = "Development" }
data "outsystems_odc_stage" "qa" { name = "QA" }
`

func TestAccPrivateCATrustedWhereConfigured(t *testing.T) {
	e, ca := newTLSTestEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{
			{
				Config: e.tlsProviderConfig(ca, ca, ca) + tlsLookups,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.outsystems_lifetime_environment.dev", tfjsonpath.New("key"), knownvalue.StringExact(e.envKey("Development"))),
					statecheck.ExpectKnownValue("data.outsystems_odc_stage.qa", tfjsonpath.New("key"), knownvalue.StringExact(e.stageKey("QA"))),
				},
			},
		},
	})
}

func TestAccPrivateCAMissing(t *testing.T) {
	e, ca := newTLSTestEnv(t)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{
			{
				// LifeTime has no CA: its look-up says what to set.
				Config: e.tlsProviderConfig("", ca, ca) + `data "outsystems_lifetime_environment" "dev" { name = "Development" }`,
				ExpectError: regexpS("certificate signed by unknown authority.*private or internal certificate authority.*" +
					"`lifetime.ca_certificate`.*OUTSYSTEMS_LIFETIME_CA_CERTIFICATE"),
			},
			{
				// The CA of LifeTime does not make ODC trust the same server.
				Config:      e.tlsProviderConfig(ca, ca, "") + `data "outsystems_odc_stage" "qa" { name = "QA" }`,
				ExpectError: regexpS("certificate signed by unknown authority.*`odc.ca_certificate`.*OUTSYSTEMS_ODC_CA_CERTIFICATE"),
			},
		},
	})
}

func TestAccPrivateCAInvalid(t *testing.T) {
	e, ca := newTLSTestEnv(t)
	const notPEM = "MIIBkTCB+wIJAKHHIGbnotreallyacertificate"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{
			{
				Config:      e.tlsProviderConfig(ca, notPEM, ca) + tlsLookups,
				ExpectError: regexpS("Invalid `assessment.ca_certificate`.*OUTSYSTEMS_ASSESSMENT_CA_CERTIFICATE.*holds no PEM-encoded certificate"),
			},
		},
	})
}

// TestAccPrivateCAFromEnvironment is not parallel: it sets the CA
// certificates' environment variables.
func TestAccPrivateCAFromEnvironment(t *testing.T) {
	e, ca := newTLSTestEnv(t)
	t.Setenv(EnvLifeTimeCACertificate, ca)
	t.Setenv(EnvAssessmentCACertificate, ca)
	t.Setenv(EnvODCCACertificate, ca)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkNothingCreated(e),
		Steps: []resource.TestStep{
			{
				Config: e.tlsProviderConfig("", "", "") + tlsLookups,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.outsystems_lifetime_environment.dev", tfjsonpath.New("key"), knownvalue.StringExact(e.envKey("Development"))),
					statecheck.ExpectKnownValue("data.outsystems_odc_stage.qa", tfjsonpath.New("key"), knownvalue.StringExact(e.stageKey("QA"))),
				},
			},
			{
				PreConfig:   func() { t.Setenv(EnvODCCACertificate, "not a certificate") },
				Config:      e.tlsProviderConfig("", "", "") + tlsLookups,
				ExpectError: regexpS("Invalid `odc.ca_certificate`.*OUTSYSTEMS_ODC_CA_CERTIFICATE.*holds no PEM-encoded certificate"),
			},
			{
				// Back to a usable CA, which the post-test destroy needs too.
				PreConfig: func() { t.Setenv(EnvODCCACertificate, ca) },
				Config:    e.tlsProviderConfig("", "", "") + tlsLookups,
			},
		},
	})
}
