package assess

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// helperServer plays a helper model on 127.0.0.1: answer maps the text to
// paraphrase to the reply; it records each request's temperature and seed.
type helperServer struct {
	mu    sync.Mutex
	temps []float64
	seeds map[int64]int
}

func newHelper(t *testing.T, answer func(text string) (string, int)) (*helperServer, *target.OpenAI) {
	t.Helper()
	h := &helperServer{seeds: map[int64]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct {
				Role, Content string
			}
			Temperature *float64
			Seed        *int64
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) != 2 || req.Temperature == nil || req.Seed == nil {
			http.Error(w, "bad request", 400)
			return
		}
		h.mu.Lock()
		h.temps = append(h.temps, *req.Temperature)
		h.seeds[*req.Seed]++
		h.mu.Unlock()
		reply, status := answer(req.Messages[1].Content)
		if status != 200 {
			http.Error(w, `{"error":{"message":"down"}}`, status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": reply}, "finish_reason": "stop"}}})
	}))
	t.Cleanup(srv.Close)
	tg, err := target.NewOpenAI(target.OpenAIConfig{BaseURL: srv.URL + "/v1", Model: "helper"})
	if err != nil {
		t.Fatal(err)
	}
	return h, tg
}

// privateUsers renders the private plan of misuse (10 items, direct) and
// returns each sample's user turn by item.
func privateUsers(t *testing.T, seed suite.PrivateSeed, p suite.Paraphraser) (map[string]string, *suite.Suite) {
	t.Helper()
	pub, err := suite.Builtin("misuse")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := suite.PrivateWith(pub, seed, suite.PrivateOptions{Paraphraser: p, Identity: "helper"})
	if err != nil {
		t.Fatal(err)
	}
	plan, _, err := suite.Samples([]*suite.Suite{priv}, suite.PlanOptions{Limit: 10, Seed: 3, Transforms: []string{"direct"}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for s := range plan {
		out[s.Item] = s.Messages[len(s.Messages)-1].Content
	}
	if len(out) == 0 {
		t.Fatal("empty plan")
	}
	return out, priv
}

func TestModelParaphrase(t *testing.T) {
	seed := suite.PrivateSeed{3, 1, 4}
	templated, _ := privateUsers(t, seed, nil)
	canaryOf := func(item string) string { return suite.Canary(seed, "misuse", item) }

	for _, tc := range []struct {
		name     string
		answer   func(text string) (string, int)
		wantPara bool
		reason   string
	}{
		{"keeps the canary", func(s string) (string, int) { return "Put differently: " + s, 200 }, true, ""},
		{"drops the canary", func(s string) (string, int) {
			i := strings.Index(s, "cx")
			return "Put differently: " + s[:i], 200
		}, false, suite.FallbackCanary},
		{"10 MB answer", func(s string) (string, int) { return s + strings.Repeat("A", 10<<20), 200 }, false, suite.FallbackTooLong},
		{"server error", func(s string) (string, int) { return "", 500 }, false, suite.FallbackError},
		{"empty answer", func(s string) (string, int) { return "  ", 200 }, false, suite.FallbackEmpty},
		{"returns the text unchanged", func(s string) (string, int) { return s, 200 }, false, suite.FallbackUnchanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, tg := newHelper(t, tc.answer)
			got, priv := privateUsers(t, seed, ModelParaphraser{Model: tg})
			st := priv.ParaphraseStats()
			for item, user := range got {
				if !strings.Contains(user, canaryOf(item)) {
					t.Errorf("%s: the sample lost its canary: %.80q", item, user)
				}
				if tc.wantPara != strings.HasPrefix(user, "Put differently: ") {
					t.Errorf("%s: user turn %.80q; paraphrased = %v, want %v", item, user, !tc.wantPara, tc.wantPara)
				}
				if !tc.wantPara && user != templated[item] {
					t.Errorf("%s: fallback %.80q is not the templated form %.80q", item, user, templated[item])
				}
			}
			if tc.wantPara && (st.Paraphrased != len(got) || st.Fallbacks != 0) {
				t.Errorf("stats %+v, want %d paraphrased", st, len(got))
			}
			if !tc.wantPara && (st.Paraphrased != 0 || st.Fallbacks != len(got) || st.Reasons[tc.reason] != len(got)) {
				t.Errorf("stats %+v, want %d fallbacks for %q", st, len(got), tc.reason)
			}
			// Deterministic requests: temperature 0, one seed per item.
			h.mu.Lock()
			defer h.mu.Unlock()
			for _, temp := range h.temps {
				if temp != 0 {
					t.Errorf("temperature %v, want 0", temp)
				}
			}
			if tc.name != "server error" && len(h.seeds) != len(got) {
				t.Errorf("%d distinct seeds for %d items (%v)", len(h.seeds), len(got), h.seeds)
			}
		})
	}
}

// A paraphrase that changes an injection marker falls back too.
func TestParaphraseKeepsProtectedText(t *testing.T) {
	seed := suite.PrivateSeed{8}
	pub, err := suite.Builtin("prompt-injection")
	if err != nil {
		t.Fatal(err)
	}
	_, tg := newHelper(t, func(s string) (string, int) {
		// Keep the canary, lower-case everything else.
		i := strings.Index(s, "cx")
		return "Rephrased: " + strings.ToLower(s[:i]) + s[i:], 200
	})
	priv, err := suite.PrivateWith(pub, seed, suite.PrivateOptions{Paraphraser: ModelParaphraser{Model: tg}})
	if err != nil {
		t.Fatal(err)
	}
	plan, _, err := suite.Samples([]*suite.Suite{priv}, suite.PlanOptions{Limit: 6, Seed: 1, Transforms: []string{"direct"}})
	if err != nil {
		t.Fatal(err)
	}
	for s := range plan {
		if m := s.Expect.Marker; m != "" && !strings.Contains(fmt.Sprint(s.Messages), m) {
			t.Errorf("%s: the marker %q is gone from the prompt", s.ID, m)
		}
	}
	if st := priv.ParaphraseStats(); st.Reasons[suite.FallbackProtected] == 0 {
		t.Errorf("stats %+v: no fallback for a lost marker", st)
	}
}
