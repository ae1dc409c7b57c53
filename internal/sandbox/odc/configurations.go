package odc

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// The asset configurations API (asset-configurations-api-v1) for apps:
// read the configuration of the revision deployed in a stage or of a given
// revision, and change values (PATCH, only the elements sent). Secret
// values are never returned; valueSetAfterDeploy and updatedAt tell that
// one changed.

const assetConfigBase = "/api/asset-configurations/v1"

// registerConfigurations serves the app configuration operations.
func (s *Service) registerConfigurations(mux *http.ServeMux) {
	view := func(h handler) http.HandlerFunc { return s.api(fixture.PermissionViewConfigurations, h) }
	app := assetConfigBase + "/environments/{environmentKey}/applications/{applicationKey}"
	// One pattern serves both reads: {baselineRevision} "deployed" is the
	// revision deployed in the stage (a second pattern would conflict).
	s.route(mux, app+"/revisions/{baselineRevision}/configurations", map[string]http.HandlerFunc{http.MethodGet: view(s.getAppConfiguration)})
	s.route(mux, app+"/configurations", map[string]http.HandlerFunc{
		http.MethodPatch: s.api(fixture.PermissionEditConfigurations, s.handlePatchAppConfiguration),
	})
}

// --- wire types (ApplicationConfigResult and the types it holds) ---

