package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/clearance-dev/clearance/conform"
)

// Fingerprint is a recorded behavioural fingerprint of a case's
// endpoint (package conform). Sealed holds the fingerprint's JSON sealed
// with the service's Sealer: it is model output, harmful answers
// included. The latest fingerprint recorded no later than a decision is
// the one the decision binds (Decision.Fingerprint).
type Fingerprint struct {
	ID     string
	CaseID string
	// State is FingerprintPending while its job records it, then
	// FingerprintRecorded or FingerprintFailed (Error says why).
	State    FingerprintState
	Error    string
	Digest   string // conform.Fingerprint.Digest, "sha256:…"; empty until recorded
	Target   string // the endpoint's URL
	Probes   int    // probes asked for; once recorded, probes recorded
	Requests int    // requests one recording, and one check, costs
	Sealed   []byte
	// CreatedBy is the user who asked for it, CreatedAt when;
	// RecordedAt is when it was recorded (zero until then).
	CreatedBy  string
	CreatedAt  time.Time
	RecordedAt time.Time
}

// FingerprintState is the state of a fingerprint's recording.
type FingerprintState string

// Fingerprint states.
const (
	FingerprintPending  FingerprintState = "pending"
	FingerprintRecorded FingerprintState = "recorded"
	FingerprintFailed   FingerprintState = "failed"
)

// FingerprintQueue may be implemented by the Scheduler: it queues the
// recording of a pending fingerprint as a job that calls
// Service.RunFingerprint. Without one, RecordFingerprint records at once.
type FingerprintQueue interface {
	EnqueueFingerprint(ctx context.Context, fingerprintID string) error
}

// ConformanceCheck is one check that a cleared decision's endpoint still
// serves the model that was fingerprinted.
type ConformanceCheck struct {
	ID            string
	DecisionID    string
	CaseID        string
	FingerprintID string
	// Target is the URL checked: the case's, or one given for the check.
	Target string
	// Same is false when a test rejected "same model as fingerprinted".
	Same bool
	// Scheduled is true for a check the service ran on its schedule.
	Scheduled bool
	// Result is the conform.Result JSON (statistics, no answers).
	Result json.RawMessage
	// Bundle is the signed conformance statement; nil without a signer.
	Bundle []byte
	// LogIndex is the statement's index in the transparency log, -1
	// until it is logged.
	LogIndex int64
	// FindingID is the finding a failed check opened; empty if it passed.
	FindingID string
	CreatedBy string
	CreatedAt time.Time
}

// Endpoints reaches a case's endpoint for fingerprints and conformance
// checks. The service knows no targets: cmd/clearance gives it one built
// on the target package, through the target egress policy.
type Endpoints interface {
	// Completer returns a client of an OpenAI-compatible endpoint. Its
	// errors must not carry the endpoint's own text.
	Completer(t ChatTarget) (conform.Completer, error)
	// Probes is the pool fingerprints draw their suite probes from.
	Probes() ([]conform.Probe, error)
	// Refused classifies an answer as a refusal (the refusal tests).
	Refused(prompt, answer string) bool
}

// CanaryScanner may be implemented by the Endpoints: it reports whether
// an answer to a prompt carries one of the agency's private canaries the
// prompt did not (suite.CanaryDetector). A conformance check then scans
// every answer of the deployed endpoint, and a hit opens a contamination
// finding on the case beside the check's verdict.
type CanaryScanner interface {
	Contaminated(prompt, answer string) bool
}

// ConformanceSigner may be implemented by the Signer: it signs a
// conformance statement about check k of decision d (attest.Conformance).
type ConformanceSigner interface {
	SignConformance(ctx context.Context, c Case, d Decision, k ConformanceCheck, fingerprint string) ([]byte, error)
}

// ConformanceScheduler may be implemented by the Scheduler: it schedules
// the periodic conformance checks of a cleared decision
// (RunScheduledConformance), as review clocks are scheduled.
type ConformanceScheduler interface {
	ScheduleConformance(ctx context.Context, decisionID string) error
}

