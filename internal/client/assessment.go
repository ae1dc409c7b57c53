package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// AssessmentAPIPrefix is where the Migration Kit assessment contract
// (api/migration-kit/v1/openapi.yaml) lives under the assessment tool's
// console URL.
const AssessmentAPIPrefix = "/api/v1"

// assessmentServiceName names the service in errors.
const assessmentServiceName = "Migration Kit assessment"

// assessmentPageLimit is the page size the client asks for: the contract's
// maximum.
const assessmentPageLimit = 100

// Assessment is a client for the Migration Kit's assessment tool (newer
// name: Conversion Assessment Tool) through the project's own contract, as
// the kit publishes no API. It authenticates with a LifeTime service
// account's token.
type Assessment struct {
	s        *service
	pageSize int
}

// NewAssessment returns an assessment tool client. cfg.BaseURL is the
// console URL on the O11 Development environment, e.g.
// https://dev.example.com/MigrationAssessment (newer kits:
// /ConversionAssessment); AssessmentAPIPrefix is added unless the URL
// already ends with it. token is a LifeTime service account token: writes
// need the Administrator role.
func NewAssessment(cfg Config, token string) (*Assessment, error) {
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("the Migration Kit assessment token is empty (it is a LifeTime service account token)")
	}
	s, err := newService(assessmentServiceName, cfg, AssessmentAPIPrefix, bearer(token), parseProblemDetails)
	if err != nil {
		return nil, err
	}
	return &Assessment{s: s, pageSize: assessmentPageLimit}, nil
}

// BaseURL is the API root the client calls.
func (c *Assessment) BaseURL() string { return c.s.base.String() }

// Mapping statuses: Assessing until the latest assessment finishes, then
// its result. Code migration accepts ReadyForOdc and ChangeInOdc.
const (
	MappingStatusAssessing   = "Assessing"
	MappingStatusReady       = "ReadyForOdc"
	MappingStatusChangeInOdc = "ChangeInOdc"
	MappingStatusNotReady    = "NotReady"
)

// ODC asset types an O11 application maps to.
const (
	AssetTypeWebApplication    = "WebApplication"
	AssetTypeMobileApplication = "MobileApplication"
	AssetTypeLibrary           = "LowCodeLibrary"
)

// O11Application is an O11 application as the assessment tool sees it.
type O11Application struct {
	Key           string      `json:"key"`
	Name          string      `json:"name"`
	Kind          string      `json:"kind"` // WebResponsive or Mobile
	IsLibraryOnly bool        `json:"isLibraryOnly"`
	HasExtensions bool        `json:"hasExtensions"`
	ModuleCount   int         `json:"moduleCount"`
	Modules       []O11Module `json:"modules"`
	MappingKey    string      `json:"mappingKey"` // "" when unmapped
}

// O11Module is a module of an O11 application.
type O11Module struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Type string `json:"type"` // Reactive, Mobile, Library or Extension
}

// Mapping maps O11 applications to one ODC asset.
type Mapping struct {
	Key                 string   `json:"key"`
	Name                string   `json:"name"`
	AssetType           string   `json:"assetType"`
	Description         string   `json:"description"`
	ApplicationKeys     []string `json:"applicationKeys"`
	ModuleCount         int      `json:"moduleCount"`
	Status              string   `json:"status"`
	LatestAssessmentKey string   `json:"latestAssessmentKey"`
	ProducerMappingKeys []string `json:"producerMappingKeys"`
	ConsumerMappingKeys []string `json:"consumerMappingKeys"`
	CreatedAt           string   `json:"createdAt"`
	UpdatedAt           string   `json:"updatedAt"`
}

// MappingCreate is the body of CreateMapping.
type MappingCreate struct {
	Name            string   `json:"name"`
	AssetType       string   `json:"assetType"`
	Description     *string  `json:"description,omitempty"`
	ApplicationKeys []string `json:"applicationKeys"`
}

// MappingPatch is the body of UpdateMapping; nil fields (and a nil or empty
// ApplicationKeys) are left unchanged. The asset type cannot change.
type MappingPatch struct {
	Name            *string  `json:"name,omitempty"`
	Description     *string  `json:"description,omitempty"`
	ApplicationKeys []string `json:"applicationKeys,omitempty"`
}

// AssessmentRun is one assessment of a mapping: Queued, Running, Finished.
// Result (a mapping status), StartedAt and FinishedAt are "" until known.
type AssessmentRun struct {
	Key        string `json:"key"`
	MappingKey string `json:"mappingKey"`
	Status     string `json:"status"`
	Result     string `json:"result"`
	QueuedAt   string `json:"queuedAt"`
	StartedAt  string `json:"startedAt"`
	FinishedAt string `json:"finishedAt"`
}

// Finding is one code pattern the assessment found in an O11 module.
type Finding struct {
	Key             string `json:"key"`
	MappingKey      string `json:"mappingKey"`
	ApplicationKey  string `json:"applicationKey"`
	ApplicationName string `json:"applicationName"`
	ModuleKey       string `json:"moduleKey"`
	ModuleName      string `json:"moduleName"`
	CodePattern     string `json:"codePattern"`
	Category        string `json:"category"`
	PatternClass    string `json:"patternClass"` // FixInO11, FixInOdc, Optional, NotYetSupported
	WhereToFix      string `json:"whereToFix"`   // O11 or ODC
	Count           int    `json:"count"`
	Message         string `json:"message"`
	Status          string `json:"status"` // Open or Fixed
}

// AssetReadiness is a mapped asset's readiness for code migration.
type AssetReadiness struct {
	MappingKey          string    `json:"mappingKey"`
	Name                string    `json:"name"`
	AssetType           string    `json:"assetType"`
	Status              string    `json:"status"`
	Ready               bool      `json:"ready"`
	OpenFindings        []Finding `json:"openFindings"`
	ProducerMappingKeys []string  `json:"producerMappingKeys"`
}

