package review_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
)

type fixedConcurrence struct{ r review.ConcurrenceRule }

func (f fixedConcurrence) ConcurrenceFor([]string) (review.ConcurrenceRule, error) { return f.r, nil }

// concurWorld is a joint review under review, led by the world's agency
// with agencies B and C taking part and D not.
type concurWorld struct {
	*world
	svc       *review.Service
	c         review.Case
	officialB review.Actor
	reviewerB review.Actor
	officialC review.Actor
	officialD review.Actor
}

var (
	proposed = json.RawMessage(`{"us-caisi":{"outcome":"cleared_with_conditions"},"eu-gpai":{"outcome":"cleared"}}`)
	refusal  = json.RawMessage(`{"us-caisi":{"outcome":"refused"},"eu-gpai":{"outcome":"refused"}}`)
)

func newConcurWorld(t *testing.T, rule *review.ConcurrenceRule) *concurWorld {
	t.Helper()
	ctx := context.Background()
	w := newWorld(t)
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	cfg := review.Config{Store: w.store, Sealer: sealer, Evidence: w.evidence, Signer: fakeSigner{}, Now: func() time.Time { return w.now }}
	if rule != nil {
		cfg.Concurrence = fixedConcurrence{*rule}
	}
	svc, err := review.New(cfg)
	check(t, "New", err, nil)
	cw := &concurWorld{world: w, svc: svc}
	orgB := w.org(t, "Agency B", review.OrgAgency)
	orgC := w.org(t, "Agency C", review.OrgAgency)
	orgD := w.org(t, "Agency D", review.OrgAgency)
	cw.officialB = w.user(t, orgB, "official b", review.RoleOfficial)
	cw.reviewerB = w.user(t, orgB, "reviewer b", review.RoleReviewer)
	cw.officialC = w.user(t, orgC, "official c", review.RoleOfficial)
	cw.officialD = w.user(t, orgD, "official d", review.RoleOfficial)
	c := w.submit(t, w.devA)
	c, err = svc.AssignCase(ctx, w.official, c.ID, []string{w.assessor.User.ID, w.reviewer.User.ID, cw.reviewerB.User.ID})
	check(t, "AssignCase", err, nil)
	toReview(t, w, svc, c)
	for _, o := range []review.Org{orgB, orgC} {
		c, err = svc.AddAgency(ctx, w.official, c.ID, o.ID, []string{"cyber"})
		check(t, "AddAgency", err, nil)
	}
	cw.c = c
	return cw
}

func (cw *concurWorld) propose(t *testing.T) review.Proposal {
	t.Helper()
	p, err := cw.svc.ProposeDecision(context.Background(), cw.official, cw.c.ID, review.DecisionInput{Outcomes: proposed, Rationale: "cleared with a staged release"})
	check(t, "ProposeDecision", err, nil)
	return p
}

func (cw *concurWorld) position(t *testing.T, a review.Actor, pos, reason string, conds ...string) {
	t.Helper()
	_, err := cw.svc.RecordPosition(context.Background(), a, cw.c.ID, review.PositionInput{Position: pos, Reason: reason, Conditions: conds})
	check(t, "RecordPosition("+a.User.Name+", "+pos+")", err, nil)
}

// decideBlocked checks that Decide is a conflict whose message says each
// of want.
func (cw *concurWorld) decideBlocked(t *testing.T, want ...string) {
	t.Helper()
	_, err := cw.svc.Decide(context.Background(), cw.official, cw.c.ID, review.DecisionInput{})
	check(t, "Decide (blocked)", err, review.ErrConflict)
	for _, s := range want {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("Decide error %q does not say %q", err, s)
		}
	}
}

func (cw *concurWorld) decide(t *testing.T, concurring ...string) review.Decision {
	t.Helper()
	d, err := cw.svc.Decide(context.Background(), cw.official, cw.c.ID, review.DecisionInput{})
	check(t, "Decide", err, nil)
	if !slices.Equal(d.Concurring, concurring) || string(d.Outcomes) != string(proposed) || d.Rationale != "cleared with a staged release" {
		t.Fatalf("decision concurring %v outcomes %s rationale %q, want concurring %v and the proposal", d.Concurring, d.Outcomes, d.Rationale, concurring)
	}
	return d
}

