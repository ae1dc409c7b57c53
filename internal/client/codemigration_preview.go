package client

import (
	"context"
	"net/http"
)

// MigrationPreviewAsset defines one asset of a preview, as a mapping would:
// its name, contract asset type and O11 application keys.
type MigrationPreviewAsset struct {
	Name            string   `json:"name"`
	AssetType       string   `json:"assetType"`
	ApplicationKeys []string `json:"applicationKeys"`
}

type migrationPreviewRequest struct {
	SourceEnvironmentKey string                  `json:"sourceEnvironmentKey"`
	Assets               []MigrationPreviewAsset `json:"assets"`
}

// MigrationPreview is what a code migration of the definitions would take
// (contract 1.3.0, POST /migration-previews): assets in publish order.
type MigrationPreview struct {
	SourceEnvironmentKey string                    `json:"sourceEnvironmentKey"`
	PreviewedAt          string                    `json:"previewedAt"`
	Blocked              bool                      `json:"blocked"`
	Assets               []PreviewedMigrationAsset `json:"assets"`
}

// PreviewedMigrationAsset is one asset of a preview.
type PreviewedMigrationAsset struct {
	Name          string               `json:"name"`
	AssetType     string               `json:"assetType"`
	MappingKey    *string              `json:"mappingKey"`
	PublishWave   int                  `json:"publishWave"`
	PublishOrder  int                  `json:"publishOrder"`
	ProducerNames []string             `json:"producerNames"`
	Applications  []PreviewApplication `json:"applications"`
	Findings      []PreviewFinding     `json:"findings"`
}

// PreviewApplication is an O11 application of a previewed asset: the
// version a migration would convert (nil without one in the environment).
type PreviewApplication struct {
	ApplicationKey string          `json:"applicationKey"`
	Name           string          `json:"name"`
	VersionKey     *string         `json:"versionKey"`
	Version        *string         `json:"version"`
	IsModified     bool            `json:"isModified"`
	Modules        []PreviewModule `json:"modules"`
}

// PreviewModule is a module version of a previewed application version.
type PreviewModule struct {
	ModuleKey        string `json:"moduleKey"`
	Name             string `json:"name"`
	Type             string `json:"type"`
	ModuleVersionKey string `json:"moduleVersionKey"`
}

// PreviewFinding is what a migration of the asset would meet; Blocking
// ones make it refuse the asset or fail to convert it.
type PreviewFinding struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Blocking bool   `json:"blocking"`
}

// PreviewMigration asks the kit what a code migration of the definitions
// from a LifeTime environment would take. It reads only: safe to retry. An
// organization without the kit's API (a 404 outside the kit's error shape)
// gives a *NoMigrationKitError.
func (c *ODC) PreviewMigration(ctx context.Context, sourceEnvironmentKey string, assets []MigrationPreviewAsset) (*MigrationPreview, error) {
	path := CodeMigrationAPIPrefix + "/migration-previews"
	r := request{method: http.MethodPost, path: path, idempotent: true,
		body: migrationPreviewRequest{SourceEnvironmentKey: sourceEnvironmentKey, Assets: assets}}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return nil, kitProbe("Migration Kit code migration", "POST "+c.s.base.JoinPath(path).String(), err)
	}
	var out MigrationPreview
	if err := decodeJSON(c.s.name, r, resp, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
