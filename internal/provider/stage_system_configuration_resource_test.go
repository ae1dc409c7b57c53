package provider

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

const stageConfigAddr = "outsystems_stage_system_configuration.qa"

// stageConfigHCL is a stage_system_configuration of the QA stage with the
// given body lines.
func (e *testEnv) stageConfigHCL(body string) string {
	return e.providerConfig() + fmt.Sprintf(`
resource "outsystems_stage_system_configuration" "qa" {
  stage_key = %q
%s
}
`, e.stageKey("QA"), body)
}

// checkStageConfigsDestroyed: destroy resets what the resource managed, so
// the stage has no default system configuration set any more.
func checkStageConfigsDestroyed(e *testEnv) resource.TestCheckFunc {
	return func(*terraform.State) error {
		var errs []error
		for _, c := range odc.SystemConfigs {
			v, _, set, err := e.sb.SystemConfigValue(context.Background(), e.stageKey("QA"), c.Name)
			switch {
			case err != nil:
				errs = append(errs, err)
			case set && c.Secret:
				errs = append(errs, fmt.Errorf("%s is still set after destroy", c.Name))
			case set:
				errs = append(errs, fmt.Errorf("%s is still %q after destroy; destroy resets it to the default", c.Name, v))
			}
		}
		return errors.Join(errs...)
	}
}

// setSystemConfig changes a configuration out of band, as someone in the
// ODC Portal would.
func (e *testEnv) setSystemConfig(name, value string) {
	e.t.Helper()
	c := e.odcClient()
	configs, err := c.SystemConfigurations(context.Background(), e.stageKey("QA"))
	if err != nil {
		e.t.Fatal(err)
	}
	for _, sc := range configs {
		if sc.Name == name {
			if err := c.PatchSystemConfigurations(context.Background(), e.stageKey("QA"), []client.ConfigurationValue{{Key: sc.Key, Value: &value}}); err != nil {
				e.t.Fatal(err)
			}
			return
		}
	}
	e.t.Fatalf("no system configuration %q", name)
}

func TestAccStageSystemConfiguration(t *testing.T) {
	testAccStageSystemConfiguration(t, newTestEnv(t))
}

func TestAccStageSystemConfiguration_tenant(t *testing.T) {
	testAccStageSystemConfiguration(t, newTestEnvTenant(t))
}

