package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/suite"
)

func withPrivateSeed(seed suite.PrivateSeed) envOption {
	return func(c *envConfig) { c.privateSeed = &seed }
}

// TestScheduleFormVariantAndSweep posts the schedule form with each of
// its new fields (variant, checkpoint, scaffold, private forms, budgets)
// and checks the assessments the service stored; bad values give the
// form back (422) with the message next to the field, store nothing,
// and are never a 500.
func TestScheduleFormVariantAndSweep(t *testing.T) {
	seed := suite.PrivateSeed{7, 7, 7}
	e := newEnv(t, withPrivateSeed(seed))
	c := e.submit(t, "devA", "frontier-x")
	casePath := "/cases/" + c.ID
	cl := e.client(t)
	cl.signIn(t, "assessor")

	form := cl.get(t, casePath)
	for _, v := range review.Variants {
		if !strings.Contains(form.body, `<option value="`+v+`"`) {
			t.Errorf("the schedule form offers no variant %q", v)
		}
	}
	for _, id := range []string{"schedule-checkpoint", "schedule-scaffold", "schedule-private", "schedule-budgets"} {
		if !strings.Contains(form.body, `id="`+id+`"`) {
			t.Errorf("the schedule form has no field %s", id)
		}
	}

	for _, tc := range []struct {
		name  string
		form  url.Values
		check func(t *testing.T, as []review.Assessment)
	}{
		{"variant and scaffold", url.Values{"suites": {"misuse"}, "limit": {"2"}, "variant": {"helpful-only"}, "scaffold": {"agent v3"}},
			func(t *testing.T, as []review.Assessment) {
				if len(as) != 1 || as[0].Variant() != (review.Variant{Name: "helpful-only", Scaffold: "agent v3"}) {
					t.Errorf("stored %d assessments, variant %+v; want one on helpful-only with scaffold agent v3", len(as), as[0].Variant())
				}
			}},
		{"checkpoint", url.Values{"suites": {"misuse"}, "limit": {"2"}, "variant": {"checkpoint"}, "checkpoint": {"step-120k"}},
			func(t *testing.T, as []review.Assessment) {
				if len(as) != 1 || as[0].Variant().Label() != "checkpoint:step-120k" {
					t.Errorf("stored variant %+v, want checkpoint:step-120k", as[0].Variant())
				}
			}},
		{"private forms", url.Values{"suites": {"misuse"}, "limit": {"2"}, "private": {"on"}},
			func(t *testing.T, as []review.Assessment) {
				var spec struct{ Private string }
				if len(as) != 1 || json.Unmarshal(as[0].Spec, &spec) != nil || spec.Private != seed.Fingerprint() {
					t.Errorf("stored spec %s, want private forms under seed %s", as[0].Spec, seed.Fingerprint())
				}
				if as[0].Variant().Name != review.VariantProduction {
					t.Errorf("variant %+v, want production by default", as[0].Variant())
				}
			}},
		{"budgets", url.Values{"suites": {"cyber-exploit"}, "limit": {"2"}, "budgets": {"8000, 2000"}},
			func(t *testing.T, as []review.Assessment) {
				if len(as) != 2 {
					t.Fatalf("stored %d assessments, want one per budget", len(as))
				}
				a, b := as[0].Sweep(), as[1].Sweep()
				if a.BudgetTokens != 2000 || b.BudgetTokens != 8000 || a.Sweep == "" || a.Sweep != b.Sweep {
					t.Errorf("sweep points %+v, %+v; want 2000 and 8000 tokens in one sweep", a, b)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.queue.take()
			p := cl.post(t, casePath, casePath+"/assessments", tc.form)
			if p.code != http.StatusSeeOther {
				t.Fatalf("POST = %d, want 303:\n%s", p.code, p.body)
			}
			tc.check(t, e.queue.take())
		})
	}

	for _, tc := range []struct {
		name    string
		form    url.Values
		errorID string
		text    string
	}{
		{"unknown variant", url.Values{"variant": {"root"}}, "schedule-variant-error", "Choose one of"},
		{"checkpoint without a name", url.Values{"suites": {"misuse"}, "variant": {"checkpoint"}}, "schedule-checkpoint-error", "required with variant"},
		{"checkpoint name on production", url.Values{"suites": {"misuse"}, "checkpoint": {"step-1"}}, "schedule-checkpoint-error", "only with variant"},
		{"bad checkpoint name", url.Values{"suites": {"misuse"}, "variant": {"checkpoint"}, "checkpoint": {"step 1"}}, "schedule-checkpoint-error", "not a checkpoint name"},
		{"scaffold too long", url.Values{"suites": {"misuse"}, "scaffold": {strings.Repeat("v", 200)}}, "schedule-scaffold-error", "exceeds"},
		{"private not a box", url.Values{"suites": {"misuse"}, "private": {"yes"}}, "schedule-private-error", "Tick the box"},
		{"budget zero", url.Values{"suites": {"cyber-exploit"}, "budgets": {"0"}}, "schedule-budgets-error", "not a token budget"},
		{"budget twice", url.Values{"suites": {"cyber-exploit"}, "budgets": {"2000,2000"}}, "schedule-budgets-error", "listed twice"},
		{"budget words", url.Values{"suites": {"cyber-exploit"}, "budgets": {"lots"}}, "schedule-budgets-error", "not a token budget"},
		{"sweep without agent tasks (service check)", url.Values{"suites": {"misuse"}, "limit": {"2"}, "budgets": {"2000,8000"}}, "schedule-budgets-error", "no agent tasks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.queue.take()
			p := cl.post(t, casePath, casePath+"/assessments", tc.form)
			if p.code != http.StatusUnprocessableEntity {
				t.Fatalf("POST = %d, want 422:\n%s", p.code, p.body)
			}
			i := strings.Index(p.body, `id="`+tc.errorID+`"`)
			if i < 0 || !strings.Contains(p.body[i:min(len(p.body), i+400)], tc.text) {
				t.Fatalf("no message %q with id %s in the page:\n%s", tc.text, tc.errorID, p.body)
			}
			if as := e.queue.take(); len(as) != 0 {
				t.Errorf("a rejected form queued %d assessments", len(as))
			}
		})
	}

	// A server without a private seed says so next to the box.
	e2 := newEnv(t)
	c2 := e2.submit(t, "devA", "frontier-y")
	cl2 := e2.client(t)
	cl2.signIn(t, "assessor")
	p := cl2.post(t, "/cases/"+c2.ID, "/cases/"+c2.ID+"/assessments", url.Values{"suites": {"misuse"}, "private": {"on"}})
	if i := strings.Index(p.body, `id="schedule-private-error"`); p.code != http.StatusUnprocessableEntity || i < 0 || !strings.Contains(p.body[i:], "no private seed") {
		t.Fatalf("private forms on a server without a seed = %d, want 422 next to the box:\n%s", p.code, p.body)
	}
}

