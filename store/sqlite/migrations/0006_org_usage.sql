-- The size of each case's dossier, so that an organisation's quota of
-- stored bytes is summed from an index instead of by reading every
-- dossier (review.Store.OrgUsage).
ALTER TABLE cases ADD COLUMN dossier_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE cases SET dossier_bytes = LENGTH(CAST(dossier AS BLOB));
CREATE INDEX cases_org_usage ON cases (org_id, state, dossier_bytes);
