package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// The asset configurations API (asset-configurations-api-v1) for apps:
// settings, timers, integrations (consumed REST APIs' base URLs) and the
// settings of the libraries an app consumes, per stage. Secret values are
// sent, never read back (ODC returns none) and never logged: the transport
// logs no bodies, and ConfigPatchValue prints redacted.

const odcAssetConfigurations = "/api/asset-configurations/v1"

// Config keys of a timer's and an integration's configs.
const (
	TimerConfigIsActive      = "IsActive"
	IntegrationConfigBaseURL = "BaseUrl"
)

// ConfigValue is one configuration value (GenericConfigResult). Value and
// DeployedValue are nil for secrets and where ODC returns none; a secret's
// change shows in ValueSetAfterDeploy and UpdatedAt.
type ConfigValue struct {
	Key                 string  `json:"key"`
	Name                string  `json:"name"`
	Description         *string `json:"description"`
	DataType            string  `json:"dataType"`
	DefaultValue        *string `json:"defaultValue"`
	Value               *string `json:"value"`
	DeployedValue       *string `json:"deployedValue"`
	ValueOrigin         *string `json:"valueOrigin"`
	IsSecret            bool    `json:"isSecret"`
	ValueSetAfterDeploy *bool   `json:"valueSetAfterDeploy"`
	UpdatedAt           *string `json:"updatedAt"`
}

// Pending reports whether the value changed since the last deployment.
func (v ConfigValue) Pending() bool {
	if v.IsSecret {
		return v.ValueSetAfterDeploy != nil && *v.ValueSetAfterDeploy
	}
	return str(v.Value) != str(v.DeployedValue)
}

// ConfigElement is a timer or an integration with its configs.
type ConfigElement struct {
	Key        string        `json:"key"`
	Name       string        `json:"name"`
	PluginType *string       `json:"pluginType"`
	Configs    []ConfigValue `json:"configs"`
}

// Config returns the element's config of that key.
func (e ConfigElement) Config(key string) (ConfigValue, bool) {
	for _, c := range e.Configs {
		if c.Key == key {
			return c, true
		}
	}
	return ConfigValue{}, false
}

// LibraryConfig is a consumed library's configuration as the app sees it.
type LibraryConfig struct {
	Key      string        `json:"key"`
	Name     string        `json:"name"`
	Revision int           `json:"revision"`
	Settings []ConfigValue `json:"settings"`
}

// AppConfiguration is an app's configuration in a stage
// (ApplicationConfigResult).
type AppConfiguration struct {
	Key              string          `json:"key"`
	Name             string          `json:"name"`
	RevisionBaseline int             `json:"revisionBaseline"`
	RevisionDeployed *int            `json:"revisionDeployed"`
	DeployedAt       *string         `json:"deployedAt"`
	Settings         []ConfigValue   `json:"settings"`
	Timers           []ConfigElement `json:"timers"`
	Integrations     []ConfigElement `json:"integrations"`
	Libraries        []LibraryConfig `json:"libraries"`
}

func appConfigPath(environmentKey, appKey string) string {
	return pathf(odcAssetConfigurations+"/environments/%s/applications/%s", environmentKey, appKey)
}

// AppConfiguration reads an app's configuration in a stage: of the revision
// deployed there (revision 0; 404 when none is) or of a given revision.
func (c *ODC) AppConfiguration(ctx context.Context, environmentKey, appKey string, revision int) (*AppConfiguration, error) {
	rev := "deployed"
	if revision > 0 {
		rev = strconv.Itoa(revision)
	}
	var out AppConfiguration
	q := url.Values{"fields": {"settings,timers,integrations,libraries"}}
	if err := c.get(ctx, appConfigPath(environmentKey, appKey)+pathf("/revisions/%s/configurations", rev), q, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ConfigPatchValue sets one value. It prints as its key only, so a secret
// cannot reach a log through it.
type ConfigPatchValue struct {
	Key   string
	Value string
}

// String prints the key and hides the value.
func (v ConfigPatchValue) String() string { return v.Key + "=[REDACTED]" }

// GoString hides the value from %#v too.
func (v ConfigPatchValue) GoString() string { return v.String() }

// MarshalJSON writes the value as the API takes it (GenericConfigPatch).
func (v ConfigPatchValue) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}{v.Key, v.Value})
}

// ConfigElementPatch sets configs of a timer or an integration.
type ConfigElementPatch struct {
	Key     string             `json:"key"`
	Configs []ConfigPatchValue `json:"configs"`
}

// LibraryConfigPatch sets settings of a consumed library through the app.
type LibraryConfigPatch struct {
	Key      string             `json:"key"`
	Revision int                `json:"revision"`
	Settings []ConfigPatchValue `json:"settings"`
}

// AppConfigPatch changes an app's values in a stage; only the elements
// sent change. RevisionBaseline is the revision whose keys and types ODC
// checks the values against.
type AppConfigPatch struct {
	RevisionBaseline int                  `json:"revisionBaseline"`
	Settings         []ConfigPatchValue   `json:"settings,omitempty"`
	Timers           []ConfigElementPatch `json:"timers,omitempty"`
	Integrations     []ConfigElementPatch `json:"integrations,omitempty"`
	Libraries        []LibraryConfigPatch `json:"libraries,omitempty"`
}

// Empty reports whether the patch changes nothing.
func (p AppConfigPatch) Empty() bool {
	return len(p.Settings)+len(p.Timers)+len(p.Integrations)+len(p.Libraries) == 0
}

// PatchAppConfiguration changes values of an app in a stage (204). The
// values stay pending until a deploy or ApplyConfigs (a publish in
// Development) runs there. It is retried like an idempotent call: sending
// the same values twice leaves the same values.
func (c *ODC) PatchAppConfiguration(ctx context.Context, environmentKey, appKey string, p AppConfigPatch) error {
	_, err := c.s.do(ctx, request{method: http.MethodPatch, path: appConfigPath(environmentKey, appKey) + "/configurations", body: p, idempotent: true})
	return err
}
