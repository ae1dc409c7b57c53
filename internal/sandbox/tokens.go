package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/odc"
)

// maxRememberedTokens bounds the access tokens IssuedAccessTokens returns:
// the latest ones.
const maxRememberedTokens = 10000

// issuedTokens remembers the access tokens the token endpoint issued; the
// store keeps only their hashes.
type issuedTokens struct {
	mu     sync.Mutex
	tokens []string
}

func (t *issuedTokens) add(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.tokens) == maxRememberedTokens {
		t.tokens = append(t.tokens[:0], t.tokens[1:]...)
	}
	t.tokens = append(t.tokens, token)
}

func (t *issuedTokens) list() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.tokens...)
}

// IssuedAccessTokens returns the ODC access tokens the sandbox issued (the
// last 10000), oldest first, answers lost to chaos included: tests look
// for them where they must not be, such as logs.
func (s *Sandbox) IssuedAccessTokens() []string { return s.tokens.list() }

// tokenCapture passes a token endpoint answer through and remembers the
// access token of a successful one.
type tokenCapture struct {
	http.ResponseWriter
	tokens *issuedTokens
	status int
	body   bytes.Buffer
}

func (c *tokenCapture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *tokenCapture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.status == http.StatusOK && c.body.Len() < httpx.MaxBodyBytes {
		c.body.Write(b)
		var resp odc.TokenResponse
		if json.Unmarshal(c.body.Bytes(), &resp) == nil && resp.AccessToken != "" {
			c.tokens.add(resp.AccessToken)
			c.body.Reset()
			c.status = -1 // one token per answer
		}
	}
	return c.ResponseWriter.Write(b)
}

func (c *tokenCapture) Unwrap() http.ResponseWriter { return c.ResponseWriter }
