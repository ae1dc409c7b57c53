package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/provider"
)

// --- the sandbox, run as its own process ---

// sandboxProc is one run of the outsystems-sandbox binary. Its stderr (one
// line per request: "METHOD PATH STATUS elapsed") goes to logPath, which the
// harness reads to count requests by path.
type sandboxProc struct {
	cmd     *exec.Cmd
	done    chan struct{}
	url     string
	exports map[string]string
	logPath string
	logFile *os.File
	http    *http.Client
}

// exportNames are the variables the sandbox prints; all must arrive.
var exportNames = []string{
	provider.EnvLifeTimeURL, provider.EnvAssessmentURL, provider.EnvLifeTimeToken,
	provider.EnvODCPortalURL, provider.EnvODCClientID, provider.EnvODCClientSecret,
}

// startSandbox starts the sandbox on a free loopback port with args and
// waits until it printed its exports and answers its health check.
func startSandbox(ctx context.Context, bin, logPath string, args ...string) (*sandboxProc, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	args = append([]string{"--listen", "127.0.0.1:0"}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start sandbox: %w", err)
	}
	p := &sandboxProc{cmd: cmd, done: make(chan struct{}), exports: map[string]string{}, logPath: logPath, logFile: logFile,
		http: &http.Client{Timeout: 30 * time.Second}}
	go func() { _ = cmd.Wait(); close(p.done) }()

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for len(p.exports) < len(exportNames) {
		select {
		case l, ok := <-lines:
			if !ok {
				p.stop()
				return nil, fmt.Errorf("the sandbox exited at start (%s): %s", strings.Join(args, " "), tail(logPath, 20))
			}
			if kv, ok := strings.CutPrefix(l, "export "); ok {
				k, v, _ := strings.Cut(kv, "=")
				p.exports[k] = unquoteShell(v)
			}
		case <-deadline.C:
			p.stop()
			return nil, fmt.Errorf("the sandbox printed no exports in 30s: %s", tail(logPath, 20))
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		}
	}
	go func() {
		for range lines { //nolint:revive // drain stdout
		}
	}()
	for _, k := range exportNames {
		if p.exports[k] == "" {
			p.stop()
			return nil, fmt.Errorf("the sandbox did not export %s", k)
		}
	}
	p.url = p.exports[provider.EnvLifeTimeURL]
	if err := p.admin(ctx, http.MethodGet, "/_sandbox/health", nil); err != nil {
		p.stop()
		return nil, fmt.Errorf("sandbox health check: %w", err)
	}
	return p, nil
}

func unquoteShell(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return strings.ReplaceAll(v[1:len(v)-1], `'\''`, "'")
	}
	return v
}

// env returns the sandbox's exports as NAME=value lines.
func (p *sandboxProc) env() []string {
	out := make([]string, 0, len(p.exports))
	for _, k := range exportNames {
		out = append(out, k+"="+p.exports[k])
	}
	return out
}

// stop ends the sandbox with SIGTERM (it shuts down cleanly and closes its
// database), then SIGKILL if it has not exited within 15 seconds.
func (p *sandboxProc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	p.logFile.Close()
}

// admin calls the sandbox's admin surface; out, when not nil, receives the JSON answer.
func (p *sandboxProc) admin(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, p.url+path, nil)
	if err != nil {
		return err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(body))
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// familyStats and sandboxStats mirror GET /_sandbox/stats.
type familyStats struct {
	Requests  int64 `json:"requests"`
	Throttled int64 `json:"throttled"`
}

type sandboxStats struct {
	ByFamily            map[string]familyStats `json:"byFamily"`
	Tokens              int64                  `json:"tokens"`
	RateLimit           int                    `json:"rateLimit"`
	DeploymentRateLimit int                    `json:"deploymentRateLimit"`
}

// apiRequests counts the requests to the OutSystems APIs proper: LifeTime,
// the assessment tool, ODC and code migrations (not the identity service,
// whose discovery and token requests are counted apart).
func (s sandboxStats) apiRequests() int64 {
	var n int64
	for _, f := range []string{"lifetime", "assessment", "odc", "codeMigration"} {
		n += s.ByFamily[f].Requests
	}
	return n
}

func (s sandboxStats) throttled() int64 {
	var n int64
	for _, f := range s.ByFamily {
		n += f.Throttled
	}
	return n
}

func (p *sandboxProc) stats(ctx context.Context) (sandboxStats, error) {
	var st sandboxStats
	err := p.admin(ctx, http.MethodGet, "/_sandbox/stats", &st)
	return st, err
}

func (p *sandboxProc) resetStats(ctx context.Context) error {
	return p.admin(ctx, http.MethodPost, "/_sandbox/stats/reset", nil)
}

// logOffset is where the request log ends now; requestsSince reads what
// was logged after it.
func (p *sandboxProc) logOffset() int64 {
	st, err := os.Stat(p.logPath)
	if err != nil {
		return 0
	}
	return st.Size()
}

// loggedRequest is one line of the sandbox's request log.
type loggedRequest struct {
	Method, Path string
	Status       int
}

var requestLine = regexp.MustCompile(`\s(GET|POST|PUT|PATCH|DELETE|HEAD) (/\S*) (\d{3})(\s|$)`)

func (p *sandboxProc) requestsSince(off int64) ([]loggedRequest, error) {
	// The sandbox writes each line in one write; give the last ones a moment.
	time.Sleep(50 * time.Millisecond)
	f, err := os.Open(p.logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, err
	}
	var out []loggedRequest
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := requestLine.FindStringSubmatch(sc.Text())
		if m == nil || strings.HasPrefix(m[2], "/_sandbox/") {
			continue // not a request, or the harness's own admin calls
		}
		status, _ := strconv.Atoi(m[3])
		out = append(out, loggedRequest{Method: m[1], Path: m[2], Status: status})
	}
	return out, sc.Err()
}

