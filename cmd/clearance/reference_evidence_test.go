package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/sqlite"
)

// TestSignDecisionMarksReferenceEvidence: the signed decision lists a
// reference assessment's metrics as evidence naming the reference, with
// no variant (they measured another model), beside the model's own
// assessment with its variant; the decision's variants are the model's.
func TestSignDecisionMarksReferenceEvidence(t *testing.T) {
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
		Dossier: json.RawMessage(`{}`), Profiles: []string{"frontier-framework"}, State: review.StateUnderReview, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	for i, a := range []review.Assessment{
		{ID: "asm_model", Spec: json.RawMessage(`{"variant":"helpful-only","scaffold":"agent 1"}`)},
		{ID: "asm_ref", Spec: json.RawMessage(`{"variant":"production"}`)},
	} {
		a.CaseID, a.Shards, a.ShardsDone, a.State, a.Imported = c.ID, 1, 1, review.AssessmentDone, true
		a.Metrics, a.CreatedAt = json.RawMessage(`{"schema":"m","n":`+string(rune('1'+i))+`}`), now.Add(time.Duration(i)*time.Second)
		if err := st.CreateAssessment(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateAssessmentReference(ctx, review.AssessmentReference{AssessmentID: "asm_ref", CaseID: c.ID, Name: "previous", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := &decisionSigner{key: key, store: st, now: func() time.Time { return now }, id: "urn:test"}
	b, err := s.SignDecision(ctx, c, review.Decision{ID: "dec_1", CaseID: c.ID, Outcomes: json.RawMessage(`{"frontier-framework":"cleared"}`),
		Variants: []string{"helpful-only"}, CreatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.VerifyDecision(b, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]attest.Evidence{}
	for _, e := range v.Decision.Evidence {
		got[e.Name] = e
	}
	if e := got["assessment asm_ref metrics"]; e.Reference != "previous" || e.Variant != "" {
		t.Errorf("reference evidence = %+v, want reference previous and no variant", e)
	}
	if e := got["assessment asm_model metrics"]; e.Reference != "" || e.Variant != "helpful-only" || e.Scaffold != "agent 1" {
		t.Errorf("model evidence = %+v, want no reference, variant helpful-only, scaffold agent 1", e)
	}
}
