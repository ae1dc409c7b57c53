package lifetime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// Register mounts LifeTime API v2; every call needs a service
// account token.
func (s *Service) Register(mux *http.ServeMux) {
	api := http.NewServeMux()
	handle := func(path string, handlers map[string]http.HandlerFunc) {
		httpx.Route(api, Base+path, handlers, writeError)
	}
	get := http.MethodGet
	handle("/environments", map[string]http.HandlerFunc{get: s.serveListEnvironments})
	handle("/environments/{EnvironmentKey}", map[string]http.HandlerFunc{get: s.serveGetEnvironment})
	handle("/environments/{EnvironmentKey}/applications", map[string]http.HandlerFunc{get: s.serveListEnvironmentApplications})
	handle("/environments/{EnvironmentKey}/applications/{ApplicationKey}", map[string]http.HandlerFunc{get: s.serveGetEnvironmentApplication})
	handle("/environments/{EnvironmentKey}/applications/{ApplicationKey}/versions", map[string]http.HandlerFunc{http.MethodPost: s.serveCreateApplicationVersion})
	handle("/applications", map[string]http.HandlerFunc{get: s.serveListApplications})
	handle("/applications/{ApplicationKey}", map[string]http.HandlerFunc{get: s.serveGetApplication})
	handle("/applications/{ApplicationKey}/versions", map[string]http.HandlerFunc{get: s.serveListApplicationVersions})
	handle("/applications/{ApplicationKey}/versions/{VersionKey}", map[string]http.HandlerFunc{
		get:               s.serveGetApplicationVersion,
		http.MethodDelete: s.serveDeleteApplicationVersion,
	})
	handle("/modules", map[string]http.HandlerFunc{get: s.serveListModules})
	handle("/modules/{ModuleKey}", map[string]http.HandlerFunc{get: s.serveGetModule})
	handle("/modules/{ModuleKey}/versions", map[string]http.HandlerFunc{get: s.serveListModuleVersions})
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("There is no LifeTime API endpoint at %s.", r.URL.Path))
	})
	mux.Handle("/lifetimeapi/", s.requireServiceAccount(s.settled(api)))
}

// writeList answers a list: 200 with the items, or 204 when there are none.
func writeList[T any](w http.ResponseWriter, items []T) {
	if len(items) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, items)
}

// fail answers an error from parsing or from the store; a refusal is
// LifeTime's 500 with its error body.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	if refused, ok := errors.AsType[*refusedError](err); ok {
		writeError(w, refused.StatusCode(), refused.Error())
		return
	}
	s.writeStoreError(w, r, err, writeError)
}

// pathKeys parses the named GUID path parameters, in order.
func pathKeys(r *http.Request, names ...string) ([]string, error) {
	keys := make([]string, len(names))
	for i, name := range names {
		key, err := httpx.ParseKey(name, r.PathValue(name))
		if err != nil {
			return nil, err
		}
		keys[i] = key
	}
	return keys, nil
}

