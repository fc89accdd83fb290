package main

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/sandbox"
	"github.com/clearance-dev/clearance/store/postgres"
	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/web"
	"github.com/clearance-dev/clearance/web/ui"
	"github.com/clearance-dev/clearance/webhook"
	"github.com/clearance-dev/clearance/work"
)

// stackOptions choose the parts of the service a command runs.
type stackOptions struct {
	// workers is the number of assessment shards this process works at
	// once; 0 makes the job queue insert-only.
	workers int
	// owner: this process owns the transparency log and the decision key
	// (clearance serve); workers neither sign nor log.
	owner bool
	// shardSize and skipJudge plan assessments.
	shardSize int
	// concurrency caps the requests in flight to one target, shared by
	// every shard and worker (0: adaptive, up to 128).
	concurrency int
	// calibration is the runner's calibration batch size (0: the default).
	calibration int
	// shardTimeout bounds one attempt of a shard; a dead worker's shard
	// is taken up again a minute (rescueMargin) after it (0: 30 minutes).
	shardTimeout, rescueMargin time.Duration
	// targetEgress and webhookEgress decide which addresses model
	// endpoints and webhook receivers may be on; the zero Policy allows
	// public addresses only.
	targetEgress, webhookEgress egress.Policy
	// quota bounds what each developer organisation stores (zero:
	// unlimited).
	quota review.Quota
	// judge is the agency's default judge; nil: none.
	judge *work.JudgeConfig
	// sandbox is the backend of cyber-exploit episodes ("": bwrap),
	// checked when workers > 0.
	sandbox string
	// logWitnesses configures the witnesses of the log (owner only; zero:
	// none): Witnesses, WitnessThreshold and WitnessFailOpen are used.
	logWitnesses tlog.Options
	// conformEvery is the period of scheduled conformance checks (serve
	// --conform-every; 0: none).
	conformEvery time.Duration
}

// ensureLog creates the service's transparency log in DATA/log unless it
// exists, and returns its verifier key.
func (sf *serviceFlags) ensureLog(ctx context.Context) (string, error) {
	dir := filepath.Join(sf.data, "log")
	if _, err := os.Stat(filepath.Join(dir, tlog.VerifierKeyFile)); err != nil {
		if _, err := tlog.Init(ctx, dir, "clearance/"+filepath.Base(sf.absData())); err != nil {
			return "", err
		}
	}
	return tlog.ReadVerifierKey(filepath.Join(dir, tlog.VerifierKeyFile))
}

// stack is the review service with its store, job queue, signer and log.
type stack struct {
	store   review.Store
	svc     *review.Service
	queue   *work.Queue
	runner  *work.Runner
	log     *tlog.Log
	logDir  string
	dataDir string
	keyPath string // decision public key (PEM), when owner
	// agencies are the agencies' decision keys (owner only).
	agencies *agencyKeys
	// witnesses cosign the log's checkpoints (owner only).
	witnesses []tlog.WitnessConfig
	hooks     *webhook.Dispatcher
	web       *web.Server // set by httpServer
	// sandbox runs this process's cyber-exploit episodes; nil when its
	// backend is unavailable (or the process has no workers).
	sandbox *sandbox.Runner
	closers []func(context.Context)

	// secureCookies marks the web UI's cookies Secure, __Host- (serve
	// --public-url https://…, --secure-cookies).
	secureCookies bool
}

// Close stops the queue (waiting for running shards briefly) and closes
// the log and the store.
func (s *stack) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i](ctx)
	}
}

// lateScheduler lets the service be built before the queue it schedules
// on; the queue needs the service as its Expirer and shard runner.
type lateScheduler struct {
	q *work.Queue
	// conformEvery is the period of each cleared decision's conformance
	// checks (0: none scheduled).
	conformEvery time.Duration
}

func (l *lateScheduler) ScheduleExpiry(ctx context.Context, caseID string, due time.Time) error {
	if l.q == nil {
		return errors.New("job queue not open")
	}
	_, err := l.q.ScheduleExpiry(ctx, caseID, due)
	return err
}

func (l *lateScheduler) EnqueueAssessment(ctx context.Context, a review.Assessment) error {
	if l.q == nil {
		return errors.New("job queue not open")
	}
	return l.q.EnqueueAssessment(ctx, a)
}

