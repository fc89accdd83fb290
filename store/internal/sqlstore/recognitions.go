package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/clearance-dev/clearance/review"
)

const recognitionCols = `id, case_id, org_id, authority, kind, signer_key, log_origin, log_index, decision_id, verifier,
	model_digest, decided_at, expires_at, outcome, profiles, bundle, receipt, note, imported_by, created_at`

// CreateRecognition implements review.Store.
func (d *Records) CreateRecognition(ctx context.Context, r review.Recognition) error {
	op := "create recognition " + r.ID
	profiles, err := jsonText(nonNil(r.Profiles))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	expires := ""
	if !r.ExpiresAt.IsZero() {
		expires = fmtTime(r.ExpiresAt)
	}
	_, err = d.exec(ctx, op, `INSERT INTO recognitions (`+recognitionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		r.ID, r.CaseID, r.OrgID, r.Authority, r.Kind, r.SignerKey, r.LogOrigin, r.LogIndex, r.DecisionID, r.Verifier,
		r.ModelDigest, fmtTime(r.DecidedAt), expires, r.Outcome, profiles, nonNil(r.Bundle), nonNil(r.Receipt),
		r.Note, r.ImportedBy, fmtTime(r.CreatedAt))
	return err
}

func scanRecognition(s scanner) (review.Recognition, error) {
	var r review.Recognition
	var decided, expires, profiles, created string
	if err := s.Scan(&r.ID, &r.CaseID, &r.OrgID, &r.Authority, &r.Kind, &r.SignerKey, &r.LogOrigin, &r.LogIndex,
		&r.DecisionID, &r.Verifier, &r.ModelDigest, &decided, &expires, &r.Outcome, &profiles, &r.Bundle, &r.Receipt,
		&r.Note, &r.ImportedBy, &created); err != nil {
		return r, err
	}
	if len(r.Receipt) == 0 {
		r.Receipt = nil // no receipt: nil from either store
	}
	var err error
	if r.DecidedAt, err = parseTime(decided); err != nil {
		return r, err
	}
	if expires != "" {
		if r.ExpiresAt, err = parseTime(expires); err != nil {
			return r, err
		}
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(profiles), &r.Profiles); err != nil {
		return r, fmt.Errorf("recognition %s: profiles: %w", r.ID, err)
	}
	return r, nil
}

// ListRecognitions implements review.Store.
func (d *Records) ListRecognitions(ctx context.Context, caseID string, p review.Page) ([]review.Recognition, error) {
	rs, err := list(ctx, d.q, scanRecognition, `SELECT `+recognitionCols+` FROM recognitions
		WHERE case_id = $1 AND id > $2 ORDER BY id LIMIT $3`, caseID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list recognitions: %w", err)
	}
	return rs, nil
}
