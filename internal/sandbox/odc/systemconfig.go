package odc

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// --- asset configurations: a stage's default system configurations ---
//
// GET and PATCH /environments/{environmentKey}/default-system-configurations
// of the asset configurations API. The document does not enumerate the
// configurations; the sandbox serves the email (SMTP) ones the migration
// guide names, and a time zone default, each with the GenericConfigResult
// fields. Values set per stage are rows of odc_system_config_values; a
// configuration without a row has its default. A secret (the SMTP password)
// is never returned: value, deployedValue and defaultValue are null and
// valueSetAfterDeploy and updatedAt tell whether it was set.

// stageConfigSchema holds what the stage-wide configurations keep: values
// set per stage (systemconfig.go) and custom domains (domains.go).
const stageConfigSchema = `
CREATE TABLE IF NOT EXISTS odc_system_config_values (
	environment_key TEXT NOT NULL REFERENCES odc_stages (key),
	config_key      TEXT NOT NULL,
	value           TEXT NOT NULL,
	filename        TEXT,
	updated_at      INTEGER NOT NULL,
	updated_by      TEXT NOT NULL,
	PRIMARY KEY (environment_key, config_key)
);
CREATE TABLE IF NOT EXISTS odc_domains (
	seq              INTEGER PRIMARY KEY,
	key              TEXT NOT NULL UNIQUE,
	environment_key  TEXT NOT NULL REFERENCES odc_stages (key),
	hostname         TEXT NOT NULL UNIQUE,
	name             TEXT NOT NULL,
	cname_value      TEXT NOT NULL,
	cert_cname_key   TEXT NOT NULL,
	cert_cname_value TEXT NOT NULL,
	default_app_key  TEXT,
	redirect_option  TEXT NOT NULL CHECK (redirect_option IN ('Permanent', 'Temporary', 'None')),
	created_at       INTEGER NOT NULL,
	validated_at     INTEGER
);
CREATE INDEX IF NOT EXISTS odc_domains_by_stage ON odc_domains (environment_key, seq);
`

// Value origins of the asset configurations API (Origin).
const (
	originEnvironmentOverride = "EnvironmentLevelOverride"
	originEnvironmentDefault  = "EnvironmentLevelDefault"
)

// SystemConfig is one default system configuration a stage has.
type SystemConfig struct {
	Name, Description, DataType string
	// Default is the value a stage has until one is set ("" for none).
	Default string
	Secret  bool
	// SMTP configurations need Manage Email SMTP configuration to change.
	SMTP bool
}

// Key is the configuration's key, the same in every stage.
func (c SystemConfig) Key() string { return sqldb.DerivedKey("odc-system-configuration", c.Name) }

// SystemConfigs are the default system configurations of every stage.
var SystemConfigs = []SystemConfig{
	{Name: "SMTPServer", Description: "Host name of the SMTP server apps send email through.", DataType: "Text", SMTP: true},
	{Name: "SMTPPort", Description: "Port of the SMTP server.", DataType: "Integer", Default: "587", SMTP: true},
	{Name: "SMTPUsername", Description: "User name apps authenticate to the SMTP server with.", DataType: "Text", SMTP: true},
	{Name: "SMTPPassword", Description: "Password apps authenticate to the SMTP server with.", DataType: "Text", Secret: true, SMTP: true},
	{Name: "SMTPUseTLS", Description: "Whether connections to the SMTP server use TLS.", DataType: "Boolean", Default: "True", SMTP: true},
	{Name: "EmailSenderAddress", Description: "Address email is sent from when an app sets none.", DataType: "Email", SMTP: true},
	{Name: "DefaultTimeZone", Description: "IANA time zone apps use when a user has none.", DataType: "Text", Default: "UTC"},
}

func systemConfigByKey(key string) (SystemConfig, bool) {
	for _, c := range SystemConfigs {
		if strings.EqualFold(c.Key(), key) {
			return c, true
		}
	}
	return SystemConfig{}, false
}

// genericConfigResult is the GenericConfigResult of the asset
// configurations API.
type genericConfigResult struct {
	Key                 string  `json:"key"`
	Name                string  `json:"name"`
	Description         string  `json:"description"`
	DataType            string  `json:"dataType"`
	DefaultValue        *string `json:"defaultValue"`
	DeployedValue       *string `json:"deployedValue"`
	Value               *string `json:"value"`
	ValueOrigin         string  `json:"valueOrigin"`
	DeployedValueOrigin string  `json:"deployedValueOrigin"`
	IsSecret            bool    `json:"isSecret"`
	ValueSetAfterDeploy *bool   `json:"valueSetAfterDeploy"`
	UpdatedAt           *string `json:"updatedAt"`
	Filename            *string `json:"filename"`
}

