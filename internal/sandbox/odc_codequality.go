package sandbox

import (
	"context"
	"net/http"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/fixture"
)

// The kernel's side of ODC code quality (odc/codequality.go).

// AddCodeFindings adds code-quality findings to an asset revision and
// records an analysis of it that completed now, as when Mentor re-analyzes
// a revision: its analysis summary shows them at once. It returns the
// analysis key. Tests and the admin surface use it.
func (s *Sandbox) AddCodeFindings(assetKey string, revision int, findings ...fixture.CodeFinding) (string, error) {
	return s.odc.AddCodeFindings(context.Background(), assetKey, revision, findings)
}

// adminAddCodeFindings: POST /_sandbox/odc/assets/{assetKey}/revisions/{revision}/code-findings
// (odc.Service.AdminAddCodeFindings).
func (s *Sandbox) adminAddCodeFindings(w http.ResponseWriter, r *http.Request) {
	s.odc.AdminAddCodeFindings(writeAdminError)(w, r)
}
