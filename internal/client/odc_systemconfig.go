package client

import (
	"context"
	"fmt"
	"net/http"
)

// --- asset configurations v1: a stage's default system configurations ---

// SystemConfiguration is one default system configuration of a stage
// (GenericConfigResult). A secret's Value, DeployedValue and DefaultValue
// are nil: ODC never returns them; ValueSetAfterDeploy and UpdatedAt tell
// whether it was set and when.
type SystemConfiguration struct {
	Key, Name, Description, DataType string
	DefaultValue, DeployedValue      *string
	Value                            *string
	ValueOrigin, DeployedValueOrigin string
	IsSecret                         bool
	ValueSetAfterDeploy              *bool
	// UpdatedAt is the date-time ODC wrote, as written ("" until set).
	UpdatedAt string
	Filename  *string
}

type odcGenericConfig struct {
	Key                 *string `json:"key"`
	Name                *string `json:"name"`
	Description         *string `json:"description"`
	DataType            *string `json:"dataType"`
	DefaultValue        *string `json:"defaultValue"`
	DeployedValue       *string `json:"deployedValue"`
	Value               *string `json:"value"`
	ValueOrigin         *string `json:"valueOrigin"`
	DeployedValueOrigin *string `json:"deployedValueOrigin"`
	IsSecret            bool    `json:"isSecret"`
	ValueSetAfterDeploy *bool   `json:"valueSetAfterDeploy"`
	UpdatedAt           *string `json:"updatedAt"`
	Filename            *string `json:"filename"`
}

func systemConfigsPath(environmentKey string) string {
	return pathf(odcAssetConfigurations+"/environments/%s/default-system-configurations", environmentKey)
}

// SystemConfigurations reads a stage's default system configurations
// (Configuration management > View configurations).
func (c *ODC) SystemConfigurations(ctx context.Context, environmentKey string) ([]SystemConfiguration, error) {
	var w struct {
		SystemConfigurations []odcGenericConfig `json:"systemConfigurations"`
	}
	if err := c.get(ctx, systemConfigsPath(environmentKey), nil, &w); err != nil {
		return nil, err
	}
	out := make([]SystemConfiguration, 0, len(w.SystemConfigurations))
	for _, g := range w.SystemConfigurations {
		sc := SystemConfiguration{Key: str(g.Key), Name: str(g.Name), Description: str(g.Description), DataType: str(g.DataType),
			DefaultValue: g.DefaultValue, DeployedValue: g.DeployedValue, Value: g.Value, ValueOrigin: str(g.ValueOrigin),
			DeployedValueOrigin: str(g.DeployedValueOrigin), IsSecret: g.IsSecret, ValueSetAfterDeploy: g.ValueSetAfterDeploy,
			UpdatedAt: str(g.UpdatedAt), Filename: g.Filename}
		if sc.IsSecret {
			// Whatever a server sends, a secret's value goes no further.
			sc.Value, sc.DeployedValue, sc.DefaultValue = nil, nil, nil
		}
		out = append(out, sc)
	}
	return out, nil
}

// ConfigurationValue is one value to set (GenericConfigPatch): Value nil
// resets the configuration to its default. Its String and GoString never
// show the value, which may be a secret.
type ConfigurationValue struct {
	Key      string
	Value    *string
	Filename *string
}

// String shows the key and whether a value is set, never the value.
func (v ConfigurationValue) String() string {
	if v.Value == nil {
		return fmt.Sprintf("{%s: reset}", v.Key)
	}
	return fmt.Sprintf("{%s: (value hidden)}", v.Key)
}

// GoString is String, so %#v hides the value too.
func (v ConfigurationValue) GoString() string { return v.String() }

type odcGenericConfigPatch struct {
	Key      string  `json:"key"`
	Value    *string `json:"value"`
	Filename *string `json:"filename,omitempty"`
}

// PatchSystemConfigurations sets the values given, and only those, in a
// stage (Configuration management > Edit configurations; SMTP values also
// Manage Email SMTP configuration). Setting a value twice gives the same
// result, so the call is retried like a read. Request bodies are never
// logged.
func (c *ODC) PatchSystemConfigurations(ctx context.Context, environmentKey string, values []ConfigurationValue) error {
	if len(values) == 0 {
		return nil
	}
	items := make([]odcGenericConfigPatch, len(values))
	for i, v := range values {
		items[i] = odcGenericConfigPatch(v)
	}
	body := map[string]any{"systemConfigurations": items}
	_, err := c.s.do(ctx, request{method: http.MethodPatch, path: systemConfigsPath(environmentKey), body: body, idempotent: true})
	return err
}
