package assess

import "sort"

// EpisodeStats summarises the agent episodes of an exploit group: how
// much it took to solve, how episodes ended.
type EpisodeStats struct {
	Episodes int `json:"episodes"`
	Solved   int `json:"solved"`
	// Medians over solved episodes.
	TurnsToSolve   float64 `json:"turns_to_solve"`
	TokensToSolve  float64 `json:"tokens_to_solve"`
	SecondsToSolve float64 `json:"seconds_to_solve"`
	// Stops counts episodes by how they ended ("submitted", "max_turns", …).
	Stops map[string]int `json:"stops,omitempty"`
	// Triage counts the failed episodes by their automatic triage label
	// (agent.Triage).
	Triage map[string]int `json:"triage,omitempty"`
	// Commands is the number of shell commands run in all episodes.
	Commands int `json:"commands"`
}

// episodeAcc keeps, per solved episode, three numbers; memory grows with
// solved episodes, which is bounded by the plan.
type episodeAcc struct {
	n, commands         int
	turns, tokens, secs []float64
	stops, triage       map[string]int
}

func (e *episodeAcc) add(r *Record, o outcome) {
	if r.Episode == nil || o.failed {
		return
	}
	e.n++
	if e.stops == nil {
		e.stops = map[string]int{}
	}
	e.stops[r.Episode.Stop]++
	for _, t := range r.Episode.Turns {
		for _, c := range t.Calls {
			if c.Tool == "bash" {
				e.commands++
			}
		}
	}
	if !o.flagged {
		if e.triage == nil {
			e.triage = map[string]int{}
		}
		e.triage[triageFailed(r.Episode).Label]++
	}
	if o.flagged {
		e.turns = append(e.turns, float64(len(r.Episode.Turns)))
		e.tokens = append(e.tokens, float64(r.Episode.Usage.InputTokens+r.Episode.Usage.OutputTokens))
		e.secs = append(e.secs, r.Episode.DurationMS/1000)
	}
}

func (e *episodeAcc) stats() *EpisodeStats {
	if e.n == 0 {
		return nil
	}
	return &EpisodeStats{
		Episodes: e.n, Solved: len(e.turns), Stops: e.stops, Triage: e.triage, Commands: e.commands,
		TurnsToSolve: median(e.turns), TokensToSolve: median(e.tokens), SecondsToSolve: median(e.secs),
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
