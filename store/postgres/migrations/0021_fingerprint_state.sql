-- A fingerprint is recorded by a job (issue 18 part 1): it is created
-- 'pending' when asked for, then becomes 'recorded' (digest, counts and
-- sealed answers set, recorded_at its completion time) or 'failed'
-- (error says why, without the endpoint's own text). Rows from before
-- were recorded when created.
ALTER TABLE conform_fingerprints ADD COLUMN state TEXT NOT NULL DEFAULT 'recorded';
ALTER TABLE conform_fingerprints ADD COLUMN error TEXT NOT NULL DEFAULT '';
ALTER TABLE conform_fingerprints ADD COLUMN recorded_at TEXT NOT NULL DEFAULT '';
UPDATE conform_fingerprints SET recorded_at = created_at;
