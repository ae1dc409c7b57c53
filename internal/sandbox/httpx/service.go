package httpx

import (
	"context"
	"errors"
	"log"
	"net/http"
)

// API declares one API family a service serves, so the kernel can count,
// throttle and fail its requests in the right shape.
type API struct {
	// Family names the family ("lifetime", "odc", ...): chaos, the rate
	// limits and the request counters key on it.
	Family string
	// Prefixes are the path prefixes the family serves; the longest prefix
	// that matches a path wins.
	Prefixes []string
	// WriteError answers an error the kernel makes (429, chaos failures) in
	// the API's own shape.
	WriteError func(w http.ResponseWriter, r *http.Request, status int, detail string)
}

// WriteStoreError answers a store error with onError: its message for
// not-found (404) and invalid (400) requests, nothing when the client went
// away, a generic message (and a line in logger) otherwise.
func WriteStoreError(logger *log.Logger, w http.ResponseWriter, r *http.Request, err error, onError ErrorWriter) {
	switch {
	case errors.Is(err, ErrNotFound):
		onError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrInvalid):
		onError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
	default:
		logger.Printf("%s %s: internal error: %v", r.Method, r.URL.Path, err)
		onError(w, http.StatusInternalServerError, "Internal error in the sandbox; see its log.")
	}
}
