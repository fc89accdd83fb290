package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// optTime stores a zero time as ”.
func optTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmtTime(t)
}

func parseOptTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return parseTime(s)
}

const incidentCols = `id, case_id, decision_id, org_id, class, summary, evidence, discovered_at, filed_by, resolved_at, resolution, created_at`

// CreateIncident implements review.Store.
func (d *Records) CreateIncident(ctx context.Context, in review.Incident) error {
	_, err := d.exec(ctx, "create incident "+in.ID, `INSERT INTO incidents (`+incidentCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		in.ID, in.CaseID, in.DecisionID, in.OrgID, string(in.Class), in.Summary, in.Evidence, fmtTime(in.DiscoveredAt),
		in.FiledBy, optTime(in.ResolvedAt), in.Resolution, fmtTime(in.CreatedAt))
	return err
}

func scanIncident(s scanner) (review.Incident, error) {
	var in review.Incident
	var class, discovered, resolved, created string
	if err := s.Scan(&in.ID, &in.CaseID, &in.DecisionID, &in.OrgID, &class, &in.Summary, &in.Evidence, &discovered,
		&in.FiledBy, &resolved, &in.Resolution, &created); err != nil {
		return in, err
	}
	in.Class = review.IncidentClass(class)
	var err error
	if in.DiscoveredAt, err = parseTime(discovered); err != nil {
		return in, err
	}
	if in.ResolvedAt, err = parseOptTime(resolved); err != nil {
		return in, err
	}
	in.CreatedAt, err = parseTime(created)
	return in, err
}

// GetIncident implements review.Store.
func (d *Records) GetIncident(ctx context.Context, id string) (review.Incident, error) {
	in, err := scanIncident(d.q.QueryRow(ctx, `SELECT `+incidentCols+` FROM incidents WHERE id = $1`, id))
	if err != nil {
		return in, fmt.Errorf("get incident %s: %w", id, err)
	}
	return in, nil
}

// ListIncidents implements review.Store.
func (d *Records) ListIncidents(ctx context.Context, f review.IncidentFilter) ([]review.Incident, error) {
	is, err := list(ctx, d.q, scanIncident, `SELECT `+incidentCols+` FROM incidents
		WHERE ($1 = '' OR case_id = $1) AND ($2 = '' OR org_id = $2) AND id > $3 ORDER BY id LIMIT $4`,
		f.CaseID, f.OrgID, f.After, f.N())
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return is, nil
}

// UpdateIncident implements review.Store: it stores ResolvedAt and
// Resolution.
func (d *Records) UpdateIncident(ctx context.Context, in review.Incident) error {
	op := "update incident " + in.ID
	r, err := d.exec(ctx, op, `UPDATE incidents SET resolved_at = $2, resolution = $3 WHERE id = $1`,
		in.ID, optTime(in.ResolvedAt), in.Resolution)
	if err != nil {
		return err
	}
	return one(r, op)
}

const dutyCols = `id, case_id, incident_id, profile, kind, class, title, recipient, cite, due_at, state, report_id, done_at, created_at`

// CreateDuty implements review.Store.
func (d *Records) CreateDuty(ctx context.Context, u review.Duty) error {
	_, err := d.exec(ctx, "create duty "+u.ID, `INSERT INTO duties (`+dutyCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		u.ID, u.CaseID, u.IncidentID, u.Profile, string(u.Kind), u.Class, u.Title, u.To, u.Cite, fmtTime(u.DueAt),
		string(u.State), u.ReportID, optTime(u.DoneAt), fmtTime(u.CreatedAt))
	return err
}

func scanDuty(s scanner) (review.Duty, error) {
	var u review.Duty
	var kind, state, due, done, created string
	if err := s.Scan(&u.ID, &u.CaseID, &u.IncidentID, &u.Profile, &kind, &u.Class, &u.Title, &u.To, &u.Cite, &due,
		&state, &u.ReportID, &done, &created); err != nil {
		return u, err
	}
	u.Kind, u.State = review.DutyKind(kind), review.DutyState(state)
	var err error
	if u.DueAt, err = parseTime(due); err != nil {
		return u, err
	}
	if u.DoneAt, err = parseOptTime(done); err != nil {
		return u, err
	}
	u.CreatedAt, err = parseTime(created)
	return u, err
}

