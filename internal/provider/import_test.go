package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
)

// importSourceConfig creates one resource of every type the provider has:
// mappings, tags, one code migration of a library (Acme Theme) and an app
// consuming it (HR Self Service), their publications, the library's
// release, the app's deployment to QA and its configuration there, QA's
// SMTP defaults and a custom domain of QA. The release leaves
// keep_on_destroy unset and the deployment undeploy_on_destroy: they are
// the provider's own flags, not ODC's, so an imported one has them false
// and a configuration that sets them plans one in-place update (the docs
// say so). The app configuration names a few of the app's values: an
// import brings back every non-secret value (see
// checkImportedAppConfiguration).
const importSourceConfig = `
terraform {
  required_providers {
    outsystems = { source = "seed-1be1de96/outsystems" }
  }
}

data "outsystems_lifetime_environment" "dev" {
  name = "Development"
}

data "outsystems_lifetime_application" "theme" {
  name = "Acme Theme"
}

data "outsystems_lifetime_application" "hr" {
  name = "HR Self Service"
}

data "outsystems_odc_stage" "dev" {
  purpose = "Development"
}

data "outsystems_odc_stage" "qa" {
  name = "QA"
}

resource "outsystems_app_mapping" "theme" {
  name                 = "Acme Theme"
  asset_type           = "library"
  o11_application_keys = [data.outsystems_lifetime_application.theme.key]
}

resource "outsystems_app_mapping" "hr" {
  name                 = "HR Self Service"
  asset_type           = "web_app"
  o11_application_keys = [data.outsystems_lifetime_application.hr.key]
}

resource "outsystems_lifetime_tag" "theme" {
  environment_key = data.outsystems_lifetime_environment.dev.key
  application_key = data.outsystems_lifetime_application.theme.key
  change_log      = "Ready for ODC"
  depends_on      = [outsystems_app_mapping.theme]
}

resource "outsystems_lifetime_tag" "hr" {
  environment_key = data.outsystems_lifetime_environment.dev.key
  application_key = data.outsystems_lifetime_application.hr.key
  change_log      = "Ready for ODC"
  depends_on      = [outsystems_app_mapping.hr]
}

resource "outsystems_code_migration" "wave" {
  source_environment_key = data.outsystems_lifetime_environment.dev.key
  mapping_ids            = [outsystems_app_mapping.theme.id, outsystems_app_mapping.hr.id]
  depends_on             = [outsystems_lifetime_tag.theme, outsystems_lifetime_tag.hr]
}

resource "outsystems_asset_publication" "theme" {
  asset_key = outsystems_code_migration.wave.assets["Acme Theme"].asset_key
  revision  = outsystems_code_migration.wave.assets["Acme Theme"].revision
  stage_key = data.outsystems_odc_stage.dev.key
}

resource "outsystems_library_release" "theme" {
  asset_key = outsystems_asset_publication.theme.asset_key
  revision  = outsystems_asset_publication.theme.revision
  version   = "1.0.0"
}

resource "outsystems_asset_publication" "hr" {
  asset_key  = outsystems_code_migration.wave.assets["HR Self Service"].asset_key
  revision   = outsystems_code_migration.wave.assets["HR Self Service"].revision
  stage_key  = data.outsystems_odc_stage.dev.key
  depends_on = [outsystems_library_release.theme]
}

resource "outsystems_asset_deployment" "hr" {
  stage_key = data.outsystems_odc_stage.qa.key
  asset_key = outsystems_asset_publication.hr.asset_key
  revision  = outsystems_asset_publication.hr.revision
}

resource "outsystems_app_configuration" "hr" {
  stage_key    = outsystems_asset_deployment.hr.stage_key
  asset_key    = outsystems_asset_deployment.hr.asset_key
  settings     = { WelcomeText = "Welcome to HR in QA" }
  timers       = { SyncEmployees = false }
  integrations = { PayrollService = "https://payroll.qa.acme.example/api" }
}

resource "outsystems_stage_system_configuration" "qa" {
  stage_key = data.outsystems_odc_stage.qa.key
  values    = { SMTPServer = "smtp.qa.acme.example", SMTPPort = "2525" }
}

resource "outsystems_custom_domain" "hr" {
  stage_key = data.outsystems_odc_stage.qa.key
  hostname  = "hr.qa.acme.example"
}
`

// importedTypes are the resource types the provider has: the source
// configuration holds one or more of each.
var importedTypes = []string{"outsystems_app_mapping", "outsystems_lifetime_tag", "outsystems_code_migration", "outsystems_asset_publication",
	"outsystems_library_release", "outsystems_asset_deployment", "outsystems_app_configuration", "outsystems_stage_system_configuration",
	"outsystems_custom_domain"}

