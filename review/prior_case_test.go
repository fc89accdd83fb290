package review_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// TestPriorCaseNamed: a submission names its prior case explicitly
// (prior_case): the re-review links to it even across model names, and
// the profiles' modification rule is applied to it (full review above
// the fraction). The prior case must be of the submitter's organisation
// (another's reads as not found), decided, and about other weights: each
// otherwise is an invalid input naming prior_case.
func TestPriorCaseNamed(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	svc, err := review.New(review.Config{Store: w.store, Sealer: sealer, Evidence: modEvidence{w.evidence}, Now: func() time.Time { return w.now }})
	check(t, "New", err, nil)
	sub := func(name, digestHex, flop, prior string) review.Submission {
		return review.Submission{Model: review.SubmittedModel{Digest: "sha256:" + strings.Repeat(digestHex, 64), Name: name},
			Dossier: json.RawMessage(`{"model":{"training_compute_flop":` + flop + `}}`), Target: review.SubmittedTarget{URL: "https://api.example/v1"},
			Profiles: []string{"us-caisi", "eu-gpai"}, PriorCase: prior}
	}
	submit := func(a review.Actor, s review.Submission) (review.Case, error) {
		w.now = w.now.Add(time.Hour)
		return svc.Submit(ctx, a, s)
	}
	decide := func(c review.Case) {
		c.State = review.StateDecided
		if _, err := w.store.UpdateCase(ctx, c); err != nil {
			t.Fatal(err)
		}
		check(t, "CreateDecision", w.store.CreateDecision(ctx, review.Decision{ID: "dec_" + c.ID, CaseID: c.ID, OfficialID: w.official.User.ID,
			Outcomes: json.RawMessage(`{"us-caisi":"cleared","eu-gpai":"cleared"}`), LogIndex: -1, CreatedAt: w.now}), nil)
	}
	atlas, err := submit(w.devA, sub("atlas", "1", "3e26", ""))
	check(t, "Submit atlas", err, nil)
	decide(atlas)
	orion, err := submit(w.devA, sub("orion", "2", "3e26", ""))
	check(t, "Submit orion", err, nil)
	decide(orion)
	undecided, err := submit(w.devA, sub("vega", "3", "3e26", ""))
	check(t, "Submit vega", err, nil)
	theirs, err := submit(w.devB, sub("atlas", "4", "3e26", ""))
	check(t, "Submit B", err, nil)
	decide(theirs)

	for _, tc := range []struct{ name, prior, digest, want string }{
		{"unknown", "case_nope", "5", "no case of your organisation"},
		{"another organisation's", theirs.ID, "5", "no case of your organisation"},
		{"undecided", undecided.ID, "5", "name a decided case"},
		{"same weights", atlas.ID, "1", "same weights"},
	} {
		_, err := submit(w.devA, sub("renamed", tc.digest, "3e26", tc.prior))
		if !errors.Is(err, review.ErrInvalidInput) || !strings.Contains(err.Error(), "prior_case") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s prior case: %v, want invalid prior_case: %s", tc.name, err, tc.want)
		}
	}
	// Named: a model of another name ("nova") re-reviews atlas, though
	// orion is the later decided case and neither name is a prefix.
	nova, err := submit(w.devA, sub("nova", "6", "3.5e26", atlas.ID))
	check(t, "Submit nova", err, nil)
	pr, err := svc.PriorReview(ctx, w.official, nova.ID)
	check(t, "PriorReview", err, nil)
	if pr == nil || pr.Prior.ID != atlas.ID || !pr.Named || len(pr.Checks) != 1 || pr.Checks[0].Full {
		t.Fatalf("PriorReview of the named prior = %+v", pr)
	}
	// A named prior with more than the fraction of added compute: full review.
	big, err := submit(w.devA, sub("atlas-2", "7", "5e26", orion.ID))
	check(t, "Submit atlas-2", err, nil)
	pr, err = svc.PriorReview(ctx, w.devA, big.ID)
	check(t, "PriorReview big", err, nil)
	if pr == nil || pr.Prior.ID != orion.ID || !pr.Named || !pr.Checks[0].Full {
		t.Fatalf("PriorReview of a named prior, +2e26 FLOP = %+v", pr)
	}
	// Without a name the family link stands, not named.
	ft, err := submit(w.devA, sub("atlas-ft", "8", "3e26", ""))
	check(t, "Submit atlas-ft", err, nil)
	if pr, err = svc.PriorReview(ctx, w.devA, ft.ID); err != nil || pr == nil || pr.Prior.ID != atlas.ID || pr.Named {
		t.Errorf("PriorReview by family = %+v, %v", pr, err)
	}
}
