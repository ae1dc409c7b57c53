package client

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// API roots on the ODC portal host.
const (
	odcPortfolio     = "/api/portfolios/v2"
	odcAssetRepo     = "/api/asset-repository/v1"
	odcDependencyAPI = "/api/dependency-management/v1"
	odcDeployments   = "/api/deployments/v1"
	odcPageLimit     = 100
	odcMaxPages      = 10000
)

// Publish operation statuses (deployments API v1, Status).
const (
	PublishStatusRunning           = "Running"
	PublishStatusFinished          = "Finished"
	PublishStatusFinishedWithError = "FinishedWithError"
)

// Stage purposes (portfolio API v2, EnvironmentPurpose).
const (
	StagePurposeDevelopment   = "Development"
	StagePurposeNonProduction = "NonProduction"
	StagePurposeProduction    = "Production"
)

// ODC is a client for the OutSystems Developer Cloud public REST APIs,
// authenticated as an API client with the OAuth 2.0 client credentials
// grant. It holds one access token at a time, shared by every call.
type ODC struct {
	s    *service
	auth *odcAuth
}

// NewODC returns an ODC client. cfg.BaseURL is the organization's portal
// URL (e.g. https://acme.outsystems.dev); the token endpoint is discovered
// from it on the first call.
func NewODC(cfg Config, clientID, clientSecret string) (*ODC, error) {
	if strings.TrimSpace(clientID) == "" {
		return nil, fmt.Errorf("the ODC API client id is empty")
	}
	if clientSecret == "" {
		return nil, fmt.Errorf("the ODC API client secret is empty")
	}
	idp, err := newService(odcServiceName, cfg, "", nil, oauthErrorParser(clientSecret))
	if err != nil {
		return nil, err
	}
	auth := &odcAuth{idp: idp, clientID: clientID, clientSecret: clientSecret, now: time.Now}
	s, err := newService(odcServiceName, cfg, "", auth, parseProblemDetails)
	if err != nil {
		return nil, err
	}
	return &ODC{s: s, auth: auth}, nil
}

// TokenRequests is how many access tokens the client requested.
func (c *ODC) TokenRequests() int64 { return c.auth.requests.Load() }

func (c *ODC) get(ctx context.Context, path string, query url.Values, v any) error {
	r := request{method: http.MethodGet, path: path, query: query, idempotent: true}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return err
	}
	return decodeJSON(c.s.name, r, resp, v)
}

// odcPage is one page of a paged list. nextPageOffset is a number in most
// APIs and a string in the messages endpoints.
type odcPage[T any] struct {
	Results []T `json:"results"`
	Page    *struct {
		NextPageOffset json.RawMessage `json:"nextPageOffset"`
	} `json:"page"`
}

// listAll reads every page of a paged list, following nextPageOffset.
func listAll[T any](ctx context.Context, c *ODC, path string, query url.Values) ([]T, error) {
	var out []T
	offset := ""
	for range odcMaxPages {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(odcPageLimit))
		if offset != "" {
			q.Set("offset", offset)
		}
		var page odcPage[T]
		if err := c.get(ctx, path, q, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Results...)
		if page.Page == nil {
			return out, nil
		}
		next, err := nextOffset(page.Page.NextPageOffset)
		if err != nil {
			return nil, fmt.Errorf("ODC answered GET %s with %w", path, err)
		}
		if next == "" || len(page.Results) == 0 {
			return out, nil
		}
		if next == offset {
			return nil, fmt.Errorf("ODC answered GET %s with nextPageOffset %s again: stopping to avoid a loop", path, next)
		}
		offset = next
	}
	return nil, fmt.Errorf("ODC answered GET %s with more than %d pages", path, odcMaxPages)
}