// GetDuty implements review.Store.
func (d *Records) GetDuty(ctx context.Context, id string) (review.Duty, error) {
	u, err := scanDuty(d.q.QueryRow(ctx, `SELECT `+dutyCols+` FROM duties WHERE id = $1`, id))
	if err != nil {
		return u, fmt.Errorf("get duty %s: %w", id, err)
	}
	return u, nil
}

// ListDuties implements review.Store.
func (d *Records) ListDuties(ctx context.Context, f review.DutyFilter) ([]review.Duty, error) {
	var where []string
	args := []any{f.After}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.CaseID != "" {
		add("case_id = $%d", f.CaseID)
	}
	if f.IncidentID != "" {
		add("incident_id = $%d", f.IncidentID)
	}
	if f.OrgID != "" {
		add("case_id IN (SELECT id FROM cases WHERE org_id = $%d)", f.OrgID)
	}
	if f.State != "" {
		add("state = $%d", string(f.State))
	}
	if !f.DueBefore.IsZero() {
		add("due_at <= $%d", fmtTime(f.DueBefore))
	}
	q := `SELECT ` + dutyCols + ` FROM duties WHERE id > $1`
	for _, w := range where {
		q += " AND " + w
	}
	args = append(args, f.N())
	q += fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args))
	ds, err := list(ctx, d.q, scanDuty, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list duties: %w", err)
	}
	return ds, nil
}

// UpdateDuty implements review.Store.
func (d *Records) UpdateDuty(ctx context.Context, u review.Duty, from review.DutyState) error {
	op := "update duty " + u.ID
	r, err := d.exec(ctx, op, `UPDATE duties SET state = $2, report_id = $3, done_at = $4, due_at = $5
		WHERE id = $1 AND state = $6`, u.ID, string(u.State), u.ReportID, optTime(u.DoneAt), fmtTime(u.DueAt), string(from))
	if err != nil {
		return err
	}
	if r.RowsAffected() == 0 {
		if _, err := d.GetDuty(ctx, u.ID); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return fmt.Errorf("%s: not in state %s: %w", op, from, review.ErrConflict)
	}
	return nil
}

const reportCols = `id, incident_id, duty_id, case_id, markdown, document, filed_by, created_at`

// CreateIncidentReport implements review.Store.
func (d *Records) CreateIncidentReport(ctx context.Context, r review.IncidentReport) error {
	_, err := d.exec(ctx, "create incident report "+r.ID, `INSERT INTO incident_reports (`+reportCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.ID, r.IncidentID, r.DutyID, r.CaseID, r.Markdown, string(r.Document), r.FiledBy, fmtTime(r.CreatedAt))
	return err
}

func scanIncidentReport(s scanner) (review.IncidentReport, error) {
	var r review.IncidentReport
	var doc, created string
	if err := s.Scan(&r.ID, &r.IncidentID, &r.DutyID, &r.CaseID, &r.Markdown, &doc, &r.FiledBy, &created); err != nil {
		return r, err
	}
	r.Document = []byte(doc)
	var err error
	r.CreatedAt, err = parseTime(created)
	return r, err
}

// GetIncidentReport implements review.Store.
func (d *Records) GetIncidentReport(ctx context.Context, id string) (review.IncidentReport, error) {
	r, err := scanIncidentReport(d.q.QueryRow(ctx, `SELECT `+reportCols+` FROM incident_reports WHERE id = $1`, id))
	if err != nil {
		return r, fmt.Errorf("get incident report %s: %w", id, err)
	}
	return r, nil
}

// ListIncidentReports implements review.Store.
func (d *Records) ListIncidentReports(ctx context.Context, incidentID string, p review.Page) ([]review.IncidentReport, error) {
	rs, err := list(ctx, d.q, scanIncidentReport, `SELECT `+reportCols+` FROM incident_reports
		WHERE incident_id = $1 AND id > $2 ORDER BY id LIMIT $3`, incidentID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list incident reports: %w", err)
	}
	return rs, nil
}
