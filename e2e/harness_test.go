// Package e2e drives user configurations (testdata/) through the terraform
// CLI against an in-process sandbox, the way a migration team works: plans
// saved and reviewed, applies, out-of-band changes, a second state reading
// the first, destroy. Every step asserts the plan's resource actions or the
// error's text, and what the sandbox holds afterwards.
//
// The CLI under test is TF_ACC_TERRAFORM_PATH (make test: the pinned 1.5.7);
// a scenario whose outcome may depend on the CLI also runs on
// /usr/local/bin/terraform, and on the repository's OpenTofu (bin/tofu),
// where they are present (onCLIs). Steps of one scenario share a sandbox and
// a working directory, each step's plan asserting every other address
// no-op, so it also shows the step before converged.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/provider"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
)

// Sandbox timings: short, but long enough that the provider really waits.
const (
	assessmentDelay   = 300 * time.Millisecond
	migrationDuration = 700 * time.Millisecond
	publishDuration   = 200 * time.Millisecond
	tagDelay          = 300 * time.Millisecond
	// pollInterval is how often the provider polls ODC operations here.
	pollInterval = "250ms"
)

// providerDir is the directory of the provider binary built from this
// module (what a dev_overrides entry names), built once by TestMain.
var providerDir string

func TestMain(m *testing.M) {
	code := func() int {
		if os.Getenv("TF_ACC") == "" || os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
			return m.Run() // every test skips, saying why
		}
		dir, err := os.MkdirTemp("", "outsystems-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer func() { _ = os.RemoveAll(dir) }()
		bin := filepath.Join(dir, "terraform-provider-outsystems")
		if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build of the provider: %v\n%s", err, out)
			return 1
		}
		providerDir = dir
		return m.Run()
	}()
	os.Exit(code)
}

// cli is a terraform-compatible CLI the scenarios run on.
type cli struct {
	name string // for subtest names: "pinned", "terraform-latest", "tofu"
	path string
}

func (c cli) tofu() bool { return strings.Contains(filepath.Base(c.path), "tofu") }

// cliSet says which CLIs a scenario runs on.
type cliSet int

const (
	// pinnedCLI is TF_ACC_TERRAFORM_PATH only.
	pinnedCLI cliSet = iota
	// terraformCLIs adds /usr/local/bin/terraform: for what depends on
	// Terraform's version.
	terraformCLIs
	// allCLIs adds OpenTofu (../bin/tofu, as make tofu builds it).
	allCLIs
)

// onCLIs runs scenario as a subtest on the pinned CLI (TF_ACC_TERRAFORM_PATH)
// and, as which says, on /usr/local/bin/terraform and on OpenTofu, each
// skipped with a message where the binary is absent. The subtests run in
// parallel.
func onCLIs(t *testing.T, which cliSet, scenario func(t *testing.T, c cli)) {
	t.Helper()
	pinned := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if os.Getenv("TF_ACC") == "" || pinned == "" {
		t.Skip("end-to-end test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make test does)")
	}
	clis := []cli{{name: "pinned", path: pinned}}
	if which >= terraformCLIs {
		clis = append(clis, cli{name: "terraform-latest", path: "/usr/local/bin/terraform"})
	}
	if which >= allCLIs {
		tofu, _ := filepath.Abs(filepath.Join("..", "bin", "tofu"))
		clis = append(clis, cli{name: "tofu", path: tofu})
	}
	for _, c := range clis {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(c.path); err != nil {
				t.Skipf("%s is not on this machine (%v): this scenario runs on the pinned Terraform only here", c.path, err)
			}
			if c.name != "pinned" && sameBinary(c.path, pinned) {
				t.Skipf("%s is the pinned CLI itself", c.path)
			}
			scenario(t, c)
		})
	}
}

func sameBinary(a, b string) bool {
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}

