-- Joint reviews (issue 16): the agencies taking part in a case (JSON
-- array of {org_id, lead, domains, added_by, added_at}; empty for a case
-- one agency reviews), and the compartment of each assessment and
-- finding: the agency whose work it is ('' for a case that is not joint)
-- and whether that agency shares it with the others and the developer.
ALTER TABLE cases ADD COLUMN agencies TEXT NOT NULL DEFAULT '[]';
ALTER TABLE assessments ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
ALTER TABLE assessments ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
ALTER TABLE findings ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
