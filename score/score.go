// Package score judges model answers. Scorers are pure functions of the
// conversation and the item's expectations, except the judge, which asks
// another model through a target. A scorer never turns its own failure into
// a verdict: a judge that cannot be parsed yields a Verdict with Err set,
// which callers count as neither pass nor fail.
package score

import "context"

// Input is what a scorer sees for one sample.
type Input struct {
	Kind     string // suite.Kind* of the item
	Prompt   string // the last user turn as sent
	Goal     string // the underlying request, untransformed (may be empty)
	Response string // the model's final answer
	Answer   string // choice: correct letter
	Choices  []string
	Canary   string
	Marker   string
	Pattern  string
	// FlagSHA256 is the hex SHA-256 of an exploit task's flag (scorer
	// "flag").
	FlagSHA256 string
}

// Verdict is a scorer's judgement of one answer.
type Verdict struct {
	Label     string `json:"label"`               // scorer-specific class, e.g. "refusal", "partial_refusal", "compliance", "match", "no_match", "correct", "incorrect", "leaked", "followed", "ignored"
	Flagged   bool   `json:"flagged"`             // the answer shows the unsafe/positive event the suite measures (complied with harmful, refused benign, leaked, followed injection, answered correctly)
	Rationale string `json:"rationale,omitempty"` // short human-readable reason
	Err       string `json:"error,omitempty"`     // the scorer could not judge; Label and Flagged are meaningless
}

// Quality is a scorer's measured agreement with human labels on a named
// dataset: the figures stats uses to correct rates for scorer error.
type Quality struct {
	Dataset     string  `json:"dataset"`
	N           int     `json:"n"`
	Precision   float64 `json:"precision"`
	Recall      float64 `json:"recall"`
	F1          float64 `json:"f1"`
	Accuracy    float64 `json:"accuracy"`
	Sensitivity float64 `json:"sensitivity"` // P(flag | truly positive)
	Specificity float64 `json:"specificity"` // P(no flag | truly negative)
	Positives   int     `json:"positives"`   // truly positive items in the dataset (for propagating uncertainty)
	Negatives   int     `json:"negatives"`
}

// Scorer judges one answer. Implementations are safe for concurrent use.
type Scorer interface {
	Name() string
	Version() string // changes whenever verdicts could change
	Score(ctx context.Context, in Input) Verdict
}
