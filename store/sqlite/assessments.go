package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/clearance-dev/clearance/review"
)

// CreateAssessment implements review.Store.
func (d *DB) CreateAssessment(ctx context.Context, a review.Assessment) error {
	_, err := d.exec(ctx, "create assessment "+a.ID, `INSERT INTO assessments (id, case_id, spec, shards, shards_done, state,
		metrics, error, imported, created_by, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.CaseID, string(a.Spec), a.Shards, a.ShardsDone, string(a.State), metricsText(a.Metrics), a.Error,
		a.Imported, a.CreatedBy, a.Version, fmtTime(a.CreatedAt), fmtTime(a.UpdatedAt))
	return err
}

// metricsText stores nil metrics as NULL.
func metricsText(m json.RawMessage) any {
	if m == nil {
		return nil
	}
	return string(m)
}

const assessmentCols = `id, case_id, spec, shards, shards_done, state, metrics, error, imported, created_by, version, created_at, updated_at`

func scanAssessment(s scanner) (review.Assessment, error) {
	var a review.Assessment
	var spec, state, created, updated string
	var metrics sql.NullString
	if err := s.Scan(&a.ID, &a.CaseID, &spec, &a.Shards, &a.ShardsDone, &state, &metrics, &a.Error,
		&a.Imported, &a.CreatedBy, &a.Version, &created, &updated); err != nil {
		return a, translate(err)
	}
	a.Spec, a.State = json.RawMessage(spec), review.AssessmentState(state)
	if metrics.Valid {
		a.Metrics = json.RawMessage(metrics.String)
	}
	var err error
	if a.CreatedAt, err = parseTime(created); err != nil {
		return a, err
	}
	a.UpdatedAt, err = parseTime(updated)
	return a, err
}

// GetAssessment implements review.Store.
func (d *DB) GetAssessment(ctx context.Context, id string) (review.Assessment, error) {
	a, err := scanAssessment(d.q.QueryRowContext(ctx, `SELECT `+assessmentCols+` FROM assessments WHERE id = ?`, id))
	if err != nil {
		return a, fmt.Errorf("get assessment %s: %w", id, err)
	}
	return a, nil
}

// ListAssessments implements review.Store.
func (d *DB) ListAssessments(ctx context.Context, caseID string, p review.Page) ([]review.Assessment, error) {
	as, err := list(ctx, d.q, scanAssessment, `SELECT `+assessmentCols+` FROM assessments
		WHERE (? = '' OR case_id = ?) AND id > ? ORDER BY id LIMIT ?`, caseID, caseID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list assessments: %w", err)
	}
	return as, nil
}

// ListAssessmentsByState implements review.Store. A limit of zero or
// less means review.DefaultPageLimit, as in review.Page; no states match
// nothing.
func (d *DB) ListAssessmentsByState(ctx context.Context, limit int, states ...review.AssessmentState) ([]review.Assessment, error) {
	in, err := jsonText(nonNil(states))
	if err != nil {
		return nil, fmt.Errorf("list assessments by state: %w", err)
	}
	as, err := list(ctx, d.q, scanAssessment, `SELECT `+assessmentCols+` FROM assessments
		WHERE state IN (SELECT value FROM json_each(?)) ORDER BY created_at, id LIMIT ?`, in, review.Page{Limit: limit}.N())
	if err != nil {
		return nil, fmt.Errorf("list assessments by state: %w", err)
	}
	return as, nil
}

// UpdateAssessment implements review.Store.
func (d *DB) UpdateAssessment(ctx context.Context, a review.Assessment) (review.Assessment, error) {
	op := "update assessment " + a.ID
	r, err := d.exec(ctx, op, `UPDATE assessments SET state = ?, shards_done = ?, metrics = ?, error = ?,
		version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
		string(a.State), a.ShardsDone, metricsText(a.Metrics), a.Error, fmtTime(a.UpdatedAt), a.ID, a.Version)
	if err != nil {
		return a, err
	}
	if err := d.versioned(ctx, r, op, "assessments", a.ID, a.Version); err != nil {
		return a, err
	}
	a.Version++
	a.UpdatedAt = review.AuditTime(a.UpdatedAt)
	return a, nil
}

