package sandbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/codemigration"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// migrationEnv calls the code migration operations of a sandbox whose clock the
// test drives; every exchange is checked against the contract.
type migrationEnv struct {
	*assessEnv
	clock  *fakeClock
	tokens map[string]string
}

const testMigrationDuration = 5 * time.Second

func newMigrationEnv(t *testing.T, opts Options) *migrationEnv {
	t.Helper()
	if opts.MigrationDuration == 0 {
		opts.MigrationDuration = testMigrationDuration
	}
	clock := newFakeClock()
	return &migrationEnv{assessEnv: newAssessEnv(t, opts, clock), clock: clock, tokens: map[string]string{}}
}

// token gets (once) an ODC access token for a fixture API client, through
// discovery and the client credentials grant.
func (e *migrationEnv) token(client string) string {
	e.t.Helper()
	if tok, ok := e.tokens[client]; ok {
		return tok
	}
	var c *fixture.APIClient
	for i, fc := range e.sb.Fixture().ODC.APIClients {
		if fc.Name == client {
			c = &e.sb.Fixture().ODC.APIClients[i]
		}
	}
	if c == nil {
		e.t.Fatalf("no API client %q", client)
	}
	disco := decode[oidcConfiguration](e.t, do(e.t, http.MethodGet, e.url+"/identity/.well-known/openid-configuration", "", nil).expect(e.t, http.StatusOK))
	resp, err := http.PostForm(disco.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {c.ClientSecret}})
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok odc.TokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		e.t.Fatalf("token for %s: %v %+v", client, err, tok)
	}
	e.tokens[client] = tok.AccessToken
	return tok.AccessToken
}

// cm sends a conforming request to the code migration API as client.
func (e *migrationEnv) cm(method, path, client string, body any) response {
	e.t.Helper()
	return e.exchange(method, e.url+codemigration.Base+path, e.token(client), body, "", true)
}

// callInvalidMigration sends, as the migration client, a request the contract rejects.
func (e *migrationEnv) callInvalidMigration(method, path string, body any) response {
	e.t.Helper()
	return e.exchange(method, e.url+codemigration.Base+path, e.token(clientMigration), body, "", false)
}

// start starts a code migration of the mappings from Development.
func (e *migrationEnv) start(mappingKeys ...string) codemigration.Migration {
	e.t.Helper()
	r := e.cm(http.MethodPost, "/code-migrations", clientMigration,
		map[string]any{"sourceEnvironmentKey": envKey(e.t, e.sb.Fixture(), "Development"), "mappingKeys": mappingKeys}).expect(e.t, http.StatusCreated)
	m := decode[codemigration.Migration](e.t, r)
	if loc := r.header.Get("Location"); loc != codemigration.Base+"/code-migrations/"+m.Key {
		e.t.Errorf("Location = %q", loc)
	}
	return m
}

func (e *migrationEnv) get(key string) codemigration.Migration {
	e.t.Helper()
	return decode[codemigration.Migration](e.t, e.cm(http.MethodGet, "/code-migrations/"+key, clientMigration, nil).expect(e.t, http.StatusOK))
}

func (e *migrationEnv) list(query string) assessment.Page[codemigration.Migration] {
	e.t.Helper()
	return decode[assessment.Page[codemigration.Migration]](e.t, e.cm(http.MethodGet, "/code-migrations"+query, clientMigration, nil).expect(e.t, http.StatusOK))
}

// ready creates mappings and lets their assessments finish.
func (e *migrationEnv) ready(specs ...[3]string) map[string]string {
	e.t.Helper()
	keys := map[string]string{}
	for _, s := range specs {
		keys[s[0]] = e.create(s[0], s[1], s[2]).Key
	}
	e.clock.Advance(DefaultAssessmentDelay)
	return keys
}

// testODCRevision is an ODC asset revision as the tests check it.
type testODCRevision struct {
	Revision      int
	Name          string
	Tag           *string
	CreatedBy     string
	CreatedAt     time.Time
	Producers     []string // sorted
	PublishErrors []string
}

// testODCAsset is an asset with all its revisions, ascending.
type testODCAsset struct {
	AssetType string
	Revisions []*testODCRevision
}

func (a testODCAsset) latest() *testODCRevision { return a.Revisions[len(a.Revisions)-1] }

