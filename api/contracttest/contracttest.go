// Package contracttest holds HTTP traffic to the project's OpenAPI
// contracts, so the sandbox, the clients and the documents cannot drift
// apart. Tests use it two ways: Check on a request and response they made
// themselves, or Transport to validate everything a client sends and gets.
package contracttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
)

// Contract is an OpenAPI document whose servers point at a test server.
type Contract struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
}

// New loads and validates an OpenAPI 3.0 document and points its servers
// (the document's and its path items') at baseURL (like
// http://127.0.0.1:8085): each server keeps its path, and its scheme and
// host (variables included) become baseURL's.
func New(spec []byte, baseURL string) (*Contract, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("load the document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the document is not valid: %w", err)
	}
	base := strings.TrimRight(baseURL, "/")
	// Servers of the document and of path items (an API served by another
	// host, such as the ODC portal's code migration operations).
	servers := append(openapi3.Servers(nil), doc.Servers...)
	for _, item := range doc.Paths.Map() {
		servers = append(servers, item.Servers...)
	}
	for _, s := range servers {
		_, rest, ok := strings.Cut(s.URL, "://")
		if !ok {
			return nil, fmt.Errorf("server URL %q is not absolute", s.URL)
		}
		path := ""
		if i := strings.Index(rest, "/"); i >= 0 {
			path = rest[i:]
		}
		if strings.Contains(path, "{") {
			return nil, fmt.Errorf("server URL %q has variables in its path", s.URL)
		}
		s.URL = base + path
		s.Variables = nil
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the document: %w", err)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true, // an undocumented status is a mismatch
		SkipSettingDefaults:   true,
		AuthenticationFunc:    requireBearer,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uuid", openapi3.NewCallbackValidator(checkUUID)),
		},
	}
	return &Contract{doc: doc, router: router, opts: opts}, nil
}

// CheckSchema validates a JSON document against one of the document's
// component schemas, for answers the contract describes only by their body
// (such as the ProblemDetails of a path the contract does not have).
func (c *Contract) CheckSchema(name string, body []byte) error {
	ref := c.doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("the document has no schema %q", name)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return ref.Value.VisitJSON(v, c.opts.SchemaValidationOptions...)
}

// checkUUID accepts the 8-4-4-4-12 hexadecimal form only (uuid.Parse also
// takes braces, "urn:uuid:" and the 32-digit form).
func checkUUID(s string) error {
	if len(s) != 36 {
		return fmt.Errorf("%q is not a GUID in the 8-4-4-4-12 form", s)
	}
	if _, err := uuid.Parse(s); err != nil {
		return fmt.Errorf("%q is not a GUID: %w", s, err)
	}
	return nil
}

// requireBearer satisfies an http bearer security scheme when the request
// carries a non-empty bearer token; it does not judge the token.
func requireBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	scheme := in.SecurityScheme
	if scheme == nil || scheme.Type != "http" || !strings.EqualFold(scheme.Scheme, "bearer") {
		return fmt.Errorf("security scheme %q is not supported by contracttest", in.SecuritySchemeName)
	}
	kind, token, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(kind, "Bearer") || strings.TrimSpace(token) == "" {
		return errors.New("no bearer token in the Authorization header")
	}
	return nil
}

// Check validates a request (its body given apart, as the request's own may
// be consumed) and the response it got. reqErr reports how the request
// breaks the contract, respErr how the response does; a request whose path
// and method the document does not have makes both errors.
func (c *Contract) Check(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) (reqErr, respErr error) {
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		err = fmt.Errorf("%s %s is not an operation of the contract: %w", req.Method, req.URL.Path, err)
		return err, err
	}
	clone := req.Clone(req.Context())
	clone.Body = io.NopCloser(bytes.NewReader(reqBody))
	clone.ContentLength = int64(len(reqBody))
	in := &openapi3filter.RequestValidationInput{Request: clone, PathParams: params, Route: route, Options: c.opts}
	reqErr = openapi3filter.ValidateRequest(req.Context(), in)
	respErr = openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                c.opts,
	})
	if respErr != nil {
		respErr = fmt.Errorf("%w; body: %s", respErr, Truncate(respBody))
	}
	return reqErr, respErr
}

// Truncate shortens a body quoted in an error to 2,000 bytes.
func Truncate(b []byte) string {
	const limit = 2000
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}

// CheckFunc checks one exchange against a document: the request (with its
// body) and the answer (status, headers, body).
type CheckFunc func(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) (reqErr, respErr error)

// Transport returns a RoundTripper that sends requests through next (nil =
// http.DefaultTransport) and fails t (with Errorf) on every request or
// response that breaks the contract.
func (c *Contract) Transport(t testing.TB, next http.RoundTripper) http.RoundTripper {
	return CheckingTransport(t, next, "contract", nil, c.Check)
}

// CheckingTransport returns a RoundTripper that sends requests through next
// (nil = http.DefaultTransport) and fails t (with Errorf, the messages
// starting with name) on every exchange check refuses. Requests for which
// applies is false pass unchecked (nil: every request is checked).
func CheckingTransport(t testing.TB, next http.RoundTripper, name string, applies func(*http.Request) bool, check CheckFunc) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{t: t, next: next, name: name, applies: applies, check: check}
}

type transport struct {
	t       testing.TB
	next    http.RoundTripper
	name    string
	applies func(*http.Request) bool
	check   CheckFunc
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := tr.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	if tr.applies != nil && !tr.applies(req) {
		return resp, nil
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	reqErr, respErr := tr.check(req, body, resp.StatusCode, resp.Header, respBody)
	if reqErr != nil {
		tr.t.Errorf("%s: request %s %s: %v", tr.name, req.Method, req.URL, reqErr)
	}
	if respErr != nil && !errors.Is(respErr, reqErr) {
		tr.t.Errorf("%s: response %d to %s %s: %v", tr.name, resp.StatusCode, req.Method, req.URL, respErr)
	}
	return resp, nil
}
