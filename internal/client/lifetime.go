package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// LifeTimeAPIPrefix is where LifeTime API v2 lives on a LifeTime host.
const LifeTimeAPIPrefix = "/lifetimeapi/rest/v2"

// LifeTime is a client for LifeTime API v2 (OutSystems 11), authenticated
// with a service account's bearer token.
type LifeTime struct{ s *service }

// NewLifeTime returns a LifeTime client. cfg.BaseURL is the LifeTime host
// (e.g. https://lifetime.example.com); the API prefix is added unless the URL
// already ends with it. The console address a user may paste
// (https://lifetime.example.com/lifetime) is accepted: the API lives on the
// same host, at /lifetimeapi/rest/v2.
func NewLifeTime(cfg Config, token string) (*LifeTime, error) {
	if strings.TrimSpace(token) == "" {
		return nil, fmt.Errorf("the LifeTime service account token is empty")
	}
	cfg.BaseURL = lifeTimeHost(cfg.BaseURL)
	s, err := newService("LifeTime", cfg, LifeTimeAPIPrefix, bearer(token), parseLifeTimeError)
	if err != nil {
		return nil, err
	}
	return &LifeTime{s: s}, nil
}

// lifeTimeHost turns a console address ending in /lifetime into its host's
// root; any other URL is returned as it is.
func lifeTimeHost(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return raw
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.EqualFold(path.Base(p), "lifetime") {
		return raw
	}
	u.Path = strings.TrimSuffix(p, p[len(p)-len("/lifetime"):])
	u.RawPath = ""
	return u.String()
}

// BaseURL is the API root the client calls.
func (c *LifeTime) BaseURL() string { return c.s.base.String() }

// lifeTimeErrorBody is LifeTime's error document.
type lifeTimeErrorBody struct {
	Errors     []string `json:"Errors"`
	StatusCode int      `json:"StatusCode"`
}

func parseLifeTimeError(e *APIError, body []byte) {
	var eb lifeTimeErrorBody
	if err := json.Unmarshal(body, &eb); err == nil && len(eb.Errors) > 0 {
		e.Messages = append(e.Messages, eb.Errors...)
		return
	}
	// Some LifeTime endpoints answer plain text, or a JSON string.
	var str string
	if err := json.Unmarshal(body, &str); err == nil && str != "" {
		e.Messages = append(e.Messages, str)
		return
	}
	e.Messages = append(e.Messages, truncate(string(body), 2000))
}

// Environment is a LifeTime environment.
type Environment struct {
	Key                   string `json:"Key"`
	Name                  string `json:"Name"`
	OSVersion             string `json:"OSVersion"`
	Order                 int    `json:"Order"`
	DetailsURL            string `json:"DetailsURL"`
	HostName              string `json:"HostName"`
	UseHTTPS              bool   `json:"UseHTTPS"`
	EnvironmentType       string `json:"EnvironmentType"`
	NumberOfFrontEnds     int    `json:"NumberOfFrontEnds"`
	ApplicationServerType string `json:"ApplicationServerType"`
	ApplicationServer     string `json:"ApplicationServer"`
	DatabaseProvider      string `json:"DatabaseProvider"`
	IsCloudEnvironment    bool   `json:"IsCloudEnvironment"`
}

// Application is an O11 application as LifeTime describes it.
type Application struct {
	Key             string           `json:"Key"`
	Name            string           `json:"Name"`
	Kind            string           `json:"Kind"`
	Team            string           `json:"Team"`
	Description     string           `json:"Description"`
	URLPath         string           `json:"URLPath"`
	IconHash        string           `json:"IconHash"`
	IconURL         string           `json:"IconURL"`
	DetailsURL      string           `json:"DetailsURL"`
	IsSystem        bool             `json:"IsSystem"`
	AppStatusInEnvs []AppStatusInEnv `json:"AppStatusInEnvs"`
}

// StatusIn returns the application's status in an environment.
func (a *Application) StatusIn(envKey string) (AppStatusInEnv, bool) {
	for _, st := range a.AppStatusInEnvs {
		if strings.EqualFold(st.EnvironmentKey, envKey) {
			return st, true
		}
	}
	return AppStatusInEnv{}, false
}

