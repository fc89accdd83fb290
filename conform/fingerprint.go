package conform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/clearance-dev/clearance/target"
)

// FingerprintVersion is the Version of every Fingerprint this package
// writes and the only one Parse accepts.
const FingerprintVersion = "clearance.conform.fingerprint/v1"

// Limits on a fingerprint, so that a hostile file cannot make a check
// send unbounded traffic.
const (
	MaxProbes  = 5000
	MaxRepeats = 8
)

// MinLogProb is the lowest mean token log-probability a fingerprint or a
// check accepts (OpenAI reports −9999 for a token outside its top 20);
// an answer whose log-probabilities fall outside [MinLogProb, 0] counts
// as one without them.
const MinLogProb = -1e4

// ErrFingerprint is returned (wrapped) by Parse for a malformed
// fingerprint.
var ErrFingerprint = errors.New("invalid fingerprint")

// Completer answers one request; every target client is one. It must be
// safe for concurrent use.
type Completer interface {
	Complete(ctx context.Context, req target.Request) (target.Response, error)
}

// Fingerprint is the behaviour of an endpoint on a probe set: each
// probe's answers, Repeats per probe, asked with the decoding settings
// recorded here. Its Digest binds it in a decision.
type Fingerprint struct {
	Version string `json:"version"`
	// Target describes what was probed (the target's identity, or its
	// kind and model name); informative only.
	Target     string    `json:"target,omitempty"`
	RecordedAt time.Time `json:"recorded_at"`
	// Seed drew the probes and is sent as the decoding seed.
	Seed        int64      `json:"seed"`
	Temperature float64    `json:"temperature"`
	MaxTokens   int        `json:"max_tokens,omitempty"`
	Repeats     int        `json:"repeats"`
	Probes      []Recorded `json:"probes"`
}

// Recorded is one probe with the answers recorded for it.
type Recorded struct {
	Probe
	Answers []string `json:"answers"`
	// MeanLogProbs are, when the endpoint offered token log-probabilities
	// for every answer, each answer's mean token log-probability (natural
	// log, in [MinLogProb, 0]), in the order of Answers; absent otherwise.
	MeanLogProbs []float64 `json:"mean_logprobs,omitempty"`
}

// hasLogProbs reports whether any probe of f has log-probabilities.
func (f *Fingerprint) hasLogProbs() bool {
	for _, p := range f.Probes {
		if len(p.MeanLogProbs) > 0 {
			return true
		}
	}
	return false
}

// validLogProb reports whether x is a usable (mean) log-probability.
func validLogProb(x float64) bool { return x >= MinLogProb && x <= 0 }

// meanLogProb is the mean of an answer's token log-probabilities; false
// when there are none or one is not a valid log-probability.
func meanLogProb(lps []float64) (float64, bool) {
	if len(lps) == 0 {
		return 0, false
	}
	sum := 0.0
	for _, x := range lps {
		if !validLogProb(x) {
			return 0, false
		}
		sum += x
	}
	return sum / float64(len(lps)), true
}

// Digest is "sha256:" and the hex SHA-256 of the fingerprint's JSON
// encoding (json.Marshal of the struct, so a parsed file and the value
// that wrote it have the same digest).
func (f *Fingerprint) Digest() string {
	b, err := json.Marshal(f)
	if err != nil { // a struct of strings and numbers always marshals
		panic(err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Requests is the number of requests recording f cost, which is also the
// cost of one check against it.
func (f *Fingerprint) Requests() int { return len(f.Probes) * f.Repeats }

// Parse decodes and validates a fingerprint. Unknown fields are errors.
// Errors wrap ErrFingerprint and name the field.
func Parse(data []byte) (*Fingerprint, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f Fingerprint
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFingerprint, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrFingerprint)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Validate checks the fingerprint's shape; errors wrap ErrFingerprint.
func (f *Fingerprint) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrFingerprint}, a...)...)
	}
	switch {
	case f.Version != FingerprintVersion:
		return bad("version: %q, want %q", f.Version, FingerprintVersion)
	case f.Repeats < 2 || f.Repeats > MaxRepeats:
		return bad("repeats: %d, want 2…%d", f.Repeats, MaxRepeats)
	case len(f.Probes) == 0:
		return bad("probes: none")
	case len(f.Probes) > MaxProbes:
		return bad("probes: %d, at most %d", len(f.Probes), MaxProbes)
	case f.MaxTokens < 0:
		return bad("max_tokens: %d is negative", f.MaxTokens)
	case !(f.Temperature >= 0 && f.Temperature <= 2):
		return bad("temperature: %v, want 0…2", f.Temperature)
	}
	ids := make(map[string]bool, len(f.Probes))
	for i, p := range f.Probes {
		switch {
		case p.ID == "":
			return bad("probes[%d].id: empty", i)
		case ids[p.ID]:
			return bad("probes[%d].id: duplicate %q", i, p.ID)
		case len(p.Messages) == 0:
			return bad("probes[%d] (%s).messages: none", i, p.ID)
		case len(p.Answers) != f.Repeats:
			return bad("probes[%d] (%s).answers: %d, want repeats = %d", i, p.ID, len(p.Answers), f.Repeats)
		case len(p.MeanLogProbs) != 0 && len(p.MeanLogProbs) != f.Repeats:
			return bad("probes[%d] (%s).mean_logprobs: %d, want none or repeats = %d", i, p.ID, len(p.MeanLogProbs), f.Repeats)
		}
		for j, x := range p.MeanLogProbs {
			if !validLogProb(x) {
				return bad("probes[%d] (%s).mean_logprobs[%d]: %v, want %g…0", i, p.ID, j, x, MinLogProb)
			}
		}
		ids[p.ID] = true
	}
	return nil
}