func nextOffset(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err == nil {
		return strconv.FormatInt(n, 10), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	return "", fmt.Errorf("a nextPageOffset that is neither a number nor a string: %s", raw)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// --- stages (portfolio API v2 environments) ---

// Stage is an ODC stage; the APIs call it an environment.
type Stage struct {
	Key           string
	Name          string
	Purpose       string // Development, NonProduction or Production
	Order         int
	DefaultDomain string
	PortfolioKey  string
}

type odcEnvironment struct {
	Key           *string `json:"key"`
	Name          *string `json:"name"`
	DefaultDomain *string `json:"defaultDomain"`
	Purpose       *string `json:"purpose"`
	Order         int     `json:"order"`
	PortfolioKey  *string `json:"portfolioKey"`
}

// ListStages lists the stages the API client may see, in stage order.
func (c *ODC) ListStages(ctx context.Context) ([]Stage, error) {
	var body struct {
		Results []odcEnvironment `json:"results"`
	}
	if err := c.get(ctx, odcPortfolio+"/environments", nil, &body); err != nil {
		return nil, err
	}
	stages := make([]Stage, len(body.Results))
	for i, e := range body.Results {
		stages[i] = Stage{Key: str(e.Key), Name: str(e.Name), Purpose: str(e.Purpose), Order: e.Order,
			DefaultDomain: str(e.DefaultDomain), PortfolioKey: str(e.PortfolioKey)}
	}
	slices.SortStableFunc(stages, func(a, b Stage) int { return a.Order - b.Order })
	return stages, nil
}

// --- asset repository v1 ---

// odcAssetRevision is the AssetRevisionV1 wire shape.
type odcAssetRevision struct {
	AssetKey      string  `json:"assetKey"`
	PortfolioKey  *string `json:"portfolioKey"`
	Revision      int     `json:"revision"`
	Name          string  `json:"name"`
	Description   *string `json:"description"`
	Tag           *string `json:"tag"`
	ModelDigest   *string `json:"modelDigest"`
	AssetType     *string `json:"assetType"`
	CreatedBy     *string `json:"createdBy"`
	CreatedAt     string  `json:"createdAt"`
	CommitMessage *string `json:"commitMessage"`
	TaggedBy      *string `json:"taggedBy"`
	TaggedAt      *string `json:"taggedAt"`
}

// Asset is an ODC asset (app or library), described by its latest revision.
type Asset struct {
	Key            string
	Name           string
	AssetType      string // WebApplication, MobileApplication, LowCodeLibrary, ...
	Description    string
	PortfolioKey   string
	LatestRevision int
	Tag            string // of the latest revision; "" when untagged
	CreatedAt      string // when the latest revision was created (RFC 3339)
}

func (w odcAssetRevision) asset() Asset {
	return Asset{Key: w.AssetKey, Name: w.Name, AssetType: str(w.AssetType), Description: str(w.Description),
		PortfolioKey: str(w.PortfolioKey), LatestRevision: w.Revision, Tag: str(w.Tag), CreatedAt: w.CreatedAt}
}

// AssetRevision is one revision of an asset. Times are RFC 3339.
type AssetRevision struct {
	AssetKey      string
	Revision      int
	Name          string
	Tag           string // "" when untagged
	AssetType     string
	CreatedAt     string
	CreatedBy     string
	TaggedBy      string
	TaggedAt      string
	CommitMessage string
	ModelDigest   string
}

func (w odcAssetRevision) revision() AssetRevision {
	return AssetRevision{AssetKey: w.AssetKey, Revision: w.Revision, Name: w.Name, Tag: str(w.Tag), AssetType: str(w.AssetType),
		CreatedAt: w.CreatedAt, CreatedBy: str(w.CreatedBy), TaggedBy: str(w.TaggedBy), TaggedAt: str(w.TaggedAt),
		CommitMessage: str(w.CommitMessage), ModelDigest: str(w.ModelDigest)}
}

func assetPath(assetKey string) string { return pathf(odcAssetRepo+"/assets/%s", assetKey) }

func revisionPath(base, assetKey string, revision int) string {
	return pathf(base+"/assets/%s/revisions/%s", assetKey, strconv.Itoa(revision))
}

// GetAsset reads an asset (its latest revision).
func (c *ODC) GetAsset(ctx context.Context, assetKey string) (*Asset, error) {
	var w odcAssetRevision
	if err := c.get(ctx, assetPath(assetKey), nil, &w); err != nil {
		return nil, err
	}
	a := w.asset()
	return &a, nil
}

// ListAssets lists every asset, optionally only of the given types.
func (c *ODC) ListAssets(ctx context.Context, assetTypes ...string) ([]Asset, error) {
	q := url.Values{"sort": {"name"}}
	if len(assetTypes) > 0 {
		q["assetTypes"] = assetTypes
	}
	revs, err := listAll[odcAssetRevision](ctx, c, odcAssetRepo+"/assets", q)
	if err != nil {
		return nil, err
	}
	assets := make([]Asset, len(revs))
	for i, w := range revs {
		assets[i] = w.asset()
	}
	return assets, nil
}

// FindAssets lists the assets whose latest name contains name, ignoring
// case (the asset repository's nameContains filter), sorted by name: one
// request unless more than a page of assets match. Callers pick the exact
// matches; the others are close names to suggest.
func (c *ODC) FindAssets(ctx context.Context, name string) ([]Asset, error) {
	revs, err := listAll[odcAssetRevision](ctx, c, odcAssetRepo+"/assets", url.Values{"nameContains": {name}, "sort": {"name"}})
	if err != nil {
		return nil, err
	}
	assets := make([]Asset, len(revs))
	for i, w := range revs {
		assets[i] = w.asset()
	}
	return assets, nil
}

// GetRevision reads one revision of an asset (one request; its release
// notes are read with ReleaseNotes).
func (c *ODC) GetRevision(ctx context.Context, assetKey string, revision int) (*AssetRevision, error) {
	var w odcAssetRevision
	if err := c.get(ctx, revisionPath(odcAssetRepo, assetKey, revision), nil, &w); err != nil {
		return nil, err
	}
	r := w.revision()
	return &r, nil
}

// ReleaseNotes reads the release notes of a tagged revision.
func (c *ODC) ReleaseNotes(ctx context.Context, assetKey string, revision int) (string, error) {
	var notes struct {
		Content *string `json:"content"`
	}
	if err := c.get(ctx, revisionPath(odcAssetRepo, assetKey, revision)+"/release-notes", nil, &notes); err != nil {
		return "", err
	}
	return str(notes.Content), nil
}

// ListRevisions lists every revision of an asset, oldest first.
func (c *ODC) ListRevisions(ctx context.Context, assetKey string) ([]AssetRevision, error) {
	revs, err := listAll[odcAssetRevision](ctx, c, assetPath(assetKey)+"/revisions", url.Values{"sort": {"revision"}})
	if err != nil {
		return nil, err
	}
	out := make([]AssetRevision, len(revs))
	for i, w := range revs {
		out[i] = w.revision()
	}
	return out, nil
}

// HighestTagRevision reads the asset's revision with the highest tag. It
// returns (nil, nil) when the asset exists but has no tagged revision (the
// API answers 404 then, as for an unknown asset).
func (c *ODC) HighestTagRevision(ctx context.Context, assetKey string) (*AssetRevision, error) {
	var w odcAssetRevision
	err := c.get(ctx, assetPath(assetKey)+"/highest-tag-revision", nil, &w)
	if IsNotFound(err) {
		if _, aerr := c.GetAsset(ctx, assetKey); aerr != nil {
			return nil, aerr
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r := w.revision()
	return &r, nil
}

// TagRevision releases a revision: it sets its tag (Major.Minor.Patch,
// higher than every other tag of the asset) with optional release notes and
// commit message. A nil tag clears the revision's tag. Empty releaseNotes
// or commitMessage leave them as they are.
func (c *ODC) TagRevision(ctx context.Context, assetKey string, revision int, tag *string, releaseNotes, commitMessage string) error {
	body := map[string]any{"tag": tag}
	if releaseNotes != "" {
		body["releaseNotes"] = releaseNotes
	}
	if commitMessage != "" {
		body["commitMessage"] = commitMessage
	}
	_, err := c.s.do(ctx, request{method: http.MethodPatch, path: revisionPath(odcAssetRepo, assetKey, revision), body: body})
	return err
}

// --- dependency management v1 ---

type odcDependency struct {
	Key              string   `json:"key"`
	PortfolioKey     *string  `json:"portfolioKey"`
	Revision         int      `json:"revision"`
	Name             *string  `json:"name"`
	Description      *string  `json:"description"`
	Type             *string  `json:"type"`
	IsDirectProducer bool     `json:"isDirectProducer"`
	Producers        []string `json:"producers"`
}

// Producer is an asset a revision consumes, directly or not, in the
// revision deployed in the stage asked about.
type Producer struct {
	AssetKey         string
	Name             string
	AssetType        string
	Revision         int
	Description      string
	PortfolioKey     string
	IsDirectProducer bool
	// Producers are the keys of the assets this producer consumes.
	Producers []string
}

// Producers lists the producers of an asset revision, direct and indirect.
// As the API documents, only producers deployed in the stage are returned;
// environmentKey "" means the Development stage.
func (c *ODC) Producers(ctx context.Context, assetKey string, revision int, environmentKey string) ([]Producer, error) {
	q := url.Values{}
	if environmentKey != "" {
		q.Set("environmentKey", environmentKey)
	}
	var body struct {
		Results []odcDependency `json:"results"`
	}
	if err := c.get(ctx, revisionPath(odcDependencyAPI, assetKey, revision)+"/producers", q, &body); err != nil {
		return nil, err
	}
	out := make([]Producer, len(body.Results))
	for i, d := range body.Results {
		out[i] = Producer{AssetKey: d.Key, Name: str(d.Name), AssetType: str(d.Type), Revision: d.Revision, Description: str(d.Description),
			PortfolioKey: str(d.PortfolioKey), IsDirectProducer: d.IsDirectProducer, Producers: d.Producers}
	}
	return out, nil
}

// Consumer is an asset that consumes another, in the revision deployed in
// the Development stage.
type Consumer struct {
	AssetKey     string
	Name         string
	AssetType    string
	Revision     int
	Description  string
	PortfolioKey string
}

// Consumers lists the assets deployed in the Development stage that consume
// the asset.
func (c *ODC) Consumers(ctx context.Context, assetKey string) ([]Consumer, error) {
	var body struct {
		Results []odcDependency `json:"results"`
	}
	if err := c.get(ctx, pathf(odcDependencyAPI+"/assets/%s/consumers", assetKey), nil, &body); err != nil {
		return nil, err
	}
	out := make([]Consumer, len(body.Results))
	for i, d := range body.Results {
		out[i] = Consumer{AssetKey: d.Key, Name: str(d.Name), AssetType: str(d.Type), Revision: d.Revision,
			Description: str(d.Description), PortfolioKey: str(d.PortfolioKey)}
	}
	return out, nil
}

// odcReferencedElement is ReferencedElementStringTypes.
type odcReferencedElement struct {
	AssetKey                     *string `json:"assetKey"`
	Revision                     int     `json:"revision"`
	Key                          *string `json:"key"`
	Name                         *string `json:"name"`
	Description                  *string `json:"description"`
	IsHidden                     *bool   `json:"isHidden"`
	SignatureDigest              *string `json:"signatureDigest"`
	CompatibilitySignatureDigest *string `json:"compatibilitySignatureDigest"`
	ProducerAssetKey             *string `json:"producerAssetKey"`
	ProducerAssetName            *string `json:"producerAssetName"`
	ProducerAssetType            *string `json:"producerAssetType"`
	Type                         *string `json:"type"`
}

// ReferencedElement is a public element of another asset (its producer)
// that an asset revision references, as defined in the IDE.
type ReferencedElement struct {
	// AssetKey and Revision name the revision that references the element.
	AssetKey string
	Revision int
	// Key identifies the element within its producer.
	Key         string
	Name        string
	Type        string
	Description string
	// IsHidden: the reference is hidden (the element is shared because a
	// public element uses it, e.g. an image a block shows).
	IsHidden                     bool
	SignatureDigest              string
	CompatibilitySignatureDigest string
	ProducerAssetKey             string
	ProducerAssetName            string
	ProducerAssetType            string
}

// ReferencedElements lists every public element of other assets that a
// revision references, hidden references included. Unlike Producers, the
// answer does not depend on what is deployed where; it needs the
// Asset management > Open permission.
func (c *ODC) ReferencedElements(ctx context.Context, assetKey string, revision int) ([]ReferencedElement, error) {
	var body struct {
		Results []odcReferencedElement `json:"results"`
	}
	if err := c.get(ctx, revisionPath(odcDependencyAPI, assetKey, revision)+"/referenced-elements", nil, &body); err != nil {
		return nil, err
	}
	out := make([]ReferencedElement, len(body.Results))
	for i, e := range body.Results {
		out[i] = ReferencedElement{AssetKey: str(e.AssetKey), Revision: e.Revision, Key: str(e.Key), Name: str(e.Name), Type: str(e.Type),
			Description: str(e.Description), IsHidden: e.IsHidden != nil && *e.IsHidden, SignatureDigest: str(e.SignatureDigest),
			CompatibilitySignatureDigest: str(e.CompatibilitySignatureDigest), ProducerAssetKey: str(e.ProducerAssetKey),
			ProducerAssetName: str(e.ProducerAssetName), ProducerAssetType: str(e.ProducerAssetType)}
	}
	return out, nil
}

// ReferencedProducer is an asset whose public elements a revision
// references: one of the revision's direct producers.
type ReferencedProducer struct {
	AssetKey  string
	Name      string
	AssetType string
}

// DistinctProducers returns the assets that own the elements, once each
// (keys compared case-insensitively), by name then key. Elements without a
// producer key are left out.
func DistinctProducers(elements []ReferencedElement) []ReferencedProducer {
	seen := map[string]bool{}
	var out []ReferencedProducer
	for _, e := range elements {
		k := strings.ToLower(e.ProducerAssetKey)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		name := e.ProducerAssetName
		if name == "" {
			name = e.ProducerAssetKey
		}
		out = append(out, ReferencedProducer{AssetKey: e.ProducerAssetKey, Name: name, AssetType: e.ProducerAssetType})
	}
	slices.SortFunc(out, func(a, b ReferencedProducer) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), strings.Compare(a.AssetKey, b.AssetKey))
	})
	return out
}

// RevisionProducers returns the direct producers of an asset revision, from
// the elements it references (ReferencedElements), whether or not they are
// deployed anywhere.
func (c *ODC) RevisionProducers(ctx context.Context, assetKey string, revision int) ([]ReferencedProducer, error) {
	elements, err := c.ReferencedElements(ctx, assetKey, revision)
	if err != nil {
		return nil, err
	}
	return DistinctProducers(elements), nil
}

// --- deployments v1: publish operations ---

type odcPublishOperation struct {
	Key              string  `json:"key"`
	Status           string  `json:"status"`
	StartedDateTime  string  `json:"startedDateTime"`
	FinishedDateTime string  `json:"finishedDateTime"`
	DeployedBy       *string `json:"deployedBy"`
	AssetKey         string  `json:"assetKey"`
	Revision         int     `json:"revision"`
	BuildKey         *string `json:"buildKey"`
	PortfolioKey     *string `json:"portfolioKey"`
	Operation        string  `json:"operation"`
}

// PublishOperation is the publishing of an asset revision to a stage.
type PublishOperation struct {
	Key        string
	Operation  string // Publish
	Status     string // Running, Finished or FinishedWithError
	AssetKey   string
	Revision   int
	StartedAt  string // RFC 3339
	FinishedAt string // RFC 3339; "" while running
	BuildKey   string // "" until it finished successfully
	DeployedBy string
	// EnvironmentKey is the stage published to, when known: the API does not
	// return it, so it is set from StartPublish's argument ("" there means
	// the Development stage) and from ListPublishOperations' filter.
	EnvironmentKey string
	PortfolioKey   string
}

// Done reports whether the operation finished, well or not.
func (p *PublishOperation) Done() bool { return p.Status != PublishStatusRunning }

// Succeeded reports whether the operation finished without errors.
func (p *PublishOperation) Succeeded() bool { return p.Status == PublishStatusFinished }

func (w odcPublishOperation) operation(environmentKey string) PublishOperation {
	return PublishOperation{Key: w.Key, Operation: w.Operation, Status: w.Status, AssetKey: w.AssetKey, Revision: w.Revision,
		StartedAt: w.StartedDateTime, FinishedAt: w.FinishedDateTime, BuildKey: str(w.BuildKey), DeployedBy: str(w.DeployedBy),
		EnvironmentKey: environmentKey, PortfolioKey: str(w.PortfolioKey)}
}

type odcPublishRequest struct {
	Operation      string `json:"operation"`
	AssetKey       string `json:"assetKey"`
	Revision       int    `json:"revision"`
	EnvironmentKey string `json:"environmentKey,omitempty"`
}

// StartPublish starts publishing an asset revision to a stage
// (environmentKey "" = the Development stage) and returns the operation,
// usually Running; poll it with GetPublishOperation. It is not idempotent:
// it is retried only when the request cannot have reached the server.
func (c *ODC) StartPublish(ctx context.Context, assetKey string, revision int, environmentKey string) (*PublishOperation, error) {
	r := request{method: http.MethodPost, path: odcDeployments + "/publish-operations",
		body: odcPublishRequest{Operation: "Publish", AssetKey: assetKey, Revision: revision, EnvironmentKey: environmentKey}}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var w odcPublishOperation
	if err := decodeJSON(c.s.name, r, resp, &w); err != nil {
		return nil, err
	}
	op := w.operation(environmentKey)
	return &op, nil
}

// GetPublishOperation reads a publish operation. Its EnvironmentKey is
// empty: the API does not return it.
func (c *ODC) GetPublishOperation(ctx context.Context, key string) (*PublishOperation, error) {
	var w odcPublishOperation
	if err := c.get(ctx, pathf(odcDeployments+"/publish-operations/%s", key), nil, &w); err != nil {
		return nil, err
	}
	op := w.operation("")
	return &op, nil
}

// ListPublishOperations lists the publish operations of an asset to a stage,
// newest first; an empty argument does not filter on it.
func (c *ODC) ListPublishOperations(ctx context.Context, assetKey, environmentKey string) ([]PublishOperation, error) {
	q := url.Values{"sort": {"-CreatedAt"}}
	if assetKey != "" {
		q.Set("assetKey", assetKey)
	}
	if environmentKey != "" {
		q.Set("environmentKey", environmentKey)
	}
	ops, err := listAll[odcPublishOperation](ctx, c, odcDeployments+"/publish-operations", q)
	if err != nil {
		return nil, err
	}
	out := make([]PublishOperation, len(ops))
	for i, w := range ops {
		out[i] = w.operation(environmentKey)
	}
	return out, nil
}

// OperationMessage is a log message of an operation.
type OperationMessage struct {
	Timestamp string // RFC 3339
	Type      string // e.g. an error code
	Severity  string // Info, Warning or Error
	Message   string
	StepID    string
	AssetKey  string // the asset the message is about, when given
}

type odcTaskMessage struct {
	Timestamp      string  `json:"timestamp"`
	Type           *string `json:"type"`
	Severity       string  `json:"severity"`
	Message        *string `json:"message"`
	AdditionalInfo *struct {
		StepID   *string `json:"stepId"`
		AssetKey *string `json:"assetKey"`
	} `json:"additionalInfo"`
}

// PublishOperationMessages lists the messages a publish operation logged so
// far, oldest first; the errors of a failed publish are among them.
func (c *ODC) PublishOperationMessages(ctx context.Context, key string) ([]OperationMessage, error) {
	msgs, err := listAll[odcTaskMessage](ctx, c, pathf(odcDeployments+"/publish-operations/%s/messages", key), nil)
	if err != nil {
		return nil, err
	}
	out := make([]OperationMessage, len(msgs))
	for i, m := range msgs {
		out[i] = OperationMessage{Timestamp: m.Timestamp, Type: str(m.Type), Severity: m.Severity, Message: str(m.Message)}
		if m.AdditionalInfo != nil {
			out[i].StepID, out[i].AssetKey = str(m.AdditionalInfo.StepID), str(m.AdditionalInfo.AssetKey)
		}
	}
	return out, nil
}

// --- portfolio API v2: deployed assets and libraries ---

type odcDeployedAsset struct {
	Type        *string `json:"type"`
	Key         string  `json:"key"`
	Deployments []struct {
		EnvironmentKey     string  `json:"environmentKey"`
		Name               *string `json:"name"`
		Revision           int     `json:"revision"`
		BuildKey           string  `json:"buildKey"`
		DeploymentKey      string  `json:"deploymentKey"`
		DeploymentDateTime string  `json:"deploymentDateTime"`
		DeploymentUserID   *string `json:"deploymentUserId"`
		URL                *string `json:"url"`
		Tag                *string `json:"tag"`
	} `json:"deployments"`
}

// DeployedAsset is an app revision deployed in a stage.
type DeployedAsset struct {
	AssetKey       string
	AssetType      string // WebApplication, MobileApplication, ...
	Revision       int
	EnvironmentKey string
	Name           string
	BuildKey       string
	DeploymentKey  string
	DeployedAt     string // RFC 3339
	DeployedBy     string
	URL            string
	Tag            string // of the deployed revision; "" when untagged
}

// DeployedAssets lists the apps deployed in a stage ("" = every stage, one
// entry per asset and stage). Libraries are not deployed to stages in ODC
// (apps bundle them): ListPublishOperations tells whether one is published.
func (c *ODC) DeployedAssets(ctx context.Context, environmentKey string) ([]DeployedAsset, error) {
	q := url.Values{}
	if environmentKey != "" {
		q.Set("environmentKey", environmentKey)
	}
	assets, err := listAll[odcDeployedAsset](ctx, c, odcPortfolio+"/deployed-assets", q)
	if err != nil {
		return nil, err
	}
	var out []DeployedAsset
	for _, a := range assets {
		for _, d := range a.Deployments {
			if environmentKey != "" && !strings.EqualFold(d.EnvironmentKey, environmentKey) {
				continue
			}
			out = append(out, DeployedAsset{AssetKey: a.Key, AssetType: str(a.Type), Revision: d.Revision, EnvironmentKey: d.EnvironmentKey,
				Name: str(d.Name), BuildKey: d.BuildKey, DeploymentKey: d.DeploymentKey, DeployedAt: d.DeploymentDateTime,
				DeployedBy: str(d.DeploymentUserID), URL: str(d.URL), Tag: str(d.Tag)})
		}
	}
	return out, nil
}

// LibraryRevision is a revision of a library as the portfolio lists it.
type LibraryRevision struct {
	Revision    int
	Name        string
	Tag         string // "" when untagged
	TaggedAt    string // RFC 3339
	TaggedBy    string
	PublishedAt string // RFC 3339; "" when never published
	PublishedBy string
	IsLatest    bool
}

type odcLibrary struct {
	Key       string `json:"key"`
	Revisions []struct {
		Revision        int     `json:"revision"`
		Name            *string `json:"name"`
		PublishDateTime string  `json:"publishDateTime"`
		PublishUserKey  *string `json:"publishUserKey"`
		Tag             *string `json:"tag"`
		TaggingUserKey  *string `json:"taggingUserKey"`
		TaggingDateTime *string `json:"taggingDateTime"`
		IsLatest        bool    `json:"isLatest"`
	} `json:"revisions"`
}

// LibraryRevisions lists a library's latest revision and every tagged one,
// with when each was published.
func (c *ODC) LibraryRevisions(ctx context.Context, assetKey string) ([]LibraryRevision, error) {
	libs, err := c.Libraries(ctx, []string{assetKey})
	if err != nil {
		return nil, err
	}
	revs, ok := libs[strings.ToLower(assetKey)]
	if !ok {
		return nil, fmt.Errorf("ODC lists no library with key %s", assetKey)
	}
	return revs, nil
}

// Libraries reads, in one listing, the libraries with the given keys: for
// each, by lower-case key, its latest revision and every tagged one, with
// when each was published. A key ODC lists no library for (an app, or no
// asset at all) is absent from the map.
func (c *ODC) Libraries(ctx context.Context, keys []string) (map[string][]LibraryRevision, error) {
	out := make(map[string][]LibraryRevision, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	libs, err := listAll[odcLibrary](ctx, c, odcPortfolio+"/libraries", url.Values{"key": {strings.Join(keys, ",")}, "revisions": {"All"}})
	if err != nil {
		return nil, err
	}
	for _, l := range libs {
		revs := make([]LibraryRevision, len(l.Revisions))
		for j, r := range l.Revisions {
			revs[j] = LibraryRevision{Revision: r.Revision, Name: str(r.Name), Tag: str(r.Tag), TaggedAt: str(r.TaggingDateTime),
				TaggedBy: str(r.TaggingUserKey), PublishedAt: setDateTime(r.PublishDateTime), PublishedBy: str(r.PublishUserKey), IsLatest: r.IsLatest}
		}
		out[strings.ToLower(l.Key)] = revs
	}
	return out, nil
}

// setDateTime reads a date-time ODC's documents make neither optional nor
// nullable: before it has a value ODC writes .NET's zero date-time
// (0001-01-01T00:00:00, with or without a zone), which means "never".
func setDateTime(v string) string {
	if strings.HasPrefix(v, "0001-01-01") {
		return ""
	}
	return v
}
