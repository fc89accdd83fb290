package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/suite"
)

// TestPrivateGapOnCasePage: a run with private forms shows its gap on the
// case page: the table for agency staff, the flag alone for the developer,
// who sees neither the private rates nor the private groups' charts.
func TestPrivateGapOnCasePage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.submit(t, "devA", "memorised-model")
	if _, err := e.svc.Transition(ctx, e.actors["assessor"], c.ID, review.StateInAssessment, ""); err != nil {
		t.Fatal(err)
	}
	grp := func(name string, k int) assess.Group {
		return assess.Group{Key: name + ".attack_success_rate", Suite: name, Metric: "attack_success_rate", Kind: suite.KindHarmful,
			Overall: assess.Rate{Flagged: k, N: 300, Rate: float64(k) / 300}}
	}
	m := assess.Metrics{Schema: "test", Status: "complete", Samples: 600, Scored: 600, Groups: []assess.Group{grp("jailbreak", 11), grp("jailbreak-private", 86)}}
	g := assess.ComparePrivate(m, "fp", 0)
	m.PrivateGap = &g
	m.Contamination = &assess.Contamination{Scanned: 600, Canaries: 2, Samples: []string{"jailbreak/jb-7/direct", "jailbreak/jb-9/direct"}}
	metrics, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ImportAssessment(ctx, e.actors["assessor"], c.ID, review.ImportedRun{
		Spec: json.RawMessage(`{"suites":["jailbreak"]}`), Metrics: metrics,
		Samples: func(func(review.Sample) error) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who        string
		want, hide []string
	}{
		{"reviewer", []string{`class="private-gap"`, "possible overfitting to the public suite",
			`<th scope="row">jailbreak.attack_success_rate</th><td>3.7% (11/300)</td><td>28.7% (86/300)</td>`, "25.0 points</td>",
			"contamination signal: a private canary appeared in model output</span> in 2 of 600 samples", "<code>jailbreak/jb-9/direct</code>"}, nil},
		{"devA", []string{`class="private-gap"`, "possible overfitting to the public suite", "for agency staff only"},
			[]string{"28.7%", "86/300", "jailbreak-private", "contamination signal", "Canary scan"}},
	} {
		cl := e.client(t)
		cl.signIn(t, tc.who)
		p := cl.get(t, "/cases/"+c.ID)
		if p.code != http.StatusOK {
			t.Fatalf("%s: case page = %d", tc.who, p.code)
		}
		for _, w := range tc.want {
			if !strings.Contains(p.body, w) {
				t.Errorf("%s: case page lacks %q", tc.who, w)
			}
		}
		for _, h := range tc.hide {
			if strings.Contains(p.body, h) {
				t.Errorf("%s: case page shows %q", tc.who, h)
			}
		}
	}
}
