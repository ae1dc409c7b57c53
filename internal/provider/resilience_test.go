package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// Crash and interrupt safety, tested the way they happen: a sandbox process
// killed with SIGKILL in the middle of a migration and restarted on the same
// database, and a terraform apply interrupted with SIGINT (Ctrl-C).

func buildSandbox(t *testing.T) string {
	return sandboxBinary.build(t, "outsystems-sandbox", "../../cmd/outsystems-sandbox")
}

// sandboxProcess is the sandbox run as its own process, as a user runs it.
type sandboxProcess struct {
	t       *testing.T
	args    []string
	cmd     *exec.Cmd
	exports []string
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func startSandboxProcess(t *testing.T, args ...string) *sandboxProcess {
	t.Helper()
	p := &sandboxProcess{t: t, args: args}
	p.start()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

func (p *sandboxProcess) start() {
	p.t.Helper()
	cmd := exec.Command(buildSandbox(p.t), p.args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.cmd = cmd
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var exports []string
	deadline := time.After(20 * time.Second)
	for len(exports) < 6 {
		select {
		case l, ok := <-lines:
			if !ok {
				p.t.Fatalf("the sandbox exited at start:\n%s", stderr.String())
			}
			exports = append(exports, l)
		case <-deadline:
			p.t.Fatalf("the sandbox printed no exports:\n%s", stderr.String())
		}
	}
	go func() {
		for range lines { //nolint:revive // drain
		}
	}()
	p.exports = exports
}

// kill ends the sandbox with SIGKILL: no shutdown, no flush.
func (p *sandboxProcess) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

func (p *sandboxProcess) env(name string) string {
	for _, l := range p.exports {
		if v, ok := strings.CutPrefix(l, "export "+name+"="); ok {
			return strings.Trim(v, "'")
		}
	}
	p.t.Fatalf("the sandbox exported no %s", name)
	return ""
}

// odc returns an ODC client of the sandbox process.
func (p *sandboxProcess) odc() *client.ODC {
	c, err := client.NewODC(client.Config{BaseURL: p.env("OUTSYSTEMS_ODC_PORTAL_URL"), MaxRetries: 2}, p.env("OUTSYSTEMS_ODC_CLIENT_ID"), p.env("OUTSYSTEMS_ODC_CLIENT_SECRET"))
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// migrationConfigFor is a small migration plan written for the CLI: two
// libraries mapped, tagged, migrated and published.
func migrationConfigFor(fx *fixture.Fixture, phase2 bool) string {
	key := func(name string) string {
		for _, a := range fx.LifeTime.Applications {
			if a.Name == name {
				return a.Key
			}
		}
		return ""
	}
	dev := ""
	for _, e := range fx.LifeTime.Environments {
		if e.Name == "Development" {
			dev = e.Key
		}
	}
	cfg := fmt.Sprintf(`
terraform {
  required_providers {
    outsystems = { source = "seed-1be1de96/outsystems" }
  }
}
provider "outsystems" {
  max_retries = 6
}
resource "outsystems_app_mapping" "utils" {
  name                 = "Common Utils"
  asset_type           = "library"
  o11_application_keys = [%[1]q]
}
resource "outsystems_app_mapping" "policy" {
  name                 = "Policy Core"
  asset_type           = "library"
  o11_application_keys = [%[2]q]
}
resource "outsystems_lifetime_tag" "utils" {
  environment_key = %[3]q
  application_key = %[1]q
  depends_on      = [outsystems_app_mapping.utils]
}
resource "outsystems_lifetime_tag" "policy" {
  environment_key = %[3]q
  application_key = %[2]q
  depends_on      = [outsystems_app_mapping.policy]
}
`, key("Common Utils"), key("Policy Core"), dev)
	if phase2 {
		cfg += fmt.Sprintf(`
resource "outsystems_code_migration" "wave" {
  source_environment_key = %q
  mapping_ids            = [outsystems_app_mapping.utils.id, outsystems_app_mapping.policy.id]
  depends_on             = [outsystems_lifetime_tag.utils, outsystems_lifetime_tag.policy]
}
data "outsystems_odc_stage" "dev" {
  purpose = "Development"
}
resource "outsystems_asset_publication" "utils" {
  asset_key = outsystems_code_migration.wave.assets["Common Utils"].asset_key
  revision  = outsystems_code_migration.wave.assets["Common Utils"].revision
  stage_key = data.outsystems_odc_stage.dev.key
}
resource "outsystems_asset_publication" "policy" {
  asset_key  = outsystems_code_migration.wave.assets["Policy Core"].asset_key
  revision   = outsystems_code_migration.wave.assets["Policy Core"].revision
  stage_key  = data.outsystems_odc_stage.dev.key
  depends_on = [outsystems_asset_publication.utils]
}
`, dev)
	}
	return cfg
}

// newCLIRunWithConfig is a CLI working directory holding one main.tf.
func newCLIRunWithConfig(t *testing.T, config string, exports []string) *cliRun {
	t.Helper()
	c := newCLIDir(t, exports)
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.write(config)
	return c
}

func (c *cliRun) write(config string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, "main.tf"), []byte(config), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// start runs terraform in the background.
func (c *cliRun) start(args ...string) (*exec.Cmd, *bytes.Buffer) {
	c.t.Helper()
	cmd := exec.Command(c.terraform, append([]string{"-chdir=" + c.dir}, args...)...)
	cmd.Env = c.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	return cmd, &out
}

// waitForMigration waits until the sandbox has a code migration.
func waitForMigration(t *testing.T, odc *client.ODC) client.CodeMigration {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		migrations, err := odc.ListCodeMigrations(ctx, "")
		cancel()
		if err == nil && len(migrations) > 0 {
			return migrations[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no code migration started")
	return client.CodeMigration{}
}

func countMigrations(t *testing.T, odc *client.ODC) []client.CodeMigration {
	t.Helper()
	migrations, err := odc.ListCodeMigrations(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return migrations
}

func TestAccCrash_sandboxKilledDuringMigration(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "sandbox.db")
	args := []string{"--listen", freeLoopbackAddr(t), "--db", db, "--quiet",
		"--assessment-delay", "300ms", "--migration-duration", "5s", "--publish-duration", "200ms"}
	sb := startSandboxProcess(t, args...)
	fx := fixture.Default()
	c := newCLIRunWithConfig(t, migrationConfigFor(fx, false), sb.exports)
	c.run("apply", "-auto-approve", "-input=false", "-no-color")
	c.write(migrationConfigFor(fx, true))

	apply, out := c.start("apply", "-auto-approve", "-input=false", "-no-color")
	started := waitForMigration(t, sb.odc())
	sb.kill() // mid-migration: the apply is polling it
	time.Sleep(time.Second)
	sb.start() // same port, same database
	if err := apply.Wait(); err != nil {
		t.Fatalf("the apply did not survive the sandbox crash: %v\n%s", err, out.String())
	}
	c.run("plan", "-detailed-exitcode", "-input=false", "-no-color")

	migrations := countMigrations(t, sb.odc())
	if len(migrations) != 1 || migrations[0].Key != started.Key || migrations[0].Status != client.CodeMigrationFinished {
		t.Fatalf("want the one migration %s, finished; the sandbox has %+v", started.Key, migrations)
	}
	for _, a := range migrations[0].Assets {
		ops, err := sb.odc().ListPublishOperations(context.Background(), a.AssetKey, "")
		if err != nil || len(ops) != 1 || !ops[0].Succeeded() {
			t.Errorf("%s: want exactly one successful publish, got %+v (%v)", a.Name, ops, err)
		}
	}
}

func TestAccInterrupt_applyInterruptedDuringMigration(t *testing.T) {
	t.Parallel()
	sb := newExampleSandboxWith(t, sandbox.Options{MigrationDuration: 6 * time.Second})
	odc := testODC(t, sb)
	c := newCLIRunWithConfig(t, migrationConfigFor(sb.Fixture(), false), sb.Exports())
	c.run("apply", "-auto-approve", "-input=false", "-no-color")
	c.write(migrationConfigFor(sb.Fixture(), true))

	apply, out := c.start("apply", "-auto-approve", "-input=false", "-no-color")
	started := waitForMigration(t, odc)
	time.Sleep(300 * time.Millisecond)
	if err := apply.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := apply.Wait(); err == nil {
		t.Fatalf("the interrupted apply succeeded:\n%s", out.String())
	}
	// The migration's id is in state, even though the create was interrupted.
	var state struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Address string         `json:"address"`
					Values  map[string]any `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal([]byte(c.run("show", "-json")), &state); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range state.Values.RootModule.Resources {
		if r.Address == "outsystems_code_migration.wave" {
			found = r.Values["id"] == started.Key
		}
	}
	if !found {
		t.Fatalf("the interrupted migration %s is not in state:\n%s", started.Key, out.String())
	}
	// The next apply converges on the same migration: no second one.
	c.run("apply", "-auto-approve", "-input=false", "-no-color")
	c.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	migrations := countMigrations(t, odc)
	if len(migrations) != 1 || migrations[0].Key != started.Key {
		t.Fatalf("want only migration %s, the sandbox has %d: %+v", started.Key, len(migrations), migrations)
	}
}

func newExampleSandboxWith(t *testing.T, opts sandbox.Options) *sandbox.Sandbox {
	t.Helper()
	opts.DBPath = filepath.Join(t.TempDir(), "sandbox.db")
	if opts.AssessmentDelay == 0 {
		opts.AssessmentDelay = testAssessmentDelay
	}
	if opts.MigrationDuration == 0 {
		opts.MigrationDuration = testMigrationDuration
	}
	if opts.PublishDuration == 0 {
		opts.PublishDuration = testPublishDuration
	}
	if opts.LifeTimeTagDelay == 0 {
		opts.LifeTimeTagDelay = testLifeTimeTagDelay
	}
	sb, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	return sb
}

func testODC(t *testing.T, sb *sandbox.Sandbox) *client.ODC {
	t.Helper()
	c := sb.Fixture().ODC.APIClients[0]
	odc, err := client.NewODC(client.Config{BaseURL: sb.URL(), MaxRetries: 2}, c.ClientID, c.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	return odc
}
