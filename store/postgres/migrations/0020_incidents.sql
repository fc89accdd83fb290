-- Incidents on each regime's clock (issue 18 part 2): an incident filed
-- against a cleared decision; the duties (reports with deadlines) the
-- case's profiles derive from it; and the reports filed for them. Times
-- are RFC 3339 text; resolved_at and done_at are '' until set; a duty's
-- incident_id is '' for a scheduled duty (a decision's condition with a
-- due date; its reports have incident_id '' too) and its report_id '' until done.
CREATE TABLE incidents (
	id            TEXT PRIMARY KEY,
	case_id       TEXT NOT NULL REFERENCES cases (id),
	decision_id   TEXT NOT NULL,
	org_id        TEXT NOT NULL,
	class         TEXT NOT NULL,
	summary       TEXT NOT NULL,
	evidence      TEXT NOT NULL,
	discovered_at TEXT NOT NULL,
	filed_by      TEXT NOT NULL,
	resolved_at   TEXT NOT NULL,
	resolution    TEXT NOT NULL,
	created_at    TEXT NOT NULL
);
CREATE INDEX incidents_case ON incidents (case_id, id);
CREATE INDEX incidents_org ON incidents (org_id, id);

CREATE TABLE duties (
	id          TEXT PRIMARY KEY,
	case_id     TEXT NOT NULL REFERENCES cases (id),
	incident_id TEXT NOT NULL,
	profile     TEXT NOT NULL,
	kind        TEXT NOT NULL,
	class       TEXT NOT NULL,
	title       TEXT NOT NULL,
	recipient   TEXT NOT NULL,
	cite        TEXT NOT NULL,
	due_at      TEXT NOT NULL,
	state       TEXT NOT NULL,
	report_id   TEXT NOT NULL,
	done_at     TEXT NOT NULL,
	created_at  TEXT NOT NULL
);
CREATE INDEX duties_case ON duties (case_id, id);
CREATE INDEX duties_incident ON duties (incident_id, id);
CREATE INDEX duties_state ON duties (state, id);

CREATE TABLE incident_reports (
	id          TEXT PRIMARY KEY,
	incident_id TEXT NOT NULL,
	duty_id     TEXT NOT NULL REFERENCES duties (id),
	case_id     TEXT NOT NULL,
	markdown    TEXT NOT NULL,
	document    TEXT NOT NULL,
	filed_by    TEXT NOT NULL,
	created_at  TEXT NOT NULL
);
CREATE INDEX incident_reports_incident ON incident_reports (incident_id, id);
