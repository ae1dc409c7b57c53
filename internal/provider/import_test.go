package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// importSourceConfig creates one resource of every type the provider has:
// a mapping, a tag, a code migration, the publication of the library the
// migration produced, and its release. The release leaves keep_on_destroy
// unset: it is the provider's own flag, not ODC's, so an imported release
// has it false and a configuration that sets it plans one in-place update
// (the docs say so).
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

data "outsystems_odc_stage" "dev" {
  purpose = "Development"
}

resource "outsystems_app_mapping" "theme" {
  name                 = "Acme Theme"
  asset_type           = "library"
  o11_application_keys = [data.outsystems_lifetime_application.theme.key]
}

resource "outsystems_lifetime_tag" "theme" {
  environment_key = data.outsystems_lifetime_environment.dev.key
  application_key = data.outsystems_lifetime_application.theme.key
  change_log      = "Ready for ODC"
  depends_on      = [outsystems_app_mapping.theme]
}

resource "outsystems_code_migration" "wave" {
  source_environment_key = data.outsystems_lifetime_environment.dev.key
  mapping_ids            = [outsystems_app_mapping.theme.id]
  depends_on             = [outsystems_lifetime_tag.theme]
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
`

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
	const latest = "/usr/local/bin/terraform"
	if _, err := os.Stat(latest); err == nil {
		clis = append(clis, latest)
	} else {
		t.Logf("%s not present: the import is tested with %s only", latest, clis[0])
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

// TestAccImportEveryResource applies one resource of every type, then, for
// each Terraform CLI, imports them all into a fresh state twice: with
// `import` blocks and -generate-config-out (the generated configuration is
// applied as is), and with `terraform import` under the source
// configuration. Both plans afterwards must be empty.
func TestAccImportEveryResource(t *testing.T) {
	t.Parallel()
	sb := newExampleSandbox(t)
	markModifiedInDevelopment(t, sb, "Acme Theme")
	src := newCLIDir(t, sb.Exports())
	writeConfig(t, src.dir, "main.tf", importSourceConfig)
	src.run("apply", "-auto-approve", "-input=false", "-no-color")
	ids := importIDs(t, src)
	if len(ids) != 5 {
		t.Fatalf("the source configuration has %d resources, want one of each of the 5 types: %v", len(ids), ids)
	}
	addresses := make([]string, 0, len(ids))
	for a := range ids {
		addresses = append(addresses, a)
	}
	sort.Strings(addresses)

	for _, terraform := range importTerraforms(t) {
		// Import blocks and generated configuration.
		gen := newCLIDirFor(t, sb.Exports(), terraform)
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
		imp := newCLIDirFor(t, sb.Exports(), terraform)
		writeConfig(t, imp.dir, "main.tf", importSourceConfig)
		for _, a := range addresses {
			imp.run("import", "-input=false", "-no-color", a, ids[a])
		}
		imp.planIsEmpty("terraform import")
	}

	src.run("destroy", "-auto-approve", "-input=false", "-no-color")
	if left := strings.TrimSpace(src.run("state", "list")); left != "" {
		t.Errorf("state after destroy:\n%s", left)
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
