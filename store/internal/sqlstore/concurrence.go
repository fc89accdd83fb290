package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/clearance-dev/clearance/review"
)

// PutProposal implements review.Store: the case's proposal is replaced
// and the positions taken on the old one deleted.
func (d *Records) PutProposal(ctx context.Context, p review.Proposal) error {
	op := "put proposal of case " + p.CaseID
	if _, err := d.exec(ctx, op, `DELETE FROM positions WHERE case_id = $1`, p.CaseID); err != nil {
		return err
	}
	_, err := d.exec(ctx, op, `INSERT INTO proposals (case_id, outcomes, rationale, proposed_by, created_at, deadline)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (case_id) DO UPDATE SET outcomes = excluded.outcomes, rationale = excluded.rationale,
			proposed_by = excluded.proposed_by, created_at = excluded.created_at, deadline = excluded.deadline`,
		p.CaseID, string(p.Outcomes), p.Rationale, p.ProposedBy, fmtTime(p.CreatedAt), fmtTime(p.Deadline))
	return err
}

// GetProposal implements review.Store.
func (d *Records) GetProposal(ctx context.Context, caseID string) (review.Proposal, error) {
	var p review.Proposal
	var outcomes, at, deadline string
	err := d.q.QueryRow(ctx, `SELECT case_id, outcomes, rationale, proposed_by, created_at, deadline
		FROM proposals WHERE case_id = $1`, caseID).Scan(&p.CaseID, &outcomes, &p.Rationale, &p.ProposedBy, &at, &deadline)
	if err != nil {
		return p, fmt.Errorf("get proposal of case %s: %w", caseID, err)
	}
	p.Outcomes = json.RawMessage(outcomes)
	if p.CreatedAt, err = parseTime(at); err != nil {
		return p, err
	}
	p.Deadline, err = parseTime(deadline)
	return p, err
}

// PutPosition implements review.Store.
func (d *Records) PutPosition(ctx context.Context, p review.Position) error {
	op := "put position of " + p.OrgID + " on case " + p.CaseID
	conds, err := jsonText(nonNil(p.Conditions))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	_, err = d.exec(ctx, op, `INSERT INTO positions (case_id, org_id, position, reason, conditions, deemed, answer,
		answered_by, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (case_id, org_id) DO UPDATE SET position = excluded.position, reason = excluded.reason,
			conditions = excluded.conditions, deemed = excluded.deemed, answer = excluded.answer,
			answered_by = excluded.answered_by, user_id = excluded.user_id, created_at = excluded.created_at`,
		p.CaseID, p.OrgID, p.Position, p.Reason, conds, p.Deemed, p.Answer, p.AnsweredBy, p.UserID, fmtTime(p.CreatedAt))
	return err
}

// ListPositions implements review.Store.
func (d *Records) ListPositions(ctx context.Context, caseID string) ([]review.Position, error) {
	ps, err := list(ctx, d.q, scanPosition, `SELECT case_id, org_id, position, reason, conditions, deemed, answer,
		answered_by, user_id, created_at FROM positions WHERE case_id = $1 ORDER BY org_id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("list positions of case %s: %w", caseID, err)
	}
	return ps, nil
}

func scanPosition(s scanner) (review.Position, error) {
	var p review.Position
	var conds, at string
	if err := s.Scan(&p.CaseID, &p.OrgID, &p.Position, &p.Reason, &conds, &p.Deemed, &p.Answer,
		&p.AnsweredBy, &p.UserID, &at); err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(conds), &p.Conditions); err != nil {
		return p, fmt.Errorf("decode conditions of position of %s on case %s: %w", p.OrgID, p.CaseID, err)
	}
	if p.Conditions == nil {
		p.Conditions = []string{}
	}
	var err error
	p.CreatedAt, err = parseTime(at)
	return p, err
}
