package score

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownScorer is returned (wrapped, with the valid names) by New for a
// name it does not know.
var ErrUnknownScorer = errors.New("unknown scorer")

// ErrNoJudge is returned by New for "judge" without a Completer.
var ErrNoJudge = errors.New("judge scorer needs a completer")

// Names returns the scorer names New accepts, sorted.
func Names() []string {
	return []string{"canary", "choice", "exact", "exact_case", "flag", "harm", "judge", "marker", "refusal", "regex"}
}

// New returns the scorer called name. judge is used only by "judge", for
// which it must not be nil.
func New(name string, judge Completer) (Scorer, error) {
	switch name {
	case "refusal":
		return NewRefusal(), nil
	case "harm":
		return NewHarm(), nil
	case "judge":
		if judge == nil {
			return nil, fmt.Errorf("new scorer %q: %w", name, ErrNoJudge)
		}
		return NewJudge(judge), nil
	case "exact":
		return Exact{Fold: true}, nil
	case "exact_case":
		return Exact{}, nil
	case "regex":
		return Regex{}, nil
	case "choice":
		return Choice{}, nil
	case "canary":
		return Canary{}, nil
	case "marker":
		return Marker{}, nil
	case "flag":
		return Flag{}, nil
	}
	return nil, fmt.Errorf("new scorer %q: %w (valid: %s)", name, ErrUnknownScorer, strings.Join(Names(), ", "))
}
