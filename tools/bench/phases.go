package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Timeouts of single terraform runs.
const (
	setupTimeout = 15 * time.Minute
	planTimeout  = 10 * time.Minute
)

// p1Shape is how P1's N managed resources split: A apps, a fifth of them
// web apps, give A mappings, A tags, one code migration, A publications and
// N-1-3A releases (libraries only).
func p1Shape(n int) (apps, web, released int) {
	for apps = 1; ; apps++ {
		web = apps / 5
		released = n - 1 - 3*apps
		if released >= 0 && released <= apps-web {
			return apps, web, released
		}
	}
}

// setup writes the fixture, starts the sandbox with tiny durations and
// creates, unpaced, everything the measurements need, in parallel: P1's
// resources, P3's published libraries and P4's tagged mappings, N no-op
// resources and N terraform_data.
func (b *bench) setup(ctx context.Context) error {
	nApps, web, released := p1Shape(b.mode.Resources)
	b.apps = appGroups{
		P1:     makeApps("p1", "Bench", nApps, web),
		Paced:  makeApps("p3", "Paced Lib", b.mode.PacedReleases, 0),
		Timing: makeApps("p4", "Timed Lib", max(1, len(b.mode.Lengths)), 0),
	}
	b.fixture = filepath.Join(b.work, "fixture.json")
	b.db = filepath.Join(b.work, "sandbox.db")
	if err := writeFixture(b.fixture, b.apps); err != nil {
		return err
	}
	b.res.P1.Mix = map[string]int{
		"outsystems_app_mapping": nApps, "outsystems_lifetime_tag": nApps, "outsystems_code_migration": 1,
		"outsystems_asset_publication": nApps, "outsystems_library_release": released,
	}
	b.res.P1.WebApps = web
	b.logf("fixture: %d O11 apps (%d for P1, %d of them web apps; %d for P3, %d for P4)", nApps+len(b.apps.Paced)+len(b.apps.Timing),
		nApps, web, len(b.apps.Paced), len(b.apps.Timing))
	if b.mode.LongMigration && b.auxToo && b.long == nil {
		if err := b.startLongMigration(ctx); err != nil {
			return err
		}
	}
	if err := b.restartSandbox(ctx, setupTimings...); err != nil {
		return err
	}
	type job struct {
		name, config string
	}
	jobs := []job{
		{"p1", p1Config(b.apps.P1, released)},
		{"noop", floorConfig("noop_thing", b.apps.P1, released)},
		{"tfdata", floorConfig("terraform_data", b.apps.P1, released)},
	}
	if b.auxToo {
		jobs = append(jobs, job{"aux", auxConfig(b.apps)})
	}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		ws, err := b.tf.workspace(b.work, j.name, j.config)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			_, err := ws.run(ctx, setupTimeout, b.sb.env(), nil, "apply", "-auto-approve", "-input=false", "-no-color")
			if err != nil {
				errs[i] = fmt.Errorf("setup apply of %s: %w", j.name, err)
				return
			}
			b.logf("setup: applied %s in %.1fs", j.name, time.Since(t).Seconds())
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Check P1's state holds exactly the mix.
	st, err := (&workspace{tf: b.tf, dir: filepath.Join(b.work, "p1"), name: "p1"}).stateResources()
	if err != nil {
		return err
	}
	total := 0
	for typ, want := range b.res.P1.Mix {
		if got := len(st[typ]); got != want {
			return fmt.Errorf("P1 state has %d %s, want %d", got, typ, want)
		}
		total += want
	}
	if total != b.mode.Resources {
		return fmt.Errorf("P1 has %d resources, want %d", total, b.mode.Resources)
	}
	// The same-schema floor: P1's configuration and state on
	// tools/bench/shapedprovider (our schemas, no code of ours). Its
	// resources are P1's own, so nothing is applied.
	ws, err := b.tf.workspace(b.work, "shaped", shaped(p1Config(b.apps.P1, released)))
	if err != nil {
		return err
	}
	return writeShapedState(filepath.Join(b.work, "p1", "terraform.tfstate"), ws.dir)
}

func (b *bench) ws(name string) *workspace {
	return &workspace{tf: b.tf, dir: filepath.Join(b.work, name), name: name}
}

var planArgs = []string{"plan", "-input=false", "-no-color", "-detailed-exitcode"}