// openStack opens the store, the service and the job queue the flags
// name, and (owner) the decision key and the transparency log.
func (sf *serviceFlags) openStack(ctx context.Context, e *env, opts stackOptions) (_ *stack, err error) {
	st := &stack{logDir: filepath.Join(sf.data, "log"), dataDir: sf.data}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	store, closeStore, err := sf.openStore(ctx)
	if err != nil {
		return nil, err
	}
	st.store = store
	st.closers = append(st.closers, func(context.Context) { closeStore() })
	sealer, err := sf.sealer()
	if err != nil {
		return nil, err
	}
	privSeed, err := stackPrivateSeed(sf.data, opts.owner)
	if err != nil {
		return nil, err
	}
	sched := &lateScheduler{conformEvery: opts.conformEvery}
	redteam, err := work.NewRedTeamJudged(opts.targetEgress, opts.judge)
	if err != nil {
		return nil, err
	}
	cfg := review.Config{
		Store: store, Sealer: sealer, Evidence: policyEvidence{store: store, now: e.now}, Clocks: policyClocks{}, Concurrence: policyConcurrence{},
		Planner:   &work.Planner{ShardSize: opts.shardSize, SkipJudge: true, Judge: opts.judge, ProfilePlan: profilePlan(e), PrivateSeed: privSeed},
		Scheduler: sched, Now: e.now, Logger: e.log, Quota: opts.quota,
		Authorities: sf.authorities(e),
		RedTeam:     redteam,
		Endpoints:   newConformEndpoints(opts.targetEgress, privSeed),
	}
	if opts.owner {
		key, pubPath, err := sf.decisionKey()
		if err != nil {
			return nil, err
		}
		st.keyPath = pubPath
		st.agencies = newAgencyKeys(sf.data, key, store, e.log)
		cfg.Signer = &decisionSigner{key: key, agencies: st.agencies, store: store, now: e.now, id: "urn:clearance:service:" + filepath.Base(sf.absData())}
		if _, err := sf.ensureLog(ctx); err != nil {
			return nil, err
		}
		st.witnesses = opts.logWitnesses.Witnesses
		l, err := tlog.Open(ctx, st.logDir, tlog.Options{Witnesses: opts.logWitnesses.Witnesses,
			WitnessThreshold: opts.logWitnesses.WitnessThreshold, WitnessFailOpen: opts.logWitnesses.WitnessFailOpen})
		if err != nil {
			return nil, err
		}
		st.log = l
		st.closers = append(st.closers, func(ctx context.Context) { _ = l.Close(ctx) })
		cfg.Publisher = logPublisher{l: l}
	}
	if st.svc, err = review.New(cfg); err != nil {
		return nil, err
	}
	// Shards run in memory; earlier versions kept them in DATA/tmp in
	// plaintext, where a crash left them.
	if n, err := work.RemoveShardDirs(filepath.Join(sf.data, "tmp")); err != nil {
		return nil, err
	} else if n > 0 {
		e.log.Info("removed shard directories left by a crash", "dir", filepath.Join(sf.data, "tmp"), "removed", n)
	}
	wc := work.Config{Workers: opts.workers, Expirer: st.svc, Logger: e.log, Now: e.now}
	if opts.workers > 0 {
		sb, noSandbox := openSandbox(ctx, e, opts.sandbox)
		st.sandbox = sb
		_, shared := store.(*postgres.DB)
		// Every shard of every worker on this database shares one
		// adaptive limit per target (--concurrency caps it).
		limits, err := work.NewTargetLimits(work.TargetLimitsConfig{Store: store, Max: opts.concurrency, Logger: e.log})
		if err != nil {
			return nil, err
		}
		st.runner, err = work.NewRunner(work.RunnerConfig{Service: st.svc, Sandbox: sb, NoSandbox: noSandbox, OnlyWorker: !shared,
			Limits: limits, Concurrency: opts.concurrency, Calibration: opts.calibration, Egress: opts.targetEgress, Judge: opts.judge, Logger: e.log, Now: e.now, Version: clearanceVersion(), PrivateSeed: privSeed})
		if err != nil {
			return nil, err
		}
		wc.RunShard = st.runner.RunShard
		hc := opts.webhookEgress.Client(0)
		d, err := webhook.NewDeliverer(webhook.DelivererConfig{Store: store, Sealer: sealer, Client: hc, Now: e.now, Logger: e.log})
		if err != nil {
			return nil, err
		}
		wc.Deliver = d.Deliver
		// Shards are minutes of work: a dead worker's shard is taken up
		// again after ShardTimeout plus the margin.
		wc.ShardTimeout, wc.RescueMargin = cmp.Or(opts.shardTimeout, 30*time.Minute), cmp.Or(opts.rescueMargin, time.Minute)
		wc.PollInterval = time.Second
		wc.Backoff = func(attempt int) time.Duration { return time.Duration(min(attempt*attempt, 60)) * time.Second }
	}
	if pg, ok := store.(*postgres.DB); ok {
		wc.PGPool = pg.Pool()
	} else {
		// The embedded job database is this process's alone (work holds
		// a lock on it): shards a crashed predecessor left running are
		// re-queued at start, not after --shard-timeout + --rescue-after.
		wc.SQLitePath, wc.Exclusive = filepath.Join(sf.data, "jobs.db"), true
		// No other process uses it, and every job this process inserts,
		// schedules or retries wakes its workers at once (work's SQLite
		// driver carries River's notifications in the process): the poll
		// is only a fallback, and polling seldom keeps an idle service idle.
		if wc.PollInterval > 0 {
			wc.PollInterval = time.Minute
			// And with nothing to do for a while, River's client stops
			// until a job is inserted or due (work.Config.IdleAfter).
			wc.IdleAfter = 15 * time.Second
		}
	}
	if st.queue, err = work.Open(ctx, wc); err != nil {
		return nil, err
	}
	sched.q = st.queue
	if opts.owner {
		if st.hooks, err = webhook.NewDispatcher(webhook.DispatcherConfig{Store: store, Enqueue: st.queue.EnqueueDelivery,
			Outstanding: st.queue.OutstandingDeliveries, Now: e.now, Logger: e.log}); err != nil {
			return nil, err
		}
	}
	st.closers = append(st.closers, func(ctx context.Context) { _ = st.queue.Close(ctx) })
	return st, nil
}