type environmentConfigResult struct {
	SystemConfigurations []genericConfigResult `json:"systemConfigurations"`
}

// systemConfigValue is a value set in a stage.
type systemConfigValue struct {
	value     string
	filename  *string
	updatedAt time.Time
}

func (s *Service) registerSystemConfigurations(mux *http.ServeMux) {
	s.route(mux, assetConfigBase+"/environments/{environmentKey}/default-system-configurations", map[string]http.HandlerFunc{
		http.MethodGet:   s.api(fixture.PermissionViewConfigurations, s.getSystemConfigurations),
		http.MethodPatch: s.api(fixture.PermissionEditConfigurations, s.patchSystemConfigurations),
	})
}

// stageParam reads the environmentKey path parameter of a stage that exists.
func stageParam(ctx context.Context, tx *sql.Tx, r *http.Request) (Stage, error) {
	raw := r.PathValue("environmentKey")
	key, err := httpx.ParseKey("environmentKey", raw)
	if err != nil {
		// Any string is a valid path parameter; a key that is no GUID
		// names no stage.
		return Stage{}, httpx.NotFoundf("Stage (environment) with key '%s' was not found.", raw)
	}
	return loadStage(ctx, tx, key)
}

func (s *Service) getSystemConfigurations(w http.ResponseWriter, r *http.Request, _ string) {
	var out environmentConfigResult
	ok := s.read(w, r, func(ctx context.Context, tx *sql.Tx) error {
		st, err := stageParam(ctx, tx, r)
		if err != nil {
			return err
		}
		values, err := systemConfigValues(ctx, tx, st.Key)
		if err != nil {
			return err
		}
		out.SystemConfigurations = make([]genericConfigResult, 0, len(SystemConfigs))
		for _, c := range SystemConfigs {
			out.SystemConfigurations = append(out.SystemConfigurations, systemConfigJSON(c, values[c.Key()]))
		}
		return nil
	})
	if ok {
		httpx.WriteJSON(w, http.StatusOK, out)
	}
}

func systemConfigValues(ctx context.Context, tx *sql.Tx, stageKey string) (map[string]*systemConfigValue, error) {
	out := map[string]*systemConfigValue{}
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var key string
		var v systemConfigValue
		var at int64
		if err := rows.Scan(&key, &v.value, &v.filename, &at); err != nil {
			return err
		}
		v.updatedAt = fromNanos(at)
		out[key] = &v
		return nil
	}, `SELECT config_key, value, filename, updated_at FROM odc_system_config_values WHERE environment_key = ?`, stageKey)
	return out, err
}

// systemConfigJSON shows a configuration of a stage. Stage defaults take
// effect at once, so the deployed value is the value; a secret shows no
// value at all.
func systemConfigJSON(c SystemConfig, v *systemConfigValue) genericConfigResult {
	out := genericConfigResult{Key: c.Key(), Name: c.Name, Description: c.Description, DataType: c.DataType,
		IsSecret: c.Secret, ValueOrigin: originEnvironmentDefault}
	if !c.Secret {
		out.DefaultValue = str(c.Default)
		out.Value = str(c.Default)
	}
	if v != nil {
		out.ValueOrigin = originEnvironmentOverride
		out.UpdatedAt = str(sqldb.FormatTime(v.updatedAt))
		out.Filename = v.filename
		if !c.Secret {
			out.Value = str(v.value)
		}
	}
	out.DeployedValue, out.DeployedValueOrigin = out.Value, out.ValueOrigin
	if c.Secret {
		out.ValueSetAfterDeploy = boolPtr(v != nil)
	}
	return out
}

// genericConfigPatch is the GenericConfigPatch of the asset configurations
// API; value null resets the configuration to its default.
type genericConfigPatch struct {
	Key      *string `json:"key"`
	Value    *string `json:"value"`
	Filename *string `json:"filename"`
}

type environmentConfigPatch struct {
	SystemConfigurations []genericConfigPatch `json:"systemConfigurations"`
}

