package work

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target/targettest"
)

// With an agency judge, the service's private forms are paraphrased by it:
// a helper that keeps the canary is used (the model sees its paraphrases,
// each asked once across shards), a hostile one that drops the canary is
// not, and the metrics count the fallbacks.
func TestServiceParaphrase(t *testing.T) {
	seed := suite.PrivateSeed{2, 4, 6}
	for _, tc := range []struct {
		name   string
		answer func(string) string
		para   int
		reason string
	}{
		{"keeps the canary", func(p string) string { return "Rephrased: " + p }, 6, ""},
		{"drops the canary", func(p string) string {
			if i := strings.Index(p, "cx"); i >= 0 {
				p = p[:i]
			}
			return "Rephrased: " + p
		}, 0, suite.FallbackCanary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			helper := targettest.New(t, targettest.Options{Answer: tc.answer})
			model := targettest.New(t, targettest.Options{})
			w := newPrivateWorld(t, seed, &JudgeConfig{URL: helper.URL, Model: "helper"})
			_, as := w.assess(t, model.URL, "m", true)
			var m assess.Metrics
			if err := json.Unmarshal(as.Metrics, &m); err != nil || m.PrivateGap == nil {
				t.Fatalf("metrics %s: %v", as.Metrics, err)
			}
			p := m.PrivateGap.Paraphrase
			if p == nil || p.Paraphrased != tc.para || p.Fallbacks != 6-tc.para || (tc.reason != "" && p.Reasons[tc.reason] != 6) {
				t.Fatalf("paraphrase stats %+v, want %d paraphrased of 6", p, tc.para)
			}
			if got := helper.Requests(); got != 6 {
				t.Errorf("the helper was asked %d times, want once per item (6)", got)
			}
			rephrased := 0
			for prompt := range model.PromptCounts() {
				if strings.HasPrefix(prompt, "Rephrased: ") {
					rephrased++
					if !strings.Contains(prompt, "cx") {
						t.Errorf("a paraphrase without its canary reached the model: %.80q", prompt)
					}
				}
			}
			if rephrased != tc.para {
				t.Errorf("the model saw %d paraphrased prompts, want %d", rephrased, tc.para)
			}
			if c := m.Contamination; c == nil || c.Signal() {
				t.Errorf("contamination %+v, want a scan without hits", c)
			}
		})
	}
}
