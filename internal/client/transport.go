// Package client holds the HTTP clients for the OutSystems services the
// provider talks to: LifeTime API v2, the Migration Kit's assessment tool and
// the ODC portal APIs. It has no Terraform framework imports so it can be
// tested and reused on its own; logging goes through terraform-plugin-log,
// which is a no-op outside a provider process.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Defaults for the retry policy.
const (
	DefaultMaxRetries    = 4
	DefaultRetryWaitMin  = 500 * time.Millisecond
	DefaultRetryWaitMax  = 30 * time.Second
	DefaultMaxRetryAfter = 60 * time.Second
	maxResponseBytes     = 32 << 20
)

// Config is what every service client needs besides its credentials.
type Config struct {
	// BaseURL is the service's root URL as a user writes it (scheme and host,
	// optionally a path prefix). Plain http is accepted only for loopback hosts.
	BaseURL string
	// MaxRetries bounds the retries of one call (0 = no retries; negative = default).
	MaxRetries int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff between retries.
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// MaxRetryAfter caps a server's Retry-After hint so a bad header cannot hang a run.
	MaxRetryAfter time.Duration
	// UserAgent is sent on every request.
	UserAgent string
	// HTTPClient is the underlying client (its Transport is used); nil = a pooled default.
	HTTPClient *http.Client
	// RequestsPerMinute paces the service's requests, retries included, to
	// at most this many in any minute, evenly spaced (0 = no limit). On ODC
	// each API domain (portfolios, asset-repository, deployments, ...) has
	// a pool of its own of this size (environment configurations at most 10).
	RequestsPerMinute int
	// DeploymentRequestsPerMinute additionally paces each ODC POST endpoint
	// with a limit of its own: every POST of builds and deployments, POST
	// /assets and POST /code-analyses (ODC documents 10 per minute; POST
	// /users/bulk at most 5); they count toward their domain's pool too
	// (0 = no limit of their own).
	DeploymentRequestsPerMinute int
	// CACertificate is PEM text of CA certificates this service's server
	// certificate may chain to, trusted besides the system roots, for this
	// service only ("" = the system roots alone).
	CACertificate string
	// CACertificateHint completes the error of a server certificate signed
	// by an unknown authority: how the user sets CACertificate.
	CACertificateHint string

	// RateWindow is the window the limits are counted in and the share of
	// it a 429 without Retry-After waits; 0 means DefaultRateWindow, the
	// minute OutSystems counts in. Only tests shorten it, against a sandbox
	// counting in the same shorter window.
	RateWindow time.Duration
}

// maxThrottledRetries bounds the retries of one call after 429 answers
// (each waits a share of the rate window), so that a server that never
// lets a call through cannot hang a run that has no deadline.
const maxThrottledRetries = 40

// ParseBaseURL checks a service URL a user configured: absolute, http or
// https, no query or fragment, and https unless the host is a loopback
// address. The returned URL has no trailing slash.
func ParseBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("the URL is empty")
	}
	// Errors show the URL without its userinfo, query string or fragment:
	// they may hold a secret (ShownURL).
	shown := ShownURL(raw)
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its text repeats the whole URL
		}
		return nil, fmt.Errorf("%q is not a valid URL: %w", shown, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q must start with https:// (got scheme %q)", shown, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q has no host", shown)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%q must not carry credentials in the URL; use the token settings", shown)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("%q must not have a query string or fragment (not shown: it may hold a secret); remove everything from the ? or #", shown)
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("%q uses plain http:// to a host that is not loopback; use https:// (plain http is only allowed for 127.0.0.1, ::1 and localhost, e.g. the sandbox)", shown)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// IsLoopbackHost reports whether host is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ShownURL is a URL as an error message may show it: without its userinfo
// (user:password@), query string or fragment, which may hold secrets. It
// works on text that does not parse as a URL too.
func ShownURL(raw string) string {
	s := strings.TrimSpace(raw)
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	auth := 0
	if i := strings.Index(s, "//"); i >= 0 {
		auth = i + 2
	}
	end := len(s)
	if j := strings.IndexByte(s[auth:], '/'); j >= 0 {
		end = auth + j
	}
	if at := strings.LastIndexByte(s[auth:end], '@'); at >= 0 {
		s = s[:auth] + s[auth+at+1:]
	}
	return s
}

// authorizer adds credentials to a request. invalidate is called once when
// the server answers 401, so refreshable credentials can be renewed.
type authorizer interface {
	authorize(ctx context.Context, req *http.Request) error
	invalidate()
	refreshable() bool
}

// bearer is a static token (LifeTime service accounts).
type bearer string

func (b bearer) authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+string(b))
	return nil
}
func (bearer) invalidate()       {}
func (bearer) refreshable() bool { return false }

