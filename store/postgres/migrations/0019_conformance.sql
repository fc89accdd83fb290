-- Conformance of the deployed endpoint (issue 18 part 1): a case's
-- endpoint fingerprints (sealed: they hold model output) and the checks
-- run against cleared decisions, each with its signed conformance
-- statement and, once logged, its transparency-log index (NULL until
-- then). Times are RFC 3339 text; finding_id is '' when the check passed.
CREATE TABLE conform_fingerprints (
	id         TEXT PRIMARY KEY,
	case_id    TEXT NOT NULL REFERENCES cases (id),
	digest     TEXT NOT NULL,
	target     TEXT NOT NULL,
	probes     BIGINT NOT NULL,
	requests   BIGINT NOT NULL,
	sealed     BYTEA NOT NULL,
	created_by TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX conform_fingerprints_case ON conform_fingerprints (case_id, id);

CREATE TABLE conform_checks (
	id             TEXT PRIMARY KEY,
	decision_id    TEXT NOT NULL REFERENCES decisions (id),
	case_id        TEXT NOT NULL REFERENCES cases (id),
	fingerprint_id TEXT NOT NULL REFERENCES conform_fingerprints (id),
	target         TEXT NOT NULL,
	same           BOOLEAN NOT NULL,
	scheduled      BOOLEAN NOT NULL,
	result         TEXT NOT NULL,
	bundle         BYTEA,
	log_index      BIGINT,
	finding_id     TEXT NOT NULL,
	created_by     TEXT NOT NULL,
	created_at     TEXT NOT NULL
);
CREATE INDEX conform_checks_case ON conform_checks (case_id, id);
CREATE INDEX conform_checks_decision ON conform_checks (decision_id, id);
