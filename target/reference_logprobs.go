package target

import (
	"crypto/sha256"
	"encoding/binary"
	"unicode"
)

// logProbTokens splits an answer into the reference model's synthetic
// tokens: a run of non-space characters with the whitespace after it
// (the first token also carries any leading whitespace), so the tokens
// concatenate to the answer. At most MaxLogProbs tokens are returned.
func logProbTokens(s string) []string {
	var out []string
	start, seenWord, prevSpace := 0, false, false
	for i, c := range s {
		sp := unicode.IsSpace(c)
		if !sp && prevSpace && seenWord {
			out = append(out, s[start:i])
			if len(out) == MaxLogProbs {
				return out
			}
			start = i
		}
		seenWord = seenWord || !sp
		prevSpace = sp
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// syntheticLogProbs returns SYNTHETIC log-probabilities for answer's
// tokens (logProbTokens): the reference model is a simulator, not a
// language model, and has no real token probabilities. Token i gets
// −4·u², u uniform in [0, 1) from SHA-256 of the profile's name and seed,
// the previous token and the token, so the same profile gives the same
// values for the same text, and another profile (other weights) gives
// other values even for the same text, as a real model would. Nil for an
// empty answer.
func (r *Reference) syntheticLogProbs(answer string) []float64 {
	toks := logProbTokens(answer)
	if len(toks) == 0 {
		return nil
	}
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], uint64(r.p.Seed))
	out := make([]float64, len(toks))
	prev := ""
	for i, tok := range toks {
		h := sha256.New()
		h.Write([]byte("clearance/target/reference/logprob/v1\n"))
		h.Write(seed[:])
		for _, s := range []string{r.p.Name, prev, tok} {
			var n [8]byte
			binary.BigEndian.PutUint64(n[:], uint64(len(s)))
			h.Write(n[:])
			h.Write([]byte(s))
		}
		var sum [32]byte
		h.Sum(sum[:0])
		u := unitFloat(sum[:8])
		out[i] = -4 * u * u
		prev = tok
	}
	return out
}
