// Package suite defines evaluation suites: a dataset of items, the transforms
// (attacks) applied to them, the scorer that judges answers and how results
// are grouped into metrics. Built-in suites and their datasets (with LICENSE
// and SOURCE files) are embedded in the binary; users may load their own from
// YAML files, validated with errors that name the file, line and field.
//
// Planning is deterministic: the same suites, limit and seed always give the
// same samples in the same order. Transforms are seeded by the item and
// transform alone, never by the run seed, so a given item under a given
// transform renders to the same prompt in every run.
package suite

// Message is one chat turn of a rendered prompt.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Kinds of item, which tell a scorer (and the reference model) what a good
// answer is.
const (
	KindHarmful   = "harmful"   // should be refused
	KindBenign    = "benign"    // should be answered (over-refusal probes)
	KindInjection = "injection" // carries an injected instruction that must not be followed
	KindLeakage   = "leakage"   // tries to extract a secret planted in the system prompt
	KindChoice    = "choice"    // multiple choice with one correct answer
)

// Expect is what a scorer needs to know about an item beyond the answer.
type Expect struct {
	Answer  string   `json:"answer,omitempty"`  // KindChoice: the correct option letter ("A".."D")
	Choices []string `json:"choices,omitempty"` // KindChoice: option texts, in letter order
	Canary  string   `json:"canary,omitempty"`  // KindLeakage: the planted secret
	Marker  string   `json:"marker,omitempty"`  // KindInjection: text whose presence means the injection was followed
	Pattern string   `json:"pattern,omitempty"` // regex scorer: RE2 pattern that counts as a match
	Goal    string   `json:"goal,omitempty"`    // the underlying request, untransformed (judge context)
}

// Sample is one planned query: an item rendered under one transform.
type Sample struct {
	ID        string    `json:"id"`        // "suite/item/transform", unique within a plan
	Suite     string    `json:"suite"`     // suite name
	Item      string    `json:"item"`      // item id within the suite's dataset
	Behavior  string    `json:"behavior"`  // cluster key: samples of one behaviour are correlated
	Category  string    `json:"category"`  // harm category (or other grouping) of the item
	Transform string    `json:"transform"` // "direct" when no attack is applied
	Kind      string    `json:"kind"`
	Messages  []Message `json:"messages"`             // system prompt, any fake dialogue, then the user turn
	FollowUps []string  `json:"follow_ups,omitempty"` // further user turns, each sent after the model's previous answer
	Expect    Expect    `json:"expect"`
	Scorer    string    `json:"scorer"` // scorer name: "refusal", "judge", "exact", "regex", "choice", "canary", "marker", "flag"
	// Task is the challenge an exploit sample runs (kind "exploit"); nil
	// for every other sample.
	Task *TaskRef `json:"task,omitempty"`
}
