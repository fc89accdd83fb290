package sqlstore

import (
	"context"
	"fmt"

	"github.com/clearance-dev/clearance/review"
)

const referenceCols = `assessment_id, case_id, name, url, model, digest, credentials, created_at`

// CreateAssessmentReference implements review.Store.
func (d *Records) CreateAssessmentReference(ctx context.Context, r review.AssessmentReference) error {
	_, err := d.exec(ctx, "create reference of assessment "+r.AssessmentID, `INSERT INTO assessment_references (`+referenceCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		r.AssessmentID, r.CaseID, r.Name, r.URL, r.Model, r.Digest, nonNil(r.Credentials), fmtTime(r.CreatedAt))
	return err
}

func scanReference(s scanner) (review.AssessmentReference, error) {
	var r review.AssessmentReference
	var created string
	if err := s.Scan(&r.AssessmentID, &r.CaseID, &r.Name, &r.URL, &r.Model, &r.Digest, &r.Credentials, &created); err != nil {
		return r, err
	}
	if len(r.Credentials) == 0 {
		r.Credentials = nil // none: nil from either store
	}
	var err error
	r.CreatedAt, err = parseTime(created)
	return r, err
}

// GetAssessmentReference implements review.Store.
func (d *Records) GetAssessmentReference(ctx context.Context, assessmentID string) (review.AssessmentReference, error) {
	r, err := scanReference(d.q.QueryRow(ctx, `SELECT `+referenceCols+` FROM assessment_references WHERE assessment_id = $1`, assessmentID))
	if err != nil {
		return r, fmt.Errorf("get reference of assessment %s: %w", assessmentID, err)
	}
	return r, nil
}

// ListAssessmentReferences implements review.Store.
func (d *Records) ListAssessmentReferences(ctx context.Context, caseID string) ([]review.AssessmentReference, error) {
	rs, err := list(ctx, d.q, scanReference, `SELECT `+referenceCols+` FROM assessment_references
		WHERE case_id = $1 ORDER BY assessment_id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("list references: %w", err)
	}
	return rs, nil
}
