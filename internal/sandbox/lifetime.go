package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// lifetimeBase is where LifeTime API v2 lives on the LifeTime host.
const lifetimeBase = "/lifetimeapi/rest/v2"

// permissionChangeDeploy is the LifeTime permission level needed to create
// and delete application versions.
const permissionChangeDeploy = "Change & Deploy Applications"

const defaultMaximumVersions = 5

// LifeTime wire types. Field names are LifeTime's, in PascalCase.

type ltError struct {
	Errors     []string `json:"Errors"`
	StatusCode int      `json:"StatusCode"`
}

type ltEnvironment struct {
	Key                   string `json:"Key"`
	Name                  string `json:"Name"`
	OSVersion             string `json:"OSVersion"`
	Order                 int    `json:"Order"`
	HostName              string `json:"HostName"`
	UseHTTPS              bool   `json:"UseHTTPS"`
	EnvironmentType       string `json:"EnvironmentType"`
	NumberOfFrontEnds     int    `json:"NumberOfFrontEnds"`
	ApplicationServerType string `json:"ApplicationServerType"`
	ApplicationServer     string `json:"ApplicationServer"`
	DatabaseProvider      string `json:"DatabaseProvider"`
	IsCloudEnvironment    bool   `json:"IsCloudEnvironment"`
}

type ltApplication struct {
	Key             string             `json:"Key"`
	Name            string             `json:"Name"`
	Kind            string             `json:"Kind"`
	Team            string             `json:"Team"`
	Description     string             `json:"Description"`
	URLPath         string             `json:"URLPath"`
	IconHash        string             `json:"IconHash"`
	IconURL         string             `json:"IconURL"`
	IsSystem        bool               `json:"IsSystem"`
	AppStatusInEnvs []ltAppStatusInEnv `json:"AppStatusInEnvs,omitzero"` // only with IncludeEnvStatus
}

type ltAppStatusInEnv struct {
	EnvironmentKey            string                `json:"EnvironmentKey"`
	BaseApplicationVersionKey string                `json:"BaseApplicationVersionKey"`
	IsModified                bool                  `json:"IsModified"`
	IsModifiedReason          string                `json:"IsModifiedReason"`
	IsModifiedMessage         string                `json:"IsModifiedMessage"`
	ConsistencyStatus         string                `json:"ConsistencyStatus"`
	ConsistencyStatusMessages string                `json:"ConsistencyStatusMessages"`
	MobileAppsStatus          []ltMobileAppStatus   `json:"MobileAppsStatus"`
	ModuleStatusInEnvs        []ltModuleStatusInEnv `json:"ModuleStatusInEnvs,omitzero"` // only with IncludeModules
	DeploymentZoneKey         string                `json:"DeploymentZoneKey"`
}

type ltMobileAppStatus struct {
	EnvironmentKey         string `json:"EnvironmentKey"`
	NativePlatform         string `json:"NativePlatform"`
	VersionNumber          string `json:"VersionNumber"`
	HasBinaryAvailable     bool   `json:"HasBinaryAvailable"`
	IsConfigured           bool   `json:"IsConfigured"`
	IsConfigurationChanged bool   `json:"IsConfigurationChanged"`
	IsModified             bool   `json:"IsModified"`
}

type ltModuleStatusInEnv struct {
	ApplicationKey            string `json:"ApplicationKey"`
	ModuleKey                 string `json:"ModuleKey"`
	EnvironmentKey            string `json:"EnvironmentKey"`
	ModuleVersionKey          string `json:"ModuleVersionKey"`
	ConsistencyStatus         string `json:"ConsistencyStatus"`
	ConsistencyStatusMessages string `json:"ConsistencyStatusMessages"`
}

type ltApplicationVersion struct {
	Key            string            `json:"Key"`
	ApplicationKey string            `json:"ApplicationKey"`
	Version        string            `json:"Version"`
	MobileVersions []ltMobileVersion `json:"MobileVersions"`
	PrimaryColor   string            `json:"PrimaryColor"`
	NativeHash     string            `json:"NativeHash"`
	ModuleVersions []ltModuleVersion `json:"ModuleVersions"`
	CreatedOn      time.Time         `json:"CreatedOn"`
	ChangeLog      string            `json:"ChangeLog"`
}