// QueryParam returns a query parameter, matching its name case-insensitively
// as LifeTime does; when several names match, the first in the query string
// wins (not whichever a map yields first). Pairs are read as url.ParseQuery
// reads them.
func QueryParam(r *http.Request, name string) string {
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

// BoolParam reads a true/false query parameter (QueryParam); absent is false.
func BoolParam(r *http.Request, name string) (bool, error) {
	v := QueryParam(r, name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, httpx.Invalidf("Invalid value '%s' for %s: expected true or false.", v, name)
	}
	return b, nil
}

// statusFlags reads IncludeEnvStatus and IncludeModules; module status only
// exists within environment status.
func statusFlags(r *http.Request) (withStatus, withModules bool, err error) {
	if withStatus, err = BoolParam(r, "IncludeEnvStatus"); err != nil {
		return false, false, err
	}
	if withModules, err = BoolParam(r, "IncludeModules"); err != nil {
		return false, false, err
	}
	if withModules && !withStatus {
		return false, false, httpx.Invalidf("IncludeModules=true requires IncludeEnvStatus=true.")
	}
	return withStatus, withModules, nil
}

func maximumVersions(r *http.Request) (int, error) {
	v := QueryParam(r, "MaximumVersionsToReturn")
	if v == "" {
		return defaultMaximumVersions, nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return 0, httpx.Invalidf("Invalid value '%s' for MaximumVersionsToReturn: expected a number.", v)
	case n < 0:
		return 0, httpx.Invalidf("MaximumVersionsToReturn must not be negative (got %d).", n)
	}
	return n, nil
}

func (s *Service) serveListEnvironments(w http.ResponseWriter, r *http.Request) {
	envs, err := s.environments(r.Context(), "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeList(w, withEnvironmentDetails(r, envs))
}

func (s *Service) serveGetEnvironment(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "EnvironmentKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	env, err := s.environment(r.Context(), keys[0])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, withEnvironmentDetails(r, []Environment{env})[0])
}

func (s *Service) serveListApplications(w http.ResponseWriter, r *http.Request) {
	withStatus, withModules, err := statusFlags(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	apps, err := s.applications(r.Context(), appFilter{withStatus: withStatus, withModules: withModules})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeList(w, withApplicationDetails(r, apps))
}

func (s *Service) serveGetApplication(w http.ResponseWriter, r *http.Request) {
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
	apps, err := s.applications(r.Context(), appFilter{appKey: keys[0], withStatus: withStatus, withModules: withModules})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, withApplicationDetails(r, apps)[0])
}

// serveListEnvironmentApplications lists the applications running in an
// environment, each with its status there. IncludeModules adds module status.
func (s *Service) serveListEnvironmentApplications(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "EnvironmentKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	withModules, err := BoolParam(r, "IncludeModules")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.environment(r.Context(), keys[0]); err != nil {
		s.fail(w, r, err)
		return
	}
	apps, err := s.applications(r.Context(), appFilter{envKey: keys[0], withStatus: true, withModules: withModules})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeList(w, withApplicationDetails(r, apps))
}

func (s *Service) serveGetEnvironmentApplication(w http.ResponseWriter, r *http.Request) {
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
	if _, err := s.environment(r.Context(), keys[0]); err != nil {
		s.fail(w, r, err)
		return
	}
	apps, err := s.applications(r.Context(), appFilter{envKey: keys[0], appKey: keys[1], withStatus: withStatus, withModules: withModules})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, withApplicationDetails(r, apps)[0])
}

