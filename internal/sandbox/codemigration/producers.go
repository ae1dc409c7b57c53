package codemigration

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/assessment"
)

// resolveProducers sets the producers of mappings that are not (yet) the
// kit's mappings — the assets of a portal migration, the definitions of a
// migration preview — from LifeTime's module references, as the assessment
// tool does for its mappings: an item consumes another when a module of one
// of its applications references a module of the other's. itemOfApp gives
// the item holding each application of the request and appOfModule the
// application of each module. A producer application outside the request is
// the item an earlier migration produced an asset from; when none did, the
// consumer gets a PRODUCER_NOT_MIGRATED message (returned per item key).
func (s *Service) resolveProducers(ctx context.Context, tx *sql.Tx, mappings []assessment.MigrationMapping, itemOfApp, appOfModule map[string]string,
	appName func(appKey string) string) (map[string][]Message, error) {
	refs, err := s.lifetime.ModuleReferences(ctx, tx)
	if err != nil {
		return nil, err
	}
	producerApps := map[string][]string{} // item key -> producer application keys outside the item
	for _, r := range refs {
		consumer, producer := appOfModule[r.ConsumerKey], appOfModule[r.ProducerKey]
		item := itemOfApp[consumer]
		if item == "" || producer == "" || itemOfApp[producer] == item || slices.Contains(producerApps[item], producer) {
			continue
		}
		producerApps[item] = append(producerApps[item], producer)
	}
	unmigrated := map[string][]Message{}
	for i := range mappings {
		m := &mappings[i]
		m.Producers = []string{}
		for _, p := range producerApps[m.Key] {
			producer := itemOfApp[p]
			if producer == "" {
				if producer, err = earlierItemOfApp(ctx, tx, p); err != nil {
					return nil, err
				}
			}
			if producer == "" {
				unmigrated[m.Key] = append(unmigrated[m.Key], Message{Code: CodeProducerNotMigrated, Message: fmt.Sprintf(
					"'%s' consumes O11 application '%s', which no migration has produced an ODC asset from yet: migrate it, then use Check for dependency updates in ODC Studio.",
					m.Name, appName(p))})
				continue
			}
			if !slices.Contains(m.Producers, producer) {
				m.Producers = append(m.Producers, producer)
			}
		}
		slices.Sort(m.Producers)
	}
	return unmigrated, nil
}
