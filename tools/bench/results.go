package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// results is everything a run measured; the JSON under .bench/ holds it.
type results struct {
	Mode         modeConfig `json:"mode"`
	Started      string     `json:"started"`
	TotalSeconds float64    `json:"totalSeconds"`
	StepSeconds  []stepTime `json:"stepSeconds"`
	Machine      machine    `json:"machine"`
	P1           p1Result   `json:"p1"`
	// Sizes are P1 at each size of -n 100,500,1000 (P1 above is the last).
	Sizes   []sizeResult  `json:"sizes,omitempty"`
	P2      p2Result      `json:"p2"`
	P3      p3Result      `json:"p3"`
	P4      p4Result      `json:"p4"`
	Startup startupResult `json:"startup"`
	Table   []row         `json:"table"`
	Notes   []string      `json:"notes"`
	Error   string        `json:"error,omitempty"`
}

type stepTime struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
}

type machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpuModel"`
	MemoryKiB int64  `json:"memoryKiB"`
	Kernel    string `json:"kernel"`
	Go        string `json:"go"`
	Terraform string `json:"terraform"`
}

type p1Result struct {
	Mix                  map[string]int `json:"mix"`
	WebApps              int            `json:"webApps"`
	OursSeconds          []float64      `json:"oursSeconds"`
	NoopSeconds          []float64      `json:"noopSeconds"`
	TerraformDataSeconds []float64      `json:"terraformDataSeconds"`
	OursMedian           float64        `json:"oursMedian"`
	NoopMedian           float64        `json:"noopMedian"`
	TerraformDataMedian  float64        `json:"terraformDataMedian"`
	// Shaped* are the same-schema no-op provider's (tools/bench/shapedprovider).
	ShapedSeconds            []float64 `json:"shapedSeconds"`
	ShapedMedian             float64   `json:"shapedMedian"`
	ShapedCPUSeconds         []float64 `json:"shapedCPUSeconds"`
	ShapedCPUMedian          float64   `json:"shapedCPUMedian"`
	ShapedProviderCPUSeconds float64   `json:"shapedProviderCPUSeconds"`
	ShapedPeakRSSKiB         int64     `json:"shapedPeakRSSKiB"`
	// CPU time of terraform and its provider processes, per run and median.
	OursCPUSeconds          []float64 `json:"oursCPUSeconds"`
	NoopCPUSeconds          []float64 `json:"noopCPUSeconds"`
	TerraformDataCPUSeconds []float64 `json:"terraformDataCPUSeconds"`
	OursCPUMedian           float64   `json:"oursCPUMedian"`
	NoopCPUMedian           float64   `json:"noopCPUMedian"`
	TerraformDataCPUMedian  float64   `json:"terraformDataCPUMedian"`
	// ProviderCPUSeconds is the CPU time of the provider processes alone
	// during the warm-up plan (from /proc), ours and the no-op provider's.
	ProviderCPUSeconds     float64 `json:"providerCPUSeconds"`
	NoopProviderCPUSeconds float64 `json:"noopProviderCPUSeconds"`
	// NoRefresh is the diagnostic plan -refresh=false; LogsOff the plans
	// with the SDK's loggers off; ByType each resource type alone.
	NoRefresh *noRefresh `json:"noRefresh,omitempty"`
	LogsOff   *noRefresh `json:"sdkLogsOff,omitempty"`
	ByType    []typeRun  `json:"byType,omitempty"`
	// Profile is the CPU profile of the provider's plan process (-profile).
	Profile string `json:"profile,omitempty"`
	// LoadBefore and LoadAfter are /proc/loadavg around the timed runs.
	LoadBefore string  `json:"loadAverageBefore"`
	LoadAfter  string  `json:"loadAverageAfter"`
	Runs       []p1Run `json:"oursRuns"`
	// ChangesPlanned counts plans that were not empty (exit code 2), by kind.
	ChangesPlanned    map[string]int `json:"changesPlanned"`
	PeakRSSKiB        int64          `json:"peakRSSKiB"`
	NoopPeakRSSKiB    int64          `json:"noopPeakRSSKiB"`
	ProviderProcesses int            `json:"providerProcesses"`
}

type sizeResult struct {
	Resources int      `json:"resources"`
	P1        p1Result `json:"p1"`
}

type noRefresh struct {
	Runs          int     `json:"runs"`
	OursMedian    float64 `json:"oursMedian"`
	NoopMedian    float64 `json:"noopMedian"`
	OursCPUMedian float64 `json:"oursCPUMedian"`
	NoopCPUMedian float64 `json:"noopCPUMedian"`
}

