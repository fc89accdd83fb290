package review

import (
	"encoding/json"
	"time"
)

// AssessmentState is where an assessment stands.
type AssessmentState string

// Assessment states. An assessment is queued when scheduled, running once
// a shard has begun, done when every shard is and its metrics are
// computed, and failed when a shard gave up.
const (
	AssessmentQueued  AssessmentState = "queued"
	AssessmentRunning AssessmentState = "running"
	AssessmentDone    AssessmentState = "done"
	AssessmentFailed  AssessmentState = "failed"
)

// Assessment is one run of evaluation suites against a case's target,
// split into shards that run as jobs, or imported from a run directory.
type Assessment struct {
	ID     string
	CaseID string
	// Spec fixes what is run (suites, sample sizes, seed, shard size), a
	// compact JSON object; it never changes after creation, so a retried
	// shard runs exactly the samples it ran before.
	Spec json.RawMessage
	// Shards is the number of shards; ShardsDone how many have finished.
	Shards     int
	ShardsDone int
	State      AssessmentState
	// Metrics is the run's metrics.json once done, else nil.
	Metrics json.RawMessage
	// Error says why a failed assessment failed.
	Error string
	// Imported is true for an assessment imported from a run directory.
	Imported bool
	// JudgeCredentials are the credentials of the assessment's own judge
	// (AssessmentInput.Judge) sealed by the service's Sealer; nil when
	// none. They leave the service only to the runner.
	JudgeCredentials []byte
	CreatedBy        string
	// OrgID is the agency whose work the assessment is in a joint review
	// ("" in a case that is not joint); Shared says whether that agency
	// shares it, with its samples and metrics, with the case's other
	// agencies and its developer (see Service.ShareAssessment).
	OrgID  string
	Shared bool
	// Version increases with every update (see Store.UpdateAssessment).
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SampleOutcome summarises a sample's verdict for filtering.
type SampleOutcome string

// Sample outcomes: flagged (the scorer's flagged label: the model
// complied with an attack, leaked, refused a safe request…), passed, or
// error (target or scorer failure, excluded from every rate).
const (
	SampleFlagged SampleOutcome = "flagged"
	SamplePassed  SampleOutcome = "passed"
	SampleError   SampleOutcome = "error"
)

// Sample is one scored sample of an assessment. Record is the runner's
// samples.jsonl line; when Harmful it is sealed by the service's Sealer
// (the model may have produced harmful content) and opened only for
// roles allowed to see it, each opening audited.
type Sample struct {
	AssessmentID string
	// Seq is the sample's position in the assessment's plan, from 0; it
	// is the key: storing a sample again at the same Seq replaces it.
	Seq       int
	Shard     int
	ID        string // the plan's sample id
	Suite     string
	Category  string
	Transform string
	Kind      string
	Outcome   SampleOutcome
	Harmful   bool
	Record    []byte
}

// SampleFilter selects samples of one assessment, in Seq order: those
// with Seq greater than AfterSeq (-1 or less for from the start), of the
// given suite, category, transform and outcome when set, at most Limit
// (as Page).
type SampleFilter struct {
	AssessmentID string
	Suite        string
	Category     string
	Transform    string
	Outcome      SampleOutcome
	AfterSeq     int
	Limit        int
}

// IdempotencyKey records the first submission made with an
// Idempotency-Key by one user, in the submission's own transaction, so a
// retry after a crash or through another server process replays it.
type IdempotencyKey struct {
	UserID string
	Key    string
	// RequestHash is the SHA-256 of the request body; the same key with
	// another body is refused.
	RequestHash [32]byte
	CaseID      string
	CreatedAt   time.Time
}

// Webhook is an organisation's subscription to case events, delivered as
// HMAC-signed POSTs. Secret is sealed by the service's Sealer.
type Webhook struct {
	ID     string
	OrgID  string
	URL    string
	Secret []byte
	// Events are audit actions ("case.transition", "case.decided", …);
	// empty means every case event.
	Events    []string
	CreatedBy string
	Disabled  bool
	CreatedAt time.Time

	// The circuit breaker's state (package webhook). Failures counts the
	// consecutive failed deliveries (reset by a success); LastError is
	// the kind of the last failure ("timeout", "connection", "status
	// 503", …, never the receiver's body) and LastFailureAt its time;
	// PausedUntil, when not zero, is when a paused webhook is next tried.
	Failures      int
	LastError     string
	LastFailureAt time.Time
	PausedUntil   time.Time
}

// Anchor records that the audit trail's head, entry Seq with hash Hash,
// was appended to the transparency log at LogIndex.
type Anchor struct {
	Seq       int64
	Hash      string
	LogIndex  int64
	CreatedAt time.Time
}
