package conform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/conform"
	"github.com/clearance-dev/clearance/target"
	"github.com/google/go-cmp/cmp"
)

// served puts ref behind the reference model's OpenAI-compatible server on
// 127.0.0.1 and returns an OpenAI client for it. With ignoreLogProbs the
// server drops "logprobs" from every request: a server that does not
// offer them.
func served(t testing.TB, ref *target.Reference, ignoreLogProbs bool) *target.OpenAI {
	t.Helper()
	h := target.NewReferenceServer(ref, target.ServerOptions{})
	if ignoreLogProbs {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body map[string]any
			b, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(b, &body); err == nil {
				delete(body, "logprobs")
				b, _ = json.Marshal(body)
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			r.ContentLength = int64(len(b))
			inner.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := target.NewOpenAI(target.OpenAIConfig{BaseURL: srv.URL + "/v1", Model: "served"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testByName(res *conform.Result, name string) (conform.Test, bool) {
	i := slices.IndexFunc(res.Tests, func(t conform.Test) bool { return t.Name == name })
	if i < 0 {
		return conform.Test{}, false
	}
	return res.Tests[i], true
}

// A fingerprint recorded with log-probabilities over HTTP keeps each
// answer's mean; a check of the same endpoint passes the logprob test; a
// swapped profile fails it, and so does a model that answers the same
// text with other probabilities (only the logprob test sees that one).
func TestCheckLogProbs(t *testing.T) {
	w := testWorld(t)
	ctx := context.Background()
	const seed = 5
	robust := endpoint{profile: "robust"}
	fp, err := conform.Record(ctx, served(t, w.reference(t, robust, 1), false), w.probes(seed),
		conform.RecordOptions{Seed: seed, LogProbs: true})
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	for _, p := range fp.Probes {
		if len(p.MeanLogProbs) != fp.Repeats {
			t.Fatalf("probe %s: mean_logprobs %v, want %d", p.ID, p.MeanLogProbs, fp.Repeats)
		}
	}
	b, _ := json.Marshal(fp)
	if _, err := conform.Parse(b); err != nil || !strings.Contains(string(b), `"mean_logprobs"`) {
		t.Fatalf("Parse(fingerprint with logprobs) = %v", err)
	}

	// Same text, other probabilities: robust's rates and seed under
	// another name (another set of weights).
	twin, err := target.BuiltinProfile("robust")
	if err != nil {
		t.Fatal(err)
	}
	twin.Name = "robust-retrained"
	twinRef, err := target.NewReference(twin, w.oracle)
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name     string
		ref      *target.Reference
		rejected bool
	}{
		{"same endpoint", w.reference(t, robust, 2), false},
		{"swapped to typical", w.reference(t, endpoint{profile: "typical"}, 2), true},
		{"same text, other probabilities", twinRef, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := conform.Check(ctx, served(t, c.ref, false), fp, conform.Options{Seed: seed, Refused: refused}, 4)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			lt, ok := testByName(res, conform.TestLogProb)
			if !ok {
				t.Fatalf("no %s test in %+v", conform.TestLogProb, res.Tests)
			}
			if lt.Rejected != c.rejected || res.Same == c.rejected {
				t.Errorf("logprob rejected = %v (p %.4g, level %.4g), Same = %v; want rejected %v (tests %+v)",
					lt.Rejected, lt.PValue, lt.Level, res.Same, c.rejected, res.Tests)
			}
			if want := 0.05 / float64(len(res.Tests)); lt.Level != want {
				t.Errorf("level %v, want alpha/%d = %v", lt.Level, len(res.Tests), want)
			}
			t.Logf("%s: failed %v", c.name, res.Failed())
		})
	}
}

// A server that does not offer log-probabilities: the fingerprint holds
// none (its JSON has no mean_logprobs), and the check's tests, levels and
// verdict are exactly those of a check without log-probabilities. A
// fingerprint with them checked against such a server has no logprob
// test either.
func TestCheckWithoutLogProbs(t *testing.T) {
	w := testWorld(t)
	ctx := context.Background()
	const seed = 6
	robust := endpoint{profile: "robust"}
	probes := w.probes(seed)
	fp, err := conform.Record(ctx, served(t, w.reference(t, robust, 1), true), probes, conform.RecordOptions{Seed: seed, LogProbs: true})
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	b, _ := json.Marshal(fp)
	if strings.Contains(string(b), "mean_logprobs") {
		t.Fatalf("fingerprint of a server without logprobs has mean_logprobs")
	}
	opts := conform.Options{Seed: seed, Refused: refused}
	got, err := conform.Check(ctx, served(t, w.reference(t, robust, 2), true), fp, opts, 4)
	if err != nil {
		t.Fatal(err)
	}
	want, err := conform.Check(ctx, w.reference(t, robust, 2), fp, opts, 4)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("check without logprobs differs from a plain check (-plain +http):\n%s", d)
	}
	if _, ok := testByName(got, conform.TestLogProb); ok {
		t.Errorf("logprob test present without logprobs")
	}

	withLP, err := conform.Record(ctx, served(t, w.reference(t, robust, 1), false), probes, conform.RecordOptions{Seed: seed, LogProbs: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := conform.Check(ctx, served(t, w.reference(t, robust, 2), true), withLP, opts, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := testByName(res, conform.TestLogProb); ok || len(res.Tests) != len(want.Tests) {
		t.Errorf("fingerprint with logprobs, server without: tests %+v, want no logprob test", res.Tests)
	}
}

func TestCompareLogProbsRejectsBadInput(t *testing.T) {
	fp := smallFingerprint(t)
	answers := make([][]string, len(fp.Probes))
	for i, p := range fp.Probes {
		answers[i] = p.Answers
	}
	good := make([][]float64, len(answers))
	for i := range good {
		good[i] = []float64{-1, -1}
	}
	for _, c := range []struct {
		name string
		lps  [][]float64
		want string
	}{
		{"count", good[1:], "log-probability sets"},
		{"per probe", append([][]float64{{-1}}, good[1:]...), "mean log-probabilities for 2 answers"},
		{"positive", append([][]float64{{0.5, -1}}, good[1:]...), "mean log-probability 0.5"},
		{"too low", append([][]float64{{-2e4, -1}}, good[1:]...), "mean log-probability -20000"},
	} {
		if _, err := conform.CompareLogProbs(fp, answers, c.lps, conform.Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: CompareLogProbs = %v, want an error naming %q", c.name, err, c.want)
		}
	}
}
