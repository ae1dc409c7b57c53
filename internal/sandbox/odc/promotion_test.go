package odc

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

type buildList struct {
	Builds []buildJSON `json:"builds"`
}

func TestODCBuildOperations(t *testing.T) {
	f := fixture.Default()
	f.ODC.APIClients = append(f.ODC.APIClients, fixture.APIClient{Name: "viewer", ClientID: "viewer-1", ClientSecret: "viewer-secret",
		Permissions: []string{fixture.PermissionViewPortfolio}})
	e := startODC(t, testOptions{Fixture: f, PublishDuration: 50 * time.Millisecond})
	tok := e.token(clientMigration)
	e.seedPromotion(tok)
	e.seed(testAssets[3]) // Broken App: TrueChange errors
	e.sb.svc.deployDuration = 300 * time.Millisecond
	ops := buildsBase + "/build-operations"

	// A publish made a Debug build: its build key, listed as such.
	published := decode[testPage[publishOperationJSON]](t, e.api(http.MethodGet, deploymentBase+"/publish-operations?assetKey="+keyOrdersAPI, tok, nil).expect(t, http.StatusOK)).Results[0]
	builds := decode[buildList](t, e.api(http.MethodGet, ops+"?assetKey="+keyOrdersAPI+"&assetRevision=1", tok, nil).expect(t, http.StatusOK)).Builds
	if len(builds) != 1 || builds[0].BuildKey != *published.BuildKey || builds[0].BuildType != BuildTypeDebug || builds[0].Status != BuildStatusFinished {
		t.Fatalf("builds after publishing = %+v", builds)
	}
	if got := decode[buildList](t, e.api(http.MethodGet, ops+"?assetKey="+keyOrdersAPI+"&byBuildType=Release", tok, nil).expect(t, http.StatusOK)).Builds; len(got) != 0 {
		t.Errorf("Release builds before one was started = %+v", got)
	}
	if msgs := decode[resultList[buildMessageJSON]](t, e.api(http.MethodGet, ops+"/"+*published.BuildKey+"/log-messages", tok, nil).expect(t, http.StatusOK)).Results; len(msgs) != 2 ||
		*msgs[1].Message != "Published 'Orders API' revision 1 to stage 'Development'." {
		t.Errorf("the publish build's messages = %+v", msgs)
	}

	// A Release build runs, then finishes; the list shows it first.
	started := decode[map[string]any](t, e.api(http.MethodPost, ops, tok, map[string]any{"buildType": "Release", "assetKey": keyOrdersAPI, "assetRevision": 1}).expect(t, http.StatusCreated))
	key, _ := started["buildKey"].(string)
	if started["isSuccessful"] != true || key == "" {
		t.Fatalf("start = %+v", started)
	}
	running := decode[buildJSON](t, e.api(http.MethodGet, ops+"/"+key, tok, nil).expect(t, http.StatusOK))
	if running.Status != BuildStatusRunning || running.FinishedDateTime != nil || running.SecurityAudit != nil || running.BuildType != BuildTypeRelease ||
		running.BuiltBy == nil || *running.BuiltBy != clientMigration {
		t.Errorf("running build = %+v", running)
	}
	time.Sleep(350 * time.Millisecond)
	done := decode[buildJSON](t, e.api(http.MethodGet, ops+"/"+key, tok, nil).expect(t, http.StatusOK))
	if done.Status != BuildStatusFinished || done.FinishedDateTime == nil {
		t.Errorf("finished build = %+v", done)
	}
	releases := decode[buildList](t, e.api(http.MethodGet, ops+"?assetKey="+keyOrdersAPI+"&assetRevision=1&byBuildType=Release", tok, nil).expect(t, http.StatusOK)).Builds
	if len(releases) != 1 || releases[0].BuildKey != key {
		t.Errorf("Release builds = %+v", releases)
	}
	if all := decode[buildList](t, e.api(http.MethodGet, ops+"?assetKey="+keyOrdersAPI, tok, nil).expect(t, http.StatusOK)).Builds; len(all) != 2 || all[0].BuildKey != key {
		t.Errorf("builds, newest first = %+v", all)
	}

	// Default type Debug; TrueChange errors fail a build with their messages.
	debug := decode[map[string]any](t, e.api(http.MethodPost, ops, tok, map[string]any{"assetKey": keyBroken, "assetRevision": 1}).expect(t, http.StatusCreated))
	brokenKey, _ := debug["buildKey"].(string)
	time.Sleep(350 * time.Millisecond)
	broken := decode[buildJSON](t, e.api(http.MethodGet, ops+"/"+brokenKey, tok, nil).expect(t, http.StatusOK))
	msgs := decode[resultList[buildMessageJSON]](t, e.api(http.MethodGet, ops+"/"+brokenKey+"/log-messages", tok, nil).expect(t, http.StatusOK)).Results
	if broken.Status != BuildStatusFinishedWithErrors || broken.BuildType != BuildTypeDebug || len(msgs) != 4 ||
		!strings.Contains(*msgs[1].Message, "'Site.Tenant' is not defined") || msgs[1].ErrorCode == nil {
		t.Errorf("broken build = %+v, messages %+v", broken, msgs)
	}

	// Refusals.
	e.api(http.MethodPost, ops, tok, map[string]any{"buildType": "Release", "assetKey": keyOrdersAPI, "assetRevision": 7}).expectODCProblem(t, http.StatusNotFound, "Revision 7")
	e.api(http.MethodPost, ops, tok, map[string]any{"buildType": "Release", "assetKey": keyBroken, "assetRevision": 0}).expectODCProblem(t, http.StatusBadRequest, "assetRevision is required")
	e.api(http.MethodPost, ops, tok, map[string]any{"buildType": "Release", "assetRevision": 1}).expectODCProblem(t, http.StatusBadRequest, "assetKey is required")
	e.apiOutsideContract(http.MethodPost, ops, tok, map[string]any{"buildType": "Production", "assetKey": keyOrdersAPI, "assetRevision": 1}).expectODCProblem(t, http.StatusBadRequest, "'Production'")
	e.api(http.MethodGet, ops+"?assetKey="+keyOrdersAPI+"&assetRevision=9", tok, nil).expectODCProblem(t, http.StatusNotFound, "Revision 9")
	e.api(http.MethodGet, ops+"/"+keyCore, tok, nil).expectODCProblem(t, http.StatusNotFound, keyCore)
	e.api(http.MethodGet, ops+"?assetKey="+keyOrdersAPI, e.token("viewer"), nil).expectODCProblem(t, http.StatusForbidden, "'Asset management > Open'")
	e.api(http.MethodPost, ops, e.token("viewer"), map[string]any{"buildType": "Release", "assetKey": keyOrdersAPI, "assetRevision": 1}).
		expectODCProblem(t, http.StatusForbidden, "'Asset management > Open'")
}

