package review_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// jointWorld is a world with a second agency (B) taking part in a case
// led by the world's agency (A), and a third (C) that does not.
type jointWorld struct {
	*world
	svc       *review.Service // with a planner and scheduler
	c         review.Case
	orgB      review.Org
	officialB review.Actor
	reviewerB review.Actor
	assessorB review.Actor
	officialC review.Actor
}

func newJointWorld(t *testing.T) *jointWorld {
	t.Helper()
	ctx := context.Background()
	w := newWorld(t)
	svc, _, _, _ := serviceWith(t, w, "")
	j := &jointWorld{world: w, svc: svc}
	j.orgB = w.org(t, "Agency B", review.OrgAgency)
	orgC := w.org(t, "Agency C", review.OrgAgency)
	j.officialB = w.user(t, j.orgB, "official b", review.RoleOfficial)
	j.reviewerB = w.user(t, j.orgB, "reviewer b", review.RoleReviewer)
	j.assessorB = w.user(t, j.orgB, "assessor b", review.RoleAssessor)
	j.officialC = w.user(t, orgC, "official c", review.RoleOfficial)
	c := w.submit(t, w.devA)
	c, err := svc.AssignCase(ctx, w.official, c.ID, []string{w.assessor.User.ID, w.reviewer.User.ID, j.assessorB.User.ID, j.reviewerB.User.ID})
	check(t, "AssignCase", err, nil)
	j.c = c
	return j
}

func (j *jointWorld) join(t *testing.T) {
	t.Helper()
	c, err := j.svc.AddAgency(context.Background(), j.official, j.c.ID, j.orgB.ID, []string{"cyber"})
	check(t, "AddAgency(B)", err, nil)
	j.c = c
}

