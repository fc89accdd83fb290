package review_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// scheduleEvidence adds scheduled duties to the incident world's rules.
type scheduleEvidence struct {
	incidentEvidence
	scheds []review.DutySchedule
}

func (e scheduleEvidence) DutySchedules(ids []string) ([]review.DutySchedule, error) {
	var out []review.DutySchedule
	for _, s := range e.scheds {
		for _, id := range ids {
			if s.Profile == id {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

var testSchedules = []review.DutySchedule{
	{Profile: "us-caisi", ID: "transparency-report", Title: "transparency report at deployment", To: "public", Cite: "§22757.12(c)(1)", Unit: "months"},
	{Profile: "us-caisi", ID: "internal-use-summary", Title: "quarterly internal-use summary", To: "OES", Cite: "§22757.12(d)", First: 3, Every: 3, Unit: "months"},
	{Profile: "us-caisi", ID: "framework-review", Title: "annual framework review", To: "public", First: 12, Every: 12, Unit: "months"},
	// eu-gpai is refused in the decision below: its duty is not owed.
	{Profile: "eu-gpai", ID: "model-report", Title: "model report update", To: "AI Office", First: 1, Unit: "calendar_days"},
}

// TestScheduledDuties: a decision that clears a profile owes its
// scheduled duties (the transparency report by the end of the decision's
// day, the quarterly summary 3 months on, the annual review 12), each
// with a duty_check job; a profile the decision refused owes none. With a
// fake clock, the summary turns overdue after its deadline; filing it
// owes the next quarter's (3 months after the previous deadline, not
// after filing); the one-off transparency report owes no next one; the
// sweep marks the duties past their deadlines overdue.
func TestScheduledDuties(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	sched := &scheduled{due: map[string]time.Time{}}
	w.now = time.Date(2026, 5, 14, 10, 0, 0, 0, time.UTC)
	svc, err := review.New(review.Config{Store: w.store, Sealer: sealer,
		Evidence:  scheduleEvidence{incidentEvidence{w.evidence, testIncidentRules}, testSchedules},
		Scheduler: sched, Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	c := w.submit(t, w.devA)
	for _, to := range []review.State{review.StateInAssessment, review.StateUnderReview} {
		_, err := svc.Transition(ctx, w.assessor, c.ID, to, "")
		check(t, "Transition", err, nil)
	}
	decided := w.now
	_, err = svc.Decide(ctx, w.official, c.ID, review.DecisionInput{Outcomes: json.RawMessage(`{"us-caisi":"cleared","eu-gpai":"refused"}`), Rationale: "r"})
	check(t, "Decide", err, nil)
	ds, err := svc.ListDuties(ctx, w.devA, review.DutyFilter{CaseID: c.ID})
	check(t, "ListDuties", err, nil)
	if len(ds) != 3 {
		t.Fatalf("scheduled duties = %+v, want 3 (none for the refused profile)", ds)
	}
	want := map[string]time.Time{
		"transparency-report":  time.Date(2026, 5, 14, 23, 59, 59, 0, time.UTC),
		"internal-use-summary": decided.AddDate(0, 3, 0),
		"framework-review":     decided.AddDate(1, 0, 0),
	}
	for class, due := range want {
		d := dutyOf(t, ds, "us-caisi", review.DutyScheduled, class)
		if !d.DueAt.Equal(due) || d.State != review.DutyDue || d.IncidentID != "" || !sched.due[d.ID].Equal(due) {
			t.Errorf("%s duty: due %s state %s job %s, want due and a job at %s", class, d.DueAt, d.State, sched.due[d.ID], due)
		}
	}
	q := dutyOf(t, ds, "us-caisi", review.DutyScheduled, "internal-use-summary")
	w.now = q.DueAt.Add(-time.Minute)
	if _, changed, err := svc.CheckDuty(ctx, q.ID); err != nil || changed {
		t.Errorf("CheckDuty before the deadline: changed %v, %v", changed, err)
	}
	w.now = q.DueAt.Add(48 * time.Hour)
	if got, changed, err := svc.CheckDuty(ctx, q.ID); err != nil || !changed || got.State != review.DutyOverdue {
		t.Fatalf("CheckDuty after the deadline = %s %v %v, want overdue", got.State, changed, err)
	}
	rep, err := svc.FileReport(ctx, w.devA, q.ID, review.ReportInput{Note: "Q3 summary sent"})
	check(t, "FileReport", err, nil)
	if !strings.Contains(rep.Markdown, "# Scheduled report") || !strings.Contains(rep.Markdown, "(late)") || !strings.Contains(rep.Markdown, "Q3 summary sent") {
		t.Errorf("scheduled report:\n%s", rep.Markdown)
	}
	ds, err = svc.ListDuties(ctx, w.devA, review.DutyFilter{CaseID: c.ID, State: review.DutyDue})
	check(t, "ListDuties", err, nil)
	next := dutyOf(t, ds, "us-caisi", review.DutyScheduled, "internal-use-summary")
	if wantNext := q.DueAt.AddDate(0, 3, 0); !next.DueAt.Equal(wantNext) || next.ID == q.ID || !sched.due[next.ID].Equal(wantNext) {
		t.Errorf("next quarter's summary due %s (job %s), want %s", next.DueAt, sched.due[next.ID], wantNext)
	}
	tr := dutyOf(t, ds, "us-caisi", review.DutyScheduled, "transparency-report")
	_, err = svc.FileReport(ctx, w.devA, tr.ID, review.ReportInput{})
	check(t, "FileReport transparency", err, nil)
	all, err := svc.ListDuties(ctx, w.devA, review.DutyFilter{CaseID: c.ID})
	check(t, "ListDuties", err, nil)
	n := 0
	for _, d := range all {
		if d.Class == "transparency-report" {
			n++
		}
	}
	if n != 1 || len(all) != 4 {
		t.Errorf("after reporting: %d transparency duties (want 1, a one-off), %d duties (want 4)", n, len(all))
	}
	// Overdue duties the sweep finds: the framework review, past its deadline.
	w.now = decided.AddDate(1, 0, 1)
	swept, err := svc.SweepDuties(ctx)
	check(t, "SweepDuties", err, nil)
	if swept != 2 { // the framework review and the next quarter's summary
		t.Errorf("SweepDuties marked %d overdue, want 2", swept)
	}
}

// tieredEvidence adds the tier each case's profile places it in.
type tieredEvidence struct {
	scheduleEvidence
	tiers map[string]string // case ID → tier under us-caisi
}

func (e tieredEvidence) CaseTiers(_ context.Context, c review.Case) (map[string]string, error) {
	return map[string]string{"us-caisi": e.tiers[c.ID]}, nil
}

// TestScheduledDutiesByTier: duties limited to a tier (SB 53's quarterly
// internal-use summaries and annual framework reviews, owed by large
// frontier developers only) are owed by a case the profile places in
// that tier at decision time; a case in another tier owes only the
// duties every tier owes (the transparency report).
func TestScheduledDutiesByTier(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	sched := &scheduled{due: map[string]time.Time{}}
	w.now = time.Date(2026, 5, 14, 10, 0, 0, 0, time.UTC)
	large := []string{"large-frontier-developer"}
	scheds := []review.DutySchedule{
		{Profile: "us-caisi", ID: "transparency-report", Title: "transparency report at deployment", To: "public", Unit: "months"},
		{Profile: "us-caisi", ID: "internal-use-summary", Title: "quarterly internal-use summary", To: "OES", First: 3, Every: 3, Unit: "months", Tiers: large},
		{Profile: "us-caisi", ID: "framework-review", Title: "annual framework review", To: "public", First: 12, Every: 12, Unit: "months", Tiers: large},
	}
	ev := tieredEvidence{scheduleEvidence{incidentEvidence{w.evidence, testIncidentRules}, scheds}, map[string]string{}}
	svc, err := review.New(review.Config{Store: w.store, Sealer: sealer, Evidence: ev, Scheduler: sched, Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tier string
		want []string
	}{
		{"large-frontier-developer", []string{"framework-review", "internal-use-summary", "transparency-report"}},
		{"frontier-developer", []string{"transparency-report"}},
		{"", []string{"transparency-report"}},
	} {
		c := w.submit(t, w.devA)
		ev.tiers[c.ID] = tc.tier
		for _, to := range []review.State{review.StateInAssessment, review.StateUnderReview} {
			_, err := svc.Transition(ctx, w.assessor, c.ID, to, "")
			check(t, "Transition", err, nil)
		}
		_, err = svc.Decide(ctx, w.official, c.ID, review.DecisionInput{Outcomes: json.RawMessage(`{"us-caisi":"cleared_with_conditions","eu-gpai":"refused"}`), Rationale: "r"})
		check(t, "Decide", err, nil)
		ds, err := svc.ListDuties(ctx, w.devA, review.DutyFilter{CaseID: c.ID})
		check(t, "ListDuties", err, nil)
		var got []string
		for _, d := range ds {
			got = append(got, d.Class)
			if _, ok := sched.due[d.ID]; !ok {
				t.Errorf("tier %q: duty %s has no duty_check job", tc.tier, d.Class)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("tier %q: scheduled duties %v, want %v", tc.tier, got, tc.want)
		}
	}
}
