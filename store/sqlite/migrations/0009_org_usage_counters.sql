-- Each organisation's quota usage as counters on its row, kept by
-- triggers on cases in the same transaction as the change, so that the
-- quota check of a submission reads one row instead of summing every case
-- of the organisation (review.Store.OrgUsage). A case is open unless it
-- is decided or withdrawn. The update trigger fires only when a case
-- moves between open and closed, changes size or changes organisation,
-- so most case updates (assignment, review states) leave the row alone.
ALTER TABLE orgs ADD COLUMN open_cases INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orgs ADD COLUMN dossier_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE orgs SET
	open_cases = (SELECT COUNT(*) FROM cases WHERE cases.org_id = orgs.id AND cases.state NOT IN ('decided', 'withdrawn')),
	dossier_bytes = (SELECT COALESCE(SUM(cases.dossier_bytes), 0) FROM cases WHERE cases.org_id = orgs.id);

CREATE TRIGGER cases_usage_insert AFTER INSERT ON cases
BEGIN
	UPDATE orgs SET open_cases = open_cases + (NEW.state NOT IN ('decided', 'withdrawn')),
		dossier_bytes = dossier_bytes + NEW.dossier_bytes
	WHERE id = NEW.org_id;
END;

CREATE TRIGGER cases_usage_update AFTER UPDATE ON cases
WHEN (OLD.state IN ('decided', 'withdrawn')) <> (NEW.state IN ('decided', 'withdrawn'))
	OR OLD.dossier_bytes <> NEW.dossier_bytes OR OLD.org_id <> NEW.org_id
BEGIN
	UPDATE orgs SET open_cases = open_cases - (OLD.state NOT IN ('decided', 'withdrawn')),
		dossier_bytes = dossier_bytes - OLD.dossier_bytes
	WHERE id = OLD.org_id;
	UPDATE orgs SET open_cases = open_cases + (NEW.state NOT IN ('decided', 'withdrawn')),
		dossier_bytes = dossier_bytes + NEW.dossier_bytes
	WHERE id = NEW.org_id;
END;

CREATE TRIGGER cases_usage_delete AFTER DELETE ON cases
BEGIN
	UPDATE orgs SET open_cases = open_cases - (OLD.state NOT IN ('decided', 'withdrawn')),
		dossier_bytes = dossier_bytes - OLD.dossier_bytes
	WHERE id = OLD.org_id;
END;
