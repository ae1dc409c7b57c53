package client

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Fuzz tests of the client's parsers: run with the seed corpus in make test,
// and longer with make fuzz.

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"", "0", "7", "-3", "99999999999999999999", now.Add(time.Minute).Format(http.TimeFormat), "Fri, 27 Nov 2026 11:00:00 GMT", " 5 ", "soon"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseRetryAfter(v, now)
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v but not ok", v, d)
		}
		if d < 0 || d > 24*time.Hour {
			t.Fatalf("ParseRetryAfter(%q) = %v, outside [0, 24h]", v, d)
		}
	})
}

func FuzzParseBaseURL(f *testing.F) {
	for _, s := range []string{"https://lifetime.example.com/", "http://127.0.0.1:8085", "http://[::1]:1/x", "http://example.com", "ftp://x", "https://u:p@x", "https://x/?q=1", "", "https://x/a%2Fb/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := ParseBaseURL(raw)
		if err != nil {
			if strings.Contains(err.Error(), "@") && strings.Contains(raw, "@") && u != nil {
				t.Fatal("an error came with a URL")
			}
			return
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("ParseBaseURL(%q) accepted scheme %q", raw, u.Scheme)
		}
		if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("ParseBaseURL(%q) = %v", raw, u)
		}
		if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
			t.Fatalf("ParseBaseURL(%q) accepted plain http to %q", raw, u.Hostname())
		}
		if strings.HasSuffix(u.Path, "/") {
			t.Fatalf("ParseBaseURL(%q) kept a trailing slash: %q", raw, u.Path)
		}
	})
}

func FuzzErrorBodies(f *testing.F) {
	for _, s := range []string{
		`{"Errors":["a","b"],"StatusCode":400}`, `"plain string"`, `not json`, ``, `{"Errors":null}`,
		`{"type":"t","title":"Bad","status":400,"detail":"d","traceId":"x","errorCode":"E","conflictingMappingKey":"k"}`,
		`{"title":null,"errors":{"name":["too long"]}}`, `[1,2]`, `{"Errors":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, parse := range []errorParser{parseLifeTimeError, parseProblemDetails} {
			e := &APIError{Service: "X", Method: "GET", Path: "/p", StatusCode: 400}
			parse(e, body)
			msg := e.Error()
			if !strings.HasPrefix(msg, "X answered 400") {
				t.Fatalf("Error() = %q", msg)
			}
		}
	})
}

func FuzzParseCreatedKey(f *testing.F) {
	for _, s := range []string{`{"ApplicationVersionKey":"0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"}`, `"0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d"`, "0b8a52b3-3c4e-4a5a-9d3a-1e2f3a4b5c6d\n", `{}`, `{"applicationversionkey":7}`, `x`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		key, err := parseCreatedKey(body, "ApplicationVersionKey")
		if err == nil && key == "" {
			t.Fatalf("parseCreatedKey(%q) returned an empty key without error", body)
		}
		if err == nil && !strings.HasPrefix(strings.TrimSpace(string(body)), "{") && !IsGUID(key) {
			t.Fatalf("parseCreatedKey(%q) = %q: a plain-text answer must be a GUID", body, key)
		}
	})
}
