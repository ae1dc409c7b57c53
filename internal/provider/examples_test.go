package provider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// The examples are what users copy; these tests apply them as users do:
// the terraform CLI, the provider binary through a dev_overrides CLI
// configuration, the settings from the environment variables the sandbox
// prints, and for_each over the migration's assets (which the
// terraform-plugin-testing harness cannot read back).

// builtBinary is a command of this repository built once per test run.
type builtBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

var providerBinary, sandboxBinary builtBinary

// build builds the package (relative to this directory) as name, once.
func (b *builtBinary) build(t *testing.T, name, pkg string) string {
	t.Helper()
	b.once.Do(func() {
		// Shared by every test of the package and removed by TestMain, so
		// not a test's own t.TempDir().
		if b.dir, b.err = os.MkdirTemp("", "outsystems-test-bin-"); b.err != nil { //nolint:usetesting // see above
			return
		}
		b.path = filepath.Join(b.dir, name)
		if out, err := exec.Command("go", "build", "-o", b.path, pkg).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func (b *builtBinary) remove() {
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// testODCPollInterval is how often the tests poll ODC operations.
const testODCPollInterval = "250ms"

func TestMain(m *testing.M) {
	// ODC operations are polled every 5 s, then 30 s, as ODC advises; the
	// sandbox's take seconds, so the tests poll them faster (the documented
	// override for rehearsals). Terraform processes the tests start get it
	// from their env (see newCLIRun).
	if os.Getenv(EnvODCPollInterval) == "" {
		_ = os.Setenv(EnvODCPollInterval, testODCPollInterval)
	}
	code := m.Run()
	providerBinary.remove()
	sandboxBinary.remove()
	os.Exit(code)
}

// buildProvider builds the provider binary and returns its directory (what
// a dev_overrides entry names).
func buildProvider(t *testing.T) string {
	return filepath.Dir(providerBinary.build(t, "terraform-provider-outsystems", "../.."))
}

// devOverrides is a CLI configuration that installs the provider from bin.
// OpenTofu resolves `seed-1be1de96/outsystems` in its own registry, so the
// override is keyed by that address when the CLI is tofu.
func devOverrides(cli, bin string) string {
	address := Address
	if strings.Contains(filepath.Base(cli), "tofu") {
		address = strings.Replace(Address, "registry.terraform.io", "registry.opentofu.org", 1)
	}
	return fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n", address, bin)
}

// cliRun is a working directory with an example, the terraform CLI and a
// sandbox's settings in the environment.
type cliRun struct {
	t         *testing.T
	terraform string
	dir       string
	env       []string
}

func newCLIRun(t *testing.T, example string, sb *sandbox.Sandbox) *cliRun {
	t.Helper()
	c := newCLIDir(t, sb.Exports())
	if err := os.CopyFS(c.dir, os.DirFS(filepath.Join("..", "..", "examples", example))); err != nil {
		t.Fatal(err)
	}
	return c
}

// newCLIDir is an empty working directory for the terraform CLI (TF_ACC_TERRAFORM_PATH)
// with the provider of this tree installed through dev_overrides and the
// settings a sandbox exports in the environment.
func newCLIDir(t *testing.T, exports []string) *cliRun {
	t.Helper()
	return newCLIDirFor(t, exports, os.Getenv("TF_ACC_TERRAFORM_PATH"))
}

// newCLIDirFor is newCLIDir for a given CLI: its development override is
// keyed by that CLI's registry (Terraform's or OpenTofu's).
func newCLIDirFor(t *testing.T, exports []string, terraform string) *cliRun {
	t.Helper()
	if os.Getenv("TF_ACC") == "" || os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		t.Skip("acceptance test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make test does)")
	}
	bin := buildProvider(t)
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(rc, []byte(devOverrides(terraform, bin)), 0o600); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	env := []string{"TF_CLI_CONFIG_FILE=" + rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "HOME=" + dir, "PATH=" + os.Getenv("PATH"),
		EnvODCPollInterval + "=" + os.Getenv(EnvODCPollInterval)}
	for _, line := range exports {
		k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		env = append(env, k+"="+strings.Trim(v, "'"))
	}
	return &cliRun{t: t, terraform: terraform, dir: work, env: env}
}

// run runs terraform and returns stdout, failing the test unless it exits 0.
func (c *cliRun) run(args ...string) string {
	c.t.Helper()
	cmd := exec.Command(c.terraform, append([]string{"-chdir=" + c.dir}, args...)...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		c.t.Fatalf("terraform %s exited %d, want 0\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), exitErr.ExitCode(), stdout.String(), stderr.String())
	case err != nil:
		c.t.Fatalf("terraform %v: %v", args, err)
	}
	return stdout.String()
}

func (c *cliRun) outputs() map[string]json.RawMessage {
	c.t.Helper()
	var out map[string]struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal([]byte(c.run("output", "-json")), &out); err != nil {
		c.t.Fatal(err)
	}
	values := map[string]json.RawMessage{}
	for k, v := range out {
		values[k] = v.Value
	}
	return values
}

// orderAndReleases reads the publish_order and released outputs the wave
// examples share.
func (c *cliRun) orderAndReleases() (order []string, released map[string]string) {
	c.t.Helper()
	out := c.outputs()
	if err := json.Unmarshal(out["publish_order"], &order); err != nil {
		c.t.Fatal(err)
	}
	if err := json.Unmarshal(out["released"], &released); err != nil {
		c.t.Fatal(err)
	}
	return order, released
}

func newExampleSandbox(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	return newExampleSandboxWith(t, sandbox.Options{})
}

// markModifiedInDevelopment marks apps as changed in Development since their
// last tag, as a developer's publish would: the tag resource tags only such
// apps (it adopts the running version of an unmodified one).
func markModifiedInDevelopment(t *testing.T, sb *sandbox.Sandbox, apps ...string) {
	t.Helper()
	f := sb.Fixture()
	var dev string
	for _, e := range f.LifeTime.Environments {
		if e.Name == "Development" {
			dev = e.Key
		}
	}
	for _, name := range apps {
		found := false
		for _, a := range f.LifeTime.Applications {
			if a.Name == name {
				found = true
				if err := sb.MarkModified(dev, a.Key, true); err != nil {
					t.Fatalf("mark %s modified: %v", name, err)
				}
			}
		}
		if !found {
			t.Fatalf("no application %q in the fixture", name)
		}
	}
}

func TestAccExampleQuickstart(t *testing.T) {
	t.Parallel()
	sb := newExampleSandbox(t)
	// The example tags apps with changes since their last tag (Customer
	// Portal has some in the fixture); the others changed too.
	markModifiedInDevelopment(t, sb, "Common Utils", "Customer Core", "Policy Core")
	c := newCLIRun(t, "quickstart", sb)
	c.run("apply", "-auto-approve", "-input=false", "-no-color")
	c.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	out := c.outputs()
	var tags map[string]string
	if err := json.Unmarshal(out["tags"], &tags); err != nil {
		t.Fatal(err)
	}
	// The running versions are 1.1.0, 2.0.0, 1.1.0 and 1.2.0: the next patch of each.
	want := map[string]string{"Common Utils": "1.1.1", "Customer Core": "2.0.1", "Policy Core": "1.1.1", "Customer Portal": "1.2.1"}
	for app, v := range want {
		if tags[app] != v {
			t.Errorf("tag of %s = %q, want %q (all: %v)", app, tags[app], v, tags)
		}
	}
	var readiness string
	if err := json.Unmarshal(out["readiness"], &readiness); err != nil || readiness != "All 4 assets are ready for ODC." {
		t.Errorf("readiness = %q (%v)", readiness, err)
	}
}

// completeExampleCLIs are the CLIs examples/complete is applied with: the
// pinned Terraform, and the image's newer Terraform and the repository's
// OpenTofu where present.
func completeExampleCLIs(t *testing.T) map[string]string {
	t.Helper()
	clis := map[string]string{"pinned": os.Getenv("TF_ACC_TERRAFORM_PATH")}
	tofu, _ := filepath.Abs(filepath.Join("..", "..", "bin", "tofu"))
	for name, path := range map[string]string{"terraform-latest": "/usr/local/bin/terraform", "tofu": tofu} {
		if _, err := os.Stat(path); err == nil {
			clis[name] = path
		} else {
			t.Logf("%s not present: examples/complete is not applied with it", path)
		}
	}
	return clis
}

// TestAccExampleComplete: on an empty state, the plan of examples/complete
// already holds every publication and release in its wave (the migration
// preview, read at plan time), one apply of that saved plan converges, and
// a second plan is empty; on each CLI.
func TestAccExampleComplete(t *testing.T) {
	t.Parallel()
	for name, cli := range completeExampleCLIs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testCompleteExample(t, cli)
		})
	}
}

// planResourceChanges reads a saved plan's resource changes (address ->
// actions) and output values.
func (c *cliRun) planResourceChanges(planFile string) (map[string][]string, map[string]json.RawMessage) {
	c.t.Helper()
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				Actions []string `json:"actions"`
			} `json:"change"`
		} `json:"resource_changes"`
		PlannedValues struct {
			Outputs map[string]struct {
				Value json.RawMessage `json:"value"`
			} `json:"outputs"`
		} `json:"planned_values"`
	}
	if err := json.Unmarshal([]byte(c.run("show", "-json", planFile)), &plan); err != nil {
		c.t.Fatal(err)
	}
	changes := map[string][]string{}
	for _, rc := range plan.ResourceChanges {
		changes[rc.Address] = rc.Change.Actions
	}
	outputs := map[string]json.RawMessage{}
	for k, v := range plan.PlannedValues.Outputs {
		outputs[k] = v.Value
	}
	return changes, outputs
}

