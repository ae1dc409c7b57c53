package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
)

// configuredApps migrates Acme Theme (a library with settings) and HR Self
// Service (an app consuming it, with settings, a timer and a consumed REST
// API) in the sandbox's portal, publishes both to Development and deploys
// the app's revision 1 to QA by hand; it returns the asset keys by name.
func configuredApps(t *testing.T, sb *sandbox.Sandbox, odc *client.ODC) map[string]string {
	t.Helper()
	f := sb.Fixture()
	req := codemigration.PortalRequest{Wait: true, Assets: []codemigration.PortalAsset{
		{Name: "Acme Theme", Type: "library", ApplicationNames: []string{"Acme Theme"}},
		{Name: "HR Self Service", Type: "app", ApplicationNames: []string{"HR Self Service"}},
	}}
	for _, env := range f.LifeTime.Environments {
		if env.Name == "Development" {
			req.SourceEnvironmentKey = env.Key
		}
	}
	m, err := sb.PortalMigrate(req)
	if err != nil {
		t.Fatalf("portal migration: %v", err)
	}
	keys := map[string]string{}
	for _, a := range m.Assets {
		keys[a.Name] = a.AssetKey
	}
	dev, _ := f.ODC.StageKey("Development")
	qa, _ := f.ODC.StageKey("QA")
	for _, name := range []string{"Acme Theme", "HR Self Service"} {
		publishNow(t, odc, keys[name], 1, dev)
	}
	if err := sb.DeployByHand(qa, keys["HR Self Service"], 1); err != nil {
		t.Fatal(err)
	}
	return keys
}

