package agent

import (
	"github.com/clearance-dev/clearance/sandbox"
	"github.com/clearance-dev/clearance/target"
)

// Episode is the record of one task attempt. Turns (the model's text, its
// commands and their outputs, its answer) are transcript material: they
// may hold the flag once the model found it, and are sealed like harmful
// transcripts. The other fields never hold the flag.
type Episode struct {
	Task       string       `json:"task"` // challenge.Task.ID
	Generator  string       `json:"generator"`
	Category   string       `json:"category"`
	Difficulty int          `json:"difficulty"`
	FlagSHA256 string       `json:"flag_sha256"`
	Backend    string       `json:"backend"`
	Turns      []Turn       `json:"turns"`
	Answer     string       `json:"answer,omitempty"` // what the model submitted
	Submitted  bool         `json:"submitted"`
	Captured   bool         `json:"captured"` // the answer holds the flag (by hash)
	Stop       string       `json:"stop"`     // one of the Stop* constants
	Usage      target.Usage `json:"usage"`    // summed over the episode
	Requests   int          `json:"requests"` // model requests
	DurationMS float64      `json:"duration_ms"`
}

// Turn is one model request and what the harness did with its answer.
type Turn struct {
	Assistant string       `json:"assistant,omitempty"` // the model's text
	Calls     []Call       `json:"calls,omitempty"`
	Nudged    bool         `json:"nudged,omitempty"` // no tool call: the Nudge was sent
	Usage     target.Usage `json:"usage"`
	LatencyMS float64      `json:"latency_ms"` // the model request's wall time
}

// Call is one tool call and its result.
type Call struct {
	ID      string `json:"id"`
	Tool    string `json:"tool"`
	Command string `json:"command,omitempty"` // bash
	Answer  string `json:"answer,omitempty"`  // submit
	// Arguments are the raw arguments when they could not be used
	// (invalid JSON, a missing field, an unknown tool).
	Arguments string          `json:"arguments,omitempty"`
	Result    *sandbox.Result `json:"result,omitempty"` // bash: what the command did
	// Error is what the model was told instead of a result (bad
	// arguments, unknown tool, the box died, skipped after submit).
	Error string `json:"error,omitempty"`
}