type typeRun struct {
	Type                      string  `json:"type"`
	Resources                 int     `json:"resources"`
	OursMedian                float64 `json:"oursMedian"`
	NoopMedian                float64 `json:"noopMedian"`
	OursCPUMedian             float64 `json:"oursCPUMedian"`
	NoopCPUMedian             float64 `json:"noopCPUMedian"`
	ShapedMedian              float64 `json:"shapedMedian"`
	ShapedCPUMedian           float64 `json:"shapedCPUMedian"`
	ExtraCPUMillisPerResource float64 `json:"extraCPUMillisPerResource"`
	ExtraCPUMillisVsShaped    float64 `json:"extraCPUMillisVsShaped"`
	ChangesPlanned            int     `json:"changesPlanned"`
}

type p1Run struct {
	Seconds          float64                `json:"seconds"`
	APIRequests      int64                  `json:"apiRequests"`
	Tokens           int64                  `json:"tokenRequests"`
	IdentityRequests int64                  `json:"identityRequests"`
	LoggedRequests   int                    `json:"sandboxLoggedRequests"`
	ByFamily         map[string]familyStats `json:"byFamily"`
}

type p2Result struct {
	Managed          *attribution   `json:"managed"`
	DataSourceCounts map[string]int `json:"dataSourceCounts"`
	DataSources      *attribution   `json:"dataSources"`
}

// attribution is one plan's requests, counted three ways.
type attribution struct {
	Seconds          float64                `json:"seconds"`
	APIRequests      int64                  `json:"apiRequests"`
	Tokens           int64                  `json:"tokenRequests"`
	IdentityRequests int64                  `json:"identityRequests"`
	ByFamily         map[string]familyStats `json:"byFamily"`
	// ProviderLogged is every request the provider logged, identity included.
	ProviderLogged int `json:"providerLogged"`
	// ByEndpoint comes from the sandbox's request log.
	ByEndpoint []count `json:"byEndpoint"`
	// ByObject and ByObjectRPCEndpoint come from the provider's debug log;
	// ByObject leaves out the identity service.
	ByObject            []count `json:"byObject"`
	ByObjectRPCEndpoint []count `json:"byObjectRPCEndpoint"`
}

func (a *attribution) object(name string) int {
	for _, c := range a.ByObject {
		if c.Key == name {
			return c.N
		}
	}
	return 0
}

type p3Result struct {
	Rate              int                    `json:"ratePerMinute"`
	Releases          int                    `json:"releases"`
	Seconds           float64                `json:"seconds"`
	Window            string                 `json:"busiestWindow"`
	AdmittedRequests  int64                  `json:"admittedRequests"`
	FloorSeconds      float64                `json:"floorSeconds"`
	BurstFloorSeconds float64                `json:"slidingWindowFloorSeconds"`
	IdealFloorSeconds float64                `json:"idealFloorSeconds"`
	Throttled         int64                  `json:"throttled429"`
	Tokens            int64                  `json:"tokenRequests"`
	Retries           int                    `json:"providerRetries"`
	ProviderLogged    int                    `json:"providerLogged"`
	ByFamily          map[string]familyStats `json:"byFamily"`
	ByEndpoint        []count                `json:"byEndpointStatus"`
	ByRPCEndpoint     []count                `json:"byRPCEndpoint"`
	// ApplyRequests and PlanRequests count the provider's API requests
	// (identity apart) made by ApplyResourceChange and by
	// PlanResourceChange (the plan's and the apply's final plan).
	ApplyRequests int         `json:"applyRequests"`
	PlanRequests  int         `json:"planRequests"`
	Phases        []phaseSpan `json:"phases"`
	Error         string      `json:"error,omitempty"`
}

type phaseSpan struct {
	Process      int     `json:"providerProcess"`
	RPC          string  `json:"rpc"`
	Requests     int     `json:"requests"`
	StartSeconds float64 `json:"startSeconds"`
	Seconds      float64 `json:"seconds"`
	first, last  time.Time
}

type p4Result struct {
	Runs []p4Run `json:"runs"`
	// Long is the 10-minute migration, when measured.
	Long *p4Run `json:"long,omitempty"`
}

