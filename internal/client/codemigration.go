package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CodeMigrationAPIPrefix is where the Migration Kit's code-migration
// endpoints live on the ODC portal, in the project's own contract
// (api/migration-kit/v1/openapi.yaml, tag CodeMigration): the kit publishes
// no API for them.
const CodeMigrationAPIPrefix = "/api/migration-kit/v1"

// Code migration statuses.
const (
	CodeMigrationMigrating          = "Migrating"
	CodeMigrationFinished           = "Finished"
	CodeMigrationFinishedWithErrors = "FinishedWithErrors"
)

// CodeMigration is one run of the code migration of a set of mappings.
type CodeMigration struct {
	Key                  string          `json:"key"`
	SourceEnvironmentKey string          `json:"sourceEnvironmentKey"`
	MappingKeys          []string        `json:"mappingKeys"`
	Status               string          `json:"status"`
	StartedAt            string          `json:"startedAt"`
	FinishedAt           string          `json:"finishedAt"`
	StartedBy            string          `json:"startedBy"`
	Assets               []MigratedAsset `json:"assets"`
	// PollAfter is the server's Retry-After hint on a running migration:
	// when it expects it to end (0 = no hint).
	PollAfter time.Duration `json:"-"`
}

// MigratedAsset is an ODC app or library a code migration produced.
type MigratedAsset struct {
	MappingKey                string                 `json:"mappingKey"`
	AssetKey                  string                 `json:"assetKey"`
	Name                      string                 `json:"name"`
	AssetType                 string                 `json:"assetType"`
	Revision                  int                    `json:"revision"`
	Status                    string                 `json:"status"` // Unpublished or Published
	ProducerAssetKeys         []string               `json:"producerAssetKeys"`
	PublishOrder              int                    `json:"publishOrder"`
	PublishWave               int                    `json:"publishWave"`
	SourceApplicationVersions []SourceVersion        `json:"sourceApplicationVersions"`
	Errors                    []CodeMigrationMessage `json:"errors"`
	Messages                  []CodeMigrationMessage `json:"messages"`
}

// SourceVersion is the tagged O11 application version a migration converted.
type SourceVersion struct {
	ApplicationKey string `json:"applicationKey"`
	VersionKey     string `json:"versionKey"`
	Version        string `json:"version"`
}

// CodeMigrationMessage is an error or message of a migrated asset.
type CodeMigrationMessage struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type codeMigrationCreate struct {
	SourceEnvironmentKey string   `json:"sourceEnvironmentKey"`
	MappingKeys          []string `json:"mappingKeys"`
}

// StartCodeMigration starts migrating the mappings' assets from a LifeTime
// environment. It is not idempotent: retried only when the server cannot
// have acted; callers adopt a running migration of the same mappings instead.
func (c *ODC) StartCodeMigration(ctx context.Context, sourceEnvironmentKey string, mappingKeys []string) (*CodeMigration, error) {
	r := request{method: http.MethodPost, path: CodeMigrationAPIPrefix + "/code-migrations",
		body: codeMigrationCreate{SourceEnvironmentKey: sourceEnvironmentKey, MappingKeys: mappingKeys}}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var out CodeMigration
	if err := decodeJSON(c.s.name, r, resp, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetCodeMigration reads a code migration, with the server's polling hint.
func (c *ODC) GetCodeMigration(ctx context.Context, key string) (*CodeMigration, error) {
	r := request{method: http.MethodGet, path: pathf(CodeMigrationAPIPrefix+"/code-migrations/%s", key), idempotent: true}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var out CodeMigration
	if err := decodeJSON(c.s.name, r, resp, &out); err != nil {
		return nil, err
	}
	if d, ok := ParseRetryAfter(resp.header.Get("Retry-After"), time.Now()); ok {
		out.PollAfter = d
	}
	return &out, nil
}

// ListCodeMigrations lists code migrations, newest first, optionally only
// those in one status ("" = all).
func (c *ODC) ListCodeMigrations(ctx context.Context, status string) ([]CodeMigration, error) {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	return listAll[CodeMigration](ctx, c, CodeMigrationAPIPrefix+"/code-migrations", q)
}

// MigrationKitProblemTypePrefix starts the type of every error the
// Migration Kit contract answers (api/migration-kit/v1: Problem.type is
// urn:terraform-provider-outsystems:migration-kit:v1:<errorCode>).
const MigrationKitProblemTypePrefix = "urn:terraform-provider-outsystems:migration-kit:v1:"

// NoMigrationKitError says a probe of a Migration Kit API found none: the
// server answered 404 with a body that is not the kit's own error, as a
// real OutSystems organization does (OutSystems publishes no Migration Kit
// API). Request is what was asked ("GET https://…/code-migrations?limit=1"),
// Answer what came back.
type NoMigrationKitError struct {
	API     string
	Request string
	Answer  *APIError
}

func (e *NoMigrationKitError) Error() string {
	return fmt.Sprintf("no %s API: %s answered %d %s, which is not the Migration Kit's own error (%s)",
		e.API, e.Request, e.Answer.StatusCode, http.StatusText(e.Answer.StatusCode), e.Answer.Error())
}

// IsUnknownPath reports whether err is a 404 outside the Migration Kit's
// error shape: what a server answers for a path it does not serve, as an
// organization without the kit's API does for the kit's paths.
func IsUnknownPath(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && !strings.HasPrefix(apiErr.Type, MigrationKitProblemTypePrefix)
}

// kitProbe sorts the answer of a probe of a Migration Kit API: nil when the
// API answered, a *NoMigrationKitError for a 404 that is not in the kit's
// error shape, and any other error as it is.
func kitProbe(api, request string, err error) error {
	if err == nil {
		return nil
	}
	var apiErr *APIError
	if IsUnknownPath(err) && errors.As(err, &apiErr) {
		return &NoMigrationKitError{API: api, Request: request, Answer: apiErr}
	}
	return err
}

// ProbeCodeMigrations checks that the ODC portal serves the Migration Kit's
// code-migration API with one cheap read (the first code migration). It
// returns nil when it does, a *NoMigrationKitError when the portal answers
// 404 as for any unknown path, and other errors as they are.
func (c *ODC) ProbeCodeMigrations(ctx context.Context) error {
	path := CodeMigrationAPIPrefix + "/code-migrations"
	q := url.Values{"limit": {"1"}}
	var page odcPage[CodeMigration]
	err := c.get(ctx, path, q, &page)
	return kitProbe("Migration Kit code migration", "GET "+c.s.base.JoinPath(path).String()+"?"+q.Encode(), err)
}
