package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/web/ui/uitest"
)

// addDuty stores an open duty of case c (of incident inc, "" for a
// scheduled one), as the profiles would owe it.
func addDuty(t *testing.T, e *env, c review.Case, id, inc string, kind review.DutyKind) {
	t.Helper()
	du := review.Duty{ID: id, CaseID: c.ID, IncidentID: inc, Profile: "us-caisi", Kind: kind, Class: "internal-use-summary",
		Title: "quarterly internal-use summary", To: "OES", DueAt: e.now.AddDate(0, 0, 5), State: review.DutyDue, CreatedAt: e.now}
	if err := e.store.CreateDuty(context.Background(), du); err != nil {
		t.Fatal(err)
	}
}

// TestIncidentForms: the case page's incident forms. Bad input comes back
// as the case page (422) with the form and the error next to the field it
// names; a duty already done or an incident already resolved comes back
// with the conflict (409); a decision, duty or incident of another case
// is refused, and another developer gets 404; never a 500.
func TestIncidentForms(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-x")
	d := decideAs(t, e, c, `{"us-caisi":"cleared","eu-gpai":"cleared"}`)
	other := e.submit(t, "devA", "other-model")
	otherDec := decideAs(t, e, other, `{"us-caisi":"cleared","eu-gpai":"cleared"}`)
	casePath := "/cases/" + c.ID
	dev, devB, auditor := e.client(t), e.client(t), e.client(t)
	dev.signIn(t, "devA")
	devB.signIn(t, "devB")
	if _, ok := e.tokens["auditor"]; ok {
		auditor.signIn(t, "auditor")
	} else {
		auditor = nil
	}
	page := dev.get(t, casePath)
	for _, want := range []string{`id="new-incident"`, `value="` + d.ID + `"`, `option value="cyber"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("case page lacks %s", want)
		}
	}
	good := func() url.Values {
		return url.Values{"decision_id": {d.ID}, "class": {"cyber"}, "summary": {"weights copied out"}, "discovered_at": {"2026-03-01T08:00"}}
	}
	with := func(k, v string) url.Values { f := good(); f.Set(k, v); return f }
	for _, tc := range []struct {
		name    string
		form    url.Values
		errorID string
		text    string
	}{
		{"no class", with("class", ""), "incident-class-error", "want one of"},
		{"unknown class", with("class", "meteor"), "incident-class-error", "meteor"},
		{"no summary", with("summary", "  "), "incident-summary-error", "missing"},
		{"bad discovery time", with("discovered_at", "yesterday"), "incident-discovered-error", "YYYY-MM-DDTHH:MM"},
		{"discovered in the future", with("discovered_at", "2030-01-01T00:00"), "incident-discovered-error", "in the future"},
		{"another case's decision", with("decision_id", otherDec.ID), "incident-decision-error", "cleared decision of this case"},
		{"no such decision", with("decision_id", "dec_nope"), "incident-decision-error", "cleared decision of this case"},
		{"evidence too long", with("evidence", strings.Repeat("e", 70<<10)), "incident-evidence-error", "exceeds"},
	} {
		p := dev.post(t, casePath, casePath+"/incidents", tc.form)
		if p.code != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="`+tc.errorID+`"`) || !strings.Contains(p.body, tc.text) {
			t.Errorf("%s: %d, want 422 with #%s saying %q", tc.name, p.code, tc.errorID, tc.text)
		}
		if !strings.Contains(p.body, `id="new-incident"`) {
			t.Errorf("%s: the form is not shown again", tc.name)
		}
	}
	p := devB.do(t, http.MethodPost, casePath+"/incidents", url.Values{"csrf": {csrf(t, devB.get(t, "/cases"))}, "decision_id": {d.ID}, "class": {"cyber"}, "summary": {"x"}})
	if p.code != http.StatusNotFound {
		t.Errorf("developer B files on A's case: %d, want 404", p.code)
	}
	p = dev.post(t, casePath, casePath+"/incidents", good())
	if p.code != http.StatusSeeOther || !strings.Contains(p.header.Get("Location"), "#incident-inc_") {
		t.Fatalf("file incident: %d %s, want 303 to the incident\n%s", p.code, p.header.Get("Location"), p.body)
	}
	is, err := e.svc.ListIncidents(ctx, e.actors["devA"], review.IncidentFilter{CaseID: c.ID})
	if err != nil || len(is) != 1 || is[0].Summary != "weights copied out" || is[0].DiscoveredAt.Format("2006-01-02T15:04") != "2026-03-01T08:00" {
		t.Fatalf("incidents after filing = %+v, %v", is, err)
	}
	inc := is[0]
	addDuty(t, e, c, "duty_f1", inc.ID, review.DutyInitial)
	addDuty(t, e, c, "duty_s1", "", review.DutyScheduled)
	addDuty(t, e, other, "duty_o1", "", review.DutyScheduled)
	page = dev.get(t, casePath)
	for _, want := range []string{`id="report-duty_f1"`, `id="report-duty_s1"`, `id="resolve-` + inc.ID + `"`, "Scheduled duties"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("case page lacks %s", want)
		}
	}
	p = dev.post(t, casePath, casePath+"/duties/duty_s1/reports", url.Values{"note": {strings.Repeat("n", 9000)}})
	if p.code != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="note-error"`) || !strings.Contains(p.body, "exceeds") {
		t.Errorf("report with a long note: %d, want 422 with #note-error", p.code)
	}
	p = dev.post(t, casePath, casePath+"/duties/duty_o1/reports", url.Values{"note": {"x"}})
	if p.code != http.StatusNotFound {
		t.Errorf("report on another case's duty through this case: %d, want 404", p.code)
	}
	for _, id := range []string{"duty_s1", "duty_f1"} {
		p = dev.post(t, casePath, casePath+"/duties/"+id+"/reports", url.Values{"note": {"sent"}})
		if p.code != http.StatusSeeOther || !strings.HasSuffix(p.header.Get("Location"), "#duty-"+id) {
			t.Errorf("report on %s: %d %s, want 303", id, p.code, p.header.Get("Location"))
		}
	}
	p = dev.post(t, casePath, casePath+"/duties/duty_s1/reports", url.Values{"note": {"again"}})
	if p.code != http.StatusConflict {
		t.Errorf("report on a done duty: %d, want 409", p.code)
	}
	p = dev.post(t, casePath, casePath+"/incidents/"+inc.ID+"/resolve", url.Values{"resolution": {" "}})
	if p.code != http.StatusUnprocessableEntity || !strings.Contains(p.body, `id="resolution-error"`) {
		t.Errorf("resolve without a resolution: %d, want 422 with #resolution-error", p.code)
	}
	p = dev.post(t, casePath, "/cases/"+other.ID+"/incidents/"+inc.ID+"/resolve", url.Values{"resolution": {"x"}})
	if p.code != http.StatusNotFound {
		t.Errorf("resolve through another case: %d, want 404", p.code)
	}
	p = dev.post(t, casePath, casePath+"/incidents/"+inc.ID+"/resolve", url.Values{"resolution": {"host wiped, keys rotated"}})
	if p.code != http.StatusSeeOther {
		t.Fatalf("resolve: %d, want 303\n%s", p.code, p.body)
	}
	v, err := e.svc.GetIncident(ctx, e.actors["devA"], inc.ID)
	if err != nil || v.ResolvedAt.IsZero() || v.Resolution != "host wiped, keys rotated" {
		t.Errorf("incident after resolving: %+v %v", v.Incident, err)
	}
	if strings.Contains(dev.get(t, casePath).body, `id="resolve-`+inc.ID+`"`) {
		t.Errorf("a resolved incident still offers the resolve form")
	}
	if auditor != nil {
		if strings.Contains(auditor.get(t, casePath).body, `id="new-incident"`) {
			t.Errorf("an auditor is offered the incident form")
		}
	}
}

// TestBrowserIncidentFiling: in Chromium, the developer files an incident
// from the case page (first with no summary: the form comes back with the
// error), files the report of a scheduled duty, and the official resolves
// the incident.
func TestBrowserIncidentFiling(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-x")
	decideAs(t, e, c, `{"us-caisi":"cleared","eu-gpai":"cleared"}`)
	addDuty(t, e, c, "duty_s1", "", review.DutyScheduled)
	b := uitest.New(t, e.http.URL)
	as(t, b, e, "devA")
	b.Open("/cases/" + c.ID)
	b.Set("#incident-class", "cyber")
	b.Set("#incident-discovered", "2026-03-01T08:00")
	b.Submit("#new-incident button[type=submit]")
	b.WantText("#incident-summary-error", "missing")
	b.Screenshot("incident-form-error")
	b.Set("#incident-summary", "weights found on an unknown host")
	b.Submit("#new-incident button[type=submit]")
	b.WantText("#incidents article.card", "cyber", "weights found on an unknown host")
	b.Set("#note-duty_s1", "summary sent to OES")
	b.Submit("#report-duty_s1 button[type=submit]")
	b.WantText("#duty-duty_s1", "done", "report")
	b.Screenshot("incident-filed")
	as(t, b, e, "official")
	b.Open("/cases/" + c.ID)
	b.Set("#incidents form.inline[id^=resolve-] input[name=resolution]", "host wiped, keys rotated")
	b.Submit("#incidents form.inline[id^=resolve-] button[type=submit]")
	b.WantText("#incidents article.card h3", "(resolved)")
}
