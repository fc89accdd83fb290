-- Expert red-team campaigns (issue 17.2). An attempt is one red-team
-- conversation with a case's model; transcript is the sealed JSON of its
-- messages (the service's Sealer), never plaintext. Times are '' when
-- unset. model_versions records a case's model versions (seq 1: as
-- submitted); credentials are sealed. campaign_retests holds each
-- regression item's (successful attempt's) result on each version.
CREATE TABLE campaign_attempts (
	id            TEXT PRIMARY KEY,
	case_id       TEXT NOT NULL REFERENCES cases (id),
	org_id        TEXT NOT NULL,
	redteamer     TEXT NOT NULL,
	title         TEXT NOT NULL,
	transcript    BLOB NOT NULL,
	turns         INTEGER NOT NULL,
	model_digest  TEXT NOT NULL,
	success       INTEGER NOT NULL,
	category      TEXT NOT NULL,
	severity      TEXT NOT NULL,
	technique     TEXT NOT NULL,
	universal     INTEGER NOT NULL,
	template      TEXT NOT NULL,
	transfer_hits INTEGER NOT NULL,
	transfer_n    INTEGER NOT NULL,
	finding_id    TEXT NOT NULL,
	version       INTEGER NOT NULL,
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL,
	success_at    TEXT NOT NULL,
	universal_at  TEXT NOT NULL
) STRICT;
CREATE INDEX campaign_attempts_case ON campaign_attempts (case_id, id);
CREATE TABLE model_versions (
	id           TEXT PRIMARY KEY,
	case_id      TEXT NOT NULL REFERENCES cases (id),
	seq          INTEGER NOT NULL,
	model_digest TEXT NOT NULL,
	model_name   TEXT NOT NULL,
	target_url   TEXT NOT NULL,
	credentials  BLOB,
	note         TEXT NOT NULL,
	submitted_by TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	UNIQUE (case_id, seq)
) STRICT;
CREATE TABLE campaign_retests (
	case_id    TEXT NOT NULL REFERENCES cases (id),
	version_id TEXT NOT NULL REFERENCES model_versions (id),
	attempt_id TEXT NOT NULL REFERENCES campaign_attempts (id),
	works      INTEGER NOT NULL,
	hits       INTEGER NOT NULL,
	n          INTEGER NOT NULL,
	error      TEXT NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (version_id, attempt_id)
) STRICT;
CREATE INDEX campaign_retests_case ON campaign_retests (case_id, version_id);