// cloudAsset reads an asset's revisions from the ODC tables.
func (e *migrationEnv) cloudAsset(key string) testODCAsset {
	e.t.Helper()
	var a testODCAsset
	err := e.sb.store.read(e.t.Context(), func(tx *sql.Tx) error {
		return sqldb.QueryRows(e.t.Context(), tx, func(rows *sql.Rows) error {
			r := &testODCRevision{}
			var created int64
			var producers sql.NullString
			var errorsJSON string
			if err := rows.Scan(&a.AssetType, &r.Revision, &r.Name, &r.Tag, &r.CreatedBy, &created, &errorsJSON, &producers); err != nil {
				return err
			}
			r.CreatedAt = time.Unix(0, created).UTC()
			if producers.String != "" {
				r.Producers = strings.Split(producers.String, ",")
				slices.Sort(r.Producers)
			}
			a.Revisions = append(a.Revisions, r)
			return json.Unmarshal([]byte(errorsJSON), &r.PublishErrors)
		}, `SELECT a.asset_type, r.revision, r.name, r.tag, r.created_by, r.created_at, r.publish_errors,
			(SELECT group_concat(p.producer_key, ',') FROM odc_revision_producers p WHERE p.asset_key = r.asset_key AND p.revision = r.revision)
			FROM odc_revisions r JOIN odc_assets a ON a.key = r.asset_key WHERE r.asset_key = ? ORDER BY r.revision`, key)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(a.Revisions) == 0 {
		e.t.Fatalf("ODC has no asset %s", key)
	}
	return a
}

func assetNames(as []codemigration.MigratedAsset) []string {
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = a.Name
	}
	return names
}

func hasMessage(ms []codemigration.Message, code string, contains ...string) bool {
	return slices.ContainsFunc(ms, func(m codemigration.Message) bool {
		if m.Code != code {
			return false
		}
		for _, c := range contains {
			if !strings.Contains(m.Message, c) {
				return false
			}
		}
		return true
	})
}

func TestCodeMigrationLifecycle(t *testing.T) {
	e := newMigrationEnv(t, Options{})
	f := e.sb.Fixture()
	keys := e.ready(
		[3]string{"Customer Portal", AssetTypeWebApp, "Customer Portal"},
		[3]string{"Claims Core", AssetTypeLibrary, "Claims Core"},
		[3]string{"Common Utils", AssetTypeLibrary, "Common Utils"},
		[3]string{"Policy Core", AssetTypeLibrary, "Policy Core"},
	)
	order := []string{keys["Customer Portal"], keys["Claims Core"], keys["Common Utils"], strings.ToUpper(keys["Policy Core"])}
	start := e.clock.Now()
	m := e.start(order...)
	if m.Status != codemigration.StatusMigrating || m.FinishedAt != nil || len(m.Assets) != 0 || m.StartedBy != clientMigration ||
		!m.StartedAt.Equal(start) || m.SourceEnvironmentKey != envKey(t, f, "Development") ||
		!slices.Equal(m.MappingKeys, []string{keys["Customer Portal"], keys["Claims Core"], keys["Common Utils"], keys["Policy Core"]}) {
		t.Fatalf("started = %+v", m)
	}
	if at, ok := e.sb.MigrationFinishedAt(m.Key); !ok || !at.Equal(start.Add(testMigrationDuration)) {
		t.Errorf("MigrationFinishedAt = %v, %v; want %v", at, ok, start.Add(testMigrationDuration))
	}
	if _, ok := e.sb.MigrationFinishedAt(uuid.NewString()); ok {
		t.Error("MigrationFinishedAt of an unknown key reports one")
	}

	// Migrating until the duration has passed; the assets do not exist yet.
	e.clock.Advance(testMigrationDuration - time.Millisecond)
	if got := e.get(strings.ToUpper(m.Key)); got.Status != codemigration.StatusMigrating || len(got.Assets) != 0 || got.FinishedAt != nil {
		t.Fatalf("before the end = %+v", got)
	}
	if n := len(e.list("?status=Migrating").Results); n != 1 {
		t.Errorf("%d migrations Migrating, want 1", n)
	}
	if n := len(e.list("?status=Finished").Results); n != 0 {
		t.Errorf("%d migrations Finished, want 0", n)
	}

	e.clock.Advance(time.Millisecond)
	done := e.get(m.Key)
	if done.Status != codemigration.StatusFinished || done.FinishedAt == nil || !done.FinishedAt.Equal(start.Add(testMigrationDuration)) {
		t.Fatalf("finished = %+v", done)
	}
	if got, want := assetNames(done.Assets), []string{"Common Utils", "Policy Core", "Claims Core", "Customer Portal"}; !slices.Equal(got, want) {
		t.Fatalf("assets = %v, want producers first %v", got, want)
	}
	byName := map[string]codemigration.MigratedAsset{}
	for i, a := range done.Assets {
		byName[a.Name] = a
		if a.PublishOrder != i+1 || a.Revision != 1 || a.Status != codemigration.AssetUnpublished || len(a.Errors) != 0 || a.MappingKey != keys[a.Name] {
			t.Errorf("asset %d = %+v", i, a)
		}
	}
	waves := map[string]int{"Common Utils": 1, "Policy Core": 2, "Claims Core": 3, "Customer Portal": 3}
	producers := map[string][]string{"Common Utils": {}, "Policy Core": {"Common Utils"}, "Claims Core": {"Policy Core"}, "Customer Portal": {"Policy Core"}}
	for name, a := range byName {
		if a.PublishWave != waves[name] {
			t.Errorf("%s: wave %d, want %d", name, a.PublishWave, waves[name])
		}
		var want []string
		for _, p := range producers[name] {
			want = append(want, byName[p].AssetKey)
		}
		if !slices.Equal(a.ProducerAssetKeys, assessment.NonNil(want)) {
			t.Errorf("%s: producers %v, want the assets of %v", name, a.ProducerAssetKeys, producers[name])
		}
		// ODC holds revision 1, untagged, consuming the same assets.
		oa := e.cloudAsset(a.AssetKey)
		r := oa.latest()
		if oa.AssetType != a.AssetType || r.Revision != 1 || r.Name != name || r.Tag != nil || r.CreatedBy != migrationCreatedBy ||
			!slices.Equal(r.Producers, slices.Sorted(slices.Values(want))) || len(r.PublishErrors) != 0 || !r.CreatedAt.Equal(*done.FinishedAt) {
			t.Errorf("%s in ODC = %+v %+v", name, oa, r)
		}
	}
	portal := byName["Customer Portal"]
	app := fixtureApp(t, f, "Customer Portal")
	if want := []codemigration.SourceVersion{{ApplicationKey: app.Key, VersionKey: versionKey(t, app, "1.2.0"), Version: "1.2.0"}}; !slices.Equal(portal.SourceApplicationVersions, want) {
		t.Errorf("Customer Portal source versions = %+v, want %+v", portal.SourceApplicationVersions, want)
	}
	// Customer Portal was changed in Development after its tag.
	if !hasMessage(portal.Messages, codemigration.CodeUntaggedChanges, "'Customer Portal'", "'Development'", "1.2.0") || len(byName["Policy Core"].Messages) != 0 {
		t.Errorf("messages = %+v / %+v", portal.Messages, byName["Policy Core"].Messages)
	}
	if again := e.get(m.Key); !slices.EqualFunc(again.Assets, done.Assets, func(a, b codemigration.MigratedAsset) bool {
		return a.AssetKey == b.AssetKey && a.Revision == b.Revision
	}) {
		t.Errorf("a second read differs: %+v", again.Assets)
	}

	// Published is read from ODC: once revision 1 of Common Utils is
	// published to a stage, it shows.
	utils := byName["Common Utils"]
	if _, err := e.sb.odc.PublishNow(context.Background(), utils.AssetKey, 1, clientMigration); err != nil {
		t.Fatal(err)
	}
	for _, a := range e.get(m.Key).Assets {
		if want := map[bool]string{true: codemigration.AssetPublished, false: codemigration.AssetUnpublished}[a.Name == "Common Utils"]; a.Status != want {
			t.Errorf("%s: status %s, want %s", a.Name, a.Status, want)
		}
	}

	// Migrating the same mappings again makes revision 2 of the same assets.
	e.clock.Advance(time.Minute)
	second := e.start(keys["Policy Core"], keys["Common Utils"])
	e.clock.Advance(testMigrationDuration)
	again := e.get(second.Key)
	if again.Status != codemigration.StatusFinished || !slices.Equal(assetNames(again.Assets), []string{"Common Utils", "Policy Core"}) {
		t.Fatalf("second migration = %+v", again)
	}
	for _, a := range again.Assets {
		if a.AssetKey != byName[a.Name].AssetKey || a.Revision != 2 || a.Status != codemigration.AssetUnpublished {
			t.Errorf("second migration: %s = %+v, want revision 2 of %s", a.Name, a, byName[a.Name].AssetKey)
		}
		if r := e.cloudAsset(a.AssetKey).latest(); r.Revision != 2 || len(e.cloudAsset(a.AssetKey).Revisions) != 2 {
			t.Errorf("%s in ODC: latest revision %d", a.Name, r.Revision)
		}
	}
	if pc := again.Assets[1]; pc.PublishWave != 2 || !slices.Equal(pc.ProducerAssetKeys, []string{utils.AssetKey}) {
		t.Errorf("Policy Core in the second migration = %+v", pc)
	}
	// The first migration's revision 1 of Common Utils is still the published one.
	if first := e.get(m.Key); first.Assets[0].Status != codemigration.AssetPublished || first.Assets[0].Revision != 1 {
		t.Errorf("first migration's Common Utils = %+v", first.Assets[0])
	}

	// Claims Core alone: its producer Policy Core is not in the migration,
	// so wave 1 with no producerAssetKeys, but ODC links the latest asset.
	third := e.start(keys["Claims Core"])
	e.clock.Advance(testMigrationDuration)
	cc := e.get(third.Key).Assets[0]
	if cc.PublishWave != 1 || cc.PublishOrder != 1 || len(cc.ProducerAssetKeys) != 0 || cc.Revision != 2 {
		t.Errorf("Claims Core alone = %+v", cc)
	}
	if r := e.cloudAsset(cc.AssetKey).latest(); !slices.Equal(r.Producers, []string{byName["Policy Core"].AssetKey}) {
		t.Errorf("Claims Core revision 2 consumes %v, want Policy Core's asset", r.Producers)
	}

	// Newest first, filtered and paged.
	all := e.list("")
	if got := []string{all.Results[0].Key, all.Results[1].Key, all.Results[2].Key}; !slices.Equal(got, []string{third.Key, second.Key, m.Key}) || all.Page.TotalResults != 3 {
		t.Errorf("list = %v, want newest first", got)
	}
	page := e.list("?status=Finished&limit=2&offset=1")
	if len(page.Results) != 2 || page.Results[0].Key != second.Key || page.Page.NextPageOffset != nil || page.Page.TotalResults != 3 || page.Page.TotalPages != 2 {
		t.Errorf("page = %+v", page.Page)
	}
	if n := len(e.list("?status=FinishedWithErrors").Results); n != 0 {
		t.Errorf("%d migrations with errors", n)
	}
}

func TestCodeMigrationFinishedWithErrors(t *testing.T) {
	e := newMigrationEnv(t, Options{})
	keys := e.ready(
		[3]string{"Playground", AssetTypeWebApp, "Sandbox Playground"},
		[3]string{"Field Inspector", AssetTypeMobileApp, "Field Inspector"},
		[3]string{"Claims Core", AssetTypeLibrary, "Claims Core"},
	)
	// Field Inspector has a Fix in O11 finding: fix it and reassess.
	if err := e.sb.FixAllFindings(keys["Field Inspector"]); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(DefaultAssessmentDelay)
	m := e.start(keys["Playground"], keys["Field Inspector"], keys["Claims Core"])
	e.clock.Advance(testMigrationDuration)
	done := e.get(m.Key)
	if done.Status != codemigration.StatusFinishedWithErrors || !slices.Equal(assetNames(done.Assets), []string{"Claims Core", "Playground", "Field Inspector"}) {
		t.Fatalf("migration = %+v", done)
	}
	claims, playground, inspector := done.Assets[0], done.Assets[1], done.Assets[2]
	if !hasMessage(playground.Errors, codemigration.CodeConversionFailed, "Rich Text Editor") || len(playground.Errors) != 1 || playground.Revision != 1 || playground.PublishWave != 1 {
		t.Errorf("Playground = %+v", playground)
	}
	if len(inspector.Errors) != 0 || !hasMessage(inspector.Messages, codemigration.CodeTrueChangeError, "'Field Inspector'", "LocalInspection") ||
		inspector.PublishWave != 2 || !slices.Equal(inspector.ProducerAssetKeys, []string{claims.AssetKey}) || inspector.AssetType != AssetTypeMobileApp {
		t.Errorf("Field Inspector = %+v", inspector)
	}
	if len(claims.Errors) != 0 || len(claims.Messages) != 0 {
		t.Errorf("Claims Core = %+v", claims)
	}
	// The failed asset's revision exists but cannot be published; the
	// TrueChange errors make Field Inspector's publishes fail too.
	if r := e.cloudAsset(playground.AssetKey).latest(); len(r.PublishErrors) != 1 || !strings.Contains(r.PublishErrors[0], "CONVERSION_FAILED") {
		t.Errorf("Playground revision publish errors = %v", r.PublishErrors)
	}
	for _, a := range []codemigration.MigratedAsset{playground, inspector} {
		op, err := e.sb.odc.PublishNow(context.Background(), a.AssetKey, 1, clientMigration)
		if err != nil || op.Outcome != odc.StatusFinishedWithError {
			t.Errorf("publishing %s = %+v, %v; want a failure", a.Name, op, err)
		}
	}
	if r := e.cloudAsset(inspector.AssetKey).latest(); !slices.Equal(r.PublishErrors, e.sb.Fixture().CodeMigration.PublishErrors[0].Messages) {
		t.Errorf("Field Inspector revision publish errors = %v", r.PublishErrors)
	}
	for _, a := range e.get(m.Key).Assets {
		if a.Status != codemigration.AssetUnpublished {
			t.Errorf("%s is %s after a failed publish", a.Name, a.Status)
		}
	}
	if got := e.list("?status=FinishedWithErrors").Results; len(got) != 1 || got[0].Key != m.Key {
		t.Errorf("FinishedWithErrors list = %+v", got)
	}
}

func TestCodeMigrationRefusals(t *testing.T) {
	e := newMigrationEnv(t, Options{})
	f := e.sb.Fixture()
	dev := envKey(t, f, "Development")
	keys := e.ready(
		[3]string{"Common Utils", AssetTypeLibrary, "Common Utils"},
		[3]string{"Policy Admin", AssetTypeWebApp, "Policy Admin"},
		[3]string{"Playground", AssetTypeWebApp, "Sandbox Playground"},
	)
	body := func(env string, mappings ...string) map[string]any {
		return map[string]any{"sourceEnvironmentKey": env, "mappingKeys": mappings}
	}
	post := func(client string, b any) response {
		t.Helper()
		return e.cm(http.MethodPost, "/code-migrations", client, b)
	}

	// 401 and 403: the ODC token decides, in the contract's shape.
	e.exchange(http.MethodPost, e.url+codemigration.Base+"/code-migrations", "", body(dev, keys["Common Utils"]), "", false).
		expectProblem(t, http.StatusUnauthorized, assessment.CodeUnauthorized, "Authorization: Bearer")
	noToken := e.exchange(http.MethodGet, e.url+codemigration.Base+"/code-migrations", "", nil, "", false)
	noToken.expectProblem(t, http.StatusUnauthorized, assessment.CodeUnauthorized)
	if !strings.HasPrefix(noToken.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate = %q", noToken.header.Get("WWW-Authenticate"))
	}
	e.exchange(http.MethodGet, e.url+codemigration.Base+"/code-migrations", testAdminToken, nil, "", true).
		expectProblem(t, http.StatusUnauthorized, assessment.CodeUnauthorized, "Invalid access token")
	post(clientNoMigrate, body(dev, keys["Common Utils"])).expectProblem(t, http.StatusForbidden, assessment.CodeForbidden,
		"'publisher-no-migrate'", "O11 Migrations > Migrate O11 code", "Organization management > Convert O11 code")
	// Any API client may read.
	e.cm(http.MethodGet, "/code-migrations", clientNoMigrate, nil).expect(t, http.StatusOK)

	// 400 and 415.
	for _, b := range []any{
		map[string]any{"mappingKeys": []string{keys["Common Utils"]}},
		map[string]any{"sourceEnvironmentKey": dev},
		body("dev", keys["Common Utils"]),
		body(dev),
		body(dev, "common-utils"),
		body(dev, keys["Common Utils"], keys["Common Utils"]),
		map[string]any{"sourceEnvironmentKey": dev, "mappingKeys": []string{keys["Common Utils"]}, "dryRun": true},
		map[string]any{"sourceEnvironmentKey": dev, "mappingKeys": keys["Common Utils"]},
		"[]",
	} {
		e.callInvalidMigration(http.MethodPost, "/code-migrations", b).expectProblem(t, http.StatusBadRequest, assessment.CodeValidation)
	}
	// One key in two letter cases conforms to the schema but is a duplicate.
	post(clientMigration, body(dev, keys["Common Utils"], strings.ToUpper(keys["Common Utils"]))).
		expectProblem(t, http.StatusBadRequest, assessment.CodeValidation, "more than once")
	e.exchange(http.MethodPost, e.url+codemigration.Base+"/code-migrations", e.token(clientMigration), "{}", "text/plain", false).
		expectProblem(t, http.StatusUnsupportedMediaType, assessment.CodeUnsupportedMediaType)

	// 404s name the keys.
	unknownEnv, unknown1, unknown2 := uuid.NewString(), uuid.NewString(), uuid.NewString()
	post(clientMigration, body(unknownEnv, keys["Common Utils"])).expectProblem(t, http.StatusNotFound, codemigration.CodeEnvironmentNotFound, unknownEnv)
	post(clientMigration, body(dev, unknown1, keys["Common Utils"], unknown2)).expectProblem(t, http.StatusNotFound, assessment.CodeMappingNotFound, unknown1, unknown2)

	// 409 not ready: Policy Admin is NotReady, a new mapping is Assessing.
	assessing := e.create("Notifications", AssetTypeLibrary, "Notifications").Key
	notReady := post(clientMigration, body(dev, keys["Common Utils"], keys["Policy Admin"], assessing))
	notReady.expectProblem(t, http.StatusConflict, codemigration.CodeAssetsNotReady,
		"'Policy Admin' (key "+keys["Policy Admin"]+") is NotReady", "'Notifications' (key "+assessing+") is Assessing")
	if ext := decode[codemigration.ProblemDetails](t, notReady); !slices.Equal(ext.NotReadyMappingKeys, []string{keys["Policy Admin"], assessing}) || ext.MigrationKey != "" {
		t.Errorf("notReadyMappingKeys = %v", ext.NotReadyMappingKeys)
	}

	// 409 not in the environment: Sandbox Playground runs in Development only.
	post(clientMigration, body(envKey(t, f, "Production"), keys["Playground"])).
		expectProblem(t, http.StatusConflict, codemigration.CodeApplicationNotInEnvironment, "'Sandbox Playground'", "'Production'", "mapping 'Playground'")

	// 409 in progress, with the migration to adopt; over once it ends.
	m := e.start(keys["Common Utils"])
	e.clock.Advance(time.Second)
	busy := post(clientMigration, body(dev, keys["Playground"], keys["Common Utils"]))
	busy.expectProblem(t, http.StatusConflict, codemigration.CodeMigrationInProgress, m.Key, "'Common Utils'")
	if ext := decode[codemigration.ProblemDetails](t, busy); ext.MigrationKey != m.Key || ext.NotReadyMappingKeys != nil {
		t.Errorf("migrationKey = %q, want %q", ext.MigrationKey, m.Key)
	}
	// The mapping cannot be deleted meanwhile.
	e.call(http.MethodDelete, "/mappings/"+keys["Common Utils"], nil).expectProblem(t, http.StatusConflict, codemigration.CodeMappingInUse, m.Key)
	e.clock.Advance(testMigrationDuration)
	next := e.start(keys["Playground"], keys["Common Utils"])
	if next.Status != codemigration.StatusMigrating {
		t.Errorf("after the first ended: %+v", next)
	}
	e.clock.Advance(testMigrationDuration)
	// A finished migration outlives its mappings.
	e.call(http.MethodDelete, "/mappings/"+keys["Common Utils"], nil).expect(t, http.StatusNoContent)
	if got := e.get(m.Key); got.Status != codemigration.StatusFinished || got.MappingKeys[0] != keys["Common Utils"] || got.Assets[0].Name != "Common Utils" {
		t.Errorf("after deleting its mapping = %+v", got)
	}

	// Reads.
	missing := uuid.NewString()
	e.cm(http.MethodGet, "/code-migrations/"+missing, clientMigration, nil).expectProblem(t, http.StatusNotFound, codemigration.CodeMigrationNotFound, missing)
	e.callInvalidMigration(http.MethodGet, "/code-migrations/latest", nil).expectProblem(t, http.StatusBadRequest, assessment.CodeValidation, "'latest'")
	for _, q := range []string{"?status=Converting", "?limit=0", "?offset=-1"} {
		e.callInvalidMigration(http.MethodGet, "/code-migrations"+q, nil).expectProblem(t, http.StatusBadRequest, assessment.CodeValidation)
	}

	// Outside the contract: other methods and paths, in its error shape.
	for _, tt := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodDelete, "/code-migrations/" + m.Key, http.StatusMethodNotAllowed, assessment.CodeMethodNotAllowed},
		{http.MethodPut, "/code-migrations", http.StatusMethodNotAllowed, assessment.CodeMethodNotAllowed},
		{http.MethodGet, "/code-migrations/" + m.Key + "/logs", http.StatusNotFound, assessment.CodeEndpointNotFound},
		{http.MethodGet, "/mappings", http.StatusNotFound, assessment.CodeEndpointNotFound},
	} {
		r := do(t, tt.method, e.url+codemigration.Base+tt.path, e.token(clientMigration), nil)
		r.expectProblem(t, tt.status, tt.code)
		if err := e.contract.CheckSchema("ProblemDetails", r.body); err != nil {
			t.Errorf("%s %s: %v", tt.method, tt.path, err)
		}
	}
	if r := do(t, http.MethodDelete, e.url+codemigration.Base+"/code-migrations/"+m.Key, e.token(clientMigration), nil); r.header.Get("Allow") != "GET" {
		t.Errorf("Allow = %q", r.header.Get("Allow"))
	}
}

func TestCodeMigrationSurvivesRestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sb.db")
	e := newMigrationEnv(t, Options{DBPath: db})
	keys := e.ready(
		[3]string{"Common Utils", AssetTypeLibrary, "Common Utils"},
		[3]string{"Policy Core", AssetTypeLibrary, "Policy Core"},
	)
	m := e.start(keys["Policy Core"], keys["Common Utils"])
	e.clock.Advance(time.Second)
	if err := e.sb.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened on the same database, with the clock going on.
	e2 := &migrationEnv{assessEnv: newAssessEnv(t, Options{DBPath: db, MigrationDuration: time.Hour}, e.clock), clock: e.clock, tokens: map[string]string{}}
	if got := e2.get(m.Key); got.Status != codemigration.StatusMigrating || len(got.Assets) != 0 {
		t.Fatalf("after restart = %+v", got)
	}
	if at, ok := e2.sb.MigrationFinishedAt(m.Key); !ok || !at.Equal(m.StartedAt.Add(testMigrationDuration)) {
		t.Errorf("MigrationFinishedAt = %v, %v: a restart with another duration must not change it", at, ok)
	}
	e2.clock.Advance(testMigrationDuration)

	// Many readers at once: the migration is finalised exactly once.
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Go(func() {
			r, err := send(http.MethodGet, e2.url+codemigration.Base+"/code-migrations/"+m.Key, e2.token(clientMigration), nil)
			if err == nil {
				statuses[i] = r.status
			}
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("reader %d: status %d", i, s)
		}
	}
	done := e2.get(m.Key)
	if done.Status != codemigration.StatusFinished || !slices.Equal(assetNames(done.Assets), []string{"Common Utils", "Policy Core"}) {
		t.Fatalf("finished = %+v", done)
	}
	var revisions int
	err := e2.sb.store.read(context.Background(), func(tx *sql.Tx) error {
		return tx.QueryRow(`SELECT count(*) FROM odc_revisions`).Scan(&revisions)
	})
	if err != nil || revisions != 2 {
		t.Errorf("ODC holds %d revisions (%v), want 2: one per asset", revisions, err)
	}
	for _, a := range done.Assets {
		if n := len(e2.cloudAsset(a.AssetKey).Revisions); n != 1 || a.Revision != 1 {
			t.Errorf("%s: %d revisions in ODC, revision %d", a.Name, n, a.Revision)
		}
	}
}

