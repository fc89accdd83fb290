-- The review domain: organisations, users, tokens, cases, findings,
-- responses, decisions, appeals and the hash-chained audit trail.
-- The PostgreSQL twin of store/sqlite's migration. Times are TEXT in UTC, "YYYY-MM-DDTHH:MM:SS.ffffffZ" (fixed width, so
-- they sort); JSON is TEXT, kept byte for byte.

CREATE TABLE orgs (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	kind       TEXT NOT NULL CHECK (kind IN ('developer', 'assessor', 'agency')),
	created_at TEXT NOT NULL
);

CREATE TABLE users (
	id         TEXT PRIMARY KEY,
	org_id     TEXT NOT NULL REFERENCES orgs (id),
	name       TEXT NOT NULL,
	email      TEXT NOT NULL,
	roles      TEXT NOT NULL, -- JSON array of role names
	disabled   BOOLEAN NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX users_org ON users (org_id, id);

CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id),
	name       TEXT NOT NULL,
	hash       BYTEA NOT NULL UNIQUE,
	created_at TEXT NOT NULL,
	expires_at TEXT,
	revoked_at TEXT
);

CREATE TABLE cases (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES orgs (id),
	model_digest TEXT NOT NULL,
	model_name   TEXT NOT NULL,
	dossier      TEXT NOT NULL,
	target_url   TEXT NOT NULL,
	credentials  BYTEA,
	profiles     TEXT NOT NULL, -- JSON array
	state        TEXT NOT NULL,
	clock        TEXT,          -- JSON review.Clock
	version      BIGINT NOT NULL,
	created_at   TEXT NOT NULL,
	updated_at   TEXT NOT NULL
);
CREATE INDEX cases_org ON cases (org_id, id);
CREATE INDEX cases_state ON cases (state, id);

CREATE TABLE findings (
	id          TEXT PRIMARY KEY,
	case_id     TEXT NOT NULL REFERENCES cases (id),
	severity    TEXT NOT NULL,
	title       TEXT NOT NULL,
	description TEXT NOT NULL,
	sample_ids  TEXT NOT NULL, -- JSON array
	deadline    TEXT NOT NULL,
	status      TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);
CREATE INDEX findings_case ON findings (case_id, id);

CREATE TABLE responses (
	id         TEXT PRIMARY KEY,
	case_id    TEXT NOT NULL REFERENCES cases (id),
	finding_id TEXT NOT NULL REFERENCES findings (id),
	author_id  TEXT NOT NULL,
	body       TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX responses_case ON responses (case_id, id);

CREATE TABLE decisions (
	id              TEXT PRIMARY KEY,
	case_id         TEXT NOT NULL REFERENCES cases (id),
	official_id     TEXT NOT NULL,
	outcomes        TEXT NOT NULL,
	rationale       TEXT NOT NULL,
	missing         TEXT NOT NULL, -- JSON array
	override_reason TEXT NOT NULL,
	deemed          BOOLEAN NOT NULL,
	bundle          BYTEA,
	created_at      TEXT NOT NULL
);
CREATE INDEX decisions_case ON decisions (case_id, id);

CREATE TABLE appeals (
	id          TEXT PRIMARY KEY,
	case_id     TEXT NOT NULL REFERENCES cases (id),
	decision_id TEXT NOT NULL REFERENCES decisions (id),
	filed_by    TEXT NOT NULL,
	grounds     TEXT NOT NULL,
	created_at  TEXT NOT NULL
);
CREATE INDEX appeals_case ON appeals (case_id, id);

CREATE TABLE audit (
	seq       BIGINT PRIMARY KEY,
	time      TEXT NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	case_id   TEXT NOT NULL, -- '' when not about a case; no foreign key
	details   TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
);
CREATE INDEX audit_case ON audit (case_id, seq);

-- The trail is append-only: refuse edits and deletions in the database
-- too, so that only a deliberate schema change could alter it.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit trail is append-only';
END;
$$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
