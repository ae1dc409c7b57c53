package ltcontract

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
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
	env := `{"Key":"abc","Name":"Dev","OSVersion":"11.30.0","Order":1,"HostName":"dev.example.com","UseHTTPS":true,"EnvironmentType":"Development",
		"NumberOfFrontEnds":1,"ApplicationServerType":"IIS","ApplicationServer":"IIS","DatabaseProvider":"SqlServer","IsCloudEnvironment":true,
		"DetailsURL":"https://lt.example.com/lifetime/EnvironmentDetail.aspx?EnvironmentKey=abc"}`
	if _, err := c.Check(req, nil, http.StatusOK, json, []byte(env)); err != nil {
		t.Errorf("a valid environment: %v", err)
	}
	if _, err := c.Check(req, nil, http.StatusOK, json, []byte(`{"Key":"abc","Name":"Dev"}`)); err == nil || !strings.Contains(err.Error(), "missing DetailsURL") {
		t.Errorf("an environment without most of its fields: %v", err)
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

// TestOmittableStatuses: an application's AppStatusInEnvs may be left out
// unless IncludeEnvStatus=true asks for it, its ModuleStatusInEnvs unless
// IncludeModules=true does.
func TestOmittableStatuses(t *testing.T) {
	c, err := New("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	const key = "f835df35-b6a0-4424-bc62-d26643f8d8ac"
	app := `{"Key":"` + key + `","Name":"Portal","Kind":"WebResponsive","Team":"","Description":"","URLPath":"Portal","IconHash":"",
		"IconURL":"","DetailsURL":"https://lt.example.com/lifetime/ApplicationDetail.aspx","IsSystem":false%s}`
	status := `,"AppStatusInEnvs":[{"EnvironmentKey":"` + key + `","BaseApplicationVersionKey":"` + key + `","BaseApplicationVersionLabel":"1.0.0",
		"IsModified":false,"IsModifiedReason":"","IsModifiedMessage":"","ConsistencyStatus":"OK","ConsistencyStatusMessages":"","MobileAppsStatus":[],
		"DeploymentZoneKey":"` + key + `"%s}]`
	json := http.Header{"Content-Type": {"application/json"}}
	check := func(query, body string) error {
		req := &http.Request{Method: http.MethodGet, Header: http.Header{},
			URL: &url.URL{Scheme: "http", Host: "127.0.0.1:1", Path: Base + "/applications/" + key, RawQuery: query}}
		_, err := c.Check(req, nil, http.StatusOK, json, []byte(body))
		return err
	}
	for _, ok := range []struct{ query, body string }{
		{"", fmt.Sprintf(app, "")},
		{"IncludeEnvStatus=true", fmt.Sprintf(app, fmt.Sprintf(status, ""))},
		{"IncludeEnvStatus=true&IncludeModules=true", fmt.Sprintf(app, fmt.Sprintf(status, `,"ModuleStatusInEnvs":[]`))},
	} {
		if err := check(ok.query, ok.body); err != nil {
			t.Errorf("%q: %v", ok.query, err)
		}
	}
	if err := check("IncludeEnvStatus=true", fmt.Sprintf(app, "")); err == nil || !strings.Contains(err.Error(), "missing AppStatusInEnvs") {
		t.Errorf("no AppStatusInEnvs though asked: %v", err)
	}
	if err := check("IncludeEnvStatus=true&IncludeModules=true", fmt.Sprintf(app, fmt.Sprintf(status, ""))); err == nil || !strings.Contains(err.Error(), "ModuleStatusInEnvs") {
		t.Errorf("no ModuleStatusInEnvs though asked: %v", err)
	}
}
