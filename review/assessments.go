package review

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Planner turns a request for an assessment of a case into its fixed
// spec (what is run) and the number of shards it is split into. It is
// called before the assessment is stored; package work provides one.
type Planner interface {
	PlanAssessment(ctx context.Context, c Case, in AssessmentInput) (spec json.RawMessage, shards int, err error)
}

// Scheduler starts background work once the change that calls for it is
// committed. Work lost to a crash between the commit and the scheduling
// is found again by Service.Reconcile, so a Scheduler must accept the
// same work twice (scheduling it once).
type Scheduler interface {
	// ScheduleExpiry schedules the expiry check of a case's clock at due.
	ScheduleExpiry(ctx context.Context, caseID string, due time.Time) error
	// EnqueueAssessment queues every shard of an assessment.
	EnqueueAssessment(ctx context.Context, a Assessment) error
}

// AssessmentInput asks for an assessment. Zero fields mean the sampling
// plan the case's profiles require (for the dossier as submitted).
type AssessmentInput struct {
	// Suites, if set, run these suites instead of the profiles' plan.
	Suites []string `json:"suites,omitempty"`
	// Limit caps the samples per suite (0: the plan's or all).
	Limit int `json:"limit,omitempty"`
	// Seed draws the samples (0: 1).
	Seed int64 `json:"seed,omitempty"`
	// Judge, if set, is the LLM judge that scores attack success (harm)
	// instead of the agency's default judge or the offline harm scorer.
	Judge *JudgeInput `json:"judge,omitempty"`
	// Variant is the variant of the model tested (Variants; empty:
	// production), Checkpoint names the checkpoint of variant
	// "checkpoint", and Scaffold is the scaffold's version (free text);
	// all three are recorded in the assessment's Spec (see Variant).
	Variant    string `json:"variant,omitempty"`
	Checkpoint string `json:"checkpoint,omitempty"`
	Scaffold   string `json:"scaffold,omitempty"`
	// Reference, if set, makes this a reference assessment: the same
	// plan and seed run against a reference model (references.go).
	Reference *ReferenceInput `json:"reference,omitempty"`
	// Private, if set, also runs each suite's private form under the
	// agency's private seed (private.go); developers see only the gap's
	// flag.
	Private bool `json:"private,omitempty"`
	// Budgets, if set, sweeps token budgets (budget.go): one assessment
	// per budget (tokens per agent episode), the same plan each time;
	// the plan must hold agent tasks (cyber-exploit).
	Budgets []int64 `json:"budgets,omitempty"`
}

// JudgeInput is an assessment's judge model: an OpenAI-compatible
// endpoint (the "/v1" root, as a case's target), its model name, the
// rubric (strongreject, harmbench or llamaguard; empty: strongreject)
// and credentials, which are sealed before the assessment is stored and
// never returned.
type JudgeInput struct {
	URL         string `json:"url"`
	Model       string `json:"model"`
	Rubric      string `json:"rubric,omitempty"`
	Credentials string `json:"credentials,omitempty"`
}

// judgeRubrics are the rubrics an assessment's judge may use (score's
// harm rubrics; the refusal rubric does not measure harm).
var judgeRubrics = []string{"strongreject", "harmbench", "llamaguard"}

const maxAssessmentSuites = 32

func (in AssessmentInput) validate() error {
	if len(in.Suites) > maxAssessmentSuites {
		return invalid("suites", "%d suites exceeds the limit of %d", len(in.Suites), maxAssessmentSuites)
	}
	for i, s := range in.Suites {
		if !profileIDRE.MatchString(s) {
			return invalid(fmt.Sprintf("suites[%d]", i), "%q is not a suite name", s)
		}
	}
	if in.Limit < 0 || in.Limit > 1_000_000 {
		return invalid("limit", "%d is outside [0, 1000000]", in.Limit)
	}
	if in.Seed < 0 {
		return invalid("seed", "%d is negative", in.Seed)
	}
	if err := CheckVariant("", in.variant()); err != nil {
		return err
	}
	if in.Reference != nil {
		if err := in.Reference.validate(true); err != nil {
			return err
		}
	}
	if err := checkBudgets(in.Budgets); err != nil {
		return err
	}
	if in.Reference != nil && len(in.Budgets) > 0 {
		return invalid("budgets", "a budget sweep cannot be a reference assessment")
	}
	if j := in.Judge; j != nil {
		if err := checkEndpointURL("judge.url", j.URL); err != nil {
			return err
		}
		if err := checkName("judge.model", j.Model); err != nil {
			return err
		}
		if j.Rubric != "" && !slices.Contains(judgeRubrics, j.Rubric) {
			return invalid("judge.rubric", "unknown rubric %q (want one of %v)", j.Rubric, judgeRubrics)
		}
		if len(j.Credentials) > maxCredentials {
			return invalid("judge.credentials", "%d bytes exceeds the limit of %d", len(j.Credentials), maxCredentials)
		}
	}
	return nil
}

