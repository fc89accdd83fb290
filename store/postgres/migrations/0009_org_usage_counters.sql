-- Each organisation's quota usage as counters on its row, kept by a
-- trigger on cases in the same transaction as the change, so that the
-- quota check of a submission reads one (locked) row instead of summing
-- every case of the organisation (review.Store.OrgUsage). A case is open
-- unless it is decided or withdrawn. The trigger fires on an update only
-- when a case moves between open and closed, changes size or changes
-- organisation: those updates are made before their audit entry (as every
-- case change is), so the organisation's row is always locked before the
-- audit chain's lock, in the order a submission takes them.
ALTER TABLE orgs ADD COLUMN open_cases BIGINT NOT NULL DEFAULT 0,
	ADD COLUMN dossier_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE orgs SET
	open_cases = (SELECT COUNT(*) FROM cases WHERE cases.org_id = orgs.id AND cases.state NOT IN ('decided', 'withdrawn')),
	dossier_bytes = (SELECT COALESCE(SUM(cases.dossier_bytes), 0) FROM cases WHERE cases.org_id = orgs.id);

CREATE FUNCTION cases_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		UPDATE orgs SET open_cases = open_cases - (CASE WHEN OLD.state IN ('decided', 'withdrawn') THEN 0 ELSE 1 END),
			dossier_bytes = dossier_bytes - OLD.dossier_bytes
		WHERE id = OLD.org_id;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		UPDATE orgs SET open_cases = open_cases + (CASE WHEN NEW.state IN ('decided', 'withdrawn') THEN 0 ELSE 1 END),
			dossier_bytes = dossier_bytes + NEW.dossier_bytes
		WHERE id = NEW.org_id;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER cases_usage_insert AFTER INSERT OR DELETE ON cases
	FOR EACH ROW EXECUTE FUNCTION cases_usage();
CREATE TRIGGER cases_usage_update AFTER UPDATE ON cases
	FOR EACH ROW WHEN ((OLD.state IN ('decided', 'withdrawn')) IS DISTINCT FROM (NEW.state IN ('decided', 'withdrawn'))
		OR OLD.dossier_bytes <> NEW.dossier_bytes OR OLD.org_id <> NEW.org_id)
	EXECUTE FUNCTION cases_usage();