// extrapolatedPolls extends the polls of the two longest measured runs
// linearly to length (never below the most polls measured): a
// conservative guess when the 10-minute migration was not run.
func (p p4Result) extrapolatedPolls(length time.Duration) float64 {
	runs := append([]p4Run(nil), p.Runs...)
	sort.Slice(runs, func(i, j int) bool { return runs[i].LengthSeconds < runs[j].LengthSeconds })
	most := 0.0
	for _, r := range runs {
		most = max(most, float64(r.Polls))
	}
	if len(runs) < 2 {
		return most
	}
	a, b := runs[len(runs)-2], runs[len(runs)-1]
	if b.LengthSeconds == a.LengthSeconds {
		return most
	}
	slope := float64(b.Polls-a.Polls) / (b.LengthSeconds - a.LengthSeconds)
	return max(most, math.Ceil(float64(b.Polls)+slope*(length.Seconds()-b.LengthSeconds)))
}

type p4Run struct {
	Length                string  `json:"length"`
	LengthSeconds         float64 `json:"lengthSeconds"`
	Key                   string  `json:"key"`
	StartedAt             string  `json:"startedAt"`
	FinishedAt            string  `json:"finishedAt"`
	MeasuredLengthSeconds float64 `json:"measuredLengthSeconds"`
	ApplySeconds          float64 `json:"applySeconds"`
	LatencySeconds        float64 `json:"latencySeconds"`
	TargetSeconds         float64 `json:"targetSeconds"`
	Polls                 int     `json:"polls"`
	APIRequests           int     `json:"apiRequests"`
}

type startupResult struct {
	OursSeconds     []float64 `json:"oursSeconds"`
	NoopSeconds     []float64 `json:"noopSeconds"`
	OursMedian      float64   `json:"oursMedian"`
	NoopMedian      float64   `json:"noopMedian"`
	OursBinaryBytes int64     `json:"oursBinaryBytes"`
	NoopBinaryBytes int64     `json:"noopBinaryBytes"`
}

// row is one line of the printed table.
type row struct {
	Metric    string  `json:"metric"`
	Ours      string  `json:"ours"`
	Reference string  `json:"reference"`
	Ratio     string  `json:"ratio"`
	Target    string  `json:"target"`
	Verdict   string  `json:"verdict"`
	OursValue float64 `json:"oursValue"`
	RefValue  float64 `json:"referenceValue"`
}

// loadAverage is /proc/loadavg's first three fields: other work on the
// machine shows up in the wall-clock figures.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func machineInfo(tfBin string) machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				m.MemoryKiB, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if out, err := exec.Command(tfBin, "version", "-json").Output(); err == nil {
		var v struct {
			Version string `json:"terraform_version"`
		}
		if json.Unmarshal(out, &v) == nil {
			m.Terraform = v.Version
		}
	}
	return m
}

// --- the table ---

func round(x float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(x*p) / p
}

