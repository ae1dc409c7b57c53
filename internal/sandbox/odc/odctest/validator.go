// Package odctest checks calls to the sandbox's ODC APIs against
// OutSystems' OpenAPI documents; the tests of the odc package and of the
// sandbox use it.
package odctest

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/seed-1be1de96/terraform-provider-outsystems/api/contracttest"
)

// OutSystems' OpenAPI documents for the ODC APIs the sandbox serves, by API
// root. They are copies, unmodified, of the reference documents.
var specFiles = map[string]string{
	"/api/portfolios/v2":            "portfolio-api-v2.json",
	"/api/asset-repository/v1":      "asset-repository-api-v1.json",
	"/api/dependency-management/v1": "dependency-management-api-v1.json",
	"/api/deployments/v1":           "deployments-api-v1.json",
	"/api/builds/v1":                "build-operations-api-v1.json",
	"/api/asset-configurations/v1":  "asset-configurations-api-v1.json",
	"/api/code-quality/v1":          "code-quality-api-v1.json",

	"/api/environment-configurations/v1": "environment-configurations-api-v1.json",
}

//go:embed openapi/*.json
var specs embed.FS

type apiSpec struct {
	root    string
	doc     *openapi3.T
	router  routers.Router
	problem *openapi3.SchemaRef
}

// Validator checks ODC API calls against the OpenAPI documents: the
// request (path, parameters, body, bearer auth) and the response (status,
// content type, body schema, with uuid and date-time formats). A status the
// operation does not document must still carry a ProblemDetails body. Error
// bodies must be ProblemDetails whose status matches the HTTP status. As an
// http.RoundTripper it reports failures with t.Errorf; calls outside /api
// (OpenID Connect) pass unchecked.
type Validator struct {
	t     testing.TB
	specs []apiSpec
	next  http.RoundTripper

	mu    sync.Mutex
	calls map[string]int // operationId -> checked calls
}

var schemaOptions = []openapi3.SchemaValidationOption{
	openapi3.EnableFormatValidation(),
	openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)),
}

// NewValidator loads the documents with their servers pointed at
// baseURL (the sandbox).
func NewValidator(t testing.TB, baseURL string) *Validator {
	t.Helper()
	v := &Validator{t: t, next: http.DefaultTransport, calls: map[string]int{}}
	for root, file := range specFiles {
		data, err := specs.ReadFile("openapi/" + file)
		if err != nil {
			t.Fatalf("read %s: %v", file, err)
		}
		doc, err := openapi3.NewLoader().LoadFromData(data)
		if err != nil {
			t.Fatalf("load %s: %v", file, err)
		}
		doc.Servers = openapi3.Servers{{URL: baseURL + root}}
		distinctOperationIDs(doc)
		// The code quality document gives a comma-separated string as the
		// example of an array parameter (AssetKeys); examples are not the
		// contract, so they are not validated.
		if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
			t.Fatalf("%s is not a valid OpenAPI document: %v", file, err)
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			t.Fatalf("router for %s: %v", file, err)
		}
		problem := doc.Components.Schemas["ProblemDetails"]
		if problem == nil {
			t.Fatalf("%s has no ProblemDetails schema", file)
		}
		v.specs = append(v.specs, apiSpec{root: root, doc: doc, router: router, problem: problem})
	}
	return v
}

func (v *Validator) options() *openapi3filter.Options {
	return &openapi3filter.Options{
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
				return errors.New("no bearer token")
			}
			return nil
		},
		IncludeResponseStatus:   true,
		MultiError:              true,
		SchemaValidationOptions: schemaOptions,
	}
}

// Operation is one operation of the documents: its id, method and path
// (the API root included, parameters in braces).
type Operation struct {
	ID, Method, Path string
}

// Operations lists every operation of the documents the validator holds,
// sorted by path and method.
func (v *Validator) Operations() []Operation {
	var out []Operation
	for _, spec := range v.specs {
		for path, item := range spec.doc.Paths.Map() {
			for method, op := range item.Operations() {
				out = append(out, Operation{ID: op.OperationID, Method: method, Path: spec.root + path})
			}
		}
	}
	slices.SortFunc(out, func(a, b Operation) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Method, b.Method))
	})
	return out
}

