package odc

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// The client's system configuration and domain calls against the sandbox,
// every request and answer checked against OutSystems' documents.
func TestStageConfigurationClientAgainstSandbox(t *testing.T) {
	sb, v, base := startODCSandbox(t, testOptions{PublishDuration: 30 * time.Millisecond})
	c := newTestClient(t, sb, v, base, clientMigration)
	ctx := context.Background()
	qa, ok := sb.Fixture().ODC.StageKey("QA")
	if !ok {
		t.Fatal("no QA stage")
	}

	configs, err := c.SystemConfigurations(ctx, qa)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, sc := range configs {
		keys[sc.Name] = sc.Key
	}
	const secret = "client-smtp-secret"
	if err := c.PatchSystemConfigurations(ctx, qa, []client.ConfigurationValue{
		{Key: keys["SMTPServer"], Value: new("smtp.example.com")},
		{Key: keys["SMTPPassword"], Value: new(secret)},
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.PatchSystemConfigurations(ctx, qa, []client.ConfigurationValue{{Key: keys["SMTPServer"]}}); err != nil {
		t.Fatal(err)
	}
	configs, err = c.SystemConfigurations(ctx, qa)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range configs {
		switch sc.Name {
		case "SMTPServer":
			if sc.Value == nil || *sc.Value != "" || sc.UpdatedAt != "" {
				t.Errorf("SMTPServer after reset = %+v", sc)
			}
		case "SMTPPassword":
			if sc.Value != nil || sc.UpdatedAt == "" || sc.ValueSetAfterDeploy == nil || !*sc.ValueSetAfterDeploy {
				t.Errorf("SMTPPassword = %+v", sc)
			}
		}
	}
	if v, _, _, _ := sb.svc.SystemConfigValue(ctx, qa, "SMTPPassword"); v != secret {
		t.Errorf("stored password = %q", v)
	}

	d, err := c.CreateDomain(ctx, qa, "shop.example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "shop.example.com" || d.RedirectOption != client.RedirectPermanent || d.CNameValue == "" {
		t.Fatalf("created = %+v", d)
	}
	if _, err := c.CreateDomain(ctx, qa, "shop.example.com", ""); client.StatusCode(err) != 409 || !strings.Contains(err.Error(), "already a custom domain") {
		t.Fatalf("second create: %v", err)
	}
	updated, err := c.UpdateDomain(ctx, qa, d.Key, "", client.RedirectNone)
	if err != nil || updated.RedirectOption != client.RedirectNone {
		t.Fatalf("update = %+v, %v", updated, err)
	}
	list, err := c.ListDomains(ctx, qa)
	if err != nil || len(list) != 1 || list[0].Key != d.Key || list[0].RedirectOption != client.RedirectNone {
		t.Fatalf("list = %+v, %v", list, err)
	}
	got, err := c.GetDomain(ctx, qa, d.Key)
	if err != nil || got.Hostname != "shop.example.com" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	if err := c.DeleteDomain(ctx, qa, d.Key); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteDomain(ctx, qa, d.Key); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if _, err := c.GetDomain(ctx, qa, d.Key); !client.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
}
