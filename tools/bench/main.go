// Command bench measures the OutSystems provider against its performance
// floors (make bench; make bench BENCH=quick):
//
//   - P1 refresh cost: terraform plan over N managed resources of ours
//     against the sandbox, versus N no-op resources of a minimal
//     terraform-plugin-framework provider (tools/bench/noop), N no-op
//     resources with our own schemas (tools/bench/shapedprovider) and N
//     terraform_data, alternating runs, median; -n 100,500,1000 runs it at
//     several sizes and prints the ratios per size;
//   - P2 requests: HTTP requests per managed resource and per data source
//     during a refresh, and ODC token requests per run;
//   - P3 paced apply: library releases against a rate-limited sandbox, wall
//     time versus requests / rate, and the 429s the sandbox sent;
//   - P4 completion latency: code migrations of several lengths, time from
//     the migration's end to terraform apply returning, and the polls;
//   - start-up (schema load), binary size and peak RSS of the provider.
//
// It prints a table and writes it, with every sample, as JSON under .bench/.
// Everything runs on loopback: the sandbox listens on 127.0.0.1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// modeConfig is what a mode measures, and how much.
type modeConfig struct {
	Name string `json:"name"`
	// Resources is N of P1: managed resources in the refresh benchmark.
	Resources int `json:"resources"`
	// Runs is how many timed plans of each kind P1 makes (median).
	Runs int `json:"runs"`
	// DataSourceApps is how many outsystems_lifetime_application data
	// sources P2's data-source plan reads (besides one of each other type).
	DataSourceApps int `json:"dataSourceApps"`
	// PacedRate is P3's rate limit (requests per minute), on the sandbox
	// and in the provider; PacedReleases is how many libraries it releases.
	PacedRate     int `json:"pacedRatePerMinute"`
	PacedReleases int `json:"pacedReleases"`
	// Lengths are P4's code migration durations.
	Lengths []time.Duration `json:"-"`
	// NoRefreshRuns is how many diagnostic plans -refresh=false of ours and
	// of the no-op provider P1 adds (0: none).
	NoRefreshRuns int `json:"noRefreshRuns"`
	// LogsOffRuns is how many diagnostic plans of ours and of the no-op
	// provider with the SDK loggers off P1 adds; TypeRuns how many plans of
	// each resource type alone (0: none).
	LogsOffRuns int `json:"logsOffRuns"`
	TypeRuns    int `json:"typeRuns"`
	// LongMigration runs a 10-minute code migration in the background on a
	// sandbox of its own, from the setup on, for P4's polls target.
	LongMigration bool `json:"longMigration"`
	// Profile adds a CPU-profiled plan of P1 (-profile).
	Profile bool `json:"profile"`
	// Sizes are P1's sizes when -n lists several: P1 (and its diagnostics)
	// runs at each; the other measurements at the last. P1Only skips them.
	Sizes  []int `json:"sizes,omitempty"`
	P1Only bool  `json:"p1Only,omitempty"`
	// StartupRuns is how many schema loads of each provider are timed.
	StartupRuns int `json:"startupRuns"`
}

func (m modeConfig) MarshalJSON() ([]byte, error) {
	type plain modeConfig
	lengths := make([]string, len(m.Lengths))
	for i, l := range m.Lengths {
		lengths[i] = l.String()
	}
	return json.Marshal(struct {
		plain
		Lengths []string `json:"migrationLengths"`
	}{plain(m), lengths})
}

var modes = map[string]modeConfig{
	// quick: under 3 minutes on a small machine. P3's N is set so that its
	// requests overflow the one-minute window, which is what pacing is for.
	"quick": {Name: "quick", Resources: 100, Runs: 5, DataSourceApps: 5, PacedRate: 600, PacedReleases: 60,
		Lengths: []time.Duration{2 * time.Second, 8 * time.Second}, StartupRuns: 5, NoRefreshRuns: 3, LogsOffRuns: 3, TypeRuns: 1},
	"full": {Name: "full", Resources: 500, Runs: 7, DataSourceApps: 10, PacedRate: 100, PacedReleases: 25,
		Lengths: []time.Duration{5 * time.Second, 30 * time.Second, 120 * time.Second}, StartupRuns: 7, NoRefreshRuns: 3, LogsOffRuns: 3, TypeRuns: 3, LongMigration: true},
}

func main() {
	os.Exit(realMain())
}

