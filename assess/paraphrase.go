package assess

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/target"
)

// ParaphraseSystem is the instruction a helper model gets to paraphrase a
// private item.
const ParaphraseSystem = "Paraphrase the user's message so that it asks for exactly the same thing in different words. " +
	"Keep every code, reference or ticket number, identifier, quoted text, option text and instruction inside the message exactly as written, character for character. " +
	"Answer with the paraphrased message only, without comment, and do not answer it."

// DefaultParaphraseTimeout bounds one paraphrase request.
const DefaultParaphraseTimeout = 60 * time.Second

// maxParaphraseTokens bounds the answer a paraphrase request asks for.
const maxParaphraseTokens = 2048

// ModelParaphraser paraphrases private items with a helper model (the
// agency's judge): a deterministic request, temperature 0 and the seed
// suite.PrivateWith derives from the private seed. Its answers are
// checked by the suite (suite.Paraphraser); a long answer is cut off by
// max_tokens for a well-behaved model and by the length check otherwise,
// and the HTTP client bounds the body it reads.
type ModelParaphraser struct {
	Model   score.Completer // a target, or a cached one
	Timeout time.Duration   // per request; 0: DefaultParaphraseTimeout
}

// Paraphrase implements suite.Paraphraser.
func (p ModelParaphraser) Paraphrase(ctx context.Context, text string, seed int64) (string, error) {
	if p.Model == nil {
		return "", errors.New("paraphrase: no model")
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultParaphraseTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	zero := 0.0
	resp, err := p.Model.Complete(ctx, target.Request{
		Messages:    []target.Message{{Role: "system", Content: ParaphraseSystem}, {Role: "user", Content: text}},
		MaxTokens:   min(maxParaphraseTokens, 256+len(text)),
		Temperature: &zero,
		Seed:        &seed,
	})
	if err != nil {
		return "", fmt.Errorf("paraphrase: %w", err)
	}
	return resp.Content, nil
}
