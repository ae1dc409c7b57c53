package odc

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc/odctest"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// TestODCServesEveryDocumentedField calls every operation the sandbox
// serves on a seeded organization, with every embedding the operation
// offers, and the validating transport requires each answer to hold every
// property its schema in OutSystems' OpenAPI documents defines (null where
// nullable), recursively, and nothing else. Every other operation of the
// documents must answer 404 or 405, so an operation the sandbox starts
// serving cannot go unchecked here.
func TestODCServesEveryDocumentedField(t *testing.T) {
	e := startODC(t, testOptions{PublishDuration: 50 * time.Millisecond, CodeAnalysisDuration: 50 * time.Millisecond})
	tok := e.token(clientMigration)
	for _, a := range testAssets[:3] {
		e.seed(a)
	}
	// A library never published: its revision has no publish date-time.
	e.seed(MigratedAsset{Key: sqldb.DerivedKey("odc-test", "audit-trail"), Name: "Audit Trail", AssetType: AssetTypeLibrary})
	dev := e.stage("Development")
	var opKey string
	for _, key := range []string{keyCore, keyPolicy, keyPortal} {
		op := e.publish(tok, key, dev)
		if op.Status != StatusFinished {
			t.Fatalf("publish of %s = %+v", key, op)
		}
		opKey = op.Key
	}
	core := assetRepoBase + "/assets/" + keyCore
	e.api(http.MethodPatch, core+"/revisions/1", tok, map[string]any{"tag": "1.0.0", "releaseNotes": "First."}).expect(t, http.StatusNoContent)

	// Customer Portal has code-quality findings in the fixture.
	analysis := e.analyze(tok, keyPortal)
	if len(analysis.Findings) == 0 {
		t.Fatalf("the analysis of Customer Portal found nothing: %+v", analysis)
	}
	cfg := seedConfigured(e, tok)
	cfgPatch := map[string]any{"revisionBaseline": 1, "settings": []map[string]any{{"key": elementKey(keyCfgApp, KindSetting, "Limit"), "value": "11"}}}
	qa := e.stage("QA")
	release := e.releaseBuild(keyPortal)
	deployed := e.deploy(tok, map[string]any{"operation": "Deploy", "assetKey": keyPortal, "revision": 1, "buildKey": release, "environmentKey": qa})
	deployAnalysis := map[string]any{"assetKey": keyPortal, "revision": 1, "environmentKey": qa}
	analysisKey := decode[map[string]string](t, e.api(http.MethodPost, dependencyBase+"/deployment-analyses", tok, deployAnalysis).expect(t, http.StatusCreated))["analysisKey"]
	time.Sleep(60 * time.Millisecond) // until it finished, so its report shows
	apply := map[string]any{"operation": "ApplyConfigs", "assetKey": keyPortal, "revision": 1, "environmentKey": qa}

	const embedAll = "?embed=releaseNote,icon,sourceCode,signature,metadata"
	domain := domainsPath(dev) + "/" + decode[domainJSON](t, e.api(http.MethodPost, domainsPath(dev), tok, map[string]any{"hostname": "fields.example.com"}).expect(t, http.StatusCreated)).ID
	smtp := map[string]any{"systemConfigurations": []map[string]any{{"key": configKey("SMTPServer"), "value": "smtp.example.com"}, {"key": configKey("SMTPPassword"), "value": "p"}}}
	portal := dependencyBase + "/assets/" + keyPortal
	running := map[string]any{"operation": "Publish", "assetKey": keyCore, "revision": 1, "environmentKey": dev}
	served := []struct {
		id, method, path string
		body             any
		status           int
	}{
		{"Environments_ListEnvironments", http.MethodGet, portfolioBase + "/environments", nil, http.StatusOK},
		{"DeployedAssets_ListAssets", http.MethodGet, portfolioBase + "/deployed-assets", nil, http.StatusOK},
		{"Libraries_ListLibraries", http.MethodGet, portfolioBase + "/libraries", nil, http.StatusOK},
		{"Libraries_ListLibraries", http.MethodGet, portfolioBase + "/libraries?revisions=All", nil, http.StatusOK},
		{"AssetRepository_ListAssets", http.MethodGet, assetRepoBase + "/assets", nil, http.StatusOK},
		{"AssetRepository_ListAssets", http.MethodGet, assetRepoBase + "/assets" + embedAll, nil, http.StatusOK},
		{"AssetRepository_GetAsset", http.MethodGet, core, nil, http.StatusOK},
		{"AssetRepository_GetAsset", http.MethodGet, core + embedAll, nil, http.StatusOK},
		{"AssetRepository_GetAssetLatestRevision", http.MethodGet, core + "/latest-revision" + embedAll, nil, http.StatusOK},
		{"AssetRepository_GetApplicationHighestTagRevision", http.MethodGet, core + "/highest-tag-revision" + embedAll, nil, http.StatusOK},
		{"AssetRepository_ListAssetRevisions", http.MethodGet, core + "/revisions" + embedAll, nil, http.StatusOK},
		{"AssetRepository_GetAssetRevision", http.MethodGet, core + "/revisions/1" + embedAll, nil, http.StatusOK},
		{"AssetRepository_PatchVersion", http.MethodPatch, core + "/revisions/1", map[string]any{"releaseNotes": "First, again."}, http.StatusNoContent},
		{"AssetRepository_GetAssetRevisionReleaseNotes", http.MethodGet, core + "/revisions/1/release-notes", nil, http.StatusOK},
		{"DependencyManagement_ListAssetProducers", http.MethodGet, portal + "/revisions/1/producers", nil, http.StatusOK},
		{"DependencyManagement_ListAssetProducerGraph", http.MethodGet, portal + "/revisions/1/producer-graph", nil, http.StatusOK},
		{"DependencyManagement_ListReferencedElements", http.MethodGet, portal + "/revisions/1/referenced-elements", nil, http.StatusOK},
		{"DependencyManagement_ListAssetRevisionPublicElements", http.MethodGet, portal + "/revisions/1/public-elements", nil, http.StatusOK},
		{"DependencyManagement_ListAssetConsumers", http.MethodGet, dependencyBase + "/assets/" + keyCore + "/consumers", nil, http.StatusOK},
		{"PublishOperations_Filter", http.MethodGet, deploymentBase + "/publish-operations", nil, http.StatusOK},
		{"PublishOperations_Post", http.MethodPost, deploymentBase + "/publish-operations", running, http.StatusCreated},
		{"PublishOperations_Get", http.MethodGet, deploymentBase + "/publish-operations/" + opKey, nil, http.StatusOK},
		{"PublishOperations_GetMessages", http.MethodGet, deploymentBase + "/publish-operations/" + opKey + "/messages", nil, http.StatusOK},
		{"FindingsOverviewControllerV_GetAssetRevisionFindingsSummary", http.MethodGet, summaryPath(keyPortal, 1), nil, http.StatusOK},
		{"CodeAnalysisControllerV_SubmitCodeAnalysisRequest", http.MethodPost, codeQualityBase + "/code-analyses", map[string]any{"assetKey": keyPortal, "assetRevision": 1}, http.StatusOK},
		{"CodeAnalysisControllerV_GetAnalysisRequestStatus", http.MethodGet, codeQualityBase + "/code-analyses/" + analysis.AnalysisKey, nil, http.StatusOK},
		{"EnvironmentConfiguration_Patch", http.MethodPatch, systemConfigsPath(dev), smtp, http.StatusNoContent},
		{"EnvironmentConfiguration_Get", http.MethodGet, systemConfigsPath(dev), nil, http.StatusOK},
		{"Domains_Post", http.MethodPost, domainsPath(dev), map[string]any{"hostname": "more.example.com", "name": "More"}, http.StatusCreated},
		{"Domains_Get", http.MethodGet, domainsPath(dev), nil, http.StatusOK},
		{"Domains_Get (GET /environments/{environmentKey}/domains/{domainKey})", http.MethodGet, domain, nil, http.StatusOK},
		{"Domains_Patch", http.MethodPatch, domain, map[string]any{"defaultApplicationKey": keyPortal, "redirectOption": "None"}, http.StatusOK},
		{"Domains_Delete", http.MethodDelete, domain, nil, http.StatusNoContent},
		{"AssetConfiguration_PatchApplication", http.MethodPatch, cfg + "/configurations", cfgPatch, http.StatusNoContent},
		{"AssetConfiguration_GetApplicationDeployedConfiguration", http.MethodGet, cfg + "/revisions/deployed/configurations", nil, http.StatusOK},
		{"AssetConfiguration_GetApplicationRevisionConfiguration", http.MethodGet, cfg + "/revisions/1/configurations?fields=settings,timers,integrations,libraries,systemConfigurations&showBinaryValues=true", nil, http.StatusOK},
		{"BuildV_ListBuilds", http.MethodGet, buildsBase + "/build-operations?assetKey=" + keyPortal + "&assetRevision=1&byBuildType=Release", nil, http.StatusOK},
		{"BuildV_StartNewBuildJob", http.MethodPost, buildsBase + "/build-operations", map[string]any{"buildType": "Release", "assetKey": keyPortal, "assetRevision": 1}, http.StatusCreated},
		{"BuildV_GetBuild", http.MethodGet, buildsBase + "/build-operations/" + release, nil, http.StatusOK},
		{"BuildV_GetBuildFeedback", http.MethodGet, buildsBase + "/build-operations/" + release + "/log-messages", nil, http.StatusOK},
		{"DeploymentAnalysis_LaunchDeploymentAnalysis", http.MethodPost, dependencyBase + "/deployment-analyses", deployAnalysis, http.StatusCreated},
		{"DeploymentAnalysis_GetResult", http.MethodGet, dependencyBase + "/deployment-analyses/" + analysisKey, nil, http.StatusOK},
		{"AssetRepository_GetAssetRevisionSourceCode", http.MethodGet, core + "/revisions/1/source-code", nil, http.StatusOK},
		{"DeploymentOperations_Filter", http.MethodGet, deploymentBase + "/deployment-operations", nil, http.StatusOK},
		{"DeploymentOperations_Post", http.MethodPost, deploymentBase + "/deployment-operations", apply, http.StatusCreated},
		{"DeploymentOperations_Get", http.MethodGet, deploymentBase + "/deployment-operations/" + deployed.Key, nil, http.StatusOK},
		{"DeploymentOperations_GetMessages", http.MethodGet, deploymentBase + "/deployment-operations/" + deployed.Key + "/messages", nil, http.StatusOK},
	}
	isServed := map[string]bool{}
	for _, c := range served {
		isServed[c.id] = true
		e.api(c.method, c.path, tok, c.body).expect(t, c.status)
	}
	for _, c := range served {
		if e.v.Calls(c.id) == 0 {
			t.Errorf("%s was never checked", c.id)
		}
	}

	// Every other documented operation, with keys that exist, is not
	// served: 404 (no such path) or 405 (the path serves other methods).
	params := strings.NewReplacer("{assetKey}", keyPortal, "{revisionNumber}", "1", "{operationKey}", opKey,
		"{environmentKey}", dev, "{applicationKey}", keyCfgApp, "{baselineRevision}", "1", "{agentKey}", keyCfgApp, "{portfolioKey}", e.sb.svc.meta.PortfolioKey, "{analysisKey}", keyBroken)
	for _, op := range e.v.Operations() {
		if isServed[op.ID] {
			continue
		}
		r := do(t, op.Method, e.base+params.Replace(op.Path), tok, nil)
		if r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
			t.Errorf("%s (%s %s) answers %d: the sandbox serves it, so add it to this test; body: %s", op.ID, op.Method, op.Path, r.status, r.body)
		}
	}
}