// world is one scenario's OutSystems: a sandbox with a fresh database on a
// random loopback port, and clients to read what it holds and to act as
// the people who change it outside Terraform: ODC, LifeTime and the
// assessment tool (the last two with the settings the provider gets).
type world struct {
	t   *testing.T
	sb  *sandbox.Sandbox
	url string
	odc *client.ODC
	lt  *client.LifeTime
	as  *client.Assessment
}

func newWorld(t *testing.T) *world {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{
		DBPath:            filepath.Join(t.TempDir(), "sandbox.db"),
		AssessmentDelay:   assessmentDelay,
		MigrationDuration: migrationDuration,
		PublishDuration:   publishDuration,
		LifeTimeTagDelay:  tagDelay,
	})
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	apiClient, ok := sb.Fixture().ODC.Client("migration-pipeline")
	if !ok {
		t.Fatal("no migration-pipeline API client in the fixture")
	}
	odc, err := client.NewODC(client.Config{BaseURL: url, MaxRetries: 0}, apiClient.ClientID, apiClient.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	exports := map[string]string{}
	for _, line := range sb.Exports() {
		k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		exports[k] = strings.Trim(v, "'")
	}
	lt, err := client.NewLifeTime(client.Config{BaseURL: exports[provider.EnvLifeTimeURL], MaxRetries: 0}, exports[provider.EnvLifeTimeToken])
	if err != nil {
		t.Fatal(err)
	}
	as, err := client.NewAssessment(client.Config{BaseURL: exports[provider.EnvAssessmentURL], MaxRetries: 0}, exports[provider.EnvLifeTimeToken])
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, sb: sb, url: url, odc: odc, lt: lt, as: as}
}

func (w *world) stageKey(name string) string {
	w.t.Helper()
	key, ok := w.sb.Fixture().ODC.StageKey(name)
	if !ok {
		w.t.Fatalf("no ODC stage %q in the fixture", name)
	}
	return key
}

// admin calls the sandbox's admin API (what people do in OutSystems outside
// the APIs the provider uses) and fails the test unless it answers 2xx.
func (w *world) admin(method, path string, body any) {
	w.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			w.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, w.url+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode/100 != 2 {
		var msg bytes.Buffer
		_, _ = msg.ReadFrom(resp.Body)
		w.t.Fatalf("%s %s: %s %s", method, path, resp.Status, msg.String())
	}
}

// unpublish removes an asset from a stage through the admin API, as
// resetting the stage in the ODC portal would.
func (w *world) unpublish(stage, assetKey string) {
	w.t.Helper()
	w.admin(http.MethodDelete, "/_sandbox/odc/stages/"+w.stageKey(stage)+"/assets/"+assetKey, nil)
}

// assetsNamed is every ODC asset of that name.
func (w *world) assetsNamed(name string) []client.Asset {
	w.t.Helper()
	assets, err := w.odc.FindAssets(context.Background(), name)
	if err != nil {
		w.t.Fatalf("finding ODC assets named %q: %v", name, err)
	}
	var out []client.Asset
	for _, a := range assets {
		if a.Name == name {
			out = append(out, a)
		}
	}
	return out
}

// oneAsset is the only ODC asset of that name, failing the test otherwise.
func (w *world) oneAsset(name string) client.Asset {
	w.t.Helper()
	got := w.assetsNamed(name)
	if len(got) != 1 {
		w.t.Fatalf("ODC holds %d assets named %q, want 1: %+v", len(got), name, got)
	}
	return got[0]
}

// published is when the asset was published in the stage; fails the test when it is not.
func (w *world) published(name, assetKey, stage string) time.Time {
	w.t.Helper()
	at, ok := w.sb.PublishedAt(assetKey, w.stageKey(stage))
	if !ok {
		w.t.Fatalf("%s (%s) is not published in %s", name, assetKey, stage)
	}
	return at
}

// released is when the library was released; fails the test when it was not.
func (w *world) released(name, assetKey string) time.Time {
	w.t.Helper()
	at, ok := w.sb.ReleasedAt(assetKey)
	if !ok {
		w.t.Fatalf("library %s (%s) was never released", name, assetKey)
	}
	return at
}