func (cw *concurWorld) auditActions(t *testing.T) []string {
	t.Helper()
	es, err := cw.svc.CaseAudit(context.Background(), cw.admin, cw.c.ID, 0, 500)
	check(t, "Audit", err, nil)
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

func TestConcurrenceLeadRule(t *testing.T) {
	ctx := context.Background()
	cw := newConcurWorld(t, nil) // the default: lead, 10 days, silence concurs
	b, c := cw.officialB.Org.ID, cw.officialC.Org.ID

	// Who may propose: officials of the lead only.
	for _, tc := range []struct {
		name string
		a    review.Actor
		want error
	}{
		{"participant official", cw.officialB, review.ErrForbidden},
		{"lead reviewer", cw.reviewer, review.ErrForbidden},
		{"developer", cw.devA, review.ErrForbidden},
		{"other agency", cw.officialD, review.ErrNotFound},
	} {
		_, err := cw.svc.ProposeDecision(ctx, tc.a, cw.c.ID, review.DecisionInput{Outcomes: proposed, Rationale: "r"})
		check(t, "ProposeDecision("+tc.name+")", err, tc.want)
	}
	_, err := cw.svc.ProposeDecision(ctx, cw.official, cw.c.ID, review.DecisionInput{Outcomes: json.RawMessage(`{"us-caisi":{}}`), Rationale: "r"})
	check(t, "ProposeDecision(missing profile)", err, review.ErrInvalidInput)
	// No position without a proposal; Decide needs one.
	_, err = cw.svc.RecordPosition(ctx, cw.officialB, cw.c.ID, review.PositionInput{Position: review.Concur})
	check(t, "RecordPosition before proposal", err, review.ErrConflict)
	cw.decideBlocked(t, "propose the decision")

	p := cw.propose(t)
	if want := review.AuditTime(cw.now.AddDate(0, 0, 10)); !p.Deadline.Equal(want) {
		t.Fatalf("deadline %s, want %s", p.Deadline, want)
	}
	cw.decideBlocked(t, "consultation is open", b, c)

	// Who may take a position: officials of participating agencies.
	for _, tc := range []struct {
		name string
		a    review.Actor
		in   review.PositionInput
		want error
	}{
		{"lead official", cw.official, review.PositionInput{Position: review.Concur}, review.ErrForbidden},
		{"participant reviewer", cw.reviewerB, review.PositionInput{Position: review.Concur}, review.ErrForbidden},
		{"other agency", cw.officialD, review.PositionInput{Position: review.Concur}, review.ErrNotFound},
		{"developer", cw.devA, review.PositionInput{Position: review.Concur}, review.ErrForbidden},
		{"objection without reason", cw.officialC, review.PositionInput{Position: review.Object}, review.ErrInvalidInput},
		{"conditions missing", cw.officialC, review.PositionInput{Position: review.ConcurWithConditions}, review.ErrInvalidInput},
		{"conditions on a plain concurrence", cw.officialC, review.PositionInput{Position: review.Concur, Conditions: []string{"x"}}, review.ErrInvalidInput},
		{"unknown position", cw.officialC, review.PositionInput{Position: "abstain"}, review.ErrInvalidInput},
	} {
		_, err := cw.svc.RecordPosition(ctx, tc.a, cw.c.ID, tc.in)
		check(t, "RecordPosition("+tc.name+")", err, tc.want)
	}

	cw.position(t, cw.officialB, review.Object, "premature")
	cw.position(t, cw.officialB, review.Concur, "") // replaces the objection
	cw.position(t, cw.officialC, review.Object, "cyber uplift not mitigated")
	cw.decideBlocked(t, "agency "+c+" objects: cyber uplift not mitigated [unanswered]")
	st, err := cw.svc.Positions(ctx, cw.officialC, cw.c.ID)
	check(t, "Positions", err, nil)
	if len(st.Positions) != 2 || st.Positions[0].Position != review.Concur || st.Positions[1].Position != review.Object || st.Open ||
		!slices.Equal(st.Concurring, []string{b}) || len(st.Blocking) != 1 {
		t.Fatalf("positions = %+v", st)
	}

	// Who may answer: officials of the lead, and only an objection.
	_, err = cw.svc.AnswerObjection(ctx, cw.officialB, cw.c.ID, c, "no")
	check(t, "AnswerObjection(participant)", err, review.ErrForbidden)
	_, err = cw.svc.AnswerObjection(ctx, cw.official, cw.c.ID, b, "thanks")
	check(t, "AnswerObjection(concurrence)", err, review.ErrConflict)
	_, err = cw.svc.AnswerObjection(ctx, cw.official, cw.c.ID, c, "")
	check(t, "AnswerObjection(empty)", err, review.ErrInvalidInput)
	_, err = cw.svc.AnswerObjection(ctx, cw.official, cw.c.ID, c, "the staged release limits exposure")
	check(t, "AnswerObjection", err, nil)

	// Only the lead decides, on the proposal.
	_, err = cw.svc.Decide(ctx, cw.officialB, cw.c.ID, review.DecisionInput{Outcomes: proposed, Rationale: "r"})
	check(t, "Decide(participant)", err, review.ErrForbidden)
	_, err = cw.svc.Decide(ctx, cw.official, cw.c.ID, review.DecisionInput{Outcomes: refusal, Rationale: "r"})
	check(t, "Decide(other outcomes)", err, review.ErrConflict)
	d := cw.decide(t, b)
	got, err := cw.store.GetDecision(ctx, d.ID)
	check(t, "GetDecision", err, nil)
	if !slices.Equal(got.Concurring, []string{b}) {
		t.Fatalf("stored concurring = %v", got.Concurring)
	}
	acts := cw.auditActions(t)
	for _, want := range []string{"concurrence.proposed", "concurrence.position", "concurrence.answered"} {
		if !slices.Contains(acts, want) {
			t.Errorf("audit %v lacks %s", acts, want)
		}
	}
	if slices.Contains(acts, "concurrence.deemed") {
		t.Errorf("audit %v has a deemed position where none was", acts)
	}
	// The position history stays in the audit trail.
	n := 0
	for _, a := range acts {
		if a == "concurrence.position" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("audit has %d positions, want 3", n)
	}
	// The decision spends the proposal; no position after it.
	_, err = cw.svc.RecordPosition(ctx, cw.officialC, cw.c.ID, review.PositionInput{Position: review.Concur})
	check(t, "RecordPosition after decision", err, review.ErrConflict)
}

func TestConcurrenceDeemedAfterDeadline(t *testing.T) {
	tests := []struct {
		name    string
		rule    review.ConcurrenceRule
		blocked []string // after the deadline, before any answer
		answer  bool     // the lead answers C's deemed objection
		wantC   string
		concur  []string // "B" and "C" for the agencies
	}{
		{"lead silence concurs", review.ConcurrenceRule{Rule: review.RuleLead, ConsultationDays: 10, Silence: review.Concur}, nil, false, review.Concur, []string{"B", "C"}},
		{"lead silence objects", review.ConcurrenceRule{Rule: review.RuleLead, ConsultationDays: 5, Silence: review.Object}, []string{"deemed", "[unanswered]"}, true, review.Object, []string{"B"}},
		{"all silence concurs", review.ConcurrenceRule{Rule: review.RuleAll, ConsultationDays: 10, Silence: review.Concur}, nil, false, review.Concur, []string{"B", "C"}},
		{"all silence objects", review.ConcurrenceRule{Rule: review.RuleAll, ConsultationDays: 10, Silence: review.Object}, []string{"every participating agency must concur", "deemed"}, false, review.Object, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			cw := newConcurWorld(t, &tc.rule)
			ids := map[string]string{"B": cw.officialB.Org.ID, "C": cw.officialC.Org.ID}
			p := cw.propose(t)
			cw.position(t, cw.officialB, review.Concur, "")
			cw.decideBlocked(t, ids["C"]) // C silent, the deadline ahead
			cw.now = p.Deadline.Add(-time.Second)
			cw.decideBlocked(t, ids["C"])
			cw.now = p.Deadline
			st, err := cw.svc.Positions(ctx, cw.officialB, cw.c.ID)
			check(t, "Positions", err, nil)
			if pc := st.Positions[1]; pc.OrgID != ids["C"] || !pc.Deemed || pc.Position != tc.wantC || st.Open {
				t.Fatalf("C's position after the deadline = %+v (open %v), want deemed %s", pc, st.Open, tc.wantC)
			}
			if tc.blocked == nil {
				var want []string
				for _, k := range tc.concur {
					want = append(want, ids[k])
				}
				cw.decide(t, want...)
				if acts := cw.auditActions(t); !slices.Contains(acts, "concurrence.deemed") {
					t.Errorf("audit %v does not record the deemed position", acts)
				}
				return
			}
			cw.decideBlocked(t, append(tc.blocked, ids["C"])...)
			if tc.answer {
				_, err := cw.svc.AnswerObjection(ctx, cw.official, cw.c.ID, ids["C"], "no answer was given; we proceed")
				check(t, "AnswerObjection(deemed)", err, nil)
				cw.decide(t, ids["B"])
				return
			}
			// Under "all" an answer does not help; C's concurrence does,
			// even late.
			cw.position(t, cw.officialC, review.ConcurWithConditions, "", "report incidents within 72 hours")
			cw.decide(t, ids["B"], ids["C"])
		})
	}
}

