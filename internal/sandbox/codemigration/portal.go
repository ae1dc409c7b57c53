package codemigration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/migrationkit"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/lifetime"
)

// A portal migration is what a team does by hand in the ODC portal's
// migration screens, where every code migration runs today (the kit has no
// public API): it names the ODC assets to create (name, app or library, the
// O11 applications each holds) and migrates the versions tagged in a source
// environment. No mapping or assessment of the kit's API is involved, and
// the kit's code-migration API does not list it. It runs through the same
// code as the kit's code migrations (migrationItems, finalizeMigration), so
// the assets, revisions and producer references it leaves in ODC are the
// same; the sandbox's admin surface starts it (POST /_sandbox/portal-migrations).

// Portal asset types: an app (web or mobile, from its O11 applications) or
// a library. The contract's names are accepted too.
const (
	PortalTypeApp     = "app"
	PortalTypeLibrary = "library"
)

// PortalAsset is one ODC asset a portal migration creates (or revises,
// when a portal migration created one of that name before).
type PortalAsset struct {
	Name string `json:"name"`
	// Type is "app", "library", or a contract asset type (WebApplication,
	// MobileApplication, LowCodeLibrary).
	Type            string   `json:"type"`
	ApplicationKeys []string `json:"applicationKeys"`
	// ApplicationNames name O11 applications instead of (or besides) their
	// keys, for people rehearsing by hand; the names are LifeTime's, exactly.
	ApplicationNames []string `json:"applicationNames,omitempty"`
}

// PortalRequest starts a portal migration.
type PortalRequest struct {
	SourceEnvironmentKey string        `json:"sourceEnvironmentKey"`
	Assets               []PortalAsset `json:"assets"`
	// Wait finishes the migration at once; without it, it runs for the
	// code migration duration, like the kit's.
	Wait bool `json:"wait"`
}

// PortalMigratedAsset is an asset of a portal migration, once finished.
type PortalMigratedAsset struct {
	Name                      string          `json:"name"`
	AssetType                 string          `json:"assetType"`
	AssetKey                  string          `json:"assetKey"`
	Revision                  int             `json:"revision"`
	ProducerAssetKeys         []string        `json:"producerAssetKeys"`
	PublishWave               int             `json:"publishWave"`
	PublishOrder              int             `json:"publishOrder"`
	SourceApplicationVersions []SourceVersion `json:"sourceApplicationVersions"`
	Errors                    []Message       `json:"errors"`
	Messages                  []Message       `json:"messages"`
}

// PortalMigration is a portal migration as the admin surface shows it.
type PortalMigration struct {
	Key                  string                `json:"key"`
	SourceEnvironmentKey string                `json:"sourceEnvironmentKey"`
	Status               string                `json:"status"`
	StartedAt            time.Time             `json:"startedAt"`
	FinishedAt           *time.Time            `json:"finishedAt"`
	Assets               []PortalMigratedAsset `json:"assets"`
}

// portalStartedBy is who a portal migration is recorded as started by.
const portalStartedBy = "ODC portal"

// portalNamespace keys the items of portal migrations: an asset name
// (ignoring case) always has the same key, so migrating it again makes a
// new revision of the same asset (earlierAssetOf).
var portalNamespace = uuid.MustParse("6c1f0d2e-4b1a-5e59-9a51-70b7a1f0c0de")

// portalItemKey is the item key of the portal asset named name.
func portalItemKey(name string) string {
	return uuid.NewSHA1(portalNamespace, []byte(strings.ToLower(strings.TrimSpace(name)))).String()
}

func portalView(m Migration) PortalMigration {
	out := PortalMigration{Key: m.Key, SourceEnvironmentKey: m.SourceEnvironmentKey, Status: m.Status, StartedAt: m.StartedAt,
		FinishedAt: m.FinishedAt, Assets: []PortalMigratedAsset{}}
	for _, a := range m.Assets {
		out.Assets = append(out.Assets, PortalMigratedAsset{Name: a.Name, AssetType: a.AssetType, AssetKey: a.AssetKey, Revision: a.Revision,
			ProducerAssetKeys: a.ProducerAssetKeys, PublishWave: a.PublishWave, PublishOrder: a.PublishOrder,
			SourceApplicationVersions: a.SourceApplicationVersions, Errors: a.Errors, Messages: a.Messages})
	}
	return out
}

// PortalMigration reads a portal migration, finalising it when it is due.
// It reports httpx.ErrNotFound when there is none with key.
func (s *Service) PortalMigration(ctx context.Context, key string) (PortalMigration, error) {
	ms, err := s.codeMigrations(ctx, s.now(), time.Now(), key, "", kindPortal)
	var p *assessment.Problem
	if errors.As(err, &p) && p.Status == http.StatusNotFound {
		return PortalMigration{}, httpx.NotFoundf("Portal migration with key '%s' was not found.", key)
	}
	if err != nil {
		return PortalMigration{}, err
	}
	return portalView(ms[0]), nil
}

