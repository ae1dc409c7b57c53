package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
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

// promoteRenewalsKey is an app seeded beside the migrated ones for
// TestAccExamplePromote: it consumes Customer Portal (an app), so the
// promotion has a producer to deploy first. No app of the fixture's wave
// consumes another app.
const promoteRenewalsKey = "7d1f3b2a-4c5e-4f60-8a71-92b3c4d5e6f7"

// promoteApps is examples/promote's default var.apps plus the seeded consumer.
const promoteApps = `apps = ["Customer Portal", "Broker Portal", "HR Self Service", "Agent Mobile", "Policy Renewals"]` + "\n"

// TestAccExamplePromote applies examples/complete, then examples/promote in
// a second working directory and state on the same sandbox, on the pinned
// CLI: QA holds every app at its migrated revision, the producer deployed
// before its consumer and no library; the configured values are applied in
// QA, none pending; the stage's defaults are set; a second plan is empty.
// Adding Claims Backoffice (2 critical findings) fails the plan with the
// gate's message. Destroy leaves the apps deployed with their values and
// resets the stage's defaults.
func TestAccExamplePromote(t *testing.T) {
	t.Parallel()
	sb := newExampleSandboxWith(t, sandbox.Options{CodeAnalysisDuration: 300 * time.Millisecond, DeploymentDuration: 300 * time.Millisecond})
	migrate := newCLIRun(t, "complete", sb)
	// ODC's 10 deployment POSTs per minute would hold the 11th publish a
	// minute; the pacing has its own tests.
	migrate.env = append(migrate.env, "OUTSYSTEMS_ODC_REQUESTS_PER_MINUTE=0")
	migrate.run("apply", "-auto-approve", "-input=false", "-no-color")

	ctx := context.Background()
	odcClient := testODC(t, sb)
	assets, err := odcClient.ListAssets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keys, names := map[string]string{}, map[string]string{}
	for _, a := range assets {
		keys[a.Name], names[a.Key] = a.Key, a.Name
	}
	if err := sb.SeedODCAsset(odc.MigratedAsset{Key: promoteRenewalsKey, Name: "Policy Renewals", AssetType: client.AssetTypeWebApplication,
		Producers: []string{keys["Customer Portal"], keys["Customer Core"]}}); err != nil {
		t.Fatal(err)
	}

	promote := newCLIRun(t, "promote", sb)
	promote.env = append(promote.env, "OUTSYSTEMS_ODC_REQUESTS_PER_MINUTE=0")
	if err := os.WriteFile(filepath.Join(promote.dir, "terraform.tfvars"), []byte(promoteApps), 0o600); err != nil {
		t.Fatal(err)
	}
	promote.run("apply", "-auto-approve", "-input=false", "-no-color")
	promote.planIsEmpty("examples/promote after its apply")

	qa, ok := sb.Fixture().ODC.StageKey("QA")
	if !ok {
		t.Fatal("no QA stage in the fixture")
	}
	wantApps := map[string]bool{"Customer Portal": true, "Broker Portal": true, "HR Self Service": true, "Agent Mobile": true, "Policy Renewals": true}
	deployedAt := checkPromotedToQA(t, odcClient, qa, names, wantApps)
	if cp, pr := deployedAt["Customer Portal"], deployedAt["Policy Renewals"]; !cp.Before(pr) {
		t.Errorf("producer Customer Portal deployed in QA at %v, not before its consumer Policy Renewals at %v", cp, pr)
	}
	var deployed map[string]string
	if err := json.Unmarshal(promote.outputs()["deployed"], &deployed); err != nil {
		t.Fatal(err)
	}
	if deployed["Customer Portal"] != "revision 1, wave 1" || deployed["Policy Renewals"] != "revision 1, wave 2" || len(deployed) != 5 {
		t.Errorf("output deployed = %v", deployed)
	}

	wantConfig := map[string]map[string]string{
		"Customer Portal": {"setting SessionTimeoutMinutes": "30", "setting SupportEmail": "support-qa@acme.example",
			"timer SendRenewalReminders": "false", "integration PaymentGateway": "https://payments.qa.acme.example/api/v2"},
		"HR Self Service": {"setting WelcomeText": "HR Self Service (QA)", "timer SyncEmployees": "true",
			"integration PayrollService": "https://payroll.qa.acme.example/api"},
	}
	checkQAConfiguration(t, odcClient, qa, keys, wantConfig)
	for name, want := range map[string]string{"SMTPServer": "smtp.qa.acme.example", "EmailSenderAddress": "no-reply-qa@acme.example"} {
		if v, _, set, err := sb.SystemConfigValue(ctx, qa, name); err != nil || !set || v != want {
			t.Errorf("QA's %s = %q (set %v, %v), want %q", name, v, set, err, want)
		}
	}

	// The gate: Claims Backoffice's migrated revision has 2 critical findings.
	gated := strings.Replace(promoteApps, `"Agent Mobile"`, `"Agent Mobile", "Claims Backoffice"`, 1)
	if err := os.WriteFile(filepath.Join(promote.dir, "terraform.tfvars"), []byte(gated), 0o600); err != nil {
		t.Fatal(err)
	}
	out := promote.runAll(1, "plan", "-input=false", "-no-color")
	for _, want := range []string{"Resource postcondition failed", "Claims Backoffice revision 1 has 2 critical code-quality findings"} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan with Claims Backoffice does not say %q:\n%s", want, out)
		}
	}
	if err := os.WriteFile(filepath.Join(promote.dir, "terraform.tfvars"), []byte(promoteApps), 0o600); err != nil {
		t.Fatal(err)
	}

	// Destroy forgets the deployments and configurations (the apps stay in
	// QA with their values) and resets the stage's defaults it set.
	promote.run("destroy", "-auto-approve", "-input=false", "-no-color")
	if left := strings.TrimSpace(promote.run("state", "list")); left != "" {
		t.Errorf("state after destroy:\n%s", left)
	}
	checkPromotedToQA(t, odcClient, qa, names, wantApps)
	checkQAConfiguration(t, odcClient, qa, keys, wantConfig)
	for _, name := range []string{"SMTPServer", "SMTPPort", "SMTPUsername", "EmailSenderAddress"} {
		if v, _, set, err := sb.SystemConfigValue(ctx, qa, name); err != nil || set {
			t.Errorf("QA's %s is still %q after destroy (%v); want the stage's default", name, v, err)
		}
	}
}

