package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
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
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such API: " + r.URL.Path})
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

func (r *statusRecorder) noteDropped(status int) { r.dropped, r.status = true, status }

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

// writeLTError answers in LifeTime's error shape:
// {"Errors":["..."],"StatusCode":400}.
func writeLTError(w http.ResponseWriter, status int, messages ...string) {
	writeJSON(w, status, ltError{Errors: messages, StatusCode: status})
}

// writeStoreError answers a store error: its message for not-found and
// invalid requests, a generic message (and a log line) otherwise.
func (s *Sandbox) writeStoreError(w http.ResponseWriter, r *http.Request, err error, onError errorWriter) {
	switch {
	case errors.Is(err, errNotFound):
		onError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, errInvalid):
		onError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
	default:
		s.logger.Printf("%s %s: internal error: %v", r.Method, r.URL.Path, err)
		onError(w, http.StatusInternalServerError, "Internal error in the sandbox; see its log.")
	}
}

// --- LifeTime authentication ---

type accountContextKey struct{}

// requireServiceAccount admits requests carrying the bearer token of a
// LifeTime service account, and answers 401 otherwise.
func (s *Sandbox) requireServiceAccount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="LifeTime"`)
			writeLTError(w, http.StatusUnauthorized, "Authentication required: send the service account token as 'Authorization: Bearer <token>'.")
			return
		}
		account, err := s.store.accountByToken(r.Context(), token)
		if errors.Is(err, errNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="LifeTime", error="invalid_token"`)
			writeLTError(w, http.StatusUnauthorized, "Invalid or revoked service account token.")
			return
		}
		if err != nil {
			s.writeStoreError(w, r, err, writeLTError)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), accountContextKey{}, account)))
	})
}

// requireAdministrator answers 403, naming the service account and what it
// misses, unless the caller has the Administrator role. It reports whether
// the request may go on.
func requireAdministrator(w http.ResponseWriter, r *http.Request, action, permission string) bool {
	account, _ := r.Context().Value(accountContextKey{}).(serviceAccount)
	if account.Role == RoleAdministrator {
		return true
	}
	writeLTError(w, http.StatusForbidden, fmt.Sprintf(
		"Service account '%s' does not have permission to %s. It needs the '%s' permission level.", account.Name, action, permission))
	return false
}
