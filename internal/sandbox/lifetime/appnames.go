package lifetime

import (
	"context"
	"database/sql"
	"errors"
)

// ApplicationKeyByName returns the key of the application with the name,
// in the caller's transaction, and false when there is none. Code
// migrations resolve their fixture's application names with it.
func (s *Service) ApplicationKeyByName(ctx context.Context, tx *sql.Tx, name string) (string, bool, error) {
	var key string
	err := tx.QueryRowContext(ctx, `SELECT key FROM lt_applications WHERE name = ?`, name).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return key, err == nil, err
}
