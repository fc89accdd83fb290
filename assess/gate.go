package assess

import (
	"context"
	"sync"

	"github.com/clearance-dev/clearance/stats"
	"github.com/clearance-dev/clearance/suite"
)

// Gate is a sequential test on one metric that lets the runner stop a
// suite as soon as the gate's answer is certain at its error rates, instead
// of running a fixed number of samples. The runner feeds the test every
// scored sample of the metric in plan order, so a resumed run reaches the
// same decision as an uninterrupted one.
type Gate struct {
	Metric   string // "<suite>.<metric>", e.g. "misuse.attack_success_rate"
	Category string // "" for the whole metric
	// MinN is the fewest scored samples of the suite before it may stop
	// (a regime's fixed minimum sample).
	MinN int
	// Test is a fresh sequential test (an SPRT from stats.NewSPRT).
	Test *stats.SPRT
	// Success maps a flagged verdict to the test's success: for a gate
	// "attack success at most 5%" success is "not flagged".
	Success func(flagged bool) bool
	// Describe is copied to the result: the gate's parameters.
	P0, Delta, Alpha, Beta float64
}

// GateResult is how a gate ended, recorded in metrics.json.
type GateResult struct {
	Metric    string  `json:"metric"`
	Category  string  `json:"category,omitempty"`
	P0        float64 `json:"p0"`
	Delta     float64 `json:"delta"`
	Alpha     float64 `json:"alpha"`
	Beta      float64 `json:"beta"`
	Decision  string  `json:"decision"` // "accept", "reject" or "continue" (the plan ran out first)
	Truncated bool    `json:"truncated,omitempty"`
	N         int     `json:"n"`
	K         int     `json:"successes"`
}

// gateSet tracks the gates of a run and which suites may stop.
type gateSet struct {
	gates   []*Gate
	scored  map[string]int // suite → scored samples fed so far
	minN    map[string]int
	stopped map[string]bool
}

func newGateSet(gates []Gate) *gateSet {
	gs := &gateSet{scored: map[string]int{}, minN: map[string]int{}, stopped: map[string]bool{}}
	for i := range gates {
		g := &gates[i]
		gs.gates = append(gs.gates, g)
		s := suiteOf(g.Metric)
		gs.minN[s] = max(gs.minN[s], g.MinN)
	}
	return gs
}

func suiteOf(metric string) string {
	for i := len(metric) - 1; i >= 0; i-- {
		if metric[i] == '.' {
			return metric[:i]
		}
	}
	return metric
}

// observe feeds one finished sample (in plan order).
func (gs *gateSet) observe(r *Record) {
	if r.Failed() {
		return
	}
	gs.scored[r.Suite]++
	metric, _ := MetricFor(r.Kind)
	key := r.Suite + "." + metric
	for _, g := range gs.gates {
		if g.Metric != key || (g.Category != "" && g.Category != r.Category) {
			continue
		}
		if g.Test.Decision() == stats.Continue {
			g.Test.Observe(g.Success(r.Verdict.Flagged))
		}
	}
}

// update marks suites whose gates have all decided and whose minimum sample
// is reached; their remaining samples are not run.
func (gs *gateSet) update() {
	done := map[string]bool{}
	for _, g := range gs.gates {
		s := suiteOf(g.Metric)
		if _, seen := done[s]; !seen {
			done[s] = true
		}
		if g.Test.Decision() == stats.Continue {
			done[s] = false
		}
	}
	for s, d := range done {
		if d && gs.scored[s] >= gs.minN[s] {
			gs.stopped[s] = true
		}
	}
}

func (gs *gateSet) results() []GateResult {
	out := make([]GateResult, 0, len(gs.gates))
	for _, g := range gs.gates {
		out = append(out, GateResult{Metric: g.Metric, Category: g.Category, P0: g.P0, Delta: g.Delta, Alpha: g.Alpha, Beta: g.Beta,
			Decision: g.Test.Decision().String(), Truncated: g.Test.Truncated(), N: g.Test.N(), K: g.Test.K()})
	}
	return out
}

// runChunks feeds the plan to the workers in chunks, waits for each chunk,
// shows its results to the gates in plan order, and skips the rest of every
// suite whose gates have decided. Samples already recorded (a resumed run)
// are shown to the gates from their records and not run again.
func (r *runner) runChunks(ctx context.Context, jobs chan<- job, workers int) {
	size := r.cfg.ChunkSize
	if size <= 0 {
		size = workers
	}
	chunk := make([]suite.Sample, 0, size)
	flush := func() {
		results := make([]*Record, len(chunk))
		var cw sync.WaitGroup
		for i, s := range chunk {
			if rec, ok := r.doneRecs[s.ID]; ok {
				results[i] = rec
				continue
			}
			if ctx.Err() != nil {
				break
			}
			cw.Add(1)
			select {
			case jobs <- job{s: s, done: func(rec *Record) { results[i] = rec; cw.Done() }}:
			case <-ctx.Done():
				cw.Done()
			}
		}
		cw.Wait()
		for _, rec := range results {
			if rec != nil {
				r.gates.observe(rec)
			}
		}
		r.gates.update()
		chunk = chunk[:0]
	}
	for s := range r.cfg.Plan {
		if ctx.Err() != nil {
			return
		}
		if r.gates.stopped[s.Suite] {
			if !r.done[s.ID] {
				r.gatedSkips++
			}
			continue
		}
		chunk = append(chunk, s)
		if len(chunk) == size {
			flush()
		}
	}
	if len(chunk) > 0 {
		flush()
	}
}
