package work

import (
	"testing"
)

// FuzzParseSpec checks that a stored spec, however damaged, parses or is
// refused with an error, never a panic, and that what parses has at least
// one suite and a positive shard size.
func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(`{"version":1,"suites":[{"name":"misuse","digest":"sha256:00","limit":10}],"seed":1,"shard_size":4,"samples":10,"source":"request"}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"suites":[],"shard_size":0}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSpec(b)
		if err != nil {
			return
		}
		if len(s.Suites) == 0 || s.ShardSize < 1 {
			t.Fatalf("ParseSpec accepted %q: %+v", b, s)
		}
		if n := s.Shards(); n < 1 {
			t.Fatalf("Shards() = %d", n)
		}
	})
}
