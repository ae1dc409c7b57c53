package client

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestPreviewMigrationClient(t *testing.T) {
	e := newCodeMigrationEnv(t)
	ctx := context.Background()
	c, checked := e.odc("migration-pipeline")
	dev := e.envKey("Development")
	defs := []MigrationPreviewAsset{
		{Name: "Customer Portal", AssetType: AssetTypeWebApplication, ApplicationKeys: e.appKeys("Customer Portal")},
		{Name: "Policy Core", AssetType: AssetTypeLibrary, ApplicationKeys: e.appKeys("Policy Core")},
		{Name: "Common Utils", AssetType: AssetTypeLibrary, ApplicationKeys: e.appKeys("Common Utils")},
	}
	p, err := c.PreviewMigration(ctx, dev, defs)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range p.Assets {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, []string{"Common Utils", "Policy Core", "Customer Portal"}) || p.Blocked || p.SourceEnvironmentKey != dev || p.PreviewedAt == "" {
		t.Fatalf("preview = %+v", p)
	}
	portal := p.Assets[2]
	if portal.PublishWave != 3 || portal.PublishOrder != 3 || portal.MappingKey != nil || !slices.Equal(portal.ProducerNames, []string{"Policy Core"}) ||
		len(portal.Applications) != 1 || *portal.Applications[0].Version != "1.2.0" || !portal.Applications[0].IsModified ||
		len(portal.Applications[0].Modules) != 2 || !IsGUID(portal.Applications[0].Modules[0].ModuleVersionKey) || len(portal.Findings) != 3 {
		t.Errorf("Customer Portal = %+v", portal)
	}

	// The migration of the same mappings converts what the preview showed.
	var keys []string
	for _, d := range defs {
		keys = append(keys, e.readyMapping(d.Name, d.AssetType, nameOfApp(e, d.ApplicationKeys[0])))
	}
	m, err := c.StartCodeMigration(ctx, dev, keys)
	if err != nil {
		t.Fatal(err)
	}
	done := waitMigration(t, c, m.Key)
	for i, a := range done.Assets {
		pa := p.Assets[i]
		if a.Name != pa.Name || a.PublishWave != pa.PublishWave || a.SourceApplicationVersions[0].VersionKey != *pa.Applications[0].VersionKey {
			t.Errorf("migrated %+v, previewed %+v", a, pa)
		}
	}

	// Refusals name what to fix.
	_, err = c.PreviewMigration(ctx, "00000000-0000-0000-0000-0000000000e1", defs[:1])
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.ErrorCode != "ENVIRONMENT_NOT_FOUND" ||
		!strings.Contains(err.Error(), "00000000-0000-0000-0000-0000000000e1") {
		t.Errorf("unknown environment: %v", err)
	}
	if *checked == 0 {
		t.Error("no request went through the contract")
	}
}

func nameOfApp(e *codeMigrationEnv, key string) string {
	for _, a := range e.sb.Fixture().LifeTime.Applications {
		if a.Key == key {
			return a.Name
		}
	}
	e.t.Fatalf("no application %s", key)
	return ""
}
