package sandbox

import (
	"context"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"net/http"
)

// --- simulating developers fixing the O11 code (admin surface and tests) ---

// FixFinding marks a finding fixed, as if developers changed the O11 code,
// and queues a new assessment of the mapping holding its application.
func (s *Sandbox) FixFinding(findingKey string) error {
	key, err := httpx.ParseKey("findingKey", findingKey)
	if err != nil {
		return err
	}
	_, _, err = s.assessment.FixFindings(context.Background(), key, "")
	return err
}

// FixAllFindings marks every finding of a mapping's applications fixed and
// queues a new assessment of the mapping.
func (s *Sandbox) FixAllFindings(mappingKey string) error {
	key, err := httpx.ParseKey("mappingKey", mappingKey)
	if err != nil {
		return err
	}
	_, _, err = s.assessment.FixFindings(context.Background(), "", key)
	return err
}

type adminFixResponse struct {
	FixedFindingKeys     []string `json:"fixedFindingKeys"`
	QueuedAssessmentKeys []string `json:"queuedAssessmentKeys"`
}

// adminFixFinding: POST /_sandbox/assessment/findings/{findingKey}/fix.
func (s *Sandbox) adminFixFinding(w http.ResponseWriter, r *http.Request) {
	key, err := httpx.ParseKey("findingKey", r.PathValue("findingKey"))
	if err != nil {
		s.writeStoreError(w, r, err, writeAdminError)
		return
	}
	s.adminFix(w, r, key, "")
}

// adminFixAllFindings: POST /_sandbox/assessment/mappings/{mappingKey}/fix-all.
func (s *Sandbox) adminFixAllFindings(w http.ResponseWriter, r *http.Request) {
	key, err := httpx.ParseKey("mappingKey", r.PathValue("mappingKey"))
	if err != nil {
		s.writeStoreError(w, r, err, writeAdminError)
		return
	}
	s.adminFix(w, r, "", key)
}

func (s *Sandbox) adminFix(w http.ResponseWriter, r *http.Request, findingKey, mappingKey string) {
	fixed, queued, err := s.assessment.FixFindings(r.Context(), findingKey, mappingKey)
	if err != nil {
		s.writeStoreError(w, r, err, writeAdminError)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, adminFixResponse{FixedFindingKeys: fixed, QueuedAssessmentKeys: queued})
}
