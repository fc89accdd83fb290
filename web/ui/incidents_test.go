package ui_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/web/ui/uitest"
)

// TestBrowserIncidents: in Chromium, the case page and the incidents page
// show an incident's duties with their deadlines and states (one overdue,
// one due), to the case's developer and the official; developer B, of
// another organisation, sees neither the incident nor its duties.
func TestBrowserIncidents(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-x")
	d := decideAs(t, e, c, `{"us-caisi":"cleared","eu-gpai":"cleared"}`)
	inc, _, err := e.svc.FileIncident(ctx, e.actors["devA"], review.IncidentInput{DecisionID: d.ID, Class: review.ClassCyber,
		Summary: "model weights copied to an unknown host", DiscoveredAt: e.now.AddDate(0, 0, -3)})
	if err != nil {
		t.Fatal(err)
	}
	// Duties as the profiles would owe them (this server's evidence has no incident rules).
	for _, du := range []review.Duty{
		{ID: "duty_b1", Profile: "eu-gpai", Kind: review.DutyInitial, Class: "cybersecurity-breach", Title: "serious cybersecurity breach",
			To: "AI Office", DueAt: e.now.AddDate(0, 0, 2), State: review.DutyDue},
		{ID: "duty_b2", Profile: "us-caisi", Kind: review.DutyInitial, Class: "incident", Title: "critical safety incident",
			To: "Office of Emergency Services", DueAt: e.now.AddDate(0, 0, -1), State: review.DutyOverdue},
	} {
		du.CaseID, du.IncidentID, du.CreatedAt = c.ID, inc.ID, e.now
		if err := e.store.CreateDuty(ctx, du); err != nil {
			t.Fatal(err)
		}
	}
	b := uitest.New(t, e.http.URL)
	for _, who := range []string{"devA", "official"} {
		as(t, b, e, who)
		b.Open("/cases/" + c.ID)
		b.WantText("#incident-"+inc.ID, "cyber", "model weights copied")
		b.WantText("#duty-duty_b1", "eu-gpai", "AI Office", "due", "in 2d")
		b.WantText("#duty-duty_b2", "us-caisi", "overdue", "ago")
		b.Screenshot("case-incidents-" + who)
		b.Open("/incidents")
		b.WantText("#duty-duty_b2", "overdue")
		b.WantText("table.incidents", inc.ID)
	}
	b.Screenshot("incidents-page")
	as(t, b, e, "devB")
	b.Open("/incidents")
	if n := b.Count("#duty-duty_b1, #duty-duty_b2, table.incidents"); n != 0 {
		t.Errorf("developer B sees %d of developer A's incidents and duties", n)
	}
}

// TestBrowserModifiedModel: in Chromium, the case of new weights of a
// decided model's family shows the prior case and its decision's
// outcomes beside this case's; another family shows no prior section.
func TestBrowserModifiedModel(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	prior := e.submit(t, "devA", "frontier-x")
	decideAs(t, e, prior, `{"us-caisi":"cleared","eu-gpai":"hold"}`)
	sub := func(name, digestHex string) review.Case {
		c, err := e.svc.Submit(ctx, e.actors["devA"], review.Submission{
			Model:   review.SubmittedModel{Digest: "sha256:" + strings.Repeat(digestHex, 64), Name: name},
			Dossier: json.RawMessage(`{"training_compute_flop":3e26}`), Target: review.SubmittedTarget{URL: "https://api.example/v1"},
			Profiles: []string{"us-caisi", "eu-gpai"}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	mod, other := sub("frontier-x-ft", "e"), sub("hermes", "f")
	b := uitest.New(t, e.http.URL)
	as(t, b, e, "devA")
	b.Open("/cases/" + mod.ID)
	b.WantText("#prior", "re-review of frontier-x", prior.ID, "us-caisi outcome", "cleared", "eu-gpai outcome", "hold")
	b.Screenshot("modified-model")
	b.Open("/cases/" + other.ID)
	if n := b.Count("#prior"); n != 0 {
		t.Errorf("another family's case shows a prior section")
	}
}