func (c *Assessment) get(ctx context.Context, path string, query url.Values, out any) error {
	r := request{method: http.MethodGet, path: path, query: query, idempotent: true}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return err
	}
	return decodeJSON(c.s.name, r, resp, out)
}

// send makes a call with a body and decodes the answer into out.
func (c *Assessment) send(ctx context.Context, method, path string, body, out any, idempotent bool) error {
	r := request{method: method, path: path, body: body, idempotent: idempotent}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return err
	}
	return decodeJSON(c.s.name, r, resp, out)
}

// assessmentPage is one page of a list.
type assessmentPage[T any] struct {
	Results []T `json:"results"`
	Page    struct {
		NextPageOffset *int `json:"nextPageOffset"`
	} `json:"page"`
}

// listAssessment reads every page of a list, following nextPageOffset. It
// returns an empty slice, not nil, for an empty list.
func listAssessment[T any](ctx context.Context, c *Assessment, path string, query url.Values) ([]T, error) {
	return listAssessmentPages[T](ctx, c, path, query, c.pageSize)
}

// readinessPageLimit is GET /readiness's largest page (contract 1.2.0), so
// the readiness of a wave of up to 1000 mappings is one request.
const readinessPageLimit = 1000

// listAssessmentPages reads every page of a list, pageSize results a page.
func listAssessmentPages[T any](ctx context.Context, c *Assessment, path string, query url.Values, pageSize int) ([]T, error) {
	out := []T{}
	offset := 0
	for {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("limit", strconv.Itoa(pageSize))
		q.Set("offset", strconv.Itoa(offset))
		var page assessmentPage[T]
		if err := c.get(ctx, path, q, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Results...)
		next := page.Page.NextPageOffset
		if next == nil {
			return out, nil
		}
		if *next <= offset || len(page.Results) == 0 {
			return nil, fmt.Errorf("%s answered GET %s at offset %d with %d results and nextPageOffset %d, which does not move forward",
				c.s.name, c.s.base.Path+path, offset, len(page.Results), *next)
		}
		offset = *next
	}
}

// ListApplications lists the O11 applications the tool sees, by name.
func (c *Assessment) ListApplications(ctx context.Context) ([]O11Application, error) {
	return listAssessment[O11Application](ctx, c, "/applications", nil)
}

// GetApplication reads one O11 application.
func (c *Assessment) GetApplication(ctx context.Context, key string) (*O11Application, error) {
	var out O11Application
	if err := c.get(ctx, pathf("/applications/%s", key), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListMappings lists the mappings, by name.
func (c *Assessment) ListMappings(ctx context.Context) ([]Mapping, error) {
	return listAssessment[Mapping](ctx, c, "/mappings", nil)
}

// GetMapping reads one mapping with its current status.
func (c *Assessment) GetMapping(ctx context.Context, key string) (*Mapping, error) {
	var out Mapping
	if err := c.get(ctx, pathf("/mappings/%s", key), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateMapping maps O11 applications to a new ODC asset, which queues its
// first assessment. The tool checks the Migration Kit's mapping rules; a
// broken rule is an *APIError whose ErrorCode names it (e.g.
// APPLICATION_ALREADY_MAPPED, with Extensions["conflictingMappingKey"]).
// Not idempotent: it is retried only when the tool cannot have acted.
func (c *Assessment) CreateMapping(ctx context.Context, req MappingCreate) (*Mapping, error) {
	var out Mapping
	if err := c.send(ctx, http.MethodPost, "/mappings", req, &out, false); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateMapping renames a mapping, changes its description or its
// applications (which queues a new assessment).
func (c *Assessment) UpdateMapping(ctx context.Context, key string, req MappingPatch) (*Mapping, error) {
	var out Mapping
	if err := c.send(ctx, http.MethodPatch, pathf("/mappings/%s", key), req, &out, true); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteMapping deletes a mapping; its applications become unmapped.
func (c *Assessment) DeleteMapping(ctx context.Context, key string) error {
	_, err := c.s.do(ctx, request{method: http.MethodDelete, path: pathf("/mappings/%s", key), idempotent: true})
	return err
}

// GetAssessment reads an assessment, e.g. a mapping's LatestAssessmentKey,
// to poll it until its Status is Finished.
func (c *Assessment) GetAssessment(ctx context.Context, key string) (*AssessmentRun, error) {
	var out AssessmentRun
	if err := c.get(ctx, pathf("/assessments/%s", key), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Readiness reports the readiness of the given mappings (nil or empty: all
// of them), by name. Unknown keys are a 404 naming them.
func (c *Assessment) Readiness(ctx context.Context, mappingKeys []string) ([]AssetReadiness, error) {
	var q url.Values
	if len(mappingKeys) > 0 {
		q = url.Values{"mappingKeys": mappingKeys}
	}
	return listAssessmentPages[AssetReadiness](ctx, c, "/readiness", q, readinessPageLimit)
}

// ProbeMigrationKit checks that the assessment tool's API answers with one
// cheap read (the first mapping). It returns nil when it does, a
// *NoMigrationKitError when the server answers 404 as for any unknown path
// (no Migration Kit assessment tool there), and other errors as they are.
func (c *Assessment) ProbeMigrationKit(ctx context.Context) error {
	q := url.Values{"limit": {"1"}, "offset": {"0"}}
	var page assessmentPage[Mapping]
	err := c.get(ctx, "/mappings", q, &page)
	return kitProbe("Migration Kit assessment", "GET "+c.s.base.JoinPath("/mappings").String()+"?"+q.Encode(), err)
}
