package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/clearance-dev/clearance/review"
)

// CreateAssessment implements review.Store.
func (d *Records) CreateAssessment(ctx context.Context, a review.Assessment) error {
	_, err := d.exec(ctx, "create assessment "+a.ID, `INSERT INTO assessments (id, case_id, spec, shards, shards_done, state,
		metrics, error, imported, created_by, version, created_at, updated_at, judge_credentials, org_id, shared)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		a.ID, a.CaseID, string(a.Spec), a.Shards, a.ShardsDone, string(a.State), metricsText(a.Metrics), a.Error,
		a.Imported, a.CreatedBy, a.Version, fmtTime(a.CreatedAt), fmtTime(a.UpdatedAt), a.JudgeCredentials, a.OrgID, a.Shared)
	return err
}

// metricsText stores nil metrics as NULL.
func metricsText(m json.RawMessage) any {
	if m == nil {
		return nil
	}
	return string(m)
}

const assessmentCols = `id, case_id, spec, shards, shards_done, state, metrics, error, imported, created_by, version, created_at, updated_at, judge_credentials, org_id, shared`

func scanAssessment(s scanner) (review.Assessment, error) {
	var a review.Assessment
	var spec, state, created, updated string
	var metrics sql.NullString
	if err := s.Scan(&a.ID, &a.CaseID, &spec, &a.Shards, &a.ShardsDone, &state, &metrics, &a.Error,
		&a.Imported, &a.CreatedBy, &a.Version, &created, &updated, &a.JudgeCredentials, &a.OrgID, &a.Shared); err != nil {
		return a, err
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
func (d *Records) GetAssessment(ctx context.Context, id string) (review.Assessment, error) {
	a, err := scanAssessment(d.q.QueryRow(ctx, `SELECT `+assessmentCols+` FROM assessments WHERE id = $1`, id))
	if err != nil {
		return a, fmt.Errorf("get assessment %s: %w", id, err)
	}
	return a, nil
}

// ListAssessments implements review.Store.
func (d *Records) ListAssessments(ctx context.Context, caseID string, p review.Page) ([]review.Assessment, error) {
	as, err := list(ctx, d.q, scanAssessment, `SELECT `+assessmentCols+` FROM assessments
		WHERE ($1 = '' OR case_id = $2) AND id > $3 ORDER BY id LIMIT $4`, caseID, caseID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list assessments: %w", err)
	}
	return as, nil
}

// ListAssessmentsByState implements review.Store. A limit of zero or
// less means review.DefaultPageLimit, as in review.Page; no states match
// nothing.
func (d *Records) ListAssessmentsByState(ctx context.Context, limit int, states ...review.AssessmentState) ([]review.Assessment, error) {
	if len(states) == 0 {
		return nil, nil
	}
	marks := make([]string, len(states))
	args := make([]any, 0, len(states)+1)
	for i, st := range states {
		marks[i] = fmt.Sprintf("$%d", i+1)
		args = append(args, string(st))
	}
	args = append(args, review.Page{Limit: limit}.N())
	as, err := list(ctx, d.q, scanAssessment, `SELECT `+assessmentCols+` FROM assessments
		WHERE state IN (`+strings.Join(marks, ", ")+`) ORDER BY created_at, id LIMIT $`+fmt.Sprint(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list assessments by state: %w", err)
	}
	return as, nil
}

// UpdateAssessment implements review.Store.
func (d *Records) UpdateAssessment(ctx context.Context, a review.Assessment) (review.Assessment, error) {
	op := "update assessment " + a.ID
	r, err := d.exec(ctx, op, `UPDATE assessments SET state = $1, shards_done = $2, metrics = $3, error = $4,
		version = version + 1, updated_at = $5, shared = $8 WHERE id = $6 AND version = $7`,
		string(a.State), a.ShardsDone, metricsText(a.Metrics), a.Error, fmtTime(a.UpdatedAt), a.ID, a.Version, a.Shared)
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
		return x, err
	}
	x.Outcome = review.SampleOutcome(outcome)
	return x, nil
}

// GetSample implements review.Store.
func (d *Records) GetSample(ctx context.Context, assessmentID string, seq int) (review.Sample, error) {
	x, err := scanSample(d.q.QueryRow(ctx, `SELECT `+sampleCols+` FROM samples WHERE assessment_id = $1 AND seq = $2`,
		assessmentID, seq))
	if err != nil {
		return x, fmt.Errorf("get sample %d of assessment %s: %w", seq, assessmentID, err)
	}
	return x, nil
}

// ListSamples implements review.Store. Only the filters set are put in
// the query, so that the planner can pick the index that serves them.
func (d *Records) ListSamples(ctx context.Context, f review.SampleFilter) ([]review.Sample, error) {
	query := `SELECT ` + sampleCols + ` FROM samples WHERE assessment_id = $1 AND seq > $2`
	args := []any{f.AssessmentID, f.AfterSeq}
	for _, c := range [...]struct{ col, v string }{
		{"suite", f.Suite}, {"category", f.Category}, {"transform", f.Transform}, {"outcome", string(f.Outcome)},
	} {
		if c.v != "" {
			args = append(args, c.v)
			query += fmt.Sprintf(` AND %s = $%d`, c.col, len(args))
		}
	}
	args = append(args, review.Page{Limit: f.Limit}.N())
	xs, err := list(ctx, d.q, scanSample, query+fmt.Sprintf(` ORDER BY seq LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list samples of assessment %s: %w", f.AssessmentID, err)
	}
	return xs, nil
}

