package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// --- environment configurations v1: a stage's custom domains ---
//
// ODC allows the whole environment configurations API only 10 requests a
// minute per organization. The service's pacer gives it a pool of its own
// at that rate (see limiter.go), shared by every resource of a provider
// process, so an apply with many domains waits for its turn instead of
// drawing 429s; ListDomains reads 100 domains a request.

const odcEnvironmentConfigurations = "/api/environment-configurations/v1"

// Custom domain certificate statuses (DomainCertificateStatus) and
// redirect options (RedirectOption).
const (
	CertificateStatusActive            = "Active"
	CertificateStatusPendingValidation = "PendingValidation"
	RedirectPermanent                  = "Permanent"
	RedirectTemporary                  = "Temporary"
	RedirectNone                       = "None"
)

// RedirectOptions are the redirect options ODC documents.
var RedirectOptions = []string{RedirectPermanent, RedirectTemporary, RedirectNone}

// CustomDomain is a hostname mapped to a stage (Domain).
type CustomDomain struct {
	Key, Name, Hostname string
	// CNameValue is what the hostname's CNAME record must point to.
	CNameValue string
	BuiltIn    bool
	IsDefault  bool
	// DefaultApplicationKey is the app the domain opens ("" for none).
	DefaultApplicationKey string
	RedirectOption        string
	Certificate           DomainCertificate
}

// DomainCertificate is the certificate ODC issues for a custom domain;
// CNameKey and CNameValue are the DNS record that validates it.
type DomainCertificate struct {
	Status                              string
	CNameKey, CNameValue                string
	RenewalEligibility                  bool
	StatusErrorCode, StatusErrorMessage string
}

type odcCustomDomain struct {
	ID                    *string `json:"id"`
	Name                  *string `json:"name"`
	Hostname              *string `json:"hostname"`
	CNameValue            *string `json:"cNameValue"`
	BuiltIn               bool    `json:"builtIn"`
	IsDefault             bool    `json:"isDefault"`
	DefaultApplicationKey *string `json:"defaultApplicationKey"`
	RedirectOption        *string `json:"redirectOption"`
	Certificate           *struct {
		Status             *string `json:"status"`
		CNameKey           *string `json:"cNameKey"`
		CNameValue         *string `json:"cNameValue"`
		RenewalEligibility bool    `json:"renewalEligibility"`
		StatusErrorCode    *string `json:"statusErrorCode"`
		StatusErrorMessage *string `json:"statusErrorMessage"`
	} `json:"certificate"`
}

func (w odcCustomDomain) domain() CustomDomain {
	d := CustomDomain{Key: strings.ToLower(str(w.ID)), Name: str(w.Name), Hostname: str(w.Hostname), CNameValue: str(w.CNameValue),
		BuiltIn: w.BuiltIn, IsDefault: w.IsDefault, DefaultApplicationKey: strings.ToLower(str(w.DefaultApplicationKey)),
		RedirectOption: str(w.RedirectOption)}
	if c := w.Certificate; c != nil {
		d.Certificate = DomainCertificate{Status: str(c.Status), CNameKey: str(c.CNameKey), CNameValue: str(c.CNameValue),
			RenewalEligibility: c.RenewalEligibility, StatusErrorCode: str(c.StatusErrorCode), StatusErrorMessage: str(c.StatusErrorMessage)}
	}
	return d
}

func domainsPath(environmentKey string) string {
	return pathf(odcEnvironmentConfigurations+"/environments/%s/domains", environmentKey)
}

func domainPath(environmentKey, domainKey string) string {
	return pathf(odcEnvironmentConfigurations+"/environments/%s/domains/%s", environmentKey, domainKey)
}

// ListDomains lists a stage's domains, every page (Configuration
// management > View configurations).
func (c *ODC) ListDomains(ctx context.Context, environmentKey string) ([]CustomDomain, error) {
	ws, err := listAll[odcCustomDomain](ctx, c, domainsPath(environmentKey), nil)
	if err != nil {
		return nil, err
	}
	out := make([]CustomDomain, len(ws))
	for i, w := range ws {
		out[i] = w.domain()
	}
	return out, nil
}

// GetDomain reads one domain of a stage; a domain that is not there is an
// *APIError with status 404.
func (c *ODC) GetDomain(ctx context.Context, environmentKey, domainKey string) (*CustomDomain, error) {
	var w odcCustomDomain
	if err := c.get(ctx, domainPath(environmentKey, domainKey), nil, &w); err != nil {
		return nil, err
	}
	d := w.domain()
	return &d, nil
}

// CreateDomain maps a hostname to a stage (Configuration management >
// Manage domains); name "" lets ODC name it. Creating is not idempotent:
// when the answer may have been lost after ODC acted, the stage's domains
// are searched for the hostname before the error is reported.
func (c *ODC) CreateDomain(ctx context.Context, environmentKey, hostname, name string) (*CustomDomain, error) {
	body := map[string]any{"hostname": hostname}
	if name != "" {
		body["name"] = name
	}
	r := request{method: http.MethodPost, path: domainsPath(environmentKey), body: body}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		if IsAmbiguous(err) {
			if d, found := c.findDomain(ctx, environmentKey, hostname); found {
				return d, nil
			}
		}
		return nil, err
	}
	var w odcCustomDomain
	if err := decodeJSON(c.s.name, r, resp, &w); err != nil {
		return nil, err
	}
	d := w.domain()
	return &d, nil
}

func (c *ODC) findDomain(ctx context.Context, environmentKey, hostname string) (*CustomDomain, bool) {
	ds, err := c.ListDomains(ctx, environmentKey)
	if err != nil {
		return nil, false
	}
	for i := range ds {
		if strings.EqualFold(ds[i].Hostname, hostname) {
			return &ds[i], true
		}
	}
	return nil, false
}

// UpdateDomain sets a domain's default app (defaultApplicationKey "" for
// none) and redirect option ("" for ODC's default, Permanent). ODC takes
// both on every call, so both are always sent, and the call is retried
// like a read.
func (c *ODC) UpdateDomain(ctx context.Context, environmentKey, domainKey, defaultApplicationKey, redirectOption string) (*CustomDomain, error) {
	body := map[string]any{"defaultApplicationKey": nil}
	if defaultApplicationKey != "" {
		body["defaultApplicationKey"] = defaultApplicationKey
	}
	if redirectOption != "" {
		body["redirectOption"] = redirectOption
	}
	r := request{method: http.MethodPatch, path: domainPath(environmentKey, domainKey), body: body, idempotent: true}
	resp, err := c.s.do(ctx, r)
	if err != nil {
		return nil, err
	}
	var w struct {
		Domain *odcCustomDomain `json:"domain"`
	}
	if err := decodeJSON(c.s.name, r, resp, &w); err != nil {
		return nil, err
	}
	if w.Domain == nil {
		return nil, errors.New("ODC answered the domain's PATCH without the domain")
	}
	d := w.Domain.domain()
	return &d, nil
}

// DeleteDomain removes a domain from a stage; one already gone is not an
// error.
func (c *ODC) DeleteDomain(ctx context.Context, environmentKey, domainKey string) error {
	_, err := c.s.do(ctx, request{method: http.MethodDelete, path: domainPath(environmentKey, domainKey), idempotent: true})
	if IsNotFound(err) {
		return nil
	}
	return err
}
