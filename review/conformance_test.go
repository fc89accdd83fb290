package review_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/conform"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
	"github.com/clearance-dev/clearance/webhook"
)

// refEndpoints reaches reference servers on 127.0.0.1 (review.Endpoints).
type refEndpoints struct{ pool []conform.Probe }

func (e refEndpoints) Completer(t review.ChatTarget) (conform.Completer, error) {
	return target.NewOpenAI(target.OpenAIConfig{BaseURL: strings.TrimRight(t.URL, "/"), Model: t.Model, APIKey: string(t.Credentials)})
}
func (e refEndpoints) Probes() ([]conform.Probe, error) { return e.pool, nil }
func (e refEndpoints) Refused(prompt, answer string) bool {
	return score.NewRefusal().Score(context.Background(), score.Input{Kind: suite.KindHarmful, Prompt: prompt, Response: answer}).Label == score.LabelRefusal
}

// keySigner signs conformance statements with a real key.
type keySigner struct{ key *ecdsa.PrivateKey }

func (keySigner) SignDecision(_ context.Context, c review.Case, d review.Decision) ([]byte, error) {
	return []byte(`{"decision":"` + d.ID + `"}`), nil
}
func (s keySigner) SignConformance(_ context.Context, c review.Case, d review.Decision, k review.ConformanceCheck, fp string) ([]byte, error) {
	var res conform.Result
	if err := json.Unmarshal(k.Result, &res); err != nil {
		return nil, err
	}
	return attest.SignConformance(s.key, &attest.Conformance{CaseID: c.ID, DecisionID: d.ID, CheckID: k.ID,
		Fingerprint: map[string]string{"sha256": strings.TrimPrefix(fp, "sha256:")}, Verifier: attest.Verifier{ID: "urn:test"},
		CheckedAt: k.CreatedAt, Model: attest.Model{Name: c.ModelName, RootDigest: map[string]string{"sha256": strings.TrimPrefix(c.ModelDigest, "sha256:")}},
		Same: res.Same})
}

// memLog is an append-only log of entries (review.Publisher).
type memLog struct {
	mu      sync.Mutex
	entries [][]byte
}

func (l *memLog) Publish(_ context.Context, e []byte) (int64, []byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, x := range l.entries {
		if bytes.Equal(x, e) {
			return int64(i), nil, nil
		}
	}
	l.entries = append(l.entries, bytes.Clone(e))
	return int64(len(l.entries) - 1), nil, nil
}