// The operations the documents hold include every one the test calls.
func TestODCValidatorListsOperations(t *testing.T) {
	v := odctest.NewValidator(t, "http://127.0.0.1:1")
	ids := map[string]odctest.Operation{}
	for _, op := range v.Operations() {
		ids[op.ID] = op
	}
	if op := ids["AssetRepository_PatchVersion"]; op.Method != http.MethodPatch || op.Path != assetRepoBase+"/assets/{assetKey}/revisions/{revisionNumber}" {
		t.Errorf("AssetRepository_PatchVersion = %+v", op)
	}
	if _, ok := ids["DependencyManagement_ListReferencedElements"]; !ok {
		t.Error("the dependency management document's referenced elements operation is missing")
	}
}

// The permissions the sandbox's 403 answers name are the documents' own,
// except the Migration Kit's, which no public API document lists.
func TestODCPermissionsAreTheDocumentsOwn(t *testing.T) {
	documented, err := odctest.Permissions()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Asset management > Change", "Asset management > Open", "Release management > Release", "Stage > View stage"} {
		if !slices.Contains(documented, want) {
			t.Errorf("the documents' permissions %q lack %q", documented, want)
		}
	}
	for _, p := range fixture.Permissions {
		if p == fixture.PermissionMigrate {
			continue
		}
		if !slices.Contains(documented, p) {
			t.Errorf("the sandbox asks for permission %q, which no OpenAPI document names (%q)", p, documented)
		}
		if !strings.Contains(fixture.PermissionHelp[p], "'"+p+"'") {
			t.Errorf("the 403 text for %q is %q", p, fixture.PermissionHelp[p])
		}
	}
}
