package sandbox

import (
	"context"
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
)

// Environment variables the provider reads for ODC, printed by Exports.
const (
	envODCPortalURL    = "OUTSYSTEMS_ODC_PORTAL_URL"
	envODCClientID     = "OUTSYSTEMS_ODC_CLIENT_ID"
	envODCClientSecret = "OUTSYSTEMS_ODC_CLIENT_SECRET"
)

// Defaults for the ODC options.
const (
	odcDefaultTokenTTL        = 12 * time.Hour
	odcDefaultPublishDuration = 3 * time.Second
)

// odcSettings is what the ODC handlers need besides the store.
type odcSettings struct {
	meta            odcMeta
	tokenTTL        time.Duration
	publishDuration time.Duration
	// exportClient is the API client Exports points the provider at: the
	// first one holding every permission, else the first one.
	exportClient *FixtureAPIClient
}

// newODCSettings creates and seeds the ODC tables and reads back what the
// handlers need.
func newODCSettings(ctx context.Context, st *store, f *ODCFixture, opts Options) (odcSettings, error) {
	meta, err := st.initODC(ctx, f)
	if err != nil {
		return odcSettings{}, err
	}
	clients, err := st.odcAPIClients(ctx)
	if err != nil {
		return odcSettings{}, err
	}
	o := odcSettings{meta: meta, tokenTTL: opts.TokenTTL, publishDuration: opts.PublishDuration}
	if o.tokenTTL <= 0 {
		o.tokenTTL = odcDefaultTokenTTL
	}
	if o.publishDuration <= 0 {
		o.publishDuration = odcDefaultPublishDuration
	}
	if i := slices.IndexFunc(clients, FixtureAPIClient.HasAllPermissions); i >= 0 {
		o.exportClient = &clients[i]
	} else if len(clients) > 0 {
		o.exportClient = &clients[0]
	}
	return o, nil
}

// odcExports returns the export lines for ODC: the portal URL once started,
// and the credentials of the export client.
func (s *Sandbox) odcExports() []string {
	var lines []string
	if u := s.URL(); u != "" {
		lines = append(lines, exportLine(envODCPortalURL, u))
	}
	if c := s.odc.exportClient; c != nil {
		lines = append(lines, exportLine(envODCClientID, c.ClientID), exportLine(envODCClientSecret, c.ClientSecret))
	}
	return lines
}

// --- errors ---

// odcProblem is an RFC 7807 ProblemDetails document, as the ODC APIs send.
type odcProblem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	TraceID   string `json:"traceId"`
	ErrorCode string `json:"errorCode"`
}

var odcProblemTypes = map[int]string{
	http.StatusBadRequest:          "https://tools.ietf.org/html/rfc9110#section-15.5.1",
	http.StatusUnauthorized:        "https://tools.ietf.org/html/rfc9110#section-15.5.2",
	http.StatusForbidden:           "https://tools.ietf.org/html/rfc9110#section-15.5.4",
	http.StatusNotFound:            "https://tools.ietf.org/html/rfc9110#section-15.5.5",
	http.StatusMethodNotAllowed:    "https://tools.ietf.org/html/rfc9110#section-15.5.6",
	http.StatusTooManyRequests:     "https://tools.ietf.org/html/rfc6585#section-4",
	http.StatusInternalServerError: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
}