// maxShards bounds the shards of one assessment.
const maxShards = 10_000

// scheduleClock schedules the expiry of c's clock if it runs. A failure
// is logged, not returned: the change is committed and Reconcile
// schedules the expiry again.
func (s *Service) scheduleClock(ctx context.Context, c Case) {
	if s.scheduler == nil || c.Clock == nil || !c.Clock.Running() {
		return
	}
	if err := s.scheduler.ScheduleExpiry(ctx, c.ID, c.Clock.Deadline(s.now())); err != nil {
		s.log.WarnContext(ctx, "schedule clock expiry", "case", c.ID, "err", err)
	}
}

// ScheduleAssessment plans an assessment of a case and queues its
// shards. Assessors assigned to the case only. A case that is submitted or under review moves
// to in_assessment; one already in assessment stays there (a second
// assessment runs beside the first). With in.Budgets it schedules one
// assessment per budget (a sweep, budget.go) and returns the one of the
// lowest budget.
func (s *Service) ScheduleAssessment(ctx context.Context, a Actor, caseID string, in AssessmentInput) (Assessment, error) {
	if err := in.validate(); err != nil {
		return Assessment{}, fmt.Errorf("schedule assessment of case %s: %w", caseID, err)
	}
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return Assessment{}, fmt.Errorf("schedule assessment: %w", err)
	}
	if !a.has(RoleAssessor) {
		return Assessment{}, forbidden("schedule assessment", RoleAssessor)
	}
	if err := requireAssigned("schedule assessment", a, c); err != nil {
		return Assessment{}, err
	}
	if err := checkSuites(a, c, in.Suites); err != nil {
		return Assessment{}, fmt.Errorf("schedule assessment of case %s: %w", caseID, err)
	}
	if s.planner == nil || s.scheduler == nil {
		return Assessment{}, fmt.Errorf("schedule assessment of case %s: this server runs no assessments (no job queue): %w", caseID, ErrConflict)
	}
	if c.State != StateInAssessment {
		if err := CheckTransition(c.State, StateInAssessment, a.User.Roles...); err != nil {
			return Assessment{}, fmt.Errorf("schedule assessment of case %s: %w", caseID, err)
		}
	}
	var judgeCred []byte
	if in.Judge != nil {
		j := *in.Judge
		if j.Credentials != "" {
			if judgeCred, err = s.sealer.Seal([]byte(j.Credentials)); err != nil {
				return Assessment{}, fmt.Errorf("schedule assessment of case %s: seal judge credentials: %w", caseID, err)
			}
		}
		j.Credentials = "" // the planner fixes the judge's URL, model and rubric in the spec, never its secret
		in.Judge = &j
	}
	refIn := in.Reference
	in.Reference = nil // the planner plans the same samples for a reference; its endpoint and secret stay here
	spec, shards, err := s.planner.PlanAssessment(ctx, redact(c), in)
	if err != nil {
		return Assessment{}, fmt.Errorf("schedule assessment of case %s: %w", caseID, err)
	}
	if shards < 1 || shards > maxShards {
		return Assessment{}, fmt.Errorf("schedule assessment of case %s: planner gave %d shards", caseID, shards)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, spec); err != nil {
		return Assessment{}, fmt.Errorf("schedule assessment of case %s: planner spec: %w", caseID, err)
	}
	if spec, err = recordVariant(buf.Bytes(), in.variant()); err != nil {
		return Assessment{}, fmt.Errorf("schedule assessment of case %s: %w", caseID, err)
	}
	now := s.stamp()
	as := Assessment{CaseID: c.ID, Spec: spec, Shards: shards, State: AssessmentQueued,
		CreatedBy: a.User.ID, CreatedAt: now, UpdatedAt: now, JudgeCredentials: judgeCred, OrgID: compartment(a, c)}
	if as.ID, err = newID("asm", now); err != nil {
		return Assessment{}, err
	}
	ref, err := s.newReference(as, refIn)
	if err != nil {
		return Assessment{}, fmt.Errorf("schedule assessment of case %s: %w", caseID, err)
	}
	sweep, err := s.sweepAssessments(as, in.Budgets) // [as] unless budgets are swept
	if err != nil {
		return Assessment{}, fmt.Errorf("schedule assessment of case %s: %w", caseID, err)
	}
	as = sweep[0]
	err = s.store.Tx(ctx, func(tx Store) error {
		if c.State != StateInAssessment {
			if _, err := s.move(ctx, tx, a, c, StateInAssessment, map[string]any{"assessment": as.ID}); err != nil {
				return err
			}
		}
		for _, x := range sweep {
			if err := tx.CreateAssessment(ctx, x); err != nil {
				return err
			}
		}
		detail := map[string]any{"assessment": as.ID, "shards": shards}
		if sw := as.Sweep(); sw.Sweep != "" {
			detail["sweep"], detail["budgets"] = sw.Sweep, len(sweep)
		}
		if ref != nil {
			if err := tx.CreateAssessmentReference(ctx, *ref); err != nil {
				return err
			}
			detail["reference"] = ref.Name
		}
		return s.audit(ctx, tx, a, "assessment.scheduled", c.ID, detail)
	})
	if err != nil {
		return Assessment{}, fmt.Errorf("schedule assessment of case %s: %w", caseID, err)
	}
	for _, x := range sweep {
		if err := s.scheduler.EnqueueAssessment(ctx, x); err != nil {
			// Committed: Reconcile queues it again.
			s.log.WarnContext(ctx, "queue assessment", "assessment", x.ID, "err", err)
		}
	}
	return as, nil
}