// AppStatusInEnv is an application's state in one environment.
type AppStatusInEnv struct {
	EnvironmentKey            string `json:"EnvironmentKey"`
	BaseApplicationVersionKey string `json:"BaseApplicationVersionKey"`
	// BaseApplicationVersionLabel is the base version's version string
	// (empty on LifeTime releases that do not send it).
	BaseApplicationVersionLabel string              `json:"BaseApplicationVersionLabel"`
	IsModified                  bool                `json:"IsModified"`
	IsModifiedReason            string              `json:"IsModifiedReason"`
	IsModifiedMessage           string              `json:"IsModifiedMessage"`
	ConsistencyStatus           string              `json:"ConsistencyStatus"`
	ConsistencyStatusMessages   string              `json:"ConsistencyStatusMessages"`
	MobileAppsStatus            []MobileAppStatus   `json:"MobileAppsStatus"`
	ModuleStatusInEnvs          []ModuleStatusInEnv `json:"ModuleStatusInEnvs"`
	DeploymentZoneKey           string              `json:"DeploymentZoneKey"`
}

// MobileAppStatus is a native shell's state in an environment. IsModified
// means its native hash changed since the last tag: the next tag needs a new
// VersionNumber for that platform.
type MobileAppStatus struct {
	EnvironmentKey         string `json:"EnvironmentKey"`
	NativePlatform         string `json:"NativePlatform"`
	VersionNumber          string `json:"VersionNumber"`
	HasBinaryAvailable     bool   `json:"HasBinaryAvailable"`
	IsConfigured           bool   `json:"IsConfigured"`
	IsConfigurationChanged bool   `json:"IsConfigurationChanged"`
	IsModified             bool   `json:"IsModified"`
}

// ModuleStatusInEnv is one module's running version in an environment
// (LifeTime's type has no module key).
type ModuleStatusInEnv struct {
	ApplicationKey            string `json:"ApplicationKey"`
	EnvironmentKey            string `json:"EnvironmentKey"`
	ModuleVersionKey          string `json:"ModuleVersionKey"`
	ConsistencyStatus         string `json:"ConsistencyStatus"`
	ConsistencyStatusMessages string `json:"ConsistencyStatusMessages"`
}

// MobileVersion is a native build of a mobile app version.
type MobileVersion struct {
	NativePlatform     string `json:"NativePlatform"`
	VersionNumber      string `json:"VersionNumber"`
	VersionDescription string `json:"VersionDescription"`
}

// ApplicationVersion is a tagged version of an application.
type ApplicationVersion struct {
	Key            string            `json:"Key"`
	ApplicationKey string            `json:"ApplicationKey"`
	Version        string            `json:"Version"`
	MobileVersions []MobileVersion   `json:"MobileVersions"`
	PrimaryColor   string            `json:"PrimaryColor"`
	NativeHash     string            `json:"NativeHash"`
	ModuleVersions []json.RawMessage `json:"ModuleVersions"`
	CreatedOn      string            `json:"CreatedOn,omitempty"`
	ChangeLog      string            `json:"ChangeLog,omitempty"`
	// InUse: the version runs somewhere or was deployed, so LifeTime refuses
	// to delete it.
	InUse bool `json:"InUse"`
	// EnvironmentKey is the environment the version was tagged in.
	EnvironmentKey string `json:"EnvironmentKey,omitempty"`
}

// Module is an O11 module (eSpace or Extension).
type Module struct {
	Key         string `json:"Key"`
	Name        string `json:"Name"`
	Description string `json:"Description"`
	Kind        string `json:"Kind"`
}

// CreateVersionRequest is the body of the tag call. The Swagger's arrays
// are not nullable: an empty list is left out rather than sent as null.
type CreateVersionRequest struct {
	ChangeLog         string          `json:"ChangeLog"`
	Version           string          `json:"Version"`
	MobileVersions    []MobileVersion `json:"MobileVersions,omitempty"`
	ModuleVersionKeys []string        `json:"ModuleVersionKeys,omitempty"`
}

func envStatusQuery(includeEnvStatus, includeModules bool) url.Values {
	q := url.Values{}
	if includeEnvStatus || includeModules {
		q.Set("IncludeEnvStatus", "true")
	}
	if includeModules {
		q.Set("IncludeModules", "true")
	}
	return q
}

func (c *LifeTime) get(ctx context.Context, path string, q url.Values, out any) error {
	r := request{method: http.MethodGet, path: path, query: q, idempotent: true}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return err
	}
	return decodeJSON(c.s.name, r, resp, out)
}

// ListEnvironments lists the environments LifeTime manages (none: empty slice).
func (c *LifeTime) ListEnvironments(ctx context.Context) ([]Environment, error) {
	var out []Environment
	return out, c.get(ctx, "/environments", nil, &out)
}

// ListApplications lists applications, optionally with their status per
// environment and their modules.
func (c *LifeTime) ListApplications(ctx context.Context, includeEnvStatus, includeModules bool) ([]Application, error) {
	var out []Application
	return out, c.get(ctx, "/applications", envStatusQuery(includeEnvStatus, includeModules), &out)
}

