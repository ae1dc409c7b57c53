package provider

// CheckDestroy functions of the acceptance tests, one per resource type.
// Each asks the sandbox, through the real APIs, whether destroy did what the
// resource's documentation promises for every object of its type in the
// state before destroy: deleted (mappings, releases without
// keep_on_destroy, tags LifeTime lets go) or kept (migrations,
// publications, releases with keep_on_destroy, tags LifeTime keeps).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// resourcesOfType lists the state's resources of one type (managed, not data sources).
func resourcesOfType(s *terraform.State, typ string) []*terraform.ResourceState {
	var out []*terraform.ResourceState
	for _, m := range s.Modules {
		for addr, rs := range m.Resources {
			if rs.Type == typ && !strings.HasPrefix(addr, "data.") && rs.Primary != nil {
				out = append(out, rs)
			}
		}
	}
	return out
}

// checkMappingsDestroyed: destroy deletes the mapping from the assessment
// tool. Every mapping in state must be gone, and the tool must hold no
// mapping but those the test made out of band (outOfBand keys).
func checkMappingsDestroyed(e *testEnv, outOfBand ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx := context.Background()
		var errs []error
		for _, rs := range resourcesOfType(s, "outsystems_app_mapping") {
			switch m, err := e.as.GetMapping(ctx, rs.Primary.ID); {
			case err == nil:
				errs = append(errs, fmt.Errorf("mapping %s (%q) still exists after destroy: %+v", rs.Primary.ID, rs.Primary.Attributes["name"], m))
			case !client.IsNotFound(err):
				errs = append(errs, fmt.Errorf("reading mapping %s (%q) after destroy: %w", rs.Primary.ID, rs.Primary.Attributes["name"], err))
			}
		}
		all, err := e.as.ListMappings(ctx)
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("listing the mappings: %w", err))...)
		}
		for _, m := range all {
			if !slices.Contains(outOfBand, m.Key) {
				errs = append(errs, fmt.Errorf("mapping %s (%q) is left in the assessment tool after destroy", m.Key, m.Name))
			}
		}
		return errors.Join(errs...)
	}
}

// checkTagsDestroyed: destroy deletes the application version where
// LifeTime allows it; LifeTime keeps the version running in an environment.
// Every tag in state must be gone or be the running version somewhere.
func checkTagsDestroyed(e *testEnv) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx := context.Background()
		var errs []error
		for _, rs := range resourcesOfType(s, "outsystems_lifetime_tag") {
			appKey, versionKey := rs.Primary.Attributes["application_key"], rs.Primary.ID
			v, err := e.lt.GetApplicationVersion(ctx, appKey, versionKey)
			if client.IsNotFound(err) {
				continue
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("reading version %s of application %s: %w", versionKey, appKey, err))
				continue
			}
			app, err := e.lt.GetApplication(ctx, appKey, true, false)
			if err != nil {
				errs = append(errs, fmt.Errorf("reading application %s: %w", appKey, err))
				continue
			}
			if !slices.ContainsFunc(app.AppStatusInEnvs, func(st client.AppStatusInEnv) bool { return st.BaseApplicationVersionKey == versionKey }) {
				errs = append(errs, fmt.Errorf("tag %s (version %q) of %s still exists after destroy, yet it runs in no environment: LifeTime would have let it be deleted",
					versionKey, v.Version, app.Name))
			}
		}
		return errors.Join(errs...)
	}
}

// checkCodeMigrationsKept: destroy only forgets a code migration; ODC keeps
// its record and the assets it produced.
func checkCodeMigrationsKept(e *testEnv) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx := context.Background()
		odc := e.odcClient()
		var errs []error
		for _, rs := range resourcesOfType(s, "outsystems_code_migration") {
			m, err := odc.GetCodeMigration(ctx, rs.Primary.ID)
			if err != nil {
				errs = append(errs, fmt.Errorf("code migration %s should be kept by destroy: %w", rs.Primary.ID, err))
				continue
			}
			for _, a := range m.Assets {
				if a.AssetKey == "" {
					continue // an asset that failed to migrate
				}
				if _, err := odc.GetAsset(ctx, a.AssetKey); err != nil {
					errs = append(errs, fmt.Errorf("asset %q (%s) of code migration %s should be kept by destroy: %w", a.Name, a.AssetKey, m.Key, err))
				}
			}
		}
		return errors.Join(errs...)
	}
}