// serveReference serves a built-in reference profile on 127.0.0.1 and
// returns its base URL (…/v1).
func serveReference(t *testing.T, profile string, oracle target.Oracle) string {
	t.Helper()
	p, err := target.BuiltinProfile(profile)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := target.NewReference(p, oracle)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(target.NewReferenceServer(ref, target.ServerOptions{}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// TestConformanceCheck: a fingerprint of the case's endpoint is stored
// sealed (no answer in the stored bytes) and bound by the decision; a
// check of the same endpoint passes, one with another model swapped in
// fails and opens a finding and a case.conformance_failed event; both
// statements are logged and verify under the service's key; a developer
// of another organisation cannot check, and hostile input is refused.
func TestConformanceCheck(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	suites, err := suite.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	seq, _, err := suite.Samples(suites, suite.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var all []suite.Sample
	var pool []conform.Probe
	for s := range seq {
		all = append(all, s)
		if len(s.FollowUps) > 0 || s.Task != nil || s.Kind == suite.KindExploit {
			continue
		}
		msgs := make([]target.Message, len(s.Messages))
		for i, m := range s.Messages {
			msgs[i] = target.Message{Role: m.Role, Content: m.Content}
		}
		pool = append(pool, conform.Probe{ID: s.ID, Kind: s.Kind, Category: s.Category, Messages: msgs})
	}
	oracle := assess.ReferenceOracle(slices.Values(all))
	robust, vulnerable := serveReference(t, "robust", oracle), serveReference(t, "vulnerable", oracle)

	key, err := attest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	lg := &memLog{}
	svc, err := review.New(review.Config{Store: w.store, Sealer: sealer, Evidence: w.evidence, Signer: keySigner{key}, Publisher: lg,
		Endpoints: refEndpoints{pool}, Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.Submit(ctx, w.devA, review.Submission{
		Model:    review.SubmittedModel{Digest: digest, Name: "frontier-x"},
		Dossier:  json.RawMessage(`{ "model": {"training_compute_flop": 3e26} }`),
		Target:   review.SubmittedTarget{URL: robust, Credentials: "sk-secret"},
		Profiles: []string{"us-caisi", "eu-gpai"},
	})
	check(t, "Submit", err, nil)
	c, err = svc.AssignCase(ctx, w.official, c.ID, []string{w.assessor.User.ID, w.reviewer.User.ID})
	check(t, "AssignCase", err, nil)

	_, err = svc.RecordFingerprint(ctx, w.devA, c.ID, review.FingerprintInput{Probes: 10})
	check(t, "RecordFingerprint by the developer", err, review.ErrForbidden)
	_, err = svc.RecordFingerprint(ctx, w.assessor, c.ID, review.FingerprintInput{Probes: -1})
	check(t, "RecordFingerprint probes -1", err, review.ErrInvalidInput)
	fp, err := svc.RecordFingerprint(ctx, w.assessor, c.ID, review.FingerprintInput{Probes: 60})
	check(t, "RecordFingerprint", err, nil)
	if fp.Probes != 120 || fp.Requests != 240 || !strings.HasPrefix(fp.Digest, "sha256:") {
		t.Fatalf("fingerprint %+v", fp)
	}
	stored, err := w.store.ListFingerprints(ctx, c.ID)
	check(t, "ListFingerprints", err, nil)
	if len(stored) != 1 || bytes.Contains(stored[0].Sealed, []byte(`"answers"`)) || bytes.Contains(stored[0].Sealed, []byte(pool[0].Messages[0].Content)) {
		t.Fatalf("stored fingerprint is not sealed: %.200q", stored[0].Sealed)
	}

	w.now = w.now.Add(time.Hour)
	// The id sorts before the service's own, which are time-ordered.
	d := review.Decision{ID: "dec_00_" + c.ID, CaseID: c.ID, OfficialID: w.official.User.ID, Outcomes: json.RawMessage(clearedOutcomes),
		LogIndex: -1, CreatedAt: w.now}
	check(t, "CreateDecision", w.store.CreateDecision(ctx, d), nil)
	w.now = w.now.Add(time.Hour)

	_, err = svc.CheckConformance(ctx, w.devB, d.ID, review.ConformanceInput{})
	check(t, "CheckConformance by another organisation's developer", err, review.ErrNotFound)
	for _, in := range []review.ConformanceInput{
		{TargetURL: "file:///etc/passwd"},
		{TargetURL: "http://user:pw@127.0.0.1/v1"},
		{Model: "x"},
		{TargetURL: robust, Credentials: strings.Repeat("k", 5000)},
	} {
		_, err = svc.CheckConformance(ctx, w.devA, d.ID, in)
		check(t, "CheckConformance hostile "+in.TargetURL, err, review.ErrInvalidInput)
	}

	pass, err := svc.CheckConformance(ctx, w.devA, d.ID, review.ConformanceInput{})
	check(t, "CheckConformance same endpoint", err, nil)
	if !pass.Same || pass.FindingID != "" || pass.FingerprintID != fp.ID || pass.LogIndex < 0 {
		t.Fatalf("check of the same endpoint: %+v", pass)
	}
	fail, err := svc.CheckConformance(ctx, w.reviewer, d.ID, review.ConformanceInput{TargetURL: vulnerable, Model: "frontier-x"})
	check(t, "CheckConformance swapped", err, nil)
	if fail.Same || fail.FindingID == "" || fail.LogIndex < 0 {
		t.Fatalf("check of the swapped endpoint: %+v", fail)
	}
	f, err := w.store.GetFinding(ctx, fail.FindingID)
	check(t, "GetFinding", err, nil)
	if f.CaseID != c.ID || f.Status != review.FindingOpen || f.CreatedBy != "system" {
		t.Errorf("finding %+v", f)
	}
	for _, k := range []review.ConformanceCheck{pass, fail} {
		v, err := attest.VerifyConformance(lg.entries[k.LogIndex], &key.PublicKey)
		check(t, "VerifyConformance of the logged statement", err, nil)
		if v.CheckID != k.ID || v.DecisionID != d.ID || v.Same != k.Same || v.Fingerprint["sha256"] != strings.TrimPrefix(fp.Digest, "sha256:") {
			t.Errorf("statement %+v, want check %s same %v", v, k.ID, k.Same)
		}
	}
	other, _ := attest.GenerateKey()
	if _, err := attest.VerifyConformance(lg.entries[fail.LogIndex], &other.PublicKey); !errors.Is(err, attest.ErrSignature) {
		t.Errorf("VerifyConformance under another key = %v, want ErrSignature", err)
	}
	es, err := w.store.ListAudit(ctx, review.AuditFilter{CaseID: c.ID})
	check(t, "ListAudit", err, nil)
	var events []string
	for _, e := range es {
		if webhook.Matches(nil, e.Action) {
			events = append(events, e.Action)
		}
	}
	if !slices.Contains(events, review.ActionConformanceFailed) {
		t.Errorf("case events %v lack %s", events, review.ActionConformanceFailed)
	}
	fs, ks, err := svc.ListConformance(ctx, w.devA, c.ID)
	check(t, "ListConformance", err, nil)
	if len(fs) != 1 || fs[0].Sealed != nil || len(ks) != 2 {
		t.Errorf("ListConformance = %d fingerprints (sealed %v), %d checks", len(fs), fs[0].Sealed != nil, len(ks))
	}
	_, _, err = svc.ListConformance(ctx, w.devB, c.ID)
	check(t, "ListConformance by another organisation", err, review.ErrNotFound)

	// A scheduled check ends when the case is not decided (the decision
	// was stored directly, the case is still submitted).
	more, err := svc.RunScheduledConformance(ctx, d.ID)
	if err != nil || more {
		t.Errorf("RunScheduledConformance = %v, %v; want false, nil", more, err)
	}

	// Decided through the service, the case's latest decision binds the
	// fingerprint; its scheduled check records a result, marked
	// scheduled, and says go on.
	for _, to := range []review.State{review.StateInAssessment, review.StateUnderReview} {
		_, err := svc.Transition(ctx, w.assessor, c.ID, to, "")
		check(t, "Transition", err, nil)
	}
	d2, err := svc.Decide(ctx, w.official, c.ID, review.DecisionInput{Outcomes: json.RawMessage(clearedOutcomes), Rationale: "r"})
	check(t, "Decide", err, nil)
	if d2.Fingerprint != fp.Digest {
		t.Errorf("decision binds fingerprint %q, want %q", d2.Fingerprint, fp.Digest)
	}
	more, err = svc.RunScheduledConformance(ctx, d2.ID)
	if err != nil || !more {
		t.Fatalf("RunScheduledConformance of the decided case = %v, %v; want true, nil", more, err)
	}
	ks, err = w.store.ListConformanceChecks(ctx, "", d2.ID, review.Page{Limit: 10})
	check(t, "ListConformanceChecks", err, nil)
	if len(ks) != 1 || !ks[0].Scheduled || !ks[0].Same || ks[0].CreatedBy != "system" {
		t.Errorf("scheduled checks of %s = %+v, want one passing, scheduled, by the system", d2.ID, ks)
	}
	// The earlier decision is no longer the case's latest: its checks end.
	if more, err := svc.RunScheduledConformance(ctx, d.ID); err != nil || more {
		t.Errorf("RunScheduledConformance of a superseded decision = %v, %v; want false, nil", more, err)
	}

	// With the agency's canary scanner, an answer that carries a canary
	// opens a contamination finding beside the verdict (here the same
	// model, which passes).
	g := conform.GenericProbes()[0]
	leak := g.Messages[len(g.Messages)-1].Content
	scanning, err := review.New(review.Config{Store: w.store, Sealer: sealer, Evidence: w.evidence, Signer: keySigner{key}, Publisher: lg,
		Endpoints: canaryEndpoints{refEndpoints{pool}, leak}, Now: func() time.Time { return w.now }})
	check(t, "review.New", err, nil)
	k, err := scanning.CheckConformance(ctx, w.devA, d2.ID, review.ConformanceInput{})
	check(t, "CheckConformance with a canary scanner", err, nil)
	if !k.Same || k.FindingID != "" {
		t.Errorf("check with a canary hit: Same %v, finding %q; want the same model and no conformance finding", k.Same, k.FindingID)
	}
	found, err := w.store.ListFindings(ctx, c.ID, review.Page{Limit: 100})
	check(t, "ListFindings", err, nil)
	var hits []review.Finding
	for _, f := range found {
		if strings.HasPrefix(f.Title, "Contamination signal") {
			hits = append(hits, f)
		}
	}
	if len(hits) != 1 || hits[0].CreatedBy != "system" || !strings.Contains(hits[0].Description, k.ID) || !strings.Contains(hits[0].Description, "1 of the fingerprint's") {
		t.Errorf("contamination findings %+v, want one by the system about check %s and 1 probe", hits, k.ID)
	}

	// Asked to, a fingerprint records the answers' token log-probabilities
	// (the reference server offers synthetic ones); the sealed record
	// holds them.
	lp, err := svc.RecordFingerprint(ctx, w.assessor, c.ID, review.FingerprintInput{Probes: 20, LogProbs: true})
	check(t, "RecordFingerprint with log-probabilities", err, nil)
	stored, err = w.store.ListFingerprints(ctx, c.ID)
	check(t, "ListFingerprints", err, nil)
	for _, f := range stored {
		if f.ID != lp.ID {
			continue
		}
		plain, err := sealer.Open(f.Sealed)
		check(t, "open the fingerprint", err, nil)
		if !bytes.Contains(plain, []byte(`"mean_logprobs"`)) {
			t.Errorf("fingerprint recorded with LogProbs holds no mean_logprobs: %.200q", plain)
		}
	}
}

// canaryEndpoints flag every answer to the prompt that holds leak, as a
// canary scanner would an answer carrying a private canary.
type canaryEndpoints struct {
	refEndpoints
	leak string
}

func (e canaryEndpoints) Contaminated(prompt, answer string) bool {
	return strings.Contains(prompt, e.leak) && answer != ""
}
