package sandbox

import (
	"fmt"
	"net/http"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// routes assembles every API of the sandbox on one handler.
func (s *Sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	services := s.services()
	for _, svc := range services {
		svc.Register(mux)
	}
	s.apis = newAPITable(services)
	s.registerAdmin(mux)
	// Any other path under the ODC portal's /api/ answers as ODC does: a
	// ProblemDetails 404. In the tenant profile that includes the Migration
	// Kit's code-migration paths.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		odc.WriteProblem(w, http.StatusNotFound, fmt.Sprintf("There is no ODC API endpoint at %s.", r.URL.Path))
	})
	// Any other path (in the tenant profile, the assessment tool's too)
	// answers the O11 server's plain 404.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "no such API: " + r.URL.Path})
	})
	return s.logRequests(s.apiMiddleware(mux))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	// dropped is set when no answer went out: chaos closed the connection,
	// or the client left while chaos delayed the request. status is then
	// the answer that was lost (0: the request was not carried out).
	dropped bool
}

func (r *statusRecorder) NoteDropped(status int) { r.dropped, r.status = true, status }

// Unwrap lets http.ResponseController reach the connection (chaos hijacks it).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// logRequests logs method, path, status and duration of each request, and
// nothing else: no headers (tokens), no query strings, no bodies.
func (s *Sandbox) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		elapsed := time.Since(start).Round(time.Microsecond)
		switch {
		case rec.dropped && rec.status == 0:
			s.logger.Printf("%s %s dropped (no answer, request not carried out) %s", r.Method, r.URL.Path, elapsed)
		case rec.dropped:
			s.logger.Printf("%s %s %d dropped (carried out, answer lost) %s", r.Method, r.URL.Path, rec.status, elapsed)
		default:
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			s.logger.Printf("%s %s %d %s", r.Method, r.URL.Path, rec.status, elapsed)
		}
	})
}

// writeStoreError answers a store error (see httpx.WriteStoreError).
func (s *Sandbox) writeStoreError(w http.ResponseWriter, r *http.Request, err error, onError httpx.ErrorWriter) {
	httpx.WriteStoreError(s.logger, w, r, err, onError)
}
