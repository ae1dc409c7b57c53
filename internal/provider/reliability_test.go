package provider

import (
	"bytes"
	"context"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// chaosSeed is the seed of the chaos test's faults: CHAOS_SEED when set (make
// chaos runs it with ten seeds), else a fixed one so make test repeats.
func chaosSeed(t *testing.T) int64 {
	if v := os.Getenv("CHAOS_SEED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q is not a number", v)
		}
		return n
	}
	return 20261127
}

// assertOneOfEverything checks the sandbox holds exactly one of every object
// the configuration makes: no duplicate tag, mapping, migration, publication
// or (when released) library release.
func assertOneOfEverything(t *testing.T, sb *sandbox.Sandbox, mappings int, apps []string, released bool) {
	t.Helper()
	ctx := context.Background()
	fx := sb.Fixture()
	token := ""
	for _, sa := range fx.LifeTime.ServiceAccounts {
		if sa.Role == fixture.RoleAdministrator {
			token = sa.Token
		}
	}
	lt, err := client.NewLifeTime(client.Config{BaseURL: sb.URL()}, token)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range apps {
		var app fixture.Application
		for _, a := range fx.LifeTime.Applications {
			if a.Name == name {
				app = a
			}
		}
		versions, err := lt.ListApplicationVersions(ctx, app.Key, 100)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(versions), len(app.Versions)+1; got != want {
			t.Errorf("%s has %d versions, want %d: exactly one new tag", name, got, want)
		}
	}
	as, err := client.NewAssessment(client.Config{BaseURL: sb.URL() + "/MigrationAssessment"}, token)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := as.ListMappings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != mappings {
		t.Errorf("the assessment tool has %d mappings, want %d", len(ms), mappings)
	}
	odc := testODC(t, sb)
	migrations := countMigrations(t, odc)
	if len(migrations) != 1 {
		t.Fatalf("the sandbox has %d code migrations, want 1", len(migrations))
	}
	for _, a := range migrations[0].Assets {
		ops, err := odc.ListPublishOperations(ctx, a.AssetKey, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(ops) != 1 || !ops[0].Succeeded() {
			t.Errorf("%s: %d publish operations, want exactly one that succeeded: %+v", a.Name, len(ops), ops)
		}
		if !released || a.AssetType != client.AssetTypeLibrary {
			continue
		}
		revs, err := odc.ListRevisions(ctx, a.AssetKey)
		if err != nil {
			t.Fatal(err)
		}
		tagged := 0
		for _, r := range revs {
			if r.Tag != "" {
				tagged++
			}
		}
		if tagged != 1 {
			t.Errorf("library %s has %d released revisions, want 1", a.Name, tagged)
		}
	}
}

var completeExampleApps = []string{"Acme Theme", "Common Utils", "Customer Core", "Policy Core", "Claims Core", "Notifications",
	"Customer Portal", "Broker Portal", "HR Self Service", "Claims Backoffice", "Agent Mobile"}

// TestAccChaos_completeExample applies examples/complete while the sandbox
// answers 20 % of requests 5xx, 10 % 429 with Retry-After, and delays every
// request by 0-300 ms.
func TestAccChaos_completeExample(t *testing.T) {
	t.Parallel()
	seed := chaosSeed(t)
	sb := newExampleSandboxWith(t, sandbox.Options{Chaos: sandbox.ChaosOptions{
		ErrorRate: 0.2, ThrottleRate: 0.1, LatencyMin: 0, LatencyMax: 300 * time.Millisecond, Seed: seed,
	}, RetryAfter: true}) // tests retries under chaos, not the wait without Retry-After
	// Every app changed since its last tag, so each gets exactly one new tag.
	markModifiedInDevelopment(t, sb, completeExampleApps...)
	c := newCLIRun(t, "complete", sb)
	c.env = append(c.env, "OUTSYSTEMS_MAX_RETRIES=12", "OUTSYSTEMS_ODC_REQUESTS_PER_MINUTE=0")
	c.run("apply", "-auto-approve", "-input=false", "-no-color")
	c.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	stats := sb.ChaosStats()
	if err := sb.SetChaos(sandbox.ChaosOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("chaos seed %d: %d requests, %d answered 5xx, %d answered 429", seed, stats.Requests, stats.Errors, stats.Throttled)
	if stats.Errors == 0 || stats.Throttled == 0 {
		t.Fatalf("the chaos did not happen: %+v", stats)
	}
	assertOneOfEverything(t, sb, 11, completeExampleApps, true)
}

// TestAccIdempotentCreates applies a migration plan while the sandbox
// carries out a third of the requests and then drops the connection without
// answering: every lost create must be found and adopted, never repeated.
func TestAccIdempotentCreates(t *testing.T) {
	t.Parallel()
	sb := newExampleSandboxWith(t, sandbox.Options{Chaos: sandbox.ChaosOptions{DropAfterRate: 0.33, Seed: chaosSeed(t)}})
	// Both apps changed since their last tag, so each gets exactly one new tag.
	markModifiedInDevelopment(t, sb, "Common Utils", "Policy Core")
	c := newCLIRunWithConfig(t, migrationConfigFor(sb.Fixture(), false), sb.Exports())
	c.env = append(c.env, "OUTSYSTEMS_MAX_RETRIES=12", "OUTSYSTEMS_ODC_REQUESTS_PER_MINUTE=0")
	c.run("apply", "-auto-approve", "-input=false", "-no-color")
	c.write(migrationConfigFor(sb.Fixture(), true))
	c.run("apply", "-auto-approve", "-input=false", "-no-color")
	c.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
	stats := sb.ChaosStats()
	if err := sb.SetChaos(sandbox.ChaosOptions{}); err != nil {
		t.Fatal(err)
	}
	if stats.DroppedAfter == 0 {
		t.Fatalf("no answer was dropped: %+v", stats)
	}
	t.Logf("%d of %d answers dropped after the request was carried out", stats.DroppedAfter, stats.Requests)
	assertOneOfEverything(t, sb, 2, []string{"Common Utils", "Policy Core"}, false)
}

// syncBuffer is a bytes.Buffer safe for the sandbox's concurrent logging.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestAccSecretsNeverLeak runs plan and apply over all three services with
// TF_LOG=TRACE and checks that no LifeTime token, ODC client secret or ODC
// access token appears in Terraform's log, output, state or errors, nor in
// the sandbox's log.
func TestAccSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	var sandboxLog syncBuffer
	sb := newExampleSandboxWith(t, sandbox.Options{Logger: log.New(&sandboxLog, "", 0)})
	c := newCLIRunWithConfig(t, migrationConfigFor(sb.Fixture(), false), sb.Exports())
	logPath := filepath.Join(t.TempDir(), "terraform.log")
	c.env = append(c.env, "TF_LOG=TRACE", "TF_LOG_PATH="+logPath, "OUTSYSTEMS_ODC_REQUESTS_PER_MINUTE=0")
	var output strings.Builder
	output.WriteString(c.run("apply", "-auto-approve", "-input=false", "-no-color"))
	c.write(migrationConfigFor(sb.Fixture(), true))
	output.WriteString(c.run("plan", "-input=false", "-no-color"))
	output.WriteString(c.run("apply", "-auto-approve", "-input=false", "-no-color"))

	// An error about credentials must not quote them either.
	wrong := newCLIRunWithConfig(t, migrationConfigFor(sb.Fixture(), true), append(sb.Exports(), "export OUTSYSTEMS_ODC_CLIENT_SECRET=wrong-secret-5d1f9a"))
	wrong.env = append(wrong.env, "TF_LOG=TRACE", "TF_LOG_PATH="+logPath+".wrong")
	errOut := wrong.runAll(1, "plan", "-input=false", "-no-color")
	if !strings.Contains(errOut, "invalid_client") && !strings.Contains(errOut, "401") {
		t.Errorf("a wrong client secret did not fail with the token endpoint's answer:\n%s", errOut)
	}

	secrets := map[string]string{"wrong client secret": "wrong-secret-5d1f9a"}
	for _, sa := range sb.Fixture().LifeTime.ServiceAccounts {
		secrets["LifeTime token of "+sa.Name] = sa.Token
	}
	for _, ac := range sb.Fixture().ODC.APIClients {
		secrets["client secret of "+ac.Name] = ac.ClientSecret
	}
	issued := sb.IssuedAccessTokens()
	if len(issued) == 0 {
		t.Fatal("the sandbox issued no ODC access token: ODC was not used")
	}
	for i, tok := range issued {
		secrets["ODC access token "+strconv.Itoa(i)] = tok
	}
	logs := map[string]string{"terraform output": output.String(), "terraform error output": errOut, "sandbox log": sandboxLog.String()}
	for _, f := range []string{logPath, logPath + ".wrong", filepath.Join(c.dir, "terraform.tfstate")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		logs[filepath.Base(f)] = string(b)
	}
	if !strings.Contains(logs["terraform.log"], "OutSystems API request") {
		t.Fatal("the provider's request log is not in the TRACE log: the test would prove nothing")
	}
	for where, text := range logs {
		for what, secret := range secrets {
			if secret != "" && strings.Contains(text, secret) {
				t.Errorf("the %s leaks the %s", where, what)
			}
		}
	}
}

// runAll runs terraform and returns stdout and stderr together.
func (c *cliRun) runAll(wantCode int, args ...string) string {
	c.t.Helper()
	cmd, out := c.start(args...)
	err := cmd.Wait()
	code := 0
	if err != nil {
		code = cmd.ProcessState.ExitCode()
	}
	if code != wantCode {
		c.t.Fatalf("terraform %s exited %d, want %d\n%s", strings.Join(args, " "), code, wantCode, out.String())
	}
	return out.String()
}