// MarkShardDone implements review.Store. It runs in one IMMEDIATE
// transaction, so of concurrent calls finishing an assessment's last
// shards exactly one counts them all.
func (d *DB) MarkShardDone(ctx context.Context, assessmentID string, shard int) (int, error) {
	op := fmt.Sprintf("mark shard %d of assessment %s done", shard, assessmentID)
	var n int
	err := d.Tx(ctx, func(s review.Store) error {
		tx := s.(*DB)
		if _, err := tx.exec(ctx, op, `INSERT INTO assessment_shards (assessment_id, shard) VALUES (?, ?)
			ON CONFLICT (assessment_id, shard) DO NOTHING`, assessmentID, shard); err != nil {
			return err
		}
		err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM assessment_shards WHERE assessment_id = ?`, assessmentID).Scan(&n)
		if err != nil {
			return fmt.Errorf("%s: %w", op, translate(err))
		}
		return nil
	})
	return n, err
}

// PutSamples implements review.Store, in one transaction.
func (d *DB) PutSamples(ctx context.Context, samples []review.Sample) error {
	if err := checkSamples(samples); err != nil {
		return err
	}
	return d.Tx(ctx, func(s review.Store) error {
		tx := s.(*DB)
		for _, x := range samples {
			if _, err := tx.exec(ctx, fmt.Sprintf("put sample %d of assessment %s", x.Seq, x.AssessmentID),
				`INSERT INTO samples (`+sampleCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (assessment_id, seq) DO UPDATE SET shard = excluded.shard, sample_id = excluded.sample_id,
				suite = excluded.suite, category = excluded.category, transform = excluded.transform, kind = excluded.kind,
				outcome = excluded.outcome, harmful = excluded.harmful, record = excluded.record`,
				x.AssessmentID, x.Seq, x.Shard, x.ID, x.Suite, x.Category, x.Transform, x.Kind, string(x.Outcome),
				x.Harmful, nonNil(x.Record)); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkSamples refuses samples that could not be listed back: a sample
// without an assessment, or before the start of the plan.
func checkSamples(samples []review.Sample) error {
	for i, x := range samples {
		switch {
		case x.AssessmentID == "":
			return fmt.Errorf("put samples: sample %d (seq %d) has no assessment id", i, x.Seq)
		case x.Seq < 0:
			return fmt.Errorf("put samples: sample %d of assessment %s has negative seq %d", i, x.AssessmentID, x.Seq)
		}
	}
	return nil
}

const sampleCols = `assessment_id, seq, shard, sample_id, suite, category, transform, kind, outcome, harmful, record`

func scanSample(s scanner) (review.Sample, error) {
	var x review.Sample
	var outcome string
	if err := s.Scan(&x.AssessmentID, &x.Seq, &x.Shard, &x.ID, &x.Suite, &x.Category, &x.Transform, &x.Kind,
		&outcome, &x.Harmful, &x.Record); err != nil {
		return x, translate(err)
	}
	x.Outcome = review.SampleOutcome(outcome)
	return x, nil
}

// GetSample implements review.Store.
func (d *DB) GetSample(ctx context.Context, assessmentID string, seq int) (review.Sample, error) {
	x, err := scanSample(d.q.QueryRowContext(ctx, `SELECT `+sampleCols+` FROM samples WHERE assessment_id = ? AND seq = ?`,
		assessmentID, seq))
	if err != nil {
		return x, fmt.Errorf("get sample %d of assessment %s: %w", seq, assessmentID, err)
	}
	return x, nil
}

// ListSamples implements review.Store. Only the filters set are put in
// the query, so that SQLite can pick the index that serves them.
func (d *DB) ListSamples(ctx context.Context, f review.SampleFilter) ([]review.Sample, error) {
	query := `SELECT ` + sampleCols + ` FROM samples WHERE assessment_id = ? AND seq > ?`
	args := []any{f.AssessmentID, f.AfterSeq}
	for _, c := range [...]struct{ col, v string }{
		{"suite", f.Suite}, {"category", f.Category}, {"transform", f.Transform}, {"outcome", string(f.Outcome)},
	} {
		if c.v != "" {
			query += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	xs, err := list(ctx, d.q, scanSample, query+` ORDER BY seq LIMIT ?`, append(args, review.Page{Limit: f.Limit}.N())...)
	if err != nil {
		return nil, fmt.Errorf("list samples of assessment %s: %w", f.AssessmentID, err)
	}
	return xs, nil
}

// CountSamples implements review.Store.
func (d *DB) CountSamples(ctx context.Context, assessmentID string) (int, error) {
	var n int
	err := d.q.QueryRowContext(ctx, `SELECT count(*) FROM samples WHERE assessment_id = ?`, assessmentID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count samples of assessment %s: %w", assessmentID, translate(err))
	}
	return n, nil
}