// checkPublicationsKept: ODC cannot unpublish, so destroy only forgets a
// publication; the publish operation stays, finished, for that asset,
// revision and stage.
func checkPublicationsKept(e *testEnv) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx := context.Background()
		odc := e.odcClient()
		var errs []error
		for _, rs := range resourcesOfType(s, "outsystems_asset_publication") {
			a := rs.Primary.Attributes
			ops, err := odc.ListPublishOperations(ctx, a["asset_key"], a["stage_key"])
			if err != nil {
				errs = append(errs, fmt.Errorf("listing the publications of %s in stage %s: %w", a["asset_key"], a["stage_key"], err))
				continue
			}
			i := slices.IndexFunc(ops, func(op client.PublishOperation) bool { return op.Key == rs.Primary.ID })
			switch {
			case i < 0:
				errs = append(errs, fmt.Errorf("publication %s of %q is gone from stage %s after destroy; ODC cannot unpublish", rs.Primary.ID, a["asset_name"], a["stage_key"]))
			case !ops[i].Succeeded() || strconv.Itoa(ops[i].Revision) != a["revision"]:
				errs = append(errs, fmt.Errorf("publication %s of %q should be kept as it was (revision %s, Finished); ODC has %+v", rs.Primary.ID, a["asset_name"], a["revision"], ops[i]))
			}
		}
		return errors.Join(errs...)
	}
}

// checkReleasesDestroyed: destroy clears the release tag of a library (the
// apply fails when consumers exist), or keeps it with keep_on_destroy.
func checkReleasesDestroyed(e *testEnv) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx := context.Background()
		odc := e.odcClient()
		var errs []error
		for _, rs := range resourcesOfType(s, "outsystems_library_release") {
			a := rs.Primary.Attributes
			revision, err := strconv.Atoi(a["revision"])
			if err != nil {
				errs = append(errs, fmt.Errorf("release %s has no revision in state: %w", rs.Primary.ID, err))
				continue
			}
			r, err := odc.GetRevision(ctx, a["asset_key"], revision)
			if err != nil {
				errs = append(errs, fmt.Errorf("reading revision %d of library %q: %w", revision, a["name"], err))
				continue
			}
			keep := a["keep_on_destroy"] == "true"
			if keep && r.Tag != a["version"] {
				errs = append(errs, fmt.Errorf("release %s of library %q has keep_on_destroy, but after destroy the revision's tag is %q", a["version"], a["name"], r.Tag))
			}
			if !keep && r.Tag != "" {
				errs = append(errs, fmt.Errorf("release %s of library %q should be cleared by destroy, but revision %d still has tag %q", a["version"], a["name"], revision, r.Tag))
			}
		}
		return errors.Join(errs...)
	}
}

// checkWaveDestroyed is the CheckDestroy of a configuration with every
// resource type: mappings, tags, a migration, publications and releases.
func checkWaveDestroyed(e *testEnv) resource.TestCheckFunc {
	return resource.ComposeAggregateTestCheckFunc(
		checkMappingsDestroyed(e),
		checkTagsDestroyed(e),
		checkCodeMigrationsKept(e),
		checkPublicationsKept(e),
		checkReleasesDestroyed(e),
	)
}

// checkNothingCreated is the CheckDestroy of a case that only reads (data
// sources) or is expected to fail: the state holds no managed resource,
// and the sandbox has no mapping, no code migration and no LifeTime
// version beyond its fixture and the tags the test made out of band
// (clientTag's change log).
func checkNothingCreated(e *testEnv) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ctx := context.Background()
		var errs []error
		if err := checkNoResources(s); err != nil {
			errs = append(errs, err)
		}
		// The tenant profile serves no Migration Kit API: nothing to list.
		if e.sb.HasMigrationKit() {
			switch ms, err := e.as.ListMappings(ctx); {
			case err != nil:
				errs = append(errs, fmt.Errorf("listing the mappings: %w", err))
			case len(ms) > 0:
				errs = append(errs, fmt.Errorf("want no mapping in the assessment tool, got %d", len(ms)))
			}
			switch ms, err := e.odcClient().ListCodeMigrations(ctx, ""); {
			case err != nil:
				errs = append(errs, fmt.Errorf("listing the code migrations: %w", err))
			case len(ms) > 0:
				errs = append(errs, fmt.Errorf("want no code migration in ODC, got %d", len(ms)))
			}
		}
		for _, app := range e.fixture.LifeTime.Applications {
			versions, err := e.lt.ListApplicationVersions(ctx, app.Key, 1000)
			if err != nil {
				errs = append(errs, fmt.Errorf("listing the versions of %s: %w", app.Name, err))
				continue
			}
			for _, v := range versions {
				fromFixture := slices.ContainsFunc(app.Versions, func(f fixture.Version) bool { return f.Key == v.Key })
				if !fromFixture && v.ChangeLog != outOfBandChangeLog {
					errs = append(errs, fmt.Errorf("%s has a new version %q (%s)", app.Name, v.Version, v.Key))
				}
			}
		}
		return errors.Join(errs...)
	}
}

// checkNoResources is the CheckDestroy of a case with no sandbox: the
// provider could reach no service, so the state must hold no managed resource.
func checkNoResources(s *terraform.State) error {
	for _, m := range s.Modules {
		for addr := range m.Resources {
			if !strings.HasPrefix(addr, "data.") {
				return fmt.Errorf("%s was created", addr)
			}
		}
	}
	return nil
}
