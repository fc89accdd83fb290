package assess

import (
	"context"
	"sync/atomic"

	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/target"
)

// CountingCompleter is a scorer's completer (the judge's) with the
// response cache applied and its cost counted: a repeated run repeats no
// judge call, and a run reports what its judge calls cost.
type CountingCompleter struct {
	c        score.Completer
	identity string
	cache    ResponseCache

	requests, cacheHits, inTokens, outTokens atomic.Int64
}

// CachedCompleter returns c with cache (nil: none) keyed by identity, the
// judge model's identity, and the request.
func CachedCompleter(c score.Completer, identity string, cache ResponseCache) *CountingCompleter {
	return &CountingCompleter{c: c, identity: identity, cache: cache}
}

// Complete answers from the cache or asks the completer; only a
// successful answer is cached.
func (cc *CountingCompleter) Complete(ctx context.Context, req target.Request) (target.Response, error) {
	key := ""
	if cc.cache != nil {
		var err error
		if key, err = cacheKey("judge:"+cc.identity, req); err == nil {
			if resp, ok := cc.cache.Get(key); ok {
				cc.cacheHits.Add(1)
				return resp, nil
			}
		}
	}
	cc.requests.Add(1)
	resp, err := cc.c.Complete(ctx, req)
	if err != nil {
		return resp, err
	}
	cc.inTokens.Add(int64(resp.Usage.InputTokens))
	cc.outTokens.Add(int64(resp.Usage.OutputTokens))
	if key != "" {
		_ = cc.cache.Put(key, resp) // a failed put costs a repeated call later, nothing more
	}
	return resp, nil
}

// Cost is what a scorer's model calls cost.
type Cost struct {
	Requests     int64 `json:"requests"`   // calls made
	CacheHits    int64 `json:"cache_hits"` // answered from the cache
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
}

// Cost returns the calls made so far.
func (cc *CountingCompleter) Cost() Cost {
	return Cost{Requests: cc.requests.Load(), CacheHits: cc.cacheHits.Load(), InputTokens: cc.inTokens.Load(), OutputTokens: cc.outTokens.Load()}
}
