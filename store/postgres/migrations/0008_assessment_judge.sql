-- An assessment may name its own LLM judge (review.AssessmentInput.Judge):
-- its URL, model and rubric are in the spec; its credentials are sealed
-- with the service's age identity, as a case's target credentials are.
ALTER TABLE assessments ADD COLUMN judge_credentials BYTEA;
