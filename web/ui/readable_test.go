package ui_test

import (
	"context"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// decideAs takes a case to under review and has the official decide it
// with outcomes (a JSON object of profile → {"outcome": …}).
func decideAs(t *testing.T, e *env, c review.Case, outcomes string) review.Decision {
	t.Helper()
	return decideWith(t, e, c, outcomes, "r")
}

// decideWith is decideAs with the official's rationale.
func decideWith(t *testing.T, e *env, c review.Case, outcomes, rationale string) review.Decision {
	t.Helper()
	ctx := context.Background()
	for _, to := range []review.State{review.StateInAssessment, review.StateUnderReview} {
		if _, err := e.svc.Transition(ctx, e.actors["assessor"], c.ID, to, ""); err != nil {
			t.Fatal(err)
		}
	}
	d, err := e.svc.Decide(ctx, e.actors["official"], c.ID, review.DecisionInput{Outcomes: []byte(outcomes), Rationale: rationale})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rowOf returns the table row of the case list that links to caseID.
func rowOf(t *testing.T, body, caseID string) string {
	t.Helper()
	for _, row := range strings.Split(body, "<tr>") {
		if strings.Contains(row, `href="/cases/`+caseID+`"`) {
			return row
		}
	}
	t.Fatalf("case list has no row for %s:\n%s", caseID, body)
	return ""
}

// The case list names each case's developer organisation and shows the
// latest decision's outcome per profile, each with its own badge: a
// refused model does not wear the cleared model's green.
func TestCaseListOutcomesAndDeveloper(t *testing.T) {
	e := newEnv(t)
	good := e.submit(t, "devA", "good-model")
	bad := e.submit(t, "devB", "bad-model")
	open := e.submit(t, "devA", "open-model")
	decideAs(t, e, good, `{"us-caisi":{"outcome":"cleared"},"eu-gpai":{"outcome":"cleared_with_conditions","conditions":["Report incidents."]}}`)
	decideAs(t, e, bad, `{"us-caisi":{"outcome":"refused"},"eu-gpai":{"outcome":"hold"}}`)
	cl := e.client(t)
	cl.signIn(t, "reviewer")
	p := cl.get(t, "/cases")
	if p.code != 200 {
		t.Fatalf("/cases = %d", p.code)
	}
	for _, tc := range []struct {
		c         review.Case
		developer string
		want      []string
		not       []string
	}{
		{good, "Lab A", []string{`badge badge-cleared">cleared<`, `badge badge-cleared_with_conditions">cleared with conditions<`}, []string{"badge-refused"}},
		{bad, "Lab B", []string{`badge badge-refused">refused<`, `badge badge-hold">hold<`}, []string{"badge-cleared"}},
		{open, "Lab A", []string{"undecided"}, []string{"badge-"}},
	} {
		row := rowOf(t, p.body, tc.c.ID)
		if !strings.Contains(row, `<td class="developer">`+tc.developer+`</td>`) {
			t.Errorf("%s: row does not name developer %s:\n%s", tc.c.ModelName, tc.developer, row)
		}
		for _, w := range tc.want {
			if !strings.Contains(row, w) {
				t.Errorf("%s: row lacks %q:\n%s", tc.c.ModelName, w, row)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(row, n) {
				t.Errorf("%s: row has %q:\n%s", tc.c.ModelName, n, row)
			}
		}
	}
	// The stylesheet colours the badges apart.
	css := cl.get(t, "/static/style.css").body
	for _, rule := range []string{".badge-cleared {", ".badge-refused {", ".badge-cleared_with_conditions,"} {
		if !strings.Contains(css, rule) {
			t.Errorf("style.css lacks %q", rule)
		}
	}
}

var (
	articleRE  = regexp.MustCompile(`(?s)<article class="card sample outcome-(\w+) tone-(\w+)".*?kind (\w+).*?</article>`)
	verdictRE  = regexp.MustCompile(`<span class="verdict verdict-\w+" title="outcome: \w+">([^<]+)</span>`)
	prevPageRE = regexp.MustCompile(`<a rel="prev" href="([^"]+)">Previous page</a>`)
	nextPageRE = regexp.MustCompile(`<a rel="next" href="([^"]+)">Next page</a>`)
)

// The transcript browser says what each outcome means for its kind of
// item: a correct multiple-choice answer is "correct" (a capability
// measured, not a red safety failure), a harmful request complied with is
// "complied"; and it pages both ways.
func TestTranscriptVerdictsAndPaging(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-x")
	if _, err := e.svc.ScheduleAssessment(context.Background(), e.actors["assessor"], c.ID,
		review.AssessmentInput{Suites: []string{"cyber-compliance"}, Limit: 60}); err != nil {
		t.Fatal(err)
	}
	e.runAssessments(t)
	cl := e.client(t)
	cl.signIn(t, "reviewer")

	want := map[string]map[string]string{ // kind → outcome → verdict
		"choice":  {"flagged": "correct", "passed": "incorrect"},
		"harmful": {"flagged": "complied", "passed": "refused"},
	}
	tones := map[string]map[string]string{
		"choice":  {"flagged": "info", "passed": "info"},
		"harmful": {"flagged": "bad", "passed": "good"},
	}
	seen := map[string]int{}
	var pages []string
	path := "/cases/" + c.ID + "/samples?suite=cyber-compliance"
	for path != "" {
		p := cl.get(t, path)
		if p.code != 200 {
			t.Fatalf("%s = %d", path, p.code)
		}
		pages = append(pages, path)
		for _, m := range articleRE.FindAllStringSubmatch(p.body, -1) {
			outcome, tone, kind := m[1], m[2], m[3]
			v := verdictRE.FindStringSubmatch(m[0])
			if v == nil {
				t.Fatalf("sample without a verdict:\n%s", m[0])
			}
			if w := want[kind][outcome]; v[1] != w || tone != tones[kind][outcome] {
				t.Errorf("%s sample %s: verdict %q tone %s, want %q tone %s", kind, outcome, v[1], tone, w, tones[kind][outcome])
			}
			seen[kind+"/"+outcome]++
		}
		// Every page after the first links back to the one before it.
		if prev := prevPageRE.FindStringSubmatch(p.body); len(pages) > 1 {
			if prev == nil {
				t.Fatalf("page %d has no previous-page link", len(pages))
			}
			if got := html.UnescapeString(prev[1]); got != pages[len(pages)-2] && !(len(pages) == 2 && got == "/cases/"+c.ID+"/samples?assessment="+assessmentOf(t, pages[1])+"&suite=cyber-compliance") {
				t.Errorf("page %d links back to %s, want %s", len(pages), got, pages[len(pages)-2])
			}
		} else if prev != nil {
			t.Errorf("the first page has a previous-page link %s", prev[1])
		}
		path = ""
		if next := nextPageRE.FindStringSubmatch(p.body); next != nil {
			path = html.UnescapeString(next[1])
		}
	}
	if len(pages) < 3 {
		t.Fatalf("%d pages of samples, want at least 3", len(pages))
	}
	if seen["choice/flagged"] == 0 || seen["harmful/passed"] == 0 {
		t.Errorf("samples seen %v: want correct choice answers and refused harmful requests", seen)
	}
}

// assessmentOf returns the assessment query parameter of a samples path.
func assessmentOf(t *testing.T, path string) string {
	t.Helper()
	_, q, _ := strings.Cut(path, "?")
	for _, kv := range strings.Split(q, "&") {
		if k, v, _ := strings.Cut(kv, "="); k == "assessment" {
			return v
		}
	}
	t.Fatalf("%s names no assessment", path)
	return ""
}

// /transparency explains the log entries that are not decisions, keeps
// dates on one line, and links to the public guide to verifying a
// decision, which names the keys and commands with this server's log URL.
func TestTransparencyExplainsAndGuides(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-x")
	d := decideAs(t, e, c, `{"us-caisi":{"outcome":"cleared"},"eu-gpai":{"outcome":"refused"}}`)
	anon := e.client(t)
	p := anon.get(t, "/transparency")
	for _, want := range []string{"audit anchors", `<a href="/transparency/verify">`, `<td class="date"><time`, d.ID + ".json"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("/transparency lacks %q", want)
		}
	}
	css := anon.get(t, "/static/style.css").body
	if !strings.Contains(css, "td.date, th.date, .nowrap { white-space: nowrap; }") {
		t.Error("style.css does not keep date cells on one line")
	}
	g := anon.get(t, "/transparency/verify")
	if g.code != 200 {
		t.Fatalf("/transparency/verify = %d", g.code)
	}
	logURL := e.http.URL + "/log/"
	for _, want := range []string{
		`href="/transparency/decider.pub"`, `href="/transparency/log.pub"`,
		"clearance log proof --url " + logURL + " --index N --log-key log.pub",
		"clearance verify --bundle decision.sigstore.json --key decider.pub --log-key log.pub",
		"clearance log verify --url " + logURL, "audit anchors", "<code>clearance.test/decisions</code>",
	} {
		if !strings.Contains(g.body, want) {
			t.Errorf("/transparency/verify lacks %q", want)
		}
	}
}