// importIDs are the import IDs of the source configuration's resources, by address.
func importIDs(t *testing.T, c *cliRun) map[string]string {
	t.Helper()
	var doc struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string `json:"address"`
					Mode    string `json:"mode"`
					Values  struct {
						ID             string `json:"id"`
						ApplicationKey string `json:"application_key"`
						AssetKey       string `json:"asset_key"`
						StageKey       string `json:"stage_key"`
						Revision       int64  `json:"revision"`
					} `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(c.run("show", "-json")), &doc); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, r := range doc.Values.RootModule.Resources {
		if r.Mode != "managed" {
			continue
		}
		v := r.Values
		switch {
		case strings.HasPrefix(r.Address, "outsystems_lifetime_tag."):
			ids[r.Address] = v.ApplicationKey + "/" + v.ID
		case strings.HasPrefix(r.Address, "outsystems_library_release."):
			ids[r.Address] = fmt.Sprintf("%s/%d", v.AssetKey, v.Revision)
		case strings.HasPrefix(r.Address, "outsystems_asset_deployment."):
			ids[r.Address] = v.StageKey + "/" + v.AssetKey
		default:
			ids[r.Address] = v.ID
		}
	}
	return ids
}

// importTerraforms are the Terraform CLIs the import test runs: the pinned
// one (TF_ACC_TERRAFORM_PATH) and /usr/local/bin/terraform where present.
func importTerraforms(t *testing.T) []string {
	t.Helper()
	clis := []string{os.Getenv("TF_ACC_TERRAFORM_PATH")}
	if _, err := os.Stat(latestTerraform); err == nil {
		clis = append(clis, latestTerraform)
	} else {
		t.Logf("%s not present: the import is tested with %s only", latestTerraform, clis[0])
	}
	return clis
}

// planIsEmpty runs terraform plan -detailed-exitcode and fails the test
// unless it exits 0 (no changes).
func (c *cliRun) planIsEmpty(what string) {
	c.t.Helper()
	cmd := exec.Command(c.terraform, "-chdir="+c.dir, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		c.t.Errorf("%s with %s: plan exited %d, want 0 (no changes):\n%s", what, c.terraform, exitErr.ExitCode(), out)
	case err != nil:
		c.t.Fatal(err)
	}
}

// TestAccImportEveryResource applies one resource of every type (two of
// some), then, for each Terraform CLI, imports them all into a fresh state
// twice: with `import` blocks and -generate-config-out (the generated
// configuration is applied as is; its plan must then be empty), and with
// `terraform import` under the source configuration, whose plan must be
// empty but for what the docs promise of the app configuration
// (checkImportedAppConfiguration).
func TestAccImportEveryResource(t *testing.T) {
	t.Parallel()
	sb := newExampleSandbox(t)
	markModifiedInDevelopment(t, sb, "Acme Theme", "HR Self Service")
	src := unpacedCLI(newCLIDir(t, sb.Exports()))
	writeConfig(t, src.dir, "main.tf", importSourceConfig)
	src.run("apply", "-auto-approve", "-input=false", "-no-color")
	ids := importIDs(t, src)
	addresses := make([]string, 0, len(ids))
	types := map[string]bool{}
	for a := range ids {
		addresses = append(addresses, a)
		types[strings.Split(a, ".")[0]] = true
	}
	sort.Strings(addresses)
	for _, typ := range importedTypes {
		if !types[typ] {
			t.Fatalf("the source configuration has no %s: %v", typ, addresses)
		}
	}
	if len(types) != len(importedTypes) {
		t.Fatalf("the source configuration has %d resource types, want the %d of importedTypes: %v", len(types), len(importedTypes), addresses)
	}

	// Both CLIs at once: imports only read, and each CLI's state is its own.
	t.Run("import", func(t *testing.T) {
		for _, terraform := range importTerraforms(t) {
			name := "pinned"
			if terraform == latestTerraform {
				name = "latest"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				testImportWith(t, sb, terraform, ids, addresses)
			})
		}
	})

	// The release's consumer stays published (ODC cannot unpublish), so
	// destroy forgets the release only with keep_on_destroy, set first.
	writeConfig(t, src.dir, "main.tf", strings.Replace(importSourceConfig, `version   = "1.0.0"`, "version         = \"1.0.0\"\n  keep_on_destroy = true", 1))
	src.run("apply", "-auto-approve", "-input=false", "-no-color")
	src.run("destroy", "-auto-approve", "-input=false", "-no-color")
	if left := strings.TrimSpace(src.run("state", "list")); left != "" {
		t.Errorf("state after destroy:\n%s", left)
	}
}

// testImportWith imports every resource with one CLI: import blocks and
// generated configuration, then terraform import under the source
// configuration.
func testImportWith(t *testing.T, sb *sandbox.Sandbox, terraform string, ids map[string]string, addresses []string) {
	{
		// Import blocks and generated configuration.
		gen := unpacedCLI(newCLIDirFor(t, sb.Exports(), terraform))
		var blocks strings.Builder
		blocks.WriteString("terraform {\n  required_providers {\n    outsystems = { source = \"seed-1be1de96/outsystems\" }\n  }\n}\n")
		for _, a := range addresses {
			fmt.Fprintf(&blocks, "\nimport {\n  to = %s\n  id = %q\n}\n", a, ids[a])
		}
		writeConfig(t, gen.dir, "imports.tf", blocks.String())
		gen.run("plan", "-input=false", "-no-color", "-generate-config-out=generated.tf")
		gen.run("apply", "-auto-approve", "-input=false", "-no-color")
		if got := strings.Fields(gen.run("state", "list")); len(got) != len(ids) {
			t.Errorf("with %s, the generated configuration imported %v, want %v", terraform, got, addresses)
		}
		gen.planIsEmpty("the generated configuration")
		if t.Failed() {
			generated, _ := os.ReadFile(filepath.Join(gen.dir, "generated.tf"))
			t.Logf("generated.tf (%s):\n%s", terraform, generated)
		}

		// terraform import under the source configuration.
		imp := unpacedCLI(newCLIDirFor(t, sb.Exports(), terraform))
		writeConfig(t, imp.dir, "main.tf", importSourceConfig)
		for _, a := range addresses {
			imp.run("import", "-input=false", "-no-color", a, ids[a])
		}
		checkImportedAppConfiguration(t, sb, imp, "outsystems_app_configuration.hr")
		imp.planIsEmpty("terraform import")
	}
}

// unpacedCLI lifts the provider's client-side rate limits (the sandbox of
// the import test enforces none): a fresh provider process otherwise waits
// 6 s before its first call to the environment configurations API (10 a
// minute), in each of the many terraform commands here. Pacing has tests
// of its own (custom_domain_resource_test.go).
func unpacedCLI(c *cliRun) *cliRun {
	c.env = append(c.env, EnvODCRequestsPerMinute+"=0")
	return c
}

// checkImportedAppConfiguration checks what the docs promise of importing
// an outsystems_app_configuration under a configuration that names fewer
// values than the app has: the import brought back every non-secret value,
// so the plan is one in-place update of it, and nothing else, that only
// stops managing the values the configuration does not name (each value it
// keeps is the one ODC has); applying it changes nothing in ODC.
func checkImportedAppConfiguration(t *testing.T, sb *sandbox.Sandbox, c *cliRun, address string) {
	t.Helper()
	c.run("plan", "-input=false", "-no-color", "-out=narrow.tfplan")
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				Actions []string                   `json:"actions"`
				Before  map[string]json.RawMessage `json:"before"`
				After   map[string]json.RawMessage `json:"after"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(c.run("show", "-json", "narrow.tfplan")), &plan); err != nil {
		t.Fatal(err)
	}
	var stageKey, assetKey string
	for _, rc := range plan.ResourceChanges {
		actions := strings.Join(rc.Change.Actions, ",")
		switch {
		case rc.Address == address:
			if actions != "update" {
				t.Errorf("with %s, the imported %s plans %s, want update (the import brought back every value)", c.terraform, address, actions)
			}
			_ = json.Unmarshal(rc.Change.Before["stage_key"], &stageKey)
			_ = json.Unmarshal(rc.Change.Before["asset_key"], &assetKey)
			dropped := false
			for _, attr := range []string{"settings", "timers", "integrations", "library_settings"} {
				var before, after map[string]json.RawMessage
				_ = json.Unmarshal(rc.Change.Before[attr], &before)
				_ = json.Unmarshal(rc.Change.After[attr], &after)
				if len(before) == 0 {
					t.Errorf("with %s, the import brought back no %s: %s", c.terraform, attr, rc.Change.Before[attr])
				}
				for name, v := range after {
					if string(before[name]) != string(v) {
						t.Errorf("with %s, the plan after import changes %s[%q] from %s to %s; it should only stop managing values", c.terraform, attr, name, before[name], v)
					}
				}
				dropped = dropped || len(after) < len(before)
			}
			if !dropped {
				t.Errorf("with %s, the plan after import stops managing no value, yet the configuration names fewer than the app has", c.terraform)
			}
		case actions != "no-op" && actions != "read":
			t.Errorf("with %s, the plan after import %s %s; only %s should change", c.terraform, actions, rc.Address, address)
		}
	}
	if t.Failed() || stageKey == "" {
		t.Fatalf("with %s, the plan after import has no usable change of %s", c.terraform, address)
	}
	odc := testODC(t, sb)
	before, err := odc.AppConfiguration(context.Background(), stageKey, assetKey, 0)
	if err != nil {
		t.Fatal(err)
	}
	c.run("apply", "-input=false", "-no-color", "narrow.tfplan")
	after, err := odc.AppConfiguration(context.Background(), stageKey, assetKey, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("with %s, applying the plan after import changed the app configuration in ODC:\nbefore %+v\nafter  %+v", c.terraform, before, after)
	}
}

func writeConfig(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