// start starts the workers (if any) and hands the scheduler the work the
// store says is due (Reconcile).
func (s *stack) start(ctx context.Context, workers bool) error {
	if workers {
		if err := s.queue.Start(ctx); err != nil {
			return err
		}
	}
	return s.svc.Reconcile(ctx)
}

func (sf *serviceFlags) absData() string {
	if p, err := filepath.Abs(sf.data); err == nil {
		return p
	}
	return sf.data
}

// decisionKey returns the service's decision signing key, DATA/decision.key
// (made on first use, mode 0600), and the path of its public key.
func (sf *serviceFlags) decisionKey() (*ecdsa.PrivateKey, string, error) {
	prefix := filepath.Join(sf.data, "decision")
	b, err := os.ReadFile(prefix + ".key")
	if errors.Is(err, os.ErrNotExist) {
		key, err := attest.GenerateKey()
		if err != nil {
			return nil, "", err
		}
		if err := attest.WriteKeyFiles(prefix, key, nil); err != nil {
			return nil, "", err
		}
		return key, prefix + ".pub", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read decision key: %w", err)
	}
	key, err := attest.ParsePrivateKey(b, nil)
	if err != nil {
		return nil, "", fmt.Errorf("decision key %s: %w", prefix+".key", err)
	}
	return key, prefix + ".pub", nil
}

// logPublisher logs entries once each (review.Publisher).
type logPublisher struct{ l *tlog.Log }

func (p logPublisher) Publish(ctx context.Context, entry []byte) (int64, []byte, error) {
	r, err := p.l.AppendOnce(ctx, entry)
	if err != nil {
		return 0, nil, err
	}
	b, err := r.Marshal()
	if err != nil {
		return 0, nil, err
	}
	return int64(r.Index), b, nil
}

// decisionSigner signs case decisions as Sigstore bundles bound to the
// submitted OMS root digest (review.Signer).
type decisionSigner struct {
	key *ecdsa.PrivateKey
	// agencies sign the decisions of joint reviews (nil: none are
	// co-signed).
	agencies *agencyKeys
	store    review.Store
	now      func() time.Time
	id       string
}