// ErrEndpoint is returned when a fingerprint or a check could not reach
// the endpoint: nothing is concluded about the model. It is
// ErrModelUnavailable (HTTP 502 in the API).
var ErrEndpoint = ErrModelUnavailable

// ActionConformanceFailed is the audit action (and webhook event) of a
// failed conformance check; a passing one is "case.conformance_passed".
const (
	ActionConformanceFailed = "case.conformance_failed"
	ActionConformancePassed = "case.conformance_passed"
)

// Fingerprint limits.
const (
	DefaultFingerprintProbes = 250
	maxTargetURL             = 2048
	maxCheckCredentials      = 4096
)

// FingerprintInput configures a recording: Probes suite prompts drawn
// with Seed (the generic set is added).
type FingerprintInput struct {
	Probes int   `json:"probes,omitempty"` // 0: DefaultFingerprintProbes
	Seed   int64 `json:"seed,omitempty"`   // 0: 1
	// LogProbs also records the answers' token log-probabilities where
	// the endpoint offers them; checks then compare them too.
	LogProbs bool `json:"logprobs,omitempty"`
}

// ConformanceInput names the endpoint a check queries; all empty means
// the case's current target (URL, model and sealed credentials).
type ConformanceInput struct {
	TargetURL   string `json:"target_url,omitempty"`
	Model       string `json:"model,omitempty"`
	Credentials string `json:"credentials,omitempty"`
}

