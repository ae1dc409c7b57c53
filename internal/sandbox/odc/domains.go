package odc

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// --- environment configurations: a stage's custom domains ---
//
// The domains operations of the environment configurations API (whose
// whole API takes 10 requests a minute per organization: the kernel's
// rate limits enforce it). A custom domain maps a hostname the customer
// owns to a stage. Its certificate is Creating for a moment after the
// domain is added, then PendingValidation until the customer's DNS holds
// the validation CNAME (the sandbox has no DNS: ValidateDomain stands for
// it), then Active. A hostname maps to one stage of the organization at a
// time.

const envConfigBase = "/api/environment-configurations/v1"

// Certificate statuses (DomainCertificateStatus) and redirect options
// (RedirectOption) of the document.
const (
	CertificateCreating          = "Creating"
	CertificatePendingValidation = "PendingValidation"
	CertificateActive            = "Active"
	redirectPermanent            = "Permanent"
)

var redirectOptions = []string{redirectPermanent, "Temporary", "None"}

// builtinDomainSuffixes are the domains OutSystems provides; a custom
// domain cannot be one of their subdomains.
var builtinDomainSuffixes = []string{".outsystems.app", ".outsystems.dev", ".outsystemscloud.com"}

var hostnameLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// maxDomainName is the longest name a domain takes.
const maxDomainName = 100

type domainCertificateJSON struct {
	Status             string  `json:"status"`
	CNameKey           *string `json:"cNameKey"`
	CNameValue         *string `json:"cNameValue"`
	RenewalEligibility bool    `json:"renewalEligibility"`
	StatusErrorCode    *string `json:"statusErrorCode"`
	StatusErrorMessage *string `json:"statusErrorMessage"`
}

// domainJSON is the Domain of the document.
type domainJSON struct {
	ID                    string                `json:"id"`
	Name                  string                `json:"name"`
	Hostname              string                `json:"hostname"`
	CNameValue            string                `json:"cNameValue"`
	BuiltIn               bool                  `json:"builtIn"`
	Certificate           domainCertificateJSON `json:"certificate"`
	IsDefault             bool                  `json:"isDefault"`
	DefaultApplicationKey *string               `json:"defaultApplicationKey"`
	RedirectOption        string                `json:"redirectOption"`
}

// Domain is a custom domain as the store keeps it.
type Domain struct {
	Key, StageKey, Hostname, Name string
	CNameValue                    string
	CertCNameKey, CertCNameValue  string
	DefaultAppKey                 *string
	RedirectOption                string
	CreatedAt                     time.Time
	ValidatedAt                   *time.Time
}

// certificateStatus is the certificate's status at now.
func (d *Domain) certificateStatus(now time.Time, creating time.Duration) string {
	switch {
	case d.ValidatedAt != nil:
		return CertificateActive
	case now.Before(d.CreatedAt.Add(creating)):
		return CertificateCreating
	default:
		return CertificatePendingValidation
	}
}

func (s *Service) domainJSON(d *Domain, now time.Time) domainJSON {
	status := d.certificateStatus(now, s.publishDuration)
	out := domainJSON{ID: d.Key, Name: d.Name, Hostname: d.Hostname, CNameValue: d.CNameValue,
		DefaultApplicationKey: d.DefaultAppKey, RedirectOption: d.RedirectOption,
		Certificate: domainCertificateJSON{Status: status, RenewalEligibility: status == CertificateActive}}
	if status != CertificateCreating {
		out.Certificate.CNameKey, out.Certificate.CNameValue = str(d.CertCNameKey), str(d.CertCNameValue)
	}
	return out
}

func (s *Service) registerDomains(mux *http.ServeMux) {
	view := func(h handler) http.HandlerFunc { return s.api(fixture.PermissionViewConfigurations, h) }
	manage := func(h handler) http.HandlerFunc { return s.api(fixture.PermissionManageDomains, h) }
	domains := envConfigBase + "/environments/{environmentKey}/domains"
	s.route(mux, domains, map[string]http.HandlerFunc{
		http.MethodGet:  view(s.listDomains),
		http.MethodPost: manage(s.createDomain),
	})
	s.route(mux, domains+"/{domainKey}", map[string]http.HandlerFunc{
		http.MethodGet:    view(s.getDomain),
		http.MethodPatch:  manage(s.patchDomain),
		http.MethodDelete: manage(s.deleteDomain),
	})
}