func TestAddAgency(t *testing.T) {
	ctx := context.Background()
	j := newJointWorld(t)
	inst := j.assessor.Org.ID
	// Before the case is joint every agency overseer sees it, as today.
	_, err := j.svc.GetCase(ctx, j.officialC, j.c.ID)
	check(t, "GetCase(C) before joint", err, nil)

	tests := []struct {
		name    string
		a       review.Actor
		org     string
		domains []string
		want    error
		msg     string
	}{
		{"developer", j.devA, j.orgB.ID, []string{"cyber"}, review.ErrForbidden, ""},
		{"reviewer", j.reviewer, j.orgB.ID, []string{"cyber"}, review.ErrForbidden, ""},
		{"assessor org", j.official, inst, []string{"cyber"}, review.ErrInvalidInput, "not an agency"},
		{"developer org", j.official, j.devA.Org.ID, []string{"cyber"}, review.ErrInvalidInput, "not an agency"},
		{"own org", j.official, j.official.Org.ID, []string{"cyber"}, review.ErrInvalidInput, "lead agency"},
		{"missing org", j.official, "org_missing", []string{"cyber"}, review.ErrInvalidInput, "no organisation"},
		{"unknown domain", j.official, j.orgB.ID, []string{"cyber", "nuclear"}, review.ErrInvalidInput, `"nuclear"`},
		{"no domains", j.official, j.orgB.ID, nil, review.ErrInvalidInput, "domains"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := j.svc.AddAgency(ctx, tc.a, j.c.ID, tc.org, tc.domains)
			check(t, "AddAgency", err, tc.want)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
		})
	}
	if c, _ := j.svc.GetCase(ctx, j.official, j.c.ID); len(c.Agencies) != 0 {
		t.Fatalf("refused calls made the case joint: %+v", c.Agencies)
	}

	j.join(t)
	if len(j.c.Agencies) != 2 || !j.c.Agencies[0].Lead || j.c.Agencies[0].OrgID != j.official.Org.ID ||
		len(j.c.Agencies[0].Domains) != len(review.Domains) || j.c.Agencies[1].Lead || j.c.Agencies[1].OrgID != j.orgB.ID ||
		!slices.Equal(j.c.Agencies[1].Domains, []string{"cyber"}) || j.c.Agencies[1].AddedBy != j.official.User.ID {
		t.Fatalf("agencies = %+v", j.c.Agencies)
	}
	stored, err := j.store.GetCase(ctx, j.c.ID)
	check(t, "store.GetCase", err, nil)
	if len(stored.Agencies) != 2 || !stored.Agencies[1].AddedAt.Equal(j.c.Agencies[1].AddedAt) {
		t.Fatalf("stored agencies = %+v", stored.Agencies)
	}

	// Only the lead adds agencies; a participant cannot.
	_, err = j.svc.AddAgency(ctx, j.officialB, j.c.ID, j.officialC.Org.ID, []string{"cyber"})
	check(t, "AddAgency by participant", err, review.ErrForbidden)
	// Adding B again replaces its domains.
	c, err := j.svc.AddAgency(ctx, j.official, j.c.ID, j.orgB.ID, []string{"safeguards", "cyber"})
	check(t, "AddAgency(B) again", err, nil)
	if len(c.Agencies) != 2 || !slices.Equal(c.Agencies[1].Domains, []string{"cyber", "safeguards"}) {
		t.Fatalf("agencies after new domains = %+v", c.Agencies)
	}

	// Visibility: a participant's overseers see the case, another
	// agency's no longer do (and do not list it).
	_, err = j.svc.GetCase(ctx, j.officialB, j.c.ID)
	check(t, "GetCase(B)", err, nil)
	_, err = j.svc.GetCase(ctx, j.officialC, j.c.ID)
	check(t, "GetCase(C)", err, review.ErrNotFound)
	_, err = j.svc.AddAgency(ctx, j.officialC, j.c.ID, j.officialC.Org.ID, []string{"cyber"})
	check(t, "AddAgency by non-participant", err, review.ErrNotFound)
	cs, err := j.svc.ListCases(ctx, j.officialC, review.CaseFilter{})
	check(t, "ListCases(C)", err, nil)
	if len(cs) != 0 {
		t.Fatalf("ListCases(C) = %d cases, want none", len(cs))
	}
	cs, err = j.svc.ListCases(ctx, j.officialB, review.CaseFilter{})
	check(t, "ListCases(B)", err, nil)
	if len(cs) != 1 || len(cs[0].Agencies) != 2 {
		t.Fatalf("ListCases(B) = %+v", cs)
	}
	// A case that is not joint is still seen by every agency overseer.
	other := j.submit(t, j.devA)
	_, err = j.svc.GetCase(ctx, j.officialC, other.ID)
	check(t, "GetCase(C) of another case", err, nil)

	es, err := j.svc.CaseAudit(ctx, j.official, j.c.ID, 0, 100)
	check(t, "CaseAudit", err, nil)
	var added, domains int
	for _, e := range es {
		switch e.Action {
		case "case.agency_added":
			added++
			if !strings.Contains(string(e.Details), j.orgB.ID) {
				t.Errorf("agency_added details %s do not name %s", e.Details, j.orgB.ID)
			}
		case "case.agency_domains":
			domains++
		}
	}
	if added != 1 || domains != 1 {
		t.Fatalf("audit has %d agency_added, %d agency_domains; want 1, 1", added, domains)
	}
}

// missingErr returns the error text of the same call on a record that
// does not exist, for comparing with a hidden one.
func sameAsMissing(t *testing.T, what string, hidden error, id, missingID string, missing error) {
	t.Helper()
	check(t, what, hidden, review.ErrNotFound)
	check(t, what+" (missing)", missing, review.ErrNotFound)
	if got, want := strings.ReplaceAll(hidden.Error(), id, "X"), strings.ReplaceAll(missing.Error(), missingID, "X"); got != want {
		t.Errorf("%s: hidden error %q differs from a missing record's %q", what, got, want)
	}
}