// GetApplication reads one application.
func (c *LifeTime) GetApplication(ctx context.Context, appKey string, includeEnvStatus, includeModules bool) (*Application, error) {
	var out Application
	if err := c.get(ctx, pathf("/applications/%s", appKey), envStatusQuery(includeEnvStatus, includeModules), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetEnvironmentApplication reads an application's running state in one environment.
func (c *LifeTime) GetEnvironmentApplication(ctx context.Context, envKey, appKey string, includeModules bool) (*Application, error) {
	var out Application
	if err := c.get(ctx, pathf("/environments/%s/applications/%s", envKey, appKey), envStatusQuery(true, includeModules), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListApplicationVersions lists an application's versions, newest first.
// limit <= 0 uses LifeTime's default (5).
func (c *LifeTime) ListApplicationVersions(ctx context.Context, appKey string, limit int) ([]ApplicationVersion, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("MaximumVersionsToReturn", strconv.Itoa(limit))
	}
	var out []ApplicationVersion
	return out, c.get(ctx, pathf("/applications/%s/versions", appKey), q, &out)
}

// GetApplicationVersion reads one application version, with its module
// versions (LifeTime requires IncludeModules on this call).
func (c *LifeTime) GetApplicationVersion(ctx context.Context, appKey, versionKey string) (*ApplicationVersion, error) {
	var out ApplicationVersion
	q := url.Values{"IncludeModules": {"true"}}
	if err := c.get(ctx, pathf("/applications/%s/versions/%s", appKey, versionKey), q, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// VersionInUseError is a delete the client did not send: the version runs
// in an environment or was used in a deployment (its InUse), and LifeTime
// refuses to delete such a version with a 500.
type VersionInUseError struct {
	ApplicationKey, VersionKey, Version string
}

func (e *VersionInUseError) Error() string {
	return fmt.Sprintf("LifeTime keeps version %s (key %s) of application %s: it is running in an environment or was used in a deployment (InUse), so it cannot be deleted",
		e.Version, e.VersionKey, e.ApplicationKey)
}

// DeleteApplicationVersion deletes a version. LifeTime refuses (with a 500)
// to delete a version that is running somewhere or was used in a
// deployment, so the client reads the version first and, when it is in use,
// sends no DELETE and returns a *VersionInUseError. The DELETE itself is not
// retried on a 5xx: a refusal does not change by asking again.
func (c *LifeTime) DeleteApplicationVersion(ctx context.Context, appKey, versionKey string) error {
	var v ApplicationVersion
	q := url.Values{"IncludeModules": {"false"}}
	if err := c.get(ctx, pathf("/applications/%s/versions/%s", appKey, versionKey), q, &v); err != nil {
		return err
	}
	if v.InUse {
		return &VersionInUseError{ApplicationKey: appKey, VersionKey: versionKey, Version: v.Version}
	}
	_, err := c.s.do(ctx, request{method: http.MethodDelete, path: pathf("/applications/%s/versions/%s", appKey, versionKey)})
	return err
}

// CreateApplicationVersion tags the application's running state in an
// environment as a new version and returns the new version's key.
func (c *LifeTime) CreateApplicationVersion(ctx context.Context, envKey, appKey string, body CreateVersionRequest) (string, error) {
	r := request{method: http.MethodPost, path: pathf("/environments/%s/applications/%s/versions", envKey, appKey), body: body}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return "", err
	}
	return parseCreatedKey(resp.body, "ApplicationVersionKey")
}

// parseCreatedKey reads a created object's key from a LifeTime POST answer,
// which is JSON on most versions and plain text (a bare or quoted key) on
// some.
func parseCreatedKey(body []byte, field string) (string, error) {
	trimmed := strings.TrimSpace(string(body))
	if trimmed == "" {
		return "", fmt.Errorf("LifeTime answered the create with an empty body; expected %s", field)
	}
	if strings.HasPrefix(trimmed, "{") {
		var m map[string]any
		if err := json.Unmarshal([]byte(trimmed), &m); err != nil {
			return "", fmt.Errorf("LifeTime answered the create with malformed JSON: %w", err)
		}
		for k, v := range m {
			if strings.EqualFold(k, field) {
				if s, ok := v.(string); ok && s != "" {
					return s, nil
				}
			}
		}
		return "", fmt.Errorf("LifeTime's answer to the create has no %s", field)
	}
	key := strings.Trim(trimmed, "\"")
	if !IsGUID(key) {
		return "", fmt.Errorf("LifeTime answered the create with %q, which is not a key", truncate(trimmed, 80))
	}
	return key, nil
}

// IsGUID reports whether s is a GUID in the 8-4-4-4-12 form LifeTime and ODC use.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
