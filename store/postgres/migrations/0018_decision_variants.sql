-- The variant under test (issue 17 part 4): the labels of the variants
-- (production, safeguards-reduced, helpful-only, checkpoint:NAME,
-- unrecorded) the case's finished assessments tested when a decision was
-- made: what its claims cover. JSON array; '[]' for decisions made before.
ALTER TABLE decisions ADD COLUMN variants TEXT NOT NULL DEFAULT '[]';