// CountSamples implements review.Store.
func (d *Records) CountSamples(ctx context.Context, assessmentID string) (int, error) {
	var n int
	err := d.q.QueryRow(ctx, `SELECT count(*) FROM samples WHERE assessment_id = $1`, assessmentID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count samples of assessment %s: %w", assessmentID, err)
	}
	return n, nil
}

// Column lists and statements for the writes each store makes its own
// way (with its own locks or batching).
const (
	AuditColumns  = auditCols
	SampleColumns = sampleCols
	// PutSampleSQL stores one sample, replacing any at the same
	// (assessment_id, seq); its parameters are the SampleColumns in order.
	PutSampleSQL = `INSERT INTO samples (` + sampleCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (assessment_id, seq) DO UPDATE SET shard = excluded.shard, sample_id = excluded.sample_id,
		suite = excluded.suite, category = excluded.category, transform = excluded.transform, kind = excluded.kind,
		outcome = excluded.outcome, harmful = excluded.harmful, record = excluded.record`
	// MarkShardSQL records a shard as done (again is a no-op) and
	// CountShardsSQL counts an assessment's done shards.
	MarkShardSQL   = `INSERT INTO assessment_shards (assessment_id, shard) VALUES ($1, $2) ON CONFLICT (assessment_id, shard) DO NOTHING`
	CountShardsSQL = `SELECT count(*) FROM assessment_shards WHERE assessment_id = $1`
	// AppendAuditSQL inserts an audit entry; parameters are AuditColumns.
	AppendAuditSQL = `INSERT INTO audit (` + auditCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
)

// SampleArgs returns the PutSampleSQL parameters of x.
func SampleArgs(x review.Sample) []any {
	return []any{x.AssessmentID, x.Seq, x.Shard, x.ID, x.Suite, x.Category, x.Transform, x.Kind, string(x.Outcome),
		x.Harmful, NonNil(x.Record)}
}

// AuditArgs returns the AppendAuditSQL parameters of e.
func AuditArgs(e review.AuditEntry) []any {
	return []any{e.Seq, FormatTime(e.Time), e.Actor, e.Action, e.CaseID, string(e.Details), e.PrevHash, e.Hash}
}

// CheckSamples refuses samples that could not be listed back.
func CheckSamples(samples []review.Sample) error { return checkSamples(samples) }
