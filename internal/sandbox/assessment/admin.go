package assessment

import (
	"net/http"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// The sandbox's admin surface simulates developers fixing the O11 code:
// these handlers serve its assessment endpoints, answering errors with
// onError (the admin surface's shape).

// AdminFixResponse is what the admin fix endpoints answer.
type AdminFixResponse struct {
	FixedFindingKeys     []string `json:"fixedFindingKeys"`
	QueuedAssessmentKeys []string `json:"queuedAssessmentKeys"`
}

// AdminFixFinding serves POST /_sandbox/assessment/findings/{findingKey}/fix.
func (s *Service) AdminFixFinding(onError httpx.ErrorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, err := httpx.ParseKey("findingKey", r.PathValue("findingKey"))
		if err != nil {
			httpx.WriteStoreError(s.logger, w, r, err, onError)
			return
		}
		s.adminFix(w, r, onError, key, "")
	}
}

// AdminFixAllFindings serves POST /_sandbox/assessment/mappings/{mappingKey}/fix-all.
func (s *Service) AdminFixAllFindings(onError httpx.ErrorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, err := httpx.ParseKey("mappingKey", r.PathValue("mappingKey"))
		if err != nil {
			httpx.WriteStoreError(s.logger, w, r, err, onError)
			return
		}
		s.adminFix(w, r, onError, "", key)
	}
}

func (s *Service) adminFix(w http.ResponseWriter, r *http.Request, onError httpx.ErrorWriter, findingKey, mappingKey string) {
	fixed, queued, err := s.FixFindings(r.Context(), findingKey, mappingKey)
	if err != nil {
		httpx.WriteStoreError(s.logger, w, r, err, onError)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, AdminFixResponse{FixedFindingKeys: fixed, QueuedAssessmentKeys: queued})
}