func round3(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = round(x, 3)
	}
	return out
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func ratioStr(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func (b *bench) buildTable() {
	r := b.res
	var rows []row
	add := func(metric, ours, ref, ratio, target, v string, ov, rv float64) {
		rows = append(rows, row{metric, ours, ref, ratio, target, v, ov, rv})
	}
	n := b.mode.Resources
	if r.P1.OursMedian > 0 {
		add(fmt.Sprintf("P1 CPU time of terraform and the provider, %d managed resources: ours vs minimal no-op provider (median of %d)", n, len(r.P1.OursCPUSeconds)),
			fmt.Sprintf("%.2f s", r.P1.OursCPUMedian), fmt.Sprintf("%.2f s", r.P1.NoopCPUMedian), ratioStr(r.P1.OursCPUMedian, r.P1.NoopCPUMedian),
			"≤ 1.25×", verdict(r.P1.OursCPUMedian <= 1.25*r.P1.NoopCPUMedian), r.P1.OursCPUMedian, r.P1.NoopCPUMedian)
		if r.P1.ShapedCPUMedian > 0 {
			add("P1 CPU time: ours vs same-schema no-op provider (median): what our own code adds",
				fmt.Sprintf("%.2f s", r.P1.OursCPUMedian), fmt.Sprintf("%.2f s", r.P1.ShapedCPUMedian), ratioStr(r.P1.OursCPUMedian, r.P1.ShapedCPUMedian),
				"≤ 1.10×", verdict(r.P1.OursCPUMedian <= 1.10*r.P1.ShapedCPUMedian), r.P1.OursCPUMedian, r.P1.ShapedCPUMedian)
			add("P1 CPU time: same-schema no-op vs minimal no-op (median): what our schemas cost",
				fmt.Sprintf("%.2f s", r.P1.ShapedCPUMedian), fmt.Sprintf("%.2f s", r.P1.NoopCPUMedian), ratioStr(r.P1.ShapedCPUMedian, r.P1.NoopCPUMedian),
				"(reported)", "", r.P1.ShapedCPUMedian, r.P1.NoopCPUMedian)
		}
		add(fmt.Sprintf("P1 plan wall time: ours vs minimal no-op provider (median of %d)", len(r.P1.OursSeconds)),
			fmt.Sprintf("%.2f s", r.P1.OursMedian), fmt.Sprintf("%.2f s", r.P1.NoopMedian), ratioStr(r.P1.OursMedian, r.P1.NoopMedian),
			"(reported)", "", r.P1.OursMedian, r.P1.NoopMedian)
		if r.P1.ShapedMedian > 0 {
			add("P1 plan wall time: ours vs same-schema no-op provider (median)",
				fmt.Sprintf("%.2f s", r.P1.OursMedian), fmt.Sprintf("%.2f s", r.P1.ShapedMedian), ratioStr(r.P1.OursMedian, r.P1.ShapedMedian),
				"(reported)", "", r.P1.OursMedian, r.P1.ShapedMedian)
		}
		add(fmt.Sprintf("P1 plan, %d managed resources: ours vs terraform_data", n),
			fmt.Sprintf("%.2f s", r.P1.OursMedian), fmt.Sprintf("%.2f s", r.P1.TerraformDataMedian), ratioStr(r.P1.OursMedian, r.P1.TerraformDataMedian),
			"(reported)", "", r.P1.OursMedian, r.P1.TerraformDataMedian)
		add("P1 CPU time: ours vs terraform_data (median)",
			fmt.Sprintf("%.2f s", r.P1.OursCPUMedian), fmt.Sprintf("%.2f s", r.P1.TerraformDataCPUMedian), ratioStr(r.P1.OursCPUMedian, r.P1.TerraformDataCPUMedian),
			"(reported)", "", r.P1.OursCPUMedian, r.P1.TerraformDataCPUMedian)
		add("P1 CPU time of the provider processes alone (untimed warm-up plan): ours vs no-op",
			fmt.Sprintf("%.2f s", r.P1.ProviderCPUSeconds), fmt.Sprintf("%.2f s", r.P1.NoopProviderCPUSeconds),
			ratioStr(r.P1.ProviderCPUSeconds, r.P1.NoopProviderCPUSeconds), "(reported)", "", r.P1.ProviderCPUSeconds, r.P1.NoopProviderCPUSeconds)
		if r.P1.ShapedProviderCPUSeconds > 0 {
			add("P1 CPU time of the provider processes alone (untimed warm-up plan): ours vs same-schema no-op",
				fmt.Sprintf("%.2f s", r.P1.ProviderCPUSeconds), fmt.Sprintf("%.2f s", r.P1.ShapedProviderCPUSeconds),
				ratioStr(r.P1.ProviderCPUSeconds, r.P1.ShapedProviderCPUSeconds), "(reported)", "", r.P1.ProviderCPUSeconds, r.P1.ShapedProviderCPUSeconds)
		}
		if nr := r.P1.NoRefresh; nr != nil {
			add(fmt.Sprintf("P1 diagnostic: plan -refresh=false, ours vs no-op (median of %d)", nr.Runs),
				fmt.Sprintf("%.2f s", nr.OursMedian), fmt.Sprintf("%.2f s", nr.NoopMedian), ratioStr(nr.OursMedian, nr.NoopMedian), "(reported)", "", nr.OursMedian, nr.NoopMedian)
			add("P1 diagnostic: plan -refresh=false CPU time, ours vs no-op",
				fmt.Sprintf("%.2f s", nr.OursCPUMedian), fmt.Sprintf("%.2f s", nr.NoopCPUMedian), ratioStr(nr.OursCPUMedian, nr.NoopCPUMedian), "(reported)", "", nr.OursCPUMedian, nr.NoopCPUMedian)
		}
		if lo := r.P1.LogsOff; lo != nil {
			add(fmt.Sprintf("P1 diagnostic: plan with the SDK loggers off (TF_LOG_SDK*=off), ours vs no-op (median of %d)", lo.Runs),
				fmt.Sprintf("%.2f s", lo.OursMedian), fmt.Sprintf("%.2f s", lo.NoopMedian), ratioStr(lo.OursMedian, lo.NoopMedian), "(reported)", "", lo.OursMedian, lo.NoopMedian)
			add("P1 diagnostic: SDK loggers off, CPU time, ours vs no-op",
				fmt.Sprintf("%.2f s", lo.OursCPUMedian), fmt.Sprintf("%.2f s", lo.NoopCPUMedian), ratioStr(lo.OursCPUMedian, lo.NoopCPUMedian), "(reported)", "", lo.OursCPUMedian, lo.NoopCPUMedian)
			add("P1 diagnostic: ours with the SDK loggers off vs ours as is (CPU time)",
				fmt.Sprintf("%.2f s", lo.OursCPUMedian), fmt.Sprintf("%.2f s", r.P1.OursCPUMedian), ratioStr(lo.OursCPUMedian, r.P1.OursCPUMedian), "(reported)", "", lo.OursCPUMedian, r.P1.OursCPUMedian)
		}
		for _, t := range r.P1.ByType {
			add(fmt.Sprintf("P1 diagnostic: %d %s alone vs %d no-op, CPU time (%+.1f ms per resource)", t.Resources, t.Type, t.Resources, t.ExtraCPUMillisPerResource),
				fmt.Sprintf("%.2f s", t.OursCPUMedian), fmt.Sprintf("%.2f s", t.NoopCPUMedian), ratioStr(t.OursCPUMedian, t.NoopCPUMedian), "(reported)", "", t.OursCPUMedian, t.NoopCPUMedian)
			if t.ShapedCPUMedian > 0 {
				add(fmt.Sprintf("P1 diagnostic: %d %s alone vs %d same-schema no-op, CPU time (%+.1f ms per resource)", t.Resources, t.Type, t.Resources, t.ExtraCPUMillisVsShaped),
					fmt.Sprintf("%.2f s", t.OursCPUMedian), fmt.Sprintf("%.2f s", t.ShapedCPUMedian), ratioStr(t.OursCPUMedian, t.ShapedCPUMedian), "(reported)", "", t.OursCPUMedian, t.ShapedCPUMedian)
			}
		}
		add("P1 peak RSS of one provider process during the plan: ours vs no-op",
			fmt.Sprintf("%.1f MiB", float64(r.P1.PeakRSSKiB)/1024), fmt.Sprintf("%.1f MiB", float64(r.P1.NoopPeakRSSKiB)/1024),
			ratioStr(float64(r.P1.PeakRSSKiB), float64(r.P1.NoopPeakRSSKiB)), "(reported)", "", float64(r.P1.PeakRSSKiB), float64(r.P1.NoopPeakRSSKiB))
	}
	if len(r.P1.Runs) > 0 {
		var reqs, toks []float64
		for _, run := range r.P1.Runs {
			reqs = append(reqs, float64(run.APIRequests))
			toks = append(toks, float64(run.Tokens))
		}
		per := median(reqs) / float64(n)
		add(fmt.Sprintf("P2 API requests per managed resource (%.0f for %d, median of the timed plans)", median(reqs), n),
			fmt.Sprintf("%.2f", per), "1", ratioStr(per, 1), "≤ 1", verdict(per <= 1.0001), per, 1)
		if a := r.P2.Managed; a != nil {
			for _, typ := range sortedKeys(r.P1.Mix) {
				cnt := r.P1.Mix[typ]
				got := a.object(typ)
				per := float64(got) / float64(cnt)
				add(fmt.Sprintf("  %s (%d requests for %d)", typ, got, cnt), fmt.Sprintf("%.2f", per), "1", ratioStr(per, 1), "≤ 1", verdict(per <= 1.0001), per, 1)
			}
		}
		add("P2 ODC token requests per plan (median)", fmt.Sprintf("%.0f", median(toks)), "1", ratioStr(median(toks), 1), "1", verdict(median(toks) == 1), median(toks), 1)
	}
	if a := r.P2.DataSources; a != nil {
		total := 0
		for _, c := range r.P2.DataSourceCounts {
			total += c
		}
		per := float64(a.APIRequests) / float64(total)
		add(fmt.Sprintf("P2 API requests per data source (%d for %d)", a.APIRequests, total), fmt.Sprintf("%.2f", per), "1", ratioStr(per, 1), "≤ 1", verdict(per <= 1.0001), per, 1)
		for _, typ := range sortedKeys(r.P2.DataSourceCounts) {
			cnt := r.P2.DataSourceCounts[typ]
			got := a.object(typ)
			per := float64(got) / float64(cnt)
			add(fmt.Sprintf("  %s (%d requests for %d)", typ, got, cnt), fmt.Sprintf("%.2f", per), "1", ratioStr(per, 1), "≤ 1", verdict(per <= 1.0001), per, 1)
		}
		add("P2 ODC token requests, data-source plan", fmt.Sprint(a.Tokens), "1", ratioStr(float64(a.Tokens), 1), "≤ 1", verdict(a.Tokens <= 1), float64(a.Tokens), 1)
	}
	if p := r.P3; p.Releases > 0 {
		add(fmt.Sprintf("P3 paced apply, %d releases at %d/min: wall vs floor (%d admitted requests / rate)", p.Releases, p.Rate, p.AdmittedRequests),
			fmt.Sprintf("%.1f s", p.Seconds), fmt.Sprintf("%.1f s", p.FloorSeconds), ratioStr(p.Seconds, p.FloorSeconds), "≤ 1.05×",
			verdict(p.Error == "" && p.Seconds <= 1.05*p.FloorSeconds), p.Seconds, p.FloorSeconds)
		add("P3 429 answers the sandbox sent", fmt.Sprint(p.Throttled), "0", "–", "0", verdict(p.Throttled == 0), float64(p.Throttled), 0)
		perRel := float64(p.AdmittedRequests) / float64(p.Releases)
		add("P3 rate-limited requests per release (plan + apply)", fmt.Sprintf("%.2f", perRel), "1", ratioStr(perRel, 1), "(reported)", "", perRel, 1)
		perApply := float64(p.ApplyRequests) / float64(p.Releases)
		add("P3 API requests per release at apply (ApplyResourceChange)", fmt.Sprintf("%.2f", perApply), "2", ratioStr(perApply, 2), "≤ 2", verdict(perApply <= 2.0001), perApply, 2)
		perPlan := float64(p.PlanRequests) / float64(p.Releases)
		add("P3 API requests per release while planning (the plan and the apply's final plan)", fmt.Sprintf("%.2f", perPlan), "–", "–", "(reported)", "", perPlan, 0)
		add("P3 wall vs the sliding window's floor (a burst of `rate`, then a window per `rate` requests)", fmt.Sprintf("%.1f s", p.Seconds),
			fmt.Sprintf("%.1f s", p.BurstFloorSeconds), ratioStr(p.Seconds, p.BurstFloorSeconds), "(reported)", "", p.Seconds, p.BurstFloorSeconds)
		add("P3 wall vs ideal floor (1 request per release / rate)", fmt.Sprintf("%.1f s", p.Seconds), fmt.Sprintf("%.1f s", p.IdealFloorSeconds),
			ratioStr(p.Seconds, p.IdealFloorSeconds), "(reported)", "", p.Seconds, p.IdealFloorSeconds)
	}
	p4runs := r.P4.Runs
	if r.P4.Long != nil {
		p4runs = append(append([]p4Run(nil), p4runs...), *r.P4.Long)
	}
	for _, m := range p4runs {
		add(fmt.Sprintf("P4 completion latency, %s migration", m.Length), fmt.Sprintf("%.2f s", m.LatencySeconds),
			fmt.Sprintf("%.2f s", m.TargetSeconds), ratioStr(m.LatencySeconds, m.TargetSeconds), "≤ max(1 s, 10 %)", verdict(m.LatencySeconds <= m.TargetSeconds),
			m.LatencySeconds, m.TargetSeconds)
		if r.P4.Long != nil && m.Key == r.P4.Long.Key {
			add(fmt.Sprintf("P4 polls, %s migration (measured)", m.Length), fmt.Sprint(m.Polls), "20", ratioStr(float64(m.Polls), 20), "≤ 20",
				verdict(m.Polls <= 20), float64(m.Polls), 20)
			continue
		}
		add(fmt.Sprintf("P4 polls, %s migration", m.Length), fmt.Sprint(m.Polls), "–", "–", "(reported)", "", float64(m.Polls), 0)
	}
	if len(r.P4.Runs) > 0 && r.P4.Long == nil {
		x := r.P4.extrapolatedPolls(longMigration)
		add("P4 polls, 10 min migration (not run: extrapolated linearly from the two longest runs)", fmt.Sprintf("%.0f", x), "20",
			ratioStr(x, 20), "≤ 20", verdict(x <= 20), x, 20)
	}
	if s := r.Startup; s.OursMedian > 0 {
		add(fmt.Sprintf("Start-up: terraform providers schema -json, ours vs no-op (median of %d)", len(s.OursSeconds)),
			fmt.Sprintf("%.3f s", s.OursMedian), fmt.Sprintf("%.3f s", s.NoopMedian), ratioStr(s.OursMedian, s.NoopMedian), "(reported)", "", s.OursMedian, s.NoopMedian)
		add("Binary size, ours vs no-op", fmt.Sprintf("%.1f MiB", float64(s.OursBinaryBytes)/(1<<20)), fmt.Sprintf("%.1f MiB", float64(s.NoopBinaryBytes)/(1<<20)),
			ratioStr(float64(s.OursBinaryBytes), float64(s.NoopBinaryBytes)), "(reported)", "", float64(s.OursBinaryBytes), float64(s.NoopBinaryBytes))
	}
	r.Table = rows
}

func (b *bench) notes() {
	r := b.res
	var notes []string
	if r.P1.LoadBefore != "" {
		notes = append(notes, fmt.Sprintf("P1: load average %s before the timed plans, %s after (%d CPUs): other work on the machine slows the wall-clock figures; the CPU-time rows are less sensitive to it.",
			r.P1.LoadBefore, r.P1.LoadAfter, r.Machine.CPUs))
	}
	for k, c := range r.P1.ChangesPlanned {
		if c > 0 {
			notes = append(notes, fmt.Sprintf("P1: %d of the %s plans were not empty (exit code 2): a Read or plan modifier makes a diff on an unchanged configuration.", c, k))
		}
	}
	if p := r.P3; p.Releases > 0 {
		notes = append(notes, fmt.Sprintf("P3: the sliding one-minute window lets a burst of %d through at once, so the least time %d requests need is %.0f s; the verdict uses requests / rate, as specified.",
			p.Rate, p.AdmittedRequests, p.BurstFloorSeconds))
		for _, ph := range p.Phases {
			notes = append(notes, fmt.Sprintf("P3: provider process %d, %s: %d requests (retries included) from %.1f s for %.1f s.", ph.Process, ph.RPC, ph.Requests, ph.StartSeconds, ph.Seconds))
		}
		if p.Retries > 0 {
			notes = append(notes, fmt.Sprintf("P3: the provider retried %d requests.", p.Retries))
		}
	}
	if len(r.P4.Runs) > 0 && r.P4.Long == nil {
		notes = append(notes, "P4: the 10-minute migration was not run (quick mode; -long runs it): its polls are extrapolated from the measured lengths, linearly, which overstates a policy whose polls grow slower than the length.")
	}
	r.Notes = notes
}

func (b *bench) report(w io.Writer) {
	b.buildTable()
	b.notes()
	r := b.res
	fmt.Fprintf(w, "\nOutSystems provider benchmark (%s mode), %s\n", r.Mode.Name, r.Started)
	fmt.Fprintf(w, "machine: %d CPUs, %s, %.1f GiB; %s; Terraform %s\n\n", r.Machine.CPUs, r.Machine.CPUModel,
		float64(r.Machine.MemoryKiB)/(1<<20), r.Machine.Go, r.Machine.Terraform)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tours\treference\tratio\ttarget\tverdict")
	for _, row := range r.Table {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", row.Metric, row.Ours, row.Reference, row.Ratio, row.Target, row.Verdict)
	}
	tw.Flush()
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.Notes {
			fmt.Fprintln(w, "- "+n)
		}
	}
	if len(r.Sizes) > 0 {
		fmt.Fprintf(w, "\nP1 by size (medians; CPU = terraform and the provider, rusage; provider CPU from the warm-up plan; core = CPU - provider CPU):\n")
		printSizes(w, r.Sizes)
	}
	if a := r.P2.Managed; a != nil {
		fmt.Fprintf(w, "\nP2 refresh requests by resource type, RPC and endpoint (provider debug log):\n")
		printCounts(w, a.ByObjectRPCEndpoint, 25)
	}
	if a := r.P2.DataSources; a != nil {
		fmt.Fprintf(w, "\nP2 data-source requests by type, RPC and endpoint:\n")
		printCounts(w, a.ByObjectRPCEndpoint, 25)
	}
	if len(r.P3.ByRPCEndpoint) > 0 {
		fmt.Fprintf(w, "\nP3 requests by RPC and endpoint (provider debug log, retries included):\n")
		printCounts(w, r.P3.ByRPCEndpoint, 25)
	}
	p4runs := r.P4.Runs
	if r.P4.Long != nil {
		p4runs = append(append([]p4Run(nil), p4runs...), *r.P4.Long)
	}
	if len(p4runs) > 0 {
		fmt.Fprintf(w, "\nP4 runs:\n")
		for _, m := range p4runs {
			fmt.Fprintf(w, "  %s: apply %.2f s, finishedAt - startedAt %.3f s, %d polls, %d API requests in all\n",
				m.Length, m.ApplySeconds, m.MeasuredLengthSeconds, m.Polls, m.APIRequests)
		}
	}
	if len(r.StepSeconds) > 0 {
		parts := make([]string, len(r.StepSeconds))
		for i, s := range r.StepSeconds {
			parts[i] = fmt.Sprintf("%s %.0fs", s.Step, s.Seconds)
		}
		fmt.Fprintf(w, "\nsteps: %s; total %.0f s\n", strings.Join(parts, ", "), time.Since(b.started).Seconds())
	}
	if r.Error != "" {
		fmt.Fprintf(w, "\nINCOMPLETE: %s\n", firstLine(r.Error))
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func printCounts(w io.Writer, cs []count, limit int) {
	sorted := append([]count(nil), cs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	for i, c := range sorted {
		if i == limit {
			fmt.Fprintf(w, "  … %d more in the JSON\n", len(sorted)-limit)
			break
		}
		fmt.Fprintf(w, "  %6d  %s\n", c.N, c.Key)
	}
}

// writeResults writes the results as .bench/bench-<mode>-<time>.json and
// .bench/latest-<mode>.json, and the printed report as latest-<mode>.txt.
func (b *bench) writeResults() error {
	if b.res.TotalSeconds == 0 {
		b.res.TotalSeconds = round(time.Since(b.started).Seconds(), 1)
	}
	data, err := json.MarshalIndent(b.res, "", "  ")
	if err != nil {
		return err
	}
	stamp := b.started.UTC().Format("20060102T150405Z")
	runFile := filepath.Join(b.out, fmt.Sprintf("bench-%s-%s.json", b.mode.Name, stamp))
	if err := os.WriteFile(runFile, append(data, '\n'), 0o644); err != nil {
		return err
	}
	if b.res.Error != "" {
		// An incomplete run leaves latest-<mode>.* to the last complete one.
		fmt.Fprintf(b.progress, "results (incomplete): %s\n", rel(b.root, runFile))
		return nil
	}
	if err := os.WriteFile(filepath.Join(b.out, "latest-"+b.mode.Name+".json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	var sb strings.Builder
	b.report(&sb)
	if err := os.WriteFile(filepath.Join(b.out, "latest-"+b.mode.Name+".txt"), []byte(sb.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(b.progress, "results: %s, %s\n", rel(b.root, filepath.Join(b.out, "latest-"+b.mode.Name+".json")), rel(b.root, filepath.Join(b.out, "latest-"+b.mode.Name+".txt")))
	return nil
}

// printSizes prints P1's ratios per size of -n 100,500,1000.
func printSizes(w io.Writer, sizes []sizeResult) {
	sizes = append([]sizeResult(nil), sizes...)
	sort.SliceStable(sizes, func(i, j int) bool { return sizes[i].Resources < sizes[j].Resources })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "N\tCPU vs no-op\tCPU vs same-schema\twall vs no-op\twall vs same-schema\tprovider CPU vs no-op\tprovider CPU vs same-schema\tcore CPU vs no-op\tcore CPU vs same-schema\tours CPU / wall\tno-op CPU / wall\tsame-schema CPU / wall")
	for _, s := range sizes {
		p := s.P1
		core := func(total, prov float64) float64 { return total - prov }
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f s / %.2f s\t%.2f s / %.2f s\t%.2f s / %.2f s\n", s.Resources,
			ratioStr(p.OursCPUMedian, p.NoopCPUMedian), ratioStr(p.OursCPUMedian, p.ShapedCPUMedian),
			ratioStr(p.OursMedian, p.NoopMedian), ratioStr(p.OursMedian, p.ShapedMedian),
			ratioStr(p.ProviderCPUSeconds, p.NoopProviderCPUSeconds), ratioStr(p.ProviderCPUSeconds, p.ShapedProviderCPUSeconds),
			ratioStr(core(p.OursCPUMedian, p.ProviderCPUSeconds), core(p.NoopCPUMedian, p.NoopProviderCPUSeconds)),
			ratioStr(core(p.OursCPUMedian, p.ProviderCPUSeconds), core(p.ShapedCPUMedian, p.ShapedProviderCPUSeconds)),
			p.OursCPUMedian, p.OursMedian, p.NoopCPUMedian, p.NoopMedian, p.ShapedCPUMedian, p.ShapedMedian)
	}
	tw.Flush()
	for _, s := range sizes {
		for _, t := range s.P1.ByType {
			fmt.Fprintf(w, "  N = %d: %d %s alone: CPU %.2f s, vs no-op %s (%+.1f ms each), vs same-schema %s (%+.1f ms each)\n", s.Resources, t.Resources, t.Type,
				t.OursCPUMedian, ratioStr(t.OursCPUMedian, t.NoopCPUMedian), t.ExtraCPUMillisPerResource, ratioStr(t.OursCPUMedian, t.ShapedCPUMedian), t.ExtraCPUMillisVsShaped)
		}
	}
}