func TestConcurrenceKOfN(t *testing.T) {
	ctx := context.Background()
	t.Run("k larger than the agencies", func(t *testing.T) {
		cw := newConcurWorld(t, &review.ConcurrenceRule{Rule: review.RuleKOfN, K: 3, ConsultationDays: 1, Silence: review.Concur})
		p := cw.propose(t)
		cw.now = p.Deadline
		cw.decideBlocked(t, "3 of 2 participating agencies must concur, 2 have", "only 2 participating agencies")
	})
	cw := newConcurWorld(t, &review.ConcurrenceRule{Rule: review.RuleKOfN, K: 1, ConsultationDays: 10, Silence: review.Object})
	b, c := cw.officialB.Org.ID, cw.officialC.Org.ID
	cw.propose(t)
	cw.position(t, cw.officialB, review.Object, "needs more cyber testing")
	cw.decideBlocked(t, "1 of 2 participating agencies must concur, 0 have (none)", c+" has not given a position", "agency "+b+" objects")
	cw.position(t, cw.officialC, review.Concur, "")
	cw.decideBlocked(t, "the lead must answer every objection: agency "+b+" objects: needs more cyber testing [unanswered]")
	_, err := cw.svc.AnswerObjection(ctx, cw.official, cw.c.ID, b, "the conditions require it before general release")
	check(t, "AnswerObjection", err, nil)
	// A new position replaces the answered objection, and its answer.
	cw.position(t, cw.officialB, review.Object, "still needs more cyber testing")
	cw.decideBlocked(t, "still needs more cyber testing [unanswered]")
	_, err = cw.svc.AnswerObjection(ctx, cw.official, cw.c.ID, b, "noted again")
	check(t, "AnswerObjection", err, nil)
	cw.decide(t, c)
}

