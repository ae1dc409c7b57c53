package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// odcDiscoveryPath is where the portal publishes its OpenID Connect
// configuration; the token endpoint is read from it, never assumed.
const odcDiscoveryPath = "/identity/.well-known/openid-configuration"

// Token refresh policy: refresh this long before expiry, but never more than
// a tenth of the token's lifetime early.
const (
	odcRefreshMargin        = 5 * time.Minute
	odcDefaultTokenLifetime = 5 * time.Minute // when the server omits expires_in
)

// odcAuth gets access tokens with the OAuth 2.0 client credentials grant and
// caches one per client. Concurrent callers that need a new token share one
// token request. The secret and the tokens never appear in errors or logs:
// the token request body is not logged, and the identity service's errors
// show only the status and the OAuth error and description.
type odcAuth struct {
	idp          *service // discovery and token calls, unauthenticated
	clientID     string
	clientSecret string
	now          func() time.Time
	requests     atomic.Int64

	mu            sync.Mutex
	tokenEndpoint string
	token         string
	refreshAt     time.Time
	inflight      *odcTokenFetch
}

// odcTokenFetch is a token request in flight; done closes when it ends.
type odcTokenFetch struct {
	done chan struct{}
	err  error
}

func (a *odcAuth) authorize(ctx context.Context, req *http.Request) error {
	token, err := a.accessToken(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return nil
}

// invalidate drops the cached token after a 401, so the retry gets a new
// one. A token request already in flight will bring a fresh token anyway.
func (a *odcAuth) invalidate() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.inflight == nil {
		a.token = ""
	}
}

func (*odcAuth) refreshable() bool { return true }

// accessToken returns the cached token while it is fresh, and otherwise
// requests one, or waits for the request another caller started.
func (a *odcAuth) accessToken(ctx context.Context) (string, error) {
	for {
		a.mu.Lock()
		if a.token != "" && a.now().Before(a.refreshAt) {
			token := a.token
			a.mu.Unlock()
			return token, nil
		}
		if fetch := a.inflight; fetch != nil {
			a.mu.Unlock()
			select {
			case <-fetch.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			// A request cut short by its caller's context says nothing
			// about ours: try again.
			if fetch.err != nil && !errors.Is(fetch.err, context.Canceled) && !errors.Is(fetch.err, context.DeadlineExceeded) {
				return "", fetch.err
			}
			continue
		}
		fetch := &odcTokenFetch{done: make(chan struct{})}
		a.inflight = fetch
		a.mu.Unlock()

		token, lifetime, err := a.requestToken(ctx)

		a.mu.Lock()
		a.inflight = nil
		fetch.err = err
		if err == nil {
			a.token = token
			a.refreshAt = a.now().Add(lifetime - min(odcRefreshMargin, lifetime/10))
		}
		a.mu.Unlock()
		close(fetch.done)
		if err != nil {
			return "", err
		}
		return token, nil
	}
}

type oidcDiscovery struct {
	TokenEndpoint string `json:"token_endpoint"`
}

// discover reads the token endpoint from the OpenID Connect configuration,
// once per client.
func (a *odcAuth) discover(ctx context.Context) (string, error) {
	a.mu.Lock()
	endpoint := a.tokenEndpoint
	a.mu.Unlock()
	if endpoint != "" {
		return endpoint, nil
	}
	r := request{method: http.MethodGet, path: odcDiscoveryPath, noAuth: true, idempotent: true}
	resp, err := a.idp.do(ctx, r)
	if err != nil {
		return "", fmt.Errorf("ODC OpenID Connect discovery: %w", err)
	}
	var d oidcDiscovery
	if err := decodeJSON(a.idp.name, r, resp, &d); err != nil {
		return "", err
	}
	if d.TokenEndpoint == "" {
		return "", fmt.Errorf("ODC OpenID Connect discovery at %s has no token_endpoint", a.idp.endpoint(r))
	}
	// The secret goes there: it must be https (plain http only to loopback).
	u, err := ParseBaseURL(d.TokenEndpoint)
	if err != nil {
		return "", fmt.Errorf("ODC OpenID Connect discovery gave an unusable token_endpoint: %w", err)
	}
	endpoint = u.String()
	a.mu.Lock()
	a.tokenEndpoint = endpoint
	a.mu.Unlock()
	return endpoint, nil
}

type odcTokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// requestToken asks the token endpoint for a new access token.
func (a *odcAuth) requestToken(ctx context.Context) (string, time.Duration, error) {
	endpoint, err := a.discover(ctx)
	if err != nil {
		return "", 0, err
	}
	a.requests.Add(1)
	r := request{
		method: http.MethodPost, absolute: endpoint, noAuth: true, idempotent: true,
		form: url.Values{"grant_type": {"client_credentials"}, "client_id": {a.clientID}, "client_secret": {a.clientSecret}},
	}
	resp, err := a.idp.do(ctx, r)
	if err != nil {
		return "", 0, fmt.Errorf("getting an ODC access token for API client %q: %w", a.clientID, err)
	}
	var t odcTokenResponse
	if err := json.Unmarshal(resp.body, &t); err != nil || t.AccessToken == "" {
		return "", 0, fmt.Errorf("the ODC token endpoint %s answered %d without an access_token", r.absolute, resp.status)
	}
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "Bearer") {
		return "", 0, fmt.Errorf("the ODC token endpoint %s gave a %q token; only Bearer tokens are supported", r.absolute, t.TokenType)
	}
	lifetime := time.Duration(t.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = odcDefaultTokenLifetime
	}
	return t.AccessToken, lifetime, nil
}

// oauthErrorParser reads an OAuth 2.0 error answer ({"error",
// "error_description"}) of the identity service and nothing else of its
// body, removing the client secret should the server echo it.
func oauthErrorParser(secret string) errorParser {
	return func(e *APIError, body []byte) {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		msg := "no OAuth error in the answer"
		if err := json.Unmarshal(body, &oe); err == nil && oe.Error != "" {
			msg = oe.Error
			if oe.Description != "" {
				msg += ": " + oe.Description
			}
		}
		if secret != "" {
			msg = strings.ReplaceAll(msg, secret, "[REDACTED]")
		}
		e.Messages = append(e.Messages, msg)
	}
}
