package sandbox

import (
	"context"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
)

// --- simulating developers fixing the O11 code (admin surface and tests) ---

// FixFinding marks a finding fixed, as if developers changed the O11 code,
// and queues a new assessment of the mapping holding its application.
func (s *Sandbox) FixFinding(findingKey string) error {
	if s.withoutKit {
		return ErrNoMigrationKit
	}
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
	if s.withoutKit {
		return ErrNoMigrationKit
	}
	key, err := httpx.ParseKey("mappingKey", mappingKey)
	if err != nil {
		return err
	}
	_, _, err = s.assessment.FixFindings(context.Background(), "", key)
	return err
}