func TestJointCompartments(t *testing.T) {
	ctx := context.Background()
	j := newJointWorld(t)
	j.join(t)
	svc := j.svc

	// Domains gate work: B (cyber) schedules only cyber suites; the
	// lead's assessor (an assessor organisation working for the lead)
	// schedules anything.
	_, err := svc.ScheduleAssessment(ctx, j.assessorB, j.c.ID, review.AssessmentInput{Suites: []string{"cyber-exploit", "misuse"}})
	check(t, "ScheduleAssessment(B, misuse)", err, review.ErrInvalidInput)
	if !strings.Contains(err.Error(), `"misuse"`) || !strings.Contains(err.Error(), "cyber") {
		t.Errorf("error %q names neither the suite nor the domains", err)
	}
	_, err = svc.ScheduleAssessment(ctx, j.assessorB, j.c.ID, review.AssessmentInput{})
	check(t, "ScheduleAssessment(B, plan)", err, review.ErrInvalidInput)
	asmB, err := svc.ScheduleAssessment(ctx, j.assessorB, j.c.ID, review.AssessmentInput{Suites: []string{"cyber-exploit"}})
	check(t, "ScheduleAssessment(B, cyber-exploit)", err, nil)
	asmA, err := svc.ScheduleAssessment(ctx, j.assessor, j.c.ID, review.AssessmentInput{Suites: []string{"misuse"}})
	check(t, "ScheduleAssessment(lead, misuse)", err, nil)
	if asmB.OrgID != j.orgB.ID || asmA.OrgID != j.official.Org.ID || asmB.Shared || asmA.Shared {
		t.Fatalf("compartments: B's %q shared %v, lead's %q shared %v", asmB.OrgID, asmB.Shared, asmA.OrgID, asmA.Shared)
	}
	_, err = svc.RecordShard(ctx, asmB.ID, 0, []review.Sample{{Seq: 0, ID: "s0", Suite: "cyber-exploit",
		Outcome: review.SampleFlagged, Harmful: true, Record: []byte(`{"transcript":"exploit"}`)}})
	check(t, "RecordShard", err, nil)

	listed := func(a review.Actor) []string {
		t.Helper()
		as, err := svc.Assessments(ctx, a, j.c.ID, review.Page{})
		check(t, "Assessments("+a.User.Name+")", err, nil)
		var ids []string
		for _, x := range as {
			ids = append(ids, x.ID)
		}
		slices.Sort(ids)
		return ids
	}
	both := []string{asmA.ID, asmB.ID}
	slices.Sort(both)
	for _, tc := range []struct {
		a    review.Actor
		want []string
	}{
		{j.official, []string{asmA.ID}},
		{j.reviewer, []string{asmA.ID}},
		{j.assessor, []string{asmA.ID}},
		{j.officialB, []string{asmB.ID}},
		{j.assessorB, []string{asmB.ID}},
		{j.devA, nil},
	} {
		if got := listed(tc.a); !slices.Equal(got, tc.want) {
			t.Errorf("Assessments(%s) = %v, want %v", tc.a.User.Name, got, tc.want)
		}
	}
	// A pages through to the end even when a hidden one fills the page.
	as, err := svc.Assessments(ctx, j.official, j.c.ID, review.Page{Limit: 1})
	check(t, "Assessments(limit 1)", err, nil)
	if len(as) != 1 || as[0].ID != asmA.ID {
		t.Fatalf("Assessments(limit 1) = %+v", as)
	}

	// The lead cannot read B's unshared assessment, samples or transcript,
	// and cannot tell it from a missing one.
	_, hidden := svc.GetAssessment(ctx, j.official, asmB.ID)
	_, missing := svc.GetAssessment(ctx, j.official, "asm_missing")
	sameAsMissing(t, "GetAssessment", hidden, asmB.ID, "asm_missing", missing)
	_, hidden = svc.Samples(ctx, j.official, review.SampleFilter{AssessmentID: asmB.ID, AfterSeq: -1})
	_, missing = svc.Samples(ctx, j.official, review.SampleFilter{AssessmentID: "asm_missing", AfterSeq: -1})
	sameAsMissing(t, "Samples", hidden, asmB.ID, "asm_missing", missing)
	_, hidden = svc.RevealSample(ctx, j.official, asmB.ID, 0)
	_, missing = svc.RevealSample(ctx, j.official, "asm_missing", 0)
	sameAsMissing(t, "RevealSample", hidden, asmB.ID, "asm_missing", missing)
	_, err = svc.ShareAssessment(ctx, j.official, asmB.ID, true)
	check(t, "ShareAssessment by another agency", err, review.ErrNotFound)
	_, err = svc.ShareAssessment(ctx, j.assessorB, asmB.ID, true)
	check(t, "ShareAssessment by an assessor", err, review.ErrForbidden)
	// B itself reads its transcript.
	sm, err := svc.RevealSample(ctx, j.officialB, asmB.ID, 0)
	check(t, "RevealSample(B)", err, nil)
	if !strings.Contains(string(sm.Record), "exploit") {
		t.Fatalf("RevealSample(B) record %q", sm.Record)
	}

	shared, err := svc.ShareAssessment(ctx, j.reviewerB, asmB.ID, true)
	check(t, "ShareAssessment(B)", err, nil)
	if !shared.Shared {
		t.Fatal("ShareAssessment returned an unshared assessment")
	}
	if got := listed(j.official); !slices.Equal(got, both) {
		t.Errorf("Assessments(lead) after sharing = %v, want %v", got, both)
	}
	if got := listed(j.devA); !slices.Equal(got, []string{asmB.ID}) {
		t.Errorf("Assessments(developer) after sharing = %v", got)
	}
	sm, err = svc.RevealSample(ctx, j.official, asmB.ID, 0)
	check(t, "RevealSample(lead) after sharing", err, nil)
	if !strings.Contains(string(sm.Record), "exploit") {
		t.Fatalf("RevealSample(lead) record %q", sm.Record)
	}
	_, err = svc.ShareAssessment(ctx, j.official, asmB.ID, false)
	check(t, "unshare by another agency", err, review.ErrForbidden)

	// Findings: each agency's are its own until shared.
	fA, err := svc.RecordFinding(ctx, j.reviewer, j.c.ID, review.FindingInput{Severity: review.SeverityHigh, Title: "lead's finding"})
	check(t, "RecordFinding(lead)", err, nil)
	fB, err := svc.RecordFinding(ctx, j.reviewerB, j.c.ID, review.FindingInput{Severity: review.SeverityLow, Title: "B's finding"})
	check(t, "RecordFinding(B)", err, nil)
	if fA.OrgID != j.official.Org.ID || fB.OrgID != j.orgB.ID {
		t.Fatalf("finding compartments %q %q", fA.OrgID, fB.OrgID)
	}
	findings := func(a review.Actor) []string {
		t.Helper()
		fs, err := svc.Findings(ctx, a, j.c.ID, review.Page{})
		check(t, "Findings("+a.User.Name+")", err, nil)
		var ids []string
		for _, f := range fs {
			ids = append(ids, f.ID)
		}
		return ids
	}
	if got := findings(j.official); !slices.Equal(got, []string{fA.ID}) {
		t.Errorf("Findings(lead) = %v", got)
	}
	if got := findings(j.officialB); !slices.Equal(got, []string{fB.ID}) {
		t.Errorf("Findings(B) = %v", got)
	}
	if got := findings(j.devA); len(got) != 0 {
		t.Errorf("Findings(developer) = %v, want none", got)
	}
	_, hidden = svc.SetFindingStatus(ctx, j.official, fB.ID, review.FindingResolved, "n")
	_, missing = svc.SetFindingStatus(ctx, j.official, "fnd_missing", review.FindingResolved, "n")
	sameAsMissing(t, "SetFindingStatus", hidden, fB.ID, "fnd_missing", missing)
	_, hidden = svc.Respond(ctx, j.devA, fA.ID, "we fixed it")
	_, missing = svc.Respond(ctx, j.devA, "fnd_missing", "we fixed it")
	sameAsMissing(t, "Respond to unshared", hidden, fA.ID, "fnd_missing", missing)
	_, err = svc.ShareFinding(ctx, j.officialB, fA.ID, true)
	check(t, "ShareFinding by another agency", err, review.ErrNotFound)

	_, err = svc.ShareFinding(ctx, j.official, fA.ID, true)
	check(t, "ShareFinding(lead)", err, nil)
	if got := findings(j.devA); !slices.Equal(got, []string{fA.ID}) {
		t.Errorf("Findings(developer) after sharing = %v", got)
	}
	if got := findings(j.officialB); !slices.Equal(got, []string{fA.ID, fB.ID}) && !slices.Equal(got, []string{fB.ID, fA.ID}) {
		t.Errorf("Findings(B) after sharing = %v", got)
	}
	// B reads the lead's shared finding but does not work on it.
	_, err = svc.SetFindingStatus(ctx, j.officialB, fA.ID, review.FindingResolved, "n")
	check(t, "SetFindingStatus on another agency's shared finding", err, review.ErrForbidden)
	r, err := svc.Respond(ctx, j.devA, fA.ID, "we fixed it")
	check(t, "Respond to shared", err, nil)
	rs, err := svc.Responses(ctx, j.officialB, j.c.ID, "", review.Page{})
	check(t, "Responses(B)", err, nil)
	if len(rs) != 1 || rs[0].ID != r.ID {
		t.Fatalf("Responses(B) = %+v", rs)
	}

	// Withdrawn: the finding and its responses are the lead's alone again.
	_, err = svc.ShareFinding(ctx, j.reviewer, fA.ID, false)
	check(t, "unshare finding", err, nil)
	for _, a := range []review.Actor{j.devA, j.officialB} {
		rs, err := svc.Responses(ctx, a, j.c.ID, "", review.Page{})
		check(t, "Responses", err, nil)
		rs2, err := svc.Responses(ctx, a, j.c.ID, fA.ID, review.Page{})
		check(t, "Responses(finding)", err, nil)
		if len(rs)+len(rs2) != 0 {
			t.Errorf("Responses(%s) after unsharing = %+v %+v", a.User.Name, rs, rs2)
		}
	}
	if rs, _ := svc.Responses(ctx, j.official, j.c.ID, "", review.Page{}); len(rs) != 1 {
		t.Errorf("Responses(lead) = %+v", rs)
	}

	// The audit trail records sharing, and another agency's case audit
	// leaves out the entries about work it cannot see.
	es, err := svc.CaseAudit(ctx, j.official, j.c.ID, 0, 500)
	check(t, "CaseAudit(lead)", err, nil)
	var got []string
	for _, e := range es {
		if strings.HasSuffix(e.Action, ".shared") {
			var d struct {
				Shared bool `json:"shared"`
			}
			if err := json.Unmarshal(e.Details, &d); err != nil {
				t.Fatal(err)
			}
			got = append(got, e.Action+":"+map[bool]string{true: "on", false: "off"}[d.Shared])
		}
	}
	if want := []string{"assessment.shared:on", "finding.shared:on", "finding.shared:off"}; !slices.Equal(got, want) {
		t.Errorf("sharing audit = %v, want %v", got, want)
	}
	es, err = svc.CaseAudit(ctx, j.devA, j.c.ID, 0, 500)
	check(t, "CaseAudit(developer)", err, nil)
	for _, e := range es {
		if strings.Contains(string(e.Details), fA.ID) || strings.Contains(string(e.Details), fB.ID) || strings.Contains(string(e.Details), asmA.ID) {
			t.Errorf("developer's case audit shows hidden work: %s %s", e.Action, e.Details)
		}
	}
}

// TestShareNotJoint: a case one agency reviews has no compartments, so
// sharing in it is refused as invalid and nothing else changes.
func TestShareNotJoint(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	svc, _, _, _ := serviceWith(t, w, "")
	c := w.submit(t, w.devA)
	toReview(t, w, svc, c)
	f, err := svc.RecordFinding(ctx, w.reviewer, c.ID, review.FindingInput{Severity: review.SeverityLow, Title: "t"})
	check(t, "RecordFinding", err, nil)
	if f.OrgID != "" || f.Shared {
		t.Fatalf("non-joint finding compartment %q shared %v", f.OrgID, f.Shared)
	}
	_, err = svc.ShareFinding(ctx, w.reviewer, f.ID, true)
	check(t, "ShareFinding", err, review.ErrInvalidInput)
	fs, err := svc.Findings(ctx, w.devA, c.ID, review.Page{})
	check(t, "Findings(developer)", err, nil)
	if len(fs) != 1 {
		t.Fatalf("developer sees %d findings of a non-joint case, want 1", len(fs))
	}
}
