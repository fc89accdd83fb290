package review_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/trust"
	"github.com/clearance-dev/clearance/trust/trusttest"
)

// recognitionWorld is a world whose service trusts one other authority
// (uk-aisi) through a real trust file, with a case about digest.
type recognitionWorld struct {
	*world
	svc   *review.Service
	aisi  *trusttest.Authority
	c     review.Case
	trust string
}

func newRecognitionWorld(t *testing.T) *recognitionWorld {
	t.Helper()
	w := newWorld(t)
	path := filepath.Join(t.TempDir(), "trust.json")
	aisi := trusttest.New(t, "uk-aisi")
	trusttest.WriteTrust(t, path, aisi)
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	svc, err := review.New(review.Config{Store: w.store, Sealer: sealer, Evidence: w.evidence, Signer: fakeSigner{},
		Now: func() time.Time { return w.now }, Authorities: &trust.Authorities{Path: path, Now: func() time.Time { return w.now }}})
	if err != nil {
		t.Fatal(err)
	}
	return &recognitionWorld{world: w, svc: svc, aisi: aisi, c: w.submit(t, w.devA), trust: path}
}

func (r *recognitionWorld) recognitions(t *testing.T) []review.Recognition {
	t.Helper()
	rs, err := r.svc.ListRecognitions(context.Background(), r.official, r.c.ID, review.Page{})
	check(t, "ListRecognitions", err, nil)
	return rs
}

func TestRecogniseEvidence(t *testing.T) {
	ctx := context.Background()
	r := newRecognitionWorld(t)
	decidedAt := r.now.Add(-24 * time.Hour)
	good, receipt := r.aisi.Sign(t, trusttest.Decision(digest, attest.OutcomeCleared, decidedAt), digest)

	rc, err := r.svc.RecogniseEvidence(ctx, r.assessor, r.c.ID, review.RecognitionInput{Authority: "uk-aisi", Bundle: good, Receipt: receipt, Note: "MoU 2026"})
	check(t, "RecogniseEvidence", err, nil)
	if rc.Authority != "uk-aisi" || rc.ModelDigest != digest || rc.Outcome != "cleared" || rc.SignerKey != attest.KeyHint(&r.aisi.Key.PublicKey) ||
		rc.LogOrigin != "uk-aisi.test/decisions" || rc.ImportedBy != r.assessor.User.ID || rc.Note != "MoU 2026" ||
		!rc.DecidedAt.Equal(decidedAt) || len(rc.Profiles) != 1 || string(rc.Bundle) != string(good) || string(rc.Receipt) != string(receipt) {
		t.Errorf("recognition %+v", rc)
	}
	rs := r.recognitions(t)
	if len(rs) != 1 || rs[0].ID != rc.ID || rs[0].LogIndex != rc.LogIndex {
		t.Fatalf("ListRecognitions = %+v, want the one recognised", rs)
	}
	// Audited, with the provenance.
	es, err := r.svc.CaseAudit(ctx, r.official, r.c.ID, 0, 100)
	check(t, "CaseAudit", err, nil)
	found := false
	for _, e := range es {
		if e.Action == "evidence.recognised" {
			var d map[string]any
			if err := json.Unmarshal(e.Details, &d); err != nil {
				t.Fatal(err)
			}
			found = d["recognition"] == rc.ID && d["authority"] == "uk-aisi" && d["log_origin"] == "uk-aisi.test/decisions"
		}
	}
	if !found {
		t.Error("no evidence.recognised audit entry with the provenance")
	}
	// The developer sees the recognised evidence its case rests on.
	if rs, err := r.svc.ListRecognitions(ctx, r.devA, r.c.ID, review.Page{}); err != nil || len(rs) != 1 {
		t.Errorf("developer's ListRecognitions = %d, %v", len(rs), err)
	}
	if _, err := r.svc.ListRecognitions(ctx, r.devB, r.c.ID, review.Page{}); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("other developer's ListRecognitions: %v, want ErrNotFound", err)
	}
}

