package lifetime

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// DefaultTagDelay is how long LifeTime takes to process a new tag when
// Options.TagDelay is 0.
const DefaultTagDelay = 2 * time.Second

// Options tunes LifeTime's behaviour.
type Options struct {
	// TagDelay is how long a new tag takes to process: until then the new
	// version is not readable (404) and the environment's base version is
	// still the old one, as the official Swagger says ("the new version will
	// require some processing time before it becomes available for use").
	// 0 means DefaultTagDelay; negative processes tags at once.
	TagDelay time.Duration
}

// SetOptions applies opts; call it before serving.
func (s *Service) SetOptions(opts Options) {
	switch {
	case opts.TagDelay == 0:
		s.tagDelay = DefaultTagDelay
	case opts.TagDelay < 0:
		s.tagDelay = 0
	default:
		s.tagDelay = opts.TagDelay
	}
}

// refusedError is LifeTime refusing an operation with a 500 and its error
// body, as it does to delete a running or in-use version.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

func refusedf(format string, args ...any) error {
	return &refusedError{msg: fmt.Sprintf(format, args...)}
}

// StatusCode is the HTTP status LifeTime answers the refusal with.
func (e *refusedError) StatusCode() int { return http.StatusInternalServerError }

// tagPayload is what a pending tag becomes once processed.
type tagPayload struct {
	Version           ApplicationVersion `json:"version"`
	ModuleVersionKeys []string           `json:"moduleVersionKeys"`
}

// recordTag records a new tag of what runs in envKey; it is processed at
// once without a tag delay, else by a later Settle.
func (s *Service) recordTag(ctx context.Context, tx *sql.Tx, envKey string, v ApplicationVersion, running []string) error {
	payload, err := sqldb.MarshalJSON(tagPayload{Version: v, ModuleVersionKeys: running})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lt_tags (version_key, application_key, environment_key, version, ready_at, pending, payload)
		VALUES (?, ?, ?, ?, ?, 1, ?)`, v.Key, v.ApplicationKey, envKey, v.Version, time.Now().Add(s.tagDelay).UnixNano(), payload); err != nil {
		return err
	}
	if s.tagDelay <= 0 {
		return applyTag(ctx, tx, v.Key, envKey, payload)
	}
	s.pending.Add(1)
	return nil
}

// applyTag makes a processed tag a version and the environment's base
// version; the app is no longer modified unless it changed meanwhile.
func applyTag(ctx context.Context, tx *sql.Tx, versionKey, envKey, payloadJSON string) error {
	var p tagPayload
	if err := json.Unmarshal([]byte(payloadJSON), &p); err != nil {
		return fmt.Errorf("tag %s: %w", versionKey, err)
	}
	if err := insertApplicationVersion(ctx, tx, p.Version, p.ModuleVersionKeys); err != nil {
		return err
	}
	keys, err := sqldb.MarshalJSON(p.ModuleVersionKeys)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE lt_app_env_status SET base_version_key = ?1,
		is_modified = CASE WHEN module_version_keys = ?2 THEN 0 ELSE is_modified END
		WHERE application_key = ?3 AND environment_key = ?4`, versionKey, keys, p.Version.ApplicationKey, envKey); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE lt_tags SET pending = 0 WHERE version_key = ?`, versionKey)
	return err
}

// Settle processes the tags whose processing time is over. It costs nothing
// while no tag is pending.
func (s *Service) Settle(ctx context.Context) error {
	if s.pending.Load() == 0 {
		return nil
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		type due struct{ key, env, payload string }
		var ready []due
		if err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			var d due
			err := rows.Scan(&d.key, &d.env, &d.payload)
			ready = append(ready, d)
			return err
		}, `SELECT version_key, environment_key, payload FROM lt_tags WHERE pending = 1 AND ready_at <= ? ORDER BY ready_at`,
			time.Now().UnixNano()); err != nil {
			return err
		}
		for _, d := range ready {
			if err := applyTag(ctx, tx, d.key, d.env, d.payload); err != nil {
				return err
			}
		}
		return s.countPending(ctx, tx)
	})
}

// countPending reloads how many tags are still being processed.
func (s *Service) countPending(ctx context.Context, tx *sql.Tx) error {
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM lt_tags WHERE pending = 1`).Scan(&n); err != nil {
		return err
	}
	s.pending.Store(n)
	return nil
}

// settled serves next after processing the tags that are due.
func (s *Service) settled(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Settle(r.Context()); err != nil {
			s.writeStoreError(w, r, err, writeError)
			return
		}
		next.ServeHTTP(w, r)
	})
}
