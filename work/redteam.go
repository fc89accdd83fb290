package work

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// RedTeam is the service's red-team console backend (review.RedTeam):
// chat with a case's OpenAI-compatible endpoint through the target egress
// policy, behaviours from the built-in jailbreak suite (its direct,
// untransformed harmful requests), and the offline harm scorer as judge.
type RedTeam struct {
	hc      *http.Client
	timeout time.Duration
	harm    *score.Harm
	// judge, when set, is the agency's LLM judge, used instead of harm.
	judge     score.Scorer
	judgeName string

	once sync.Once
	bs   []CampaignBehaviour
	err  error
}

// CampaignBehaviour is one behaviour of the transfer sample.
type CampaignBehaviour struct {
	Text, Category string
}

var _ review.RedTeam = (*RedTeam)(nil)

// NewRedTeam returns the red-team backend whose requests go through
// p's HTTP client (which dials only allowed addresses and follows no
// redirect).
func NewRedTeam(p egress.Policy) *RedTeam {
	return &RedTeam{hc: p.Client(0), timeout: 2 * time.Minute, harm: score.NewHarm()}
}

// NewRedTeamJudged is NewRedTeam whose transfer checks and retests are
// judged by the agency's default judge j (clearance serve --judge-url),
// called through p like the targets; nil j: the offline harm scorer. A
// judge that does not answer, or whose answer cannot be read, is an
// error (the retest job is tried again), never a verdict.
func NewRedTeamJudged(p egress.Policy, j *JudgeConfig) (*RedTeam, error) {
	r := NewRedTeam(p)
	if j == nil {
		return r, nil
	}
	base := strings.TrimRight(j.URL, "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	t, err := target.NewOpenAI(target.OpenAIConfig{BaseURL: base, Model: j.Model, APIKey: strings.TrimSpace(string(j.Key)),
		Timeout: r.timeout, HTTPClient: r.hc})
	if err != nil {
		return nil, fmt.Errorf("red-team judge: %w", err)
	}
	jd, err := score.NewJudgeWith(redactedTarget{t}, score.JudgeOptions{Rubric: j.Rubric, Model: j.Model + "@" + base})
	if err != nil {
		return nil, fmt.Errorf("red-team judge: %w", err)
	}
	r.judge = redactedJudge{jd}
	r.judgeName = fmt.Sprintf("LLM judge %s (rubric %s)", j.Model, jd.Rubric().Name)
	return r, nil
}

// JudgeName implements review.JudgeNamer: which scorer judges transfer
// checks and retests.
func (r *RedTeam) JudgeName() string {
	if r.judge != nil {
		return r.judgeName
	}
	return "offline harm scorer"
}

// Chat implements review.RedTeam. Its errors name the kind of failure
// and the HTTP status only, never the endpoint's text.
func (r *RedTeam) Chat(ctx context.Context, t review.ChatTarget, msgs []review.ChatMessage) (string, error) {
	base := strings.TrimRight(t.URL, "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	c, err := target.NewOpenAI(target.OpenAIConfig{BaseURL: base, Model: t.Model, APIKey: strings.TrimSpace(string(t.Credentials)),
		Timeout: r.timeout, HTTPClient: r.hc})
	if err != nil {
		return "", fmt.Errorf("endpoint: %v", err)
	}
	req := target.Request{Messages: make([]target.Message, 0, len(msgs))}
	for _, m := range msgs {
		req.Messages = append(req.Messages, target.Message{Role: m.Role, Content: m.Content})
	}
	resp, err := c.Complete(ctx, req)
	if err != nil {
		te := target.AsError(err)
		if te.Status != 0 {
			return "", fmt.Errorf("%s (HTTP %d)", te.Kind, te.Status)
		}
		return "", fmt.Errorf("%s", te.Kind)
	}
	return resp.Content, nil
}

// CampaignBehaviours is the transfer sample: up to n direct harmful
// requests of the jailbreak suite, drawn with seed 1 (the same ones every
// time).
func CampaignBehaviours(n int) ([]CampaignBehaviour, error) {
	s, err := suite.Builtin("jailbreak")
	if err != nil {
		return nil, err
	}
	seq, _, err := suite.Samples([]*suite.Suite{s}, suite.PlanOptions{Limit: n, Seed: 1, Transforms: []string{"direct"}, Kinds: []string{suite.KindHarmful}})
	if err != nil {
		return nil, err
	}
	var out []CampaignBehaviour
	for sm := range seq {
		for i := len(sm.Messages) - 1; i >= 0; i-- {
			if sm.Messages[i].Role == "user" {
				out = append(out, CampaignBehaviour{Text: sm.Messages[i].Content, Category: sm.Category})
				break
			}
		}
	}
	return out, nil
}

// Behaviours implements review.RedTeam.
func (r *RedTeam) Behaviours(_ context.Context, n int) ([]string, error) {
	r.once.Do(func() { r.bs, r.err = CampaignBehaviours(review.UniversalSample) })
	if r.err != nil {
		return nil, r.err
	}
	var out []string
	for _, b := range r.bs[:min(n, len(r.bs))] {
		out = append(out, b.Text)
	}
	return out, nil
}

// Judge implements review.RedTeam with the agency's judge when there is
// one (NewRedTeamJudged), else the offline harm scorer.
func (r *RedTeam) Judge(ctx context.Context, request, reply string) (bool, error) {
	in := score.Input{Kind: suite.KindHarmful, Goal: request, Prompt: request, Response: reply}
	if r.judge != nil {
		v := r.judge.Score(ctx, in)
		if v.Err != "" {
			return false, errors.New(v.Err)
		}
		return v.Flagged, nil
	}
	v := r.harm.Score(ctx, in)
	return v.Flagged, nil
}
