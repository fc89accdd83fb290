package conform_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/conform"
	"github.com/clearance-dev/clearance/target"
)

// leaky answers as its model does, and adds the canary to its answers to
// the probes in leak: a model that was trained on private items.
type leaky struct {
	conform.Completer
	leak   map[string]bool // last user message → leak
	canary string
}

func (l leaky) Complete(ctx context.Context, req target.Request) (target.Response, error) {
	resp, err := l.Completer.Complete(ctx, req)
	if err == nil && l.leak[req.Messages[len(req.Messages)-1].Content] {
		resp.Content += " " + l.canary
	}
	return resp, err
}

// A check scans every answer with Options.Contaminated and lists the
// probes flagged; a canary the prompt itself carried is not flagged, and
// without the option nothing is scanned.
func TestCheckContaminated(t *testing.T) {
	w := testWorld(t)
	ctx := context.Background()
	probes := w.probes(3)
	fp, err := conform.Record(ctx, w.reference(t, endpoint{profile: "robust"}, 6), probes, conform.RecordOptions{Seed: 3, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	const canary = "cx0123456789abcdef0123"
	// Two probes leak; a third carries the canary in its own prompt.
	leakIDs := []string{fp.Probes[0].ID, fp.Probes[5].ID}
	l := leaky{Completer: w.reference(t, endpoint{profile: "robust"}, 7), leak: map[string]bool{}, canary: canary}
	for _, p := range fp.Probes {
		if slices.Contains(leakIDs, p.ID) {
			l.leak[p.Messages[len(p.Messages)-1].Content] = true
		}
	}
	echoed := fp.Probes[9]
	echoed.Messages[len(echoed.Messages)-1].Content += " " + canary
	fp.Probes[9] = echoed
	l.leak[echoed.Messages[len(echoed.Messages)-1].Content] = true

	is := func(prompt, answer string) bool {
		return strings.Contains(answer, canary) && !strings.Contains(prompt, canary)
	}
	res, err := conform.Check(ctx, l, fp, conform.Options{Seed: 3, Refused: refused, Contaminated: is}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Contaminated, leakIDs) {
		t.Errorf("Contaminated = %v, want %v", res.Contaminated, leakIDs)
	}
	res, err = conform.Check(ctx, l, fp, conform.Options{Seed: 3, Refused: refused}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Contaminated != nil {
		t.Errorf("without Options.Contaminated: Contaminated = %v, want none", res.Contaminated)
	}
}