// Assessments lists a case's assessments; in a joint review, those in
// the actor's compartments (see Service.ShareAssessment).
func (s *Service) Assessments(ctx context.Context, a Actor, caseID string, p Page) ([]Assessment, error) {
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return nil, fmt.Errorf("list assessments: %w", err)
	}
	out, err := visibleRecords(ctx, p, func(p Page) ([]Assessment, error) { return s.store.ListAssessments(ctx, caseID, p) },
		func(as Assessment) string { return as.ID }, func(as Assessment) bool { return a.seesAssessment(c, as) })
	if err != nil {
		return nil, fmt.Errorf("list assessments of case %s: %w", caseID, err)
	}
	for i := range out {
		out[i] = a.redactPrivate(out[i])
	}
	return out, nil
}

// GetAssessment returns an assessment of a case the actor may see; in a
// joint review one outside the actor's compartments is ErrNotFound, as a
// missing one.
func (s *Service) GetAssessment(ctx context.Context, a Actor, id string) (Assessment, error) {
	as, _, err := visibleAssessment(ctx, s.store, a, id)
	if err != nil {
		return Assessment{}, fmt.Errorf("get assessment %s: %w", id, err)
	}
	return a.redactPrivate(as), nil
}

// mayReveal reports whether a may read harmful transcripts.
func (a Actor) mayReveal() bool {
	return a.has(RoleAssessor) || a.has(RoleReviewer) || a.has(RoleOfficial)
}

// Samples lists samples of an assessment the actor may see. Harmful
// samples come without their Record: RevealSample opens one.
func (s *Service) Samples(ctx context.Context, a Actor, f SampleFilter) ([]Sample, error) {
	if _, err := s.GetAssessment(ctx, a, f.AssessmentID); err != nil {
		return nil, fmt.Errorf("list samples: %w", err)
	}
	if f.Outcome != "" && !slices.Contains([]SampleOutcome{SampleFlagged, SamplePassed, SampleError}, f.Outcome) {
		return nil, fmt.Errorf("list samples: %w", invalid("outcome", "unknown outcome %q", f.Outcome))
	}
	ss, err := s.store.ListSamples(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list samples of %s: %w", f.AssessmentID, err)
	}
	if !a.seesPrivate() {
		ss = slices.DeleteFunc(ss, func(sm Sample) bool { return isPrivateSuite(sm.Suite) })
	}
	for i := range ss {
		if ss[i].Harmful {
			ss[i].Record = nil
		}
	}
	return ss, nil
}