func (in ConformanceInput) validate() error {
	if in.TargetURL == "" {
		if in.Model != "" || in.Credentials != "" {
			return invalid("target_url", "missing: model and credentials go with a target_url")
		}
		return nil
	}
	if len(in.TargetURL) > maxTargetURL {
		return invalid("target_url", "%d bytes exceeds the limit of %d", len(in.TargetURL), maxTargetURL)
	}
	u, err := url.Parse(in.TargetURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return invalid("target_url", "%q: want an http or https URL with a host and no user info", in.TargetURL)
	}
	if err := checkName("model", cmpOr(in.Model, "x")); err != nil {
		return err
	}
	if len(in.Credentials) > maxCheckCredentials {
		return invalid("credentials", "%d bytes exceeds the limit of %d", len(in.Credentials), maxCheckCredentials)
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// mayConform reports whether a may record fingerprints (staff who see
// the case) or run checks (also the case's developer).
func mayConform(a Actor, c Case, check bool) bool {
	if a.Org.Kind == OrgDeveloper {
		return check && a.has(RoleDeveloper) && a.Org.ID == c.OrgID
	}
	return a.has(RoleAssessor) || a.has(RoleReviewer) || a.has(RoleOfficial)
}

// caseTarget is the case's current endpoint with its credentials opened.
func (s *Service) caseTarget(c Case) (ChatTarget, error) {
	t := ChatTarget{URL: c.TargetURL, Model: c.ModelName}
	if c.Credentials != nil {
		cred, err := s.sealer.Open(c.Credentials)
		if err != nil {
			return ChatTarget{}, fmt.Errorf("open credentials of case %s: %w", c.ID, err)
		}
		t.Credentials = cred
	}
	return t, nil
}

// RecordFingerprint asks for the behavioural fingerprint of a case's
// current endpoint: in.Probes suite prompts drawn with in.Seed plus the
// generic set, each asked twice at temperature 0 (a few hundred
// requests). The fingerprint is created pending and recorded by a job
// (the Scheduler's FingerprintQueue; without one, at once), which stores
// it sealed; the next decision on the case binds the digest of the
// latest one recorded. Assessors, reviewers and officials who see the
// case only. Audited as "fingerprint.requested", then
// "fingerprint.recorded" or "fingerprint.failed".
func (s *Service) RecordFingerprint(ctx context.Context, a Actor, caseID string, in FingerprintInput) (Fingerprint, error) {
	const action = "record fingerprint"
	max := conform.MaxProbes - len(conform.GenericProbes())
	if in.Probes == 0 {
		in.Probes = DefaultFingerprintProbes
	}
	if in.Probes < 1 || in.Probes > max {
		return Fingerprint{}, fmt.Errorf("%s: %w", action, invalid("probes", "%d: want 1…%d", in.Probes, max))
	}
	if in.Seed == 0 {
		in.Seed = 1
	}
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("%s: %w", action, err)
	}
	if !mayConform(a, c, false) {
		return Fingerprint{}, forbidden(action, RoleAssessor, RoleReviewer, RoleOfficial)
	}
	if s.endpoints == nil {
		return Fingerprint{}, fmt.Errorf("%s: the service has no endpoint client: %w", action, ErrConflict)
	}
	now := s.stamp()
	// Until recorded, the sealed bytes hold the request (the job reads
	// its probe count and seed there), and Probes the probes asked for.
	spec, err := json.Marshal(in)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("%s: %w", action, err)
	}
	sealed, err := s.sealer.Seal(spec)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("%s: seal: %w", action, err)
	}
	f := Fingerprint{CaseID: c.ID, State: FingerprintPending, Target: c.TargetURL, Probes: in.Probes + len(conform.GenericProbes()),
		Sealed: sealed, CreatedBy: a.User.ID, CreatedAt: now}
	if f.ID, err = newID("fpr", now); err != nil {
		return Fingerprint{}, fmt.Errorf("%s: %w", action, err)
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		if err := tx.CreateFingerprint(ctx, f); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "fingerprint.requested", c.ID, map[string]any{"fingerprint": f.ID, "probes": f.Probes, "seed": in.Seed})
	})
	if err != nil {
		return Fingerprint{}, fmt.Errorf("%s on case %s: %w", action, c.ID, err)
	}
	q, ok := s.scheduler.(FingerprintQueue)
	if !ok {
		if err := s.RunFingerprint(ctx, f.ID); err != nil {
			return Fingerprint{}, err
		}
	} else if err := q.EnqueueFingerprint(ctx, f.ID); err != nil {
		// The fingerprint stays pending with no job: say so on it.
		s.finishFingerprint(ctx, f, nil, "the recording job could not be queued")
		return Fingerprint{}, fmt.Errorf("%s on case %s: queue: %w", action, c.ID, err)
	}
	got, err := s.store.GetFingerprint(ctx, f.ID)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("%s on case %s: %w", action, c.ID, err)
	}
	if !ok && got.State == FingerprintFailed {
		return Fingerprint{}, fmt.Errorf("%s on case %s: %w: %s", action, c.ID, ErrEndpoint, got.Error)
	}
	got.Sealed = nil
	return got, nil
}