func (s *Service) serveListApplicationVersions(w http.ResponseWriter, r *http.Request) {
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
	versions, err := s.applicationVersions(r.Context(), keys[0], "", limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeList(w, versions)
}

// serveGetApplicationVersion reads one version. The Swagger makes
// IncludeModules required here: without it LifeTime answers 400.
func (s *Service) serveGetApplicationVersion(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "ApplicationKey", "VersionKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if QueryParam(r, "IncludeModules") == "" {
		s.fail(w, r, httpx.Invalidf("The IncludeModules query parameter is required: send IncludeModules=true or IncludeModules=false."))
		return
	}
	withModules, err := BoolParam(r, "IncludeModules")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versions, err := s.applicationVersions(r.Context(), keys[0], keys[1], -1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := versions[0]
	if !withModules {
		v.ModuleVersions = []ModuleVersion{}
	}
	httpx.WriteJSON(w, http.StatusOK, v)
}

func (s *Service) serveDeleteApplicationVersion(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "ApplicationKey", "VersionKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	apps, err := s.applications(r.Context(), appFilter{appKey: keys[0]})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !requireAdministrator(w, r, fmt.Sprintf("delete versions of application '%s'", apps[0].Name), PermissionChangeDeploy) {
		return
	}
	if err := s.deleteApplicationVersion(r.Context(), keys[0], keys[1]); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// serveCreateApplicationVersion tags the application as it runs in the
// environment now.
func (s *Service) serveCreateApplicationVersion(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "EnvironmentKey", "ApplicationKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	env, err := s.environment(r.Context(), keys[0])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.applications(r.Context(), appFilter{appKey: keys[1]}); err != nil {
		s.fail(w, r, err)
		return
	}
	if !requireAdministrator(w, r, fmt.Sprintf("create application versions in environment '%s'", env.Name), PermissionChangeDeploy) {
		return
	}
	req, err := DecodeTagRequest(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	versionKey, err := s.tagVersion(r.Context(), keys[0], keys[1], req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, TagResponse{ApplicationVersionKey: versionKey})
}

// DecodeTagRequest reads and checks the body of a tag call; module version
// keys come back in canonical form.
func DecodeTagRequest(w http.ResponseWriter, r *http.Request) (TagRequest, error) {
	var req TagRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	if err := dec.Decode(&req); err != nil {
		if errors.Is(err, io.EOF) {
			return req, httpx.Invalidf("The request body is empty: send the new version as JSON.")
		}
		return req, httpx.Invalidf("The request body is not valid JSON: %v.", err)
	}
	if httpx.JSONEnd(dec) != nil {
		return req, httpx.Invalidf("The request body is not valid JSON: unexpected data after the object.")
	}
	switch {
	case req.Version == "":
		return req, httpx.Invalidf("Version is required.")
	case !fixture.VersionPattern.MatchString(req.Version):
		return req, httpx.Invalidf("Version '%s' is not valid: use one to four numbers separated by dots, like 1.0.3.", req.Version)
	}
	seen := map[string]bool{}
	for _, mv := range req.MobileVersions {
		switch {
		case mv.NativePlatform != "Android" && mv.NativePlatform != "iOS":
			return req, httpx.Invalidf("Invalid NativePlatform '%s' in MobileVersions: use Android or iOS.", mv.NativePlatform)
		case seen[mv.NativePlatform]:
			return req, httpx.Invalidf("MobileVersions lists %s more than once.", mv.NativePlatform)
		case mv.VersionNumber == "":
			return req, httpx.Invalidf("MobileVersions: VersionNumber is required for %s.", mv.NativePlatform)
		}
		seen[mv.NativePlatform] = true
	}
	for i, k := range req.ModuleVersionKeys {
		key, err := httpx.ParseKey("module version key", k)
		if err != nil {
			return req, err
		}
		req.ModuleVersionKeys[i] = key
	}
	return req, nil
}

func (s *Service) serveListModules(w http.ResponseWriter, r *http.Request) {
	withStatus, err := BoolParam(r, "IncludeEnvStatus")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	modules, err := s.modules(r.Context(), "", withStatus)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeList(w, modules)
}

func (s *Service) serveGetModule(w http.ResponseWriter, r *http.Request) {
	keys, err := pathKeys(r, "ModuleKey")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	withStatus, err := BoolParam(r, "IncludeEnvStatus")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	modules, err := s.modules(r.Context(), keys[0], withStatus)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, modules[0])
}

func (s *Service) serveListModuleVersions(w http.ResponseWriter, r *http.Request) {
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
	versions, err := s.moduleVersions(r.Context(), keys[0], limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeList(w, versions)
}

// consoleURL is an address in the LifeTime console of the host the request
// came to.
func consoleURL(r *http.Request, page string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/lifetime/" + page
}

// withEnvironmentDetails fills in each environment's DetailsURL.
func withEnvironmentDetails(r *http.Request, envs []Environment) []Environment {
	for i := range envs {
		envs[i].DetailsURL = consoleURL(r, "EnvironmentDetail.aspx?EnvironmentKey="+url.QueryEscape(envs[i].Key))
	}
	return envs
}

// withApplicationDetails fills in each application's DetailsURL.
func withApplicationDetails(r *http.Request, apps []Application) []Application {
	for i := range apps {
		apps[i].DetailsURL = consoleURL(r, "ApplicationDetail.aspx?ApplicationKey="+url.QueryEscape(apps[i].Key))
	}
	return apps
}
