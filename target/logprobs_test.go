package target_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/target"
	"github.com/google/go-cmp/cmp"
)

// logProbServer answers every chat completion with content and, in
// choices[0].logprobs, one entry per value of lps (null when lps is nil);
// refusal puts the text in message.refusal instead. It records whether
// each request asked for logprobs.
func logProbServer(t *testing.T, content string, refusal bool, lps []float64, asked *[]bool) string {
	t.Helper()
	url, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("request body: %v", err)
		}
		v, ok := body["logprobs"]
		*asked = append(*asked, ok && v == true)
		toks := make([]map[string]any, len(lps))
		for i, lp := range lps {
			toks[i] = map[string]any{"token": fmt.Sprintf("t%d", i), "logprob": lp, "bytes": nil, "top_logprobs": []any{}}
		}
		msg := map[string]any{"role": "assistant", "content": content}
		lpObj := map[string]any{"content": toks, "refusal": nil}
		if refusal {
			msg = map[string]any{"role": "assistant", "content": nil, "refusal": content}
			lpObj = map[string]any{"content": nil, "refusal": toks}
		}
		ch := map[string]any{"index": 0, "message": msg, "finish_reason": "stop", "logprobs": nil}
		if lps != nil {
			ch["logprobs"] = lpObj
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "c", "object": "chat.completion", "model": "m", "choices": []any{ch},
			"usage": map[string]any{"prompt_tokens": 1, "completion_tokens": len(lps)}})
	})
	return url
}

func TestOpenAILogProbs(t *testing.T) {
	many := make([]float64, target.MaxLogProbs+10)
	for i := range many {
		many[i] = -float64(i%7) / 10
	}
	for _, c := range []struct {
		name    string
		ask     bool
		refusal bool
		lps     []float64
		want    []float64
	}{
		{"asked and offered", true, false, []float64{-0.5, 0, -9999}, []float64{-0.5, 0, -9999}},
		{"refusal tokens", true, true, []float64{-1.25, -0.01}, []float64{-1.25, -0.01}},
		{"asked, server ignores the option", true, false, nil, nil},
		{"not asked, server sends them anyway", false, false, []float64{-0.5}, nil},
		{"capped at MaxLogProbs", true, false, many, many[:target.MaxLogProbs]},
	} {
		t.Run(c.name, func(t *testing.T) {
			var asked []bool
			url := logProbServer(t, "hello there", c.refusal, c.lps, &asked)
			cl := newOpenAI(t, target.OpenAIConfig{BaseURL: url})
			req := userReq("hi")
			req.LogProbs = c.ask
			resp, err := cl.Complete(context.Background(), req)
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			if resp.Content != "hello there" {
				t.Errorf("Content = %q", resp.Content)
			}
			if d := cmp.Diff(c.want, resp.LogProbs); d != "" {
				t.Errorf("LogProbs (-want +got):\n%s", d)
			}
			if len(asked) != 1 || asked[0] != c.ask {
				t.Errorf("request asked for logprobs: %v, want [%v]", asked, c.ask)
			}
		})
	}
}

// The reference server returns the reference model's synthetic
// log-probabilities over HTTP exactly as the model gives them directly:
// one per token, in [−4, 0], deterministic; none unless asked.
func TestReferenceServerLogProbs(t *testing.T) {
	tr := target.Truth{Kind: "benign", Category: "*", Transform: "direct"}
	ref, url := newRefServer(t, func([32]byte) (target.Truth, bool) { return tr, true })
	c := newOpenAI(t, target.OpenAIConfig{BaseURL: url + "/v1", Model: "anything"})
	ctx := context.Background()
	for i := range 10 {
		req := userReq(fmt.Sprintf("Explain tides (%d)", i))
		plain, err := c.Complete(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if plain.LogProbs != nil {
			t.Fatalf("not asked: LogProbs = %v, want nil", plain.LogProbs)
		}
		req.LogProbs = true
		got, err := c.Complete(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ref.Complete(ctx, req)
		want.Model = "anything"
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("HTTP answer differs from direct answer (-direct +http):\n%s", d)
		}
		if n := len(strings.Fields(got.Content)); len(got.LogProbs) != n || n == 0 {
			t.Fatalf("%d logprobs for %d words", len(got.LogProbs), n)
		}
		for _, lp := range got.LogProbs {
			if !(lp >= -4 && lp <= 0) {
				t.Fatalf("logprob %v outside [-4, 0]", lp)
			}
		}
		again, _ := c.Complete(ctx, req)
		if !cmp.Equal(again.LogProbs, got.LogProbs) {
			t.Fatalf("synthetic logprobs not deterministic")
		}
	}
}

// Another profile gives other log-probabilities to the same text.
func TestReferenceLogProbsDependOnProfile(t *testing.T) {
	tr := target.Truth{Kind: "benign", Category: "*", Transform: "direct"}
	oracle := func([32]byte) (target.Truth, bool) { return tr, true }
	req := userReq("Explain tides")
	req.LogProbs = true
	var answers []target.Response
	for _, name := range []string{"robust", "typical"} {
		p, _ := target.BuiltinProfile(name)
		p.Seed = 1 // the same seed, so any difference comes from the profile
		ref, err := target.NewReference(p, oracle)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ref.Complete(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		answers = append(answers, resp)
	}
	if answers[0].Content != answers[1].Content {
		t.Fatalf("answers differ: %q, %q; want the same text", answers[0].Content, answers[1].Content)
	}
	if cmp.Equal(answers[0].LogProbs, answers[1].LogProbs) {
		t.Errorf("robust and typical give the same logprobs for the same answer %q", answers[0].Content)
	}
}