type ltMobileVersion struct {
	NativePlatform     string `json:"NativePlatform"`
	VersionNumber      string `json:"VersionNumber"`
	VersionDescription string `json:"VersionDescription"`
}

type ltModule struct {
	Key               string                `json:"Key"`
	Name              string                `json:"Name"`
	Description       string                `json:"Description"`
	Kind              string                `json:"Kind"`
	ModuleStatusInEnv []ltModuleStatusInEnv `json:"ModuleStatusInEnv,omitzero"` // only with IncludeEnvStatus
}

type ltModuleVersion struct {
	Key                   string    `json:"Key"`
	ModuleKey             string    `json:"ModuleKey"`
	CreatedOn             time.Time `json:"CreatedOn"`
	CreatedBy             string    `json:"CreatedBy"`
	CreatedByUsername     string    `json:"CreatedByUsername"`
	GeneralHash           string    `json:"GeneralHash"`
	DirectUpgradeFromHash string    `json:"DirectUpgradeFromHash"`
}

// ltTagRequest is the body of the "create application version" call.
type ltTagRequest struct {
	ChangeLog         string            `json:"ChangeLog"`
	Version           string            `json:"Version"`
	MobileVersions    []ltMobileVersion `json:"MobileVersions"`
	ModuleVersionKeys []string          `json:"ModuleVersionKeys"`
}

type ltTagResponse struct {
	ApplicationVersionKey string `json:"ApplicationVersionKey"`
}

// registerLifeTime mounts LifeTime API v2; every call needs a service
// account token.
func (s *Sandbox) registerLifeTime(mux *http.ServeMux) {
	api := http.NewServeMux()
	handle := func(path string, handlers map[string]http.HandlerFunc) {
		route(api, lifetimeBase+path, handlers, writeLTError)
	}
	get := http.MethodGet
	handle("/environments", map[string]http.HandlerFunc{get: s.ltListEnvironments})
	handle("/environments/{EnvironmentKey}", map[string]http.HandlerFunc{get: s.ltGetEnvironment})
	handle("/environments/{EnvironmentKey}/applications", map[string]http.HandlerFunc{get: s.ltListEnvironmentApplications})
	handle("/environments/{EnvironmentKey}/applications/{ApplicationKey}", map[string]http.HandlerFunc{get: s.ltGetEnvironmentApplication})
	handle("/environments/{EnvironmentKey}/applications/{ApplicationKey}/versions", map[string]http.HandlerFunc{http.MethodPost: s.ltCreateApplicationVersion})
	handle("/applications", map[string]http.HandlerFunc{get: s.ltListApplications})
	handle("/applications/{ApplicationKey}", map[string]http.HandlerFunc{get: s.ltGetApplication})
	handle("/applications/{ApplicationKey}/versions", map[string]http.HandlerFunc{get: s.ltListApplicationVersions})
	handle("/applications/{ApplicationKey}/versions/{VersionKey}", map[string]http.HandlerFunc{
		get:               s.ltGetApplicationVersion,
		http.MethodDelete: s.ltDeleteApplicationVersion,
	})
	handle("/modules", map[string]http.HandlerFunc{get: s.ltListModules})
	handle("/modules/{ModuleKey}", map[string]http.HandlerFunc{get: s.ltGetModule})
	handle("/modules/{ModuleKey}/versions", map[string]http.HandlerFunc{get: s.ltListModuleVersions})
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeLTError(w, http.StatusNotFound, fmt.Sprintf("There is no LifeTime API endpoint at %s.", r.URL.Path))
	})
	mux.Handle("/lifetimeapi/", s.requireServiceAccount(api))
}

// writeLTList answers a list: 200 with the items, or 204 when there are none.
func writeLTList[T any](w http.ResponseWriter, items []T) {
	if len(items) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, items)
}