// RevealSample returns one sample with its Record opened, for assessors,
// reviewers and officials. Opening a harmful sample is recorded in the
// audit trail.
func (s *Service) RevealSample(ctx context.Context, a Actor, assessmentID string, seq int) (Sample, error) {
	as, err := s.GetAssessment(ctx, a, assessmentID)
	if err != nil {
		return Sample{}, fmt.Errorf("reveal sample: %w", err)
	}
	sm, err := s.store.GetSample(ctx, assessmentID, seq)
	if err != nil {
		return Sample{}, fmt.Errorf("reveal sample %d of %s: %w", seq, assessmentID, err)
	}
	if isPrivateSuite(sm.Suite) && !a.seesPrivate() {
		return Sample{}, forbidden("reveal private-variant sample", RoleAssessor, RoleReviewer, RoleOfficial)
	}
	if !sm.Harmful {
		return sm, nil
	}
	if !a.mayReveal() {
		return Sample{}, forbidden("reveal harmful sample", RoleAssessor, RoleReviewer, RoleOfficial)
	}
	if err := s.audit(ctx, s.store, a, "sample.revealed", as.CaseID, map[string]any{"assessment": assessmentID, "seq": seq, "sample": sm.ID}); err != nil {
		return Sample{}, fmt.Errorf("reveal sample: %w", err)
	}
	if sm.Record, err = s.sealer.Open(sm.Record); err != nil {
		return Sample{}, fmt.Errorf("reveal sample %d of %s: %w", seq, assessmentID, err)
	}
	return sm, nil
}

// ShardSamples returns every sample of an assessment in plan order with
// harmful records opened, for the system computing its metrics.
func (s *Service) ShardSamples(ctx context.Context, assessmentID string, fn func(Sample) error) error {
	f := SampleFilter{AssessmentID: assessmentID, AfterSeq: -1, Limit: MaxPageLimit}
	for {
		ss, err := s.store.ListSamples(ctx, f)
		if err != nil {
			return fmt.Errorf("read samples of %s: %w", assessmentID, err)
		}
		for _, sm := range ss {
			if sm.Harmful {
				if sm.Record, err = s.sealer.Open(sm.Record); err != nil {
					return fmt.Errorf("read sample %d of %s: %w", sm.Seq, assessmentID, err)
				}
			}
			if err := fn(sm); err != nil {
				return err
			}
		}
		if len(ss) < f.Limit {
			return nil
		}
		f.AfterSeq = ss[len(ss)-1].Seq
	}
}

// AssessmentTarget returns what the system needs to run a shard: the
// assessment, its case (with sealed credentials removed) and the opened
// credentials, nil when none were submitted.
func (s *Service) AssessmentTarget(ctx context.Context, assessmentID string) (Assessment, Case, []byte, error) {
	as, err := s.store.GetAssessment(ctx, assessmentID)
	if err != nil {
		return Assessment{}, Case{}, nil, fmt.Errorf("load assessment %s: %w", assessmentID, err)
	}
	c, err := s.store.GetCase(ctx, as.CaseID)
	if err != nil {
		return Assessment{}, Case{}, nil, fmt.Errorf("load case of assessment %s: %w", assessmentID, err)
	}
	// A reference assessment runs against its reference model.
	cred, isRef, err := s.referenceTarget(ctx, as, &c)
	if err != nil {
		return Assessment{}, Case{}, nil, err
	}
	if c.Credentials != nil && !isRef {
		if cred, err = s.sealer.Open(c.Credentials); err != nil {
			return Assessment{}, Case{}, nil, fmt.Errorf("open credentials of case %s: %w", c.ID, err)
		}
	}
	return as, redact(c), cred, nil
}

