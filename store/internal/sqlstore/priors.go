package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// SetCasePrior implements review.Store.
func (d *Records) SetCasePrior(ctx context.Context, caseID, priorID string, at time.Time) error {
	_, err := d.exec(ctx, "set prior of case "+caseID, `INSERT INTO case_priors (case_id, prior_case_id, created_at) VALUES ($1, $2, $3)`,
		caseID, priorID, fmtTime(at))
	return err
}

// CasePrior implements review.Store.
func (d *Records) CasePrior(ctx context.Context, caseID string) (string, error) {
	var id string
	if err := d.q.QueryRow(ctx, `SELECT prior_case_id FROM case_priors WHERE case_id = $1`, caseID).Scan(&id); err != nil {
		return "", fmt.Errorf("prior of case %s: %w", caseID, err)
	}
	return id, nil
}