// before checks that producer was published in the Development stage (and,
// when a library, released) before consumer was published there.
func (w *world) before(producer, consumer client.Asset) {
	w.t.Helper()
	w.beforeIn("Development", producer, consumer)
}

// beforeIn checks that producer was published in the stage (and, when a
// library, released) before consumer was published there.
func (w *world) beforeIn(stage string, producer, consumer client.Asset) {
	w.t.Helper()
	consumerAt := w.published(consumer.Name, consumer.Key, stage)
	if at := w.published(producer.Name, producer.Key, stage); !at.Before(consumerAt) {
		w.t.Errorf("producer %s published in %s at %v, not before its consumer %s at %v", producer.Name, stage, at, consumer.Name, consumerAt)
	}
	if producer.AssetType == "LowCodeLibrary" {
		if at := w.released(producer.Name, producer.Key); !at.Before(consumerAt) {
			w.t.Errorf("producer %s released at %v, not before its consumer %s was published in %s at %v", producer.Name, at, consumer.Name, stage, consumerAt)
		}
	}
}

// workdir is a working directory with a configuration from testdata, the
// CLI, the provider of this module through dev_overrides and the sandbox's
// settings in the environment.
type workdir struct {
	t   *testing.T
	cli cli
	dir string
	env []string
}

func (w *world) workdir(c cli, config string) *workdir {
	w.t.Helper()
	home := w.t.TempDir()
	rc := filepath.Join(home, "terraformrc")
	address := provider.Address
	if c.tofu() {
		// OpenTofu resolves seed-1be1de96/outsystems in its own registry.
		address = strings.Replace(address, "registry.terraform.io", "registry.opentofu.org", 1)
	}
	if err := os.WriteFile(rc, fmt.Appendf(nil, "provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n", address, providerDir), 0o600); err != nil {
		w.t.Fatal(err)
	}
	dir := filepath.Join(home, "work")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", config))); err != nil {
		w.t.Fatal(err)
	}
	env := []string{"TF_CLI_CONFIG_FILE=" + rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "HOME=" + home, "PATH=" + os.Getenv("PATH"),
		provider.EnvODCPollInterval + "=" + pollInterval,
		// ODC's 10 deployment POSTs per minute is the pacing tests' concern.
		"OUTSYSTEMS_ODC_REQUESTS_PER_MINUTE=0"}
	for _, line := range w.sb.Exports() {
		k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		env = append(env, k+"="+strings.Trim(v, "'"))
	}
	return &workdir{t: w.t, cli: c, dir: dir, env: env}
}

