package conform_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/conform"
	"github.com/clearance-dev/clearance/target"
)

func smallFingerprint(t testing.TB) *conform.Fingerprint {
	t.Helper()
	w := testWorld(t)
	fp, err := conform.Record(context.Background(), w.reference(t, endpoint{profile: "robust"}, 0), conform.Select(w.pool, 5, 3),
		conform.RecordOptions{Seed: 3, Now: func() time.Time { return time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

func TestFingerprintRoundTrip(t *testing.T) {
	fp := smallFingerprint(t)
	b, err := json.MarshalIndent(fp, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	got, err := conform.Parse(b)
	if err != nil {
		t.Fatalf("Parse(recorded) = %v", err)
	}
	if got.Digest() != fp.Digest() || !strings.HasPrefix(fp.Digest(), "sha256:") {
		t.Fatalf("Digest after round trip = %s, want %s", got.Digest(), fp.Digest())
	}
	if fp.Requests() != 10 {
		t.Errorf("Requests() = %d, want 10", fp.Requests())
	}
	got.Probes[0].Answers[0] += " "
	if got.Digest() == fp.Digest() {
		t.Errorf("Digest unchanged after an answer changed")
	}
}

func TestParseRejects(t *testing.T) {
	fp := smallFingerprint(t)
	for _, c := range []struct {
		name, field string
		edit        func(m map[string]any)
	}{
		{"version", "version", func(m map[string]any) { m["version"] = "v0" }},
		{"repeats", "repeats", func(m map[string]any) { m["repeats"] = 1 }},
		{"no probes", "probes", func(m map[string]any) { m["probes"] = []any{} }},
		{"unknown field", "extra", func(m map[string]any) { m["extra"] = 1 }},
		{"answers", "answers", func(m map[string]any) { m["probes"].([]any)[0].(map[string]any)["answers"] = []any{"x"} }},
		{"duplicate id", "duplicate", func(m map[string]any) {
			ps := m["probes"].([]any)
			ps[1].(map[string]any)["id"] = ps[0].(map[string]any)["id"]
		}},
		{"temperature", "temperature", func(m map[string]any) { m["temperature"] = 9 }},
		{"mean_logprobs count", "mean_logprobs: 1", func(m map[string]any) { m["probes"].([]any)[0].(map[string]any)["mean_logprobs"] = []any{-1} }},
		{"mean_logprobs positive", "mean_logprobs[0]: 0.5", func(m map[string]any) {
			m["probes"].([]any)[0].(map[string]any)["mean_logprobs"] = []any{0.5, -1}
		}},
		{"mean_logprobs too low", "mean_logprobs[1]: -20000", func(m map[string]any) {
			m["probes"].([]any)[0].(map[string]any)["mean_logprobs"] = []any{-1, -2e4}
		}},
	} {
		b, _ := json.Marshal(fp)
		var m map[string]any
		json.Unmarshal(b, &m)
		c.edit(m)
		b, _ = json.Marshal(m)
		_, err := conform.Parse(b)
		if !errors.Is(err, conform.ErrFingerprint) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: Parse = %v, want ErrFingerprint naming %q", c.name, err, c.field)
		}
	}
}

func FuzzParse(f *testing.F) {
	b, _ := json.Marshal(smallFingerprint(f))
	f.Add(b)
	f.Add([]byte(`{"version":"clearance.conform.fingerprint/v1","repeats":2,"probes":[{"id":"a","messages":[{"role":"user","content":"x"}],"answers":["a","b"]}]}`))
	f.Add([]byte(`{"version":"clearance.conform.fingerprint/v1","repeats":2,"probes":[{"id":"a","messages":[{"role":"user","content":"x"}],"answers":["a","b"],"mean_logprobs":[-0.5,-9999]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fp, err := conform.Parse(data)
		if err != nil {
			return
		}
		answers := make([][]string, len(fp.Probes))
		lps := make([][]float64, len(fp.Probes))
		for i, p := range fp.Probes {
			answers[i] = p.Answers
			lps[i] = p.MeanLogProbs
		}
		res, err := conform.CompareLogProbs(fp, answers, lps, conform.Options{Permutations: 20})
		if err != nil {
			t.Fatalf("Compare(parsed fingerprint) = %v", err)
		}
		if !res.Same {
			t.Fatalf("a fingerprint compared with its own answers differs: %v", res.Failed())
		}
	})
}

// failing answers every request with a permanent error.
type failing struct{}

func (failing) Complete(context.Context, target.Request) (target.Response, error) {
	return target.Response{}, &target.Error{Kind: target.KindClient, Status: 401, Msg: "bad key"}
}

func TestCheckFailedRequestsAreAnErrorNotAVerdict(t *testing.T) {
	fp := smallFingerprint(t)
	res, err := conform.Check(context.Background(), failing{}, fp, conform.Options{}, 2)
	if err == nil || !strings.Contains(err.Error(), "bad key") {
		t.Fatalf("Check(failing endpoint) = %+v, %v; want an error naming the cause", res, err)
	}
}

func TestCompareRejectsBadInput(t *testing.T) {
	fp := smallFingerprint(t)
	answers := make([][]string, len(fp.Probes))
	for i, p := range fp.Probes {
		answers[i] = p.Answers
	}
	for _, c := range []struct {
		name    string
		answers [][]string
		opts    conform.Options
		want    string
	}{
		{"alpha", answers, conform.Options{Alpha: 0.9}, "alpha"},
		{"count", answers[1:], conform.Options{}, "answer sets"},
		{"short", append([][]string{{"x"}}, answers[1:]...), conform.Options{}, "at least 2"},
	} {
		if _, err := conform.Compare(fp, c.answers, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Compare = %v, want an error naming %q", c.name, err, c.want)
		}
	}
}
