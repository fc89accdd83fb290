package review_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// incidentEvidence is the world's evidence checker with incident rules.
type incidentEvidence struct {
	*fakeEvidence
	rules []review.IncidentRule
}

func (e incidentEvidence) IncidentRules(ids []string) ([]review.IncidentRule, error) {
	var out []review.IncidentRule
	for _, r := range e.rules {
		for _, id := range ids {
			if r.Profile == id {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// scheduled records ScheduleDuty calls.
type scheduled struct{ due map[string]time.Time }

func (s *scheduled) ScheduleExpiry(context.Context, string, time.Time) error    { return nil }
func (s *scheduled) EnqueueAssessment(context.Context, review.Assessment) error { return nil }
func (s *scheduled) ScheduleDuty(_ context.Context, id string, due time.Time) error {
	s.due[id] = due
	return nil
}

var testIncidentRules = []review.IncidentRule{
	{Profile: "eu-gpai", Class: "cyber", Title: "cyber breach", To: "AI Office", Covers: []review.IncidentClass{review.ClassCyber},
		Initial: review.ClockSpec{Unit: review.CalendarDays, Length: 5}, IntermediateDays: 28, FinalDays: 60},
	{Profile: "us-caisi", Class: "any", Title: "incident", To: "OES", Covers: review.IncidentClasses,
		Initial: review.ClockSpec{Unit: review.CalendarDays, Length: 15}},
	{Profile: "us-caisi", Class: "imminent", Title: "imminent risk", To: "authority", Covers: []review.IncidentClass{review.ClassImminentRisk},
		Initial: review.ClockSpec{Unit: review.Hours, Length: 24}},
	{Profile: "ny", Class: "safety", Title: "safety incident", To: "DFS", Covers: review.IncidentClasses,
		Initial: review.ClockSpec{Unit: review.Hours, Length: 72}, From: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
}

type incidentWorld struct {
	*world
	svc   *review.Service
	sched *scheduled
	c     review.Case
	dec   review.Decision
}

// newIncidentWorld: a case of developer A about the world's profiles,
// decided (cleared under us-caisi, with conditions under eu-gpai).
func newIncidentWorld(t *testing.T, outcomes string) *incidentWorld {
	t.Helper()
	w := newWorld(t)
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	sched := &scheduled{due: map[string]time.Time{}}
	svc, err := review.New(review.Config{Store: w.store, Sealer: sealer, Evidence: incidentEvidence{w.evidence, testIncidentRules},
		Scheduler: sched, Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	c := w.submit(t, w.devA)
	d := review.Decision{ID: "dec_" + c.ID, CaseID: c.ID, OfficialID: w.official.User.ID, Outcomes: json.RawMessage(outcomes),
		LogIndex: -1, CreatedAt: w.now}
	if err := w.store.CreateDecision(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return &incidentWorld{world: w, svc: svc, sched: sched, c: c, dec: d}
}

const clearedOutcomes = `{"us-caisi":"cleared","eu-gpai":{"outcome":"cleared_with_conditions","conditions":["x"]}}`

func dutyOf(t *testing.T, ds []review.Duty, profile string, kind review.DutyKind, class string) review.Duty {
	t.Helper()
	for _, d := range ds {
		if d.Profile == profile && d.Kind == kind && d.Class == class {
			return d
		}
	}
	t.Fatalf("no %s %s duty of %s in %+v", kind, class, profile, ds)
	return review.Duty{}
}

func TestFileIncidentDuties(t *testing.T) {
	ctx := context.Background()
	w := newIncidentWorld(t, clearedOutcomes)
	found := w.now.Add(-2 * time.Hour)
	inc, ds, err := w.svc.FileIncident(ctx, w.devA, review.IncidentInput{DecisionID: w.dec.ID, Class: review.ClassCyber,
		Summary: "weights exfiltrated", DiscoveredAt: found, Evidence: "egress logs"})
	check(t, "FileIncident", err, nil)
	if inc.CaseID != w.c.ID || inc.OrgID != w.c.OrgID || inc.FiledBy != w.devA.User.ID {
		t.Errorf("incident %+v", inc)
	}
	// eu-gpai: initial 5 days + first intermediate 28 days; us-caisi: 15 days;
	// imminent does not cover cyber; ny is not a profile of the decision.
	if len(ds) != 3 {
		t.Fatalf("duties = %+v, want 3", ds)
	}
	for _, tt := range []struct {
		profile string
		kind    review.DutyKind
		class   string
		due     time.Time
	}{
		{"eu-gpai", review.DutyInitial, "cyber", found.AddDate(0, 0, 5)},
		{"eu-gpai", review.DutyIntermediate, "cyber", found.AddDate(0, 0, 28)},
		{"us-caisi", review.DutyInitial, "any", found.AddDate(0, 0, 15)},
	} {
		d := dutyOf(t, ds, tt.profile, tt.kind, tt.class)
		if !d.DueAt.Equal(tt.due) || d.State != review.DutyDue || w.sched.due[d.ID] != d.DueAt {
			t.Errorf("%s %s: due %s state %s scheduled %s, want due %s", tt.profile, tt.kind, d.DueAt, d.State, w.sched.due[d.ID], tt.due)
		}
	}
	// The clock fires: at the EU deadline the initial duty goes overdue, the others stay due.
	eu := dutyOf(t, ds, "eu-gpai", review.DutyInitial, "cyber")
	w.now = eu.DueAt.Add(-time.Second)
	_, changed, err := w.svc.CheckDuty(ctx, eu.ID)
	check(t, "CheckDuty early", err, nil)
	if changed {
		t.Fatal("CheckDuty before the deadline marked the duty overdue")
	}
	w.now = eu.DueAt
	got, changed, err := w.svc.CheckDuty(ctx, eu.ID)
	check(t, "CheckDuty", err, nil)
	if !changed || got.State != review.DutyOverdue {
		t.Fatalf("CheckDuty at the deadline = %s, %v; want overdue", got.State, changed)
	}
	overdue, err := w.svc.ListDuties(ctx, w.official, review.DutyFilter{State: review.DutyOverdue})
	check(t, "ListDuties overdue", err, nil)
	if len(overdue) != 1 || overdue[0].ID != eu.ID {
		t.Errorf("overdue duties = %+v, want the EU initial report", overdue)
	}
	// The sweep catches the CA duty once past its deadline.
	w.now = found.AddDate(0, 0, 16)
	n, err := w.svc.SweepDuties(ctx)
	check(t, "SweepDuties", err, nil)
	if n != 1 {
		t.Errorf("SweepDuties marked %d, want 1 (the CA duty)", n)
	}

	// Filing the overdue report: done with the report id, late; the audit records it.
	rep, err := w.svc.FileReport(ctx, w.devA, eu.ID, review.ReportInput{Note: "initial"})
	check(t, "FileReport", err, nil)
	var doc map[string]any
	if err := json.Unmarshal(rep.Document, &doc); err != nil || doc["late"] != true || doc["profile"] != "eu-gpai" {
		t.Errorf("report document %s (%v)", rep.Document, err)
	}
	if !strings.Contains(rep.Markdown, "weights exfiltrated") || !strings.Contains(rep.Markdown, "(late)") {
		t.Errorf("report markdown:\n%s", rep.Markdown)
	}
	v, err := w.svc.GetIncident(ctx, w.official, inc.ID)
	check(t, "GetIncident", err, nil)
	if d := dutyOf(t, v.Duties, "eu-gpai", review.DutyInitial, "cyber"); d.State != review.DutyDone || d.ReportID != rep.ID {
		t.Errorf("duty after report: %s %q, want done %s", d.State, d.ReportID, rep.ID)
	}
	_, err = w.svc.FileReport(ctx, w.devA, eu.ID, review.ReportInput{})
	check(t, "FileReport again", err, review.ErrInvalidTransition)

	// An intermediate report owes the next one, 28 days later.
	mid := dutyOf(t, ds, "eu-gpai", review.DutyIntermediate, "cyber")
	_, err = w.svc.FileReport(ctx, w.official, mid.ID, review.ReportInput{})
	check(t, "FileReport intermediate", err, nil)
	v, _ = w.svc.GetIncident(ctx, w.official, inc.ID)
	var next []review.Duty
	for _, d := range v.Duties {
		if d.Kind == review.DutyIntermediate && d.State == review.DutyDue {
			next = append(next, d)
		}
	}
	if len(next) != 1 || !next[0].DueAt.Equal(review.AuditTime(w.now).AddDate(0, 0, 28)) {
		t.Fatalf("next intermediate duties = %+v", next)
	}
	// Resolution closes it and owes the final report 60 days later (EU only).
	v, err = w.svc.ResolveIncident(ctx, w.devA, inc.ID, "keys rotated, access revoked")
	check(t, "ResolveIncident", err, nil)
	finals := 0
	for _, d := range v.Duties {
		switch {
		case d.ID == next[0].ID && d.State != review.DutyClosed:
			t.Errorf("open intermediate duty after resolution: %s", d.State)
		case d.Kind == review.DutyFinal:
			finals++
			if d.Profile != "eu-gpai" || !d.DueAt.Equal(review.AuditTime(w.now).AddDate(0, 0, 60)) {
				t.Errorf("final duty %+v", d)
			}
		}
	}
	if finals != 1 {
		t.Errorf("final duties = %d, want 1", finals)
	}
	_, err = w.svc.ResolveIncident(ctx, w.devA, inc.ID, "again")
	check(t, "ResolveIncident again", err, review.ErrInvalidTransition)
}

// TestIncidentDutiesFrom: a profile in force from a date owes nothing for
// an incident discovered before it, and its 72 hours after.
func TestIncidentDutiesFrom(t *testing.T) {
	rules := testIncidentRules[3:]
	before := time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)
	ds, err := review.IncidentDuties(rules, review.ClassSeriousHarm, before)
	check(t, "IncidentDuties", err, nil)
	if len(ds) != 0 {
		t.Errorf("duties before 2027-01-01 = %+v, want none", ds)
	}
	after := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	ds, _ = review.IncidentDuties(rules, review.ClassSeriousHarm, after)
	if len(ds) != 1 || !ds[0].DueAt.Equal(after.Add(72*time.Hour)) {
		t.Errorf("duties from 2027-01-01 = %+v, want one due 72 h later", ds)
	}
}

func TestFileIncidentRefused(t *testing.T) {
	ctx := context.Background()
	w := newIncidentWorld(t, clearedOutcomes)
	ok := review.IncidentInput{DecisionID: w.dec.ID, Class: review.ClassDeathOrInjury, Summary: "s", DiscoveredAt: w.now}
	for _, tt := range []struct {
		name  string
		actor review.Actor
		edit  func(*review.IncidentInput)
		want  error
		field string
	}{
		{"no decision", w.devA, func(in *review.IncidentInput) { in.DecisionID = "" }, review.ErrInvalidInput, "decision_id"},
		{"bad class", w.devA, func(in *review.IncidentInput) { in.Class = "meteor" }, review.ErrInvalidInput, "class"},
		{"no summary", w.devA, func(in *review.IncidentInput) { in.Summary = " " }, review.ErrInvalidInput, "summary"},
		{"no time", w.devA, func(in *review.IncidentInput) { in.DiscoveredAt = time.Time{} }, review.ErrInvalidInput, "discovered_at"},
		{"future", w.devA, func(in *review.IncidentInput) { in.DiscoveredAt = w.now.Add(time.Hour) }, review.ErrInvalidInput, "discovered_at"},
		{"bad utf-8", w.devA, func(in *review.IncidentInput) { in.Evidence = "\xff" }, review.ErrInvalidInput, "evidence"},
		{"unknown decision", w.devA, func(in *review.IncidentInput) { in.DecisionID = "dec_none" }, review.ErrNotFound, ""},
		{"other developer", w.devB, nil, review.ErrNotFound, ""},
		{"auditor", w.auditor, nil, review.ErrForbidden, ""},
		{"assessor", w.assessor, nil, review.ErrForbidden, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			if tt.edit != nil {
				tt.edit(&in)
			}
			_, _, err := w.svc.FileIncident(ctx, tt.actor, in)
			check(t, "FileIncident", err, tt.want)
			if tt.field != "" && !strings.Contains(err.Error(), tt.field+":") {
				t.Errorf("error %q does not name field %s", err, tt.field)
			}
		})
	}
	// The developer of another organisation sees none of developer A's incidents.
	inc, ds, err := w.svc.FileIncident(ctx, w.official, ok)
	check(t, "FileIncident by the agency", err, nil)
	for _, a := range []review.Actor{w.devB} {
		is, err := w.svc.ListIncidents(ctx, a, review.IncidentFilter{})
		check(t, "ListIncidents", err, nil)
		dl, err := w.svc.ListDuties(ctx, a, review.DutyFilter{})
		check(t, "ListDuties", err, nil)
		if len(is) != 0 || len(dl) != 0 {
			t.Errorf("developer B lists %d incidents, %d duties of developer A", len(is), len(dl))
		}
		_, err = w.svc.GetIncident(ctx, a, inc.ID)
		check(t, "GetIncident by developer B", err, review.ErrNotFound)
		_, err = w.svc.FileReport(ctx, a, ds[0].ID, review.ReportInput{})
		check(t, "FileReport by developer B", err, review.ErrNotFound)
	}
	is, err := w.svc.ListIncidents(ctx, w.devA, review.IncidentFilter{})
	check(t, "ListIncidents devA", err, nil)
	if len(is) != 1 {
		t.Errorf("developer A lists %d incidents, want 1", len(is))
	}
}

func TestFileIncidentNotCleared(t *testing.T) {
	w := newIncidentWorld(t, `{"us-caisi":"refused","eu-gpai":"hold"}`)
	_, _, err := w.svc.FileIncident(context.Background(), w.devA, review.IncidentInput{DecisionID: w.dec.ID,
		Class: review.ClassCyber, Summary: "s", DiscoveredAt: w.now})
	check(t, "FileIncident on a refusal", err, review.ErrInvalidInput)
}

// TestConditionDuties: a decision's conditions with due dates become
// scheduled duties of the same kind (due, then overdue with the clock;
// done with a report); a condition without a date owes no clock.
func TestConditionDuties(t *testing.T) {
	ctx := context.Background()
	w := newIncidentWorld(t, clearedOutcomes)
	c := w.submit(t, w.devA)
	for _, to := range []review.State{review.StateInAssessment, review.StateUnderReview} {
		_, err := w.svc.Transition(ctx, w.assessor, c.ID, to, "")
		check(t, "Transition", err, nil)
	}
	due := w.now.AddDate(0, 0, 10)
	outcomes := `{"us-caisi":"cleared","eu-gpai":{"outcome":"cleared_with_conditions","conditions":[` +
		`{"text":"Publish the transparency report at deployment","due":"` + due.Format(time.RFC3339) + `"},` +
		`{"text":"Summarise internal use quarterly","due":"` + due.AddDate(0, 3, 0).Format(time.DateOnly) + `"},` +
		`"Keep the build as reviewed",{"text":"bad date","due":"soon"}]}}`
	_, err := w.svc.Decide(ctx, w.official, c.ID, review.DecisionInput{Outcomes: json.RawMessage(outcomes), Rationale: "r"})
	check(t, "Decide", err, nil)
	ds, err := w.svc.ListDuties(ctx, w.devA, review.DutyFilter{CaseID: c.ID})
	check(t, "ListDuties", err, nil)
	if len(ds) != 2 {
		t.Fatalf("condition duties = %+v, want 2", ds)
	}
	d := ds[0]
	if d.Kind != review.DutyCondition || d.Profile != "eu-gpai" || !d.DueAt.Equal(due) || d.State != review.DutyDue ||
		d.Title != "Publish the transparency report at deployment" || w.sched.due[d.ID].IsZero() {
		t.Errorf("condition duty %+v", d)
	}
	w.now = due.Add(time.Minute)
	if got, changed, err := w.svc.CheckDuty(ctx, d.ID); err != nil || !changed || got.State != review.DutyOverdue {
		t.Errorf("CheckDuty after the due date = %s %v %v, want overdue", got.State, changed, err)
	}
	rep, err := w.svc.FileReport(ctx, w.devA, d.ID, review.ReportInput{Note: "published at https://lab.example/report"})
	check(t, "FileReport for a condition", err, nil)
	if rep.IncidentID != "" || !strings.Contains(rep.Markdown, "Publish the transparency report") || !strings.Contains(rep.Markdown, "(late)") {
		t.Errorf("condition report %+v", rep)
	}
}
