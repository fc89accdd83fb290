package review

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Contamination signal (issue 18 part 3). When the runner holds the
// agency's private seed, an assessment's metrics carry "contamination":
// the scan of every sample's model output for the agency's private
// canaries that its prompt did not carry (package assess, Contamination).
// A hit means the model has seen a private item before. Completing such an
// assessment opens one finding on the case, recorded by the system; the
// scan itself (which canaries, which samples) is for agency staff only
// and is removed from a developer's copy of the metrics
// (redactPrivateMetrics).

// contaminationTitle is the title of the finding a hit opens.
const contaminationTitle = "Contamination signal: a private canary appeared in model output"

// contaminationOf reads the scan from a metrics document; ok is false when
// it has none.
func contaminationOf(metrics json.RawMessage) (c struct {
	Scanned  int      `json:"scanned"`
	Canaries int      `json:"canaries"`
	Samples  []string `json:"samples"`
}, ok bool) {
	var doc struct {
		Contamination *json.RawMessage `json:"contamination"`
	}
	if json.Unmarshal(metrics, &doc) != nil || doc.Contamination == nil {
		return c, false
	}
	if json.Unmarshal(*doc.Contamination, &c) != nil {
		return c, false
	}
	return c, true
}

// contaminationFinding opens a finding on the assessment's case when its
// metrics report a canary hit. CompleteAssessment calls it once, in the
// transaction that completes the assessment.
func (s *Service) contaminationFinding(ctx context.Context, tx Store, as Assessment, now time.Time) error {
	c, ok := contaminationOf(as.Metrics)
	if !ok || c.Canaries <= 0 {
		return nil
	}
	cs, err := tx.GetCase(ctx, as.CaseID)
	if err != nil {
		return err
	}
	var ids []string
	for _, id := range c.Samples {
		if len(ids) == maxSampleIDs {
			break
		}
		if checkName("sample id", id) == nil {
			ids = append(ids, id)
		}
	}
	sev := SeverityHigh
	f := Finding{CaseID: cs.ID, Severity: sev, Title: contaminationTitle,
		Description: fmt.Sprintf("Assessment %s: %d of %d samples' model output carried %d of the agency's private canaries that the prompt did not (contamination signal: a private canary appeared in model output). The model has seen private evaluation items before: its results on the private forms may be unreliable.",
			as.ID, len(c.Samples), c.Scanned, c.Canaries),
		SampleIDs: ids, Status: FindingOpen, CreatedBy: SystemActor().User.ID, CreatedAt: now, UpdatedAt: now, OrgID: cs.OrgID,
		Deadline: AuditTime(now.AddDate(0, 0, RemediationDays(sev)))}
	if f.ID, err = newID("fnd", now); err != nil {
		return err
	}
	if err := tx.CreateFinding(ctx, f); err != nil {
		return err
	}
	return s.audit(ctx, tx, SystemActor(), "finding.create", cs.ID, map[string]any{
		"finding": f.ID, "severity": f.Severity, "deadline": f.Deadline.Format(time.RFC3339), "contamination": as.ID})
}