type genericConfigJSON struct {
	Key                 string  `json:"key"`
	Name                string  `json:"name"`
	Description         *string `json:"description"`
	DataType            string  `json:"dataType"`
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

type timerJSON struct {
	Key         string              `json:"key"`
	Name        string              `json:"name"`
	Description *string             `json:"description"`
	Configs     []genericConfigJSON `json:"configs"`
}

type integrationJSON struct {
	Key        string              `json:"key"`
	Name       string              `json:"name"`
	PluginType string              `json:"pluginType"`
	Configs    []genericConfigJSON `json:"configs"`
}

type libraryConfigJSON struct {
	Key                  string              `json:"key"`
	Name                 string              `json:"name"`
	Revision             int                 `json:"revision"`
	RevisionBaseline     int                 `json:"revisionBaseline"`
	SystemConfigurations []genericConfigJSON `json:"systemConfigurations"`
	Settings             []genericConfigJSON `json:"settings"`
	Integrations         []integrationJSON   `json:"integrations"`
}

type appConfigJSON struct {
	Key                  string               `json:"key"`
	Name                 string               `json:"name"`
	RevisionBaseline     int                  `json:"revisionBaseline"`
	RevisionDeployed     *int                 `json:"revisionDeployed"`
	Settings             *[]genericConfigJSON `json:"settings"`
	Timers               *[]timerJSON         `json:"timers"`
	Integrations         *[]integrationJSON   `json:"integrations"`
	Libraries            *[]libraryConfigJSON `json:"libraries"`
	DeployedAt           *string              `json:"deployedAt"`
	SystemConfigurations *[]genericConfigJSON `json:"systemConfigurations"`
}

// configFields are the values the fields parameter allows.
var configFields = []string{"systemConfigurations", "settings", "timers", "integrations", "libraries"}

// Origins of values (the API's Origin).
const (
	originAppOverride = "ApplicationLevelOverride"
	originAppDefault  = "ApplicationLevelDefault"
	originLibDefault  = "LibraryLevelDefault"
)

// appConfigView is what one GET reads: the app, the revision, what is
// deployed and applied in the stage, the definitions and values.
type appConfigView struct {
	app           *Asset
	revision      *Revision
	deployed      int
	applied       bool
	appliedStart  time.Time
	appliedFinish time.Time
	defs          []configElement
	libraries     []consumedLibrary
	values        map[valueID]*valueState
	fields        []string
}

func (s *Service) getAppConfiguration(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	fields := queryList(q, "fields")
	for _, f := range fields {
		if !slices.Contains(configFields, f) {
			s.fail(w, r, httpx.Invalidf("Field '%s' is not one the fields parameter allows: use a comma-separated list of %s.", f, strings.Join(configFields, ", ")))
			return
		}
	}
	if _, err := queryBool(q, "showBinaryValues"); err != nil {
		s.fail(w, r, err)
		return
	}
	if len(fields) == 0 {
		fields = configFields
	}
	now := time.Now()
	v := appConfigView{fields: fields}
	if !s.read(w, r, func(ctx context.Context, tx *sql.Tx) error {
		stage, err := configStage(ctx, tx, r.PathValue("environmentKey"))
		if err != nil {
			return err
		}
		if v.app, err = appByKey(ctx, tx, r.PathValue("applicationKey")); err != nil {
			return err
		}
		if v.deployed, err = deployedRevision(ctx, tx, stage.Key, v.app.Key, now); err != nil {
			return err
		}
		n := v.deployed
		if baseline := r.PathValue("baselineRevision"); baseline != "deployed" {
			if n, err = strconv.Atoi(baseline); err != nil || n < 1 {
				return httpx.Invalidf("Revision '%s' is not valid: revisions are numbered from 1.", baseline)
			}
		} else if n == 0 {
			return httpx.NotFoundf("Application '%s' (key %s) is not deployed in stage '%s'.", v.app.latest().Name, v.app.Key, stage.Name)
		}
		if v.revision, err = revisionOf(ctx, tx, v.app, n); err != nil {
			return err
		}
		return v.load(ctx, tx, stage.Key, now)
	}) {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, v.json())
}

// configStage reads the stage an environmentKey path parameter names.
func configStage(ctx context.Context, tx *sql.Tx, key string) (Stage, error) {
	k, err := httpx.ParseKey("environmentKey", key)
	if err != nil {
		return Stage{}, httpx.NotFoundf("Stage (environment) with key '%s' was not found.", key)
	}
	return loadStage(ctx, tx, k)
}

func (v *appConfigView) load(ctx context.Context, tx *sql.Tx, stageKey string, now time.Time) error {
	var err error
	if v.appliedStart, v.appliedFinish, v.applied, err = appliedAt(ctx, tx, stageKey, v.app.Key, now); err != nil {
		return err
	}
	if v.defs, err = loadDefinitions(ctx, tx, v.app.Key, v.revision.Revision); err != nil {
		return err
	}
	if v.libraries, err = consumedLibraries(ctx, tx, v.revision); err != nil {
		return err
	}
	var start *time.Time
	if v.applied {
		start = &v.appliedStart
	}
	v.values, err = loadValues(ctx, tx, stageKey, v.app.Key, start)
	return err
}

func (v *appConfigView) wants(field string) bool { return slices.Contains(v.fields, field) }

func (v *appConfigView) json() appConfigJSON {
	out := appConfigJSON{Key: v.app.Key, Name: v.revision.Name, RevisionBaseline: v.revision.Revision}
	if v.deployed > 0 {
		out.RevisionDeployed = &v.deployed
	}
	if v.applied {
		out.DeployedAt = str(sqldb.FormatTime(v.appliedFinish))
	}
	settings, timers, integrations := []genericConfigJSON{}, []timerJSON{}, []integrationJSON{}
	for _, d := range v.defs {
		c := v.config(d, "")
		switch d.Kind {
		case KindSetting:
			settings = append(settings, c)
		case KindTimer:
			c.Key, c.Name, c.Description = ConfigIsActive, "Is active", nil
			timers = append(timers, timerJSON{Key: d.Key, Name: d.Name, Description: str(d.Description), Configs: []genericConfigJSON{c}})
		case KindIntegration:
			c.Key, c.Name, c.Description = ConfigBaseURL, "Base URL", nil
			integrations = append(integrations, integrationJSON{Key: d.Key, Name: d.Name, PluginType: pluginRestConsume, Configs: []genericConfigJSON{c}})
		}
	}
	libraries := []libraryConfigJSON{}
	for _, l := range v.libraries {
		lc := libraryConfigJSON{Key: l.Asset.Key, Name: l.Revision.Name, Revision: l.Revision.Revision, RevisionBaseline: l.Revision.Revision,
			SystemConfigurations: []genericConfigJSON{}, Settings: []genericConfigJSON{}, Integrations: []integrationJSON{}}
		for _, d := range l.Settings {
			if d.Kind == KindSetting {
				lc.Settings = append(lc.Settings, v.config(d, l.Asset.Key))
			}
		}
		libraries = append(libraries, lc)
	}
	system := []genericConfigJSON{}
	if v.wants("settings") {
		out.Settings = &settings
	}
	if v.wants("timers") {
		out.Timers = &timers
	}
	if v.wants("integrations") {
		out.Integrations = &integrations
	}
	if v.wants("libraries") {
		out.Libraries = &libraries
	}
	if v.wants("systemConfigurations") {
		out.SystemConfigurations = &system
	}
	return out
}

// config shows one element's value. Secrets show neither value: only
// whether one was set after the last deployment, and when.
func (v *appConfigView) config(d configElement, library string) genericConfigJSON {
	st := v.values[valueID{library, d.Key, configKeyOf(d.Kind)}]
	def, over := originAppDefault, originAppOverride
	if library != "" {
		def = originLibDefault
	}
	c := genericConfigJSON{Key: d.Key, Name: d.Name, Description: str(d.Description), DataType: d.DataType, IsSecret: d.IsSecret,
		DefaultValue: str(d.DefaultValue), Value: str(d.DefaultValue), ValueOrigin: str(def)}
	if st != nil && st.last != nil {
		c.Value, c.ValueOrigin, c.UpdatedAt = str(st.last.value), str(over), str(sqldb.FormatTime(st.last.setAt))
	}
	if v.deployed > 0 {
		c.DeployedValue, c.DeployedValueOrigin = str(d.DefaultValue), str(def)
		if st != nil && st.deployed != nil {
			c.DeployedValue, c.DeployedValueOrigin = str(st.deployed.value), str(over)
		}
	}
	if d.IsSecret {
		c.DefaultValue, c.Value, c.DeployedValue = nil, nil, nil
		pending := st != nil && st.last != nil && (!v.applied || st.last.setAt.After(v.appliedStart))
		c.ValueSetAfterDeploy = &pending
	}
	return c
}

// --- PATCH ---

type genericPatchJSON struct {
	Key      *string `json:"key"`
	Value    *string `json:"value"`
	Filename *string `json:"filename"`
}

type elementPatchJSON struct {
	Key     *string            `json:"key"`
	Configs []genericPatchJSON `json:"configs"`
}

type libraryPatchJSON struct {
	Key                  *string            `json:"key"`
	Revision             *int               `json:"revision"`
	SystemConfigurations []genericPatchJSON `json:"systemConfigurations"`
	Settings             []genericPatchJSON `json:"settings"`
	Integrations         []elementPatchJSON `json:"integrations"`
}

type appConfigPatchJSON struct {
	Key                  *string            `json:"key"`
	RevisionBaseline     *int               `json:"revisionBaseline"`
	Settings             []genericPatchJSON `json:"settings"`
	Timers               []elementPatchJSON `json:"timers"`
	Integrations         []elementPatchJSON `json:"integrations"`
	Libraries            []libraryPatchJSON `json:"libraries"`
	SystemConfigurations []genericPatchJSON `json:"systemConfigurations"`
}

// pendingValue is one value a PATCH sets.
type pendingValue struct {
	library, element, config, value string
}

func (s *Service) handlePatchAppConfiguration(w http.ResponseWriter, r *http.Request, caller string) {
	var body appConfigPatchJSON
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	if err == nil {
		err = httpx.JSONEnd(dec)
	}
	if err != nil {
		s.fail(w, r, httpx.Invalidf(`Send an ApplicationConfigPatch JSON object like {"revisionBaseline": 1, "settings": [{"key": "...", "value": "..."}]}: %v.`, err))
		return
	}
	now := time.Now()
	err = s.db.Write(r.Context(), func(tx *sql.Tx) error {
		ctx := r.Context()
		stage, err := configStage(ctx, tx, r.PathValue("environmentKey"))
		if err != nil {
			return err
		}
		app, err := appByKey(ctx, tx, r.PathValue("applicationKey"))
		if err != nil {
			return err
		}
		if body.Key != nil && !strings.EqualFold(*body.Key, app.Key) {
			return httpx.Invalidf("key '%s' is not the key of application '%s' (%s) the path names.", *body.Key, app.latest().Name, app.Key)
		}
		n := 0
		if body.RevisionBaseline != nil {
			n = *body.RevisionBaseline
		} else if n, err = deployedRevision(ctx, tx, stage.Key, app.Key, now); err != nil {
			return err
		} else if n == 0 {
			return httpx.Invalidf("Application '%s' is not deployed in stage '%s': send revisionBaseline, the revision whose configuration you set.", app.latest().Name, stage.Name)
		}
		rev, err := revisionOf(ctx, tx, app, n)
		if err != nil {
			return httpx.Invalidf("revisionBaseline %d is not a revision of application '%s'.", n, app.latest().Name)
		}
		values, err := patchValues(ctx, tx, app, rev, body)
		if err != nil {
			return err
		}
		for _, v := range values {
			if _, err := tx.ExecContext(ctx, `INSERT INTO odc_config_values (environment_key, app_key, library_key, element_key, config_key, value, set_at, set_by)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, stage.Key, app.Key, v.library, v.element, v.config, v.value, nanos(now), caller); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// patchValues checks a PATCH against the revision's definitions (keys and
// types) and lists the values it sets. Messages never repeat a secret's
// value.
func patchValues(ctx context.Context, tx *sql.Tx, app *Asset, rev *Revision, body appConfigPatchJSON) ([]pendingValue, error) {
	if len(body.SystemConfigurations) > 0 {
		return nil, httpx.Invalidf("systemConfigurations: application '%s' (revision %d) defines no system configurations; stage-wide ones are set with default-system-configurations.", rev.Name, rev.Revision)
	}
	defs, err := loadDefinitions(ctx, tx, app.Key, rev.Revision)
	if err != nil {
		return nil, err
	}
	byKind := func(defs []configElement, kind string) map[string]configElement {
		out := map[string]configElement{}
		for _, d := range defs {
			if d.Kind == kind {
				out[d.Key] = d
			}
		}
		return out
	}
	var out []pendingValue
	seen := map[valueID]bool{}
	add := func(where, library string, d configElement, p genericPatchJSON) error {
		if p.Value == nil {
			return httpx.Invalidf("%s: value is required.", where)
		}
		if p.Filename != nil && d.DataType != "BinaryUrl" {
			return httpx.Invalidf("%s: filename is only for binary values; '%s' is a %s.", where, d.Name, d.DataType)
		}
		if why := checkElementValue(d, *p.Value); why != "" {
			if d.IsSecret {
				return httpx.Invalidf("%s: the value given for secret setting '%s' is not a valid %s: %s.", where, d.Name, d.DataType, why)
			}
			return httpx.Invalidf("%s: value '%s' of '%s' is not a valid %s: %s.", where, *p.Value, d.Name, d.DataType, why)
		}
		id := valueID{library, d.Key, configKeyOf(d.Kind)}
		if seen[id] {
			return httpx.Invalidf("%s: '%s' is sent twice.", where, d.Name)
		}
		seen[id] = true
		out = append(out, pendingValue{library: library, element: d.Key, config: id.config, value: *p.Value})
		return nil
	}
	settings := func(where, library, owner string, defs map[string]configElement, patches []genericPatchJSON) error {
		for i, p := range patches {
			w := fmt.Sprintf("%s[%d]", where, i)
			d, ok := defs[lowerKey(p.Key)]
			if !ok {
				return httpx.Invalidf("%s: key '%s' is not a setting of %s.", w, deref(p.Key), owner)
			}
			if err := add(w, library, d, p); err != nil {
				return err
			}
		}
		return nil
	}
	elements := func(where, kind, config string, defs map[string]configElement, patches []elementPatchJSON) error {
		for i, p := range patches {
			w := fmt.Sprintf("%s[%d]", where, i)
			d, ok := defs[lowerKey(p.Key)]
			if !ok {
				return httpx.Invalidf("%s: key '%s' is not a %s of '%s' revision %d.", w, deref(p.Key), strings.ToLower(kind), rev.Name, rev.Revision)
			}
			for j, c := range p.Configs {
				if deref(c.Key) != config {
					return httpx.Invalidf("%s.configs[%d]: key '%s' is not a configuration of %s '%s': use %s.", w, j, deref(c.Key), strings.ToLower(kind), d.Name, config)
				}
				if err := add(fmt.Sprintf("%s.configs[%d]", w, j), "", d, c); err != nil {
					return err
				}
			}
		}
		return nil
	}
	owner := fmt.Sprintf("'%s' revision %d", rev.Name, rev.Revision)
	if err := settings("settings", "", owner, byKind(defs, KindSetting), body.Settings); err != nil {
		return nil, err
	}
	if err := elements("timers", KindTimer, ConfigIsActive, byKind(defs, KindTimer), body.Timers); err != nil {
		return nil, err
	}
	if err := elements("integrations", KindIntegration, ConfigBaseURL, byKind(defs, KindIntegration), body.Integrations); err != nil {
		return nil, err
	}
	if len(body.Libraries) > 0 {
		libs, err := consumedLibraries(ctx, tx, rev)
		if err != nil {
			return nil, err
		}
		for i, lp := range body.Libraries {
			w := fmt.Sprintf("libraries[%d]", i)
			j := slices.IndexFunc(libs, func(l consumedLibrary) bool { return l.Asset.Key == lowerKey(lp.Key) })
			if j < 0 {
				return nil, httpx.Invalidf("%s: key '%s' is not a library %s consumes.", w, deref(lp.Key), owner)
			}
			l := libs[j]
			if lp.Revision != nil && *lp.Revision != l.Revision.Revision {
				return nil, httpx.Invalidf("%s: %s consumes revision %d of library '%s', not revision %d.", w, owner, l.Revision.Revision, l.Revision.Name, *lp.Revision)
			}
			if len(lp.SystemConfigurations) > 0 || len(lp.Integrations) > 0 {
				return nil, httpx.Invalidf("%s: library '%s' defines settings only.", w, l.Revision.Name)
			}
			libOwner := fmt.Sprintf("library '%s' revision %d", l.Revision.Name, l.Revision.Revision)
			if err := settings(w+".settings", l.Asset.Key, libOwner, byKind(l.Settings, KindSetting), lp.Settings); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func lowerKey(p *string) string { return strings.ToLower(strings.TrimSpace(deref(p))) }