// RunFingerprint records pending fingerprint id (the job that
// RecordFingerprint queues). An endpoint that cannot be queried, or any
// other failure once the recording has begun, leaves the fingerprint
// failed, with an error that carries none of the endpoint's text, and is
// not an error of the job; a fingerprint that is no longer pending is
// left alone. Only errors of the store are returned (the job retries).
func (s *Service) RunFingerprint(ctx context.Context, id string) error {
	const action = "record fingerprint"
	f, err := s.store.GetFingerprint(ctx, id)
	if err != nil {
		return fmt.Errorf("%s %s: %w", action, id, err)
	}
	if f.State != FingerprintPending {
		return nil
	}
	c, err := s.store.GetCase(ctx, f.CaseID)
	if err != nil {
		return fmt.Errorf("%s %s: %w", action, id, err)
	}
	var in FingerprintInput
	plain, err := s.sealer.Open(f.Sealed)
	if err == nil {
		err = json.Unmarshal(plain, &in)
	}
	if err != nil || in.Probes < 1 {
		return s.finishFingerprint(ctx, f, nil, "its request could not be read")
	}
	if s.endpoints == nil {
		return s.finishFingerprint(ctx, f, nil, "the service has no endpoint client")
	}
	t, err := s.caseTarget(c)
	if err != nil {
		return s.finishFingerprint(ctx, f, nil, "the case's endpoint credentials could not be opened")
	}
	comp, err := s.endpoints.Completer(t)
	if err != nil {
		return s.finishFingerprint(ctx, f, nil, "the endpoint client: "+err.Error())
	}
	pool, err := s.endpoints.Probes()
	if err != nil {
		return s.finishFingerprint(ctx, f, nil, "the probe pool could not be read")
	}
	probes := append(conform.Select(pool, in.Probes, in.Seed), conform.GenericProbes()...)
	fp, err := conform.Record(ctx, comp, probes, conform.RecordOptions{Seed: in.Seed, Target: c.TargetURL, Now: s.now, LogProbs: in.LogProbs})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s: %w", action, id, ctx.Err()) // stopped: the job runs again
		}
		return s.finishFingerprint(ctx, f, nil, "the endpoint did not answer every probe: "+err.Error())
	}
	return s.finishFingerprint(ctx, f, fp, "")
}

// finishFingerprint stores the outcome of pending fingerprint f: fp
// recorded, or failed with why.
func (s *Service) finishFingerprint(ctx context.Context, f Fingerprint, fp *conform.Fingerprint, why string) error {
	const action = "record fingerprint"
	f.State, f.Error, f.Sealed, f.RecordedAt = FingerprintFailed, why, nil, time.Time{}
	act, details := "fingerprint.failed", map[string]any{"fingerprint": f.ID, "error": why}
	if fp != nil {
		b, err := json.Marshal(fp)
		if err != nil {
			return fmt.Errorf("%s %s: %w", action, f.ID, err)
		}
		if f.Sealed, err = s.sealer.Seal(b); err != nil {
			return fmt.Errorf("%s %s: seal: %w", action, f.ID, err)
		}
		f.State, f.Digest, f.Probes, f.Requests, f.RecordedAt = FingerprintRecorded, fp.Digest(), len(fp.Probes), fp.Requests(), s.stamp()
		act, details = "fingerprint.recorded", map[string]any{"fingerprint": f.ID, "digest": f.Digest, "probes": f.Probes}
	}
	err := s.store.Tx(ctx, func(tx Store) error {
		if err := tx.FinishFingerprint(ctx, f); err != nil {
			return err
		}
		return s.audit(ctx, tx, SystemActor(), act, f.CaseID, details)
	})
	if errors.Is(err, ErrConflict) {
		return nil // finished by another run of the job
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", action, f.ID, err)
	}
	return nil
}

// boundFingerprint is the fingerprint a decision binds: the one of its
// case recorded last no later than the decision; ErrNotFound if none.
func boundFingerprint(ctx context.Context, st Store, caseID string, at time.Time) (Fingerprint, error) {
	fs, err := st.ListFingerprints(ctx, caseID)
	if err != nil {
		return Fingerprint{}, err
	}
	var best Fingerprint
	for _, f := range fs {
		if f.State != FingerprintRecorded || f.RecordedAt.After(at) {
			continue
		}
		if best.ID == "" || !f.RecordedAt.Before(best.RecordedAt) {
			best = f
		}
	}
	if best.ID == "" {
		return Fingerprint{}, fmt.Errorf("case %s has no endpoint fingerprint: %w", caseID, ErrNotFound)
	}
	return best, nil
}

// decisionFingerprint is the digest Decide binds in a decision made now:
// empty when the case has no fingerprint.
func decisionFingerprint(ctx context.Context, st Store, caseID string, now time.Time) (string, error) {
	f, err := boundFingerprint(ctx, st, caseID, now)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return f.Digest, err
}

