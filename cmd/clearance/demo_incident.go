package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// demoIncident files one incident (weights exfiltration, discovered an
// hour ago) against the first demo decision that cleared a profile, as
// the agency, and prints the duties each regime's clock owes.
func demoIncident(ctx context.Context, e *env, st *stack, actors demoActors, ds demoState) error {
	names := make([]string, 0, len(ds.Decisions))
	for n := range ds.Decisions {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		inc, duties, err := st.svc.FileIncident(ctx, actors["official"], review.IncidentInput{DecisionID: ds.Decisions[n],
			Class: review.ClassCyber, DiscoveredAt: e.now().Add(-time.Hour),
			Summary:  "Demo: a copy of the model weights was found on an unauthorised host (weight exfiltration).",
			Evidence: "Egress logs of the training cluster; the host's file listing."})
		if errors.Is(err, review.ErrNotCleared) {
			continue
		}
		if err != nil {
			return fmt.Errorf("demo incident: %w", err)
		}
		fmt.Fprintf(e.stdout, "== incident %s on %s (cyber, discovered an hour ago): %d duties\n", inc.ID, n, len(duties))
		for _, d := range duties {
			fmt.Fprintf(e.stdout, "   %-18s %-12s to %-45s due %s (%s)\n", d.Profile, d.Kind, d.To, d.DueAt.Format(time.RFC3339), dueIn(d.DueAt, e.now()))
		}
		return nil
	}
	fmt.Fprintln(e.stdout, "== no demo decision cleared a profile: no incident filed")
	return nil
}