func realMain() int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	modeName := fs.String("mode", envOr("BENCH", "full"), "quick or full (default $BENCH, else full)")
	tfBin := fs.String("terraform", "bin/terraform", "the pinned terraform binary (make tools builds it)")
	out := fs.String("out", ".bench", "directory for results and work files (git-ignored)")
	n := fs.String("n", "", "P1: managed resources (default: the mode's); a comma-separated list (e.g. 100,500,1000) runs P1 at each size and prints the ratios per size")
	p1Only := fs.Bool("p1-only", false, "measure P1 (and its diagnostics) only: no P2, start-up, P3 or P4")
	runs := fs.Int("runs", 0, "P1: timed runs of each kind (default: the mode's; at least 5 for a median)")
	pacedRate := fs.Int("paced-rate", 0, "P3: requests per minute (default: the mode's)")
	pacedReleases := fs.Int("paced-releases", 0, "P3: libraries released (default: the mode's)")
	lengths := fs.String("lengths", "", "P4: comma-separated code migration lengths, e.g. 5s,30s,2m (default: the mode's)")
	profile := fs.Bool("profile", false, "after P1, plan P1 once more with a CPU-profiled build of the provider (tools/bench/pprofprovider) and write the profiles and a top list under the work directory")
	long := fs.Bool("long", false, "P4: run the 10-minute code migration (in the background) in quick mode too; full mode always does")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	mode, ok := modes[*modeName]
	if !ok {
		fmt.Fprintf(os.Stderr, "bench: unknown mode %q (quick or full)\n", *modeName)
		return 2
	}
	if *n != "" {
		for _, s := range strings.Split(*n, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || v < 9 {
				fmt.Fprintf(os.Stderr, "bench: bad -n entry %q (at least 9)\n", s)
				return 2
			}
			mode.Sizes = append(mode.Sizes, v)
		}
		mode.Resources = mode.Sizes[len(mode.Sizes)-1]
		if len(mode.Sizes) == 1 {
			mode.Sizes = nil
		}
	}
	mode.P1Only = *p1Only
	if *runs > 0 {
		mode.Runs = *runs
	}
	if *pacedRate > 0 {
		mode.PacedRate = *pacedRate
	}
	if *pacedReleases > 0 {
		mode.PacedReleases = *pacedReleases
	}
	if *lengths != "" {
		mode.Lengths = nil
		for _, s := range strings.Split(*lengths, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil || d <= 0 {
				fmt.Fprintf(os.Stderr, "bench: bad -lengths entry %q\n", s)
				return 2
			}
			mode.Lengths = append(mode.Lengths, d)
		}
	}
	if *long {
		mode.LongMigration = true
	}
	mode.Profile = *profile
	if mode.Resources < 9 {
		fmt.Fprintln(os.Stderr, "bench: -n must be at least 9")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := newBench(mode, *tfBin, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	runErr := b.run(ctx)
	b.close()
	if runErr != nil {
		b.res.Error = runErr.Error()
	}
	b.report(os.Stdout)
	if err := b.writeResults(); err != nil {
		fmt.Fprintln(os.Stderr, "bench: writing results:", err)
	}
	if runErr != nil {
		fmt.Fprintln(os.Stderr, "bench:", runErr)
		return 1
	}
	return 0
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// bench holds one benchmark run: its paths, binaries, sandbox and results.
type bench struct {
	mode    modeConfig
	root    string // the repository
	out     string // .bench
	work    string // .bench/work-<mode>: workspaces, database, logs
	binDir  string // .bench/bin: provider binaries (the dev_overrides directory) and the sandbox
	tfBin   string
	started time.Time

	provider, noop, shaped, sandboxBin string
	fixture, db                        string
	tf                                 *terraform
	apps                               appGroups
	sb                                 *sandboxProc
	sbRuns                             int
	long                               *longRun
	auxToo                             bool // set up P3's and P4's groups (the last size, unless -p1-only)
	progress                           io.Writer

	res *results
}

func newBench(mode modeConfig, tfBin, out string) (*bench, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(tfBin) {
		tfBin = filepath.Join(root, tfBin)
	}
	if _, err := os.Stat(tfBin); err != nil {
		return nil, fmt.Errorf("no terraform at %s: run `make tools` first (make bench does)", tfBin)
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	b := &bench{mode: mode, root: root, out: out, work: filepath.Join(out, "work-"+mode.Name), binDir: filepath.Join(out, "bin"),
		tfBin: tfBin, started: time.Now(), progress: os.Stderr}
	b.res = &results{Mode: mode, Started: b.started.UTC().Format(time.RFC3339)}
	b.res.P1.ChangesPlanned = map[string]int{}
	return b, nil
}

// repoRoot finds the module root from the working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/seed-1be1de96/terraform-provider-outsystems\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the benchmark from the provider's repository (go run ./tools/bench)")
		}
		dir = parent
	}
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.progress, "[%6.1fs] %s\n", time.Since(b.started).Seconds(), fmt.Sprintf(format, args...))
}

func (b *bench) close() {
	if b.long != nil {
		b.long.cancel()
		<-b.long.done
		b.long.sb.stop()
	}
	if b.sb != nil {
		b.sb.stop()
		b.sb = nil
	}
}