// RecordOptions configure Record.
type RecordOptions struct {
	// Seed is the decoding seed sent with every request (and recorded);
	// use the seed that drew the probes.
	Seed int64
	// Repeats is the number of answers per probe; 0 means 2.
	Repeats int
	// MaxTokens caps each answer; 0 means 512.
	MaxTokens int
	// Concurrency is the number of probes in flight; 0 means 4.
	Concurrency int
	// Target describes the endpoint, for the record.
	Target string
	// LogProbs asks for token log-probabilities (target.Request.LogProbs)
	// and records each answer's mean where the endpoint offers them for
	// every answer to a probe. Leave it off for endpoints that reject the
	// option (some reasoning models answer 400).
	LogProbs bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Record asks every probe Repeats times at temperature 0 with the seed
// and returns the fingerprint. A probe whose request still fails after
// retries fails the whole recording: a fingerprint with holes would make
// every later check weaker. It returns an error for no probes, or more
// than MaxProbes.
func Record(ctx context.Context, c Completer, probes []Probe, opts RecordOptions) (*Fingerprint, error) {
	if len(probes) == 0 || len(probes) > MaxProbes {
		return nil, fmt.Errorf("record fingerprint: %d probes, want 1…%d", len(probes), MaxProbes)
	}
	if opts.Repeats == 0 {
		opts.Repeats = 2
	}
	if opts.Repeats < 2 || opts.Repeats > MaxRepeats {
		return nil, fmt.Errorf("record fingerprint: repeats %d, want 2…%d", opts.Repeats, MaxRepeats)
	}
	if opts.MaxTokens == 0 {
		opts.MaxTokens = 512
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	f := &Fingerprint{
		Version: FingerprintVersion, Target: opts.Target,
		Seed: opts.Seed, Temperature: 0, MaxTokens: opts.MaxTokens, Repeats: opts.Repeats,
	}
	answers, lps, err := ask(ctx, c, probes, f, opts.LogProbs, opts.Concurrency)
	if err != nil {
		return nil, fmt.Errorf("record fingerprint: %w", err)
	}
	f.Probes = make([]Recorded, len(probes))
	for i, p := range probes {
		f.Probes[i] = Recorded{Probe: p, Answers: answers[i], MeanLogProbs: lps[i]}
	}
	f.RecordedAt = now().UTC().Truncate(time.Second)
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("record fingerprint: %w", err)
	}
	return f, nil
}

// ask sends every probe f.Repeats times with f's decoding settings and
// returns the answers by probe and, when logProbs asks for them, each
// answer's mean token log-probability by probe (nil for a probe when any
// of its answers came without usable ones). One probe's repeats are sent
// in order by one worker.
func ask(ctx context.Context, c Completer, probes []Probe, f *Fingerprint, logProbs bool, concurrency int) ([][]string, [][]float64, error) {
	if concurrency <= 0 {
		concurrency = 4
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([][]string, len(probes))
	means := make([][]float64, len(probes))
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	temp, seed := f.Temperature, f.Seed
	for range min(concurrency, len(probes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ans := make([]string, f.Repeats)
				var lp []float64
				if logProbs {
					lp = make([]float64, f.Repeats)
				}
				for r := range ans {
					req := target.Request{Messages: probes[i].Messages, Temperature: &temp, Seed: &seed, MaxTokens: f.MaxTokens, LogProbs: logProbs}
					resp, err := completeRetry(ctx, c, req)
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = fmt.Errorf("probe %s: %w", probes[i].ID, err)
						}
						mu.Unlock()
						cancel()
						return
					}
					ans[r] = resp.Content
					if lp != nil {
						m, ok := meanLogProb(resp.LogProbs)
						if ok {
							lp[r] = m
						} else {
							lp = nil
						}
					}
				}
				out[i] = ans
				means[i] = lp
			}
		}()
	}
feed:
	for i := range probes {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return out, means, nil
}

// completeRetry retries retryable target errors up to four attempts,
// waiting Retry-After or an exponential backoff (capped at 10s).
func completeRetry(ctx context.Context, c Completer, req target.Request) (target.Response, error) {
	const attempts = 4
	for a := 0; ; a++ {
		resp, err := c.Complete(ctx, req)
		if err == nil {
			return resp, nil
		}
		te := target.AsError(err)
		if !te.Retryable() || a == attempts-1 || ctx.Err() != nil {
			return target.Response{}, err
		}
		wait := te.RetryAfter
		if wait <= 0 {
			wait = time.Duration(250<<a) * time.Millisecond
		}
		wait = min(wait, 10*time.Second)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return target.Response{}, ctx.Err()
		case <-t.C:
		}
	}
}
