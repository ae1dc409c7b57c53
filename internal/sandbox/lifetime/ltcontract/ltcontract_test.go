package ltcontract

import (
	"net/http"
	"net/url"
	"testing"
)

// TestStrictSchemas: a field the Swagger does not define breaks the
// contract, and so does a status the operation does not document.
func TestStrictSchemas(t *testing.T) {
	c, err := New("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "http", Host: "127.0.0.1:1", Path: Base + "/environments/abc"}, Header: http.Header{}}
	json := http.Header{"Content-Type": {"application/json"}}
	if _, err := c.Check(req, nil, http.StatusOK, json, []byte(`{"Key":"abc","Name":"Dev"}`)); err != nil {
		t.Errorf("a valid environment: %v", err)
	}
	if _, err := c.Check(req, nil, http.StatusOK, json, []byte(`{"Key":"abc","Invented":1}`)); err == nil {
		t.Error("an environment with a field the Swagger lacks passed")
	}
	if _, err := c.Check(req, nil, http.StatusConflict, json, []byte(`{"Errors":["x"],"StatusCode":409}`)); err == nil {
		t.Error("an undocumented 409 passed")
	}
	if _, err := c.Check(req, nil, http.StatusNotFound, json, []byte(`{"message":"x"}`)); err == nil {
		t.Error("a 404 without LifeTime's error body passed")
	}
}
