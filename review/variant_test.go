package review_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// Every assessment records the variant of the model it tested and the
// scaffold's version in its spec (production by default); a bad variant
// is invalid input naming the field; an imported run carries the variant
// its run.json records; and a decision lists the variants of the
// finished assessments its evidence came from.
func TestAssessmentVariant(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	svc, _, _, _ := serviceWith(t, w, "")
	c, err := svc.Submit(ctx, w.devA, review.Submission{Model: review.SubmittedModel{Digest: digest, Name: "m"},
		Dossier: json.RawMessage(`{}`), Target: review.SubmittedTarget{URL: "https://api.example/v1"}, Profiles: []string{"us-caisi"}})
	if err != nil {
		t.Fatal(err)
	}
	c = w.assign(t, c)

	for _, tc := range []struct {
		in    review.AssessmentInput
		field string
	}{
		{review.AssessmentInput{Variant: "jailbroken"}, "variant: unknown variant \"jailbroken\""},
		{review.AssessmentInput{Variant: "checkpoint"}, "checkpoint: required with variant \"checkpoint\""},
		{review.AssessmentInput{Variant: "production", Checkpoint: "step-1"}, "checkpoint: only with variant"},
		{review.AssessmentInput{Variant: "checkpoint", Checkpoint: "step 1"}, "checkpoint: \"step 1\" is not a checkpoint name"},
		{review.AssessmentInput{Scaffold: strings.Repeat("v", 129)}, "scaffold: 129 bytes exceeds the limit of 128"},
		{review.AssessmentInput{Scaffold: "v1\n"}, "scaffold: "},
	} {
		_, err := svc.ScheduleAssessment(ctx, w.assessor, c.ID, tc.in)
		if !errors.Is(err, review.ErrInvalidInput) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("ScheduleAssessment(%+v) = %v, want ErrInvalidInput naming %q", tc.in, err, tc.field)
		}
	}

	def, err := svc.ScheduleAssessment(ctx, w.assessor, c.ID, review.AssessmentInput{})
	if err != nil {
		t.Fatal(err)
	}
	if v := def.Variant(); v != (review.Variant{Name: review.VariantProduction}) {
		t.Errorf("default variant = %+v, want production", v)
	}
	ho, err := svc.ScheduleAssessment(ctx, w.assessor, c.ID, review.AssessmentInput{Variant: "helpful-only", Scaffold: "inspect-agent 0.3"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.GetAssessment(ctx, w.reviewer, ho.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := review.Variant{Name: review.VariantHelpfulOnly, Scaffold: "inspect-agent 0.3"}
	if v := got.Variant(); v != want {
		t.Errorf("stored variant = %+v, want %+v", v, want)
	}
	// The planner's own keys stay as it wrote them, the variant after.
	if s := string(got.Spec); !strings.HasPrefix(s, `{"suites":["misuse"],`) || !strings.HasSuffix(s, `"variant":"helpful-only","scaffold":"inspect-agent 0.3"}`) {
		t.Errorf("spec = %s", s)
	}
	if got.Variant().String() != "helpful-only (scaffold inspect-agent 0.3)" {
		t.Errorf("String() = %q", got.Variant().String())
	}

	// Imports carry the run's variant; a bad one names the run's field.
	sample := func(put func(review.Sample) error) error {
		return put(review.Sample{Seq: 0, ID: "s", Suite: "misuse", Outcome: review.SamplePassed, Record: []byte(`{}`)})
	}
	_, err = svc.ImportAssessment(ctx, w.assessor, c.ID, review.ImportedRun{Spec: json.RawMessage(`{"variant":"jailbroken"}`),
		Metrics: json.RawMessage(`{}`), Samples: sample})
	if !errors.Is(err, review.ErrInvalidInput) || !strings.Contains(err.Error(), "run.variant") {
		t.Errorf("import of variant jailbroken = %v, want ErrInvalidInput naming run.variant", err)
	}
	imp, err := svc.ImportAssessment(ctx, w.assessor, c.ID, review.ImportedRun{
		Spec: json.RawMessage(`{"schema":"run","variant":"checkpoint","checkpoint":"step-120k"}`), Metrics: json.RawMessage(`{}`), Samples: sample})
	if err != nil {
		t.Fatal(err)
	}
	if l := imp.Variant().Label(); l != "checkpoint:step-120k" {
		t.Errorf("imported variant = %q, want checkpoint:step-120k", l)
	}
	old, err := svc.ImportAssessment(ctx, w.assessor, c.ID, review.ImportedRun{Spec: json.RawMessage(`{"schema":"run"}`),
		Metrics: json.RawMessage(`{}`), Samples: sample})
	if err != nil {
		t.Fatal(err)
	}
	if l := old.Variant().Label(); l != review.VariantUnrecorded {
		t.Errorf("variant of a run recording none = %q, want %q", l, review.VariantUnrecorded)
	}

	// Finish the helpful-only assessment; the production one stays queued
	// and so is no evidence of the decision.
	for i := range ho.Shards {
		if _, err := svc.RecordShard(ctx, ho.ID, i, []review.Sample{{Seq: i, ID: "s", Suite: "misuse", Outcome: review.SamplePassed, Record: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.CompleteAssessment(ctx, ho.ID, json.RawMessage(`{"schema":"m"}`)); err != nil {
		t.Fatal(err)
	}
	if cur, _ := svc.GetCase(ctx, w.reviewer, c.ID); cur.State != review.StateUnderReview {
		if _, err := svc.Transition(ctx, w.assessor, c.ID, review.StateUnderReview, ""); err != nil {
			t.Fatal(err)
		}
	}
	d, err := svc.Decide(ctx, w.official, c.ID, review.DecisionInput{Outcomes: json.RawMessage(`{"us-caisi":{"outcome":"cleared"}}`), Rationale: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	wantV := []string{"helpful-only", "checkpoint:step-120k", "unrecorded"}
	if !slices.Equal(d.Variants, wantV) {
		t.Errorf("decision variants = %v, want %v", d.Variants, wantV)
	}
	stored, err := svc.Decisions(ctx, w.reviewer, c.ID, review.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || !slices.Equal(stored[0].Variants, wantV) {
		t.Errorf("stored decision variants = %+v, want %v", stored, wantV)
	}
}

// A reference assessment measured another model: a decision lists the
// variants of the model's own assessments only, not the variant a
// reference run records (here a helpful-only reference beside the
// model's production run).
func TestDecisionVariantsLeaveOutReferences(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	svc, _, _, _ := serviceWith(t, w, "")
	c, err := svc.Submit(ctx, w.devA, review.Submission{Model: review.SubmittedModel{Digest: digest, Name: "m"},
		Dossier: json.RawMessage(`{}`), Target: review.SubmittedTarget{URL: "https://api.example/v1"}, Profiles: []string{"us-caisi"}})
	if err != nil {
		t.Fatal(err)
	}
	c = w.assign(t, c)
	if _, err := svc.Transition(ctx, w.assessor, c.ID, review.StateInAssessment, ""); err != nil {
		t.Fatal(err)
	}
	sample := func(put func(review.Sample) error) error {
		return put(review.Sample{Seq: 0, ID: "s", Suite: "misuse", Outcome: review.SamplePassed, Record: []byte(`{}`)})
	}
	if _, err := svc.ImportAssessment(ctx, w.assessor, c.ID, review.ImportedRun{Spec: json.RawMessage(`{"schema":"run","variant":"production"}`),
		Metrics: json.RawMessage(`{}`), Samples: sample}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ImportAssessment(ctx, w.assessor, c.ID, review.ImportedRun{Spec: json.RawMessage(`{"schema":"run","variant":"helpful-only"}`),
		Metrics: json.RawMessage(`{}`), Samples: sample, Reference: &review.ReferenceInput{Name: "previous"}}); err != nil {
		t.Fatal(err)
	}
	if cur, _ := svc.GetCase(ctx, w.reviewer, c.ID); cur.State != review.StateUnderReview {
		if _, err := svc.Transition(ctx, w.assessor, c.ID, review.StateUnderReview, ""); err != nil {
			t.Fatal(err)
		}
	}
	d, err := svc.Decide(ctx, w.official, c.ID, review.DecisionInput{Outcomes: json.RawMessage(`{"us-caisi":{"outcome":"cleared"}}`), Rationale: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"production"}; !slices.Equal(d.Variants, want) {
		t.Errorf("decision variants = %v, want %v (the reference's helpful-only run is not the model's)", d.Variants, want)
	}
}
