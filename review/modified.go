package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// A modified model (issue 18 part 2): a case about new weights from the
// same developer and model family as a decided case is a re-review of it.
// The link is computed, not stored: the prior case is the developer's
// latest decided case about other weights whose model name is the new
// name or a prefix of it ("atlas" → "atlas-ft2"). Profiles say when the
// modification needs a full review (ModificationRules): when the
// additional training compute (the difference of the two dossiers'
// model.training_compute_flop) exceeds a fraction of the original's.

// ModificationRules may be implemented by the service's EvidenceChecker:
// per profile, the fraction of the original model's training compute
// above which a modification needs a full review. Profiles that state
// none are left out.
type ModificationRules interface {
	ModificationFractions(profiles []string) (map[string]float64, error)
}

// FullReviewCheck is one profile's verdict on whether a modification
// needs a full review.
type FullReviewCheck struct {
	Profile  string  `json:"profile"`
	Fraction float64 `json:"fraction"`
	// Additional is the additional training compute (FLOP); Known is
	// false when a dossier lacks training_compute_flop.
	Additional float64 `json:"additional_flop"`
	Known      bool    `json:"known"`
	Full       bool    `json:"full_review"`
	Why        string  `json:"why"`
}

// PriorReview is the case a modified model's case re-reviews, with its
// evidence for a side-by-side view.
type PriorReview struct {
	Prior Case `json:"-"`
	// Decision is the prior case's latest decision.
	Decision Decision `json:"-"`
	// Assessment is the prior case's latest finished assessment (zero
	// ID when none).
	Assessment Assessment `json:"-"`
	// PriorCompute and Compute are the dossiers' training compute (0:
	// not stated).
	// Named is true when the submission named the prior case
	// (Submission.PriorCase), false when it was found by model family.
	Named        bool              `json:"named"`
	PriorCompute float64           `json:"prior_compute_flop"`
	Compute      float64           `json:"compute_flop"`
	Checks       []FullReviewCheck `json:"checks"`
}

// sameFamily reports whether a model named next belongs to the family
// of one named prior.
func sameFamily(prior, next string) bool {
	prior, next = strings.ToLower(strings.TrimSpace(prior)), strings.ToLower(strings.TrimSpace(next))
	return prior != "" && strings.HasPrefix(next, prior)
}

// dossierCompute reads model.training_compute_flop from a dossier.
func dossierCompute(dossier json.RawMessage) float64 {
	var d struct {
		Model struct {
			Compute float64 `json:"training_compute_flop"`
		} `json:"model"`
	}
	if json.Unmarshal(dossier, &d) != nil {
		return 0
	}
	return d.Model.Compute
}

// PriorReview returns the decided case that case caseID re-reviews, or
// nil when it is no modification of a model a sees reviewed.
func (s *Service) PriorReview(ctx context.Context, a Actor, caseID string) (*PriorReview, error) {
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return nil, fmt.Errorf("prior review: %w", err)
	}
	cs, err := s.store.ListCases(ctx, CaseFilter{OrgID: c.OrgID, State: StateDecided, Page: Page{Limit: MaxPageLimit}})
	if err != nil {
		return nil, fmt.Errorf("prior review of case %s: %w", caseID, err)
	}
	var prior *Case
	explicit, err := s.store.CasePrior(ctx, c.ID)
	switch {
	case err == nil:
		for i := range cs {
			if cs[i].ID == explicit {
				prior = &cs[i]
			}
		}
		cs = nil // the named prior case, not the model family, decides
	case !errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("prior review of case %s: %w", caseID, err)
	}
	for i := range cs {
		p := cs[i]
		if p.ID == c.ID || p.ModelDigest == c.ModelDigest || p.CreatedAt.After(c.CreatedAt) || !sameFamily(p.ModelName, c.ModelName) {
			continue
		}
		if prior == nil || p.CreatedAt.After(prior.CreatedAt) {
			prior = &cs[i]
		}
	}
	if prior == nil {
		return nil, nil
	}
	p, err := getCase(ctx, s.store, a, prior.ID)
	if err != nil {
		return nil, nil // a prior case a does not see is not shown
	}
	out := &PriorReview{Prior: redact(p), Named: p.ID == explicit, PriorCompute: dossierCompute(p.Dossier), Compute: dossierCompute(c.Dossier)}
	if ds, err := s.store.ListDecisions(ctx, p.ID, Page{Limit: MaxPageLimit}); err == nil && len(ds) > 0 {
		out.Decision = ds[len(ds)-1]
	}
	if as, err := s.store.ListAssessments(ctx, p.ID, Page{Limit: MaxPageLimit}); err == nil {
		for _, x := range as {
			if x.State == AssessmentDone {
				out.Assessment = x
			}
		}
	}
	if mr, ok := s.evidence.(ModificationRules); ok {
		fr, err := mr.ModificationFractions(c.Profiles)
		if err != nil {
			return nil, fmt.Errorf("prior review of case %s: %w", caseID, err)
		}
		for _, prof := range c.Profiles {
			f, ok := fr[prof]
			if !ok {
				continue
			}
			out.Checks = append(out.Checks, fullReviewCheck(prof, f, out.PriorCompute, out.Compute))
		}
	}
	return out, nil
}

func fullReviewCheck(profile string, fraction, prior, next float64) FullReviewCheck {
	ch := FullReviewCheck{Profile: profile, Fraction: fraction}
	if prior <= 0 || next <= 0 {
		ch.Full, ch.Why = true, "training compute not stated in both dossiers: review in full"
		return ch
	}
	ch.Known, ch.Additional = true, next-prior
	limit := fraction * prior
	if ch.Additional > limit {
		ch.Full, ch.Why = true, fmt.Sprintf("additional training compute %.3g FLOP exceeds %.3g of the original's %.3g FLOP: a new model, review in full", ch.Additional, fraction, prior)
	} else {
		ch.Why = fmt.Sprintf("additional training compute %.3g FLOP is within %.3g of the original's %.3g FLOP: a modification, the prior evidence may carry over", ch.Additional, fraction, prior)
	}
	return ch
}

// checkPriorCase validates a submission's prior_case: a case of the
// submitter's own organisation (another's is "not found", as it is to
// them), decided, about other weights.
func (s *Service) checkPriorCase(ctx context.Context, a Actor, sub Submission) error {
	if sub.PriorCase == "" {
		return nil
	}
	p, err := s.store.GetCase(ctx, sub.PriorCase)
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && p.OrgID != a.Org.ID):
		return invalid("prior_case", "%q: no case of your organisation has that id", sub.PriorCase)
	case err != nil:
		return err
	case p.State != StateDecided:
		return invalid("prior_case", "case %s is %s: name a decided case", p.ID, p.State)
	case p.ModelDigest == sub.Model.Digest:
		return invalid("prior_case", "case %s is about the same weights: a modified model has a new digest", p.ID)
	}
	return nil
}
