// Package ltcontract holds LifeTime API v2 traffic to OutSystems' published
// Swagger 2.0 document (testdata/lifetime-api-v2.json, converted to OpenAPI
// 3 on load), so neither the sandbox nor the client can drift from the real
// service. Object schemas are made strict: a field the document does not
// define is an error, as is a status an operation does not document (except
// the generic 400/401/405/429/503 answers, which must still carry LifeTime's
// error body).
package ltcontract

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/seed-1be1de96/terraform-provider-outsystems/api/contracttest"
)

// Base is where LifeTime API v2 lives on the LifeTime host (the document's basePath).
const Base = "/lifetimeapi/rest/v2"

//go:embed testdata/lifetime-api-v2.json
var swagger []byte

// genericStatuses may answer any operation even where the document does not
// list them (bad parameters, no or a bad token, a wrong method, throttling,
// maintenance); their body must be LifeTime's error body.
var genericStatuses = []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusMethodNotAllowed,
	http.StatusTooManyRequests, http.StatusServiceUnavailable}

// Contract is the LifeTime API v2 document with its server pointed at a
// test server.
type Contract struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options

	mu    sync.Mutex
	calls map[string]int // operationId -> checked calls
}

// New loads the document with its server at baseURL + Base (baseURL like
// http://127.0.0.1:8085).
func New(baseURL string) (*Contract, error) {
	var doc2 openapi2.T
	if err := json.Unmarshal(swagger, &doc2); err != nil {
		return nil, fmt.Errorf("parse the LifeTime Swagger: %w", err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, fmt.Errorf("convert the LifeTime Swagger to OpenAPI 3: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: strings.TrimRight(baseURL, "/") + Base}}
	seen := map[*openapi3.Schema]bool{}
	for _, ref := range doc.Components.Schemas {
		strict(ref, seen)
	}
	// The published document has defaults that do not fit their types
	// (DurationRecord: an integer defaulting to ""): they are not checked.
	if err := doc.Validate(context.Background(), openapi3.DisableSchemaDefaultsValidation(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("the converted LifeTime document is not valid: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the LifeTime document: %w", err)
	}
	return &Contract{doc: doc, router: router, calls: map[string]int{},
		opts: &openapi3filter.Options{
			IncludeResponseStatus:   true,
			MultiError:              true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.EnableFormatValidation()},
		}}, nil
}

// strict forbids properties an object schema does not define, in the
// schema and every schema it contains.
func strict(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
		no := false
		s.AdditionalProperties.Has = &no
	}
	for _, p := range s.Properties {
		strict(p, seen)
	}
	strict(s.Items, seen)
	for _, list := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf, s.OneOf} {
		for _, r := range list {
			strict(r, seen)
		}
	}
}

// Calls returns how many calls of an operation were checked.
func (c *Contract) Calls(operationID string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[operationID]
}

// Check validates a request (its body given apart) and the response it got.
// reqErr reports how the request breaks the document, respErr how the
// response does; a path or method the document does not have makes both.
// Paths are matched with or without their trailing slash (the document
// writes one, clients send none).
func (c *Contract) Check(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) (reqErr, respErr error) {
	clone := req.Clone(context.Background())
	if !strings.HasSuffix(clone.URL.Path, "/") {
		clone.URL.Path += "/"
		clone.URL.RawPath = ""
	}
	clone.Body = io.NopCloser(bytes.NewReader(reqBody))
	clone.ContentLength = int64(len(reqBody))
	route, params, err := c.router.FindRoute(clone)
	if err != nil {
		err = fmt.Errorf("%s %s is not an operation of LifeTime API v2: %w", req.Method, req.URL.Path, err)
		return err, err
	}
	c.mu.Lock()
	c.calls[route.Operation.OperationID]++
	c.mu.Unlock()
	in := &openapi3filter.RequestValidationInput{Request: clone, PathParams: params, Route: route, Options: c.opts}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		reqErr = fmt.Errorf("request does not match %s: %w", route.Operation.OperationID, err)
	}
	respErr = c.checkResponse(route, in, status, header, respBody)
	if respErr != nil {
		respErr = fmt.Errorf("response %d to %s does not match the document: %w; body: %s", status, route.Operation.OperationID, respErr, contracttest.Truncate(respBody))
	}
	return reqErr, respErr
}

func (c *Contract) checkResponse(route *routers.Route, in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) error {
	if ct := header.Get("Content-Type"); len(body) > 0 && !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("Content-Type = %q, want application/json", ct)
	}
	if status >= 400 {
		if err := checkErrorBody(status, body); err != nil {
			return err
		}
	}
	if route.Operation.Responses.Status(status) == nil {
		if slices.Contains(genericStatuses, status) {
			return nil
		}
		return fmt.Errorf("the operation does not document status %d", status)
	}
	if err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                c.opts,
	}); err != nil {
		return err
	}
	return complete(route.Operation, in.Request.URL.Query(), status, body)
}

// complete requires a successful answer to serve every property its
// schema defines, recursively (contracttest.Incomplete), except the
// statuses LifeTime adds only when asked: AppStatusInEnvs and a module's
// ModuleStatusInEnv without IncludeEnvStatus=true, an application's
// ModuleStatusInEnvs without IncludeModules=true.
func complete(op *openapi3.Operation, query url.Values, status int, body []byte) error {
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
	var omittable []string
	if !strings.EqualFold(query.Get("IncludeEnvStatus"), "true") {
		omittable = append(omittable, "AppStatusInEnvs", "ModuleStatusInEnv")
	}
	if !strings.EqualFold(query.Get("IncludeModules"), "true") {
		omittable = append(omittable, "ModuleStatusInEnvs")
	}
	findings, err := contracttest.IncompleteOmitting(media.Schema, body, omittable)
	if err != nil {
		return err
	}
	return contracttest.IncompleteError(findings)
}

// checkErrorBody requires LifeTime's error body, {"Errors":[..],"StatusCode":n},
// with at least one message and the HTTP status.
func checkErrorBody(status int, body []byte) error {
	var e struct {
		Errors     []string `json:"Errors"`
		StatusCode *int     `json:"StatusCode"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return fmt.Errorf("the error answer is not JSON: %w", err)
	}
	if len(e.Errors) == 0 || e.StatusCode == nil || *e.StatusCode != status {
		return errors.New("the error answer is not LifeTime's {\"Errors\":[...],\"StatusCode\":n} with messages and the HTTP status")
	}
	return nil
}

// Transport returns a RoundTripper that sends requests through next (nil =
// http.DefaultTransport) and fails t (Errorf) on every request or response
// that breaks the document. Requests outside the API pass unchecked.
func (c *Contract) Transport(t testing.TB, next http.RoundTripper) http.RoundTripper {
	inAPI := func(req *http.Request) bool { return strings.HasPrefix(req.URL.Path, Base+"/") }
	return contracttest.CheckingTransport(t, next, "LifeTime contract", inAPI, c.Check)
}