// errorParser turns an error response body into messages for an APIError.
type errorParser func(e *APIError, body []byte)

// service is one configured OutSystems API.
type service struct {
	name       string
	base       *url.URL
	http       *retryablehttp.Client
	auth       authorizer
	userAgent  string
	parseError errorParser
	// caHint says how to configure a CA certificate (Config.CACertificateHint).
	caHint string
}

type ctxKey int

const (
	ctxNonIdempotent ctxKey = iota
	ctxService
	ctxLastRetryable
)

// lastRetryable records why the last attempt of a call was retried, so a
// final error can say it.
type lastRetryable struct {
	reason            string
	throttled, others int // retries so far after a 429, after other failures
}

// idleConnsPerHost is how many idle connections a service keeps to its
// host: more than Terraform's default parallelism (10).
const idleConnsPerHost = 16

func newService(name string, cfg Config, apiPrefix string, auth authorizer, parse errorParser) (*service, error) {
	base, err := ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if apiPrefix != "" && !strings.HasSuffix(base.Path, apiPrefix) {
		base.Path += apiPrefix
	}
	rc := retryablehttp.NewClient()
	rc.Logger = nil
	if cfg.HTTPClient != nil {
		rc.HTTPClient = cfg.HTTPClient
	} else if t, ok := rc.HTTPClient.Transport.(*http.Transport); ok {
		// The pooled default keeps GOMAXPROCS+1 idle connections per host
		// (3 on two cores) while Terraform refreshes 10 resources at once:
		// the rest were closed after each request and dialed (with TLS,
		// handshaken) again for the next one (make bench -profile).
		t.MaxIdleConnsPerHost = idleConnsPerHost
	}
	if strings.TrimSpace(cfg.CACertificate) != "" {
		if rc.HTTPClient, err = withCACertificate(rc.HTTPClient, cfg.CACertificate); err != nil {
			return nil, err
		}
	}
	window := orDefault(cfg.RateWindow, DefaultRateWindow)
	maxAfter := orDefault(cfg.MaxRetryAfter, DefaultMaxRetryAfter)
	if cfg.RequestsPerMinute > 0 || cfg.DeploymentRequestsPerMinute > 0 {
		next := rc.HTTPClient.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		hc := *rc.HTTPClient
		pace := &pacer{perMinute: cfg.RequestsPerMinute, endpointPerMinute: cfg.DeploymentRequestsPerMinute, window: window,
			odc: name == odcServiceName, pools: map[string]*Limiter{}}
		hc.Transport = &pacedTransport{next: next, pacer: pace, maxRetryAfter: maxAfter}
		rc.HTTPClient = &hc
	}
	maxRetries := cfg.MaxRetries
	if maxRetries < 0 {
		maxRetries = DefaultMaxRetries
	}
	rc.RetryMax = maxRetries + maxThrottledRetries
	rc.RetryWaitMin = orDefault(cfg.RetryWaitMin, DefaultRetryWaitMin)
	rc.RetryWaitMax = orDefault(cfg.RetryWaitMax, DefaultRetryWaitMax)
	rc.CheckRetry = checkRetry(maxRetries)
	rc.Backoff = backoff(maxAfter, window)
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.RequestLogHook = logRequest
	rc.ResponseLogHook = logResponse
	ua := cfg.UserAgent
	if ua == "" {
		ua = "terraform-provider-outsystems"
	}
	return &service{name: name, base: base, http: rc, auth: auth, userAgent: ua, parseError: parse, caHint: cfg.CACertificateHint}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// checkRetry retries connection errors, 429 and 5xx except 501. A request
// that is not idempotent is retried only when the server cannot have acted
// on it: the connection was never made, or the answer was 429. A 429 is
// retried while the caller's context allows (up to maxThrottledRetries);
// other failures up to maxRetries times.
func checkRetry(maxRetries int) retryablehttp.CheckRetry {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		nonIdempotent, _ := ctx.Value(ctxNonIdempotent).(bool)
		last, _ := ctx.Value(ctxLastRetryable).(*lastRetryable)
		if last == nil {
			last = &lastRetryable{}
		}
		retry := false
		reason := ""
		throttled := false
		switch {
		case err != nil && isCertificateError(err):
			// Retrying cannot make a certificate trusted.
		case err != nil:
			var opErr *net.OpError
			neverSent := errors.As(err, &opErr) && opErr.Op == "dial"
			retry = !nonIdempotent || neverSent
			reason = "connection error: " + err.Error()
		case resp.StatusCode == http.StatusTooManyRequests:
			retry, throttled = true, true
			reason = "429 Too Many Requests"
		case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
			retry = !nonIdempotent
			reason = resp.Status
		}
		if retry && throttled {
			last.throttled++
			retry = last.throttled <= maxThrottledRetries
		} else if retry {
			last.others++
			retry = last.others <= maxRetries
		}
		if retry {
			last.reason = reason
		}
		return retry, nil
	}
}