// StartPortalMigration checks a portal migration and records it; with
// req.Wait it finishes it at once, creating its asset revisions. Bad input
// is reported as httpx.ErrInvalid or httpx.ErrNotFound errors, an asset
// being migrated already as httpx.ErrConflict, and what the kit's code
// migration refuses (an application with no version in the source
// environment) as an *assessment.Problem.
func (s *Service) StartPortalMigration(ctx context.Context, req PortalRequest) (PortalMigration, error) {
	now, duration := s.now(), s.duration
	if req.Wait {
		duration = 0
	}
	var key string
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := s.finalizeDueMigrationsIn(ctx, tx, now); err != nil {
			return err
		}
		envKey, err := httpx.ParseKey("sourceEnvironmentKey", req.SourceEnvironmentKey)
		if err != nil {
			return err
		}
		env, err := s.lifetime.EnvironmentByKey(ctx, tx, envKey)
		if err != nil {
			return err
		}
		mappings, unmigrated, err := s.portalMappings(ctx, tx, req.Assets)
		if err != nil {
			return err
		}
		found := make(map[string]assessment.MigrationMapping, len(mappings))
		keys := make([]string, len(mappings))
		for i, m := range mappings {
			found[m.Key], keys[i] = m, m.Key
		}
		if err := checkNoMigrationInProgress(ctx, tx, found, keys); err != nil {
			var p *problem
			if errors.As(err, &p) {
				return httpx.Conflictf("%s", strings.ReplaceAll(p.Detail, "mapping '", "asset '"))
			}
			return err
		}
		items, err := s.migrationItems(ctx, tx, mappings, envKey, env.Name)
		if err != nil {
			return err
		}
		key = uuid.NewString()
		if _, err := tx.ExecContext(ctx, `INSERT INTO cm_migrations (`+migrationColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			key, envKey, nanos(now), nanos(now.Add(duration)), portalStartedBy, StatusMigrating); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cm_portal_migrations (key) VALUES (?)`, key); err != nil {
			return err
		}
		for _, it := range items {
			it.migrationKey = key
			it.messages = append(it.messages, unmigrated[it.mappingKey]...)
			if err := insertItem(ctx, tx, it); err != nil {
				return err
			}
		}
		if duration == 0 {
			return s.finalizeDueMigrationsIn(ctx, tx, now)
		}
		return nil
	})
	if err != nil {
		return PortalMigration{}, err
	}
	return s.PortalMigration(ctx, key)
}

// portalMappings checks the assets of a portal migration and turns them into
// the mappings a code migration converts: keyed by portalItemKey, Ready,
// with their producers from LifeTime's module references (an asset of the
// request, or the asset an earlier migration produced from the producer
// application). Producer applications no migration has produced an asset
// from yet are returned as messages per item key.
func (s *Service) portalMappings(ctx context.Context, tx *sql.Tx, assets []PortalAsset) ([]assessment.MigrationMapping, map[string][]Message, error) {
	if len(assets) == 0 {
		return nil, nil, httpx.Invalidf(`assets must name at least one asset, like {"name": "Customer Core", "type": "library", "applicationKeys": ["<O11 application key>"]}.`)
	}
	all, err := s.lifetime.PortfolioApps(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	apps := make(map[string]lifetime.PortfolioApp, len(all))
	appByName := map[string]string{}
	appOfModule := map[string]string{}
	for _, a := range all {
		apps[a.Key] = a
		if !a.IsSystem {
			appByName[a.Name] = a.Key
		}
		for _, m := range a.Modules {
			appOfModule[m.Key] = a.Key
		}
	}
	var problems []string
	itemOfApp := map[string]string{} // application key -> item key, in this request
	mappings := make([]assessment.MigrationMapping, 0, len(assets))
	for i, a := range assets {
		name := strings.TrimSpace(a.Name)
		if name == "" {
			problems = append(problems, fmt.Sprintf("assets[%d].name is empty: name the ODC asset to create.", i))
			continue
		}
		if slices.ContainsFunc(mappings, func(m assessment.MigrationMapping) bool { return migrationkit.SameName(m.Name, name) }) {
			problems = append(problems, fmt.Sprintf("assets[%d].name '%s' names another asset of the request (names ignore case).", i, name))
			continue
		}
		m := assessment.MigrationMapping{Key: portalItemKey(name), Name: name, Status: migrationkit.StatusReadyForOdc}
		appKeys := slices.Clone(a.ApplicationKeys)
		for _, n := range a.ApplicationNames {
			k, ok := appByName[n]
			if !ok {
				problems = append(problems, fmt.Sprintf("assets[%d].applicationNames: LifeTime has no application named '%s'.", i, n))
				continue
			}
			appKeys = append(appKeys, k)
		}
		if len(appKeys) == 0 && len(a.ApplicationNames) == 0 {
			problems = append(problems, fmt.Sprintf("assets[%d].applicationKeys of '%s' is empty: list the O11 applications the asset holds.", i, name))
		}
		var kitApps []migrationkit.Application
		for j, k := range appKeys {
			appKey, err := httpx.ParseKey(fmt.Sprintf("assets[%d].applicationKeys[%d]", i, j), k)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			app, ok := apps[appKey]
			switch {
			case !ok || app.IsSystem:
				problems = append(problems, fmt.Sprintf("assets[%d].applicationKeys[%d]: LifeTime has no application with key '%s'.", i, j, k))
				continue
			case itemOfApp[appKey] != "":
				problems = append(problems, fmt.Sprintf("O11 application '%s' (key %s) is listed for two assets: an application goes to one asset.", app.Name, appKey))
				continue
			}
			itemOfApp[appKey] = m.Key
			m.Apps = append(m.Apps, assessment.MappedApp{Key: appKey, Name: app.Name})
			ka := migrationkit.Application{Key: appKey, Name: app.Name, Kind: app.Kind, LibraryOnly: app.LibraryOnly(), ModuleCount: len(app.Modules)}
			for _, mod := range app.Modules {
				ka.HasExtensions = ka.HasExtensions || mod.Type == migrationkit.ModuleTypeExtension
			}
			kitApps = append(kitApps, ka)
		}
		m.AssetType, err = portalAssetType(a.Type, kitApps)
		if err != nil {
			problems = append(problems, fmt.Sprintf("assets[%d].type of '%s': %v", i, name, err))
		} else {
			for _, v := range migrationkit.CheckMapping(m.AssetType, kitApps, "") {
				problems = append(problems, fmt.Sprintf("'%s' (%s) cannot hold %s: %s.", name, m.AssetType, appNames(v.Apps), ruleText(v.Rule)))
			}
		}
		mappings = append(mappings, m)
	}
	if len(problems) > 0 {
		return nil, nil, httpx.Invalidf("%s", strings.Join(problems, " "))
	}
	unmigrated, err := s.resolveProducers(ctx, tx, mappings, itemOfApp, appOfModule, func(k string) string { return apps[k].Name })
	if err != nil {
		return nil, nil, err
	}
	return mappings, unmigrated, nil
}

// earlierItemOfApp returns the item key (a mapping's, or a portal asset's)
// of the latest migration that produced an asset from the application, or
// "" when none did.
func earlierItemOfApp(ctx context.Context, tx *sql.Tx, appKey string) (string, error) {
	var key string
	err := tx.QueryRowContext(ctx, `SELECT i.mapping_key FROM cm_migration_items i JOIN cm_migrations m ON m.key = i.migration_key
		WHERE i.asset_key IS NOT NULL AND EXISTS (SELECT 1 FROM json_each(i.source_versions) v WHERE json_extract(v.value, '$.applicationKey') = ?)
		ORDER BY m.seq DESC LIMIT 1`, appKey).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return key, err
}

// portalAssetType resolves a portal asset type: an app is a mobile app when
// one of its applications is a Mobile one, else a web app.
func portalAssetType(t string, apps []migrationkit.Application) (string, error) {
	switch {
	case strings.EqualFold(t, PortalTypeLibrary):
		return migrationkit.AssetLowCodeLibrary, nil
	case strings.EqualFold(t, PortalTypeApp):
		if slices.ContainsFunc(apps, migrationkit.Application.Mobile) {
			return migrationkit.AssetMobileApplication, nil
		}
		return migrationkit.AssetWebApplication, nil
	case slices.Contains(migrationkit.AssetTypes, t):
		return t, nil
	}
	return "", fmt.Errorf("'%s' is not an asset type: use app or library (or %s)", t, strings.Join(migrationkit.AssetTypes, ", "))
}

func appNames(apps []migrationkit.Application) string {
	names := make([]string, len(apps))
	for i, a := range apps {
		names[i] = fmt.Sprintf("'%s'", a.Name)
	}
	return strings.Join(names, ", ")
}

// ruleText says what a broken mapping rule means for a portal asset.
func ruleText(r migrationkit.Rule) string {
	switch r {
	case migrationkit.RuleExtensionNotMappable:
		return "applications with extensions cannot be migrated"
	case migrationkit.RuleLibraryNeedsLibraryOnly:
		return "a library holds only applications whose modules are all libraries; make it an app"
	case migrationkit.RuleMobileInWebApp:
		return "a web app cannot hold Mobile applications"
	case migrationkit.RuleReactiveInMobileApp:
		return "a mobile app cannot hold Reactive applications"
	case migrationkit.RuleMobileAppNeedsMobile:
		return "a mobile app needs at least one Mobile application"
	case migrationkit.RuleTooManyModules:
		return fmt.Sprintf("an asset holds at most %d modules", migrationkit.MaxModulesPerAsset)
	}
	return fmt.Sprintf("rule %d", r)
}
