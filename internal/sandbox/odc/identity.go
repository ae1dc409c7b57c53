package odc

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// Environment variables the provider reads for ODC, printed by Exports.
const (
	EnvPortalURL    = "OUTSYSTEMS_ODC_PORTAL_URL"
	EnvClientID     = "OUTSYSTEMS_ODC_CLIENT_ID"
	EnvClientSecret = "OUTSYSTEMS_ODC_CLIENT_SECRET"
)

// Exports returns the shell lines pointing the provider at ODC: the portal
// URL once started ("" before), and the credentials of the export client
// (the first API client holding every permission, else the first one).
// line formats one variable.
func (s *Service) Exports(portalURL string, line func(name, value string) string) []string {
	var lines []string
	if portalURL != "" {
		lines = append(lines, line(EnvPortalURL, portalURL))
	}
	if c := s.exportClient; c != nil {
		lines = append(lines, line(EnvClientID, c.ClientID), line(EnvClientSecret, c.ClientSecret))
	}
	return lines
}

// --- errors ---

// Problem is an RFC 7807 ProblemDetails document, as the ODC APIs send.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	TraceID   string `json:"traceId"`
	ErrorCode string `json:"errorCode"`
}

var problemTypes = map[int]string{
	http.StatusBadRequest:          "https://tools.ietf.org/html/rfc9110#section-15.5.1",
	http.StatusUnauthorized:        "https://tools.ietf.org/html/rfc9110#section-15.5.2",
	http.StatusForbidden:           "https://tools.ietf.org/html/rfc9110#section-15.5.4",
	http.StatusNotFound:            "https://tools.ietf.org/html/rfc9110#section-15.5.5",
	http.StatusMethodNotAllowed:    "https://tools.ietf.org/html/rfc9110#section-15.5.6",
	http.StatusTooManyRequests:     "https://tools.ietf.org/html/rfc6585#section-4",
	http.StatusInternalServerError: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
	http.StatusBadGateway:          "https://tools.ietf.org/html/rfc9110#section-15.6.3",
	http.StatusServiceUnavailable:  "https://tools.ietf.org/html/rfc9110#section-15.6.4",
}

// WriteProblem answers with a ProblemDetails document. The OpenAPI
// documents declare it as application/json, so that is the content type.
func WriteProblem(w http.ResponseWriter, status int, messages ...string) {
	typ, ok := problemTypes[status]
	if !ok {
		typ = "about:blank"
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	httpx.WriteJSON(w, status, Problem{
		Type: typ, Title: http.StatusText(status), Status: status, Detail: strings.Join(messages, " "),
		TraceID: hex.EncodeToString(id[:]), ErrorCode: fmt.Sprintf("SANDBOX-%d", status),
	})
}

// writeOAuthError answers in the OAuth 2.0 error shape of the token
// endpoint: {"error":"...","error_description":"..."}.
func writeOAuthError(w http.ResponseWriter, status int, messages ...string) {
	code := "invalid_request"
	if status == http.StatusUnauthorized {
		code = "invalid_client"
	}
	writeOAuth(w, status, code, strings.Join(messages, " "))
}

func writeOAuth(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// --- OpenID Connect discovery and the token endpoint ---

func (s *Service) registerIdentity(mux *http.ServeMux) {
	httpx.Route(mux, "/identity/.well-known/openid-configuration", map[string]http.HandlerFunc{http.MethodGet: s.discovery}, writeOAuthError)
	httpx.Route(mux, "/identity/realms/{realm}/protocol/openid-connect/token", map[string]http.HandlerFunc{http.MethodPost: s.token}, writeOAuthError)
	httpx.Route(mux, "/identity/realms/{realm}/protocol/openid-connect/certs", map[string]http.HandlerFunc{http.MethodGet: s.certs}, writeOAuthError)
}

// requestBase is the sandbox's base URL as the caller reached it.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Service) realmURL(r *http.Request) string {
	return requestBase(r) + "/identity/realms/" + url.PathEscape(s.meta.Organization)
}

type oidcConfiguration struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	// ScopesSupported: OpenID Connect discovery lists "openid" whenever it
	// lists scopes; ODC's API clients ask for none (odc-apis.md), so the
	// realm publishes no others.
	ScopesSupported []string `json:"scopes_supported"`
}

