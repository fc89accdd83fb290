package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/conform"
	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
)

// defaultConformEvery is serve's --conform-every: each cleared decision
// whose case has an endpoint fingerprint is checked daily.
const defaultConformEvery = 24 * time.Hour

// SignConformance implements review.ConformanceSigner: the statement is
// signed by the decision key, its subject the case's model.
func (s *decisionSigner) SignConformance(ctx context.Context, c review.Case, d review.Decision, k review.ConformanceCheck, fingerprint string) ([]byte, error) {
	var res conform.Result
	if err := json.Unmarshal(k.Result, &res); err != nil {
		return nil, fmt.Errorf("sign conformance %s: %w", k.ID, err)
	}
	st := &attest.Conformance{CaseID: c.ID, DecisionID: d.ID, CheckID: k.ID,
		Fingerprint: map[string]string{"sha256": strings.TrimPrefix(fingerprint, "sha256:")},
		Verifier:    attest.Verifier{ID: s.id, Version: map[string]string{"clearance": clearanceVersion()}},
		CheckedAt:   k.CreatedAt, Model: attest.Model{Name: cmp.Or(c.ModelName, "model"),
			RootDigest: map[string]string{"sha256": strings.TrimPrefix(c.ModelDigest, "sha256:")}},
		Same: res.Same, Scheduled: k.Scheduled, Alpha: res.Alpha, Probes: res.Probes, Requests: res.Requests}
	if d.Bundle != nil {
		st.Decision = attest.DigestOf(d.Bundle)
	}
	for _, t := range res.Tests {
		st.Tests = append(st.Tests, attest.ConformanceTest{Name: t.Name, Level: t.Level, PValue: t.PValue, Rejected: t.Rejected})
	}
	return attest.SignConformance(s.key, st)
}

// conformEndpoints is the service's review.Endpoints: OpenAI-compatible
// clients through the target egress policy, the built-in chat suites'
// single-turn prompts as the probe pool, and the structural refusal
// scorer as the refusal classifier.
type conformEndpoints struct {
	hc *http.Client

	once sync.Once
	pool []conform.Probe
	err  error
}

// newConformEndpoints reaches endpoints through p; with the agency's
// private seed (nil: none) its checks also scan answers for the seed's
// canaries (review.CanaryScanner).
func newConformEndpoints(p egress.Policy, seed *suite.PrivateSeed) review.Endpoints {
	e := &conformEndpoints{hc: p.Client(0)}
	if seed == nil {
		return e
	}
	return canaryEndpoints{conformEndpoints: e, d: suite.NewCanaryDetector(*seed)}
}

// canaryEndpoints are conformEndpoints that scan for the agency's canaries.
type canaryEndpoints struct {
	*conformEndpoints
	d *suite.CanaryDetector
}

func (c canaryEndpoints) Contaminated(prompt, answer string) bool {
	return len(c.d.Contamination(prompt, answer)) > 0
}

func (e *conformEndpoints) Completer(t review.ChatTarget) (conform.Completer, error) {
	base := strings.TrimRight(t.URL, "/")
	if !strings.HasSuffix(base, "/v1") {
		base += "/v1"
	}
	c, err := target.NewOpenAI(target.OpenAIConfig{BaseURL: base, Model: t.Model, APIKey: strings.TrimSpace(string(t.Credentials)),
		Timeout: 2 * time.Minute, HTTPClient: e.hc})
	if err != nil {
		return nil, fmt.Errorf("endpoint: %v", err)
	}
	return quietCompleter{c}, nil
}

func (e *conformEndpoints) Probes() ([]conform.Probe, error) {
	e.once.Do(func() { e.pool, _, e.err = conformPool() })
	return e.pool, e.err
}

func (e *conformEndpoints) Refused(prompt, answer string) bool { return refusedAnswer(prompt, answer) }

// quietCompleter reports a failed request by its kind and HTTP status
// only: the endpoint's own text (or an egress refusal's address) is not
// the caller's to read.
type quietCompleter struct{ conform.Completer }

