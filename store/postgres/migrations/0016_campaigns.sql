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
	transcript    BYTEA NOT NULL,
	turns         BIGINT NOT NULL,
	model_digest  TEXT NOT NULL,
	success       BOOLEAN NOT NULL,
	category      TEXT NOT NULL,
	severity      TEXT NOT NULL,
	technique     TEXT NOT NULL,
	universal     BOOLEAN NOT NULL,
	template      TEXT NOT NULL,
	transfer_hits BIGINT NOT NULL,
	transfer_n    BIGINT NOT NULL,
	finding_id    TEXT NOT NULL,
	version       BIGINT NOT NULL,
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL,
	success_at    TEXT NOT NULL,
	universal_at  TEXT NOT NULL
);
CREATE INDEX campaign_attempts_case ON campaign_attempts (case_id, id);
CREATE TABLE model_versions (
	id           TEXT PRIMARY KEY,
	case_id      TEXT NOT NULL REFERENCES cases (id),
	seq          BIGINT NOT NULL,
	model_digest TEXT NOT NULL,
	model_name   TEXT NOT NULL,
	target_url   TEXT NOT NULL,
	credentials  BYTEA,
	note         TEXT NOT NULL,
	submitted_by TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	UNIQUE (case_id, seq)
);
CREATE TABLE campaign_retests (
	case_id    TEXT NOT NULL REFERENCES cases (id),
	version_id TEXT NOT NULL REFERENCES model_versions (id),
	attempt_id TEXT NOT NULL REFERENCES campaign_attempts (id),
	works      BOOLEAN NOT NULL,
	hits       BIGINT NOT NULL,
	n          BIGINT NOT NULL,
	error      TEXT NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (version_id, attempt_id)
);
CREATE INDEX campaign_retests_case ON campaign_retests (case_id, version_id);
