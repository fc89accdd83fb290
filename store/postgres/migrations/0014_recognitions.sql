-- Recognition of other authorities' evidence (issue 16): a decision
-- another authority signed, verified against its keys and log as pinned in
-- the service's trust file, recorded with its provenance. profiles is a
-- JSON array of {profile, outcome}; log_index is -1 when the authority
-- has no log.
CREATE TABLE recognitions (
	id           TEXT PRIMARY KEY,
	case_id      TEXT NOT NULL REFERENCES cases (id),
	org_id       TEXT NOT NULL,
	authority    TEXT NOT NULL,
	kind         TEXT NOT NULL,
	signer_key   TEXT NOT NULL,
	log_origin   TEXT NOT NULL,
	log_index    BIGINT NOT NULL,
	decision_id  TEXT NOT NULL,
	verifier     TEXT NOT NULL,
	model_digest TEXT NOT NULL,
	decided_at   TEXT NOT NULL,
	expires_at   TEXT NOT NULL,
	outcome      TEXT NOT NULL,
	profiles     TEXT NOT NULL,
	bundle       BYTEA NOT NULL,
	receipt      BYTEA NOT NULL,
	note         TEXT NOT NULL,
	imported_by  TEXT NOT NULL,
	created_at   TEXT NOT NULL
);
CREATE INDEX recognitions_case ON recognitions (case_id, id);
