-- Agent transcript triage (issue 17.3): a reviewer's decision on the
-- automatic label of one failed agent episode (sample seq of an
-- assessment): the label confirmed or corrected, with a note. One row per
-- episode, replaced by a later decision; the audit trail keeps each.
CREATE TABLE triage_reviews (
	assessment_id TEXT NOT NULL REFERENCES assessments (id),
	seq           INTEGER NOT NULL,
	case_id       TEXT NOT NULL REFERENCES cases (id),
	label         TEXT NOT NULL,
	note          TEXT NOT NULL,
	reviewed_by   TEXT NOT NULL,
	reviewed_at   TEXT NOT NULL,
	PRIMARY KEY (assessment_id, seq)
);