// p1 times terraform plan (refresh included) over the N resources of ours,
// the N no-op resources and the N terraform_data, round-robin so drift of
// the machine hits all three alike, each round starting with a different one.
func (b *bench) p1(ctx context.Context) error {
	kinds := []string{"p1", "noop", "shaped", "tfdata"}
	// One untimed plan of each first (warm caches), with the peak RSS of
	// the provider processes of ours and of the no-op provider.
	for _, k := range kinds {
		var mon *rssMonitor
		switch k {
		case "p1":
			mon = watchRSS(b.provider)
		case "noop":
			mon = watchRSS(b.noop)
		case "shaped":
			mon = watchRSS(b.shaped)
		}
		res, err := b.ws(k).run(ctx, planTimeout, b.sb.env(), []int{0, 2}, planArgs...)
		if mon != nil {
			kb, procs, pcpu := mon.finish()
			switch k {
			case "p1":
				b.res.P1.PeakRSSKiB, b.res.P1.ProviderProcesses, b.res.P1.ProviderCPUSeconds = kb, procs, round(pcpu.Seconds(), 2)
			case "noop":
				b.res.P1.NoopPeakRSSKiB, b.res.P1.NoopProviderCPUSeconds = kb, round(pcpu.Seconds(), 2)
			default:
				b.res.P1.ShapedPeakRSSKiB, b.res.P1.ShapedProviderCPUSeconds = kb, round(pcpu.Seconds(), 2)
			}
		}
		if err != nil {
			return err
		}
		b.logf("P1: warm-up plan of %s: %.2fs, CPU %.2fs", k, res.elapsed().Seconds(), res.CPU.Seconds())
	}
	times, cpu := map[string][]time.Duration{}, map[string][]time.Duration{}
	b.res.P1.LoadBefore = loadAverage()
	for r := 0; r < b.mode.Runs; r++ {
		for i := range kinds {
			k := kinds[(i+r)%len(kinds)]
			var off int64
			if k == "p1" {
				if err := b.sb.resetStats(ctx); err != nil {
					return err
				}
				off = b.sb.logOffset()
			}
			res, err := b.ws(k).run(ctx, planTimeout, b.sb.env(), []int{0, 2}, planArgs...)
			if err != nil {
				return err
			}
			if res.Code == 2 {
				b.res.P1.ChangesPlanned[k]++
			}
			times[k] = append(times[k], res.elapsed())
			cpu[k] = append(cpu[k], res.CPU)
			if k != "p1" {
				continue
			}
			st, err := b.sb.stats(ctx)
			if err != nil {
				return err
			}
			logged, err := b.sb.requestsSince(off)
			if err != nil {
				return err
			}
			b.res.P1.Runs = append(b.res.P1.Runs, p1Run{Seconds: round(res.elapsed().Seconds(), 3), APIRequests: st.apiRequests(),
				Tokens: st.Tokens, IdentityRequests: st.ByFamily["identity"].Requests, LoggedRequests: len(logged), ByFamily: st.ByFamily})
		}
		b.logf("P1: N = %d, round %d/%d: ours %.2fs (CPU %.2fs), no-op %.2fs (CPU %.2fs), same-schema no-op %.2fs (CPU %.2fs), terraform_data %.2fs (CPU %.2fs)",
			b.mode.Resources, r+1, b.mode.Runs,
			last(times["p1"]).Seconds(), last(cpu["p1"]).Seconds(), last(times["noop"]).Seconds(), last(cpu["noop"]).Seconds(),
			last(times["shaped"]).Seconds(), last(cpu["shaped"]).Seconds(), last(times["tfdata"]).Seconds(), last(cpu["tfdata"]).Seconds())
	}
	b.res.P1.LoadAfter = loadAverage()
	// Diagnostic: the same plans without refresh, so what is left is
	// Terraform core and PlanResourceChange; the difference is the refresh.
	if b.mode.NoRefreshRuns > 0 {
		for r := 0; r < b.mode.NoRefreshRuns; r++ {
			for i := range 2 {
				k := []string{"p1", "noop"}[(i+r)%2]
				res, err := b.ws(k).run(ctx, planTimeout, b.sb.env(), []int{0, 2}, append(planArgs, "-refresh=false")...)
				if err != nil {
					return err
				}
				times[k+"-norefresh"] = append(times[k+"-norefresh"], res.elapsed())
				cpu[k+"-norefresh"] = append(cpu[k+"-norefresh"], res.CPU)
			}
		}
		b.res.P1.NoRefresh = &noRefresh{
			OursMedian: round(median(seconds(times["p1-norefresh"])), 3), NoopMedian: round(median(seconds(times["noop-norefresh"])), 3),
			OursCPUMedian: round(median(seconds(cpu["p1-norefresh"])), 3), NoopCPUMedian: round(median(seconds(cpu["noop-norefresh"])), 3),
			Runs: b.mode.NoRefreshRuns,
		}
		b.logf("P1: without refresh: ours %.2fs (CPU %.2fs), no-op %.2fs (CPU %.2fs)", b.res.P1.NoRefresh.OursMedian, b.res.P1.NoRefresh.OursCPUMedian,
			b.res.P1.NoRefresh.NoopMedian, b.res.P1.NoRefresh.NoopCPUMedian)
	}
	b.res.P1.ShapedSeconds, b.res.P1.ShapedCPUSeconds = round3(seconds(times["shaped"])), round3(seconds(cpu["shaped"]))
	b.res.P1.ShapedMedian, b.res.P1.ShapedCPUMedian = round(median(seconds(times["shaped"])), 3), round(median(seconds(cpu["shaped"])), 3)
	b.res.P1.OursCPUSeconds = round3(seconds(cpu["p1"]))
	b.res.P1.NoopCPUSeconds = round3(seconds(cpu["noop"]))
	b.res.P1.TerraformDataCPUSeconds = round3(seconds(cpu["tfdata"]))
	b.res.P1.OursCPUMedian = round(median(seconds(cpu["p1"])), 3)
	b.res.P1.NoopCPUMedian = round(median(seconds(cpu["noop"])), 3)
	b.res.P1.TerraformDataCPUMedian = round(median(seconds(cpu["tfdata"])), 3)
	b.res.P1.OursSeconds = round3(seconds(times["p1"]))
	b.res.P1.NoopSeconds = round3(seconds(times["noop"]))
	b.res.P1.TerraformDataSeconds = round3(seconds(times["tfdata"]))
	b.res.P1.OursMedian = round(median(seconds(times["p1"])), 3)
	b.res.P1.NoopMedian = round(median(seconds(times["noop"])), 3)
	b.res.P1.TerraformDataMedian = round(median(seconds(times["tfdata"])), 3)
	return nil
}