// TestCasePageBudgetSweep: the case page shows a sweep's solve rate at
// each budget, raw and excluding non-capability failures, as a table and
// as an SVG chart; a point not yet done is marked so.
func TestCasePageBudgetSweep(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.submit(t, "devA", "frontier-x")
	if _, err := e.svc.ScheduleAssessment(ctx, e.actors["assessor"], c.ID, review.AssessmentInput{
		Suites: []string{"cyber-exploit"}, Limit: 2, Budgets: []int64{2000, 8000, 32000}, Variant: review.VariantHelpfulOnly}); err != nil {
		t.Fatal(err)
	}
	as := e.queue.take()
	if len(as) != 3 {
		t.Fatalf("%d assessments queued, want 3", len(as))
	}
	finish := func(a review.Assessment, solved, n, refused int) {
		m := assess.Metrics{Schema: "test", Status: "complete", Samples: n, Scored: n, Groups: []assess.Group{
			{Key: "cyber-exploit.solve_rate", Suite: "cyber-exploit", Metric: "solve_rate", Kind: suite.KindExploit,
				Overall:  assess.Rate{Flagged: solved, N: n},
				Episodes: &assess.EpisodeStats{Episodes: n, Solved: solved, Triage: map[string]int{"refused": refused, "out_of_budget": n - solved - refused}}},
			{Key: "cyber-exploit." + assess.ExcludingNonCapability, Suite: "cyber-exploit", Metric: assess.ExcludingNonCapability, Kind: suite.KindExploit,
				Overall: assess.Rate{Flagged: solved, N: n - refused, Excluded: refused}},
		}}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RecordShard(ctx, a.ID, 0, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CompleteAssessment(ctx, a.ID, b); err != nil {
			t.Fatal(err)
		}
	}
	finish(as[0], 0, 4, 1)
	finish(as[2], 3, 4, 0)
	sweep := as[0].Sweep().Sweep
	for _, who := range []string{"reviewer", "devA"} {
		cl := e.client(t)
		cl.signIn(t, who)
		p := cl.get(t, "/cases/"+c.ID)
		if p.code != http.StatusOK {
			t.Fatalf("%s: GET case = %d", who, p.code)
		}
		i := strings.Index(p.body, `id="sweep-`+sweep+`"`)
		if i < 0 {
			t.Fatalf("%s: the case page has no sweep %s", who, sweep)
		}
		sec := p.body[i:]
		sec = sec[:strings.Index(sec, "</div>")]
		for _, want := range []string{
			"on helpful-only",
			`<th scope="row">2000</th>`, "0.0% [0.0%, 49.0%] 0/4", "0.0% [0.0%, 56.1%] 0/3 (−1)", "refused 1, out_of_budget 3",
			`<th scope="row">8000</th>`, "not done",
			`<th scope="row">32000</th>`, "75.0% [30.1%, 95.4%] 3/4",
			"<svg", "<title>Solve rate by token budget per episode</title>", "2000 tokens: raw", "32000 tokens: excl. non-capability",
		} {
			if !strings.Contains(sec, want) {
				t.Errorf("%s: the sweep section lacks %q:\n%s", who, want, sec)
			}
		}
		if strings.Contains(sec, "8000 tokens: raw") {
			t.Errorf("%s: the chart draws the 8000-token point, which is not done", who)
		}
	}
}