// SignDecision implements review.Signer. Each profile's outcome must be
// one of attest's outcomes; an unknown one is invalid input.
func (s *decisionSigner) SignDecision(ctx context.Context, c review.Case, d review.Decision) ([]byte, error) {
	outs, err := parseOutcomes(d.Outcomes)
	if err != nil {
		return nil, err
	}
	profs, err := loadProfiles(c.Profiles)
	if err != nil {
		return nil, err
	}
	ad := &attest.Decision{
		CaseID: c.ID, DecisionID: d.ID, Outcome: attest.OutcomeNotApplicable, DecidedAt: d.CreatedAt.UTC().Truncate(time.Second),
		Verifier: attest.Verifier{ID: s.id, Version: map[string]string{"clearance": clearanceVersion()}},
		Model:    attest.Model{Name: cmp.Or(c.ModelName, "model")},
	}
	for _, p := range profs {
		o := outs[p.ID]
		// The bundle is logged publicly: the official's rationale (which
		// may discuss findings) stays in the case record, bound to the
		// log through the audit trail's anchors, not in the bundle.
		po := attest.ProfileOutcome{ID: p.ID, Version: p.Version, Outcome: o.Outcome,
			Conditions: o.Conditions, Digest: map[string]string{"sha256": strings.TrimPrefix(p.Digest(), "sha256:")}}
		ad.Profiles = append(ad.Profiles, po)
		if outcomeRank[o.Outcome] > outcomeRank[ad.Outcome] {
			ad.Outcome = o.Outcome
		}
	}
	ds := sha256.Sum256(c.Dossier)
	ad.Evidence = append(ad.Evidence, attest.Evidence{Name: "dossier", MediaType: "application/json", Digest: map[string]string{"sha256": hex.EncodeToString(ds[:])}})
	as, err := doneAssessments(ctx, s.store, c.ID)
	if err != nil {
		return nil, err
	}
	ad.Variants = d.Variants
	if d.Fingerprint != "" {
		ad.EndpointFingerprint = map[string]string{"sha256": strings.TrimPrefix(d.Fingerprint, "sha256:")}
	}
	// A reference assessment's metrics are evidence for the profiles'
	// relative criteria, not a measurement of this model: the entry names
	// the reference and carries no variant (Decision.Variants are the
	// model's).
	refs, err := caseReferences(ctx, s.store, c.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		ms := sha256.Sum256(a.Metrics)
		e := attest.Evidence{Name: "assessment " + a.ID + " metrics", MediaType: "application/json",
			Digest: map[string]string{"sha256": hex.EncodeToString(ms[:])}}
		if r, ok := refs[a.ID]; ok {
			e.Reference = r.Name
		} else {
			v := a.Variant()
			e.Variant, e.Scaffold = v.Label(), v.Scaffold
		}
		ad.Evidence = append(ad.Evidence, e)
	}
	root := strings.TrimPrefix(c.ModelDigest, "sha256:")
	if len(c.Agencies) > 0 && s.agencies != nil {
		// A joint review: one statement, signed by the lead agency's key
		// and then by each other signing agency's (the DSSE keyids name
		// the keys; the predicate is unchanged).
		keys, err := s.agencies.signingKeys(ctx, c, d)
		if err != nil {
			return nil, err
		}
		return attest.CoSignDecisionDigest(keys, ad, root)
	}
	return attest.SignDecisionDigest(s.key, ad, root)
}

// decisionOutcome is one profile's outcome in a decision: an outcome
// name, or {"outcome": name, "conditions": [...]}, each condition a text
// or {"text": …, "due": RFC 3339 or YYYY-MM-DD}.
type decisionOutcome struct {
	Outcome    attest.Outcome
	Conditions []attest.Condition // only those with a due date: the signed predicate needs one
}

// parseOutcomes reads a decision's outcomes.
func parseOutcomes(raw json.RawMessage) (map[string]decisionOutcome, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("outcomes: %v: %w", err, review.ErrInvalidInput)
	}
	out := map[string]decisionOutcome{}
	for k, v := range m {
		var obj struct {
			Outcome    string            `json:"outcome"`
			Conditions []json.RawMessage `json:"conditions"`
		}
		if err := json.Unmarshal(v, &obj.Outcome); err != nil {
			if err := json.Unmarshal(v, &obj); err != nil {
				return nil, fmt.Errorf("outcomes: %s: want an outcome name or {\"outcome\": name}: %w", k, review.ErrInvalidInput)
			}
		}
		o := decisionOutcome{Outcome: attest.Outcome(obj.Outcome)}
		if !o.Outcome.Valid() {
			return nil, fmt.Errorf("outcomes: %s: %q is not an outcome (cleared, cleared_with_conditions, hold, refused, window_expired, not_applicable): %w", k, obj.Outcome, review.ErrInvalidInput)
		}
		for i, c := range obj.Conditions {
			var text string
			var full struct{ Text, Due string }
			if json.Unmarshal(c, &text) != nil {
				if err := json.Unmarshal(c, &full); err != nil {
					return nil, fmt.Errorf("outcomes: %s: conditions[%d]: want a text or {\"text\", \"due\"}: %w", k, i, review.ErrInvalidInput)
				}
				text = full.Text
			}
			due, ok := parseDue(full.Due)
			if text == "" || !ok {
				continue
			}
			o.Conditions = append(o.Conditions, attest.Condition{ID: fmt.Sprintf("c%d", i+1), Text: text, DueAt: due})
		}
		out[k] = o
	}
	return out, nil
}

