package work

import (
	"context"
	"strings"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// Model paraphrases in the service. When the server has an agency judge
// (serve --judge-url) and a private seed, the private forms are also
// paraphrased by that judge model (suite.PrivateWith, assess.
// ModelParaphraser): temperature 0, a seed from the private seed, guarded
// so that a paraphrase losing the canary or a protected text falls back to
// the templated form. The requests go through the egress policy's client
// and the service's sealed response cache, so every shard, in every
// process, gets the same paraphrase of an item and the model is asked once.
// The private-variant gap in the metrics counts paraphrases and fallbacks
// of the assessment's items (assess.PrivateGap.Paraphrase).

// paraphraseOptions returns the private forms' options: a paraphraser when
// the runner has both a seed and an agency judge.
func (r *Runner) paraphraseOptions() suite.PrivateOptions {
	j := r.cfg.Judge
	if j == nil || r.cfg.PrivateSeed == nil || j.URL == "" || j.Model == "" {
		return suite.PrivateOptions{}
	}
	base := strings.TrimRight(j.URL, "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	t, err := target.NewOpenAI(target.OpenAIConfig{BaseURL: base, Model: j.Model, APIKey: strings.TrimSpace(string(j.Key)),
		Timeout: r.cfg.RequestTimeout, HTTPClient: r.cfg.Egress.Client(0)})
	if err != nil {
		r.cfg.Logger.Warn("private forms: no model paraphrases: the agency judge is not usable", "err", err)
		return suite.PrivateOptions{}
	}
	// Plan iterators render samples without a context: each request is
	// bounded by the paraphraser's own timeout.
	c := assess.CachedCompleter(redactedTarget{t}, t.Identity(), storeCache{ctx: context.Background(), st: r.cfg.Service, log: r.cfg.Logger})
	return suite.PrivateOptions{Paraphraser: assess.ModelParaphraser{Model: c, Timeout: r.cfg.RequestTimeout}, Identity: j.Model + "@" + base}
}

// paraphraseStats counts the paraphrases of the private items an
// assessment's samples came from; nil without a paraphraser.
func (r *Runner) paraphraseStats(scan *recordScan) *suite.ParaphraseStats {
	if r.suites.para.Paraphraser == nil || scan == nil {
		return nil
	}
	st := &suite.ParaphraseStats{Model: r.suites.para.Identity}
	for k := range scan.private {
		pub, err := r.suites.get(suite.PublicName(k[0]))
		if err != nil {
			continue
		}
		pv, err := r.suites.private(pub)
		if err != nil {
			continue
		}
		reason, ok := pv.ParaphraseOutcome(k[1])
		switch {
		case !ok:
		case reason == "":
			st.Paraphrased++
		default:
			st.Fallbacks++
			if st.Reasons == nil {
				st.Reasons = map[string]int{}
			}
			st.Reasons[reason]++
		}
	}
	return st
}
