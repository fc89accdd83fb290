package assess

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/target"
	"github.com/google/go-cmp/cmp"
)

func TestLimiterAIMD(t *testing.T) {
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }
	l := newLimiter(20, 64, clock)
	for range 20 * 5 {
		l.Success()
	}
	if lim, _ := l.current(); lim < 24 || lim > 26 {
		t.Fatalf("after 100 successes from 20 the limit = %.2f, want about 25 (additive increase)", lim)
	}
	l.Overload(0)
	lim, _ := l.current()
	if lim < 12 || lim > 13 {
		t.Fatalf("after one overload limit = %.2f, want about 12.5 (halved)", lim)
	}
	l.Overload(0) // same window: not cut again
	if lim2, _ := l.current(); lim2 != lim {
		t.Fatalf("second overload in the same window cut the limit to %.2f", lim2)
	}
	now = now.Add(time.Second)
	l.Overload(0)
	if lim2, _ := l.current(); lim2 >= lim {
		t.Fatalf("overload in a new window did not cut the limit: %.2f", lim2)
	}
	for range 10000 {
		l.Success()
	}
	if lim, _ := l.current(); lim != 64 {
		t.Fatalf("limit = %.2f, want capped at 64", lim)
	}
}

func TestLimiterBoundsInFlight(t *testing.T) {
	l := newLimiter(3, 3, time.Now)
	var mu sync.Mutex
	in, peak := 0, 0
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			if err := l.Acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			in++
			peak = max(peak, in)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			in--
			mu.Unlock()
			l.Release()
		})
	}
	wg.Wait()
	if peak > 3 || peak < 1 {
		t.Fatalf("peak in flight = %d, want 1..3", peak)
	}
}

func TestLimiterRetryAfterPauses(t *testing.T) {
	l := newLimiter(4, 4, time.Now)
	l.Overload(80 * time.Millisecond)
	t0 := time.Now()
	if err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 70*time.Millisecond {
		t.Fatalf("acquire returned after %v, want the Retry-After pause honoured", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.Overload(time.Hour)
	cancel()
	if err := l.Acquire(ctx); err == nil {
		t.Fatal("acquire with a cancelled context and a pause succeeded")
	}
}

func TestRepairTail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"{\"id\":\"a\"}\n", "{\"id\":\"a\"}\n"},
		{"{\"id\":\"a\"}\n{\"id\":\"b", "{\"id\":\"a\"}\n"},
		{"{\"id\":\"a", ""},
	} {
		p := filepath.Join(t.TempDir(), "samples.jsonl")
		if err := os.WriteFile(p, []byte(tc.in), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := repairTail(p); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(p)
		if string(got) != tc.want {
			t.Errorf("repairTail(%q) left %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestReadRecordsErrorsNameLine(t *testing.T) {
	in := "{\"id\":\"a\"}\n\n{\"id\": 3}\n"
	err := ReadRecords(strings.NewReader(in), func(int, *Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("ReadRecords error = %v, want one naming line 3", err)
	}
	err = ReadRecords(strings.NewReader("{\"suite\":\"x\"}\n"), func(int, *Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "no id") {
		t.Fatalf("ReadRecords error = %v, want 'no id'", err)
	}
}

func TestCacheRoundTripAndKeys(t *testing.T) {
	c, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	req := target.Request{Messages: []target.Message{{Role: "user", Content: "hi"}}}
	k1, _ := cacheKey("openai|m1", req)
	k2, _ := cacheKey("openai|m2", req)
	req2 := req
	req2.MaxTokens = 5
	k3, _ := cacheKey("openai|m1", req2)
	if k1 == k2 || k1 == k3 {
		t.Fatal("cache keys do not depend on target identity and the full request")
	}
	if _, ok := c.Get(k1); ok {
		t.Fatal("hit on an empty cache")
	}
	want := target.Response{Content: "hello", Usage: target.Usage{InputTokens: 1, OutputTokens: 2}}
	if err := c.Put(k1, want); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(k1)
	if !ok || !cmp.Equal(got, want) {
		t.Fatalf("Get = %+v, %v; want %+v", got, ok, want)
	}
	if n, _ := c.Len(); n != 1 {
		t.Fatalf("Len = %d, want 1", n)
	}
}

func TestMetricsCountErrorsApart(t *testing.T) {
	recs := []*Record{
		{ID: "1", Suite: "s", Kind: "harmful", Category: "c1", Transform: "direct", Behavior: "b1", Verdict: &score.Verdict{Label: "compliance", Flagged: true}},
		{ID: "2", Suite: "s", Kind: "harmful", Category: "c1", Transform: "base64", Behavior: "b1", Verdict: &score.Verdict{Label: "refusal"}},
		{ID: "3", Suite: "s", Kind: "harmful", Category: "c2", Transform: "direct", Behavior: "b2", Error: &SampleError{Source: "target", Kind: "server"}},
		{ID: "4", Suite: "s", Kind: "harmful", Category: "c2", Transform: "direct", Behavior: "b3", Verdict: &score.Verdict{Err: "judge unparseable"}},
	}
	a := newAggregator()
	for _, r := range recs {
		a.add(r)
	}
	m := a.metrics("complete", nil)
	if m.Samples != 4 || m.Scored != 2 || m.Errors != 2 {
		t.Fatalf("samples/scored/errors = %d/%d/%d, want 4/2/2", m.Samples, m.Scored, m.Errors)
	}
	if len(m.Groups) != 1 || m.Groups[0].Key != "s.attack_success_rate" {
		t.Fatalf("groups = %+v", m.Groups)
	}
	g := m.Groups[0]
	if g.Overall.Flagged != 1 || g.Overall.N != 2 || g.Overall.Errors != 2 {
		t.Fatalf("overall = %+v, want 1 flagged of 2 with 2 errors", g.Overall)
	}
	if c2 := g.ByCategory["c2"]; c2.N != 0 || c2.Errors != 2 {
		t.Fatalf("c2 = %+v, want no scored samples and 2 errors", c2)
	}
	if m.ErrorsByKind["server"] != 1 || m.ErrorsByKind["scorer"] != 1 {
		t.Fatalf("errors by kind = %v", m.ErrorsByKind)
	}
}

// A scorer is named once with its version, never "harm harm/1+w2".
func TestScorerLabel(t *testing.T) {
	for _, tt := range []struct{ name, version, want string }{
		{"harm", "harm/1+w2", "harm/1+w2"},
		{"refusal", "refusal/2", "refusal/2"},
		{"judge", "strongreject-v1", "judge strongreject-v1"},
		{"exact", "", "exact"},
	} {
		if got := (ScorerInfo{Name: tt.name, Version: tt.version}).Label(); got != tt.want {
			t.Errorf("ScorerInfo{%q, %q}.Label() = %q, want %q", tt.name, tt.version, got, tt.want)
		}
	}
}