func TestCodeMigrationFixture(t *testing.T) {
	f := fixture.Default()
	if len(f.CodeMigration.Failures) != 1 || f.CodeMigration.Failures[0].Application != "Sandbox Playground" ||
		len(f.CodeMigration.PublishErrors) != 1 || f.CodeMigration.PublishErrors[0].Application != "Field Inspector" {
		t.Errorf("default code migration fixture = %+v", f.CodeMigration)
	}
	f.CodeMigration = fixture.CodeMigration{
		Failures: []fixture.MigrationFailure{
			{Application: "Nowhere", Errors: []fixture.MigrationError{{Code: "CONVERSION_FAILED", Message: "x"}}},
			{Application: "Common Utils"},
			{Application: "Policy Core", Errors: []fixture.MigrationError{{Code: "conversion failed", Message: ""}}},
			{Application: "Policy Core", Errors: []fixture.MigrationError{{Code: "X", Message: "y"}}},
		},
		PublishErrors: []fixture.PublishErrors{{Application: "Claims Core"}, {Application: "Claims Core", Messages: []string{""}}},
	}
	err := f.Validate()
	for _, want := range []string{
		`codeMigration.failures[0] ("Nowhere"): application "Nowhere" is not an application`,
		`codeMigration.failures[1] ("Common Utils"): at least one error is required`,
		`codeMigration.failures[2] ("Policy Core").errors[0]: code "conversion failed" must be upper case`,
		`codeMigration.failures[2] ("Policy Core").errors[0]: message is required`,
		`codeMigration.failures[3] ("Policy Core"): application "Policy Core" is listed more than once`,
		`codeMigration.publishErrors[0] ("Claims Core"): at least one message is required`,
		`codeMigration.publishErrors[1] ("Claims Core").messages[0]: the message is empty`,
		`codeMigration.publishErrors[1] ("Claims Core"): application "Claims Core" is listed more than once`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to report %q", err, want)
		}
	}

	doc := fixtureJSON(t)
	doc["codeMigration"] = map[string]any{"failures": []any{}, "retries": 3}
	if _, err := LoadFixture(writeFixture(t, doc)); err == nil || !strings.Contains(err.Error(), `codeMigration: json: unknown field "retries"`) {
		t.Errorf("LoadFixture with an unknown field = %v", err)
	}
	delete(doc, "codeMigration")
	g, err := LoadFixture(writeFixture(t, doc))
	if err != nil || len(g.CodeMigration.Failures) != 0 {
		t.Fatalf("LoadFixture without the section = %v, %v", g, err)
	}

	// Without the section every application converts cleanly; the fixture
	// is loaded once, so a restart with another fixture changes nothing.
	db := filepath.Join(t.TempDir(), "sb.db")
	e := newMigrationEnv(t, Options{DBPath: db, Fixture: g})
	keys := e.ready([3]string{"Playground", AssetTypeWebApp, "Sandbox Playground"})
	m := e.start(keys["Playground"])
	e.clock.Advance(testMigrationDuration)
	if got := e.get(m.Key); got.Status != codemigration.StatusFinished || len(got.Assets[0].Errors) != 0 {
		t.Errorf("without failures = %+v", got)
	}
	e.sb.Close()
	e2 := &migrationEnv{assessEnv: newAssessEnv(t, Options{DBPath: db}, e.clock), clock: e.clock, tokens: map[string]string{}}
	m2 := e2.start(keys["Playground"])
	e2.clock.Advance(testMigrationDuration)
	if got := e2.get(m2.Key); got.Status != codemigration.StatusFinished || got.Assets[0].Revision != 2 {
		t.Errorf("after a restart with the default fixture = %+v", got)
	}
}