func last(ds []time.Duration) time.Duration { return ds[len(ds)-1] }

// p2 attributes the refresh's requests: one more plan of P1 with the
// provider's debug log (every request, with the resource type and RPC it
// was made for), and a plan of a configuration of data sources.
func (b *bench) p2(ctx context.Context) error {
	managed, err := b.attributedPlan(ctx, "p1", "p2-managed")
	if err != nil {
		return err
	}
	b.res.P2.Managed = managed
	st, err := b.ws("p1").stateResources()
	if err != nil {
		return err
	}
	var mappingIDs []string
	for _, m := range st["outsystems_app_mapping"] {
		mappingIDs = append(mappingIDs, m.str("id"))
	}
	dsApps := b.apps.P1[:min(b.mode.DataSourceApps, len(b.apps.P1))]
	ws, err := b.tf.workspace(b.work, "ds", dataSourcesConfig(dsApps, mappingIDs))
	if err != nil {
		return err
	}
	_ = ws
	b.res.P2.DataSourceCounts = map[string]int{
		"outsystems_lifetime_environment": 1, "outsystems_odc_stage": 1, "outsystems_migration_readiness": 1,
		"outsystems_lifetime_application": len(dsApps),
	}
	ds, err := b.attributedPlan(ctx, "ds", "p2-data-sources")
	if err != nil {
		return err
	}
	b.res.P2.DataSources = ds
	return nil
}

