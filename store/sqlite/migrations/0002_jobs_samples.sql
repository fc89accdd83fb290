-- Assessments run as jobs and their samples; the model-response cache;
-- idempotency keys; webhooks and the cursors of their delivery; anchors
-- of the audit trail in the transparency log; and where each decision's
-- bundle was logged (log_index NULL until it is).

ALTER TABLE decisions ADD COLUMN log_index INTEGER;
ALTER TABLE decisions ADD COLUMN receipt BLOB;
-- The decisions still to be logged, oldest first.
CREATE INDEX decisions_unlogged ON decisions (created_at, id)
	WHERE bundle IS NOT NULL AND log_index IS NULL;

CREATE TABLE assessments (
	id          TEXT PRIMARY KEY,
	case_id     TEXT NOT NULL REFERENCES cases (id),
	spec        TEXT NOT NULL,
	shards      INTEGER NOT NULL,
	shards_done INTEGER NOT NULL,
	state       TEXT NOT NULL,
	metrics     TEXT, -- NULL until done
	error       TEXT NOT NULL,
	imported    INTEGER NOT NULL,
	created_by  TEXT NOT NULL,
	version     INTEGER NOT NULL,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
) STRICT;
CREATE INDEX assessments_case ON assessments (case_id, id);
CREATE INDEX assessments_state ON assessments (state, created_at, id);

-- The shards of an assessment that have finished, each once.
CREATE TABLE assessment_shards (
	assessment_id TEXT NOT NULL REFERENCES assessments (id),
	shard         INTEGER NOT NULL,
	PRIMARY KEY (assessment_id, shard)
) STRICT, WITHOUT ROWID;

-- The primary key serves listing in seq order; samples_outcome serves
-- the commonest filter (the flagged samples of an assessment).
CREATE TABLE samples (
	assessment_id TEXT NOT NULL REFERENCES assessments (id),
	seq           INTEGER NOT NULL,
	shard         INTEGER NOT NULL,
	sample_id     TEXT NOT NULL,
	suite         TEXT NOT NULL,
	category      TEXT NOT NULL,
	transform     TEXT NOT NULL,
	kind          TEXT NOT NULL,
	outcome       TEXT NOT NULL,
	harmful       INTEGER NOT NULL,
	record        BLOB NOT NULL,
	PRIMARY KEY (assessment_id, seq)
) STRICT;
CREATE INDEX samples_outcome ON samples (assessment_id, outcome, seq);

CREATE TABLE response_cache (
	key      TEXT PRIMARY KEY,
	response BLOB NOT NULL
) STRICT;

CREATE TABLE idempotency_keys (
	user_id      TEXT NOT NULL REFERENCES users (id),
	key          TEXT NOT NULL,
	request_hash BLOB NOT NULL,
	case_id      TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	PRIMARY KEY (user_id, key)
) STRICT;

CREATE TABLE webhooks (
	id         TEXT PRIMARY KEY,
	org_id     TEXT NOT NULL REFERENCES orgs (id),
	url        TEXT NOT NULL,
	secret     BLOB NOT NULL,
	events     TEXT NOT NULL, -- JSON array of audit actions
	created_by TEXT NOT NULL,
	disabled   INTEGER NOT NULL,
	created_at TEXT NOT NULL
) STRICT;
CREATE INDEX webhooks_org ON webhooks (org_id, id);

CREATE TABLE cursors (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT;

-- seq is an audit entry's. It has no foreign key to audit: in PostgreSQL
-- one would make TRUNCATE audit fail on the key before the append-only
-- trigger could refuse it, and the schemas are kept alike.
CREATE TABLE anchors (
	seq        INTEGER PRIMARY KEY,
	hash       TEXT NOT NULL,
	log_index  INTEGER NOT NULL,
	created_at TEXT NOT NULL
) STRICT;
