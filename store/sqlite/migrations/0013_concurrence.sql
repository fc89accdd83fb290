-- Concurrence in joint reviews (issue 16): the lead's proposed decision
-- on a case (one current proposal; a new one replaces it), each
-- participating agency's position on it (one current position per agency;
-- a new one replaces it, the audit trail keeps the history), and the
-- participating agencies that concurred in a decision (JSON array of org
-- ids; '[]' for a case one agency reviews).
CREATE TABLE proposals (
	case_id     TEXT PRIMARY KEY REFERENCES cases (id),
	outcomes    TEXT NOT NULL,
	rationale   TEXT NOT NULL,
	proposed_by TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	deadline    TEXT NOT NULL
) STRICT;

CREATE TABLE positions (
	case_id     TEXT NOT NULL REFERENCES cases (id),
	org_id      TEXT NOT NULL,
	position    TEXT NOT NULL,
	reason      TEXT NOT NULL,
	conditions  TEXT NOT NULL, -- JSON array
	deemed      INTEGER NOT NULL DEFAULT 0,
	answer      TEXT NOT NULL DEFAULT '',
	answered_by TEXT NOT NULL DEFAULT '',
	user_id     TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	PRIMARY KEY (case_id, org_id)
) STRICT;

ALTER TABLE decisions ADD COLUMN concurring TEXT NOT NULL DEFAULT '[]';