func (b *bench) run(ctx context.Context) error {
	b.res.Machine = machineInfo(b.tfBin)
	type step struct {
		name string
		fn   func(context.Context) error
	}
	steps := []step{{"build", b.build}}
	sizes := b.mode.Sizes
	if len(sizes) == 0 {
		sizes = []int{b.mode.Resources}
	}
	for i, n := range sizes {
		sfx, lastSize := "", i == len(sizes)-1
		if len(b.mode.Sizes) > 0 {
			sfx = fmt.Sprintf(" (N = %d)", n)
		}
		setup := func(ctx context.Context) error {
			if err := b.setSize(n, lastSize); err != nil {
				return err
			}
			return b.setup(ctx)
		}
		steps = append(steps, step{"setup" + sfx, setup}, step{"P1 refresh cost" + sfx, b.p1}, step{"P1 diagnostics" + sfx, b.p1Diagnostics})
		if lastSize {
			steps = append(steps, step{"P1 profile", b.p1Profile})
		}
		if len(b.mode.Sizes) > 0 {
			steps = append(steps, step{"", func(context.Context) error { b.keepSize(); return nil }})
		}
	}
	if !b.mode.P1Only {
		steps = append(steps, step{"P2 requests", b.p2}, step{"start-up", b.startup}, step{"P3 paced apply", b.p3}, step{"P4 completion latency", b.p4})
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := time.Now()
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if s.name == "" {
			continue
		}
		b.res.StepSeconds = append(b.res.StepSeconds, stepTime{s.name, round(time.Since(t).Seconds(), 1)})
	}
	b.res.TotalSeconds = round(time.Since(b.started).Seconds(), 1)
	return nil
}

// build compiles the provider, the no-op provider and the sandbox.
func (b *bench) build(ctx context.Context) error {
	if err := os.RemoveAll(b.work); err != nil {
		return err
	}
	for _, d := range []string{b.work, b.binDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	b.provider = filepath.Join(b.binDir, "terraform-provider-outsystems")
	b.noop = filepath.Join(b.binDir, "terraform-provider-noop")
	b.shaped = filepath.Join(b.binDir, "shaped", "terraform-provider-outsystems")
	b.sandboxBin = filepath.Join(b.binDir, "outsystems-sandbox")
	for _, t := range []struct{ out, pkg string }{{b.provider, "."}, {b.noop, "./tools/bench/noop"}, {b.shaped, "./tools/bench/shapedprovider"},
		{b.sandboxBin, "./cmd/outsystems-sandbox"}} {
		b.logf("go build -o %s %s", rel(b.root, t.out), t.pkg)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", t.out, t.pkg)
		cmd.Dir = b.root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", t.pkg, err, out)
		}
	}
	var err error
	b.tf, err = newTerraform(b.tfBin, b.work, b.binDir)
	return err
}

// setSize points the run at P1's size n: its own work directory per size
// when -n lists several, so each size has its own fixture, sandbox and
// state. The P3 and P4 groups are set up at the last size only.
func (b *bench) setSize(n int, last bool) error {
	b.mode.Resources = n
	b.res.P1 = p1Result{ChangesPlanned: map[string]int{}}
	b.auxToo = last && !b.mode.P1Only
	if len(b.mode.Sizes) == 0 {
		return nil
	}
	b.work = filepath.Join(b.out, fmt.Sprintf("work-%s-n%d", b.mode.Name, n))
	if err := os.RemoveAll(b.work); err != nil {
		return err
	}
	if err := os.MkdirAll(b.work, 0o755); err != nil {
		return err
	}
	var err error
	b.tf, err = newTerraform(b.tfBin, b.work, b.binDir)
	return err
}

// keepSize files the P1 figures of the size just measured.
func (b *bench) keepSize() {
	b.res.Sizes = append(b.res.Sizes, sizeResult{Resources: b.mode.Resources, P1: b.res.P1})
}

func rel(base, p string) string {
	if r, err := filepath.Rel(base, p); err == nil {
		return r
	}
	return p
}

// Sandbox timings of the unpaced setup: tiny, so setting up hundreds of
// resources takes seconds.
var setupTimings = []string{"--assessment-delay", "50ms", "--migration-duration", "500ms", "--publish-duration", "50ms"}

// restartSandbox (re)starts the sandbox on the benchmark's database.
func (b *bench) restartSandbox(ctx context.Context, args ...string) error {
	if b.sb != nil {
		b.sb.stop()
		b.sb = nil
	}
	b.sbRuns++
	all := append([]string{"--db", b.db, "--fixture", b.fixture}, args...)
	sb, err := startSandbox(ctx, b.sandboxBin, filepath.Join(b.work, fmt.Sprintf("sandbox-%d.log", b.sbRuns)), all...)
	if err != nil {
		return err
	}
	b.sb = sb
	return nil
}
