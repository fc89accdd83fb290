-- A modified model's case that names its prior case explicitly (issue 18
-- part 2: Submission.prior_case): the decided case of the same developer
-- it re-reviews. A case without a row is linked by model family, computed.
CREATE TABLE case_priors (
	case_id       TEXT PRIMARY KEY REFERENCES cases (id),
	prior_case_id TEXT NOT NULL REFERENCES cases (id),
	created_at    TEXT NOT NULL
);
