-- Reference-model cohorts (issue 17.1): a reference assessment runs the
-- case's plan against a reference model, or imports a run of one. name is
-- the cohort's name for it; url and model its endpoint ('' for an
-- imported run); digest the model's sha256 digest ('' when not given);
-- credentials are sealed by the service's Sealer (empty: none).
CREATE TABLE assessment_references (
	assessment_id TEXT PRIMARY KEY REFERENCES assessments (id),
	case_id       TEXT NOT NULL REFERENCES cases (id),
	name          TEXT NOT NULL,
	url           TEXT NOT NULL,
	model         TEXT NOT NULL,
	digest        TEXT NOT NULL,
	credentials   BLOB NOT NULL,
	created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX assessment_references_case ON assessment_references (case_id, assessment_id);
