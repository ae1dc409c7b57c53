package lifetime

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// --- LifeTime authentication ---

type accountContextKey struct{}

// requireServiceAccount admits requests carrying the bearer token of a
// LifeTime service account, and answers 401 otherwise.
func (s *Service) requireServiceAccount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := httpx.BearerToken(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="LifeTime"`)
			writeError(w, http.StatusUnauthorized, "Authentication required: send the service account token as 'Authorization: Bearer <token>'.")
			return
		}
		account, err := s.AccountByToken(r.Context(), token)
		if errors.Is(err, httpx.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="LifeTime", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "Invalid or revoked service account token.")
			return
		}
		if err != nil {
			s.writeStoreError(w, r, err, writeError)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), accountContextKey{}, account)))
	})
}

// requireAdministrator answers 403, naming the service account and what it
// misses, unless the caller has the Administrator role. It reports whether
// the request may go on.
func requireAdministrator(w http.ResponseWriter, r *http.Request, action, permission string) bool {
	account, _ := r.Context().Value(accountContextKey{}).(ServiceAccount)
	if account.Role == fixture.RoleAdministrator {
		return true
	}
	writeError(w, http.StatusForbidden, fmt.Sprintf(
		"Service account '%s' does not have permission to %s. It needs the '%s' permission level.", account.Name, action, permission))
	return false
}
