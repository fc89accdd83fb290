package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/clearance-dev/clearance/review"
)

const fingerprintCols = `id, case_id, digest, target, probes, requests, sealed, created_by, created_at, state, error, recorded_at`

// CreateFingerprint implements review.Store; an empty State is
// recorded.
func (d *Records) CreateFingerprint(ctx context.Context, f review.Fingerprint) error {
	_, err := d.exec(ctx, "create fingerprint "+f.ID, `INSERT INTO conform_fingerprints (`+fingerprintCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		f.ID, f.CaseID, f.Digest, f.Target, f.Probes, f.Requests, nonNilBytes(f.Sealed), f.CreatedBy, fmtTime(f.CreatedAt),
		string(cmp.Or(f.State, review.FingerprintRecorded)), f.Error, fmtOptTime(f.RecordedAt))
	return err
}

func fmtOptTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmtTime(t)
}

// GetFingerprint implements review.Store.
func (d *Records) GetFingerprint(ctx context.Context, id string) (review.Fingerprint, error) {
	f, err := scanFingerprint(d.q.QueryRow(ctx, `SELECT `+fingerprintCols+` FROM conform_fingerprints WHERE id = $1`, id))
	if err != nil {
		return f, fmt.Errorf("get fingerprint %s: %w", id, err)
	}
	return f, nil
}

// FinishFingerprint implements review.Store.
func (d *Records) FinishFingerprint(ctx context.Context, f review.Fingerprint) error {
	op := "finish fingerprint " + f.ID
	r, err := d.exec(ctx, op, `UPDATE conform_fingerprints SET state = $1, error = $2, digest = $3, probes = $4, requests = $5,
		sealed = $6, recorded_at = $7 WHERE id = $8 AND state = 'pending'`,
		string(f.State), f.Error, f.Digest, f.Probes, f.Requests, nonNilBytes(f.Sealed), fmtOptTime(f.RecordedAt), f.ID)
	if err != nil {
		return err
	}
	if r.RowsAffected() == 0 {
		if _, err := d.GetFingerprint(ctx, f.ID); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return fmt.Errorf("%s: not pending: %w", op, review.ErrConflict)
	}
	return nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scanFingerprint(s scanner) (review.Fingerprint, error) {
	var f review.Fingerprint
	var created, state, recorded string
	if err := s.Scan(&f.ID, &f.CaseID, &f.Digest, &f.Target, &f.Probes, &f.Requests, &f.Sealed, &f.CreatedBy, &created,
		&state, &f.Error, &recorded); err != nil {
		return f, err
	}
	f.State = review.FingerprintState(state)
	var err error
	if f.CreatedAt, err = parseTime(created); err != nil {
		return f, err
	}
	if recorded != "" {
		f.RecordedAt, err = parseTime(recorded)
	}
	return f, err
}

// ListFingerprints implements review.Store.
func (d *Records) ListFingerprints(ctx context.Context, caseID string) ([]review.Fingerprint, error) {
	fs, err := list(ctx, d.q, scanFingerprint, `SELECT `+fingerprintCols+` FROM conform_fingerprints
		WHERE case_id = $1 ORDER BY id LIMIT $2`, caseID, review.MaxPageLimit)
	if err != nil {
		return nil, fmt.Errorf("list fingerprints of case %s: %w", caseID, err)
	}
	return fs, nil
}

const conformCols = `id, decision_id, case_id, fingerprint_id, target, same, scheduled, result, bundle, log_index, finding_id, created_by, created_at`

// CreateConformanceCheck implements review.Store; LogIndex is ignored (a
// new check is not logged yet).
func (d *Records) CreateConformanceCheck(ctx context.Context, k review.ConformanceCheck) error {
	_, err := d.exec(ctx, "create conformance check "+k.ID, `INSERT INTO conform_checks (`+conformCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12)`,
		k.ID, k.DecisionID, k.CaseID, k.FingerprintID, k.Target, k.Same, k.Scheduled, string(k.Result), k.Bundle,
		k.FindingID, k.CreatedBy, fmtTime(k.CreatedAt))
	return err
}

func scanConformance(s scanner) (review.ConformanceCheck, error) {
	var k review.ConformanceCheck
	var result, created string
	var idx sql.NullInt64
	if err := s.Scan(&k.ID, &k.DecisionID, &k.CaseID, &k.FingerprintID, &k.Target, &k.Same, &k.Scheduled, &result, &k.Bundle,
		&idx, &k.FindingID, &k.CreatedBy, &created); err != nil {
		return k, err
	}
	k.Result = []byte(result)
	k.LogIndex = -1
	if idx.Valid {
		k.LogIndex = idx.Int64
	}
	var err error
	k.CreatedAt, err = parseTime(created)
	return k, err
}

// GetConformanceCheck implements review.Store.
func (d *Records) GetConformanceCheck(ctx context.Context, id string) (review.ConformanceCheck, error) {
	k, err := scanConformance(d.q.QueryRow(ctx, `SELECT `+conformCols+` FROM conform_checks WHERE id = $1`, id))
	if err != nil {
		return k, fmt.Errorf("get conformance check %s: %w", id, err)
	}
	return k, nil
}

// ListConformanceChecks implements review.Store.
func (d *Records) ListConformanceChecks(ctx context.Context, caseID, decisionID string, p review.Page) ([]review.ConformanceCheck, error) {
	ks, err := list(ctx, d.q, scanConformance, `SELECT `+conformCols+` FROM conform_checks
		WHERE ($1 = '' OR case_id = $1) AND ($2 = '' OR decision_id = $2) AND id > $3 ORDER BY id LIMIT $4`,
		caseID, decisionID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list conformance checks: %w", err)
	}
	return ks, nil
}

// SetConformanceLog implements review.Store.
func (d *Records) SetConformanceLog(ctx context.Context, id string, index int64) error {
	op := "set log index of conformance check " + id
	if index < 0 {
		return fmt.Errorf("%s: negative log index %d", op, index)
	}
	r, err := d.exec(ctx, op, `UPDATE conform_checks SET log_index = $1
		WHERE id = $2 AND (log_index IS NULL OR log_index = $3)`, index, id, index)
	if err != nil {
		return err
	}
	if r.RowsAffected() > 0 {
		return nil
	}
	var cur sql.NullInt64
	if err := d.q.QueryRow(ctx, `SELECT log_index FROM conform_checks WHERE id = $1`, id).Scan(&cur); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: already logged at index %d, not %d: %w", op, cur.Int64, index, review.ErrConflict)
}

// ListUnloggedConformanceChecks implements review.Store.
func (d *Records) ListUnloggedConformanceChecks(ctx context.Context, limit int) ([]review.ConformanceCheck, error) {
	ks, err := list(ctx, d.q, scanConformance, `SELECT `+conformCols+` FROM conform_checks
		WHERE bundle IS NOT NULL AND log_index IS NULL ORDER BY created_at, id LIMIT $1`, review.Page{Limit: limit}.N())
	if err != nil {
		return nil, fmt.Errorf("list unlogged conformance checks: %w", err)
	}
	return ks, nil
}
