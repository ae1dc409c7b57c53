package odc

// promotionSchema holds the tables of the promotion path beside the
// groundwork's odc_deployment_operations (store.go): the messages of
// deployment operations, builds and their log messages, and deployment
// analyses. Like publish operations, none of them is updated: statuses
// follow from their start and finish times and the current time.
const promotionSchema = `
CREATE TABLE IF NOT EXISTS odc_deployment_messages (
	operation_key TEXT NOT NULL REFERENCES odc_deployment_operations (key),
	position      INTEGER NOT NULL,
	at            INTEGER NOT NULL,
	type          TEXT NOT NULL,
	severity      TEXT NOT NULL CHECK (severity IN ('Info', 'Warning', 'Error')),
	message       TEXT NOT NULL,
	step_id       TEXT NOT NULL,
	asset_key     TEXT,
	PRIMARY KEY (operation_key, position)
);
-- Builds started through the build operations API. A publish operation's
-- build (its build_key) is a build too: the build operations API shows it as
-- a Debug build (builds.go), so it is not stored twice.
CREATE TABLE IF NOT EXISTS odc_builds (
	seq         INTEGER PRIMARY KEY,
	key         TEXT NOT NULL UNIQUE,
	asset_key   TEXT NOT NULL,
	revision    INTEGER NOT NULL,
	build_type  TEXT NOT NULL CHECK (build_type IN ('Debug', 'Release')),
	built_by    TEXT NOT NULL,
	started_at  INTEGER NOT NULL,
	finishes_at INTEGER NOT NULL,
	outcome     TEXT NOT NULL CHECK (outcome IN ('Finished', 'FinishedWithErrors')),
	FOREIGN KEY (asset_key, revision) REFERENCES odc_revisions (asset_key, revision)
);
CREATE INDEX IF NOT EXISTS odc_builds_by_revision ON odc_builds (asset_key, revision);
CREATE TABLE IF NOT EXISTS odc_build_messages (
	build_key  TEXT NOT NULL REFERENCES odc_builds (key),
	position   INTEGER NOT NULL,
	at         INTEGER NOT NULL,
	type       TEXT NOT NULL,
	severity   TEXT NOT NULL,
	message    TEXT NOT NULL,
	step_id    TEXT NOT NULL,
	error_code TEXT,
	PRIMARY KEY (build_key, position)
);
-- Deployment analyses: the report is decided when the analysis starts and
-- shown once it finishes.
CREATE TABLE IF NOT EXISTS odc_deployment_analyses (
	key             TEXT PRIMARY KEY,
	asset_key       TEXT NOT NULL,
	revision        INTEGER NOT NULL,
	environment_key TEXT NOT NULL REFERENCES odc_stages (key),
	requested_by    TEXT NOT NULL,
	started_at      INTEGER NOT NULL,
	finishes_at     INTEGER NOT NULL,
	report          TEXT NOT NULL, -- JSON
	FOREIGN KEY (asset_key, revision) REFERENCES odc_revisions (asset_key, revision)
);
`