// attributedPlan plans a workspace with the provider's debug log on and
// counts the requests: by the sandbox's counters, by the sandbox's log
// (endpoints) and by the provider's log (object type and RPC).
func (b *bench) attributedPlan(ctx context.Context, wsName, label string) (*attribution, error) {
	logPath := filepath.Join(b.work, label+".provider.log")
	_ = os.Remove(logPath)
	if err := b.sb.resetStats(ctx); err != nil {
		return nil, err
	}
	off := b.sb.logOffset()
	env := append(b.sb.env(), "TF_LOG_PROVIDER=DEBUG", "TF_LOG_PATH="+logPath)
	res, err := b.ws(wsName).run(ctx, planTimeout, env, []int{0, 2}, planArgs...)
	if err != nil {
		return nil, err
	}
	st, err := b.sb.stats(ctx)
	if err != nil {
		return nil, err
	}
	logged, err := b.sb.requestsSince(off)
	if err != nil {
		return nil, err
	}
	reqs, err := parseProviderLog(logPath)
	if err != nil {
		return nil, err
	}
	a := &attribution{Seconds: round(res.elapsed().Seconds(), 3), APIRequests: st.apiRequests(), Tokens: st.Tokens,
		IdentityRequests: st.ByFamily["identity"].Requests, ByFamily: st.ByFamily, ProviderLogged: len(reqs),
		ByEndpoint: countBy(logged, func(r loggedRequest) string { return endpoint(r.Method, r.Path) }),
		ByObject:   countBy(apiOnly(reqs), func(r providerRequest) string { return orNone(r.Object) }),
		ByObjectRPCEndpoint: countBy(reqs, func(r providerRequest) string {
			return orNone(r.Object) + " | " + r.RPC + " | " + endpoint(r.Method, r.Path)
		}),
	}
	b.logf("P2: %s: %d API requests, %d token requests, %d identity requests in %.2fs", label, a.APIRequests, a.Tokens, a.IdentityRequests, a.Seconds)
	return a, nil
}

