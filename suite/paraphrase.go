package suite

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
)

// Model paraphrases of private items. When the agency has a helper model
// (its judge), each private item may additionally be rewritten by that
// model: a rewording no template list foresees. The request is
// deterministic (temperature 0, a seed drawn from the agency seed and the
// item) and the answer is guarded: it must keep every protected text
// (injection marker, planted secret, choice texts) and the item's canary
// byte for byte, be non-empty and at most MaxParaphraseGrowth times as long
// as the templated form. Otherwise, or when the model fails, the item keeps
// its templated rewording and the fallback is counted.
//
// Paraphrases are made lazily, when a sample of the item is first
// rendered, and once per item per private suite.

// Paraphraser rewrites text with a helper model. seed is derived from the
// agency's private seed and the item, to be sent as the request's seed.
// Implementations bound each call (time and size of the answer).
type Paraphraser interface {
	Paraphrase(ctx context.Context, text string, seed int64) (string, error)
}

// MaxParaphraseGrowth bounds a paraphrase's length: at most this many
// times the templated form's, plus MaxParaphraseSlack bytes.
const (
	MaxParaphraseGrowth = 3
	MaxParaphraseSlack  = 512
)

// Fallback reasons counted in ParaphraseStats.Reasons.
const (
	FallbackError     = "model error"
	FallbackEmpty     = "empty"
	FallbackTooLong   = "too long"
	FallbackCanary    = "canary lost"
	FallbackProtected = "protected text lost"
	FallbackUnchanged = "unchanged"
)

// PrivateOptions configure PrivateWith.
type PrivateOptions struct {
	// Paraphraser, if set, paraphrases each private item's templated
	// form (see above).
	Paraphraser Paraphraser
	// Identity names the paraphrasing model; it enters the private
	// suite's digest, so that forms paraphrased by different models are
	// told apart.
	Identity string
	// Context is the context of the paraphrase requests (nil:
	// context.Background()); samples are rendered by plan iterators,
	// which take none.
	Context context.Context
}

// ParaphraseStats counts the items of a private suite paraphrased so far.
type ParaphraseStats struct {
	Model       string         `json:"model,omitempty"`
	Paraphrased int            `json:"paraphrased"`
	Fallbacks   int            `json:"fallbacks"`
	Reasons     map[string]int `json:"reasons,omitempty"`
}

// paraphrases is a private suite's paraphrase state.
type paraphrases struct {
	opts PrivateOptions
	seed PrivateSeed
	name string // public suite name

	mu    sync.Mutex
	items map[string]*paraphraseItem
	stats ParaphraseStats
}

type paraphraseItem struct {
	once   sync.Once
	prompt string // the paraphrase; "" when the templated form stays
	reason string // why the templated form stays
}

// ParaphraseStats returns the counts of s's model paraphrases; zero for a
// suite without a paraphraser.
func (s *Suite) ParaphraseStats() ParaphraseStats {
	if s.para == nil {
		return ParaphraseStats{}
	}
	s.para.mu.Lock()
	defer s.para.mu.Unlock()
	st := s.para.stats
	if st.Reasons != nil {
		r := make(map[string]int, len(st.Reasons))
		for k, v := range st.Reasons {
			r[k] = v
		}
		st.Reasons = r
	}
	return st
}

// ParaphraseOutcome paraphrases one item of a private suite, if not done
// yet, and returns why it kept its templated form ("" when a paraphrase
// stands in for it). ok is false for a suite without a paraphraser or an
// unknown item. A service that runs an assessment in several processes
// uses it to count an assessment's paraphrases (with the paraphrases
// cached, it asks the model nothing new).
func (s *Suite) ParaphraseOutcome(itemID string) (reason string, ok bool) {
	if s.para == nil {
		return "", false
	}
	for i := range s.items {
		if it := &s.items[i]; it.ID == itemID {
			s.para.item(it, Canary(s.para.seed, s.para.name, it.ID))
			s.para.mu.Lock()
			defer s.para.mu.Unlock()
			return s.para.items[itemID].reason, true
		}
	}
	return "", false
}

// item returns it with its prompt paraphrased, or it itself when the
// templated form stays.
func (p *paraphrases) item(it *Item, canary string) *Item {
	p.mu.Lock()
	e, ok := p.items[it.ID]
	if !ok {
		e = &paraphraseItem{}
		p.items[it.ID] = e
	}
	p.mu.Unlock()
	e.once.Do(func() {
		text, reason := p.paraphrase(it, canary)
		p.mu.Lock()
		defer p.mu.Unlock()
		if reason != "" {
			e.reason = reason
			p.stats.Fallbacks++
			if p.stats.Reasons == nil {
				p.stats.Reasons = map[string]int{}
			}
			p.stats.Reasons[reason]++
			return
		}
		p.stats.Paraphrased++
		e.prompt = text
	})
	if e.prompt == "" {
		return it
	}
	cp := *it
	cp.Prompt = e.prompt
	return &cp
}

// paraphrase asks the model and checks its answer; reason is set when the
// templated form must stay.
func (p *paraphrases) paraphrase(it *Item, canary string) (string, string) {
	ctx := p.opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	b := p.seed.mac("paraphrase", p.name, it.ID)
	seed := int64(binary.BigEndian.Uint64(b[:8]) >> 1)
	out, err := p.opts.Paraphraser.Paraphrase(ctx, it.Prompt, seed)
	if err != nil {
		return "", FallbackError
	}
	out = strings.TrimSpace(out)
	return out, checkParaphrase(it, canary, out)
}

// checkParaphrase returns why a paraphrase of it cannot stand in for its
// templated form, or "".
func checkParaphrase(it *Item, canary, out string) string {
	switch {
	case out == "":
		return FallbackEmpty
	case len(out) > MaxParaphraseGrowth*len(it.Prompt)+MaxParaphraseSlack:
		return FallbackTooLong
	case !strings.Contains(out, canary):
		return FallbackCanary
	case out == strings.TrimSpace(it.Prompt):
		return FallbackUnchanged
	}
	protect := append([]string{it.Expect.Marker, it.Expect.Canary}, it.Expect.Choices...)
	for _, s := range protect {
		if s != "" && strings.Count(out, s) < strings.Count(it.Prompt, s) {
			return FallbackProtected
		}
	}
	return ""
}
