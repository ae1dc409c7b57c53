// Package httpx holds the HTTP helpers every imitated service of the
// sandbox shares: JSON answers, bearer tokens, the per-method router with
// 405 + Allow, the end check of JSON bodies, GUID keys from requests, and
// the store error kinds (not found, invalid, conflict) handlers map to
// status codes.
package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// MaxBodyBytes bounds the request bodies the handlers read.
const MaxBodyBytes = 1 << 20

// WriteJSON answers status with v as JSON. HTML characters are not escaped
// (LifeTime sends "&" and "<" as they are).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "cannot encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body.Bytes())
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header, and false when there is none.
func BearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// JSONEnd reports an error unless nothing but white space follows the
// value dec decoded: a request body is one JSON value.
func JSONEnd(dec *json.Decoder) error {
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// ErrorWriter writes an error response in the shape of one API.
type ErrorWriter func(w http.ResponseWriter, status int, messages ...string)

// Route registers handlers per method for one path pattern, with and
// without a trailing slash (OutSystems documents paths with one, its own
// clients call them without). Other methods get 405 with an Allow header,
// in the API's error shape.
func Route(mux *http.ServeMux, pattern string, handlers map[string]http.HandlerFunc, onError ErrorWriter) {
	methods := slices.Sorted(maps.Keys(handlers))
	allow := strings.Join(methods, ", ")
	notAllowed := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		onError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %s is not allowed on %s. Allowed: %s.", r.Method, r.URL.Path, allow))
	}
	for _, p := range []string{pattern, pattern + "/{$}"} {
		for _, m := range methods {
			mux.HandleFunc(m+" "+p, handlers[m])
		}
		mux.HandleFunc(p, notAllowed)
	}
}

// ParseKey checks a GUID key from a request and returns it in the
// canonical lower-case form the stores use; name is what the message calls
// it.
func ParseKey(name, value string) (string, error) {
	id, err := uuid.Parse(value)
	if err != nil {
		return "", Invalidf("Invalid %s '%s': expected a GUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6.", name, value)
	}
	return id.String(), nil
}