// apiOnly drops the identity service's requests (OIDC discovery, tokens).
func apiOnly(reqs []providerRequest) []providerRequest {
	var out []providerRequest
	for _, r := range reqs {
		if !strings.HasPrefix(r.Path, "/identity/") {
			out = append(out, r)
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(provider)"
	}
	return s
}

// startup times the schema load of each provider (terraform providers
// schema -json over a configuration with only the provider), alternating.
func (b *bench) startup(ctx context.Context) error {
	ours, err := b.tf.workspace(b.work, "schema-ours", schemaConfig(true))
	if err != nil {
		return err
	}
	noop, err := b.tf.workspace(b.work, "schema-noop", schemaConfig(false))
	if err != nil {
		return err
	}
	var tOurs, tNoop []time.Duration
	for r := 0; r <= b.mode.StartupRuns; r++ {
		pair := []*workspace{ours, noop}
		if r%2 == 1 {
			pair[0], pair[1] = pair[1], pair[0]
		}
		for _, ws := range pair {
			res, err := ws.run(ctx, 2*time.Minute, nil, nil, "providers", "schema", "-json")
			if err != nil {
				return err
			}
			if r == 0 {
				continue // warm-up
			}
			if ws == ours {
				tOurs = append(tOurs, res.elapsed())
			} else {
				tNoop = append(tNoop, res.elapsed())
			}
		}
	}
	b.res.Startup.OursSeconds, b.res.Startup.NoopSeconds = round3(seconds(tOurs)), round3(seconds(tNoop))
	b.res.Startup.OursMedian, b.res.Startup.NoopMedian = round(median(seconds(tOurs)), 3), round(median(seconds(tNoop)), 3)
	for _, p := range []struct {
		path string
		size *int64
	}{{b.provider, &b.res.Startup.OursBinaryBytes}, {b.noop, &b.res.Startup.NoopBinaryBytes}} {
		fi, err := os.Stat(p.path)
		if err != nil {
			return err
		}
		*p.size = fi.Size()
	}
	b.logf("start-up: schema load median ours %.3fs, no-op %.3fs", b.res.Startup.OursMedian, b.res.Startup.NoopMedian)
	return nil
}

// p3 releases the paced group's published libraries with the sandbox
// enforcing the rate limit (restarted on the same database) and the
// provider paced at the same rate.
func (b *bench) p3(ctx context.Context) error {
	st, err := b.ws("aux").stateResources()
	if err != nil {
		return err
	}
	libs := map[string]revisionRef{}
	for _, p := range st["outsystems_asset_publication"] {
		if p.Name != "paced" {
			continue
		}
		rev, _ := p.Attributes["revision"].(float64)
		libs[p.Key] = revisionRef{AssetKey: p.str("asset_key"), Revision: int(rev)}
	}
	if len(libs) != b.mode.PacedReleases {
		return fmt.Errorf("the setup published %d paced libraries, want %d", len(libs), b.mode.PacedReleases)
	}
	rate := b.mode.PacedRate
	if err := b.restartSandbox(ctx, append([]string{"--rate-limit", fmt.Sprint(rate)}, setupTimings...)...); err != nil {
		return err
	}
	ws, err := b.tf.workspace(b.work, "paced", pacedConfig(libs, rate))
	if err != nil {
		return err
	}
	logPath := filepath.Join(b.work, "p3.provider.log")
	off := b.sb.logOffset()
	env := append(b.sb.env(), "TF_LOG=DEBUG", "TF_LOG_PATH="+logPath)
	b.logf("P3: releasing %d libraries at %d requests per minute", len(libs), rate)
	res, runErr := ws.run(ctx, setupTimeout, env, nil, "apply", "-auto-approve", "-input=false", "-no-color")
	stats, err := b.sb.stats(ctx)
	if err != nil {
		return err
	}
	logged, err := b.sb.requestsSince(off)
	if err != nil {
		return err
	}
	reqs, err := parseProviderLog(logPath)
	if err != nil {
		return err
	}
	p := &b.res.P3
	p.Rate, p.Releases, p.Seconds = rate, len(libs), round(res.elapsed().Seconds(), 2)
	p.ByFamily, p.Tokens = stats.ByFamily, stats.Tokens
	p.Throttled = stats.throttled()
	// The limit is per window: ODC (with code migrations), LifeTime and the
	// assessment tool each have one. The floor is the busiest window's
	// admitted requests at the rate.
	windows := map[string]int64{}
	for f, s := range stats.ByFamily {
		w := f
		if f == "codeMigration" {
			w = "odc"
		}
		if f != "identity" {
			windows[w] += s.Requests - s.Throttled
		}
	}
	for w, n := range windows {
		if n > p.AdmittedRequests {
			p.AdmittedRequests, p.Window = n, w
		}
	}
	p.FloorSeconds = round(float64(p.AdmittedRequests)/float64(rate)*60, 2)
	p.IdealFloorSeconds = round(float64(len(libs))/float64(rate)*60, 2)
	if p.AdmittedRequests > 0 {
		p.BurstFloorSeconds = float64((p.AdmittedRequests-1)/int64(rate)) * 60
	}
	p.ByEndpoint = countBy(logged, func(r loggedRequest) string { return fmt.Sprintf("%s %d", endpoint(r.Method, r.Path), r.Status) })
	p.ByRPCEndpoint = countBy(reqs, func(r providerRequest) string { return r.RPC + " | " + endpoint(r.Method, r.Path) })
	p.ProviderLogged = len(reqs)
	var retries int
	for _, r := range reqs {
		if r.Attempt > 1 {
			retries++
		}
		if strings.HasPrefix(r.Path, "/identity/") {
			continue
		}
		switch r.RPC {
		case "ApplyResourceChange":
			p.ApplyRequests++
		case "PlanResourceChange":
			p.PlanRequests++
		}
	}
	p.Retries = retries
	p.Phases = phaseSpans(reqs)
	if runErr != nil {
		p.Error = runErr.Error()
		return fmt.Errorf("paced apply: %w", runErr)
	}
	b.logf("P3: %.1fs for %d admitted requests in the %s window (floor %.1fs), %d × 429", p.Seconds, p.AdmittedRequests, p.Window, p.FloorSeconds, p.Throttled)
	return nil
}

// phaseSpans says, per provider process and RPC, how many requests the
// provider made and over which span of time. Terraform runs the plan and
// the apply of `terraform apply` in different provider processes, each
// with a limiter of its own.
func phaseSpans(reqs []providerRequest) []phaseSpan {
	var out []phaseSpan
	idx := map[string]int{}
	for _, r := range reqs {
		k := fmt.Sprintf("%d %s", r.Process, r.RPC)
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, phaseSpan{Process: r.Process, RPC: r.RPC, first: r.Time})
		}
		out[i].Requests++
		out[i].last = r.Time
	}
	for i := range out {
		out[i].StartSeconds = round(out[i].first.Sub(reqs[0].Time).Seconds(), 2)
		out[i].Seconds = round(out[i].last.Sub(out[i].first).Seconds(), 2)
	}
	return out
}