// --- terraform ---

// terraform runs the pinned terraform CLI with a CLI configuration of the
// harness's own (dev_overrides for the OutSystems provider and the two no-op floors)
// and an environment built from scratch: nothing of the caller's TF_*
// variables leaks in.
type terraform struct {
	bin  string
	rc   string
	home string
}

func newTerraform(bin, dir, providerDir string) (*terraform, error) {
	rc := filepath.Join(dir, "terraformrc")
	cfg := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n    %q = %q\n    %q = %q\n  }\n  direct {}\n}\n",
		ourAddress, providerDir, noopAddress, providerDir, shapedAddress, filepath.Join(providerDir, "shaped"))
	if err := os.WriteFile(rc, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, err
	}
	return &terraform{bin: bin, rc: rc, home: home}, nil
}

// workspace is a directory holding one configuration and its local state.
type workspace struct {
	tf   *terraform
	dir  string
	name string
}

func (t *terraform) workspace(root, name, config string) (*workspace, error) {
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644); err != nil {
		return nil, err
	}
	return &workspace{tf: t, dir: dir, name: name}, nil
}

type runResult struct {
	Code int
	// CPU is the user and system time of terraform and of the provider
	// processes it started and reaped (rusage of the process tree).
	CPU        time.Duration
	Stdout     string
	Stderr     string
	Start, End time.Time
}

func (r runResult) elapsed() time.Duration { return r.End.Sub(r.Start) }

// run runs terraform in the workspace with the extra environment; it fails
// when terraform exits with a code not in okCodes (default: 0).
func (w *workspace) run(ctx context.Context, timeout time.Duration, env []string, okCodes []int, args ...string) (runResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.tf.bin, append([]string{"-chdir=" + w.dir}, args...)...)
	cmd.Env = append([]string{
		"TF_CLI_CONFIG_FILE=" + w.tf.rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"HOME=" + w.tf.home, "PATH=" + os.Getenv("PATH"),
	}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Interrupt the whole process group (terraform and its providers).
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	res := runResult{Start: time.Now()}
	err := cmd.Run()
	res.End = time.Now()
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			res.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.Code = exitErr.ExitCode()
	case err != nil:
		return res, fmt.Errorf("terraform %s in %s: %w", strings.Join(args, " "), w.name, err)
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return res, fmt.Errorf("terraform %s in %s: gave up after %s", strings.Join(args, " "), w.name, timeout)
	case ctx.Err() != nil:
		return res, fmt.Errorf("terraform %s in %s: interrupted", strings.Join(args, " "), w.name)
	}
	if len(okCodes) == 0 {
		okCodes = []int{0}
	}
	for _, c := range okCodes {
		if res.Code == c {
			return res, nil
		}
	}
	return res, fmt.Errorf("terraform %s in %s exited %d:\n%s%s", strings.Join(args, " "), w.name, res.Code,
		lastLines(res.Stdout, 40), lastLines(res.Stderr, 40))
}

// stateResources reads the workspace's local state file: every resource
// instance's attributes, by type.
func (w *workspace) stateResources() (map[string][]stateInstance, error) {
	data, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if err != nil {
		return nil, err
	}
	var st struct {
		Resources []struct {
			Mode      string `json:"mode"`
			Type      string `json:"type"`
			Name      string `json:"name"`
			Instances []struct {
				IndexKey   any            `json:"index_key"`
				Attributes map[string]any `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, err
	}
	out := map[string][]stateInstance{}
	for _, r := range st.Resources {
		if r.Mode != "managed" {
			continue
		}
		for _, in := range r.Instances {
			key := ""
			if in.IndexKey != nil {
				key = fmt.Sprint(in.IndexKey)
			}
			out[r.Type] = append(out[r.Type], stateInstance{Name: r.Name, Key: key, Attributes: in.Attributes})
		}
	}
	return out, nil
}

type stateInstance struct {
	Name, Key  string
	Attributes map[string]any
}

func (s stateInstance) str(attr string) string {
	v, _ := s.Attributes[attr].(string)
	return v
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return lastLines(string(data), n)
}

// writeFilteredState copies a local state file, keeping only the managed
// resources of one type.
func writeFilteredState(src, dstDir, typ string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var st map[string]any
	if err := json.Unmarshal(data, &st); err != nil {
		return err
	}
	all, _ := st["resources"].([]any)
	var kept []any
	for _, r := range all {
		if m, ok := r.(map[string]any); ok && m["type"] == typ && m["mode"] == "managed" {
			kept = append(kept, m)
		}
	}
	st["resources"] = kept
	st["outputs"] = map[string]any{}
	out, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dstDir, "terraform.tfstate"), out, 0o644)
}

// writeShapedState copies a local state file for the same-schema no-op
// provider: the same resources and attributes, the provider address
// replaced.
func writeShapedState(src, dstDir string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	out := bytes.ReplaceAll(data, []byte(`provider[\"`+ourAddress+`\"]`), []byte(`provider[\"`+shapedAddress+`\"]`))
	if bytes.Equal(out, data) {
		return fmt.Errorf("%s: no resource of %s to copy", src, ourAddress)
	}
	return os.WriteFile(filepath.Join(dstDir, "terraform.tfstate"), out, 0o644)
}
