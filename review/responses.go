package review

import (
	"context"
	"fmt"
)

// CachedResponse returns the model response the system's runner stored
// under key, opened, or an error wrapping ErrNotFound. The key is a
// SHA-256 digest of the target's identity and the request (see
// assess.ResponseCache), so it names no prompt, answer or credential. A
// stored response that does not open (sealed by another identity) is an
// error, which the runner treats as a miss. The system only.
func (s *Service) CachedResponse(ctx context.Context, key string) ([]byte, error) {
	sealed, err := s.store.CachedResponse(ctx, key)
	if err != nil {
		return nil, err
	}
	b, err := s.sealer.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("cached response %s: %w", key, err)
	}
	return b, nil
}

// PutCachedResponse seals a model response and stores it under key (a
// key already present keeps its response). Responses are sealed whatever
// the request: an answer to a harmful request may be harmful content,
// and the cache cannot tell. The system only.
func (s *Service) PutCachedResponse(ctx context.Context, key string, resp []byte) error {
	sealed, err := s.sealer.Seal(resp)
	if err != nil {
		return fmt.Errorf("put cached response %s: %w", key, err)
	}
	return s.store.PutCachedResponse(ctx, key, sealed)
}