// checkPromotedToQA: the stage holds exactly the wanted apps, each at its
// latest revision, and no library; it returns when each was deployed.
func checkPromotedToQA(t *testing.T, c *client.ODC, stage string, names map[string]string, want map[string]bool) map[string]time.Time {
	t.Helper()
	deployed, err := c.DeployedAssets(context.Background(), stage)
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]time.Time{}
	for _, d := range deployed {
		name := names[d.AssetKey]
		if d.AssetKey == promoteRenewalsKey {
			name = "Policy Renewals"
		}
		if !want[name] {
			t.Errorf("QA holds %s (%s, revision %d), which the promotion does not deploy", name, d.AssetType, d.Revision)
			continue
		}
		if d.Revision != 1 {
			t.Errorf("QA holds %s at revision %d, want the migrated revision 1", name, d.Revision)
		}
		if at[name], err = time.Parse(time.RFC3339Nano, d.DeployedAt); err != nil {
			t.Errorf("%s deployedAt %q: %v", name, d.DeployedAt, err)
		}
	}
	for name := range want {
		if _, ok := at[name]; !ok {
			t.Errorf("%s is not deployed in QA", name)
		}
	}
	return at
}

// checkQAConfiguration: each app's named values ("setting X", "timer X",
// "integration X") in the stage are the wanted ones, applied (not pending).
func checkQAConfiguration(t *testing.T, c *client.ODC, stage string, keys map[string]string, want map[string]map[string]string) {
	t.Helper()
	for app, values := range want {
		cfg, err := c.AppConfiguration(context.Background(), stage, keys[app], 0)
		if err != nil {
			t.Fatalf("configuration of %s in QA: %v", app, err)
		}
		got := map[string]client.ConfigValue{}
		for _, s := range cfg.Settings {
			got["setting "+s.Name] = s
		}
		for _, tm := range cfg.Timers {
			if v, ok := tm.Config(client.TimerConfigIsActive); ok {
				got["timer "+tm.Name] = v
			}
		}
		for _, in := range cfg.Integrations {
			if v, ok := in.Config(client.IntegrationConfigBaseURL); ok {
				got["integration "+in.Name] = v
			}
		}
		for name, w := range values {
			v, ok := got[name]
			switch {
			case !ok:
				t.Errorf("%s has no %s in QA", app, name)
			case v.Value == nil || !strings.EqualFold(*v.Value, w):
				t.Errorf("%s's %s in QA = %s, want %q", app, name, ptrString(v.Value), w)
			case v.Pending():
				t.Errorf("%s's %s in QA is pending (value %q, deployed %s): the promotion did not apply it", app, name, *v.Value, ptrString(v.DeployedValue))
			}
		}
	}
}

// ptrString quotes a value ODC may leave out, or says it is absent.
func ptrString(v *string) string {
	if v == nil {
		return "(none)"
	}
	return strconv.Quote(*v)
}