func TestCodeMigrationOptions(t *testing.T) {
	if _, err := New(Options{MigrationDuration: -time.Second}); err == nil || !strings.Contains(err.Error(), "migration duration") {
		t.Errorf("New with a negative duration = %v", err)
	}
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.migrationDuration != DefaultMigrationDuration {
		t.Errorf("default duration = %s", s.migrationDuration)
	}
}

func TestCodeMigrationDependencies(t *testing.T) {
	// A library module referencing a screen module: the assessment tool
	// sees Common Utils consume Customer Portal, which ODC refuses.
	f := fixture.Default()
	for i, m := range f.LifeTime.Modules {
		if m.Name == "CommonUtils_Lib" {
			f.LifeTime.Modules[i].References = append(f.LifeTime.Modules[i].References, "CustomerPortal_Theme")
		}
	}
	e := newMigrationEnv(t, Options{Fixture: f})
	keys := e.ready(
		[3]string{"Common Utils", AssetTypeLibrary, "Common Utils"},
		[3]string{"Customer Portal", AssetTypeWebApp, "Customer Portal"},
		[3]string{"Claims Core", AssetTypeLibrary, "Claims Core"},
		[3]string{"Policy Core", AssetTypeLibrary, "Policy Core"},
	)
	m := e.start(keys["Common Utils"], keys["Customer Portal"])
	e.clock.Advance(testMigrationDuration)
	done := e.get(m.Key)
	if done.Status != codemigration.StatusFinishedWithErrors || !slices.Equal(assetNames(done.Assets), []string{"Customer Portal", "Common Utils"}) {
		t.Fatalf("migration = %+v", done)
	}
	utils := done.Assets[1]
	if utils.PublishWave != 2 || len(utils.ProducerAssetKeys) != 0 || !hasMessage(utils.Errors, codemigration.CodeDependencyNotConverted, "libraries may only consume libraries") {
		t.Errorf("Common Utils = %+v", utils)
	}
	if r := e.cloudAsset(utils.AssetKey).latest(); len(r.Producers) != 0 || len(r.PublishErrors) != 1 {
		t.Errorf("Common Utils in ODC = %+v", r)
	}

	// Claims Core without its producer Policy Core ever migrated.
	cc := e.start(keys["Claims Core"])
	e.clock.Advance(testMigrationDuration)
	claims := e.get(cc.Key)
	if a := claims.Assets[0]; claims.Status != codemigration.StatusFinished || !hasMessage(a.Messages, codemigration.CodeProducerNotMigrated, "'Policy Core' (key "+keys["Policy Core"]+")") {
		t.Errorf("Claims Core alone = %+v", claims)
	}
}