// discovery serves the OpenID Connect discovery document, in the shape
// of the Keycloak realm ODC's identity service is.
func (s *Service) discovery(w http.ResponseWriter, r *http.Request) {
	realm := s.realmURL(r)
	httpx.WriteJSON(w, http.StatusOK, oidcConfiguration{
		Issuer:                            realm,
		TokenEndpoint:                     realm + "/protocol/openid-connect/token",
		JWKSURI:                           realm + "/protocol/openid-connect/certs",
		GrantTypesSupported:               []string{"client_credentials"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "client_secret_basic"},
		ResponseTypesSupported:            []string{"token"},
		SubjectTypesSupported:             []string{"public"},
		ScopesSupported:                   []string{"openid"},
	})
}

// certs serves the realm's key set. Sandbox tokens are opaque, not
// signed JWTs, so it is empty.
func (s *Service) certs(w http.ResponseWriter, r *http.Request) {
	if !s.checkRealm(w, r) {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string][]any{"keys": {}})
}

func (s *Service) checkRealm(w http.ResponseWriter, r *http.Request) bool {
	if realm := r.PathValue("realm"); realm != s.meta.Organization || realm == "" {
		writeOAuth(w, http.StatusNotFound, "invalid_request", fmt.Sprintf("Realm '%s' does not exist.", realm))
		return false
	}
	return true
}

// TokenResponse is the token endpoint's answer to a client credentials
// grant.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// token issues access tokens for the client credentials grant. The
// client authenticates in the form (client_secret_post) or with HTTP Basic
// (client_secret_basic).
func (s *Service) token(w http.ResponseWriter, r *http.Request) {
	if !s.checkRealm(w, r) {
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		writeOAuth(w, http.StatusBadRequest, "invalid_request", "Send the token request as application/x-www-form-urlencoded.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		writeOAuth(w, http.StatusBadRequest, "invalid_request", "The token request body is not a valid form.")
		return
	}
	switch grant := r.PostForm.Get("grant_type"); grant {
	case "client_credentials":
	case "":
		writeOAuth(w, http.StatusBadRequest, "invalid_request", "Missing form parameter: grant_type")
		return
	default:
		writeOAuth(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("Unsupported grant_type '%s': API clients use client_credentials.", grant))
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if basicID, basicSecret, ok := r.BasicAuth(); ok && id == "" {
		id, secret = basicID, basicSecret
	}
	if id == "" || secret == "" {
		writeOAuth(w, http.StatusUnauthorized, "invalid_client", "Client authentication is required: send client_id and client_secret.")
		return
	}
	token, err := s.issueToken(r.Context(), id, secret, s.tokenTTL, time.Now())
	if errors.Is(err, httpx.ErrNotFound) {
		writeOAuth(w, http.StatusUnauthorized, "invalid_client", "Invalid client or Invalid client credentials")
		return
	}
	if err != nil {
		httpx.WriteStoreError(s.logger, w, r, err, writeOAuthError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	httpx.WriteJSON(w, http.StatusOK, TokenResponse{AccessToken: token, ExpiresIn: int64(s.tokenTTL / time.Second), TokenType: "Bearer"})
}

// --- authorization of API calls ---

// Authorize admits an ODC API call: it answers 401 (ProblemDetails) for
// a missing, unknown or expired access token and 403 naming the API client
// and the permission when the client lacks permission (pass "" to require
// none). It returns the API client's name when the call may go on.
func (s *Service) Authorize(w http.ResponseWriter, r *http.Request, permission string) (clientName string, ok bool) {
	token, found := httpx.BearerToken(r)
	if !found {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ODC"`)
		WriteProblem(w, http.StatusUnauthorized, "Authentication required: get an access token from the token endpoint with the API client's credentials and send it as 'Authorization: Bearer <token>'.")
		return "", false
	}
	client, err := s.callerByToken(r.Context(), token, time.Now())
	switch {
	case errors.Is(err, errTokenExpired):
		w.Header().Set("WWW-Authenticate", `Bearer realm="ODC", error="invalid_token", error_description="The access token expired"`)
		WriteProblem(w, http.StatusUnauthorized, "The access token expired: get a new one from the token endpoint.")
		return "", false
	case errors.Is(err, httpx.ErrNotFound):
		w.Header().Set("WWW-Authenticate", `Bearer realm="ODC", error="invalid_token"`)
		WriteProblem(w, http.StatusUnauthorized, "Invalid access token.")
		return "", false
	case err != nil:
		httpx.WriteStoreError(s.logger, w, r, err, WriteProblem)
		return "", false
	}
	if permission != "" && !slices.Contains(client.Permissions, permission) {
		WriteProblem(w, http.StatusForbidden, fmt.Sprintf("API client '%s' does not have the %s permission, which %s %s needs. Grant it to the API client in the ODC Portal.",
			client.Name, fixture.PermissionHelp[permission], r.Method, r.URL.Path))
		return "", false
	}
	return client.Name, true
}