// scheduleConformance schedules the periodic checks of a decision that
// cleared something and binds a fingerprint; failures are logged.
func (s *Service) scheduleConformance(ctx context.Context, d Decision) {
	cs, ok := s.scheduler.(ConformanceScheduler)
	if !ok || d.Fingerprint == "" {
		return
	}
	if cleared, _ := incidentProfiles(d); !cleared {
		return
	}
	if err := cs.ScheduleConformance(ctx, d.ID); err != nil {
		s.log.WarnContext(ctx, "schedule conformance checks", "decision", d.ID, "err", err)
	}
}

// CheckConformance re-queries the endpoint of a cleared decision (the
// case's current target, or the one in) with the probes of the
// fingerprint the decision binds and tests whether it is the same model.
// The result is stored, signed and logged; a failed check opens a
// finding on the case and is audited as ActionConformanceFailed (a
// webhook event). The case's developer, and agency or assessor staff who
// see the case, only. An endpoint that cannot be queried is ErrEndpoint,
// and nothing is recorded.
func (s *Service) CheckConformance(ctx context.Context, a Actor, decisionID string, in ConformanceInput) (ConformanceCheck, error) {
	const action = "check conformance"
	if err := in.validate(); err != nil {
		return ConformanceCheck{}, fmt.Errorf("%s: %w", action, err)
	}
	d, err := s.store.GetDecision(ctx, decisionID)
	if err != nil {
		return ConformanceCheck{}, fmt.Errorf("%s: decision %s: %w", action, decisionID, err)
	}
	c, err := getCase(ctx, s.store, a, d.CaseID)
	if err != nil {
		return ConformanceCheck{}, fmt.Errorf("%s: decision %s: %w", action, decisionID, ErrNotFound)
	}
	if !mayConform(a, c, true) {
		return ConformanceCheck{}, forbidden(action, RoleDeveloper, RoleAssessor, RoleReviewer, RoleOfficial)
	}
	t := ChatTarget{URL: in.TargetURL, Model: cmpOr(in.Model, c.ModelName), Credentials: []byte(in.Credentials)}
	if in.TargetURL == "" {
		if t, err = s.caseTarget(c); err != nil {
			return ConformanceCheck{}, fmt.Errorf("%s: %w", action, err)
		}
	}
	return s.runConformance(ctx, a, c, d, t, false)
}

// RunScheduledConformance runs the scheduled check of a decision against
// its case's current target, as the system. It reports whether checks
// should go on: not once the decision cleared nothing, binds no
// fingerprint, or is no longer the case's latest decision.
func (s *Service) RunScheduledConformance(ctx context.Context, decisionID string) (bool, error) {
	d, err := s.store.GetDecision(ctx, decisionID)
	if err != nil {
		return false, fmt.Errorf("scheduled conformance check: %w", err)
	}
	c, err := s.store.GetCase(ctx, d.CaseID)
	if err != nil {
		return false, fmt.Errorf("scheduled conformance check: %w", err)
	}
	if cleared, _ := incidentProfiles(d); !cleared || c.State != StateDecided {
		return false, nil
	}
	ds, err := s.store.ListDecisions(ctx, c.ID, Page{Limit: MaxPageLimit})
	if err != nil {
		return false, fmt.Errorf("scheduled conformance check: %w", err)
	}
	if len(ds) > 0 && ds[len(ds)-1].ID != d.ID {
		return false, nil
	}
	if _, err := boundFingerprint(ctx, s.store, c.ID, d.CreatedAt); errors.Is(err, ErrNotFound) {
		return false, nil
	}
	t, err := s.caseTarget(c)
	if err != nil {
		return true, fmt.Errorf("scheduled conformance check: %w", err)
	}
	if _, err := s.runConformance(ctx, SystemActor(), c, d, t, true); err != nil {
		return true, err
	}
	return true, nil
}