// patchSystemConfigurations changes the values sent, and only those; SMTP
// values need Manage Email SMTP configuration besides Edit configurations.
func (s *Service) patchSystemConfigurations(w http.ResponseWriter, r *http.Request, caller string) {
	var body environmentConfigPatch
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	if err == nil {
		err = httpx.JSONEnd(dec)
	}
	if err != nil {
		s.fail(w, r, httpx.Invalidf(`Send a JSON object like {"systemConfigurations": [{"key": "...", "value": "..."}]}: %v.`, err))
		return
	}
	type change struct {
		config SystemConfig
		patch  genericConfigPatch
	}
	var changes []change
	smtp := false
	for i, p := range body.SystemConfigurations {
		if p.Key == nil || *p.Key == "" {
			s.fail(w, r, httpx.Invalidf("systemConfigurations[%d].key is required.", i))
			return
		}
		c, found := systemConfigByKey(*p.Key)
		if !found {
			s.fail(w, r, httpx.NotFoundf("System configuration with key '%s' was not found.", *p.Key))
			return
		}
		if slices.ContainsFunc(changes, func(ch change) bool { return ch.config.Name == c.Name }) {
			s.fail(w, r, httpx.Invalidf("System configuration '%s' (key '%s') is sent more than once.", c.Name, c.Key()))
			return
		}
		if p.Value != nil {
			if err := checkConfigValue(c, *p.Value); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if p.Filename != nil && c.DataType != "BinaryUrl" {
			s.fail(w, r, httpx.Invalidf("System configuration '%s' is of type %s: only BinaryUrl values take a filename.", c.Name, c.DataType))
			return
		}
		smtp = smtp || c.SMTP
		changes = append(changes, change{c, p})
	}
	if smtp {
		if _, ok := s.Authorize(w, r, fixture.PermissionManageSMTP); !ok {
			return
		}
	}
	now := time.Now()
	err = s.db.Write(r.Context(), func(tx *sql.Tx) error {
		st, err := stageParam(r.Context(), tx, r)
		if err != nil {
			return err
		}
		for _, ch := range changes {
			if ch.patch.Value == nil {
				if _, err := tx.ExecContext(r.Context(), `DELETE FROM odc_system_config_values WHERE environment_key = ? AND config_key = ?`,
					st.Key, ch.config.Key()); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.ExecContext(r.Context(), `INSERT INTO odc_system_config_values (environment_key, config_key, value, filename, updated_at, updated_by)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (environment_key, config_key) DO UPDATE SET
				value = excluded.value, filename = excluded.filename, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
				st.Key, ch.config.Key(), *ch.patch.Value, ch.patch.Filename, nanos(now), caller); err != nil {
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

// checkConfigValue checks a value against the configuration's data type.
func checkConfigValue(c SystemConfig, v string) error {
	bad := func(want string) error {
		shown := v
		if c.Secret {
			shown = "(secret)"
		}
		return httpx.Invalidf("System configuration '%s' is of type %s: '%s' is not %s.", c.Name, c.DataType, shown, want)
	}
	switch c.DataType {
	case "Integer":
		if _, err := strconv.ParseInt(v, 10, 32); err != nil {
			return bad("a 32-bit integer")
		}
		if c.Name == "SMTPPort" {
			if n, _ := strconv.Atoi(v); n < 1 || n > 65535 {
				return bad("a port from 1 to 65535")
			}
		}
	case "Boolean":
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return bad("True or False")
		}
	case "Email":
		if v == "" {
			return nil
		}
		if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
			return bad("an email address like apps@example.com")
		}
	case "Text":
		if c.Name == "DefaultTimeZone" {
			if _, err := time.LoadLocation(v); err != nil || v == "" || v == "Local" {
				return bad("an IANA time zone like Europe/Lisbon")
			}
		}
	}
	if len(v) > 4000 {
		return httpx.Invalidf("System configuration '%s' takes at most 4000 characters (got %d).", c.Name, len(v))
	}
	return nil
}

// SystemConfigValue returns the value set for a configuration in a stage
// and when, for tests that check what a run left ("" and false: none set).
func (s *Service) SystemConfigValue(ctx context.Context, stageKey, name string) (string, time.Time, bool, error) {
	i := slices.IndexFunc(SystemConfigs, func(c SystemConfig) bool { return c.Name == name })
	if i < 0 {
		return "", time.Time{}, false, fmt.Errorf("no system configuration %q", name)
	}
	var value string
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT value, updated_at FROM odc_system_config_values WHERE environment_key = ? AND config_key = ?`,
		strings.ToLower(stageKey), SystemConfigs[i].Key()).Scan(&value, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, err
	}
	return value, fromNanos(at), true, nil
}

// registerStageConfigurations serves a stage's default system
// configurations and its custom domains.
func (s *Service) registerStageConfigurations(mux *http.ServeMux) {
	s.registerSystemConfigurations(mux)
	s.registerDomains(mux)
}
