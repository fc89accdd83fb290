package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// TestCasePageRecognisedEvidence: the case page lists another
// authority's recognised decision with its provenance (authority,
// outcomes, signer key, log origin and index, who recognised it).
func TestCasePageRecognisedEvidence(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, "devA", "frontier-recognised")
	if err := e.store.CreateRecognition(context.Background(), review.Recognition{ID: "rec_0001", CaseID: c.ID, Authority: "uk-aisi",
		ForeignEvidence: review.ForeignEvidence{Kind: "decision", SignerKey: "a1b2c3d4", LogOrigin: "aisi.example/decisions", LogIndex: 17,
			DecisionID: "dec_uk_9", ModelDigest: c.ModelDigest, DecidedAt: e.now, Outcome: "cleared_with_conditions",
			Profiles: []review.ForeignOutcome{{Profile: "aisi-frontier", Outcome: "cleared"}}},
		Bundle: []byte("b"), Note: "mutual recognition <MoU>", ImportedBy: e.actors["official"].User.ID, CreatedAt: e.now}); err != nil {
		t.Fatal(err)
	}
	cl := e.client(t)
	cl.signIn(t, "reviewer")
	p := cl.get(t, "/cases/"+c.ID)
	if p.code != 200 {
		t.Fatalf("GET case = %d", p.code)
	}
	for _, want := range []string{
		`id="recognition-rec_0001"`,
		"uk-aisi: cleared_with_conditions (decision <code>dec_uk_9</code>)",
		"<li>aisi-frontier: cleared</li>",
		"signed by key <code>a1b2c3d4</code> pinned for uk-aisi",
		"logged in <code>aisi.example/decisions</code> at index 17",
		"mutual recognition &lt;MoU&gt;",
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
}