// parseDue reads an RFC 3339 time or a date.
func parseDue(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// doneAssessments lists a case's finished assessments, oldest first.
func doneAssessments(ctx context.Context, st review.Store, caseID string) ([]review.Assessment, error) {
	var out []review.Assessment
	p := review.Page{Limit: review.MaxPageLimit}
	for {
		as, err := st.ListAssessments(ctx, caseID, p)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			if a.State == review.AssessmentDone && len(a.Metrics) > 0 {
				out = append(out, a)
			}
		}
		if len(as) < p.N() {
			return out, nil
		}
		p.After = as[len(as)-1].ID
	}
}

// caseEvidence is the policy engine's evidence for a case: its dossier
// and the metrics of its finished assessments (a later assessment's
// metric replaces an earlier one's).
func caseEvidence(ctx context.Context, st review.Store, c review.Case, now time.Time) (*policy.Evidence, error) {
	ev, err := policy.LoadEvidence("case "+c.ID+" dossier", c.Dossier)
	if err != nil {
		return nil, err
	}
	asOf := ev.AsOf
	if asOf.IsZero() {
		asOf = now.UTC()
	}
	as, err := doneAssessments(ctx, st, c.ID)
	if err != nil {
		return nil, err
	}
	rt, err := redteamEvidence(ctx, st, c.ID)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		ev.AsOf, ev.RedTeam = asOf, rt
		ev.Recognised, err = recognisedEvidence(ctx, st, c.ID)
		return ev, err
	}
	// Reference assessments measured other models: they are not evidence
	// about this one, but the cohort (references['name'] in CEL) is.
	refs, err := caseReferences(ctx, st, c.ID)
	if err != nil {
		return nil, err
	}
	metrics := map[string]policy.MetricValue{}
	for _, a := range as {
		if _, ok := refs[a.ID]; ok {
			continue
		}
		var m assess.Metrics
		if err := json.Unmarshal(a.Metrics, &m); err != nil {
			return nil, fmt.Errorf("metrics of assessment %s: %w", a.ID, err)
		}
		for k, v := range withVariant(metricValues(m), a.Variant()) {
			metrics[k] = v
		}
	}
	id := ev.Identity
	if id.Name == "" {
		id.Name = cmp.Or(ev.Model.Name, c.ModelName)
	}
	if id.Digest == "" {
		id.Digest = c.ModelDigest
	}
	out := policy.EvidenceFromMetrics(&ev.Dossier, ev.Known, id, metrics, asOf)
	if out.References, err = cohortEvidence(as, refs); err != nil {
		return nil, err
	}
	out.RedTeam = rt
	out.Recognised, err = recognisedEvidence(ctx, st, c.ID)
	return out, err
}

// policyEvidence tells the review service which evidence a case's profiles
// still require: every evaluation, artifact or safeguard criterion that is
// missing or too small under an applicable profile, given the dossier and
// the case's finished assessments. A decision without it needs a recorded
// override.
type policyEvidence struct {
	store review.Store
	now   func() time.Time
}

func (p policyEvidence) MissingEvidence(ctx context.Context, c review.Case) ([]string, error) {
	d, err := evaluateCase(ctx, p.store, c, p.now())
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, r := range d.Results {
		if !r.Applicable {
			continue
		}
		for _, cr := range r.FailedCriteria {
			if cr.Status == "missing" || cr.Status == "insufficient" {
				missing = append(missing, r.Profile+"/"+cr.ID)
			}
		}
	}
	return missing, nil
}

