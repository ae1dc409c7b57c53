package sandbox

import (
	"context"
	"time"
)

// What a stage's default system configurations and custom domains hold,
// for tests that check what a run left, and the customer's DNS validating a
// custom domain's certificate.

// SystemConfigValue returns the value set for the default system
// configuration called name in a stage and when it was set; false when
// none is set (the stage has the default).
func (s *Sandbox) SystemConfigValue(ctx context.Context, stageKey, name string) (string, time.Time, bool, error) {
	return s.odc.SystemConfigValue(ctx, stageKey, name)
}

// CustomDomains lists the hostnames of a stage's custom domains.
func (s *Sandbox) CustomDomains(ctx context.Context, stageKey string) ([]string, error) {
	return s.odc.DomainsOf(ctx, stageKey)
}

// ValidateDomain makes a custom domain's certificate Active, as the
// customer's DNS holding its validation CNAME does; false when the
// hostname is no custom domain (or was validated already).
func (s *Sandbox) ValidateDomain(ctx context.Context, hostname string) (bool, error) {
	return s.odc.ValidateDomain(ctx, hostname)
}