type analysisResultTest struct {
	ProcessStatus string `json:"processStatus"`
	Report        *struct {
		Status         string              `json:"status"`
		ImpactedAssets []applicationReport `json:"impactedAssets"`
	} `json:"report"`
	AssetKey       string  `json:"assetKey"`
	EnvironmentKey *string `json:"environmentKey"`
}

func TestODCDeploymentAnalyses(t *testing.T) {
	e := startODC(t, testOptions{PublishDuration: 50 * time.Millisecond})
	tok := e.token(clientMigration)
	e.seedPromotion(tok)
	e.sb.svc.deployDuration = 250 * time.Millisecond
	qa := e.stage("QA")
	base := dependencyBase + "/deployment-analyses"
	analyze := func(assetKey string) analysisResultTest {
		t.Helper()
		key := decode[map[string]string](t, e.api(http.MethodPost, base, tok, map[string]any{"assetKey": assetKey, "revision": 1, "environmentKey": qa}).
			expect(t, http.StatusCreated))["analysisKey"]
		if first := decode[analysisResultTest](t, e.api(http.MethodGet, base+"/"+key, tok, nil).expect(t, http.StatusOK)); first.ProcessStatus != "InProgress" || first.Report != nil {
			t.Errorf("analysis at once = %+v", first)
		}
		time.Sleep(300 * time.Millisecond)
		return decode[analysisResultTest](t, e.api(http.MethodGet, base+"/"+key, tok, nil).expect(t, http.StatusOK))
	}

	// The portal's producer app is not in QA: an error naming it; the
	// library it consumes is bundled, so not reported.
	got := analyze(keyOrdersPortal)
	if got.ProcessStatus != "Finished" || got.Report == nil || got.Report.Status != "ErrorsFound" || len(got.Report.ImpactedAssets) != 1 ||
		*got.Report.ImpactedAssets[0].AssetKey != keyOrdersAPI || got.Report.ImpactedAssets[0].ReferenceType != "Producer" ||
		got.Report.ImpactedAssets[0].ApplicationLevelIssues[0].ConflictType != "MissingApplication" ||
		!strings.Contains(*got.Report.ImpactedAssets[0].ApplicationLevelIssues[0].Hint, "Producer 'Orders API'") {
		t.Fatalf("analysis of the portal = %+v", got)
	}
	if got := analyze(keyOrdersAPI); got.Report == nil || got.Report.Status != "NoIssuesFound" || len(got.Report.ImpactedAssets) != 0 {
		t.Errorf("analysis of the API = %+v", got)
	}
	// Once the producer and the portal are deployed, the API's analysis
	// lists the portal as a consumer.
	for _, k := range []string{keyOrdersAPI, keyOrdersPortal} {
		e.deploy(tok, map[string]any{"operation": "Deploy", "assetKey": k, "revision": 1, "buildKey": e.releaseBuild(k), "environmentKey": qa})
	}
	if got := analyze(keyOrdersPortal); got.Report.Status != "NoIssuesFound" {
		t.Errorf("analysis of the portal after its producer = %+v", got)
	}
	if got := analyze(keyOrdersAPI); got.Report.Status != "NoIssuesFound" || len(got.Report.ImpactedAssets) != 1 ||
		got.Report.ImpactedAssets[0].ReferenceType != "Consumer" || *got.Report.ImpactedAssets[0].AssetKey != keyOrdersPortal {
		t.Errorf("analysis of the API with its consumer = %+v", got)
	}
	e.api(http.MethodPost, base, tok, map[string]any{"assetKey": keyOrdersAPI, "revision": 1}).expectODCProblem(t, http.StatusBadRequest, "environmentKey is required")
	e.api(http.MethodPost, base, tok, map[string]any{"assetKey": keyOrdersAPI, "revision": 4, "environmentKey": qa}).expectODCProblem(t, http.StatusNotFound, "Revision 4")
	e.api(http.MethodGet, base+"/nothing", tok, nil).expectODCProblem(t, http.StatusNotFound, "'nothing'")
}

