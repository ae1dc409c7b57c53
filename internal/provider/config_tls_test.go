package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestCACertificateValidator(t *testing.T) {
	v := caCertificateValidator{block: "lifetime", env: EnvLifeTimeCACertificate}
	p := path.Root("lifetime").AtName("ca_certificate")
	const secretish = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0IGtleSBtYXRlcmlhbA==\n-----END PRIVATE KEY-----\n"
	for _, value := range []string{"not a certificate", secretish} {
		resp := &validator.StringResponse{}
		v.ValidateString(t.Context(), validator.StringRequest{Path: p, ConfigValue: types.StringValue(value)}, resp)
		if !resp.Diagnostics.HasError() {
			t.Fatalf("%q: no error", value)
		}
		d := resp.Diagnostics.Errors()[0]
		text := d.Summary() + " " + d.Detail()
		for _, want := range []string{"`lifetime.ca_certificate`", EnvLifeTimeCACertificate, "PEM"} {
			if !strings.Contains(text, want) {
				t.Errorf("%q: diagnostic %q does not contain %q", value, text, want)
			}
		}
		if strings.Contains(text, "c2VjcmV0") || strings.Contains(text, "not a certificate") {
			t.Errorf("diagnostic %q repeats the value", text)
		}
	}
	for _, value := range []types.String{types.StringNull(), types.StringUnknown(), types.StringValue("")} {
		resp := &validator.StringResponse{}
		v.ValidateString(t.Context(), validator.StringRequest{Path: p, ConfigValue: value}, resp)
		if resp.Diagnostics.HasError() {
			t.Errorf("%v: unexpected error %v", value, resp.Diagnostics)
		}
	}
}

func TestCACertificateHintNamesTheSetting(t *testing.T) {
	h := caCertificateHint("odc", EnvODCCACertificate)
	if !strings.Contains(h, "`odc.ca_certificate`") || !strings.Contains(h, EnvODCCACertificate) {
		t.Errorf("hint %q does not name the attribute and the variable", h)
	}
}