// fail answers an error from parsing or from the store.
func (s *Sandbox) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.writeStoreError(w, r, err, writeLTError)
}

// pathKeys parses the named GUID path parameters, in order.
func pathKeys(r *http.Request, names ...string) ([]string, error) {
	keys := make([]string, len(names))
	for i, name := range names {
		key, err := parseKey(name, r.PathValue(name))
		if err != nil {
			return nil, err
		}
		keys[i] = key
	}
	return keys, nil
}

// queryParam returns a query parameter, matching its name case-insensitively
// as LifeTime does; when several names match, the first in the query string
// wins (not whichever a map yields first). Pairs are read as url.ParseQuery
// reads them.
func queryParam(r *http.Request, name string) string {
	for rest := r.URL.RawQuery; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil || !strings.EqualFold(key, name) {
			continue
		}
		if value, err := url.QueryUnescape(v); err == nil {
			return value
		}
	}
	return ""
}

func boolParam(r *http.Request, name string) (bool, error) {
	v := queryParam(r, name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalidf("Invalid value '%s' for %s: expected true or false.", v, name)
	}
	return b, nil
}

// statusFlags reads IncludeEnvStatus and IncludeModules; module status only
// exists within environment status.
func statusFlags(r *http.Request) (withStatus, withModules bool, err error) {
	if withStatus, err = boolParam(r, "IncludeEnvStatus"); err != nil {
		return false, false, err
	}
	if withModules, err = boolParam(r, "IncludeModules"); err != nil {
		return false, false, err
	}
	if withModules && !withStatus {
		return false, false, invalidf("IncludeModules=true requires IncludeEnvStatus=true.")
	}
	return withStatus, withModules, nil
}

func maximumVersions(r *http.Request) (int, error) {
	v := queryParam(r, "MaximumVersionsToReturn")
	if v == "" {
		return defaultMaximumVersions, nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return 0, invalidf("Invalid value '%s' for MaximumVersionsToReturn: expected a number.", v)
	case n < 0:
		return 0, invalidf("MaximumVersionsToReturn must not be negative (got %d).", n)
	}
	return n, nil
}

func (s *Sandbox) ltListEnvironments(w http.ResponseWriter, r *http.Request) {
	envs, err := s.store.environments(r.Context(), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeLTList(w, envs)
}

func (s *Sandbox) ltGetEnvironment(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "EnvironmentKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	env, err := s.store.environment(r.Context(), keys[0])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, env)
}

func (s *Sandbox) ltListApplications(w http.ResponseWriter, r *http.Request) {
	withStatus, withModules, err := statusFlags(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	apps, err := s.store.applications(r.Context(), appFilter{withStatus: withStatus, withModules: withModules})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeLTList(w, apps)
}

func (s *Sandbox) ltGetApplication(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "ApplicationKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	withStatus, withModules, err := statusFlags(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	apps, err := s.store.applications(r.Context(), appFilter{appKey: keys[0], withStatus: withStatus, withModules: withModules})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apps[0])
}

// ltListEnvironmentApplications lists the applications running in an
// environment, each with its status there. IncludeModules adds module status.
func (s *Sandbox) ltListEnvironmentApplications(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "EnvironmentKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	withModules, err := boolParam(r, "IncludeModules")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.store.environment(r.Context(), keys[0]); err != nil {
		s.fail(w, r, err)
		return
	}
	apps, err := s.store.applications(r.Context(), appFilter{envKey: keys[0], withStatus: true, withModules: withModules})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeLTList(w, apps)
}

func (s *Sandbox) ltGetEnvironmentApplication(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "EnvironmentKey", "ApplicationKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	withStatus, withModules, err := statusFlags(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.store.environment(r.Context(), keys[0]); err != nil {
		s.fail(w, r, err)
		return
	}
	apps, err := s.store.applications(r.Context(), appFilter{envKey: keys[0], appKey: keys[1], withStatus: withStatus, withModules: withModules})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apps[0])
}