// testAccStageSystemConfiguration: create, import, update (a value
// changed, one added, one no longer named and so reset), an out-of-band
// change the plan shows and the apply undoes, values ODC does not offer or
// that are secret refused at plan time, and the write-only password refused
// with what to do on a Terraform older than 1.11 (planned on a newer CLI).
func testAccStageSystemConfiguration(t *testing.T, e *testEnv) {
	first := e.stageConfigHCL(`  values = {
    SMTPServer      = "smtp.example.com"
    SMTPPort        = "2525"
    DefaultTimeZone = "Europe/Lisbon"
  }`)
	second := e.stageConfigHCL(`  values = {
    SMTPServer   = "smtp.example.com"
    SMTPPort     = "465"
    SMTPUsername = "mailer"
  }`)
	qa := e.stageKey("QA")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkStageConfigsDestroyed(e),
		Steps: []resource.TestStep{
			{
				Config: first,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(stageConfigAddr, tfjsonpath.New("id"), knownvalue.StringExact(qa)),
					statecheck.ExpectKnownValue(stageConfigAddr, tfjsonpath.New("values"), knownvalue.MapExact(map[string]knownvalue.Check{
						"SMTPServer": knownvalue.StringExact("smtp.example.com"), "SMTPPort": knownvalue.StringExact("2525"),
						"DefaultTimeZone": knownvalue.StringExact("Europe/Lisbon"),
					})),
					statecheck.ExpectKnownValue(stageConfigAddr, tfjsonpath.New("smtp_password_updated_at"), knownvalue.StringExact("")),
				},
				Check: func(*terraform.State) error {
					if v, _, _, _ := e.sb.SystemConfigValue(context.Background(), qa, "SMTPPort"); v != "2525" {
						return fmt.Errorf("SMTPPort in ODC = %q", v)
					}
					return nil
				},
			},
			{ResourceName: stageConfigAddr, ImportState: true, ImportStateId: qa, ImportStateVerify: true},
			{
				Config:      e.stageConfigHCL(`  values = { SMTPHost = "smtp.example.com" }`),
				ExpectError: regexpS(`Invalid System Configuration Value.*names "SMTPHost", which stage ` + qa + ` has no default system configuration called.*SMTPServer`),
			},
			{
				Config:      e.stageConfigHCL(`  values = { SMTPPassword = "in-state-would-leak" }`),
				ExpectError: regexpS(`"SMTPPassword", a secret.*smtp_password_wo`),
			},
			{
				Config:      e.stageConfigHCL(`  values = { SMTPPort = "many" }`),
				ExpectError: regexpS(`values\["SMTPPort"\]. = "many" is not an integer`),
			},
			writeOnlyStep(t, e.stageConfigHCL(`  values = { SMTPServer = "smtp.example.com" }
  smtp_password_wo         = "never-stored"
  smtp_password_wo_version = 1`), regexpS(`Write-Only Attribute Needs Terraform 1.11.*smtp_password_wo.*Terraform 1.11 or later`)),
			{
				Config: second,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(stageConfigAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(stageConfigAddr, tfjsonpath.New("smtp_password_updated_at"), knownvalue.StringExact("")),
				}},
				Check: func(*terraform.State) error {
					if _, _, set, _ := e.sb.SystemConfigValue(context.Background(), qa, "DefaultTimeZone"); set {
						return errors.New("DefaultTimeZone, no longer named, was not reset to its default")
					}
					if v, _, _, _ := e.sb.SystemConfigValue(context.Background(), qa, "SMTPUsername"); v != "mailer" {
						return fmt.Errorf("SMTPUsername in ODC = %q", v)
					}
					return nil
				},
			},
			{
				PreConfig: func() { e.setSystemConfig("SMTPServer", "rogue.example.com") },
				Config:    second,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(stageConfigAddr, plancheck.ResourceActionUpdate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(stageConfigAddr, tfjsonpath.New("values").AtMapKey("SMTPServer"), knownvalue.StringExact("smtp.example.com")),
				},
			},
		},
	})
}

// latestTerraform is the image's newer Terraform, which sends write-only
// values (1.11+).
const latestTerraform = "/usr/local/bin/terraform"

// TestAccStageSystemConfiguration_writeOnlyPassword runs the terraform CLI
// 1.11+ and OpenTofu (secretCLIs), each against a sandbox of its own, at
// TF_LOG=TRACE: the password reaches ODC; the next plan is empty;
// a password changed outside Terraform shows in the plan and the apply sends
// the configured one again; a rotation ODC refuses (another value of the
// same PATCH is bad) fails saying why; a new version sends a new password;
// destroy resets it. The passwords appear in no output, error, log, state
// or sandbox log.
func TestAccStageSystemConfiguration_writeOnlyPassword(t *testing.T) {
	t.Parallel()
	for _, cli := range secretCLIs(t) {
		t.Run(filepath.Base(cli), func(t *testing.T) {
			t.Parallel()
			testStageWriteOnlyPassword(t, cli)
		})
	}
}

