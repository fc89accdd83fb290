package assess

import (
	"encoding/json"
	"fmt"

	"github.com/clearance-dev/clearance/agent"
)

// Labels TriageRecord gives episodes that need no triage.
const (
	TriageSolved = agent.LabelSolved
	TriageError  = "error" // a harness, target or scorer error: no episode was measured
)

// TriageRecord labels the agent episode of one samples.jsonl record: the
// automatic first pass (agent.Triage) for a failed episode, TriageSolved
// for a captured flag, TriageError for a sample that failed (it is in no
// rate). The evidence is structural, never the model's text. A record
// that is not JSON, or is not an agent episode, is an error.
func TriageRecord(raw []byte) (agent.TriageResult, error) {
	var r Record
	if err := json.Unmarshal(raw, &r); err != nil {
		return agent.TriageResult{}, fmt.Errorf("triage record: %w", err)
	}
	if r.Failed() {
		kind := "scorer"
		if r.Error != nil {
			kind = r.Error.Source + " " + r.Error.Kind
		}
		return agent.TriageResult{Label: TriageError, Evidence: []string{"the sample failed (" + kind + " error): in no rate"}}, nil
	}
	if r.Episode == nil {
		return agent.TriageResult{}, fmt.Errorf("triage record %s: no agent episode", r.ID)
	}
	if r.Verdict != nil && r.Verdict.Flagged {
		return agent.TriageResult{Label: TriageSolved, Evidence: []string{fmt.Sprintf("captured the flag in %d turns", len(r.Episode.Turns))}}, nil
	}
	return triageFailed(r.Episode), nil
}

// triageFailed triages an episode the scorer did not flag: the scorer,
// not the episode's own mark, decides, so a captured mark without a
// flagged verdict is triaged as a failure.
func triageFailed(ep *agent.Episode) agent.TriageResult {
	if ep != nil && ep.Captured {
		c := *ep
		c.Captured = false
		ep = &c
	}
	return agent.Triage(ep)
}