func (q quietCompleter) Complete(ctx context.Context, req target.Request) (target.Response, error) {
	resp, err := q.Completer.Complete(ctx, req)
	if err == nil {
		return resp, nil
	}
	te := target.AsError(err)
	out := &target.Error{Kind: te.Kind, Status: te.Status, RetryAfter: te.RetryAfter, Msg: "the endpoint request failed"}
	if errors.Is(err, egress.ErrRefusedAddress) || errors.Is(err, egress.ErrRedirect) {
		out.Kind, out.Msg = target.KindRefused, "the endpoint's address is not one the service may reach (egress policy)"
	} else if te.Status != 0 {
		out.Msg = fmt.Sprintf("the endpoint answered HTTP %d", te.Status)
	}
	return resp, out
}

func (l *lateScheduler) ScheduleConformance(ctx context.Context, decisionID string) error {
	if l.q == nil {
		return errors.New("job queue not open")
	}
	if l.conformEvery <= 0 {
		return nil
	}
	_, err := l.q.ScheduleConformance(ctx, decisionID, l.conformEvery)
	return err
}

// EnqueueFingerprint implements review.FingerprintQueue: a fingerprint
// is recorded by a conform_fingerprint job, not in the HTTP request.
func (l *lateScheduler) EnqueueFingerprint(ctx context.Context, fingerprintID string) error {
	if l.q == nil {
		return errors.New("job queue not open")
	}
	_, err := l.q.EnqueueFingerprint(ctx, fingerprintID)
	return err
}

// conformServiceFlags are the flags of `clearance conform --decision`.
type conformServiceFlags struct {
	decision, server, token   string
	targetURL, model, credEnv string
}

func (f *conformServiceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.decision, "decision", "", "check this cleared decision through the review service (with --server)")
	fs.StringVar(&f.server, "server", "", "review service base URL (with --decision)")
	fs.StringVar(&f.token, "token", "", "API token (default: CLEARANCE_TOKEN)")
	fs.StringVar(&f.targetURL, "target-url", "", "with --decision: check this endpoint instead of the case's (OpenAI-compatible base URL)")
	fs.StringVar(&f.model, "target-model", "", "with --target-url: the model name sent (default: the case's)")
	fs.StringVar(&f.credEnv, "credentials-env", "", "with --target-url: environment variable holding the endpoint's API key")
}

// runConformService has the review service check a decision's endpoint
// (POST /api/v1/decisions/{id}/conformance) and prints the result: exit
// 0 same model, 40 not the same, 1 when the check could not run.
func runConformService(ctx context.Context, e *env, f conformServiceFlags, format string) error {
	c, err := newAPIClient(e, f.server, f.token)
	if err != nil {
		return err
	}
	if (f.model != "" || f.credEnv != "") && f.targetURL == "" {
		return usageError("conform: --target-model and --credentials-env go with --target-url")
	}
	in := review.ConformanceInput{TargetURL: f.targetURL, Model: f.model}
	if f.credEnv != "" {
		if in.Credentials = e.getenv(f.credEnv); in.Credentials == "" {
			return usageError("conform: --credentials-env %s: the variable is empty", f.credEnv)
		}
	}
	// A check sends a few hundred requests: the service answers when
	// they are done.
	c.hc.Timeout = 30 * time.Minute
	var out struct {
		ID         string          `json:"id"`
		DecisionID string          `json:"decision_id"`
		Same       bool            `json:"same"`
		Result     json.RawMessage `json:"result"`
		LogIndex   int64           `json:"log_index"`
		FindingID  string          `json:"finding_id"`
	}
	if err := c.do(ctx, "POST", "/api/v1/decisions/"+url.PathEscape(f.decision)+"/conformance", in, nil, &out); err != nil {
		return fmt.Errorf("conform: %w", err)
	}
	var res conform.Result
	if err := json.Unmarshal(out.Result, &res); err != nil {
		return fmt.Errorf("conform: check %s: read result: %w", out.ID, err)
	}
	if format == "json" {
		if err := json.NewEncoder(e.stdout).Encode(map[string]any{"check": out.ID, "decision": out.DecisionID, "same": out.Same,
			"finding": out.FindingID, "result": out.Result}); err != nil {
			return err
		}
	} else {
		if err := printConform(e.stdout, "text", &res); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "  check %s of decision %s", out.ID, out.DecisionID)
		if out.FindingID != "" {
			fmt.Fprintf(e.stdout, "; finding %s opened", out.FindingID)
		}
		fmt.Fprintln(e.stdout)
	}
	if !out.Same {
		return &exitError{code: exitNotSame}
	}
	return nil
}
