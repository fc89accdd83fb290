package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// Red-team campaigns (review/campaign.go): attempts, model versions and
// retest results. Unset times are stored as ''.

const attemptCols = `id, case_id, org_id, redteamer, title, transcript, turns, model_digest, success, category, severity,
	technique, universal, template, transfer_hits, transfer_n, finding_id, version, created_at, updated_at, success_at, universal_at`

// campaignTime formats t, ” for the zero time.
func campaignTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmtTime(t)
}

func parseCampaignTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return parseTime(s)
}

// CreateAttempt implements review.Store; the attempt is stored at
// version 1.
func (d *Records) CreateAttempt(ctx context.Context, at review.Attempt) error {
	_, err := d.exec(ctx, "create attempt "+at.ID, `INSERT INTO campaign_attempts (`+attemptCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1, $18, $19, $20, $21)`,
		at.ID, at.CaseID, at.OrgID, at.RedTeamer, at.Title, nonNil(at.Transcript), at.Turns, at.ModelDigest, at.Success,
		at.Category, string(at.Severity), at.Technique, at.Universal, at.Template, at.TransferHits, at.TransferN, at.FindingID,
		fmtTime(at.CreatedAt), fmtTime(at.UpdatedAt), campaignTime(at.SuccessAt), campaignTime(at.UniversalAt))
	return err
}

func scanAttempt(s scanner) (review.Attempt, error) {
	var at review.Attempt
	var sev, created, updated, success, universal string
	if err := s.Scan(&at.ID, &at.CaseID, &at.OrgID, &at.RedTeamer, &at.Title, &at.Transcript, &at.Turns, &at.ModelDigest,
		&at.Success, &at.Category, &sev, &at.Technique, &at.Universal, &at.Template, &at.TransferHits, &at.TransferN,
		&at.FindingID, &at.Version, &created, &updated, &success, &universal); err != nil {
		return at, err
	}
	at.Severity = review.Severity(sev)
	var err error
	if at.CreatedAt, err = parseTime(created); err != nil {
		return at, err
	}
	if at.UpdatedAt, err = parseTime(updated); err != nil {
		return at, err
	}
	if at.SuccessAt, err = parseCampaignTime(success); err != nil {
		return at, err
	}
	if at.UniversalAt, err = parseCampaignTime(universal); err != nil {
		return at, err
	}
	return at, nil
}

// GetAttempt implements review.Store.
func (d *Records) GetAttempt(ctx context.Context, id string) (review.Attempt, error) {
	at, err := scanAttempt(d.q.QueryRow(ctx, `SELECT `+attemptCols+` FROM campaign_attempts WHERE id = $1`, id))
	if err != nil {
		return at, fmt.Errorf("get attempt %s: %w", id, err)
	}
	return at, nil
}

// UpdateAttempt implements review.Store.
func (d *Records) UpdateAttempt(ctx context.Context, at review.Attempt) (review.Attempt, error) {
	op := "update attempt " + at.ID
	r, err := d.exec(ctx, op, `UPDATE campaign_attempts SET title = $1, transcript = $2, turns = $3, success = $4,
		category = $5, severity = $6, technique = $7, universal = $8, template = $9, transfer_hits = $10, transfer_n = $11,
		finding_id = $12, updated_at = $13, success_at = $14, universal_at = $15, version = version + 1
		WHERE id = $16 AND version = $17`,
		at.Title, nonNil(at.Transcript), at.Turns, at.Success, at.Category, string(at.Severity), at.Technique, at.Universal,
		at.Template, at.TransferHits, at.TransferN, at.FindingID, fmtTime(at.UpdatedAt), campaignTime(at.SuccessAt),
		campaignTime(at.UniversalAt), at.ID, at.Version)
	if err != nil {
		return at, err
	}
	if err := d.versioned(ctx, r, op, "campaign_attempts", at.ID, at.Version); err != nil {
		return at, err
	}
	at.Version++
	return at, nil
}

// ListAttempts implements review.Store.
func (d *Records) ListAttempts(ctx context.Context, caseID string, p review.Page) ([]review.Attempt, error) {
	ats, err := list(ctx, d.q, scanAttempt, `SELECT `+attemptCols+` FROM campaign_attempts
		WHERE case_id = $1 AND id > $2 ORDER BY id LIMIT $3`, caseID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	return ats, nil
}

// SetCaseTarget implements review.Store.
func (d *Records) SetCaseTarget(ctx context.Context, c review.Case) (review.Case, error) {
	op := "set target of case " + c.ID
	r, err := d.exec(ctx, op, `UPDATE cases SET model_digest = $1, model_name = $2, target_url = $3, credentials = $4,
		version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7`,
		c.ModelDigest, c.ModelName, c.TargetURL, c.Credentials, fmtTime(c.UpdatedAt), c.ID, c.Version)
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

const modelVersionCols = `id, case_id, seq, model_digest, model_name, target_url, credentials, note, submitted_by, created_at`

// CreateModelVersion implements review.Store.
func (d *Records) CreateModelVersion(ctx context.Context, v review.ModelVersion) error {
	_, err := d.exec(ctx, "create model version "+v.ID, `INSERT INTO model_versions (`+modelVersionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		v.ID, v.CaseID, v.Seq, v.ModelDigest, v.ModelName, v.TargetURL, v.Credentials, v.Note, v.SubmittedBy, fmtTime(v.CreatedAt))
	return err
}

func scanModelVersion(s scanner) (review.ModelVersion, error) {
	var v review.ModelVersion
	var created string
	if err := s.Scan(&v.ID, &v.CaseID, &v.Seq, &v.ModelDigest, &v.ModelName, &v.TargetURL, &v.Credentials, &v.Note,
		&v.SubmittedBy, &created); err != nil {
		return v, err
	}
	if len(v.Credentials) == 0 {
		v.Credentials = nil
	}
	var err error
	v.CreatedAt, err = parseTime(created)
	return v, err
}

// ListModelVersions implements review.Store. Ids are not in Seq order
// when seq 1 is recorded after the case, so the list is by seq; After
// is a version id and pages after that version's seq.
func (d *Records) ListModelVersions(ctx context.Context, caseID string, p review.Page) ([]review.ModelVersion, error) {
	vs, err := list(ctx, d.q, scanModelVersion, `SELECT `+modelVersionCols+` FROM model_versions
		WHERE case_id = $1 AND seq > COALESCE((SELECT seq FROM model_versions WHERE id = $2), 0) ORDER BY seq LIMIT $3`,
		caseID, p.After, p.N())
	if err != nil {
		return nil, fmt.Errorf("list model versions: %w", err)
	}
	return vs, nil
}

// PutRetest implements review.Store.
func (d *Records) PutRetest(ctx context.Context, r review.Retest) error {
	_, err := d.exec(ctx, "put retest of "+r.AttemptID, `INSERT INTO campaign_retests
		(case_id, version_id, attempt_id, works, hits, n, error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (version_id, attempt_id) DO UPDATE SET works = excluded.works, hits = excluded.hits, n = excluded.n,
		error = excluded.error, created_at = excluded.created_at`,
		r.CaseID, r.VersionID, r.AttemptID, r.Works, r.Hits, r.N, r.Error, fmtTime(r.CreatedAt))
	return err
}

// ListRetests implements review.Store.
func (d *Records) ListRetests(ctx context.Context, caseID, versionID string) ([]review.Retest, error) {
	rs, err := list(ctx, d.q, func(s scanner) (review.Retest, error) {
		var r review.Retest
		var created string
		if err := s.Scan(&r.CaseID, &r.VersionID, &r.AttemptID, &r.Works, &r.Hits, &r.N, &r.Error, &created); err != nil {
			return r, err
		}
		var err error
		r.CreatedAt, err = parseTime(created)
		return r, err
	}, `SELECT case_id, version_id, attempt_id, works, hits, n, error, created_at FROM campaign_retests
		WHERE case_id = $1 AND version_id = $2 ORDER BY attempt_id`, caseID, versionID)
	if err != nil {
		return nil, fmt.Errorf("list retests: %w", err)
	}
	return rs, nil
}
