package odc

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/httpx"
	"github.com/seed-1be1de96/terraform-provider-outsystems/internal/sandbox/sqldb"
)

// Build types and statuses of the build operations API.
const (
	BuildTypeDebug   = "Debug"
	BuildTypeRelease = "Release"

	BuildStatusRunning            = "Running"
	BuildStatusFinished           = "Finished"
	BuildStatusFinishedWithErrors = "FinishedWithErrors"
)

// Build is a build of an asset revision. Builds started through the build
// operations API are stored in odc_builds. A publish operation builds too:
// 1-Click Publish makes a Debug build for the stage it publishes to (it can
// be debugged there, and it is not what the deployments API deploys), so a
// publish that finished successfully shows as a finished Debug build whose
// key is the operation's build_key. Only Release builds can be deployed to
// later stages.
type Build struct {
	Key        string
	AssetKey   string
	Revision   int
	BuildType  string
	BuiltBy    string
	StartedAt  time.Time
	FinishesAt time.Time
	Outcome    string // Finished or FinishedWithErrors
}

// status is the build's status at now.
func (b *Build) status(now time.Time) string {
	if now.Before(b.FinishesAt) {
		return BuildStatusRunning
	}
	return b.Outcome
}

// buildsSQL lists the stored builds and the builds of the publish
// operations finished successfully by the time given as its one argument.
const buildsSQL = `(SELECT seq, key, asset_key, revision, build_type, built_by, started_at, finishes_at, outcome FROM odc_builds
	UNION ALL
	SELECT -seq, build_key, asset_key, revision, 'Debug', deployed_by, started_at, finishes_at, 'Finished' FROM odc_publish_operations
		WHERE outcome = 'Finished' AND finishes_at <= ?)`

// buildFilter selects builds; empty fields match all.
type buildFilter struct {
	key, assetKey, buildType string
	revision                 int // 0 = any
}

// queryBuilds lists the builds matching f, oldest first.
func queryBuilds(ctx context.Context, tx *sql.Tx, f buildFilter, now time.Time) ([]*Build, error) {
	where, args := "1", []any{nanos(now)}
	for _, c := range []struct {
		column string
		value  any
		set    bool
	}{
		{"key", f.key, f.key != ""}, {"asset_key", f.assetKey, f.assetKey != ""},
		{"revision", f.revision, f.revision != 0}, {"build_type", f.buildType, f.buildType != ""},
	} {
		if c.set {
			where, args = where+" AND "+c.column+" = ?", append(args, c.value)
		}
	}
	var out []*Build
	err := sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
		b := &Build{}
		var seq, started, finishes int64
		if err := rows.Scan(&seq, &b.Key, &b.AssetKey, &b.Revision, &b.BuildType, &b.BuiltBy, &started, &finishes, &b.Outcome); err != nil {
			return err
		}
		b.StartedAt, b.FinishesAt = fromNanos(started), fromNanos(finishes)
		out = append(out, b)
		return nil
	}, `SELECT seq, key, asset_key, revision, build_type, built_by, started_at, finishes_at, outcome FROM `+buildsSQL+`
		WHERE `+where+` ORDER BY started_at, seq`, args...)
	return out, err
}

// loadBuild reads a build by its canonical key.
func loadBuild(ctx context.Context, tx *sql.Tx, key string, now time.Time) (*Build, error) {
	builds, err := queryBuilds(ctx, tx, buildFilter{key: key}, now)
	if err != nil {
		return nil, err
	}
	if len(builds) == 0 {
		return nil, httpx.NotFoundf("Build with key '%s' was not found.", key)
	}
	return builds[0], nil
}

// startBuild starts a build of an asset revision. Its outcome is decided
// now: it fails when the revision has TrueChange errors; it shows once
// the build finishes, duration later.
func (s *Service) startBuild(ctx context.Context, assetKey string, revision int, buildType, caller string, duration time.Duration, now time.Time) (*Build, error) {
	var b *Build
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		a, r, err := loadRevision(ctx, tx, assetKey, revision)
		if err != nil {
			return err
		}
		b = &Build{Key: uuid.NewString(), AssetKey: a.Key, Revision: r.Revision, BuildType: buildType, BuiltBy: caller,
			StartedAt: now, FinishesAt: now.Add(duration), Outcome: BuildStatusFinished}
		subject := fmt.Sprintf("%s build of '%s' revision %d", buildType, r.Name, r.Revision)
		type msg struct {
			at                              time.Time
			typ, severity, text, step, code string
		}
		msgs := []msg{{now, "BuildStarted", "Info", "Started the " + subject + ".", "Start", ""}}
		for _, e := range r.PublishErrors {
			msgs = append(msgs, msg{b.FinishesAt, "TrueChangeError", "Error", fmt.Sprintf("TrueChange error in '%s': %s", r.Name, e), "Compile", "OS-BLD-40001"})
		}
		if n := len(r.PublishErrors); n > 0 {
			b.Outcome = BuildStatusFinishedWithErrors
			msgs = append(msgs, msg{b.FinishesAt, "BuildFailed", "Error", fmt.Sprintf("The %s failed with %d error(s).", subject, n), "Finish", "OS-BLD-40000"})
		} else {
			msgs = append(msgs, msg{b.FinishesAt, "BuildFinished", "Info", "Finished the " + subject + ".", "Finish", ""})
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO odc_builds (key, asset_key, revision, build_type, built_by, started_at, finishes_at, outcome)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, b.Key, b.AssetKey, b.Revision, b.BuildType, b.BuiltBy, nanos(b.StartedAt), nanos(b.FinishesAt), b.Outcome); err != nil {
			return err
		}
		for i, m := range msgs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO odc_build_messages (build_key, position, at, type, severity, message, step_id, error_code)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, b.Key, i, nanos(m.at), m.typ, m.severity, m.text, m.step, optional(m.code)); err != nil {
				return err
			}
		}
		return nil
	})
	return b, err
}

// BuildMessage is one log message of a build.
type BuildMessage struct {
	At                          time.Time
	Type, Severity, Message     string
	StepID, AssetKey, ErrorCode string
}

// buildMessages lists the log messages a build issued by now. A publish
// operation's build shows the publish operation's messages.
func (s *Service) buildMessages(ctx context.Context, key string, now time.Time) ([]BuildMessage, error) {
	var out []BuildMessage
	err := s.db.Read(ctx, func(tx *sql.Tx) error {
		b, err := loadBuild(ctx, tx, key, now)
		if err != nil {
			return err
		}
		return sqldb.QueryRows(ctx, tx, func(rows *sql.Rows) error {
			m := BuildMessage{AssetKey: b.AssetKey}
			var at, position int64
			var code sql.NullString
			if err := rows.Scan(&at, &position, &m.Type, &m.Severity, &m.Message, &m.StepID, &code); err != nil {
				return err
			}
			m.At, m.ErrorCode = fromNanos(at), code.String
			out = append(out, m)
			return nil
		}, `SELECT at, position, type, severity, message, step_id, error_code FROM odc_build_messages WHERE build_key = ?1 AND at <= ?2
			UNION ALL
			SELECT m.at, m.position, m.type, m.severity, m.message, m.step_id, NULL FROM odc_publish_messages m
				JOIN odc_publish_operations o ON o.key = m.operation_key WHERE o.build_key = ?1 AND m.at <= ?2
			ORDER BY 1, 2`, b.Key, nanos(now))
	})
	return out, err
}
