package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
)

// What outsystems_code_migration expects of the migration it starts, from
// the plan's data.outsystems_migration_preview: the version each O11
// application is migrated at (expected_versions) and the publish order
// (expected_publish_order). The preview is true when the plan reads it; an
// application tagged between that plan and the apply (a saved plan, an HCP
// Terraform run waiting for confirmation) would be migrated at another
// version, and a changed module reference would reorder the waves the
// plan's for_each was built from. So the migration checks both before it
// starts (one preview of its mappings) and once it ends, and fails naming
// what changed rather than letting the publications run in another order
// or on other code than the plan showed.

// migrationExpectations are the expected_* arguments, nil when unset.
type migrationExpectations struct {
	versions map[string]string // application key (lower case) -> version key (lower case)
	order    []string          // asset names, producers first
}

// expectations reads the expected_* arguments of a planned migration;
// nil when neither is set.
func (m *codeMigrationModel) expectations(ctx context.Context) (*migrationExpectations, diag.Diagnostics) {
	var diags diag.Diagnostics
	if m.ExpectedVersions.IsNull() && m.ExpectedPublishOrder.IsNull() {
		return nil, diags
	}
	e := &migrationExpectations{}
	if !m.ExpectedVersions.IsNull() {
		raw := map[string]string{}
		diags.Append(m.ExpectedVersions.ElementsAs(ctx, &raw, false)...)
		e.versions = make(map[string]string, len(raw))
		for k, v := range raw {
			e.versions[strings.ToLower(k)] = strings.ToLower(v)
		}
	}
	if !m.ExpectedPublishOrder.IsNull() {
		diags.Append(m.ExpectedPublishOrder.ElementsAs(ctx, &e.order, false)...)
	}
	return e, diags
}

// sourceVersion is a version an application is (or was) migrated at.
type sourceVersion struct {
	app, appName, key, version string
}

// differences lists what differs between the expectations and a migration
// (previewed or finished): versions by application, then the order. Apps
// this apply tags (an outsystems_lifetime_tag it planned) are migrated at
// that tag's version, which no plan can know: they are not compared.
func (e *migrationExpectations) differences(d *providerData, envKey string, versions []sourceVersion, order []string) []string {
	var out []string
	if e.versions != nil {
		seen := map[string]bool{}
		for _, v := range versions {
			app := strings.ToLower(v.app)
			seen[app] = true
			if d.tagPlanned(envKey, v.app) {
				continue
			}
			want, ok := e.versions[app]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("O11 application %q (key %s) was not in the preview the plan showed, and is migrated at version %s", v.appName, v.app, v.version))
			case want != strings.ToLower(v.key):
				out = append(out, fmt.Sprintf("O11 application %q (key %s): the plan's preview showed version key %s, and the version migrated is %s (key %s): the app was tagged after the plan",
					v.appName, v.app, want, v.version, v.key))
			}
		}
		for _, app := range slices.Sorted(maps.Keys(e.versions)) {
			if !seen[app] && !d.tagPlanned(envKey, app) {
				out = append(out, fmt.Sprintf("O11 application %s was in the plan's preview and is not in the migration's mappings any more", app))
			}
		}
	}
	if e.order != nil && !slices.EqualFunc(e.order, order, strings.EqualFold) {
		out = append(out, fmt.Sprintf("the plan's preview published in the order %s, and the migration's order is %s", quoteJoin(e.order), quoteJoin(order)))
	}
	return out
}