const domainColumns = `key, environment_key, hostname, name, cname_value, cert_cname_key, cert_cname_value, default_app_key, redirect_option, created_at, validated_at`

func queryDomains(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]*Domain, error) {
	var out []*Domain
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		var d Domain
		var created int64
		var validated sql.NullInt64
		if err := rows.Scan(&d.Key, &d.StageKey, &d.Hostname, &d.Name, &d.CNameValue, &d.CertCNameKey, &d.CertCNameValue,
			&d.DefaultAppKey, &d.RedirectOption, &created, &validated); err != nil {
			return err
		}
		d.CreatedAt = fromNanos(created)
		if validated.Valid {
			t := fromNanos(validated.Int64)
			d.ValidatedAt = &t
		}
		out = append(out, &d)
		return nil
	}, `SELECT `+domainColumns+` FROM odc_domains WHERE `+where, args...)
	return out, err
}

// domainParam reads the domain of the path in the stage of the path.
func domainParam(ctx context.Context, tx *sql.Tx, r *http.Request) (*Domain, error) {
	st, err := stageParam(ctx, tx, r)
	if err != nil {
		return nil, err
	}
	raw := r.PathValue("domainKey")
	notFound := httpx.NotFoundf("Domain with key '%s' was not found in stage '%s'.", raw, st.Name)
	key, err := httpx.ParseKey("domainKey", raw)
	if err != nil {
		return nil, notFound
	}
	ds, err := queryDomains(ctx, tx, `key = ? AND environment_key = ?`, key, st.Key)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, notFound
	}
	return ds[0], nil
}

