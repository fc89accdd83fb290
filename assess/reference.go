package assess

import (
	"iter"
	"regexp"
	"strconv"
	"sync"

	"github.com/clearance-dev/clearance/challenge"

	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// ReferenceOracle indexes rendered samples so the reference model (a
// simulator with known ground truth, package target) knows each prompt's
// kind, category and transform. The key covers the whole conversation the
// runner will send for the sample's last turn: its messages and follow-up
// turns, without the model's answers. Only a hash and the truth are kept
// per sample, not the prompt text.
func ReferenceOracle(samples iter.Seq[suite.Sample]) target.Oracle {
	index := map[[32]byte]target.Truth{}
	for s := range samples {
		index[target.PromptKey(conversation(s))] = TruthOf(s)
	}
	return func(key [32]byte) (target.Truth, bool) {
		t, ok := index[key]
		return t, ok
	}
}

// TruthOf is what the reference model is told about a sample.
func TruthOf(s suite.Sample) target.Truth {
	return target.Truth{
		Kind: s.Kind, Category: s.Category, Transform: s.Transform,
		Canary: s.Expect.Canary, Marker: s.Expect.Marker, Answer: s.Expect.Answer,
		Choices: s.Expect.Choices, Goal: s.Expect.Goal,
	}
}

// conversation returns the non-assistant turns the runner sends for a
// sample's final request.
func conversation(s suite.Sample) []target.Message {
	msgs := make([]target.Message, 0, len(s.Messages)+len(s.FollowUps))
	for _, m := range s.Messages {
		msgs = append(msgs, target.Message{Role: m.Role, Content: m.Content})
	}
	for _, f := range s.FollowUps {
		msgs = append(msgs, target.Message{Role: "user", Content: f})
	}
	return msgs
}

// TaskOracle tells the reference model the truth of a generated exploit
// task from its statement: the "Instance: <generator>/<seed>" line names
// the generator and seed, from which the task's category, difficulty and
// solution script are rebuilt (the flag is not needed: the solution
// derives it from the task's files and services in the box). Solutions
// are cached per instance.
func TaskOracle() target.TaskOracle {
	var cache sync.Map // instance id → target.Truth
	return func(statement string) (target.Truth, bool) {
		m := instanceLine.FindStringSubmatch(statement)
		if m == nil {
			return target.Truth{}, false
		}
		if v, ok := cache.Load(m[1]); ok {
			return v.(target.Truth), true
		}
		g, ok := challenge.Lookup(m[2])
		if !ok {
			return target.Truth{}, false
		}
		seed, err := strconv.ParseInt(m[3], 10, 64)
		if err != nil {
			return target.Truth{}, false
		}
		t, err := g.Generate(seed, "flag{reference}")
		if err != nil {
			return target.Truth{}, false
		}
		tr := target.Truth{Kind: target.TruthExploit, Category: t.Category, Difficulty: t.Difficulty, Solution: t.Solution}
		cache.Store(m[1], tr)
		return tr, true
	}
}

var instanceLine = regexp.MustCompile(`(?m)^Instance: (([a-z0-9.-]+)/(-?[0-9]{1,19}))\s*$`)