func (s *Service) runConformance(ctx context.Context, a Actor, c Case, d Decision, t ChatTarget, scheduled bool) (ConformanceCheck, error) {
	const action = "check conformance"
	if s.endpoints == nil {
		return ConformanceCheck{}, fmt.Errorf("%s: the service has no endpoint client: %w", action, ErrConflict)
	}
	if cleared, _ := incidentProfiles(d); !cleared {
		return ConformanceCheck{}, fmt.Errorf("%s: decision %s: %w: %w", action, d.ID, ErrNotCleared, ErrInvalidInput)
	}
	f, err := boundFingerprint(ctx, s.store, c.ID, d.CreatedAt)
	if errors.Is(err, ErrNotFound) {
		return ConformanceCheck{}, fmt.Errorf("%s: %w", action, invalid("decision", "%s binds no endpoint fingerprint (record one before deciding)", d.ID))
	}
	if err != nil {
		return ConformanceCheck{}, fmt.Errorf("%s: %w", action, err)
	}
	plain, err := s.sealer.Open(f.Sealed)
	if err != nil {
		return ConformanceCheck{}, fmt.Errorf("%s: open fingerprint %s: %w", action, f.ID, err)
	}
	fp, err := conform.Parse(plain)
	if err != nil {
		return ConformanceCheck{}, fmt.Errorf("%s: fingerprint %s: %w", action, f.ID, err)
	}
	comp, err := s.endpoints.Completer(t)
	if err != nil {
		return ConformanceCheck{}, fmt.Errorf("%s: %w: %v", action, ErrEndpoint, err)
	}
	opts := conform.Options{Seed: 1, Refused: s.endpoints.Refused}
	if cs, ok := s.endpoints.(CanaryScanner); ok {
		opts.Contaminated = cs.Contaminated
	}
	res, err := conform.Check(ctx, comp, fp, opts, 4)
	if err != nil {
		return ConformanceCheck{}, fmt.Errorf("%s: %w: %v", action, ErrEndpoint, err)
	}
	rb, err := json.Marshal(res)
	if err != nil {
		return ConformanceCheck{}, fmt.Errorf("%s: %w", action, err)
	}
	now := s.stamp()
	k := ConformanceCheck{DecisionID: d.ID, CaseID: c.ID, FingerprintID: f.ID, Target: t.URL, Same: res.Same, Scheduled: scheduled,
		Result: rb, LogIndex: -1, CreatedBy: a.User.ID, CreatedAt: now}
	if k.ID, err = newID("cnf", now); err != nil {
		return ConformanceCheck{}, fmt.Errorf("%s: %w", action, err)
	}
	if cs, ok := s.signer.(ConformanceSigner); ok {
		if k.Bundle, err = cs.SignConformance(ctx, redact(c), d, k, f.Digest); err != nil {
			return ConformanceCheck{}, fmt.Errorf("%s: sign: %w", action, err)
		}
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		details := map[string]any{"check": k.ID, "decision": d.ID, "fingerprint": f.Digest, "same": k.Same, "scheduled": scheduled}
		if !k.Same {
			failed := res.Failed()
			fd := Finding{CaseID: c.ID, Severity: "high", Title: "Deployed endpoint is not the model that was cleared",
				Description: fmt.Sprintf("Conformance check %s of decision %s: the endpoint's answers to the fingerprint's %d probes differ from those recorded (fingerprint %s; tests rejected: %s).",
					k.ID, d.ID, res.Probes, f.Digest, strings.Join(failed, ", ")),
				Status: FindingOpen, CreatedBy: SystemActor().User.ID, CreatedAt: now, UpdatedAt: now, OrgID: c.OrgID,
				Deadline: AuditTime(now.AddDate(0, 0, RemediationDays("high")))}
			var err error
			if fd.ID, err = newID("fnd", now); err != nil {
				return err
			}
			if err := tx.CreateFinding(ctx, fd); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, SystemActor(), "finding.create", c.ID, map[string]any{
				"finding": fd.ID, "severity": fd.Severity, "deadline": fd.Deadline.Format(time.RFC3339), "conformance": k.ID}); err != nil {
				return err
			}
			k.FindingID = fd.ID
			details["finding"], details["rejected"] = fd.ID, slices.Clone(failed)
		}
		if len(res.Contaminated) > 0 {
			fd := Finding{CaseID: c.ID, Severity: SeverityHigh, Title: contaminationTitle,
				Description: fmt.Sprintf("Conformance check %s of decision %s: the deployed endpoint's answers to %d of the fingerprint's %d probes carried the agency's private canaries that the prompt did not (contamination signal: a private canary appeared in model output). The deployed model has seen private evaluation items.",
					k.ID, d.ID, len(res.Contaminated), res.Probes),
				Status: FindingOpen, CreatedBy: SystemActor().User.ID, CreatedAt: now, UpdatedAt: now, OrgID: c.OrgID,
				Deadline: AuditTime(now.AddDate(0, 0, RemediationDays(SeverityHigh)))}
			var err error
			if fd.ID, err = newID("fnd", now); err != nil {
				return err
			}
			if err := tx.CreateFinding(ctx, fd); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, SystemActor(), "finding.create", c.ID, map[string]any{
				"finding": fd.ID, "severity": fd.Severity, "deadline": fd.Deadline.Format(time.RFC3339), "contamination": k.ID}); err != nil {
				return err
			}
			details["contamination"] = fd.ID
		}
		if err := tx.CreateConformanceCheck(ctx, k); err != nil {
			return err
		}
		act := ActionConformancePassed
		if !k.Same {
			act = ActionConformanceFailed
		}
		return s.audit(ctx, tx, a, act, c.ID, details)
	})
	if err != nil {
		return ConformanceCheck{}, fmt.Errorf("%s of decision %s: %w", action, d.ID, err)
	}
	s.publishAfter(ctx)
	if got, err := s.store.GetConformanceCheck(ctx, k.ID); err == nil {
		k = got
	}
	return k, nil
}