func (s *Sandbox) ltListApplicationVersions(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "ApplicationKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := maximumVersions(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versions, err := s.store.applicationVersions(r.Context(), keys[0], "", limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeLTList(w, versions)
}

func (s *Sandbox) ltGetApplicationVersion(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "ApplicationKey", "VersionKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versions, err := s.store.applicationVersions(r.Context(), keys[0], keys[1], -1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, versions[0])
}

func (s *Sandbox) ltDeleteApplicationVersion(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "ApplicationKey", "VersionKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	apps, err := s.store.applications(r.Context(), appFilter{appKey: keys[0]})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !requireAdministrator(w, r, fmt.Sprintf("delete versions of application '%s'", apps[0].Name), permissionChangeDeploy) {
		return
	}
	if err := s.store.deleteApplicationVersion(r.Context(), keys[0], keys[1]); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ltCreateApplicationVersion tags the application as it runs in the
// environment now.
func (s *Sandbox) ltCreateApplicationVersion(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "EnvironmentKey", "ApplicationKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	env, err := s.store.environment(r.Context(), keys[0])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.store.applications(r.Context(), appFilter{appKey: keys[1]}); err != nil {
		s.fail(w, r, err)
		return
	}
	if !requireAdministrator(w, r, fmt.Sprintf("create application versions in environment '%s'", env.Name), permissionChangeDeploy) {
		return
	}
	req, err := decodeTagRequest(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versionKey, err := s.store.tagVersion(r.Context(), keys[0], keys[1], req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, ltTagResponse{ApplicationVersionKey: versionKey})
}

// decodeTagRequest reads and checks the body of a tag call; module version
// keys come back in canonical form.
func decodeTagRequest(w http.ResponseWriter, r *http.Request) (ltTagRequest, error) {
	var req ltTagRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(&req); err != nil {
		if errors.Is(err, io.EOF) {
			return req, invalidf("The request body is empty: send the new version as JSON.")
		}
		return req, invalidf("The request body is not valid JSON: %v.", err)
	}
	if jsonEnd(dec) != nil {
		return req, invalidf("The request body is not valid JSON: unexpected data after the object.")
	}
	switch {
	case req.Version == "":
		return req, invalidf("Version is required.")
	case !versionPattern.MatchString(req.Version):
		return req, invalidf("Version '%s' is not valid: use one to four numbers separated by dots, like 1.0.3.", req.Version)
	}
	seen := map[string]bool{}
	for _, mv := range req.MobileVersions {
		switch {
		case mv.NativePlatform != "Android" && mv.NativePlatform != "iOS":
			return req, invalidf("Invalid NativePlatform '%s' in MobileVersions: use Android or iOS.", mv.NativePlatform)
		case seen[mv.NativePlatform]:
			return req, invalidf("MobileVersions lists %s more than once.", mv.NativePlatform)
		case mv.VersionNumber == "":
			return req, invalidf("MobileVersions: VersionNumber is required for %s.", mv.NativePlatform)
		}
		seen[mv.NativePlatform] = true
	}
	for i, k := range req.ModuleVersionKeys {
		key, err := parseKey("module version key", k)
		if err != nil {
			return req, err
		}
		req.ModuleVersionKeys[i] = key
	}
	return req, nil
}

func (s *Sandbox) ltListModules(w http.ResponseWriter, r *http.Request) {
	withStatus, err := boolParam(r, "IncludeEnvStatus")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	modules, err := s.store.modules(r.Context(), "", withStatus)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeLTList(w, modules)
}

func (s *Sandbox) ltGetModule(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "ModuleKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	withStatus, err := boolParam(r, "IncludeEnvStatus")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	modules, err := s.store.modules(r.Context(), keys[0], withStatus)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, modules[0])
}

func (s *Sandbox) ltListModuleVersions(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "ModuleKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := maximumVersions(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versions, err := s.store.moduleVersions(r.Context(), keys[0], limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeLTList(w, versions)
}