// TestRecogniseEvidenceRefused: an unverifiable import is refused with
// the reason (ErrInvalidInput) and stores nothing, nor audits anything.
func TestRecogniseEvidenceRefused(t *testing.T) {
	ctx := context.Background()
	r := newRecognitionWorld(t)
	at := r.now.Add(-time.Hour)
	good, receipt := r.aisi.Sign(t, trusttest.Decision(digest, attest.OutcomeCleared, at), digest)
	impostor := trusttest.New(t, "impostor")
	forged, forgedReceipt := impostor.Sign(t, trusttest.Decision(digest, attest.OutcomeCleared, at), digest)
	otherModel := "sha256:" + strings.Repeat("e", 64)
	elsewhere, elsewhereReceipt := r.aisi.Sign(t, trusttest.Decision(otherModel, attest.OutcomeCleared, at), otherModel)
	tampered := []byte(strings.Replace(string(good), `"payload":"`, `"payload":"AA`, 1))

	tests := []struct {
		name string
		in   review.RecognitionInput
		want string
	}{
		{"wrong key", review.RecognitionInput{Authority: "uk-aisi", Bundle: forged, Receipt: forgedReceipt}, "not a decision signed by a key of uk-aisi"},
		{"tampered", review.RecognitionInput{Authority: "uk-aisi", Bundle: tampered, Receipt: receipt}, "not accepted as uk-aisi's"},
		{"no receipt", review.RecognitionInput{Authority: "uk-aisi", Bundle: good}, "not logged"},
		{"bad receipt", review.RecognitionInput{Authority: "uk-aisi", Bundle: good, Receipt: elsewhereReceipt}, "not logged"},
		{"other model", review.RecognitionInput{Authority: "uk-aisi", Bundle: elsewhere, Receipt: elsewhereReceipt}, "about model " + otherModel + ", not this case's model " + digest},
		{"unknown authority", review.RecognitionInput{Authority: "nsa", Bundle: good, Receipt: receipt}, `unknown authority "nsa"`},
		{"no authority", review.RecognitionInput{Bundle: good, Receipt: receipt}, "authority: missing"},
		{"no bundle", review.RecognitionInput{Authority: "uk-aisi"}, "bundle: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := r.svc.CaseAudit(ctx, r.official, r.c.ID, 0, 500)
			check(t, "CaseAudit", err, nil)
			_, err = r.svc.RecogniseEvidence(ctx, r.reviewer, r.c.ID, tt.in)
			check(t, "RecogniseEvidence", err, review.ErrInvalidInput)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if rs := r.recognitions(t); len(rs) != 0 {
				t.Errorf("%d recognitions stored after a refusal", len(rs))
			}
			after, _ := r.svc.CaseAudit(ctx, r.official, r.c.ID, 0, 500)
			if len(after) != len(before) {
				t.Errorf("a refusal was audited: %d entries, then %d", len(before), len(after))
			}
		})
	}
}

func TestRecogniseEvidencePermissions(t *testing.T) {
	ctx := context.Background()
	r := newRecognitionWorld(t)
	good, receipt := r.aisi.Sign(t, trusttest.Decision(digest, attest.OutcomeCleared, r.now.Add(-time.Hour)), digest)
	in := review.RecognitionInput{Authority: "uk-aisi", Bundle: good, Receipt: receipt}
	inst := r.assessor.Org
	unassigned := r.user(t, inst, "assessor 2", review.RoleAssessor)
	tests := []struct {
		name string
		a    review.Actor
		want error
	}{
		{"developer of the case", r.devA, review.ErrForbidden},
		{"other developer", r.devB, review.ErrNotFound},
		{"auditor", r.auditor, review.ErrForbidden},
		{"unassigned assessor", unassigned, review.ErrNotFound},
		{"assigned reviewer", r.reviewer, nil},
		{"official", r.official, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.svc.RecogniseEvidence(ctx, tt.a, r.c.ID, in)
			check(t, "RecogniseEvidence", err, tt.want)
		})
	}
	if n := len(r.recognitions(t)); n != 2 {
		t.Errorf("%d recognitions, want the reviewer's and the official's", n)
	}
	// A service without a trust file recognises nothing.
	if _, err := r.world.svc.RecogniseEvidence(ctx, r.official, r.c.ID, in); !errors.Is(err, review.ErrNoAuthorities) {
		t.Errorf("without Authorities: %v, want ErrNoAuthorities", err)
	}
	// A withdrawn case takes no more evidence.
	_, err := r.svc.Transition(ctx, r.devA, r.c.ID, review.StateWithdrawn, "")
	check(t, "withdraw", err, nil)
	_, err = r.svc.RecogniseEvidence(ctx, r.official, r.c.ID, in)
	check(t, "RecogniseEvidence(withdrawn)", err, review.ErrInvalidTransition)
}
