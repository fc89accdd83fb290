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
)

// TestScheduleReferenceForm: the schedule form makes a reference
// assessment from its reference fields (name, endpoint, model,
// credentials, digest); the case page labels it "reference: NAME" and
// never shows the credentials; bad reference input gives the form back
// (422) with the message next to the field named, stores nothing and is
// never a 500.
func TestScheduleReferenceForm(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-x")
	casePath := "/cases/" + c.ID
	cl := e.client(t)
	cl.signIn(t, "assessor")
	form := cl.get(t, casePath)
	for _, id := range []string{"schedule-reference-name", "schedule-reference-url", "schedule-reference-model", "schedule-reference-credentials", "schedule-reference-digest"} {
		if !strings.Contains(form.body, `id="`+id+`"`) {
			t.Errorf("the schedule form has no field %s", id)
		}
	}

	const secret = "sk-reference-SECRET"
	digest := "sha256:" + strings.Repeat("cd", 32)
	for _, tc := range []struct {
		name    string
		form    url.Values
		errorID string
		text    string
	}{
		{"bad name", url.Values{"suites": {"misuse"}, "reference.name": {"Previous Model"}, "reference.url": {"https://prev.example/v1"}, "reference.model": {"p"}, "reference.credentials": {secret}},
			"schedule-reference-name-error", "lower-case letters"},
		{"reserved name", url.Values{"suites": {"misuse"}, "reference.name": {"model"}, "reference.url": {"https://prev.example/v1"}, "reference.model": {"p"}},
			"schedule-reference-name-error", `not \&#34;model\&#34;`},
		{"no name", url.Values{"suites": {"misuse"}, "reference.url": {"https://prev.example/v1"}, "reference.model": {"p"}},
			"schedule-reference-name-error", "lower-case letters"},
		{"no url", url.Values{"suites": {"misuse"}, "reference.name": {"previous"}, "reference.model": {"p"}},
			"schedule-reference-url-error", ""},
		{"bad url", url.Values{"suites": {"misuse"}, "reference.name": {"previous"}, "reference.url": {"ftp://prev"}, "reference.model": {"p"}},
			"schedule-reference-url-error", ""},
		{"no model", url.Values{"suites": {"misuse"}, "reference.name": {"previous"}, "reference.url": {"https://prev.example/v1"}},
			"schedule-reference-model-error", ""},
		{"bad digest", url.Values{"suites": {"misuse"}, "reference.name": {"previous"}, "reference.url": {"https://prev.example/v1"}, "reference.model": {"p"}, "reference.digest": {"md5:x"}},
			"schedule-reference-digest-error", "sha256:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.queue.take()
			p := cl.post(t, casePath, casePath+"/assessments", tc.form)
			if p.code != http.StatusUnprocessableEntity {
				t.Fatalf("POST = %d, want 422:\n%s", p.code, p.body)
			}
			i := strings.Index(p.body, `id="`+tc.errorID+`"`)
			if i < 0 || !strings.Contains(p.body[i:min(len(p.body), i+400)], strings.ReplaceAll(tc.text, `\`, "")) {
				t.Fatalf("no message %q with id %s in the page:\n%s", tc.text, tc.errorID, p.body)
			}
			if !strings.Contains(p.body, `id="schedule-reference" open`) {
				t.Errorf("the reference fields are not shown open with their error")
			}
			if strings.Contains(p.body, secret) {
				t.Errorf("the form came back with the credentials in it")
			}
			if as := e.queue.take(); len(as) != 0 {
				t.Errorf("a rejected form queued %d assessments", len(as))
			}
		})
	}

	e.queue.take()
	p := cl.post(t, casePath, casePath+"/assessments", url.Values{"suites": {"misuse"}, "limit": {"2"}, "reference.name": {"previous"},
		"reference.url": {"https://prev.example/v1"}, "reference.model": {"prev-1"}, "reference.credentials": {secret}, "reference.digest": {digest}})
	if p.code != http.StatusSeeOther {
		t.Fatalf("POST = %d, want 303:\n%s", p.code, p.body)
	}
	as := e.queue.take()
	if len(as) != 1 {
		t.Fatalf("queued %d assessments, want 1", len(as))
	}
	refs, err := e.svc.References(context.Background(), e.actors["assessor"], c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := refs[as[0].ID]; r.Name != "previous" || r.URL != "https://prev.example/v1" || r.Model != "prev-1" || r.Digest != digest {
		t.Errorf("stored reference = %+v", r)
	}
	_, _, cred, err := e.svc.AssessmentTarget(context.Background(), as[0].ID)
	if err != nil || string(cred) != secret {
		t.Errorf("reference credentials = %q, %v; want the ones entered", cred, err)
	}
	own, err := e.svc.ScheduleAssessment(context.Background(), e.actors["assessor"], c.ID, review.AssessmentInput{Suites: []string{"misuse"}, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}

	page := cl.get(t, casePath)
	art := func(id string) string {
		i := strings.Index(page.body, `id="assessment-`+id+`"`)
		if i < 0 {
			t.Fatalf("no assessment %s on the page", id)
		}
		j := strings.Index(page.body[i:], "</article>")
		return page.body[i : i+j]
	}
	if a := art(as[0].ID); !strings.Contains(a, `<span class="badge reference">reference: previous</span>`) || !strings.Contains(a, "<code>prev-1</code>") {
		t.Errorf("the reference assessment is not labelled:\n%s", a)
	}
	if a := art(own.ID); strings.Contains(a, "reference:") {
		t.Errorf("the model's own assessment is labelled a reference:\n%s", a)
	}
	if strings.Contains(page.body, secret) {
		t.Errorf("the case page shows the reference credentials")
	}
}

// TestCohortByCategoryOnCasePage: the cohort section gives each metric's
// per-category differences, for the categories both runs have, in a
// collapsed block under the metric's row.
func TestCohortByCategoryOnCasePage(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-x")
	asr := e.actors["assessor"]
	finish := func(in review.AssessmentInput, cats map[string][2]int) {
		t.Helper()
		a, err := e.svc.ScheduleAssessment(ctx, asr, c.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		g := assess.Group{Key: "cyber.solve_rate", Suite: "cyber", Metric: "solve_rate", ByCategory: map[string]assess.Rate{}}
		for cat, kn := range cats {
			g.ByCategory[cat] = assess.Rate{Flagged: kn[0], N: kn[1]}
			g.Overall.Flagged += kn[0]
			g.Overall.N += kn[1]
		}
		m, err := json.Marshal(assess.Metrics{Groups: []assess.Group{g}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range a.Shards {
			if _, err := e.svc.RecordShard(ctx, a.ID, i, []review.Sample{{Seq: i, ID: "s", Suite: "misuse", Outcome: review.SamplePassed, Record: []byte(`{}`)}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.svc.CompleteAssessment(ctx, a.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	finish(review.AssessmentInput{Suites: []string{"misuse"}, Limit: 2}, map[string][2]int{"web": {80, 100}, "crypto": {12, 100}, "pwn": {5, 10}})
	finish(review.AssessmentInput{Suites: []string{"misuse"}, Limit: 2, Reference: &review.ReferenceInput{Name: "previous", URL: "https://prev.example/v1", Model: "prev-1"}},
		map[string][2]int{"web": {30, 100}, "crypto": {10, 100}, "forensics": {1, 10}})

	cl := e.client(t)
	cl.signIn(t, "reviewer")
	p := cl.get(t, "/cases/"+c.ID)
	if p.code != 200 {
		t.Fatalf("GET case = %d", p.code)
	}
	i := strings.Index(p.body, `id="cohort-previous"`)
	if i < 0 {
		t.Fatalf("no cohort table for previous:\n%s", p.body)
	}
	tbl := p.body[i:]
	tbl = tbl[:strings.Index(tbl, "</details>")]
	for _, want := range []string{
		"<details><summary>cyber.solve_rate by category (2 in both runs)</summary>",
		`<th scope="row">web</th><td>80.0%</td><td>30.0%</td><td>&#43;50.0%</td>`,
		`<th scope="row">crypto</th><td>12.0%</td><td>10.0%</td><td>&#43;2.0%</td>`,
	} {
		if !strings.Contains(tbl, want) {
			t.Errorf("cohort table lacks %q:\n%s", want, tbl)
		}
	}
	if strings.Contains(tbl, "forensics") || strings.Contains(tbl, ">pwn<") {
		t.Errorf("a category only one run has is compared:\n%s", tbl)
	}
	web := tbl[strings.Index(tbl, `<th scope="row">web</th>`):]
	if !strings.Contains(web[:strings.Index(web, "</tr>")], "differs") {
		t.Errorf("web row not marked differs: %s", web)
	}
	cr := tbl[strings.Index(tbl, `<th scope="row">crypto</th>`):]
	if !strings.Contains(cr[:strings.Index(cr, "</tr>")], "within error") {
		t.Errorf("crypto row not marked within error: %s", cr)
	}
}
