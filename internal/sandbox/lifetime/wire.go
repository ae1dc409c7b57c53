package lifetime

import (
	"time"
)

// Base is where LifeTime API v2 lives on the LifeTime host.
const Base = "/lifetimeapi/rest/v2"

// PermissionChangeDeploy is the LifeTime permission level needed to create
// and delete application versions.
const PermissionChangeDeploy = "Change & Deploy Applications"

const defaultMaximumVersions = 5

// LifeTime wire types. Field names are LifeTime's, in PascalCase.

// APIError is LifeTime's error body: {"Errors":["..."],"StatusCode":400}.
type APIError struct {
	Errors     []string `json:"Errors"`
	StatusCode int      `json:"StatusCode"`
}

// Environment is an environment LifeTime manages.
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

// Application is an O11 application.
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
	AppStatusInEnvs []AppStatusInEnv `json:"AppStatusInEnvs,omitzero"` // only with IncludeEnvStatus
}

// AppStatusInEnv is an application's status in one environment (AppStatusInEnv_v2).
type AppStatusInEnv struct {
	EnvironmentKey            string `json:"EnvironmentKey"`
	BaseApplicationVersionKey string `json:"BaseApplicationVersionKey"`
	// BaseApplicationVersionLabel is the base version's version string.
	BaseApplicationVersionLabel string              `json:"BaseApplicationVersionLabel"`
	IsModified                  bool                `json:"IsModified"`
	IsModifiedReason            string              `json:"IsModifiedReason"`
	IsModifiedMessage           string              `json:"IsModifiedMessage"`
	ConsistencyStatus           string              `json:"ConsistencyStatus"`
	ConsistencyStatusMessages   string              `json:"ConsistencyStatusMessages"`
	MobileAppsStatus            []MobileAppStatus   `json:"MobileAppsStatus"`
	ModuleStatusInEnvs          []ModuleStatusInEnv `json:"ModuleStatusInEnvs,omitzero"` // only with IncludeModules
	DeploymentZoneKey           string              `json:"DeploymentZoneKey"`
}

// MobileAppStatus is a native shell's status in an environment (MobileAppStatusInEnv).
type MobileAppStatus struct {
	EnvironmentKey         string `json:"EnvironmentKey"`
	NativePlatform         string `json:"NativePlatform"`
	VersionNumber          string `json:"VersionNumber"`
	HasBinaryAvailable     bool   `json:"HasBinaryAvailable"`
	IsConfigured           bool   `json:"IsConfigured"`
	IsConfigurationChanged bool   `json:"IsConfigurationChanged"`
	IsModified             bool   `json:"IsModified"`
}

// ModuleStatusInEnv is a module's running version in an environment.
// LifeTime's type has no module key: ModuleKey is the sandbox's own, never
// sent.
type ModuleStatusInEnv struct {
	ApplicationKey            string `json:"ApplicationKey"`
	ModuleKey                 string `json:"-"`
	EnvironmentKey            string `json:"EnvironmentKey"`
	ModuleVersionKey          string `json:"ModuleVersionKey"`
	ConsistencyStatus         string `json:"ConsistencyStatus"`
	ConsistencyStatusMessages string `json:"ConsistencyStatusMessages"`
}

// ApplicationVersion is a tagged application version (ApplicationVersion_v2).
type ApplicationVersion struct {
	Key            string          `json:"Key"`
	ApplicationKey string          `json:"ApplicationKey"`
	Version        string          `json:"Version"`
	MobileVersions []MobileVersion `json:"MobileVersions"`
	PrimaryColor   string          `json:"PrimaryColor"`
	NativeHash     string          `json:"NativeHash"`
	ModuleVersions []ModuleVersion `json:"ModuleVersions"`
	CreatedOn      time.Time       `json:"CreatedOn"`
	ChangeLog      string          `json:"ChangeLog"`
	// InUse: the version runs in an environment, so LifeTime will not delete it.
	InUse bool `json:"InUse"`
	// EnvironmentKey is the environment the version was tagged in ("" when
	// the sandbox does not know it, as for the fixture's versions that no
	// environment runs).
	EnvironmentKey string `json:"EnvironmentKey"`
}

// MobileVersion is a native build of an application version.
type MobileVersion struct {
	NativePlatform     string `json:"NativePlatform"`
	VersionNumber      string `json:"VersionNumber"`
	VersionDescription string `json:"VersionDescription"`
}

// Module is an O11 module (eSpace or Extension).
type Module struct {
	Key               string              `json:"Key"`
	Name              string              `json:"Name"`
	Description       string              `json:"Description"`
	Kind              string              `json:"Kind"`
	ModuleStatusInEnv []ModuleStatusInEnv `json:"ModuleStatusInEnv,omitzero"` // only with IncludeEnvStatus
}

// ModuleVersion is a published version of a module (ModuleVersion_v2).
type ModuleVersion struct {
	Key                   string    `json:"Key"`
	ModuleKey             string    `json:"ModuleKey"`
	CreatedOn             time.Time `json:"CreatedOn"`
	CreatedBy             string    `json:"CreatedBy"`
	CreatedByUsername     string    `json:"CreatedByUsername"`
	GeneralHash           string    `json:"GeneralHash"`
	DirectUpgradeFromHash string    `json:"DirectUpgradeFromHash"`
}

// TagRequest is the body of the "create application version" call.
type TagRequest struct {
	ChangeLog         string          `json:"ChangeLog"`
	Version           string          `json:"Version"`
	MobileVersions    []MobileVersion `json:"MobileVersions"`
	ModuleVersionKeys []string        `json:"ModuleVersionKeys"`
}

// TagResponse is the answer to a tag: the new version's key.
type TagResponse struct {
	ApplicationVersionKey string `json:"ApplicationVersionKey"`
}
