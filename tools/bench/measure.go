package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// --- peak RSS of the provider processes ---

// rssMonitor polls /proc for processes running exe and keeps the highest
// VmHWM (peak resident set) any of them reported. Terraform starts a
// provider process per phase (schema, validate, plan), so it watches all.
type rssMonitor struct {
	exe  string
	stop chan struct{}
	done chan struct{}

	mu     sync.Mutex
	peakKB int64
	pids   map[int]int64
	ticks  map[int]int64 // utime+stime, in clock ticks, last seen per process
}

func watchRSS(exe string) *rssMonitor {
	m := &rssMonitor{exe: exe, stop: make(chan struct{}), done: make(chan struct{}), pids: map[int]int64{}, ticks: map[int]int64{}}
	go m.loop()
	return m
}

func (m *rssMonitor) loop() {
	defer close(m.done)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		m.scan()
		select {
		case <-m.stop:
			return
		case <-tick.C:
		}
	}
}

func (m *rssMonitor) scan() {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err != nil || exe != m.exe {
			continue
		}
		kb := vmHWM(pid)
		ticks := cpuTicks(pid)
		m.mu.Lock()
		if ticks > m.ticks[pid] {
			m.ticks[pid] = ticks
		}
		if kb > m.pids[pid] {
			m.pids[pid] = kb
		}
		m.peakKB = max(m.peakKB, kb)
		m.mu.Unlock()
	}
}

func vmHWM(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// cpuTicks is a process's user and system time so far, in clock ticks
// (fields 14 and 15 of /proc/<pid>/stat).
func cpuTicks(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from its closing parenthesis.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat times (100 on Linux).
const clockTick = 10 * time.Millisecond

// finish stops polling and returns the peak VmHWM in KiB, how many provider
// processes were seen and their CPU time (as last seen, so it may miss the
// last few milliseconds of each).
func (m *rssMonitor) finish() (peakKB int64, procs int, cpu time.Duration) {
	close(m.stop)
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	var ticks int64
	for _, t := range m.ticks {
		ticks += t
	}
	return m.peakKB, len(m.pids), time.Duration(ticks) * clockTick
}

// --- the provider's own request log (TF_LOG_PROVIDER=DEBUG) ---

// providerRequest is one "OutSystems API request" line the provider logs
// (internal/client/transport.go logRequest), with the Terraform object and
// RPC it was made for (fields terraform-plugin-go adds to every log line).
type providerRequest struct {
	Method, URL, Path string
	Attempt           int
	Object            string // resource or data source type; "" when neither (e.g. provider-level)
	DataSource        bool
	RPC               string
	Time              time.Time
	// Process numbers the provider processes Terraform started, from 1, when
	// the log has Terraform core's lines too (TF_LOG); 0 otherwise.
	Process int
}

var (
	hclogField     = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S+)`)
	hclogTimestamp = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z)`)
)

// parseProviderLog reads the requests the provider logged to a TF_LOG_PATH file.
func parseProviderLog(path string) ([]providerRequest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []providerRequest
	process := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 256<<10), 8<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "provider: plugin started:") && strings.Contains(line, "/terraform-provider-outsystems ") {
			process++
			continue
		}
		i := strings.Index(line, "provider.terraform-provider-outsystems: OutSystems API request:")
		if i < 0 {
			continue
		}
		fields := map[string]string{}
		for _, m := range hclogField.FindAllStringSubmatch(line[i:], -1) {
			v := m[2]
			if uq, err := strconv.Unquote(v); err == nil {
				v = uq
			}
			fields[m[1]] = v
		}
		r := providerRequest{Method: fields["method"], URL: fields["url"], RPC: fields["tf_rpc"], Process: process}
		r.Attempt, _ = strconv.Atoi(fields["attempt"])
		if u := r.URL; u != "" {
			if j := strings.Index(u, "://"); j >= 0 {
				u = u[j+3:]
				if k := strings.IndexByte(u, '/'); k >= 0 {
					u = u[k:]
				}
			}
			r.Path, _, _ = strings.Cut(u, "?")
		}
		switch {
		case fields["tf_resource_type"] != "":
			r.Object = fields["tf_resource_type"]
		case fields["tf_data_source_type"] != "":
			r.Object, r.DataSource = fields["tf_data_source_type"], true
		}
		if m := hclogTimestamp.FindStringSubmatch(line); m != nil {
			r.Time, _ = time.Parse(time.RFC3339Nano, m[1])
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// --- request paths ---

var (
	guidSegment = regexp.MustCompile(`(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	numSegment  = regexp.MustCompile(`^[0-9]+$`)
)

// endpoint turns a request path into its endpoint: keys as {key}, numbers as {n}.
func endpoint(method, path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		switch {
		case guidSegment.MatchString(p):
			parts[i] = "{key}"
		case numSegment.MatchString(p):
			parts[i] = "{n}"
		}
	}
	return method + " " + strings.Join(parts, "/")
}

// countBy counts items by a key, most frequent first.
type count struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

func countBy[T any](items []T, key func(T) string) []count {
	m := map[string]int{}
	for _, it := range items {
		m[key(it)]++
	}
	out := make([]count, 0, len(m))
	for k, n := range m {
		out = append(out, count{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// --- statistics ---

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func seconds(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = d.Seconds()
	}
	return out
}
