package odc

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/client"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc/odctest"
)

// The ODC client against the sandbox, every call checked against
// OutSystems' OpenAPI documents by the validating transport.

func startODCSandbox(t *testing.T, opts testOptions) (*testSandbox, *odctest.Validator, string) {
	t.Helper()
	sb, base := startSandbox(t, opts)
	return sb, odctest.NewValidator(t, base), base
}

func newTestClient(t *testing.T, sb *testSandbox, v *odctest.Validator, base, name string) *client.ODC {
	t.Helper()
	for _, ac := range sb.Fixture().ODC.APIClients {
		if ac.Name == name {
			c, err := client.NewODC(client.Config{BaseURL: base, MaxRetries: 0, HTTPClient: &http.Client{Transport: v}}, ac.ClientID, ac.ClientSecret)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
	}
	t.Fatalf("no API client %q", name)
	return nil
}

func waitDone(t *testing.T, c *client.ODC, op *client.PublishOperation) *client.PublishOperation {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !op.Done() {
		if time.Now().After(deadline) {
			t.Fatalf("publish %s still running", op.Key)
		}
		time.Sleep(20 * time.Millisecond)
		var err error
		if op, err = c.GetPublishOperation(context.Background(), op.Key); err != nil {
			t.Fatal(err)
		}
	}
	return op
}

func TestODCClientAgainstSandbox(t *testing.T) {
	sb, v, base := startODCSandbox(t, testOptions{PublishDuration: 100 * time.Millisecond})
	c := newTestClient(t, sb, v, base, "migration-pipeline")
	ctx := context.Background()

	stages, err := c.ListStages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range stages {
		names = append(names, s.Name+"/"+s.Purpose)
	}
	if strings.Join(names, ",") != "Development/Development,QA/NonProduction,Production/Production" {
		t.Fatalf("stages = %v", names)
	}
	dev, qa := stages[0].Key, stages[1].Key

	core, policy, portal := "4b1f3c9e-0a57-4c8e-9f3e-2d6c1b7a5e01", "4b1f3c9e-0a57-4c8e-9f3e-2d6c1b7a5e02", "4b1f3c9e-0a57-4c8e-9f3e-2d6c1b7a5e03"
	for _, a := range []MigratedAsset{
		{Key: core, Name: "Customer Core", AssetType: AssetTypeLibrary},
		{Key: policy, Name: "Policy Rules", AssetType: AssetTypeLibrary, Producers: []string{core}},
		{Key: portal, Name: "Customer Portal", AssetType: AssetTypeWebApp, Producers: []string{policy}},
		{Key: core, Name: "Customer Core", AssetType: AssetTypeLibrary}, // migrated again: revision 2
	} {
		if err := sb.SeedODCAsset(a); err != nil {
			t.Fatal(err)
		}
	}

	asset, err := c.GetAsset(ctx, portal)
	if err != nil || asset.Name != "Customer Portal" || asset.AssetType != "WebApplication" || asset.LatestRevision != 1 || asset.Tag != "" {
		t.Errorf("GetAsset = %+v, %v", asset, err)
	}
	if _, err := c.GetAsset(ctx, "4b1f3c9e-0a57-4c8e-9f3e-2d6c1b7a5eff"); !client.IsNotFound(err) {
		t.Errorf("GetAsset of an unknown asset = %v", err)
	}
	libs, err := c.ListAssets(ctx, "LowCodeLibrary")
	if err != nil || len(libs) != 2 || libs[0].Name != "Customer Core" || libs[0].LatestRevision != 2 {
		t.Errorf("ListAssets = %+v, %v", libs, err)
	}
	revs, err := c.ListRevisions(ctx, core)
	if err != nil || len(revs) != 2 || revs[0].Revision != 1 || revs[1].Revision != 2 || revs[1].CreatedBy == "" {
		t.Errorf("ListRevisions = %+v, %v", revs, err)
	}
	if rev, err := c.HighestTagRevision(ctx, core); rev != nil || err != nil {
		t.Errorf("HighestTagRevision of an untagged asset = %+v, %v", rev, err)
	}

	// Publishing a consumer first fails; the messages name the producer.
	op, err := c.StartPublish(ctx, policy, 1, "")
	if err != nil || op.Status != client.PublishStatusRunning || op.EnvironmentKey != "" {
		t.Fatalf("StartPublish = %+v, %v", op, err)
	}
	op = waitDone(t, c, op)
	if op.Status != client.PublishStatusFinishedWithError || op.Succeeded() {
		t.Errorf("consumer-first publish = %+v", op)
	}
	msgs, err := c.PublishOperationMessages(ctx, op.Key)
	if err != nil || !slices.ContainsFunc(msgs, func(m client.OperationMessage) bool {
		return m.Severity == "Error" && m.AssetKey == core && strings.Contains(m.Message, "Producer 'Customer Core'")
	}) {
		t.Errorf("messages = %+v, %v", msgs, err)
	}

	// Producers first: every publish succeeds.
	for _, p := range []struct {
		key      string
		revision int
	}{{core, 2}, {policy, 1}, {portal, 1}} {
		op, err := c.StartPublish(ctx, p.key, p.revision, dev)
		if err != nil {
			t.Fatal(err)
		}
		if op = waitDone(t, c, op); !op.Succeeded() || op.BuildKey == "" {
			t.Errorf("publish of %s = %+v", p.key, op)
		}
	}
	coreAt, _ := sb.PublishedAt(core, dev)
	policyAt, _ := sb.PublishedAt(policy, dev)
	portalAt, ok := sb.PublishedAt(portal, dev)
	if !ok || !coreAt.Before(policyAt) || !policyAt.Before(portalAt) {
		t.Errorf("publish times %v %v %v, want producers first", coreAt, policyAt, portalAt)
	}
	ops, err := c.ListPublishOperations(ctx, policy, dev)
	if err != nil || len(ops) != 2 || !ops[0].Succeeded() || ops[1].Succeeded() || ops[0].EnvironmentKey != dev {
		t.Errorf("ListPublishOperations = %+v, %v", ops, err)
	}

	producers, err := c.Producers(ctx, portal, 1, dev)
	if err != nil || len(producers) != 2 || producers[0].AssetKey != core || producers[0].Revision != 2 || producers[0].IsDirectProducer ||
		producers[1].AssetKey != policy || !producers[1].IsDirectProducer || producers[1].AssetType != "LowCodeLibrary" {
		t.Errorf("Producers = %+v, %v", producers, err)
	}
	if p, err := c.Producers(ctx, portal, 1, qa); err != nil || len(p) != 0 {
		t.Errorf("Producers in QA = %+v, %v", p, err)
	}
	// Referenced elements name every direct producer, published or not.
	elems, err := c.ReferencedElements(ctx, portal, 1)
	if err != nil || len(elems) == 0 || elems[0].AssetKey != portal || elems[0].Revision != 1 || elems[0].Key == "" || elems[0].SignatureDigest == "" ||
		elems[0].ProducerAssetKey != policy || elems[0].ProducerAssetName != "Policy Rules" || elems[0].ProducerAssetType != "LowCodeLibrary" {
		t.Errorf("ReferencedElements = %+v, %v", elems, err)
	}
	if p, err := c.RevisionProducers(ctx, portal, 1); err != nil || len(p) != 1 || p[0] != (client.ReferencedProducer{AssetKey: policy, Name: "Policy Rules", AssetType: "LowCodeLibrary"}) {
		t.Errorf("RevisionProducers = %+v, %v", p, err)
	}
	if _, err := c.RevisionProducers(ctx, portal, 9); !client.IsNotFound(err) {
		t.Errorf("RevisionProducers of an unknown revision = %v", err)
	}
	consumers, err := c.Consumers(ctx, core)
	if err != nil || len(consumers) != 1 || consumers[0].AssetKey != policy || consumers[0].Name != "Policy Rules" {
		t.Errorf("Consumers = %+v, %v", consumers, err)
	}
	deployed, err := c.DeployedAssets(ctx, dev)
	if err != nil || len(deployed) != 1 || deployed[0].AssetKey != portal || deployed[0].Revision != 1 || deployed[0].EnvironmentKey != dev || deployed[0].URL == "" {
		t.Errorf("DeployedAssets = %+v, %v", deployed, err)
	}
	if d, err := c.DeployedAssets(ctx, qa); err != nil || len(d) != 0 {
		t.Errorf("DeployedAssets in QA = %+v, %v", d, err)
	}

	// Releasing: tag rules and release notes.
	tag := "1.0.0"
	if err := c.TagRevision(ctx, core, 2, &tag, "First ODC release.", "Migrated"); err != nil {
		t.Fatal(err)
	}
	rev, err := c.GetRevision(ctx, core, 2)
	if err != nil || rev.Tag != "1.0.0" || rev.CommitMessage != "Migrated" || rev.TaggedBy != "migration-pipeline" || rev.TaggedAt == "" {
		t.Errorf("GetRevision = %+v, %v", rev, err)
	}
	if notes, err := c.ReleaseNotes(ctx, core, 2); err != nil || notes != "First ODC release." {
		t.Errorf("ReleaseNotes = %q, %v", notes, err)
	}
	if highest, err := c.HighestTagRevision(ctx, core); err != nil || highest.Revision != 2 || highest.Tag != "1.0.0" {
		t.Errorf("HighestTagRevision = %+v, %v", highest, err)
	}
	if _, ok := sb.ReleasedAt(core); !ok {
		t.Error("ReleasedAt after tagging reports nothing")
	}
	lower := "0.5.0"
	err = c.TagRevision(ctx, core, 1, &lower, "", "")
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || !strings.Contains(apiErr.Detail, "'0.5.0' must be higher than '1.0.0'") || apiErr.TraceID == "" {
		t.Errorf("TagRevision with a lower tag = %v", err)
	}
	libRevs, err := c.LibraryRevisions(ctx, core)
	if err != nil || len(libRevs) != 1 || libRevs[0].Revision != 2 || libRevs[0].Tag != "1.0.0" || !libRevs[0].IsLatest || libRevs[0].PublishedAt == "" {
		t.Errorf("LibraryRevisions = %+v, %v", libRevs, err)
	}
	if err := c.TagRevision(ctx, core, 2, nil, "", ""); err != nil {
		t.Fatal(err)
	}
	if rev, err := c.HighestTagRevision(ctx, core); rev != nil || err != nil {
		t.Errorf("HighestTagRevision after clearing = %+v, %v", rev, err)
	}

	// A client without the release permission gets a 403 naming it.
	noRelease := newTestClient(t, sb, v, base, "publisher-no-release")
	err = noRelease.TagRevision(ctx, core, 2, &tag, "", "")
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusForbidden || !strings.Contains(apiErr.Detail, "'Release management > Release'") ||
		!strings.Contains(err.Error(), "publisher-no-release") {
		t.Errorf("TagRevision without permission = %v", err)
	}

	if c.TokenRequests() != 1 {
		t.Errorf("token requests = %d, want 1 for the whole run", c.TokenRequests())
	}
	for _, op := range []string{
		"Environments_ListEnvironments", "DeployedAssets_ListAssets", "Libraries_ListLibraries",
		"AssetRepository_GetAsset", "AssetRepository_ListAssets", "AssetRepository_ListAssetRevisions", "AssetRepository_GetAssetRevision",
		"AssetRepository_GetApplicationHighestTagRevision", "AssetRepository_PatchVersion", "AssetRepository_GetAssetRevisionReleaseNotes",
		"DependencyManagement_ListAssetProducers", "DependencyManagement_ListAssetConsumers", "DependencyManagement_ListReferencedElements",
		"PublishOperations_Post", "PublishOperations_Get", "PublishOperations_Filter", "PublishOperations_GetMessages",
	} {
		if v.Calls(op) == 0 {
			t.Errorf("the client never called %s", op)
		}
	}
}

func TestODCClientRefreshesSandboxTokens(t *testing.T) {
	sb, v, base := startODCSandbox(t, testOptions{TokenTTL: 2 * time.Second})
	c := newTestClient(t, sb, v, base, "publisher-no-migrate")
	ctx := context.Background()
	for range 2 {
		if _, err := c.ListStages(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if c.TokenRequests() != 1 {
		t.Fatalf("token requests = %d, want 1", c.TokenRequests())
	}
	// Past 90% of the lifetime the client refreshes before the sandbox
	// would answer 401.
	time.Sleep(1900 * time.Millisecond)
	if _, err := c.ListStages(ctx); err != nil {
		t.Fatal(err)
	}
	if c.TokenRequests() != 2 {
		t.Errorf("token requests = %d, want 2", c.TokenRequests())
	}
}

func TestODCClientBadCredentials(t *testing.T) {
	sb, v, base := startODCSandbox(t, testOptions{})
	secret := "not-the-secret-of-this-client"
	c, err := client.NewODC(client.Config{BaseURL: base, MaxRetries: 0, HTTPClient: &http.Client{Transport: v}}, sb.Fixture().ODC.APIClients[0].ClientID, secret)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListStages(context.Background())
	if client.StatusCode(err) != http.StatusUnauthorized || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), secret) {
		t.Errorf("ListStages with a wrong secret = %v", err)
	}
}