func testCompleteExample(t *testing.T, cli string) {
	sb := newExampleSandbox(t)
	c := newCLIDirFor(t, sb.Exports(), cli)
	if err := os.CopyFS(c.dir, os.DirFS(filepath.Join("..", "..", "examples", "complete"))); err != nil {
		t.Fatal(err)
	}
	// ODC's 10 deployment POSTs per minute would hold the 11th publish a
	// minute; the pacing has its own tests.
	c.env = append(c.env, "OUTSYSTEMS_ODC_REQUESTS_PER_MINUTE=0")
	c.run("plan", "-out=wave.tfplan", "-input=false", "-no-color")
	changes, planned := c.planResourceChanges("wave.tfplan")
	var waves map[string]string // the preview's "wave N, #M: apps" by asset name, known at plan time
	if err := json.Unmarshal(planned["waves"], &waves); err != nil || len(waves) != 11 {
		t.Fatalf("waves output in the plan = %s (%v), want the 11 assets", planned["waves"], err)
	}
	libraries := map[string]bool{"Acme Theme": true, "Common Utils": true, "Customer Core": true, "Policy Core": true, "Claims Core": true, "Notifications": true}
	publications, releases := 0, 0
	for name, line := range waves {
		var wave, order int
		if _, err := fmt.Sscanf(line, "wave %d, #%d:", &wave, &order); err != nil {
			t.Fatalf("waves[%q] = %q: %v", name, line, err)
		}
		pub := fmt.Sprintf("outsystems_asset_publication.wave%d[%q]", wave, name)
		if !slices.Equal(changes[pub], []string{"create"}) {
			t.Errorf("the plan on an empty state does not create %s (wave %d): %v", pub, wave, changes[pub])
		}
		publications++
		if libraries[name] {
			rel := fmt.Sprintf("outsystems_library_release.wave%d[%q]", wave, name)
			if !slices.Equal(changes[rel], []string{"create"}) {
				t.Errorf("the plan on an empty state does not create %s: %v", rel, changes[rel])
			}
			releases++
		}
	}
	for addr := range changes {
		if strings.HasPrefix(addr, "outsystems_asset_publication.") {
			publications--
		}
		if strings.HasPrefix(addr, "outsystems_library_release.") {
			releases--
		}
	}
	if publications != 0 || releases != 0 {
		t.Errorf("the plan holds publications or releases the preview's waves do not name (%d, %d)", publications, releases)
	}
	var graph string
	if err := json.Unmarshal(planned["producer_graph"], &graph); err != nil {
		t.Fatalf("producer_graph is not known at plan time: %s", planned["producer_graph"])
	}
	if g, err := parseMermaid(graph); err != nil || len(g.labels) != 11 || len(g.edges) == 0 {
		t.Errorf("producer_graph does not parse as the wave's graph (%v):\n%s", err, graph)
	}

	// The plan a reviewer reads shows the preview: versions, modules, findings.
	shown := c.run("show", "-no-color", "wave.tfplan")
	for _, want := range []string{
		"wave 3, #10 Customer Portal (web_app): Customer Portal 1.2.0 (untagged changes since) [CustomerPortal, CustomerPortal_Theme]",
		"UNTAGGED_CHANGES_NOT_MIGRATED",
		`outsystems_asset_publication.wave4["Claims Backoffice"] will be created`,
	} {
		if !strings.Contains(shown, want) {
			t.Errorf("the plan does not show %q:\n%s", want, shown)
		}
	}

	c.run("apply", "-auto-approve", "-input=false", "-no-color", "wave.tfplan")
	c.run("plan", "-detailed-exitcode", "-input=false", "-no-color")

	order, released := c.orderAndReleases()
	if len(order) != 11 || order[0] != "Acme Theme" || order[len(order)-1] != "Claims Backoffice" {
		t.Errorf("publish_order = %v", order)
	}
	for _, lib := range []string{"Acme Theme", "Common Utils", "Customer Core", "Policy Core", "Claims Core", "Notifications"} {
		if released[lib] != "1.0.0" {
			t.Errorf("library %s released as %q, want 1.0.0 (all: %v)", lib, released[lib], released)
		}
	}

	// Producers first, read from the sandbox's own timestamps.
	state := c.run("show", "-json")
	var doc struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string          `json:"address"`
					Values  json.RawMessage `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(state), &doc); err != nil {
		t.Fatal(err)
	}
	stage := ""
	for _, s := range sb.Fixture().ODC.Stages {
		if s.Purpose == "Development" {
			stage = s.Key
		}
	}
	for _, r := range doc.Values.RootModule.Resources {
		if r.Address != "outsystems_code_migration.wave" {
			continue
		}
		var migration struct {
			Assets map[string]struct {
				AssetKey          string   `json:"asset_key"`
				ProducerAssetKeys []string `json:"producer_asset_keys"`
			} `json:"assets"`
		}
		if err := json.Unmarshal(r.Values, &migration); err != nil {
			t.Fatal(err)
		}
		assets := migration.Assets
		byKey := map[string]string{}
		for name, a := range assets {
			byKey[a.AssetKey] = name
		}
		for name, a := range assets {
			consumerAt, ok := sb.PublishedAt(a.AssetKey, stage)
			if !ok {
				t.Errorf("%s was not published", name)
				continue
			}
			for _, p := range a.ProducerAssetKeys {
				producerAt, ok := sb.PublishedAt(p, stage)
				if !ok || !producerAt.Before(consumerAt) {
					t.Errorf("producer %s published at %v, not before consumer %s at %v", byKey[p], producerAt, name, consumerAt)
				}
				releasedAt, ok := sb.ReleasedAt(p)
				if !ok || !releasedAt.Before(consumerAt) {
					t.Errorf("producer %s released at %v, not before consumer %s was published at %v", byKey[p], releasedAt, name, consumerAt)
				}
			}
		}
		return
	}
	t.Fatal("no outsystems_code_migration.wave in state")
}

// TestAccExamplePortalMigration runs a migration in the (sandbox's) ODC
// portal on the tenant profile, where no Migration Kit API answers, then
// applies examples/portal-migration: every asset is published producers
// first and every library released before its consumers are published; a
// second plan is empty, and destroy forgets what ODC cannot undo.
func TestAccExamplePortalMigration(t *testing.T) {
	t.Parallel()
	sb := newExampleSandboxWith(t, sandbox.Options{WithoutMigrationKit: true})
	f := sb.Fixture()
	req := codemigration.PortalRequest{Wait: true}
	for _, e := range f.LifeTime.Environments {
		if e.Name == "Development" {
			req.SourceEnvironmentKey = e.Key
		}
	}
	// The example's default var.assets.
	for name, typ := range map[string]string{"Acme Theme": "library", "Common Utils": "library", "Customer Core": "library",
		"Policy Core": "library", "Customer Portal": "app"} {
		i := slices.IndexFunc(f.LifeTime.Applications, func(a fixture.Application) bool { return a.Name == name })
		if i < 0 {
			t.Fatalf("no application %q in the fixture", name)
		}
		req.Assets = append(req.Assets, codemigration.PortalAsset{Name: name, Type: typ, ApplicationKeys: []string{f.LifeTime.Applications[i].Key}})
	}
	if _, err := sb.PortalMigrate(req); err != nil {
		t.Fatalf("portal migration: %v", err)
	}
	c := newCLIRun(t, "portal-migration", sb)
	c.run("apply", "-auto-approve", "-input=false", "-no-color")
	c.run("plan", "-detailed-exitcode", "-input=false", "-no-color")

	order, released := c.orderAndReleases()
	if len(order) != 5 || order[len(order)-1] != "Customer Portal" {
		t.Errorf("publish_order = %v", order)
	}
	for _, lib := range []string{"Acme Theme", "Common Utils", "Customer Core", "Policy Core"} {
		if released[lib] != "1.0.0" {
			t.Errorf("library %s released as %q, want 1.0.0 (all: %v)", lib, released[lib], released)
		}
	}

	// Producers first, read from the sandbox's own timestamps.
	stage := ""
	for _, s := range f.ODC.Stages {
		if s.Purpose == "Development" {
			stage = s.Key
		}
	}
	assets := portalExampleAssets(t, c)
	if len(assets) != 5 {
		t.Fatalf("the data source found %d assets, want 5", len(assets))
	}
	producerChecks := 0
	for name, a := range assets {
		consumerAt, ok := sb.PublishedAt(a.Key, stage)
		if !ok {
			t.Errorf("%s was not published", name)
			continue
		}
		for _, p := range a.Producers {
			if !p.InSet {
				t.Errorf("%s consumes %s, outside the example's assets", name, p.Name)
				continue
			}
			producerChecks++
			producerAt, ok := sb.PublishedAt(p.Key, stage)
			if !ok || !producerAt.Before(consumerAt) {
				t.Errorf("producer %s published at %v, not before consumer %s at %v", p.Name, producerAt, name, consumerAt)
			}
			if releasedAt, ok := sb.ReleasedAt(p.Key); p.AssetType == "library" && (!ok || !releasedAt.Before(consumerAt)) {
				t.Errorf("producer %s released at %v, not before consumer %s was published at %v", p.Name, releasedAt, name, consumerAt)
			}
		}
	}
	if producerChecks == 0 {
		t.Error("no asset has a producer among the example's assets: the order was not tested")
	}

	// Destroy forgets: ODC cannot unpublish, and the releases keep_on_destroy.
	c.run("destroy", "-auto-approve", "-input=false", "-no-color")
	if left := strings.TrimSpace(c.run("state", "list")); left != "" {
		t.Errorf("state after destroy:\n%s", left)
	}
	for name, a := range assets {
		if _, ok := sb.PublishedAt(a.Key, stage); !ok {
			t.Errorf("%s is no longer published after destroy; ODC cannot unpublish", name)
		}
		if _, ok := sb.ReleasedAt(a.Key); a.AssetType == "library" && !ok {
			t.Errorf("library %s lost its release on destroy, though keep_on_destroy is set", name)
		}
	}
}

type portalExampleAsset struct {
	Key       string `json:"key"`
	AssetType string `json:"asset_type"`
	Producers []struct {
		Key       string `json:"key"`
		Name      string `json:"name"`
		AssetType string `json:"asset_type"`
		InSet     bool   `json:"in_set"`
	} `json:"producers"`
}

// portalExampleAssets reads the assets of data.outsystems_odc_assets.migrated from the state.
func portalExampleAssets(t *testing.T, c *cliRun) map[string]portalExampleAsset {
	t.Helper()
	var doc struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string          `json:"address"`
					Values  json.RawMessage `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(c.run("show", "-json")), &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Values.RootModule.Resources {
		if r.Address != "data.outsystems_odc_assets.migrated" {
			continue
		}
		var v struct {
			Assets map[string]portalExampleAsset `json:"assets"`
		}
		if err := json.Unmarshal(r.Values, &v); err != nil {
			t.Fatal(err)
		}
		return v.Assets
	}
	t.Fatal("no data.outsystems_odc_assets.migrated in state")
	return nil
}