// CheckOutcomes implements review.OutcomeChecker: an official cannot
// clear a profile whose applicability or tier turns on facts the case's
// dossier does not declare (the facts are named in the error).
func (p policyEvidence) CheckOutcomes(ctx context.Context, c review.Case, outcomes json.RawMessage) error {
	outs, err := parseOutcomes(outcomes)
	if err != nil {
		return err
	}
	d, err := evaluateCase(ctx, p.store, c, p.now())
	if err != nil {
		return err
	}
	for _, r := range d.Results {
		o, ok := outs[r.Profile]
		if !ok {
			continue
		}
		if err := r.CheckClearable(policy.Outcome(o.Outcome)); err != nil {
			return fmt.Errorf("outcomes: %s: %v; declare them in the dossier first: %w", r.Profile, err, review.ErrInvalidInput)
		}
	}
	return nil
}

// evaluateCase judges a case's evidence under its profiles: the regime
// comparison the UI shows.
func evaluateCase(ctx context.Context, st review.Store, c review.Case, now time.Time) (*policy.Decision, error) {
	ev, err := caseEvidence(ctx, st, c, now)
	if err != nil {
		return nil, err
	}
	profs, err := loadProfiles(c.Profiles)
	if err != nil {
		return nil, err
	}
	return policy.Decide(ev, profs...)
}

// policyClocks gives a case the review clock of its profiles: the
// shortest clock that starts when the model is shared with the reviewer.
// Its expiry deems the outcome window_expired.
type policyClocks struct{}

// clockStarts are the profile events that submitting a case stands for.
var clockStarts = []string{"model_shared", "submitted"}

func (policyClocks) ClockFor(ids []string) (*review.ClockSpec, error) {
	profs, err := loadProfiles(ids)
	if err != nil {
		return nil, err
	}
	var best *review.ClockSpec
	for _, p := range profs {
		for _, k := range p.Clocks {
			if !slices.Contains(clockStarts, k.Start) {
				continue
			}
			n := k.Length.Literal
			if k.Length.Name != "" {
				c, ok := p.Constants[k.Length.Name]
				if !ok {
					continue
				}
				f, ok := c.Value.(float64)
				if !ok {
					continue
				}
				n = f
			}
			unit := review.Unit(cmp.Or(k.Unit, policy.CalendarDays))
			spec := &review.ClockSpec{Unit: unit, Length: int(math.Ceil(n)), OnExpiry: string(attest.OutcomeWindowExpired)}
			if spec.Validate() != nil {
				continue
			}
			if best == nil || (spec.Unit == best.Unit && spec.Length < best.Length) {
				best = spec
			}
		}
	}
	return best, nil
}

// profilePlan returns the suites and sample sizes a case's profiles
// require of its dossier (policy.MakePlan).
func profilePlan(e *env) func(ctx context.Context, c review.Case) ([]work.SpecSuite, error) {
	return func(ctx context.Context, c review.Case) ([]work.SpecSuite, error) {
		ev, err := policy.LoadEvidence("case "+c.ID+" dossier", c.Dossier)
		if err != nil {
			return nil, err
		}
		if ev.AsOf.IsZero() {
			ev.AsOf = e.now().UTC()
		}
		profs, err := loadProfiles(c.Profiles)
		if err != nil {
			return nil, err
		}
		p, err := policy.MakePlan(ev, profs...)
		if err != nil {
			return nil, err
		}
		var out []work.SpecSuite
		for _, sp := range p.Suites {
			out = append(out, work.SpecSuite{Name: sp.Suite, Limit: sp.Limit, PerKind: true})
		}
		return out, nil
	}
}

// uiHandler builds the web pages over the service. The session key is
// DATA/session.key (32 random bytes, made on first use, mode 0600), so
// sessions survive a restart.
func (s *stack) uiHandler(e *env) (*ui.Handler, error) {
	p := filepath.Join(s.dataDir, "session.key")
	key, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(key) != ui.SessionKeySize) {
		key = make([]byte, ui.SessionKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, key, 0o600); err != nil {
			return nil, fmt.Errorf("write session key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read session key: %w", err)
	}
	var decider []byte
	if s.keyPath != "" {
		if decider, err = os.ReadFile(s.keyPath); err != nil {
			return nil, err
		}
	}
	var agencyKeys func(context.Context) ([]ui.AgencyKey, error)
	if s.agencies != nil {
		agencyKeys = s.agencies.published
	}
	return ui.New(ui.Config{
		Service: s.svc,
		Evaluate: func(ctx context.Context, c review.Case) (*policy.Decision, error) {
			return evaluateCase(ctx, s.store, c, e.now())
		},
		LogDir: s.logDir, Witnesses: s.witnesses, DeciderKey: decider, AgencyKeys: agencyKeys, SessionKey: key, Secure: s.secureCookies, Logger: e.log, Now: e.now,
	})
}