func TestODCSourceCode(t *testing.T) {
	e := startODC(t, testOptions{})
	tok := e.token(clientMigration)
	e.seed(testAssets[0])
	path := assetRepoBase + "/assets/" + keyCore + "/revisions/1/source-code"
	sc := decode[sourceCodeJSON](t, e.api(http.MethodGet, path, tok, nil).expect(t, http.StatusOK))
	if sc.SourceCodeBinaryURL == nil || sc.SourceCodeDigest == nil || !strings.HasPrefix(*sc.SourceCodeBinaryURL, e.base+sourceStoragePath) {
		t.Fatalf("source code = %+v", sc)
	}
	// The URL needs no token and serves a zip whose digest is the one given.
	resp, err := http.Get(*sc.SourceCodeBinaryURL)
	if err != nil {
		t.Fatal(err)
	}
	data := readAll(t, resp)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || sourceDigest(data) != *sc.SourceCodeDigest {
		t.Fatalf("download = %d, digest %s, want %s", resp.StatusCode, sourceDigest(data), *sc.SourceCodeDigest)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil || len(zr.File) != 1 {
		t.Fatalf("zip = %v, %v", zr, err)
	}
	f, _ := zr.File[0].Open()
	model, _ := io.ReadAll(f)
	if !strings.Contains(string(model), `"name":"Customer Core"`) {
		t.Errorf("model = %s", model)
	}
	// The same revision, the same digest; a tampered URL is refused.
	if again := decode[sourceCodeJSON](t, e.api(http.MethodGet, path, tok, nil).expect(t, http.StatusOK)); *again.SourceCodeDigest != *sc.SourceCodeDigest {
		t.Errorf("digest changed: %s then %s", *sc.SourceCodeDigest, *again.SourceCodeDigest)
	}
	tampered := strings.Replace(*sc.SourceCodeBinaryURL, "/1?", "/2?", 1)
	if r := do(t, http.MethodGet, tampered, "", nil); r.status != http.StatusForbidden {
		t.Errorf("tampered URL = %d %s", r.status, r.body)
	}
	// The sourceCode embedding points at the same binary.
	embedded := decode[assetRevision](t, e.api(http.MethodGet, assetRepoBase+"/assets/"+keyCore+"/revisions/1?embed=sourceCode", tok, nil).expect(t, http.StatusOK))
	if embedded.Embedded == nil || embedded.Embedded.SourceCode == nil || embedded.Embedded.SourceCode.SourceCodeDigest == nil ||
		*embedded.Embedded.SourceCode.SourceCodeDigest != *sc.SourceCodeDigest {
		t.Errorf("embedded source code = %+v", embedded.Embedded)
	}
	e.api(http.MethodGet, assetRepoBase+"/assets/"+keyCore+"/revisions/3/source-code", tok, nil).expectODCProblem(t, http.StatusNotFound, "Revision 3")
}