// checkBeforeStart previews the migration of the mappings as they are now
// and compares it with the expectations. Nothing is started when they
// differ. It returns the applications' names by key.
func (e *migrationExpectations) checkBeforeStart(ctx context.Context, d *providerData, as *client.Assessment, odc *client.ODC, envKey string, mappingKeys []string, diags *diag.Diagnostics) map[string]string {
	defs := make([]client.MigrationPreviewAsset, 0, len(mappingKeys))
	for _, k := range mappingKeys {
		mp, err := as.GetMapping(ctx, k)
		if err != nil {
			addAPIError(diags, "Failed To Read A Mapping", fmt.Sprintf("read mapping %s to compare the migration with the plan's preview", k), err)
			return nil
		}
		defs = append(defs, client.MigrationPreviewAsset{Name: mp.Name, AssetType: mp.AssetType, ApplicationKeys: mp.ApplicationKeys})
	}
	p, err := odc.PreviewMigration(ctx, envKey, defs)
	if err != nil {
		addAPIError(diags, "Failed To Preview The Migration", "preview the migration to compare it with the plan's preview (expected_versions, expected_publish_order)", err)
		return nil
	}
	names := map[string]string{}
	var versions []sourceVersion
	order := make([]string, 0, len(p.Assets))
	for _, a := range p.Assets {
		order = append(order, a.Name)
		for _, app := range a.Applications {
			names[strings.ToLower(app.ApplicationKey)] = app.Name
			if app.VersionKey != nil {
				versions = append(versions, sourceVersion{app: app.ApplicationKey, appName: app.Name, key: *app.VersionKey, version: *app.Version})
			}
		}
	}
	if problems := e.differences(d, envKey, versions, order); len(problems) > 0 {
		diags.AddAttributeError(path.Root("expected_versions"), "Migration Differs From The Plan's Preview",
			"The plan showed a preview of this migration, and the migration would now take something else:\n- "+strings.Join(problems, "\n- ")+
				"\n\nThe migration was not started, so nothing is published in an order or at versions nobody reviewed. Run terraform plan again "+
				"and review the new preview.")
	}
	return names
}

// checkFinished compares a finished migration with the expectations (an
// app tagged between the check before the start and the start itself).
func (e *migrationExpectations) checkFinished(d *providerData, envKey string, m *client.CodeMigration, appNames map[string]string, diags *diag.Diagnostics) {
	var versions []sourceVersion
	order := make([]string, 0, len(m.Assets))
	assets := slices.Clone(m.Assets)
	slices.SortFunc(assets, func(a, b client.MigratedAsset) int { return a.PublishOrder - b.PublishOrder })
	for _, a := range assets {
		order = append(order, a.Name)
		for _, v := range a.SourceApplicationVersions {
			name := appNames[strings.ToLower(v.ApplicationKey)]
			versions = append(versions, sourceVersion{app: v.ApplicationKey, appName: name, key: v.VersionKey, version: v.Version})
		}
	}
	if problems := e.differences(d, envKey, versions, order); len(problems) > 0 {
		diags.AddAttributeError(path.Root("expected_versions"), "Migration Differs From The Plan's Preview",
			fmt.Sprintf("Code migration %s (started %s) converted something else than the preview the plan showed:\n- %s\n\n"+
				"Its assets are not published by this apply (the migration is tainted). Run terraform plan again, review the new preview, "+
				"and apply: a new migration makes the next revisions.", m.Key, m.StartedAt, strings.Join(problems, "\n- ")))
	}
}

// keepExpectations plans, for a migration that exists and stays, the
// expected_* values it was started with: only a new migration checks them,
// and a later tag changes the preview they come from, so a new value is
// no change (Terraform accepts the prior value of an argument as planned:
// the provider deems them equivalent). A replacement is planned without
// state and takes the configuration's values, which its start checks.
func keepExpectations(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	var config, state codeMigrationModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !config.ExpectedVersions.IsNull() && !config.ExpectedVersions.IsUnknown() && !state.ExpectedVersions.IsNull() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("expected_versions"), state.ExpectedVersions)...)
	}
	if !config.ExpectedPublishOrder.IsNull() && !config.ExpectedPublishOrder.IsUnknown() && !state.ExpectedPublishOrder.IsNull() {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("expected_publish_order"), state.ExpectedPublishOrder)...)
	}
}