// exec runs the CLI in the working directory.
func (d *workdir) exec(args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(d.cli.path, append([]string{"-chdir=" + d.dir}, args...)...)
	cmd.Env = d.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// run runs the CLI and returns its stdout, failing the test unless it exits 0.
func (d *workdir) run(args ...string) string {
	d.t.Helper()
	start := time.Now()
	out, errOut, err := d.exec(args...)
	d.t.Logf("%s %s: %v", filepath.Base(d.cli.path), strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	if err != nil {
		d.t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", d.cli.path, strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// fail runs the CLI, fails the test unless it exits non-zero, and returns
// its stdout and stderr together.
func (d *workdir) fail(args ...string) string {
	d.t.Helper()
	out, errOut, err := d.exec(args...)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		d.t.Fatalf("%s %s: %v, want a non-zero exit\nstdout:\n%s\nstderr:\n%s", d.cli.path, strings.Join(args, " "), err, out, errOut)
	}
	return out + errOut
}

// vars writes the working directory's terraform.tfvars.json: what a team
// edits in the configuration between two plans.
func (d *workdir) vars(v map[string]any) {
	d.t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		d.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.dir, "terraform.tfvars.json"), b, 0o600); err != nil {
		d.t.Fatal(err)
	}
}

// actions is a plan's resource actions by address: "create", "update",
// "delete", "replace" (delete and create, either order), "read", "no-op".
type actions map[string]string

// plan saves a plan to file (relative to the working directory) and returns
// its resource actions, read with show -json.
func (d *workdir) plan(file string, args ...string) actions {
	d.t.Helper()
	d.run(append([]string{"plan", "-input=false", "-no-color", "-out=" + file}, args...)...)
	return d.showPlan(file)
}

// planSays is plan, also returning what the plan printed (its warnings).
func (d *workdir) planSays(file string, args ...string) (actions, string) {
	d.t.Helper()
	out := d.run(append([]string{"plan", "-input=false", "-no-color", "-out=" + file}, args...)...)
	return d.showPlan(file), out
}

func (d *workdir) showPlan(file string) actions {
	d.t.Helper()
	var doc struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				Actions []string `json:"actions"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(d.run("show", "-json", "-no-color", file)), &doc); err != nil {
		d.t.Fatal(err)
	}
	got := actions{}
	for _, rc := range doc.ResourceChanges {
		a := strings.Join(rc.Change.Actions, ",")
		switch a {
		case "delete,create", "create,delete":
			a = "replace"
		}
		got[rc.Address] = a
	}
	return got
}

// expect checks a plan's actions: every address of want has its action,
// and every other address is a no-op (or a data source read).
func (a actions) expect(t *testing.T, step string, want actions) {
	t.Helper()
	var bad []string
	for addr, action := range want {
		if a[addr] != action {
			bad = append(bad, fmt.Sprintf("%s: %q, want %q", addr, a[addr], action))
		}
	}
	for addr, action := range a {
		if _, ok := want[addr]; !ok && action != "no-op" && action != "read" {
			bad = append(bad, fmt.Sprintf("%s: %q, want no-op", addr, action))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		t.Errorf("%s: the plan's actions differ:\n  %s\nwhole plan: %v", step, strings.Join(bad, "\n  "), a)
	}
}

// noChanges checks that a fresh plan has nothing to do (exit code 0 of -detailed-exitcode).
func (d *workdir) noChanges(step string) {
	d.t.Helper()
	out, errOut, err := d.exec("plan", "-detailed-exitcode", "-input=false", "-no-color")
	if err != nil {
		d.t.Fatalf("%s: plan -detailed-exitcode: %v (want exit 0, no changes)\nstdout:\n%s\nstderr:\n%s", step, err, out, errOut)
	}
}

// resource is the attribute values the state holds for the resource at
// addr (a root module address), read with show -json.
func (d *workdir) resource(addr string) map[string]any {
	d.t.Helper()
	var doc struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string         `json:"address"`
					Values  map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(d.run("show", "-json", "-no-color")), &doc); err != nil {
		d.t.Fatal(err)
	}
	for _, r := range doc.Values.RootModule.Resources {
		if r.Address == addr {
			return r.Values
		}
	}
	d.t.Fatalf("%s is not in the state", addr)
	return nil
}

// state is the addresses in the working directory's state, one a line
// (an address's for_each key may hold spaces).
func (d *workdir) state() []string {
	d.t.Helper()
	var addrs []string
	for line := range strings.Lines(d.run("state", "list")) {
		if line = strings.TrimSpace(line); line != "" {
			addrs = append(addrs, line)
		}
	}
	return addrs
}

// outputs is the root module's outputs, decoded into v.
func (d *workdir) output(name string, v any) {
	d.t.Helper()
	if err := json.Unmarshal([]byte(d.run("output", "-json", name)), v); err != nil {
		d.t.Fatalf("output %s: %v", name, err)
	}
}

// matches checks that text holds the words in order, across line breaks
// and the box characters Terraform wraps diagnostics in.
func matches(t *testing.T, step, text string, words ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(strings.NewReplacer("│", " ", "╷", " ", "╵", " ").Replace(text)), " ")
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = regexp.QuoteMeta(strings.Join(strings.Fields(w), " "))
	}
	if !regexp.MustCompile(strings.Join(parts, ".*")).MatchString(flat) {
		t.Errorf("%s: the output does not say %q in that order:\n%s", step, words, text)
	}
}