// backoff honours Retry-After (delta-seconds or HTTP-date) up to maxAfter.
// A 429 without one (ODC documents none) waits a real share of the rate
// window with jitter; other failures wait exponentially with jitter
// between min and max.
func backoff(maxAfter, window time.Duration) retryablehttp.Backoff {
	return func(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
		if resp != nil {
			if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				if d > maxAfter {
					d = maxAfter
				}
				return d
			}
			if resp.StatusCode == http.StatusTooManyRequests {
				return throttleHold(window)
			}
		}
		wait := lo << min(attempt, 20)
		if wait <= 0 || wait > hi {
			wait = hi
		}
		// Full jitter on the upper half so concurrent resources spread out.
		return jitter(wait/2, wait)
	}
}

// ParseRetryAfter reads a Retry-After header in either of its forms. It
// reports false when the header is absent or malformed.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := min(max(t.Sub(now), 0), 24*time.Hour)
		return d, true
	}
	return 0, false
}

var redactedHeaders = map[string]bool{"Authorization": true, "Cookie": true, "Set-Cookie": true, "Proxy-Authorization": true}

// RedactHeaders returns a copy of h that is safe to log.
func RedactHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if redactedHeaders[http.CanonicalHeaderKey(k)] {
			out[k] = "[REDACTED]"
			continue
		}
		out[k] = strings.Join(v, ", ")
	}
	return out
}

func logRequest(_ retryablehttp.Logger, req *http.Request, attempt int) {
	name, _ := req.Context().Value(ctxService).(string)
	tflog.Debug(req.Context(), "OutSystems API request", map[string]any{
		"service": name, "method": req.Method, "url": req.URL.String(),
		"attempt": attempt + 1, "headers": RedactHeaders(req.Header),
	})
}

func logResponse(_ retryablehttp.Logger, resp *http.Response) {
	ctx := resp.Request.Context()
	name, _ := ctx.Value(ctxService).(string)
	fields := map[string]any{
		"service": name, "method": resp.Request.Method, "url": resp.Request.URL.String(),
		"status": resp.StatusCode, "headers": RedactHeaders(resp.Header),
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		fields["retry_after"] = ra
	}
	tflog.Debug(ctx, "OutSystems API response", fields)
}