func testStageWriteOnlyPassword(t *testing.T, cli string) {
	const first, second = "Pa55-never-in-any-log-7d3e", "Rotated-pa55-0c4b"
	var sandboxLog syncBuffer
	sb := newExampleSandboxWith(t, sandbox.Options{Logger: log.New(&sandboxLog, "", 0)})
	qa, _ := sb.Fixture().ODC.StageKey("QA")
	config := func(sender string, version int) string {
		return fmt.Sprintf(`
terraform {
  required_providers {
    outsystems = { source = "seed-1be1de96/outsystems" }
  }
}

variable "smtp_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

data "outsystems_odc_stage" "qa" {
  name = "QA"
}

resource "outsystems_stage_system_configuration" "qa" {
  stage_key = data.outsystems_odc_stage.qa.key
  values = {
    SMTPServer         = "smtp.example.com"
    EmailSenderAddress = %q
  }
  smtp_password_wo         = var.smtp_password
  smtp_password_wo_version = %d
}
`, sender, version)
	}
	stored := func(want string) {
		t.Helper()
		if v, _, _, err := sb.SystemConfigValue(context.Background(), qa, "SMTPPassword"); err != nil || v != want {
			t.Fatalf("the SMTP password in ODC is not the configured one (%d characters stored, %v)", len(v), err)
		}
	}
	c := newCLIDirFor(t, sb.Exports(), cli)
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "terraform.log")
	base := slices.Concat(c.env, []string{"TF_LOG=TRACE", "TF_LOG_PATH=" + logPath, "OUTSYSTEMS_ODC_REQUESTS_PER_MINUTE=0"})
	c.env = append(slices.Clone(base), "TF_VAR_smtp_password="+first)
	var output strings.Builder
	apply := []string{"apply", "-auto-approve", "-input=false", "-no-color"}
	plan := []string{"plan", "-detailed-exitcode", "-input=false", "-no-color"}

	c.write(config("no-reply@example.com", 1))
	output.WriteString(c.run(apply...))
	stored(first)
	output.WriteString(c.run(plan...))

	client := odcClientFor(t, sb)
	setPassword(t, client, qa, "changed-in-the-portal")
	drift := c.runAll(2, plan...)
	if !strings.Contains(drift, "smtp_password_wo_version") {
		t.Fatalf("the plan after the password changed in ODC does not show it:\n%s", drift)
	}
	output.WriteString(drift)
	output.WriteString(c.run(apply...))
	stored(first)

	c.env = append(slices.Clone(base), "TF_VAR_smtp_password="+second)
	c.write(config("not an address", 2))
	errOut := c.runAll(1, apply...)
	if !strings.Contains(errOut, "EmailSenderAddress") {
		t.Fatalf("the refused apply did not say why:\n%s", errOut)
	}
	stored(first)
	c.write(config("no-reply@example.com", 2))
	output.WriteString(c.run(apply...))
	stored(second)
	output.WriteString(c.run(plan...))
	output.WriteString(c.run("destroy", "-auto-approve", "-input=false", "-no-color"))
	if _, _, set, err := sb.SystemConfigValue(context.Background(), qa, "SMTPPassword"); err != nil || set {
		t.Fatalf("destroy left the SMTP password set (%v)", err)
	}

	texts := map[string]string{"terraform output": output.String(), "terraform error output": errOut, "sandbox log": sandboxLog.String()}
	for _, f := range []string{logPath, filepath.Join(c.dir, "terraform.tfstate"), filepath.Join(c.dir, "terraform.tfstate.backup")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts[filepath.Base(f)] = string(b)
	}
	if !strings.Contains(texts["terraform.log"], "OutSystems API request") {
		t.Fatal("the provider's request log is not in the TRACE log: the test would prove nothing")
	}
	for where, text := range texts {
		for _, secret := range []string{first, second} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s holds an SMTP password", where)
			}
		}
	}
}

// odcClientFor is an ODC client of a sandbox with its full-rights API
// client, to act out of band.
func odcClientFor(t *testing.T, sb *sandbox.Sandbox) *client.ODC {
	t.Helper()
	ac, ok := sb.Fixture().ODC.Client("migration-pipeline")
	if !ok {
		t.Fatal("no migration-pipeline API client in the fixture")
	}
	c, err := client.NewODC(client.Config{BaseURL: sb.URL(), MaxRetries: 0}, ac.ClientID, ac.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// setPassword changes the SMTP password out of band.
func setPassword(t *testing.T, c *client.ODC, stageKey, password string) {
	t.Helper()
	configs, err := c.SystemConfigurations(context.Background(), stageKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range configs {
		if sc.Name == "SMTPPassword" {
			if err := c.PatchSystemConfigurations(context.Background(), stageKey, []client.ConfigurationValue{{Key: sc.Key, Value: &password}}); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("no SMTPPassword configuration")
}