// AssessmentJudgeCredentials opens the sealed credentials of an
// assessment's judge, for the runner; nil when none were given.
func (s *Service) AssessmentJudgeCredentials(ctx context.Context, assessmentID string) ([]byte, error) {
	as, err := s.store.GetAssessment(ctx, assessmentID)
	if err != nil {
		return nil, fmt.Errorf("load assessment %s: %w", assessmentID, err)
	}
	if as.JudgeCredentials == nil {
		return nil, nil
	}
	b, err := s.sealer.Open(as.JudgeCredentials)
	if err != nil {
		return nil, fmt.Errorf("open judge credentials of assessment %s: %w", assessmentID, err)
	}
	return b, nil
}

// RecordShard stores the samples of one finished shard (sealing harmful
// records), marks the shard done and the assessment running, in one
// transaction, and returns the assessment. Recording a shard again
// replaces its samples and changes no count. The system only.
func (s *Service) RecordShard(ctx context.Context, assessmentID string, shard int, samples []Sample) (Assessment, error) {
	for i := range samples {
		sm := &samples[i]
		sm.AssessmentID, sm.Shard = assessmentID, shard
		if sm.Harmful {
			sealed, err := s.sealer.Seal(sm.Record)
			if err != nil {
				return Assessment{}, fmt.Errorf("record shard %d of %s: %w", shard, assessmentID, err)
			}
			sm.Record = sealed
		}
	}
	var out Assessment
	err := retryConflict(func() error {
		return s.store.Tx(ctx, func(tx Store) error {
			// Marking the shard first locks the assessment (PostgreSQL),
			// so the read below sees every shard recorded before.
			n, err := tx.MarkShardDone(ctx, assessmentID, shard)
			if err != nil {
				return err
			}
			as, err := tx.GetAssessment(ctx, assessmentID)
			if err != nil {
				return err
			}
			out = as
			if shard < 0 || shard >= as.Shards {
				return invalid("shard", "%d is outside [0, %d)", shard, as.Shards)
			}
			if as.State == AssessmentDone || as.State == AssessmentFailed {
				return errUnchanged
			}
			for chunk := range slices.Chunk(samples, 200) {
				if err := tx.PutSamples(ctx, chunk); err != nil {
					return err
				}
			}
			if n == as.ShardsDone && as.State == AssessmentRunning {
				return nil
			}
			as.ShardsDone, as.State, as.UpdatedAt = n, AssessmentRunning, s.stamp()
			out, err = tx.UpdateAssessment(ctx, as)
			return err
		})
	})
	if errors.Is(err, errUnchanged) {
		return out, nil
	}
	if err != nil {
		return Assessment{}, fmt.Errorf("record shard %d of %s: %w", shard, assessmentID, err)
	}
	return out, nil
}

// CompleteAssessment stores the metrics of an assessment whose shards are
// all done and marks it done; when no other assessment of the case is
// still pending, a case in assessment moves to under review. Completing
// a done assessment again changes nothing. The system only.
func (s *Service) CompleteAssessment(ctx context.Context, assessmentID string, metrics json.RawMessage) (Assessment, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, metrics); err != nil {
		return Assessment{}, fmt.Errorf("complete assessment %s: metrics: %w", assessmentID, err)
	}
	var out Assessment
	err := retryConflict(func() error {
		return s.store.Tx(ctx, func(tx Store) error {
			as, err := tx.GetAssessment(ctx, assessmentID)
			if err != nil {
				return err
			}
			if as.State == AssessmentDone {
				out = as
				return nil
			}
			if as.ShardsDone < as.Shards {
				return fmt.Errorf("%d of %d shards done: %w", as.ShardsDone, as.Shards, ErrConflict)
			}
			as.State, as.Metrics, as.UpdatedAt = AssessmentDone, buf.Bytes(), s.stamp()
			if out, err = tx.UpdateAssessment(ctx, as); err != nil {
				return err
			}
			sys := SystemActor()
			if err := s.audit(ctx, tx, sys, "assessment.done", as.CaseID, map[string]any{"assessment": as.ID}); err != nil {
				return err
			}
			if err := s.contaminationFinding(ctx, tx, out, as.UpdatedAt); err != nil {
				return err
			}
			return s.afterAssessment(ctx, tx, as.CaseID)
		})
	})
	if err != nil {
		return Assessment{}, fmt.Errorf("complete assessment %s: %w", assessmentID, err)
	}
	return out, nil
}

