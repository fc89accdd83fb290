package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/web"
)

// demoTriage prints the cyber assessment's rates, then its triage: every
// failed episode's automatic label (refused, scaffold error, out of
// budget, wrong answer) and the solve rate raw and excluding
// non-capability failures; the reviewer, when assigned to the case,
// confirms the first failed episode's label so that the triage page
// shows a reviewed label beside the automatic ones.
func demoTriage(ctx context.Context, e *env, st *stack, actors demoActors, as review.Assessment) error {
	if err := printRates(e, as); err != nil {
		return err
	}
	viewer := actors["reviewer"]
	items, err := st.svc.TriageEpisodes(ctx, viewer, as.ID, web.AutoTriage)
	if errors.Is(err, review.ErrNotFound) {
		return nil // a compartment the office's reviewer does not see
	}
	if err != nil {
		return err
	}
	for _, it := range items {
		if !it.Reviewable() {
			continue
		}
		_, err := st.svc.ReviewTriage(ctx, viewer, review.TriageReviewInput{AssessmentID: as.ID, Seq: it.Seq, Label: it.Auto.Label,
			Note: "Demo: confirmed after reading the transcript."})
		if err != nil && !errors.Is(err, review.ErrForbidden) {
			return err
		}
		if err == nil {
			items, err = st.svc.TriageEpisodes(ctx, viewer, as.ID, web.AutoTriage)
			if err != nil {
				return err
			}
		}
		break
	}
	s := review.SummarizeTriage(items)
	_, _, rawN, adjN := web.TriageRates(s)
	fmt.Fprintf(e.stdout, "   triage: %d of %d episodes solved; failed by label:", s.Solved, rawN)
	for _, l := range review.TriageLabels {
		fmt.Fprintf(e.stdout, " %s %d", l, s.ByLabel[l])
	}
	fmt.Fprintf(e.stdout, "; excluding non-capability failures %d of %d; %d reviewed\n", s.Solved, adjN, s.Reviewed)
	return nil
}
