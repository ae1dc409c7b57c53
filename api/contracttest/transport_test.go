package contracttest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what Errorf reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestCheckingTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append([]byte("echo:"), body...))
	}))
	defer srv.Close()
	var seen []string
	check := func(req *http.Request, reqBody []byte, status int, _ http.Header, respBody []byte) (error, error) {
		seen = append(seen, fmt.Sprintf("%s %s %d %s", reqBody, req.URL.Path, status, respBody))
		return errors.New("bad request"), errors.New("bad answer")
	}
	rec := &recorder{TB: t}
	inAPI := func(req *http.Request) bool { return strings.HasPrefix(req.URL.Path, "/api/") }
	c := &http.Client{Transport: CheckingTransport(rec, nil, "Test contract", inAPI, check)}
	for _, path := range []string{"/api/x", "/other"} {
		resp, err := c.Post(srv.URL+path, "text/plain", strings.NewReader("hi"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if string(body) != "echo:hi" {
			t.Errorf("%s: the caller read %q, want the server's answer", path, body)
		}
	}
	if len(seen) != 1 || seen[0] != "hi /api/x 200 echo:hi" {
		t.Errorf("checked exchanges = %q, want only the /api/ one with both bodies", seen)
	}
	if len(rec.errs) != 2 || !strings.HasPrefix(rec.errs[0], "Test contract: request POST") || !strings.Contains(rec.errs[1], "Test contract: response 200 to POST") {
		t.Errorf("reported = %q, want the request and the response refused", rec.errs)
	}
}
