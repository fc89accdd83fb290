package review_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/tlog"
)

// logPublisher appends to a real transparency log, once per entry.
type logPublisher struct{ l *tlog.Log }

func (p logPublisher) Publish(ctx context.Context, entry []byte) (int64, []byte, error) {
	r, err := p.l.AppendOnce(ctx, entry)
	if err != nil {
		return 0, nil, err
	}
	b, err := r.Marshal()
	return int64(r.Index), b, err
}

// recordingScheduler records what the service schedules.
type recordingScheduler struct {
	mu          sync.Mutex
	expiries    map[string]time.Time
	assessments []string
}

func (r *recordingScheduler) ScheduleExpiry(_ context.Context, caseID string, due time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expiries[caseID] = due
	return nil
}

func (r *recordingScheduler) EnqueueAssessment(_ context.Context, a review.Assessment) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.assessments = append(r.assessments, a.ID)
	return nil
}

type onePlan struct{}

func (onePlan) PlanAssessment(context.Context, review.Case, review.AssessmentInput) (json.RawMessage, int, error) {
	return json.RawMessage(`{"suites": ["misuse"]}`), 3, nil
}

// serviceWith returns a second service over w's store with a publisher
// to the log in dir (made when empty) and a recording scheduler, and the
// log's key and handle.
func serviceWith(t *testing.T, w *world, dir string) (*review.Service, *recordingScheduler, string, *tlog.Log) {
	t.Helper()
	ctx := context.Background()
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "log")
		if _, err := tlog.Init(ctx, dir, "test/log"); err != nil {
			t.Fatal(err)
		}
	}
	vkey, err := tlog.ReadVerifierKey(filepath.Join(dir, tlog.VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	l, err := tlog.Open(ctx, dir, tlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	rs := &recordingScheduler{expiries: map[string]time.Time{}}
	svc, err := review.New(review.Config{Store: w.store, Sealer: sealer, Evidence: w.evidence, Signer: fakeSigner{},
		Clocks:  fixedClocks{&review.ClockSpec{Unit: review.CalendarDays, Length: 10, OnExpiry: "window_expired"}},
		Planner: onePlan{}, Scheduler: rs, Publisher: logPublisher{l}, Now: func() time.Time { return w.now }})
	if err != nil {
		t.Fatal(err)
	}
	return svc, rs, vkey, l
}

func toReview(t *testing.T, w *world, svc *review.Service, c review.Case) {
	t.Helper()
	ctx := context.Background()
	for _, st := range []review.State{review.StateInAssessment, review.StateUnderReview} {
		if _, err := svc.Transition(ctx, w.assessor, c.ID, st, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPublish checks that a decision is logged after it is committed,
// that one already in the log (a crash between appending and recording)
// is recorded at its index rather than logged again, and that the audit
// trail's head is anchored in the log only when it moved.
func TestPublish(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	dir := filepath.Join(t.TempDir(), "log")
	if _, err := tlog.Init(ctx, dir, "test/log"); err != nil {
		t.Fatal(err)
	}
	svc, _, vkey, logA := serviceWith(t, w, dir)
	outcomes := json.RawMessage(`{"us-caisi":{"outcome":"cleared"},"eu-gpai":{"outcome":"cleared"}}`)

	c := w.submit(t, w.devA)
	toReview(t, w, svc, c)
	d, err := svc.Decide(ctx, w.official, c.ID, review.DecisionInput{Outcomes: outcomes, Rationale: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	if d.LogIndex != 0 {
		t.Fatalf("decision logged at %d, want 0", d.LogIndex)
	}
	r, err := tlog.ParseReceipt(d.Receipt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlog.VerifyReceipt(d.Bundle, r, vkey); err != nil {
		t.Errorf("stored receipt does not verify: %v", err)
	}
	// The decision's audit entries (its transition and its logging) are
	// anchored in the log at once, not at the next periodic anchor.
	an, err := w.store.LastAnchor(ctx)
	if err != nil {
		t.Fatalf("no anchor after a published decision: %v", err)
	}
	es, err := svc.CaseAudit(ctx, w.official, c.ID, 0, review.MaxPageLimit)
	if err != nil {
		t.Fatal(err)
	}
	var decided, logged int64
	for _, e := range es {
		var det struct {
			Decision string `json:"decision"`
		}
		_ = json.Unmarshal(e.Details, &det)
		switch {
		case e.Action == "case.transition" && det.Decision == d.ID:
			decided = e.Seq
		case e.Action == "decision.logged" && det.Decision == d.ID:
			logged = e.Seq
		}
	}
	if decided == 0 || logged == 0 || an.Seq < decided || an.Seq < logged || an.LogIndex != 1 {
		t.Errorf("anchor %+v does not cover the decision's entries %d and %d at log index 1", an, decided, logged)
	}

	// A decision made by a service with no publisher (a worker deeming an
	// outcome) waits; a publishing service logs it.
	c2 := w.submit(t, w.devA)
	toReview(t, w, w.svc, c2)
	d2, err := w.svc.Decide(ctx, w.official, c2.ID, review.DecisionInput{Outcomes: outcomes, Rationale: "ok"})
	if err != nil || d2.LogIndex != -1 {
		t.Fatalf("Decide without publisher: index %d, %v; want -1", d2.LogIndex, err)
	}
	// Simulate a crash after the append: the bundle is in the log, the
	// index not recorded; then a new process publishes.
	logA.Close(ctx)
	l2, err := tlog.Open(ctx, dir, tlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l2.Append(ctx, d2.Bundle); err != nil {
		t.Fatal(err)
	}
	l2.Close(ctx)
	svc, _, _, _ = serviceWith(t, w, dir)
	n, err := svc.PublishPending(ctx)
	if err != nil || n != 1 {
		t.Fatalf("PublishPending = %d, %v; want 1", n, err)
	}
	got, err := w.store.GetDecision(ctx, d2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LogIndex != 2 {
		t.Errorf("decision recorded at %d, want the existing index 2", got.LogIndex)
	}
	if n, err := svc.PublishPending(ctx); err != nil || n != 0 {
		t.Errorf("second PublishPending = %d, %v; want 0", n, err)
	}

	// Anchoring: PublishPending anchored the head after logging d2.
	a1, made, err := svc.AnchorAudit(ctx)
	if err != nil || made {
		t.Fatalf("AnchorAudit after PublishPending anchored = %v, %v; want the existing anchor", made, err)
	}
	head, _ := w.store.AuditHead(ctx)
	if a1.Seq != head.Seq || a1.Hash != head.Hash || a1.LogIndex != 3 {
		t.Errorf("anchor %+v, want seq %d hash %s at index 3", a1, head.Seq, head.Hash)
	}
	src, err := tlog.OpenSource(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, entry, err := tlog.Prove(ctx, src, vkey, 3)
	if err != nil {
		t.Fatal(err)
	}
	var st review.AnchorStatement
	if err := json.Unmarshal(entry, &st); err != nil || st.Type != review.AnchorType || st.Seq != head.Seq || st.Hash != head.Hash {
		t.Errorf("log entry 3 = %s (%v), want the anchor of seq %d", entry, err, head.Seq)
	}
	w.submit(t, w.devB)
	if a2, made, err := svc.AnchorAudit(ctx); err != nil || !made || a2.Seq <= a1.Seq {
		t.Errorf("AnchorAudit after new entries = %+v %v %v", a2, made, err)
	}
}

// TestScheduling checks that the service schedules clock expiries and
// assessments after the commit, and that Reconcile schedules them again.
func TestScheduling(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	svc, rs, _, _ := serviceWith(t, w, "")
	c, err := svc.Submit(ctx, w.devA, review.Submission{Model: review.SubmittedModel{Digest: digest, Name: "m"},
		Dossier: json.RawMessage(`{}`), Target: review.SubmittedTarget{URL: "https://api.example/v1"}, Profiles: []string{"us-caisi"}})
	if err != nil {
		t.Fatal(err)
	}
	c = w.assign(t, c)
	if due, ok := rs.expiries[c.ID]; !ok || !due.Equal(w.now.AddDate(0, 0, 10)) {
		t.Errorf("expiry scheduled at %v (%v), want %v", due, ok, w.now.AddDate(0, 0, 10))
	}
	as, err := svc.ScheduleAssessment(ctx, w.assessor, c.ID, review.AssessmentInput{})
	if err != nil {
		t.Fatal(err)
	}
	if as.Shards != 3 || len(rs.assessments) != 1 {
		t.Errorf("assessment with %d shards, %d enqueued", as.Shards, len(rs.assessments))
	}
	if _, err := svc.ScheduleAssessment(ctx, w.devA, c.ID, review.AssessmentInput{}); !errors.Is(err, review.ErrForbidden) {
		t.Errorf("developer schedules: %v, want ErrForbidden", err)
	}
	if _, err := svc.ScheduleAssessment(ctx, w.assessor, c.ID, review.AssessmentInput{Suites: []string{"Not A Suite"}}); !errors.Is(err, review.ErrInvalidInput) {
		t.Errorf("bad suite name: %v, want ErrInvalidInput", err)
	}
	rs.expiries, rs.assessments = map[string]time.Time{}, nil
	if err := svc.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := rs.expiries[c.ID]; !ok || len(rs.assessments) != 1 || rs.assessments[0] != as.ID {
		t.Errorf("Reconcile scheduled %v and %v", rs.expiries, rs.assessments)
	}
	// Recording every shard completes nothing by itself; CompleteAssessment
	// moves the case on.
	for i := range 3 {
		got, err := svc.RecordShard(ctx, as.ID, i, []review.Sample{{Seq: i, ID: "s", Suite: "misuse", Outcome: review.SamplePassed, Record: []byte(`{}`)}})
		if err != nil || got.ShardsDone != i+1 {
			t.Fatalf("RecordShard %d = %d done, %v", i, got.ShardsDone, err)
		}
	}
	if _, err := svc.RecordShard(ctx, as.ID, 3, nil); !errors.Is(err, review.ErrInvalidInput) {
		t.Errorf("RecordShard(out of range) = %v", err)
	}
	if _, err := svc.CompleteAssessment(ctx, as.ID, json.RawMessage(`{"schema":"m"}`)); err != nil {
		t.Fatal(err)
	}
	got, _ := svc.GetCase(ctx, w.reviewer, c.ID)
	if got.State != review.StateUnderReview {
		t.Errorf("case %s after its assessment, want under_review", got.State)
	}
}

// TestSubmitOnce checks idempotent submissions.
func TestSubmitOnce(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	sub := review.Submission{Model: review.SubmittedModel{Digest: digest, Name: "m"}, Dossier: json.RawMessage(`{}`),
		Target: review.SubmittedTarget{URL: "https://api.example/v1"}, Profiles: []string{"us-caisi"}}
	h := [32]byte{1}
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := w.svc.SubmitOnce(ctx, w.devA, "key-1", h, sub)
			if err != nil {
				t.Errorf("SubmitOnce: %v", err)
			}
			ids[i] = c.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent SubmitOnce opened %v", ids)
		}
	}
	if _, replayed, err := w.svc.SubmitOnce(ctx, w.devA, "key-1", h, sub); err != nil || !replayed {
		t.Errorf("repeat: replayed %v, %v", replayed, err)
	}
	if _, _, err := w.svc.SubmitOnce(ctx, w.devA, "key-1", [32]byte{2}, sub); !errors.Is(err, review.ErrIdempotencyMismatch) {
		t.Errorf("same key, other request: %v", err)
	}
	// Keys are per user.
	if c, replayed, err := w.svc.SubmitOnce(ctx, w.devB, "key-1", h, sub); err != nil || replayed || c.ID == ids[0] {
		t.Errorf("another user's key: %v %v %v", c.ID, replayed, err)
	}
}

func TestUserNames(t *testing.T) {
	w := newWorld(t)
	names, err := w.svc.UserNames(context.Background(), w.devA, []string{w.reviewer.User.ID, "system", "usr_gone", w.reviewer.User.ID})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{w.reviewer.User.ID: "reviewer (Agency)", "system": "system", "usr_gone": "usr_gone"}
	if len(names) != len(want) {
		t.Errorf("UserNames = %v, want %v", names, want)
	}
	for k, v := range want {
		if names[k] != v {
			t.Errorf("name of %s = %q, want %q", k, names[k], v)
		}
	}
	if _, err := w.svc.UserNames(context.Background(), review.Actor{}, nil); !errors.Is(err, review.ErrUnauthenticated) {
		t.Errorf("UserNames without an actor: %v", err)
	}
}

func TestAssignCase(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := w.submit(t, w.devA)
	got, err := w.svc.AssignCase(ctx, w.official, c.ID, []string{w.reviewer.User.ID, w.assessor.User.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Assignees) != 2 || got.Assignees[0] != w.reviewer.User.ID {
		t.Errorf("assignees %v", got.Assignees)
	}
	if again, _ := w.svc.GetCase(ctx, w.devA, c.ID); len(again.Assignees) != 2 {
		t.Errorf("stored assignees %v", again.Assignees)
	}
	for _, tc := range []struct {
		who  review.Actor
		ids  []string
		want error
	}{
		{w.reviewer, []string{w.reviewer.User.ID}, review.ErrForbidden},
		{w.devA, nil, review.ErrForbidden},
		{w.official, []string{w.devA.User.ID}, review.ErrInvalidInput},
		{w.official, []string{"usr_missing"}, review.ErrInvalidInput},
		{w.official, []string{w.reviewer.User.ID, w.reviewer.User.ID}, review.ErrInvalidInput},
	} {
		if _, err := w.svc.AssignCase(ctx, tc.who, c.ID, tc.ids); !errors.Is(err, tc.want) {
			t.Errorf("AssignCase(%v) by %s = %v, want %v", tc.ids, tc.who.User.Name, err, tc.want)
		}
	}
	staff, err := w.svc.Staff(ctx, w.official)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range staff {
		if u.ID == w.devA.User.ID || u.ID == w.devB.User.ID {
			t.Errorf("a developer is listed as staff: %s", u.Name)
		}
	}
	if len(staff) < 5 { // admin, assessor, reviewer, official, auditor
		t.Errorf("%d staff, want at least 5", len(staff))
	}
	if _, err := w.svc.Staff(ctx, w.devA); !errors.Is(err, review.ErrForbidden) {
		t.Errorf("Staff as developer: %v", err)
	}
	if cleared, err := w.svc.AssignCase(ctx, w.official, c.ID, nil); err != nil || len(cleared.Assignees) != 0 {
		t.Errorf("clearing assignees: %v %v", cleared.Assignees, err)
	}
}

// TestVerifyTrailAnchor checks that VerifyTrail finds a tail deleted up
// to and including the anchored head (which the chain alone cannot show),
// and an intact trail verifies against its anchor.
func TestVerifyTrailAnchor(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	svc, _, _, _ := serviceWith(t, w, "")
	c := w.submit(t, w.devA)
	toReview(t, w, svc, c)
	if _, err := svc.Decide(ctx, w.official, c.ID, review.DecisionInput{
		Outcomes: json.RawMessage(`{"us-caisi":{"outcome":"cleared"},"eu-gpai":{"outcome":"cleared"}}`), Rationale: "ok"}); err != nil {
		t.Fatal(err)
	}
	chk, err := review.VerifyTrail(ctx, w.store)
	if err != nil || chk.Anchor == nil || chk.Anchor.Seq != chk.Head.Seq {
		t.Fatalf("VerifyTrail = %+v, %v; want ok, anchored at the head", chk, err)
	}
	anchored := chk.Anchor.Seq
	for _, q := range []string{`DROP TRIGGER audit_no_delete`, fmt.Sprintf(`DELETE FROM audit WHERE seq >= %d`, anchored-1)} {
		if _, err := w.store.SQL().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_, err = review.VerifyTrail(ctx, w.store)
	var ae *review.AuditError
	if !errors.As(err, &ae) || ae.Seq != anchored-1 || !strings.Contains(ae.Reason, "anchored") {
		t.Errorf("VerifyTrail after deleting the tail = %v, want missing seq %d against the anchor", err, anchored-1)
	}
}
