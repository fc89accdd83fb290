package review_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
)

type modEvidence struct {
	*fakeEvidence
}

func (modEvidence) ModificationFractions(ids []string) (map[string]float64, error) {
	return map[string]float64{"eu-gpai": 1.0 / 3}, nil
}

// TestPriorReview: a case about new weights of a decided model's family
// (same developer, name with the prior's as prefix) re-reviews it, with
// the prior decision; more than a third of the original's training
// compute added needs a full review under a profile that says so; another
// developer's case or another family is no re-review.
func TestPriorReview(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	svc, err := review.New(review.Config{Store: w.store, Sealer: sealer, Evidence: modEvidence{w.evidence}, Now: func() time.Time { return w.now }})
	check(t, "New", err, nil)
	submit := func(a review.Actor, name, digestHex string, flop string) review.Case {
		t.Helper()
		w.now = w.now.Add(time.Hour)
		c, err := svc.Submit(ctx, a, review.Submission{Model: review.SubmittedModel{Digest: "sha256:" + strings.Repeat(digestHex, 64), Name: name},
			Dossier: json.RawMessage(`{"model":{"training_compute_flop":` + flop + `}}`), Target: review.SubmittedTarget{URL: "https://api.example/v1"},
			Profiles: []string{"us-caisi", "eu-gpai"}})
		check(t, "Submit "+name, err, nil)
		return c
	}
	prior := submit(w.devA, "atlas", "1", "3e26")
	// Decided (written as the official's decision would be).
	prior.State = review.StateDecided
	if _, err := w.store.UpdateCase(ctx, prior); err != nil {
		t.Fatal(err)
	}
	dec := review.Decision{ID: "dec_prior", CaseID: prior.ID, OfficialID: w.official.User.ID, Outcomes: json.RawMessage(`{"us-caisi":"cleared","eu-gpai":"cleared"}`), LogIndex: -1, CreatedAt: w.now}
	check(t, "CreateDecision", w.store.CreateDecision(ctx, dec), nil)

	small := submit(w.devA, "atlas-ft1", "2", "3.5e26")
	pr, err := svc.PriorReview(ctx, w.devA, small.ID)
	check(t, "PriorReview", err, nil)
	if pr == nil || pr.Prior.ID != prior.ID || pr.Decision.ID != "dec_prior" || len(pr.Checks) != 1 || pr.Checks[0].Full || !pr.Checks[0].Known {
		t.Fatalf("PriorReview of a small fine-tune = %+v", pr)
	}
	big := submit(w.devA, "Atlas-2", "3", "5e26")
	pr, err = svc.PriorReview(ctx, w.official, big.ID)
	check(t, "PriorReview big", err, nil)
	if pr == nil || !pr.Checks[0].Full || !strings.Contains(pr.Checks[0].Why, "full") {
		t.Fatalf("PriorReview of +2e26 FLOP = %+v", pr)
	}
	for _, c := range []review.Case{submit(w.devB, "atlas-ft1", "4", "3.5e26"), submit(w.devA, "hermes", "5", "3e26"), submit(w.devA, "atlas-x", "1", "3e26")} {
		a := w.devA
		if c.OrgID != prior.OrgID {
			a = w.devB
		}
		pr, err := svc.PriorReview(ctx, a, c.ID)
		check(t, "PriorReview "+c.ModelName, err, nil)
		if pr != nil {
			t.Errorf("case %s (%s, org %s) re-reviews %s, want none", c.ID, c.ModelName, c.OrgID, pr.Prior.ID)
		}
	}
}