func TestConcurrenceNewProposal(t *testing.T) {
	ctx := context.Background()
	cw := newConcurWorld(t, &review.ConcurrenceRule{Rule: review.RuleAll, ConsultationDays: 10, Silence: review.Concur})
	cw.propose(t)
	cw.position(t, cw.officialB, review.Concur, "")
	cw.position(t, cw.officialC, review.Concur, "")
	// A new proposal reopens the consultation: earlier positions go.
	cw.now = cw.now.Add(time.Hour)
	_, err := cw.svc.ProposeDecision(ctx, cw.official, cw.c.ID, review.DecisionInput{Outcomes: refusal, Rationale: "refused"})
	check(t, "ProposeDecision(again)", err, nil)
	st, err := cw.svc.Positions(ctx, cw.official, cw.c.ID)
	check(t, "Positions", err, nil)
	if !st.Open || st.Positions[0].Position != "" || st.Positions[1].Position != "" || string(st.Proposal.Outcomes) != string(refusal) {
		t.Fatalf("after a new proposal: %+v", st)
	}
	cw.decideBlocked(t, cw.officialB.Org.ID, cw.officialC.Org.ID)
	// A decision made on what was read before a position lost the race
	// is refused by the version check; here simply: nothing slipped in.
}

func TestConcurrenceNotJoint(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	svc, err := review.New(review.Config{Store: w.store, Sealer: sealer, Evidence: w.evidence, Signer: fakeSigner{},
		Concurrence: fixedConcurrence{review.ConcurrenceRule{Rule: review.RuleAll, ConsultationDays: 10, Silence: review.Object}},
		Now:         func() time.Time { return w.now }})
	check(t, "New", err, nil)
	c := w.submit(t, w.devA)
	toReview(t, w, svc, c)
	_, err = svc.ProposeDecision(ctx, w.official, c.ID, review.DecisionInput{Outcomes: proposed, Rationale: "r"})
	check(t, "ProposeDecision(not joint)", err, review.ErrInvalidInput)
	_, err = svc.RecordPosition(ctx, w.official, c.ID, review.PositionInput{Position: review.Concur})
	check(t, "RecordPosition(not joint)", err, review.ErrInvalidInput)
	_, err = svc.AnswerObjection(ctx, w.official, c.ID, "org_x", "a")
	check(t, "AnswerObjection(not joint)", err, review.ErrInvalidInput)
	_, err = svc.Positions(ctx, w.official, c.ID)
	check(t, "Positions(not joint)", err, review.ErrInvalidInput)
	// Decide works as before: no proposal, no consultation, outcomes required.
	_, err = svc.Decide(ctx, w.official, c.ID, review.DecisionInput{Rationale: "r"})
	check(t, "Decide(no outcomes)", err, review.ErrInvalidInput)
	d, err := svc.Decide(ctx, w.official, c.ID, review.DecisionInput{Outcomes: proposed, Rationale: "r"})
	check(t, "Decide", err, nil)
	if d.Concurring != nil {
		t.Fatalf("concurring = %v, want none", d.Concurring)
	}
	es, err := svc.CaseAudit(ctx, w.admin, c.ID, 0, 100)
	check(t, "Audit", err, nil)
	for _, e := range es {
		if strings.HasPrefix(e.Action, "concurrence.") || strings.Contains(string(e.Details), "concurring") {
			t.Errorf("audit entry %s %s in a case that is not joint", e.Action, e.Details)
		}
	}
	if !errors.Is(err, nil) {
		t.Fatal(err)
	}
}