func (s *Service) listDomains(w http.ResponseWriter, r *http.Request, _ string) {
	p, err := parsePaging(r.URL.Query(), MaxLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var ds []*Domain
	var total int
	ok := s.read(w, r, func(ctx context.Context, tx *sql.Tx) error {
		st, err := stageParam(ctx, tx, r)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM odc_domains WHERE environment_key = ?`, st.Key).Scan(&total); err != nil {
			return err
		}
		ds, err = queryDomains(ctx, tx, `environment_key = ? ORDER BY seq LIMIT ? OFFSET ?`, st.Key, p.limit, p.offset)
		return err
	})
	if !ok {
		return
	}
	now := time.Now()
	results := make([]domainJSON, 0, len(ds))
	for _, d := range ds {
		results = append(results, s.domainJSON(d, now))
	}
	var next *int
	if end := p.offset + len(ds); end < total {
		next = &end
	}
	httpx.WriteJSON(w, http.StatusOK, pagedList[domainJSON]{Results: results, Page: totalsPage(len(results), total, p, next)})
}

func (s *Service) getDomain(w http.ResponseWriter, r *http.Request, _ string) {
	var d *Domain
	ok := s.read(w, r, func(ctx context.Context, tx *sql.Tx) (err error) {
		d, err = domainParam(ctx, tx, r)
		return err
	})
	if ok {
		httpx.WriteJSON(w, http.StatusOK, s.domainJSON(d, time.Now()))
	}
}

// decodeStrict reads a JSON object body, refusing unknown fields.
func decodeStrict(w http.ResponseWriter, r *http.Request, dst any, example string) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		err = httpx.JSONEnd(dec)
	}
	if err != nil {
		return httpx.Invalidf("Send a JSON object like %s: %v.", example, err)
	}
	return nil
}

type domainRequest struct {
	Hostname *string `json:"hostname"`
	Name     *string `json:"name"`
}

// CheckHostname reports why a hostname cannot be a custom domain, or nil.
func CheckHostname(h string) error {
	switch {
	case h == "":
		return httpx.Invalidf("hostname is required: the fully qualified name of a host you own, like app.example.com.")
	case len(h) > 253:
		return httpx.Invalidf("Hostname '%s' is longer than 253 characters.", h)
	case strings.ToLower(h) != h:
		return httpx.Invalidf("Hostname '%s' has upper-case letters: write it in lower case ('%s').", h, strings.ToLower(h))
	case strings.HasPrefix(h, "*."):
		return httpx.Invalidf("Hostname '%s' is a wildcard: a custom domain names one host.", h)
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return httpx.Invalidf("Hostname '%s' is not fully qualified: write it with its domain, like app.example.com.", h)
	}
	for _, l := range labels {
		if !hostnameLabel.MatchString(l) {
			return httpx.Invalidf("Hostname '%s' is not valid: each dot-separated label takes 1 to 63 letters, digits and inner hyphens ('%s' does not).", h, l)
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return httpx.Invalidf("Hostname '%s' is an IP address or ends in a numeric label: use a DNS name.", h)
	}
	for _, suffix := range builtinDomainSuffixes {
		if strings.HasSuffix(h, suffix) || h == suffix[1:] {
			return httpx.Invalidf("Hostname '%s' is under '%s', a domain OutSystems provides: a custom domain must be one you own.", h, suffix[1:])
		}
	}
	return nil
}

func (s *Service) createDomain(w http.ResponseWriter, r *http.Request, _ string) {
	var body domainRequest
	if err := decodeStrict(w, r, &body, `{"hostname": "app.example.com", "name": "Customer portal"}`); err != nil {
		s.fail(w, r, err)
		return
	}
	var hostname, name string
	if body.Hostname != nil {
		hostname = *body.Hostname
	}
	if err := CheckHostname(hostname); err != nil {
		s.fail(w, r, err)
		return
	}
	name = hostname
	if body.Name != nil && strings.TrimSpace(*body.Name) != "" {
		name = *body.Name
	}
	if len(name) > maxDomainName {
		s.fail(w, r, httpx.Invalidf("Domain name takes at most %d characters (got %d).", maxDomainName, len(name)))
		return
	}
	now := time.Now()
	var d *Domain
	err := s.db.Write(r.Context(), func(tx *sql.Tx) error {
		ctx := r.Context()
		st, err := stageParam(ctx, tx, r)
		if err != nil {
			return err
		}
		var other string
		err = tx.QueryRowContext(ctx, `SELECT s.name FROM odc_domains d JOIN odc_stages s ON s.key = d.environment_key WHERE d.hostname = ?`, hostname).Scan(&other)
		if err == nil {
			return httpx.Conflictf("Hostname '%s' is already a custom domain of stage '%s': remove it there first.", hostname, other)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		sum := sha256.Sum256([]byte(hostname + "/" + st.Key))
		token := hex.EncodeToString(sum[:10])
		d = &Domain{Key: uuid.NewString(), StageKey: st.Key, Hostname: hostname, Name: name,
			CNameValue:     strings.ToLower(s.meta.Organization) + "-" + slug(st.Name) + ".outsystems.app",
			CertCNameKey:   "_" + token + "." + hostname,
			CertCNameValue: "_" + token + ".validation.outsystems.app",
			RedirectOption: redirectPermanent, CreatedAt: now}
		_, err = tx.ExecContext(ctx, `INSERT INTO odc_domains (key, environment_key, hostname, name, cname_value, cert_cname_key, cert_cname_value, redirect_option, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.Key, d.StageKey, d.Hostname, d.Name, d.CNameValue, d.CertCNameKey, d.CertCNameValue, d.RedirectOption, nanos(now))
		return err
	})
	if errors.Is(err, httpx.ErrConflict) {
		WriteProblem(w, http.StatusConflict, err.Error())
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", envConfigBase+"/environments/"+d.StageKey+"/domains/"+d.Key)
	httpx.WriteJSON(w, http.StatusCreated, s.domainJSON(d, now))
}

// domainPatchRequest is the DomainPatchRequest: both fields are always
// taken, as the service's model binding does. A missing or null
// defaultApplicationKey clears the default app; a missing redirectOption
// is Permanent, the document's default.
type domainPatchRequest struct {
	DefaultApplicationKey *string `json:"defaultApplicationKey"`
	RedirectOption        *string `json:"redirectOption"`
}

type domainPatchResponse struct {
	Domain domainJSON `json:"domain"`
}

func (s *Service) patchDomain(w http.ResponseWriter, r *http.Request, _ string) {
	var body domainPatchRequest
	if err := decodeStrict(w, r, &body, `{"defaultApplicationKey": "...", "redirectOption": "Permanent"}`); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect := redirectPermanent
	if body.RedirectOption != nil {
		redirect = *body.RedirectOption
		if !slices.Contains(redirectOptions, redirect) {
			s.fail(w, r, httpx.Invalidf("Unknown redirectOption '%s': use Permanent, Temporary or None.", redirect))
			return
		}
	}
	var appKey *string
	if body.DefaultApplicationKey != nil {
		k, err := httpx.ParseKey("defaultApplicationKey", *body.DefaultApplicationKey)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		appKey = &k
	}
	now := time.Now()
	var d *Domain
	err := s.db.Write(r.Context(), func(tx *sql.Tx) error {
		ctx := r.Context()
		var err error
		if d, err = domainParam(ctx, tx, r); err != nil {
			return err
		}
		if appKey != nil {
			if err := checkDefaultApp(ctx, tx, *appKey, d.StageKey, now); err != nil {
				return err
			}
		}
		d.DefaultAppKey, d.RedirectOption = appKey, redirect
		_, err = tx.ExecContext(ctx, `UPDATE odc_domains SET default_app_key = ?, redirect_option = ? WHERE key = ?`, appKey, redirect, d.Key)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, domainPatchResponse{Domain: s.domainJSON(d, now)})
}

// checkDefaultApp admits an app as a domain's default: an app (no
// library) deployed in the domain's stage.
func checkDefaultApp(ctx context.Context, tx *sql.Tx, appKey, stageKey string, now time.Time) error {
	a, err := findAsset(ctx, tx, appKey)
	if err != nil {
		return err
	}
	if a == nil {
		return httpx.Invalidf("defaultApplicationKey '%s' is no asset of the organization.", appKey)
	}
	if a.AssetType == AssetTypeLibrary {
		return httpx.Invalidf("defaultApplicationKey '%s' is a library (%s): a domain's default must be an app.", appKey, a.Latest.Name)
	}
	op, err := deployedOp(ctx, tx, stageKey, appKey, now)
	if err != nil {
		return err
	}
	if op == nil {
		return httpx.Invalidf("App '%s' (%s) is not deployed in the domain's stage: deploy it there first.", a.Latest.Name, appKey)
	}
	return nil
}

func (s *Service) deleteDomain(w http.ResponseWriter, r *http.Request, _ string) {
	err := s.db.Write(r.Context(), func(tx *sql.Tx) error {
		d, err := domainParam(r.Context(), tx, r)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(r.Context(), `DELETE FROM odc_domains WHERE key = ?`, d.Key)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ValidateDomain stands for the customer's DNS holding the certificate's
// validation CNAME: the domain's certificate becomes Active. It reports
// whether the hostname is a custom domain.
func (s *Service) ValidateDomain(ctx context.Context, hostname string) (bool, error) {
	var n int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE odc_domains SET validated_at = ? WHERE hostname = ? AND validated_at IS NULL`, nanos(time.Now()), hostname)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// DomainsOf lists the hostnames of a stage's custom domains, for tests that
// check what a run left.
func (s *Service) DomainsOf(ctx context.Context, stageKey string) ([]string, error) {
	var out []string
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		return sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var h string
			err := rows.Scan(&h)
			out = append(out, h)
			return err
		}, `SELECT hostname FROM odc_domains WHERE environment_key = ? ORDER BY seq`, strings.ToLower(stageKey))
	})
	return out, err
}