// FailAssessment marks an assessment failed with a reason (a shard gave
// up); the case moves on as for a completed one. The system only.
func (s *Service) FailAssessment(ctx context.Context, assessmentID, reason string) (Assessment, error) {
	var out Assessment
	err := s.store.Tx(ctx, func(tx Store) error {
		as, err := tx.GetAssessment(ctx, assessmentID)
		if err != nil {
			return err
		}
		if as.State == AssessmentDone || as.State == AssessmentFailed {
			out = as
			return nil
		}
		as.State, as.Error, as.UpdatedAt = AssessmentFailed, truncate(reason, 2000), s.stamp()
		if out, err = tx.UpdateAssessment(ctx, as); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, SystemActor(), "assessment.failed", as.CaseID, map[string]any{"assessment": as.ID, "error": as.Error}); err != nil {
			return err
		}
		return s.afterAssessment(ctx, tx, as.CaseID)
	})
	if err != nil {
		return Assessment{}, fmt.Errorf("fail assessment %s: %w", assessmentID, err)
	}
	return out, nil
}

// errUnchanged rolls back a transaction that found nothing to do.
var errUnchanged = errors.New("unchanged")

// retryConflict runs fn again (up to three times in all) while it fails
// with ErrConflict: a concurrent update won an optimistic version check,
// and a fresh read will see it.
func retryConflict(fn func() error) error {
	var err error
	for range 3 {
		if err = fn(); !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// afterAssessment moves a case in assessment to under review once none
// of its assessments is pending.
func (s *Service) afterAssessment(ctx context.Context, tx Store, caseID string) error {
	c, err := tx.GetCase(ctx, caseID)
	if err != nil {
		return err
	}
	if c.State != StateInAssessment {
		return nil
	}
	p := Page{Limit: MaxPageLimit}
	for {
		as, err := tx.ListAssessments(ctx, caseID, p)
		if err != nil {
			return err
		}
		for _, x := range as {
			if x.State == AssessmentQueued || x.State == AssessmentRunning {
				return nil
			}
		}
		if len(as) < p.N() {
			break
		}
		p.After = as[len(as)-1].ID
	}
	_, err = s.move(ctx, tx, SystemActor(), c, StateUnderReview, map[string]any{"note": "assessments finished"})
	return err
}

// ImportedRun is an assessment run made outside the service (with
// clearance assess) and imported into a case.
type ImportedRun struct {
	// Spec describes the run (its run.json).
	Spec    json.RawMessage
	Metrics json.RawMessage
	// Samples calls put with each sample of the run in plan order (Seq
	// from 0), and returns put's error or its own. ImportAssessment calls
	// it once, inside the transaction that stores the run, and stores the
	// samples in batches as they come, so that a run of any size is never
	// all in memory; it should read from somewhere local and quick (the
	// web API spools an upload to a sealed file first), not the network.
	Samples func(put func(Sample) error) error
	// Reference, if set, imports the run as a reference assessment (a
	// reference model's results; references.go): URL and credentials are
	// not needed, the digest is recorded.
	Reference *ReferenceInput
}

// CheckImport returns the error ImportAssessment would return for the
// actor and case before reading the run, or nil: callers that receive a
// large run check it first, so that a caller who may not import costs
// them nothing.
func (s *Service) CheckImport(ctx context.Context, a Actor, caseID string) error {
	_, err := s.importCase(ctx, a, caseID)
	return err
}

func (s *Service) importCase(ctx context.Context, a Actor, caseID string) (Case, error) {
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return Case{}, fmt.Errorf("import assessment: %w", err)
	}
	if !a.has(RoleAssessor) {
		return Case{}, forbidden("import assessment", RoleAssessor)
	}
	if err := requireAssigned("import assessment", a, c); err != nil {
		return Case{}, err
	}
	if c.State != StateInAssessment && c.State != StateUnderReview {
		return Case{}, fmt.Errorf("import assessment into case %s in state %s: %w", caseID, c.State, ErrInvalidTransition)
	}
	return c, nil
}

// importBatch is how many samples ImportAssessment holds before storing
// them.
const importBatch = 200

// ImportAssessment stores a run made elsewhere as a done assessment of a
// case (one shard), sealing harmful records. Assessors assigned to the
// case only; the case must be in assessment or under review. An error from run.Samples
// aborts the import, storing nothing, and is returned wrapped.
func (s *Service) ImportAssessment(ctx context.Context, a Actor, caseID string, run ImportedRun) (Assessment, error) {
	c, err := s.importCase(ctx, a, caseID)
	if err != nil {
		return Assessment{}, err
	}
	if run.Samples == nil {
		return Assessment{}, fmt.Errorf("import assessment: %w", invalid("samples", "missing"))
	}
	if run.Reference != nil {
		if err := run.Reference.validate(false); err != nil {
			return Assessment{}, fmt.Errorf("import assessment: %w", err)
		}
	}
	var spec, metrics bytes.Buffer
	if err := json.Compact(&spec, run.Spec); err != nil {
		return Assessment{}, fmt.Errorf("import assessment: %w", invalid("spec", "%v", err))
	}
	if err := checkRunVariant(spec.Bytes()); err != nil {
		return Assessment{}, fmt.Errorf("import assessment: %w", err)
	}
	if err := json.Compact(&metrics, run.Metrics); err != nil {
		return Assessment{}, fmt.Errorf("import assessment: %w", invalid("metrics", "%v", err))
	}
	now := s.stamp()
	as := Assessment{CaseID: c.ID, Spec: spec.Bytes(), Shards: 1, ShardsDone: 1, State: AssessmentDone,
		Metrics: metrics.Bytes(), Imported: true, CreatedBy: a.User.ID, CreatedAt: now, UpdatedAt: now, OrgID: compartment(a, c)}
	if as.ID, err = newID("asm", now); err != nil {
		return Assessment{}, err
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := tx.CreateAssessment(ctx, as); err != nil {
			return err
		}
		n := 0
		batch := make([]Sample, 0, importBatch)
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			err := tx.PutSamples(ctx, batch)
			clear(batch) // let the records go
			batch = batch[:0]
			return err
		}
		err := run.Samples(func(sm Sample) error {
			sm.AssessmentID, sm.Shard = as.ID, 0
			if sm.Harmful {
				sealed, err := s.sealer.Seal(sm.Record)
				if err != nil {
					return err
				}
				sm.Record = sealed
			}
			batch = append(batch, sm)
			n++
			if len(batch) == importBatch {
				return flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		if _, err := tx.MarkShardDone(ctx, as.ID, 0); err != nil {
			return err
		}
		detail := map[string]any{"assessment": as.ID, "samples": n}
		if r := run.Reference; r != nil {
			ref := AssessmentReference{AssessmentID: as.ID, CaseID: as.CaseID, Name: r.Name, URL: r.URL, Model: r.Model, Digest: r.Digest, CreatedAt: now}
			if err := tx.CreateAssessmentReference(ctx, ref); err != nil {
				return err
			}
			detail["reference"] = r.Name
		}
		return s.audit(ctx, tx, a, "assessment.imported", c.ID, detail)
	})
	if err != nil {
		return Assessment{}, fmt.Errorf("import assessment into case %s: %w", caseID, err)
	}
	return as, nil
}

// Reconcile hands the Scheduler again every piece of work the store says
// is due, so that work lost between a commit and its scheduling (a crash)
// is done: the expiry of every running clock, and every queued or running
// assessment. Call it at start-up; it is safe to call at any time.
func (s *Service) Reconcile(ctx context.Context) error {
	if s.scheduler == nil {
		return nil
	}
	var errs []error
	for _, st := range []State{StateSubmitted, StateInAssessment, StateUnderReview} {
		p := Page{Limit: MaxPageLimit}
		for {
			cs, err := s.store.ListCases(ctx, CaseFilter{State: st, Page: p})
			if err != nil {
				return fmt.Errorf("reconcile: %w", err)
			}
			for _, c := range cs {
				if c.Clock != nil && c.Clock.Running() {
					if err := s.scheduler.ScheduleExpiry(ctx, c.ID, c.Clock.Deadline(s.now())); err != nil {
						errs = append(errs, err)
					}
				}
			}
			if len(cs) < p.N() {
				break
			}
			p.After = cs[len(cs)-1].ID
		}
	}
	as, err := s.store.ListAssessmentsByState(ctx, maxShards, AssessmentQueued, AssessmentRunning)
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	for _, a := range as {
		if err := s.scheduler.EnqueueAssessment(ctx, a); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	return nil
}
