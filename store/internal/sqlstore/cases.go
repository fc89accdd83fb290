package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/clearance-dev/clearance/review"
)

// CreateCase implements review.Store.
func (d *Records) CreateCase(ctx context.Context, c review.Case) error {
	op := "create case " + c.ID
	profiles, err := jsonText(nonNil(c.Profiles))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	clock, err := clockText(c.Clock)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	assignees, err := jsonText(nonNil(c.Assignees))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	agencies, err := agenciesText(c.Agencies)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	_, err = d.exec(ctx, op, `INSERT INTO cases (id, org_id, model_digest, model_name, dossier, target_url, credentials,
		profiles, state, clock, version, created_at, updated_at, assignees, dossier_bytes, agencies)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		c.ID, c.OrgID, c.ModelDigest, c.ModelName, string(c.Dossier), c.TargetURL, c.Credentials,
		profiles, string(c.State), clock, c.Version, fmtTime(c.CreatedAt), fmtTime(c.UpdatedAt), assignees, int64(len(c.Dossier)), agencies)
	return err
}

// OrgUsageSQL reads an organisation's usage counters, which triggers on
// cases keep (migration 0009): $1 is the organisation. A missing
// organisation has no row and so no usage.
const OrgUsageSQL = `SELECT open_cases, dossier_bytes FROM orgs WHERE id = $1`

// OrgUsage implements review.Store without a lock of its own: SQLite's
// transactions hold the database's write lock from their start, which
// is enough. PostgreSQL's store locks the organisation first.
func (d *Records) OrgUsage(ctx context.Context, orgID string) (review.Usage, error) {
	var u review.Usage
	err := d.q.QueryRow(ctx, OrgUsageSQL, orgID).Scan(&u.OpenCases, &u.Bytes)
	if errors.Is(err, review.ErrNotFound) {
		return review.Usage{}, nil
	}
	if err != nil {
		return u, fmt.Errorf("usage of organisation %s: %w", orgID, err)
	}
	return u, nil
}

// caseAgency is a review.CaseAgency as the agencies column stores it.
type caseAgency struct {
	OrgID   string   `json:"org_id"`
	Lead    bool     `json:"lead,omitempty"`
	Domains []string `json:"domains"`
	AddedBy string   `json:"added_by"`
	AddedAt string   `json:"added_at"`
}

// agenciesText encodes a case's agencies for the agencies column (a
// JSON array; "[]" for a case that is not a joint review).
func agenciesText(as []review.CaseAgency) (string, error) {
	out := make([]caseAgency, len(as))
	for i, a := range as {
		out[i] = caseAgency{OrgID: a.OrgID, Lead: a.Lead, Domains: nonNil(a.Domains), AddedBy: a.AddedBy, AddedAt: fmtTime(a.AddedAt)}
	}
	return jsonText(out)
}

func parseAgencies(caseID, text string) ([]review.CaseAgency, error) {
	var in []caseAgency
	if err := json.Unmarshal([]byte(text), &in); err != nil {
		return nil, fmt.Errorf("decode agencies of case %s: %w", caseID, err)
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]review.CaseAgency, len(in))
	for i, a := range in {
		at, err := parseTime(a.AddedAt)
		if err != nil {
			return nil, fmt.Errorf("decode agencies of case %s: %w", caseID, err)
		}
		out[i] = review.CaseAgency{OrgID: a.OrgID, Lead: a.Lead, Domains: a.Domains, AddedBy: a.AddedBy, AddedAt: at}
		if len(out[i].Domains) == 0 {
			out[i].Domains = nil
		}
	}
	return out, nil
}

func clockText(k *review.Clock) (any, error) {
	if k == nil {
		return nil, nil
	}
	return jsonText(k)
}

const caseCols = `id, org_id, model_digest, model_name, dossier, target_url, credentials, profiles, state, clock, version, created_at, updated_at, assignees, agencies`

// caseListCols are caseCols less the dossier, which lists leave out: a
// page of 500 cases would otherwise carry up to 500 MiB of dossiers.
// The empty string keeps the column positions of caseCols.
const caseListCols = `id, org_id, model_digest, model_name, '', target_url, credentials, profiles, state, clock, version, created_at, updated_at, assignees, agencies`

func scanCase(s scanner) (review.Case, error) {
	var c review.Case
	var dossier, profiles, state, created, updated, assignees, agencies string
	var clock sql.NullString
	if err := s.Scan(&c.ID, &c.OrgID, &c.ModelDigest, &c.ModelName, &dossier, &c.TargetURL, &c.Credentials,
		&profiles, &state, &clock, &c.Version, &created, &updated, &assignees, &agencies); err != nil {
		return c, err
	}
	var err error
	if c.Agencies, err = parseAgencies(c.ID, agencies); err != nil {
		return c, err
	}
	if dossier != "" {
		c.Dossier = json.RawMessage(dossier)
	}
	if err := json.Unmarshal([]byte(assignees), &c.Assignees); err != nil {
		return c, fmt.Errorf("decode assignees of case %s: %w", c.ID, err)
	}
	if len(c.Assignees) == 0 {
		c.Assignees = nil
	}
	c.State = review.State(state)
	if err := json.Unmarshal([]byte(profiles), &c.Profiles); err != nil {
		return c, fmt.Errorf("decode profiles of case %s: %w", c.ID, err)
	}
	if clock.Valid {
		c.Clock = new(review.Clock)
		if err := json.Unmarshal([]byte(clock.String), c.Clock); err != nil {
			return c, fmt.Errorf("decode clock of case %s: %w", c.ID, err)
		}
	}
	if c.CreatedAt, err = parseTime(created); err != nil {
		return c, err
	}
	c.UpdatedAt, err = parseTime(updated)
	return c, err
}

// GetCase implements review.Store.
func (d *Records) GetCase(ctx context.Context, id string) (review.Case, error) {
	c, err := scanCase(d.q.QueryRow(ctx, `SELECT `+caseCols+` FROM cases WHERE id = $1`, id))
	if err != nil {
		return c, fmt.Errorf("get case %s: %w", id, err)
	}
	return c, nil
}

// ListCases implements review.Store; the cases come without their
// Dossier.
func (d *Records) ListCases(ctx context.Context, f review.CaseFilter) ([]review.Case, error) {
	assignee, err := assigneePattern(f.Assignee)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	cs, err := list(ctx, d.q, scanCase, `SELECT `+caseListCols+` FROM cases
		WHERE ($1 = '' OR org_id = $2) AND ($3 = '' OR state = $4) AND ($7 = '' OR assignees LIKE $8 ESCAPE '\')
		AND ($9 = '' OR model_digest = $10) AND id > $5 ORDER BY id LIMIT $6`,
		f.OrgID, f.OrgID, string(f.State), string(f.State), f.After, f.N(), f.Assignee, assignee, f.ModelDigest, f.ModelDigest)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	return cs, nil
}

// assigneePattern is the LIKE pattern matching an assignees column (a
// JSON array of ids) that holds id: the id as a JSON string, with LIKE's
// wildcards escaped, anywhere in the text. SQLite's LIKE ignores ASCII
// case, so it may match more than asked; review.Service checks every
// case it lists again.
func assigneePattern(id string) (string, error) {
	if id == "" {
		return "", nil
	}
	q, err := jsonText(id)
	if err != nil {
		return "", err
	}
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%", nil
}

// UpdateCase implements review.Store.
func (d *Records) UpdateCase(ctx context.Context, c review.Case) (review.Case, error) {
	op := "update case " + c.ID
	clock, err := clockText(c.Clock)
	if err != nil {
		return c, fmt.Errorf("%s: %w", op, err)
	}
	assignees, err := jsonText(nonNil(c.Assignees))
	if err != nil {
		return c, fmt.Errorf("%s: %w", op, err)
	}
	agencies, err := agenciesText(c.Agencies)
	if err != nil {
		return c, fmt.Errorf("%s: %w", op, err)
	}
	r, err := d.exec(ctx, op, `UPDATE cases SET state = $1, clock = $2, assignees = $3, version = version + 1, updated_at = $4,
		agencies = $7 WHERE id = $5 AND version = $6`, string(c.State), clock, assignees, fmtTime(c.UpdatedAt), c.ID, c.Version, agencies)
	if err != nil {
		return c, err
	}
	if err := d.versioned(ctx, r, op, "cases", c.ID, c.Version); err != nil {
		return c, err
	}
	c.Version++
	c.UpdatedAt = review.AuditTime(c.UpdatedAt)
	return c, nil
}

// versioned checks the result r of an optimistic UPDATE of row id of
// table made from version: when it touched nothing, the row is missing
// (ErrNotFound) or its version moved on (ErrConflict).
func (d *Records) versioned(ctx context.Context, r Result, op, table, id string, version int64) error {
	if r.RowsAffected() > 0 {
		return nil
	}
	var v int64
	if err := d.q.QueryRow(ctx, `SELECT version FROM `+table+` WHERE id = $1`, id).Scan(&v); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: version %d is stale, stored version is %d: %w", op, version, v, review.ErrConflict)
}

// CreateFinding implements review.Store.
func (d *Records) CreateFinding(ctx context.Context, f review.Finding) error {
	op := "create finding " + f.ID
	samples, err := jsonText(nonNil(f.SampleIDs))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	_, err = d.exec(ctx, op, `INSERT INTO findings (id, case_id, severity, title, description, sample_ids, deadline,
		status, created_by, created_at, updated_at, org_id, shared) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		f.ID, f.CaseID, string(f.Severity), f.Title, f.Description, samples, fmtTime(f.Deadline),
		string(f.Status), f.CreatedBy, fmtTime(f.CreatedAt), fmtTime(f.UpdatedAt), f.OrgID, f.Shared)
	return err
}

const findingCols = `id, case_id, severity, title, description, sample_ids, deadline, status, created_by, created_at, updated_at, org_id, shared`

func scanFinding(s scanner) (review.Finding, error) {
	var f review.Finding
	var sev, samples, deadline, status, created, updated string
	if err := s.Scan(&f.ID, &f.CaseID, &sev, &f.Title, &f.Description, &samples, &deadline, &status,
		&f.CreatedBy, &created, &updated, &f.OrgID, &f.Shared); err != nil {
		return f, err
	}
	f.Severity, f.Status = review.Severity(sev), review.FindingStatus(status)
	if err := json.Unmarshal([]byte(samples), &f.SampleIDs); err != nil {
		return f, fmt.Errorf("decode sample ids of finding %s: %w", f.ID, err)
	}
	var err error
	if f.Deadline, err = parseTime(deadline); err != nil {
		return f, err
	}
	if f.CreatedAt, err = parseTime(created); err != nil {
		return f, err
	}
	f.UpdatedAt, err = parseTime(updated)
	return f, err
}

// GetFinding implements review.Store.
func (d *Records) GetFinding(ctx context.Context, id string) (review.Finding, error) {
	f, err := scanFinding(d.q.QueryRow(ctx, `SELECT `+findingCols+` FROM findings WHERE id = $1`, id))
	if err != nil {
		return f, fmt.Errorf("get finding %s: %w", id, err)
	}
	return f, nil
}

// ListFindings implements review.Store.
func (d *Records) ListFindings(ctx context.Context, caseID string, p review.Page) ([]review.Finding, error) {
	fs, err := list(ctx, d.q, scanFinding, `SELECT `+findingCols+` FROM findings WHERE case_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		caseID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	return fs, nil
}

// UpdateFinding implements review.Store.
func (d *Records) UpdateFinding(ctx context.Context, f review.Finding) error {
	op := "update finding " + f.ID
	r, err := d.exec(ctx, op, `UPDATE findings SET status = $1, deadline = $2, updated_at = $3, shared = $5 WHERE id = $4`,
		string(f.Status), fmtTime(f.Deadline), fmtTime(f.UpdatedAt), f.ID, f.Shared)
	if err != nil {
		return err
	}
	return one(r, op)
}

// CreateResponse implements review.Store.
func (d *Records) CreateResponse(ctx context.Context, r review.Response) error {
	_, err := d.exec(ctx, "create response "+r.ID, `INSERT INTO responses (id, case_id, finding_id, author_id, body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, r.ID, r.CaseID, r.FindingID, r.AuthorID, r.Body, fmtTime(r.CreatedAt))
	return err
}

func scanResponse(s scanner) (review.Response, error) {
	var r review.Response
	var at string
	if err := s.Scan(&r.ID, &r.CaseID, &r.FindingID, &r.AuthorID, &r.Body, &at); err != nil {
		return r, err
	}
	var err error
	r.CreatedAt, err = parseTime(at)
	return r, err
}

// ListResponses implements review.Store.
func (d *Records) ListResponses(ctx context.Context, caseID, findingID string, p review.Page) ([]review.Response, error) {
	rs, err := list(ctx, d.q, scanResponse, `SELECT id, case_id, finding_id, author_id, body, created_at FROM responses
		WHERE case_id = $1 AND ($2 = '' OR finding_id = $3) AND id > $4 ORDER BY id LIMIT $5`,
		caseID, findingID, findingID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list responses: %w", err)
	}
	return rs, nil
}

// CreateDecision implements review.Store.
func (d *Records) CreateDecision(ctx context.Context, x review.Decision) error {
	op := "create decision " + x.ID
	missing, err := jsonText(nonNil(x.Missing))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	concurring, err := jsonText(nonNil(x.Concurring))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	variants, err := jsonText(nonNil(x.Variants))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	_, err = d.exec(ctx, op, `INSERT INTO decisions (id, case_id, official_id, outcomes, rationale, missing,
		override_reason, deemed, bundle, created_at, concurring, variants) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		x.ID, x.CaseID, x.OfficialID, string(x.Outcomes), x.Rationale, missing, x.OverrideReason, x.Deemed,
		x.Bundle, fmtTime(x.CreatedAt), concurring, variants)
	return err
}

const decisionCols = `id, case_id, official_id, outcomes, rationale, missing, override_reason, deemed, bundle, log_index, receipt, created_at, concurring, variants`

func scanDecision(s scanner) (review.Decision, error) {
	var x review.Decision
	var outcomes, missing, at, concurring, variants string
	var logIndex sql.NullInt64
	if err := s.Scan(&x.ID, &x.CaseID, &x.OfficialID, &outcomes, &x.Rationale, &missing, &x.OverrideReason,
		&x.Deemed, &x.Bundle, &logIndex, &x.Receipt, &at, &concurring, &variants); err != nil {
		return x, err
	}
	if err := json.Unmarshal([]byte(variants), &x.Variants); err != nil {
		return x, fmt.Errorf("decode variants of decision %s: %w", x.ID, err)
	}
	if len(x.Variants) == 0 {
		x.Variants = nil
	}
	if err := json.Unmarshal([]byte(concurring), &x.Concurring); err != nil {
		return x, fmt.Errorf("decode concurring agencies of decision %s: %w", x.ID, err)
	}
	if len(x.Concurring) == 0 {
		x.Concurring = nil
	}
	x.LogIndex = -1
	if logIndex.Valid {
		x.LogIndex = logIndex.Int64
	}
	x.Outcomes = json.RawMessage(outcomes)
	if err := json.Unmarshal([]byte(missing), &x.Missing); err != nil {
		return x, fmt.Errorf("decode missing evidence of decision %s: %w", x.ID, err)
	}
	if len(x.Missing) == 0 {
		x.Missing = nil
	}
	var err error
	x.CreatedAt, err = parseTime(at)
	return x, err
}

// GetDecision implements review.Store.
func (d *Records) GetDecision(ctx context.Context, id string) (review.Decision, error) {
	x, err := scanDecision(d.q.QueryRow(ctx, `SELECT `+decisionCols+` FROM decisions WHERE id = $1`, id))
	if err != nil {
		return x, fmt.Errorf("get decision %s: %w", id, err)
	}
	return x, nil
}

// ListDecisions implements review.Store.
func (d *Records) ListDecisions(ctx context.Context, caseID string, p review.Page) ([]review.Decision, error) {
	xs, err := list(ctx, d.q, scanDecision, `SELECT `+decisionCols+` FROM decisions
		WHERE ($1 = '' OR case_id = $2) AND id > $3 ORDER BY id LIMIT $4`, caseID, caseID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list decisions: %w", err)
	}
	return xs, nil
}

// SetDecisionLog implements review.Store. Setting the index a decision
// is already logged at again replaces its receipt.
func (d *Records) SetDecisionLog(ctx context.Context, id string, index int64, receipt []byte) error {
	op := "set log index of decision " + id
	if index < 0 {
		return fmt.Errorf("%s: negative log index %d", op, index)
	}
	r, err := d.exec(ctx, op, `UPDATE decisions SET log_index = $1, receipt = $2
		WHERE id = $3 AND (log_index IS NULL OR log_index = $4)`, index, receipt, id, index)
	if err != nil {
		return err
	}
	if r.RowsAffected() > 0 {
		return nil
	}
	var cur int64
	if err := d.q.QueryRow(ctx, `SELECT log_index FROM decisions WHERE id = $1`, id).Scan(&cur); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: already logged at index %d, not %d: %w", op, cur, index, review.ErrConflict)
}

// ListUnloggedDecisions implements review.Store. A limit of zero or less
// means review.DefaultPageLimit, as in review.Page.
func (d *Records) ListUnloggedDecisions(ctx context.Context, limit int) ([]review.Decision, error) {
	xs, err := list(ctx, d.q, scanDecision, `SELECT `+decisionCols+` FROM decisions
		WHERE bundle IS NOT NULL AND log_index IS NULL ORDER BY created_at, id LIMIT $1`, review.Page{Limit: limit}.N())
	if err != nil {
		return nil, fmt.Errorf("list unlogged decisions: %w", err)
	}
	return xs, nil
}

// CreateAppeal implements review.Store.
func (d *Records) CreateAppeal(ctx context.Context, a review.Appeal) error {
	_, err := d.exec(ctx, "create appeal "+a.ID, `INSERT INTO appeals (id, case_id, decision_id, filed_by, grounds, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, a.ID, a.CaseID, a.DecisionID, a.FiledBy, a.Grounds, fmtTime(a.CreatedAt))
	return err
}

func scanAppeal(s scanner) (review.Appeal, error) {
	var a review.Appeal
	var at string
	if err := s.Scan(&a.ID, &a.CaseID, &a.DecisionID, &a.FiledBy, &a.Grounds, &at); err != nil {
		return a, err
	}
	var err error
	a.CreatedAt, err = parseTime(at)
	return a, err
}

// ListAppeals implements review.Store.
func (d *Records) ListAppeals(ctx context.Context, caseID string, p review.Page) ([]review.Appeal, error) {
	as, err := list(ctx, d.q, scanAppeal, `SELECT id, case_id, decision_id, filed_by, grounds, created_at FROM appeals
		WHERE case_id = $1 AND id > $2 ORDER BY id LIMIT $3`, caseID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list appeals: %w", err)
	}
	return as, nil
}

const auditCols = `seq, time, actor, action, case_id, details, prev_hash, hash`

func scanAudit(s scanner) (review.AuditEntry, error) {
	var e review.AuditEntry
	var at, details string
	if err := s.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.CaseID, &details, &e.PrevHash, &e.Hash); err != nil {
		return e, err
	}
	e.Details = json.RawMessage(details)
	var err error
	e.Time, err = parseTime(at)
	return e, err
}

// AuditHead implements review.Store.
func (d *Records) AuditHead(ctx context.Context) (review.AuditEntry, error) {
	e, err := scanAudit(d.q.QueryRow(ctx, `SELECT `+auditCols+` FROM audit ORDER BY seq DESC LIMIT 1`))
	if err != nil {
		return e, fmt.Errorf("get audit head: %w", err)
	}
	return e, nil
}

// ListAudit implements review.Store.
func (d *Records) ListAudit(ctx context.Context, f review.AuditFilter) ([]review.AuditEntry, error) {
	es, err := list(ctx, d.q, scanAudit, `SELECT `+auditCols+` FROM audit WHERE ($1 = '' OR case_id = $2) AND seq > $3
		ORDER BY seq LIMIT $4`, f.CaseID, f.CaseID, f.AfterSeq, review.Page{Limit: f.Limit}.N())
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return es, nil
}
