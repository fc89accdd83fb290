package web

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestIdempotencyExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := newIdempotency(time.Hour, func() time.Time { return now })
	calls := 0
	fn := func() (int, []byte, error) {
		calls++
		return 201, []byte{byte('0' + calls)}, nil
	}
	ctx := context.Background()
	for _, step := range []struct {
		advance  time.Duration
		user     string
		body     string
		wantBody string
		replayed bool
		wantErr  error
	}{
		{0, "u1", "a", "1", false, nil},
		{30 * time.Minute, "u1", "a", "1", true, nil},
		{0, "u1", "b", "", false, errIdempotency},
		{0, "u2", "a", "2", false, nil},
		{31 * time.Minute, "u1", "b", "3", false, nil}, // u1's key expired
	} {
		now = now.Add(step.advance)
		_, body, replayed, err := m.do(ctx, step.user, "k", []byte(step.body), fn)
		if !errors.Is(err, step.wantErr) || string(body) != step.wantBody || replayed != step.replayed {
			t.Errorf("do(%s, %s) = %q replayed=%v err=%v, want %q replayed=%v err=%v",
				step.user, step.body, body, replayed, err, step.wantBody, step.replayed, step.wantErr)
		}
	}
}