// writeODCError answers with a ProblemDetails document. The OpenAPI
// documents declare it as application/json, so that is the content type.
func writeODCError(w http.ResponseWriter, status int, messages ...string) {
	typ, ok := odcProblemTypes[status]
	if !ok {
		typ = "about:blank"
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	writeJSON(w, status, odcProblem{
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
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// --- OpenID Connect discovery and the token endpoint ---

func (s *Sandbox) registerODCIdentity(mux *http.ServeMux) {
	route(mux, "/identity/.well-known/openid-configuration", map[string]http.HandlerFunc{http.MethodGet: s.odcDiscovery}, writeOAuthError)
	route(mux, "/identity/realms/{realm}/protocol/openid-connect/token", map[string]http.HandlerFunc{http.MethodPost: s.odcToken}, writeOAuthError)
	route(mux, "/identity/realms/{realm}/protocol/openid-connect/certs", map[string]http.HandlerFunc{http.MethodGet: s.odcCerts}, writeOAuthError)
}

// odcRequestBase is the sandbox's base URL as the caller reached it.
func odcRequestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Sandbox) odcRealmURL(r *http.Request) string {
	return odcRequestBase(r) + "/identity/realms/" + url.PathEscape(s.odc.meta.Organization)
}

type oidcConfiguration struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
}

// odcDiscovery serves the OpenID Connect discovery document, in the shape
// of the Keycloak realm ODC's identity service is.
func (s *Sandbox) odcDiscovery(w http.ResponseWriter, r *http.Request) {
	realm := s.odcRealmURL(r)
	writeJSON(w, http.StatusOK, oidcConfiguration{
		Issuer:                            realm,
		TokenEndpoint:                     realm + "/protocol/openid-connect/token",
		JWKSURI:                           realm + "/protocol/openid-connect/certs",
		GrantTypesSupported:               []string{"client_credentials"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_post", "client_secret_basic"},
		ResponseTypesSupported:            []string{"token"},
		SubjectTypesSupported:             []string{"public"},
	})
}

// odcCerts serves the realm's key set. Sandbox tokens are opaque, not
// signed JWTs, so it is empty.
func (s *Sandbox) odcCerts(w http.ResponseWriter, r *http.Request) {
	if !s.odcCheckRealm(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, map[string][]any{"keys": {}})
}

func (s *Sandbox) odcCheckRealm(w http.ResponseWriter, r *http.Request) bool {
	if realm := r.PathValue("realm"); realm != s.odc.meta.Organization || realm == "" {
		writeOAuth(w, http.StatusNotFound, "invalid_request", fmt.Sprintf("Realm '%s' does not exist.", realm))
		return false
	}
	return true
}

type odcTokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// odcToken issues access tokens for the client credentials grant. The
// client authenticates in the form (client_secret_post) or with HTTP Basic
// (client_secret_basic).
func (s *Sandbox) odcToken(w http.ResponseWriter, r *http.Request) {
	if !s.odcCheckRealm(w, r) {
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		writeOAuth(w, http.StatusBadRequest, "invalid_request", "Send the token request as application/x-www-form-urlencoded.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
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
	token, err := s.store.odcIssueToken(r.Context(), id, secret, s.odc.tokenTTL, time.Now())
	if errors.Is(err, errNotFound) {
		writeOAuth(w, http.StatusUnauthorized, "invalid_client", "Invalid client or Invalid client credentials")
		return
	}
	if err != nil {
		s.writeStoreError(w, r, err, writeOAuthError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, odcTokenResponse{AccessToken: token, ExpiresIn: int64(s.odc.tokenTTL / time.Second), TokenType: "Bearer"})
}

// --- authorization of API calls ---

// odcAuthorize admits an ODC API call: it answers 401 (ProblemDetails) for
// a missing, unknown or expired access token and 403 naming the API client
// and the permission when the client lacks permission (pass "" to require
// none). It returns the API client's name when the call may go on.
func (s *Sandbox) odcAuthorize(w http.ResponseWriter, r *http.Request, permission string) (clientName string, ok bool) {
	token, found := bearerToken(r)
	if !found {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ODC"`)
		writeODCError(w, http.StatusUnauthorized, "Authentication required: get an access token from the token endpoint with the API client's credentials and send it as 'Authorization: Bearer <token>'.")
		return "", false
	}
	client, err := s.store.odcCallerByToken(r.Context(), token, time.Now())
	switch {
	case errors.Is(err, errODCTokenExpired):
		w.Header().Set("WWW-Authenticate", `Bearer realm="ODC", error="invalid_token", error_description="The access token expired"`)
		writeODCError(w, http.StatusUnauthorized, "The access token expired: get a new one from the token endpoint.")
		return "", false
	case errors.Is(err, errNotFound):
		w.Header().Set("WWW-Authenticate", `Bearer realm="ODC", error="invalid_token"`)
		writeODCError(w, http.StatusUnauthorized, "Invalid access token.")
		return "", false
	case err != nil:
		s.writeStoreError(w, r, err, writeODCError)
		return "", false
	}
	if permission != "" && !slices.Contains(client.Permissions, permission) {
		writeODCError(w, http.StatusForbidden, fmt.Sprintf("API client '%s' does not have the %s permission, which %s %s needs. Grant it to the API client in the ODC Portal.",
			client.Name, odcPermissionHelp[permission], r.Method, r.URL.Path))
		return "", false
	}
	return client.Name, true
}