// p4 runs one code migration per length, each on a sandbox restarted with
// that --migration-duration, and measures the time from the migration's end
// (finishedAt, as the API reports it) to terraform apply returning, and the
// polls (GETs of the migration in the sandbox's log). The 10-minute
// migration, when the mode has it, ran meanwhile on a sandbox of its own
// (startLongMigration); P4 waits for it.
func (b *bench) p4(ctx context.Context) error {
	st, err := b.ws("aux").stateResources()
	if err != nil {
		return err
	}
	mappings := map[string]string{}
	for _, m := range st["outsystems_app_mapping"] {
		if m.Name == "timing" {
			mappings[m.Key] = m.str("id")
		}
	}
	for i, length := range b.mode.Lengths {
		app := b.apps.Timing[i]
		mappingID := mappings[app.ID]
		if mappingID == "" {
			return fmt.Errorf("no mapping for %s in the setup's state", app.ID)
		}
		if err := b.restartSandbox(ctx, "--migration-duration", length.String(), "--assessment-delay", "50ms", "--publish-duration", "50ms"); err != nil {
			return err
		}
		ws, err := b.tf.workspace(b.work, fmt.Sprintf("timed-%s", length), timingConfig(mappingID))
		if err != nil {
			return err
		}
		off := b.sb.logOffset()
		b.logf("P4: code migration of %s", length)
		res, err := ws.run(ctx, length+10*time.Minute, b.sb.env(), nil, "apply", "-auto-approve", "-input=false", "-no-color")
		if err != nil {
			return err
		}
		m, err := measureMigration(ws, b.sb, off, res, length)
		if err != nil {
			return err
		}
		b.res.P4.Runs = append(b.res.P4.Runs, m)
		b.logf("P4: %s: apply returned %.3fs after the migration finished, %d polls", length, m.LatencySeconds, m.Polls)
	}
	if b.long == nil {
		return nil
	}
	b.logf("P4: waiting for the %s code migration started at the beginning", longMigration)
	select {
	case <-b.long.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer b.long.sb.stop()
	if b.long.err != nil {
		return fmt.Errorf("the %s code migration: %w", longMigration, b.long.err)
	}
	m, err := measureMigration(b.long.ws, b.long.sb, 0, b.long.res, longMigration)
	if err != nil {
		return err
	}
	b.res.P4.Long = &m
	b.logf("P4: %s: apply returned %.3fs after the migration finished, %d polls", longMigration, m.LatencySeconds, m.Polls)
	return nil
}

// longMigration is the length of the migration the 20-polls target is
// about.
const longMigration = 10 * time.Minute

// longRun is the 10-minute code migration, applied in the background on a
// sandbox (and database) of its own while the other measurements run.
type longRun struct {
	sb     *sandboxProc
	ws     *workspace
	res    runResult
	err    error
	done   chan struct{}
	cancel context.CancelFunc
}

// startLongMigration starts a second sandbox with a 10-minute migration
// duration and applies, in the background, a mapping, a tag and a code
// migration of one app there.
func (b *bench) startLongMigration(ctx context.Context) error {
	sb, err := startSandbox(ctx, b.sandboxBin, filepath.Join(b.work, "sandbox-long.log"), "--db", filepath.Join(b.work, "sandbox-long.db"),
		"--fixture", b.fixture, "--migration-duration", longMigration.String(), "--assessment-delay", "50ms", "--publish-duration", "50ms")
	if err != nil {
		return err
	}
	ws, err := b.tf.workspace(b.work, "timed-long", longMigrationConfig(b.apps.Timing[0]))
	if err != nil {
		sb.stop()
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	b.long = &longRun{sb: sb, ws: ws, done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(b.long.done)
		b.long.res, b.long.err = ws.run(ctx, longMigration+10*time.Minute, sb.env(), nil, "apply", "-auto-approve", "-input=false", "-no-color")
	}()
	b.logf("P4: started a %s code migration in the background (its own sandbox)", longMigration)
	return nil
}

// measureMigration reads a finished timed migration: its key, start and
// end from the workspace's state, and its polls from the sandbox's log
// after off.
func measureMigration(ws *workspace, sb *sandboxProc, off int64, res runResult, length time.Duration) (p4Run, error) {
	state, err := ws.stateResources()
	if err != nil {
		return p4Run{}, err
	}
	mig := state["outsystems_code_migration"]
	if len(mig) != 1 {
		return p4Run{}, fmt.Errorf("%s: no code migration in state", ws.name)
	}
	key, startedAt, finishedAt := mig[0].str("id"), mig[0].str("started_at"), mig[0].str("finished_at")
	started, err1 := time.Parse(time.RFC3339Nano, startedAt)
	finished, err2 := time.Parse(time.RFC3339Nano, finishedAt)
	if err := errors.Join(err1, err2); err != nil {
		return p4Run{}, fmt.Errorf("%s: started_at %q, finished_at %q: %w", ws.name, startedAt, finishedAt, err)
	}
	logged, err := sb.requestsSince(off)
	if err != nil {
		return p4Run{}, err
	}
	polls := 0
	for _, r := range logged {
		if r.Method == "GET" && strings.EqualFold(r.Path, "/api/migration-kit/v1/code-migrations/"+key) {
			polls++
		}
	}
	return p4Run{Length: length.String(), LengthSeconds: length.Seconds(), Key: key, StartedAt: startedAt, FinishedAt: finishedAt,
		ApplySeconds: round(res.elapsed().Seconds(), 2), LatencySeconds: round(res.End.Sub(finished).Seconds(), 3),
		TargetSeconds: max(1, length.Seconds()/10), Polls: polls,
		MeasuredLengthSeconds: round(finished.Sub(started).Seconds(), 3), APIRequests: len(logged)}, nil
}

// sdkLogsOff silences the SDK loggers of terraform-plugin-go and the
// framework, which otherwise send every TRACE line to Terraform even when
// Terraform discards them (TF_LOG unset).
var sdkLogsOff = []string{"TF_LOG_SDK=off", "TF_LOG_SDK_PROTO=off", "TF_LOG_SDK_FRAMEWORK=off"}

// p1Diagnostics says where P1's extra time goes: the same plans with the
// SDK's trace logging off, and a plan of each resource type alone against
// as many no-op resources.
func (b *bench) p1Diagnostics(ctx context.Context) error {
	if n := b.mode.LogsOffRuns; n > 0 {
		times, cpu := map[string][]time.Duration{}, map[string][]time.Duration{}
		for r := 0; r < n; r++ {
			for i := range 2 {
				k := []string{"p1", "noop"}[(i+r)%2]
				res, err := b.ws(k).run(ctx, planTimeout, append(b.sb.env(), sdkLogsOff...), []int{0, 2}, planArgs...)
				if err != nil {
					return err
				}
				times[k] = append(times[k], res.elapsed())
				cpu[k] = append(cpu[k], res.CPU)
			}
		}
		b.res.P1.LogsOff = &noRefresh{Runs: n,
			OursMedian: round(median(seconds(times["p1"])), 3), NoopMedian: round(median(seconds(times["noop"])), 3),
			OursCPUMedian: round(median(seconds(cpu["p1"])), 3), NoopCPUMedian: round(median(seconds(cpu["noop"])), 3)}
		b.logf("P1: SDK logs off: ours %.2fs (CPU %.2fs), no-op %.2fs (CPU %.2fs)", b.res.P1.LogsOff.OursMedian, b.res.P1.LogsOff.OursCPUMedian,
			b.res.P1.LogsOff.NoopMedian, b.res.P1.LogsOff.NoopCPUMedian)
	}
	if b.mode.TypeRuns == 0 {
		return nil
	}
	st, err := b.ws("p1").stateResources()
	if err != nil {
		return err
	}
	noops := map[int]*workspace{}
	for _, typ := range []string{"outsystems_app_mapping", "outsystems_lifetime_tag", "outsystems_asset_publication", "outsystems_library_release"} {
		refs := map[string]revisionRef{}
		for _, in := range st[typ] {
			rev, _ := in.Attributes["revision"].(float64)
			refs[in.Key] = revisionRef{AssetKey: in.str("asset_key"), Revision: int(rev)}
		}
		count := len(st[typ])
		apps := b.apps.P1[:count]
		ws, err := b.tf.workspace(b.work, "type-"+typ, typeConfig(typ, apps, refs))
		if err != nil {
			return err
		}
		if err := writeFilteredState(filepath.Join(b.work, "p1", "terraform.tfstate"), ws.dir, typ); err != nil {
			return err
		}
		sws, err := b.tf.workspace(b.work, "type-shaped-"+typ, shaped(typeConfig(typ, apps, refs)))
		if err != nil {
			return err
		}
		if err := writeFilteredState(filepath.Join(b.work, "p1", "terraform.tfstate"), sws.dir, typ); err != nil {
			return err
		}
		if err := writeShapedState(filepath.Join(sws.dir, "terraform.tfstate"), sws.dir); err != nil {
			return err
		}
		noop := noops[count]
		if noop == nil {
			if noop, err = b.tf.workspace(b.work, fmt.Sprintf("type-noop-%d", count), noopTypeConfig(apps)); err != nil {
				return err
			}
			if _, err := noop.run(ctx, setupTimeout, nil, nil, "apply", "-auto-approve", "-input=false", "-no-color"); err != nil {
				return err
			}
			noops[count] = noop
		}
		tr := typeRun{Type: typ, Resources: count}
		var tOurs, tNoop, cOurs, cNoop, tShaped, cShaped []time.Duration
		for r := 0; r <= b.mode.TypeRuns; r++ {
			all := []*workspace{ws, noop, sws}
			for i := range all {
				w := all[(i+r)%len(all)]
				res, err := w.run(ctx, planTimeout, b.sb.env(), []int{0, 2}, planArgs...)
				if err != nil {
					return err
				}
				if w == ws && res.Code == 2 {
					tr.ChangesPlanned++
				}
				if r == 0 {
					continue // warm-up
				}
				switch w {
				case ws:
					tOurs, cOurs = append(tOurs, res.elapsed()), append(cOurs, res.CPU)
				case noop:
					tNoop, cNoop = append(tNoop, res.elapsed()), append(cNoop, res.CPU)
				default:
					tShaped, cShaped = append(tShaped, res.elapsed()), append(cShaped, res.CPU)
				}
			}
		}
		tr.OursMedian, tr.NoopMedian = round(median(seconds(tOurs)), 3), round(median(seconds(tNoop)), 3)
		tr.OursCPUMedian, tr.NoopCPUMedian = round(median(seconds(cOurs)), 3), round(median(seconds(cNoop)), 3)
		tr.ShapedMedian, tr.ShapedCPUMedian = round(median(seconds(tShaped)), 3), round(median(seconds(cShaped)), 3)
		tr.ExtraCPUMillisPerResource = round((tr.OursCPUMedian-tr.NoopCPUMedian)/float64(count)*1000, 1)
		tr.ExtraCPUMillisVsShaped = round((tr.OursCPUMedian-tr.ShapedCPUMedian)/float64(count)*1000, 1)
		b.res.P1.ByType = append(b.res.P1.ByType, tr)
		b.logf("P1: %s alone (%d): ours %.2fs (CPU %.2fs), no-op %.2fs (CPU %.2fs), same-schema no-op %.2fs (CPU %.2fs)", typ, count,
			tr.OursMedian, tr.OursCPUMedian, tr.NoopMedian, tr.NoopCPUMedian, tr.ShapedMedian, tr.ShapedCPUMedian)
	}
	return nil
}

// p1Profile plans P1 once with tools/bench/pprofprovider, the provider
// with a CPU profile per process, and writes the profiles and the top
// functions (cumulative) of the biggest one, the plan's, under the work
// directory. Only with -profile.
func (b *bench) p1Profile(ctx context.Context) error {
	if !b.mode.Profile {
		return nil
	}
	dir := filepath.Join(b.work, "pprof")
	binDir := filepath.Join(dir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	bin := filepath.Join(binDir, "terraform-provider-outsystems")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./tools/bench/pprofprovider")
	cmd.Dir = b.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./tools/bench/pprofprovider: %w\n%s", err, out)
	}
	tf, err := newTerraform(b.tfBin, dir, binDir)
	if err != nil {
		return err
	}
	ws := &workspace{tf: tf, dir: filepath.Join(b.work, "p1"), name: "p1"}
	if _, err := ws.run(ctx, planTimeout, append(b.sb.env(), "BENCH_PPROF_DIR="+dir), []int{0, 2}, planArgs...); err != nil {
		return err
	}
	profiles, err := filepath.Glob(filepath.Join(dir, "cpu-*.pprof"))
	if err != nil || len(profiles) == 0 {
		return fmt.Errorf("the profiled provider wrote no profile in %s", dir)
	}
	biggest, size := "", int64(-1)
	for _, p := range profiles {
		if fi, err := os.Stat(p); err == nil && fi.Size() > size {
			biggest, size = p, fi.Size()
		}
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=40", bin, biggest).Output()
	if err != nil {
		return fmt.Errorf("go tool pprof: %w", err)
	}
	topPath := filepath.Join(dir, "top.txt")
	if err := os.WriteFile(topPath, top, 0o644); err != nil {
		return err
	}
	b.res.P1.Profile = rel(b.root, biggest)
	b.logf("P1: CPU profile of the provider's plan process: %s (top functions: %s)", rel(b.root, biggest), rel(b.root, topPath))
	return nil
}
