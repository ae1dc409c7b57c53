package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A patch value prints without its value (a secret cannot reach a log
// through %v or %#v) and is sent as the API takes it; the PATCH goes to
// the app's configurations in the stage.
func TestODCPatchAppConfiguration(t *testing.T) {
	v := ConfigPatchValue{Key: "k1", Value: "hunter2"}
	for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%v %+v %#v", v, v, v), fmt.Sprint([]ConfigPatchValue{v})} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("printed %q", s)
		}
	}
	var got map[string]any
	var path string
	f := newFakeODC(t, func(w http.ResponseWriter, r *http.Request) {
		path = r.Method + " " + r.URL.Path
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got)
		w.WriteHeader(http.StatusNoContent)
	})
	err := f.client(t).PatchAppConfiguration(context.Background(), "env", "app", AppConfigPatch{RevisionBaseline: 3, Settings: []ConfigPatchValue{v}})
	if err != nil {
		t.Fatal(err)
	}
	if path != "PATCH /api/asset-configurations/v1/environments/env/applications/app/configurations" {
		t.Errorf("path = %s", path)
	}
	if fmt.Sprint(got) != "map[revisionBaseline:3 settings:[map[key:k1 value:hunter2]]]" {
		t.Errorf("body = %v", got)
	}
	if (AppConfigPatch{RevisionBaseline: 1}).Empty() != true {
		t.Error("an empty patch is not Empty")
	}
}

// Pending compares value and deployed value, or for a secret reads
// valueSetAfterDeploy.
func TestConfigValuePending(t *testing.T) {
	s := func(v string) *string { return &v }
	yes, no := true, false
	for _, c := range []struct {
		v    ConfigValue
		want bool
	}{
		{ConfigValue{Value: s("1"), DeployedValue: s("1")}, false},
		{ConfigValue{Value: s("2"), DeployedValue: s("1")}, true},
		{ConfigValue{IsSecret: true, ValueSetAfterDeploy: &yes}, true},
		{ConfigValue{IsSecret: true, ValueSetAfterDeploy: &no}, false},
	} {
		if c.v.Pending() != c.want {
			t.Errorf("%+v: Pending = %v", c.v, !c.want)
		}
	}
}