func strOf(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// publishNow publishes a revision to a stage and waits until it finished.
func publishNow(t *testing.T, odc *client.ODC, assetKey string, revision int, stageKey string) {
	t.Helper()
	ctx := context.Background()
	op, err := odc.StartPublish(ctx, assetKey, revision, stageKey)
	for err == nil && !op.Done() {
		time.Sleep(50 * time.Millisecond)
		op, err = odc.GetPublishOperation(ctx, op.Key)
	}
	if err != nil || !op.Succeeded() {
		t.Fatalf("publish of %s revision %d: %+v %v", assetKey, revision, op, err)
	}
}

// configValue reads a setting of an app in a stage from the sandbox
// (library "" for the app's own).
func configValue(ctx context.Context, odc *client.ODC, stageKey, appKey, library, name string) (client.ConfigValue, error) {
	cfg, err := odc.AppConfiguration(ctx, stageKey, appKey, 0)
	if err != nil {
		return client.ConfigValue{}, err
	}
	settings := cfg.Settings
	for _, l := range cfg.Libraries {
		if l.Name == library {
			settings = l.Settings
		}
	}
	for _, s := range settings {
		if s.Name == name {
			return s, nil
		}
	}
	return client.ConfigValue{}, fmt.Errorf("no setting %q (library %q) in %+v", name, library, cfg)
}

// appConfigurationConfig: the provider block is unpaced, so apply's
// ApplyConfigs (a POST of deployment operations, 10 a minute) does not wait
// 6 s in each fresh provider process.
func appConfigurationConfig(e *testEnv, app, maxUpload string, syncActive bool) string {
	return unpaced(e.providerConfig()) + fmt.Sprintf(`
resource "outsystems_app_configuration" "qa" {
  asset_key = %[1]q
  stage_key = %[2]q
  apply     = true
  settings = {
    MaxUploadMB     = %[4]q
    WelcomeText     = "Welcome to HR in QA"
    PayrollApiToken = ""
  }
  timers       = { SyncEmployees = %[5]t }
  integrations = { PayrollService = "https://payroll.qa.acme.example/api" }
  library_settings = {
    "Acme Theme" = { BrandColor = "#112233", LogoUrl = "https://cdn.acme.example/logo.svg" }
  }
}

resource "outsystems_app_configuration" "dev" {
  asset_key = %[1]q
  stage_key = %[3]q
  settings  = { WelcomeText = "Welcome to HR in Development" }
}
`, app, e.stageKey("QA"), e.stageKey("Development"), maxUpload, syncActive)
}

// testAccAppConfigurationLifecycle: create (QA applied through
// ApplyConfigs, Development left pending), import, update, an out-of-band
// change the plan shows, an empty plan after apply; destroy leaves the
// values in ODC.
func testAccAppConfigurationLifecycle(t *testing.T, e *testEnv) {
	odc := e.odcClient()
	keys := configuredApps(t, e.sb, odc)
	app := keys["HR Self Service"]
	qa, dev := e.stageKey("QA"), e.stageKey("Development")
	const res, resDev = "outsystems_app_configuration.qa", "outsystems_app_configuration.dev"
	deployed := func(stage, library, name, want string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			v, err := configValue(context.Background(), odc, stage, app, library, name)
			if err != nil {
				return err
			}
			if v.Value == nil || *v.Value != want || v.DeployedValue == nil || *v.DeployedValue != want {
				return fmt.Errorf("%s in %s: value %v, deployed %v; want %q applied", name, stage, strOf(v.Value), strOf(v.DeployedValue), want)
			}
			return nil
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			func(s *terraform.State) error { // both were in the state destroy worked on
				if n := len(resourcesOfType(s, "outsystems_app_configuration")); n != 2 {
					return fmt.Errorf("destroy saw %d app configurations, want 2", n)
				}
				return nil
			},
			deployed(qa, "", "MaxUploadMB", "30"), // destroy leaves the values in place
			func(*terraform.State) error {
				v, err := configValue(context.Background(), odc, dev, app, "", "WelcomeText")
				if err != nil {
					return err
				}
				if strOf(v.Value) != "Welcome to HR in Development" {
					return fmt.Errorf("after destroy, WelcomeText in Development = %+v; want it kept", v)
				}
				return nil
			},
		),
		Steps: []resource.TestStep{
			{
				Config: appConfigurationConfig(e, app, "25", false),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("id"), knownvalue.StringExact(qa+"/"+app)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("name"), knownvalue.StringExact("HR Self Service")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("revision"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("pending"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("settings").AtMapKey("MaxUploadMB"), knownvalue.StringExact("25")),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("timers").AtMapKey("SyncEmployees"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue(resDev, tfjsonpath.New("pending"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(resDev, tfjsonpath.New("secret_settings_wo"), knownvalue.Null()),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					deployed(qa, "", "MaxUploadMB", "25"),
					deployed(qa, "Acme Theme", "BrandColor", "#112233"),
					func(*terraform.State) error { // Development: set, pending until the next publish
						v, err := configValue(context.Background(), odc, dev, app, "", "WelcomeText")
						if err != nil {
							return err
						}
						if strOf(v.Value) != "Welcome to HR in Development" || !v.Pending() {
							return fmt.Errorf("WelcomeText in Development = %+v; want set and pending", v)
						}
						// Values nobody named are left alone.
						if v, err := configValue(context.Background(), odc, dev, app, "", "MaxUploadMB"); err != nil || strOf(v.Value) != "10" {
							return errors.Join(err, fmt.Errorf("MaxUploadMB in Development = %+v; want the default, untouched", v))
						}
						return nil
					},
				),
			},
			{ // import brings back every non-secret value
				ResourceName: res, ImportState: true, ImportStateVerify: true,
				ImportStateId:           qa + "/" + app,
				ImportStateVerifyIgnore: []string{"apply"},
			},
			{ // update
				Config: appConfigurationConfig(e, app, "30", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(resDev, plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(res, tfjsonpath.New("timers").AtMapKey("SyncEmployees"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(res, tfjsonpath.New("pending"), knownvalue.Bool(false)),
				},
				Check: deployed(qa, "", "MaxUploadMB", "30"),
			},
			{ // changed in the ODC Portal: the plan shows it, the apply puts it back
				PreConfig: func() {
					if err := e.sb.SetAppConfiguration(qa, app, sandbox.ConfigurationChange{Name: "MaxUploadMB", Value: "99"}); err != nil {
						t.Fatal(err)
					}
				},
				Config: appConfigurationConfig(e, app, "30", true),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(res, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(res, tfjsonpath.New("settings").AtMapKey("MaxUploadMB"), knownvalue.StringExact("30")),
				}},
				Check: deployed(qa, "", "MaxUploadMB", "30"),
			},
			{Config: appConfigurationConfig(e, app, "30", true), PlanOnly: true}, // nothing to change
		},
	})
}

func TestAccAppConfiguration_lifecycle(t *testing.T) {
	testAccAppConfigurationLifecycle(t, newTestEnv(t))
}

// On the tenant profile (no Migration Kit API): the resource is built on
// ODC's public APIs only.
func TestAccAppConfiguration_tenantProfile(t *testing.T) {
	testAccAppConfigurationLifecycle(t, newTestEnvTenant(t))
}

// What the plan refuses, naming the attribute and what to do: an unknown
// name, `apply` in Development, a value in `settings` for a setting that
// is secret in ODC, and (on a Terraform without write-only attributes)
// `secret_settings_wo`.
func TestAccAppConfiguration_refusals(t *testing.T) {
	e := newTestEnv(t)
	odc := e.odcClient()
	keys := configuredApps(t, e.sb, odc)
	app := keys["HR Self Service"]
	if _, err := e.sb.MarkSettingSecret(app, "PayrollApiToken"); err != nil {
		t.Fatal(err)
	}
	cfg := func(stage, body string) string {
		return e.providerConfig() + fmt.Sprintf(`
resource "outsystems_app_configuration" "x" {
  asset_key = %q
  stage_key = %q
  %s
}
`, app, e.stageKey(stage), body)
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             func(s *terraform.State) error { return checkNoResources(s) },
		Steps: []resource.TestStep{
			{Config: cfg("QA", `settings = { MaxUploadMb = "5" }`), PlanOnly: true,
				ExpectError: errorRe("Unknown Setting", `no setting "MaxUploadMb"`, `"MaxUploadMB"`)},
			{Config: cfg("Development", `apply = true`), PlanOnly: true,
				ExpectError: errorRe("No ApplyConfigs In Development", "apply = false")},
			{Config: cfg("Development", `settings = { PayrollApiToken = "x" }`), PlanOnly: true,
				ExpectError: errorRe("Secret Setting Given As Plain Setting", "secret_settings_wo")},
			{Config: cfg("QA", `settings = { MaxUploadMB = "lots" }`), PlanOnly: true,
				ExpectError: errorRe("Invalid Setting Value", `"lots"`, "Integer")},
			{Config: cfg("QA", `integrations = { PayrollService = "payroll.acme.example" }`), PlanOnly: true,
				ExpectError: errorRe("Invalid Base URL", "https://")},
			{Config: cfg("QA", `library_settings = { "Acme Theme" = { Colour = "red" } }`), PlanOnly: true,
				ExpectError: errorRe("Unknown Library Setting", "Colour")},
			writeOnlyStep(t, cfg("Development", `secret_settings_wo = { PayrollApiToken = "x" }`),
				errorRe("Secret Settings Need Terraform 1.11", "secret_settings_wo")),
		},
	})
}

// writeOnlyStep plans a configuration with a write-only attribute: a CLI
// without write-only attributes (Terraform < 1.11, as the pinned 1.5.7)
// must fail with oldErr, the error naming the attribute; a newer one (make
// testacc-tofu) plans the write.
func writeOnlyStep(t *testing.T, config string, oldErr *regexp.Regexp) resource.TestStep {
	t.Helper()
	out, err := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), "version", "-json").Output()
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err != nil || json.Unmarshal(out, &v) != nil {
		t.Fatalf("reading the version of %s: %v %s", os.Getenv("TF_ACC_TERRAFORM_PATH"), err, out)
	}
	var major, minor int
	if _, err := fmt.Sscanf(v.Version, "%d.%d", &major, &minor); err != nil {
		t.Fatalf("version %q: %v", v.Version, err)
	}
	if major > 1 || minor >= 11 {
		return resource.TestStep{Config: config, PlanOnly: true, ExpectNonEmptyPlan: true}
	}
	return resource.TestStep{Config: config, PlanOnly: true, ExpectError: oldErr}
}

// secretCLIs are the CLIs with write-only attributes the secret tests run:
// the image's newer Terraform (required) and the repository's OpenTofu
// (bin/tofu) where make tofu built it.
func secretCLIs(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(latestTerraform); err != nil {
		t.Fatalf("the write-only path needs Terraform 1.11 or later at %s, which the machine image provides: %v", latestTerraform, err)
	}
	clis := []string{latestTerraform}
	// The repository's OpenTofu (make tofu), as testacc-tofu runs it.
	tofu, err := filepath.Abs(filepath.Join("..", "..", "bin", "tofu"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tofu); err == nil {
		clis = append(clis, tofu)
	} else {
		t.Logf("%s not present (make tofu builds it): the write-only path is tested with %s only", tofu, latestTerraform)
	}
	return clis
}

// TestAccAppConfiguration_secretsNeverLeak drives the write-only path with
// the newer Terraform and OpenTofu: a secret for a setting ODC does not
// report secret fails the plan (telling to mark it in Studio); once
// marked, the secret is written, and its value appears nowhere: not in
// state, saved plan, plan or apply output, TRACE logs, errors or the
// sandbox's log. A change
// made outside Terraform shows in the plan and the apply writes it again.
func TestAccAppConfiguration_secretsNeverLeak(t *testing.T) {
	t.Parallel()
	for _, cli := range secretCLIs(t) {
		t.Run(filepath.Base(cli), func(t *testing.T) {
			t.Parallel()
			var sandboxLog syncBuffer
			sb := newExampleSandboxWith(t, sandbox.Options{Logger: log.New(&sandboxLog, "", 0)})
			odc := testODC(t, sb)
			keys := configuredApps(t, sb, odc)
			app := keys["HR Self Service"]
			dev, _ := sb.Fixture().ODC.StageKey("Development")
			secret := "s3cr3t-" + filepath.Base(cli) + "-7f1d2c"
			c := newCLIDirFor(t, sb.Exports(), cli)
			config := func(version string) string {
				return fmt.Sprintf(`
terraform {
  required_providers {
    outsystems = { source = "seed-1be1de96/outsystems" }
  }
}

# Ephemeral (Terraform 1.10+, OpenTofu 1.11+): not kept in plan files either.
variable "payroll_token" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "outsystems_app_configuration" "dev" {
  asset_key                  = %q
  stage_key                  = %q
  settings                   = { MaxUploadMB = "12" }
  secret_settings_wo         = { PayrollApiToken = var.payroll_token }
  secret_settings_wo_version = %q
}
`, app, dev, version)
			}
			writeConfig(t, c.dir, "main.tf", config("1"))
			logPath := filepath.Join(t.TempDir(), "trace.log")
			env := []string{"TF_VAR_payroll_token=" + secret, "TF_LOG=TRACE", "TF_LOG_PATH=" + logPath}
			c.env = append(c.env, env...)
			var outputs strings.Builder
			run := func(wantExit int, args ...string) string {
				t.Helper()
				out := c.runAll(wantExit, args...)
				outputs.WriteString(out)
				return out
			}
			// Not secret in ODC yet (O11 secret site properties arrive as ordinary settings): the plan fails.
			out := run(1, "plan", "-input=false", "-no-color")
			for _, want := range []string{"Setting Is Not Secret In ODC", "ODC Studio", "PayrollApiToken"} {
				if !strings.Contains(out, want) {
					t.Errorf("the plan's error lacks %q:\n%s", want, out)
				}
			}
			if _, err := sb.MarkSettingSecret(app, "PayrollApiToken"); err != nil {
				t.Fatal(err)
			}
			run(0, "plan", "-input=false", "-no-color", "-out=tfplan")
			outputs.WriteString(run(0, "show", "-json", "tfplan"))
			run(0, "apply", "-auto-approve", "-input=false", "-no-color", "tfplan")
			v, err := configValue(context.Background(), odc, dev, app, "", "PayrollApiToken")
			if err != nil || !v.IsSecret || v.UpdatedAt == nil || !v.Pending() {
				t.Fatalf("the secret in ODC after apply = %+v, %v; want set (pending until a publish)", v, err)
			}
			run(0, "plan", "-detailed-exitcode", "-input=false", "-no-color")

			// Changed in the ODC Portal: the plan shows it through the version; the apply writes it again.
			if err := sb.SetAppConfiguration(dev, app, sandbox.ConfigurationChange{Name: "PayrollApiToken", Value: "rotated-by-hand"}); err != nil {
				t.Fatal(err)
			}
			out = run(2, "plan", "-detailed-exitcode", "-input=false", "-no-color")
			if !strings.Contains(out, "secret_settings_wo_version") || !strings.Contains(out, secretDriftVersion) {
				t.Errorf("the plan after an out-of-band change of the secret does not show it:\n%s", out)
			}
			run(0, "apply", "-auto-approve", "-input=false", "-no-color")
			after, err := configValue(context.Background(), odc, dev, app, "", "PayrollApiToken")
			if err != nil || after.UpdatedAt == nil || *after.UpdatedAt == *v.UpdatedAt {
				t.Errorf("the apply did not write the secret again: %+v, %v", after, err)
			}
			run(0, "plan", "-detailed-exitcode", "-input=false", "-no-color")
			// A new version writes it again.
			writeConfig(t, c.dir, "main.tf", config("2"))
			run(2, "plan", "-detailed-exitcode", "-input=false", "-no-color")
			run(0, "apply", "-auto-approve", "-input=false", "-no-color")
			outputs.WriteString(run(0, "show", "-json"))
			run(0, "destroy", "-auto-approve", "-input=false", "-no-color")

			files := map[string]string{"all output": outputs.String(), "sandbox log": sandboxLog.String()}
			for _, name := range []string{"terraform.tfstate", "terraform.tfstate.backup", "tfplan"} {
				if b, err := os.ReadFile(filepath.Join(c.dir, name)); err == nil {
					files[name] = string(b)
				}
			}
			trace, err := os.ReadFile(logPath)
			if err != nil || len(trace) < 1000 {
				t.Fatalf("TF_LOG=TRACE wrote no log at %s: %v", logPath, err)
			}
			files["TRACE log"] = string(trace)
			for name, content := range files {
				if strings.Contains(content, secret) {
					i := strings.Index(content, secret)
					t.Errorf("the secret value appears in %s: …%s…", name, content[max(0, i-300):min(len(content), i+100)])
				}
			}
		})
	}
}

// The patch holds only what differs from ODC's values, and the secrets
// only when they are to be written; pending reads value against deployed
// value, or a secret's valueSetAfterDeploy.
func TestAppConfigIndexPatch(t *testing.T) {
	s := func(v string) *string { return &v }
	yes := true
	x := indexConfig(&client.AppConfiguration{Name: "HR", RevisionBaseline: 3,
		Settings: []client.ConfigValue{
			{Key: "k-limit", Name: "Limit", DataType: "Integer", Value: s("10"), DeployedValue: s("10")},
			{Key: "k-text", Name: "Text", DataType: "Text", Value: s("hi"), DeployedValue: s("hi")},
			{Key: "k-token", Name: "Token", DataType: "Text", IsSecret: true, ValueSetAfterDeploy: &yes},
		},
		Timers: []client.ConfigElement{{Key: "k-timer", Name: "Sync", Configs: []client.ConfigValue{{Key: client.TimerConfigIsActive, Value: s("True"), DeployedValue: s("True")}}}},
		Libraries: []client.LibraryConfig{{Key: "k-lib", Name: "Theme", Revision: 2, Settings: []client.ConfigValue{
			{Key: "k-color", Name: "Color", DataType: "Text", Value: s("blue"), DeployedValue: s("blue")}}}},
	})
	d := desired{settings: map[string]string{"Limit": "10", "Text": "hello"}, timers: map[string]bool{"Sync": true},
		libraries: map[string]map[string]string{"Theme": {"Color": "red"}}, secrets: map[string]string{"Token": "t0p"}}
	p := x.patch(d, false)
	if p.RevisionBaseline != 3 || len(p.Settings) != 1 || p.Settings[0].Key != "k-text" || len(p.Timers) != 0 ||
		len(p.Libraries) != 1 || p.Libraries[0].Revision != 2 || p.Libraries[0].Settings[0].Value != "red" {
		t.Errorf("patch without secrets = %+v", p)
	}
	if p := x.patch(d, true); len(p.Settings) != 2 || p.Settings[1].Key != "k-token" {
		t.Errorf("patch with secrets = %+v", p)
	}
	if x.pending(desired{settings: map[string]string{"Limit": ""}}, nil) || !x.pending(desired{}, []string{"Token"}) {
		t.Error("pending: want false for an applied setting, true for a secret set after the deploy")
	}
	var diags diag.Diagnostics
	x.check(desired{settings: map[string]string{"Token": "x", "Limit": "ten"}, secrets: map[string]string{"Text": "y"}}, &diags)
	got := fmt.Sprint(diags)
	for _, want := range []string{"Secret Setting Given As Plain Setting", "Invalid Setting Value", "Setting Is Not Secret In ODC"} {
		if !strings.Contains(got, want) {
			t.Errorf("check lacks %q: %s", want, got)
		}
	}
	if strings.Contains(got, `"y"`) {
		t.Errorf("check shows a secret's value: %s", got)
	}
}
