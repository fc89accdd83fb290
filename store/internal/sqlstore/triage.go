package sqlstore

import (
	"context"
	"fmt"

	"github.com/clearance-dev/clearance/review"
)

// PutTriageReview implements review.Store.
func (d *Records) PutTriageReview(ctx context.Context, r review.TriageReview) error {
	_, err := d.exec(ctx, fmt.Sprintf("put triage review %d of %s", r.Seq, r.AssessmentID),
		`INSERT INTO triage_reviews (assessment_id, seq, case_id, label, note, reviewed_by, reviewed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (assessment_id, seq) DO UPDATE SET case_id = excluded.case_id, label = excluded.label,
			note = excluded.note, reviewed_by = excluded.reviewed_by, reviewed_at = excluded.reviewed_at`,
		r.AssessmentID, r.Seq, r.CaseID, r.Label, r.Note, r.ReviewedBy, fmtTime(r.ReviewedAt))
	return err
}

func scanTriageReview(s scanner) (review.TriageReview, error) {
	var r review.TriageReview
	var at string
	if err := s.Scan(&r.AssessmentID, &r.Seq, &r.CaseID, &r.Label, &r.Note, &r.ReviewedBy, &at); err != nil {
		return r, err
	}
	var err error
	r.ReviewedAt, err = parseTime(at)
	return r, err
}

// ListTriageReviews implements review.Store.
func (d *Records) ListTriageReviews(ctx context.Context, assessmentID string) ([]review.TriageReview, error) {
	rs, err := list(ctx, d.q, scanTriageReview, `SELECT assessment_id, seq, case_id, label, note, reviewed_by, reviewed_at
		FROM triage_reviews WHERE assessment_id = $1 ORDER BY seq`, assessmentID)
	if err != nil {
		return nil, fmt.Errorf("list triage reviews of %s: %w", assessmentID, err)
	}
	return rs, nil
}