// Calls returns how many calls of an operation were checked.
func (v *Validator) Calls(operationID string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.calls[operationID]
}

// Check validates one call. With checkRequest false only the response is
// checked, for requests deliberately outside the contract.
func (v *Validator) Check(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte, checkRequest bool) error {
	var spec *apiSpec
	for i := range v.specs {
		if strings.HasPrefix(req.URL.Path, v.specs[i].root+"/") {
			spec = &v.specs[i]
		}
	}
	if spec == nil {
		return fmt.Errorf("no OpenAPI document covers %s", req.URL.Path)
	}
	clone := req.Clone(context.Background())
	clone.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := spec.router.FindRoute(clone)
	if err != nil {
		return fmt.Errorf("the OpenAPI document has no operation for %s %s: %w", req.Method, req.URL.Path, err)
	}
	v.mu.Lock()
	v.calls[route.Operation.OperationID]++
	v.mu.Unlock()
	opts := v.options()
	in := &openapi3filter.RequestValidationInput{Request: clone, PathParams: params, Route: route, Options: opts}
	if checkRequest {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			return fmt.Errorf("request does not match %s: %w", route.Operation.OperationID, err)
		}
	}
	if ct := header.Get("Content-Type"); len(respBody) > 0 && !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("response Content-Type = %q, want application/json", ct)
	}
	if status >= 400 {
		var p struct {
			Status *int    `json:"status"`
			Detail *string `json:"detail"`
			Title  *string `json:"title"`
		}
		if err := json.Unmarshal(respBody, &p); err != nil || p.Status == nil || *p.Status != status || p.Detail == nil || *p.Detail == "" || p.Title == nil {
			return fmt.Errorf("error answer %d is not a ProblemDetails with that status, a title and a detail: %s", status, respBody)
		}
	}
	if route.Operation.Responses.Status(status) == nil && route.Operation.Responses.Default() == nil {
		// Undocumented status: the body must still be a ProblemDetails.
		var body any
		if err := json.Unmarshal(respBody, &body); err != nil {
			return fmt.Errorf("undocumented status %d of %s with a body that is not JSON: %s", status, route.Operation.OperationID, respBody)
		}
		if err := spec.problem.Value.VisitJSON(body, append(schemaOptions, openapi3.VisitAsResponse())...); err != nil {
			return fmt.Errorf("undocumented status %d of %s with a body that is not a ProblemDetails: %w", status, route.Operation.OperationID, err)
		}
		return nil
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header, Options: opts}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("response %d does not match %s: %w; body: %s", status, route.Operation.OperationID, err, respBody)
	}
	if err := complete(route.Operation, status, respBody); err != nil {
		return fmt.Errorf("response %d to %s: %w; body: %s", status, route.Operation.OperationID, err, respBody)
	}
	return nil
}

// complete requires a successful answer to serve every property its
// schema defines, recursively, and nothing else (contracttest.Incomplete):
// a client written against the documents finds every field it reads.
func complete(op *openapi3.Operation, status int, body []byte) error {
	if status >= 300 || len(body) == 0 {
		return nil
	}
	resp := op.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return nil
	}
	media := resp.Value.Content.Get("application/json")
	if media == nil || media.Schema == nil {
		return nil
	}
	findings, err := contracttest.Incomplete(media.Schema, body)
	if err != nil {
		return err
	}
	return contracttest.IncompleteError(findings)
}

// RoundTrip sends the request and checks the call when it is an API call.
func (v *Validator) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := v.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/api/") {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err := v.Check(req, reqBody, resp.StatusCode, resp.Header, respBody, true); err != nil {
		v.t.Errorf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return resp, nil
}

// distinctOperationIDs renames the second and later operations that share
// an operation id, in path order: the environment configurations document
// gives "Domains_Get" to both the list and the single-domain read. The
// rename appends the method and path, so tests can still name either.
func distinctOperationIDs(doc *openapi3.T) {
	seen := map[string]bool{}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			op := item.GetOperation(method)
			if op == nil || op.OperationID == "" {
				continue
			}
			if seen[op.OperationID] {
				op.OperationID += " (" + method + " " + path + ")"
			}
			seen[op.OperationID] = true
		}
	}
}