// ListConformance lists a case's fingerprints (without their sealed
// bytes) and its conformance checks, oldest first.
func (s *Service) ListConformance(ctx context.Context, a Actor, caseID string) ([]Fingerprint, []ConformanceCheck, error) {
	c, err := getCase(ctx, s.store, a, caseID)
	if err != nil {
		return nil, nil, fmt.Errorf("list conformance: %w", err)
	}
	fs, err := s.store.ListFingerprints(ctx, c.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("list conformance of case %s: %w", c.ID, err)
	}
	for i := range fs {
		fs[i].Sealed = nil
	}
	ks, err := s.store.ListConformanceChecks(ctx, c.ID, "", Page{Limit: MaxPageLimit})
	if err != nil {
		return nil, nil, fmt.Errorf("list conformance of case %s: %w", c.ID, err)
	}
	return fs, ks, nil
}

// publishConformanceLocked logs every signed, unlogged conformance
// statement and records its index (PublishPending, publishMu held).
func (s *Service) publishConformanceLocked(ctx context.Context) (int, error) {
	n := 0
	for {
		ks, err := s.store.ListUnloggedConformanceChecks(ctx, 100)
		if err != nil {
			return n, fmt.Errorf("publish conformance statements: %w", err)
		}
		if len(ks) == 0 {
			return n, nil
		}
		for _, k := range ks {
			idx, _, err := s.publisher.Publish(ctx, k.Bundle)
			if err != nil {
				return n, fmt.Errorf("publish conformance statement %s: %w", k.ID, err)
			}
			err = s.store.Tx(ctx, func(tx Store) error {
				if err := tx.SetConformanceLog(ctx, k.ID, idx); err != nil {
					return err
				}
				return s.audit(ctx, tx, SystemActor(), "conformance.logged", k.CaseID, map[string]any{"check": k.ID, "log_index": idx})
			})
			if err != nil {
				return n, fmt.Errorf("publish conformance statement %s: %w", k.ID, err)
			}
			n++
		}
	}
}
