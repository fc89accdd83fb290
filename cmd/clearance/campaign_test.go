package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/sqlite"
)

// TestCaseEvidenceRedTeam: a case's policy evidence carries its red-team
// campaign from the service's records, and only those: a dossier that
// claims a clean campaign is overridden; a universal attack still
// working holds the frontier-framework profile.
func TestCaseEvidenceRedTeam(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := st.CreateOrg(ctx, review.Org{ID: "org_dev", Name: "Dev", Kind: review.OrgDeveloper, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	c := review.Case{ID: "case_1", OrgID: "org_dev", ModelDigest: "sha256:" + strings.Repeat("ab", 32), ModelName: "atlas",
		Dossier:  json.RawMessage(`{"model":{"training_compute_flop":2e25},"redteam":{"campaign":true,"attempts":50}}`),
		Profiles: []string{"frontier-framework"}, State: review.StateUnderReview, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	ev, err := caseEvidence(ctx, st, c, now)
	if err != nil {
		t.Fatal(err)
	}
	if ev.RedTeam != (policy.RedTeam{}) {
		t.Fatalf("a dossier's own redteam claim was kept: %+v", ev.RedTeam)
	}
	at := review.Attempt{ID: "atk_1", CaseID: c.ID, RedTeamer: "usr_r", Title: "t", Transcript: []byte("sealed"), Turns: 1,
		ModelDigest: c.ModelDigest, Success: true, Category: "cbrn", Severity: review.SeverityHigh, Technique: "role-play",
		Universal: true, Template: "{behaviour}", TransferHits: 8, TransferN: 10, CreatedAt: now, UpdatedAt: now, SuccessAt: now, UniversalAt: now}
	if err := st.CreateAttempt(ctx, at); err != nil {
		t.Fatal(err)
	}
	for _, v := range []review.ModelVersion{{ID: "mv_1", CaseID: c.ID, Seq: 1, ModelDigest: c.ModelDigest, CreatedAt: now},
		{ID: "mv_2", CaseID: c.ID, Seq: 2, ModelDigest: "sha256:" + strings.Repeat("cd", 32), CreatedAt: now}} {
		if err := st.CreateModelVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutRetest(ctx, review.Retest{CaseID: c.ID, VersionID: "mv_2", AttemptID: "atk_1", Works: true, Hits: 6, N: 10, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	ev, err = caseEvidence(ctx, st, c, now)
	if err != nil {
		t.Fatal(err)
	}
	want := policy.RedTeam{Campaign: true, Attempts: 1, Successes: 1, Universal: 1, Versions: 2, Retested: 1, StillWork: 1, UniversalStillWork: 1, Open: 1}
	if ev.RedTeam != want {
		t.Errorf("RedTeam = %+v, want %+v", ev.RedTeam, want)
	}
	d, err := evaluateCase(ctx, st, c, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Results) != 1 || d.Results[0].Outcome != policy.Hold || !strings.Contains(d.Results[0].Rationale, "universal jailbreak") {
		t.Errorf("frontier-framework = %+v, want hold for the universal jailbreak", d.Results)
	}
}