// request describes one API call.
type request struct {
	method string
	path   string // relative to the service base, segments already escaped
	query  url.Values
	body   any // JSON-encoded when not nil
	// form is sent as application/x-www-form-urlencoded instead of body.
	form url.Values
	// idempotent false limits retries to cases where the server cannot have acted.
	idempotent bool
	// noAuth skips the authorizer (discovery and token endpoints).
	noAuth bool
	// absolute, when set, replaces base+path (discovered endpoints).
	absolute string
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do performs a call with retries and returns the response for any 2xx
// status; any other status becomes an *APIError.
func (s *service) do(ctx context.Context, r request) (*response, error) {
	resp, err := s.attempt(ctx, r)
	if err == nil && resp.status == http.StatusUnauthorized && !r.noAuth && s.auth != nil && s.auth.refreshable() {
		s.auth.invalidate()
		resp, err = s.attempt(ctx, r)
	}
	if err != nil {
		return nil, err
	}
	if resp.status < 200 || resp.status > 299 {
		return nil, s.apiError(r, resp)
	}
	return resp, nil
}

func (s *service) endpoint(r request) string {
	if r.absolute != "" {
		return r.absolute
	}
	u := *s.base
	// r.path is already escaped segment by segment: keep it as the raw path
	// so a reserved character in a key is not escaped twice.
	escaped := s.base.EscapedPath() + r.path
	if unescaped, err := url.PathUnescape(escaped); err == nil {
		u.Path, u.RawPath = unescaped, escaped
	} else {
		u.Path, u.RawPath = escaped, ""
	}
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	return u.String()
}

func (s *service) attempt(ctx context.Context, r request) (*response, error) {
	var body []byte
	contentType := ""
	switch {
	case r.form != nil:
		body = []byte(r.form.Encode())
		contentType = "application/x-www-form-urlencoded"
	case r.body != nil:
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("encoding the %s request body: %w", s.name, err)
		}
		body = b
		contentType = "application/json"
	}
	last := &lastRetryable{}
	ctx = context.WithValue(ctx, ctxService, s.name)
	ctx = context.WithValue(ctx, ctxNonIdempotent, !r.idempotent)
	ctx = context.WithValue(ctx, ctxLastRetryable, last)
	var rawBody any
	if body != nil {
		rawBody = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, s.endpoint(r), rawBody)
	if err != nil {
		return nil, fmt.Errorf("building the %s request %s %s: %w", s.name, r.method, r.path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", s.userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if !r.noAuth && s.auth != nil {
		if err := s.auth.authorize(ctx, req.Request); err != nil {
			return nil, err
		}
	}
	hr, err := s.http.Do(req)
	if err != nil {
		return nil, s.transportError(ctx, r, err, last.reason)
	}
	defer hr.Body.Close()
	b, err := io.ReadAll(io.LimitReader(hr.Body, maxResponseBytes))
	if err != nil {
		return nil, s.transportError(ctx, r, err, last.reason)
	}
	return &response{status: hr.StatusCode, header: hr.Header, body: b}, nil
}

// TransportError is a call that got no HTTP answer (network failure,
// cancelled context, timeout). LastRetryable says why the previous attempt
// was retried, when there was one.
type TransportError struct {
	Service, Method, Path string
	LastRetryable         string
	Err                   error
}

func (e *TransportError) Error() string {
	msg := fmt.Sprintf("%s %s %s: %v", e.Service, e.Method, e.Path, e.Err)
	if e.LastRetryable != "" {
		msg += fmt.Sprintf(" (last retryable error: %s)", e.LastRetryable)
	}
	return msg
}

func (e *TransportError) Unwrap() error { return e.Err }

func (s *service) transportError(ctx context.Context, r request, err error, last string) error {
	// Strip the URL wrapper: it repeats the endpoint and adds nothing.
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if isUntrustedCertificate(err) {
		err = &UntrustedCertificateError{Host: s.base.Host, Hint: s.caHint, Err: err}
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return &TransportError{Service: s.name, Method: r.method, Path: s.base.Path + r.path, LastRetryable: last, Err: err}
}

// APIError is an answer outside 2xx. It carries the HTTP status and every
// message the server sent: LifeTime's Errors list, or the fields of an ODC
// ProblemDetails document.
type APIError struct {
	Service    string
	Method     string
	Path       string
	StatusCode int
	Messages   []string
	// ProblemDetails fields (ODC and the Migration Kit contract).
	Type, Title, Detail, Instance, TraceID, ErrorCode string
	// Extensions are the other members of a ProblemDetails document, such
	// as the Migration Kit's conflictingMappingKey (see parseProblemDetails).
	Extensions map[string]any
	// RetryAfter is the server's hint on a 429, when given.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s answered %d %s to %s %s", e.Service, e.StatusCode, http.StatusText(e.StatusCode), e.Method, e.Path)
	parts := []string{}
	if e.Title != "" {
		parts = append(parts, e.Title)
	}
	if e.Detail != "" && e.Detail != e.Title {
		parts = append(parts, e.Detail)
	}
	parts = append(parts, e.Messages...)
	if len(parts) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(parts, "; "))
	}
	var ids []string
	if e.ErrorCode != "" {
		ids = append(ids, "errorCode "+e.ErrorCode)
	}
	if e.TraceID != "" {
		ids = append(ids, "traceId "+e.TraceID)
	}
	if len(ids) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(ids, ", "))
	}
	return b.String()
}

// AllMessages returns the title, detail and messages in order.
func (e *APIError) AllMessages() []string {
	var out []string
	if e.Title != "" {
		out = append(out, e.Title)
	}
	if e.Detail != "" && e.Detail != e.Title {
		out = append(out, e.Detail)
	}
	return append(out, e.Messages...)
}

// StatusCode returns the HTTP status of an *APIError in err's chain, or 0.
func StatusCode(err error) int {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

func (s *service) apiError(r request, resp *response) *APIError {
	e := &APIError{Service: s.name, Method: r.method, Path: s.base.Path + r.path, StatusCode: resp.status}
	if r.absolute != "" {
		if u, err := url.Parse(r.absolute); err == nil {
			e.Path = u.Path
		}
	}
	if d, ok := ParseRetryAfter(resp.header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	body := bytes.TrimSpace(resp.body)
	if len(body) > 0 && s.parseError != nil {
		s.parseError(e, body)
	}
	if len(e.Messages) == 0 && e.Title == "" && e.Detail == "" && len(body) > 0 {
		e.Messages = []string{truncate(string(body), 2000)}
	}
	return e
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// decodeJSON decodes a response body; an empty body (204) leaves v unchanged.
func decodeJSON(serviceName string, r request, resp *response, v any) error {
	if len(bytes.TrimSpace(resp.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.body, v); err != nil {
		return fmt.Errorf("%s answered %d to %s %s with a body that is not the expected JSON: %w", serviceName, resp.status, r.method, r.path, err)
	}
	return nil
}

// pathf formats a path whose arguments are each escaped as one segment.
func pathf(format string, segments ...string) string {
	args := make([]any, len(segments))
	for i, s := range segments {
		args[i] = url.PathEscape(s)
	}
	return fmt.Sprintf(format, args...)
}
