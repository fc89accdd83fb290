package work

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/egress"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/store/sqlite"
)

// metadataBody is what the fake cloud metadata service answers: a
// credential a developer must never read back through the service.
const metadataBody = `{"Code":"Success","AccessKeyId":"ASIAFAKEMETADATAKEY7","SecretAccessKey":"metadata-secret-do-not-leak"}`

// secretMarkers are the parts of metadataBody a leak would show.
var secretMarkers = []string{"ASIAFAKEMETADATAKEY7", "metadata-secret-do-not-leak", "AccessKeyId"}

// ssrfEnv is a review service on real SQLite with a developer, an
// assessor and a fake metadata service on 127.0.0.1.
type ssrfEnv struct {
	dir      string
	svc      *review.Service
	db       *sqlite.DB
	dev, asr review.Actor
	admin    review.Actor
	hits     atomic.Int32
	meta     *httptest.Server
	port     string
}

func newSSRFEnv(t *testing.T, h http.HandlerFunc) *ssrfEnv {
	t.Helper()
	ctx := context.Background()
	e := &ssrfEnv{dir: t.TempDir()}
	db, err := sqlite.Open(ctx, filepath.Join(e.dir, "clearance.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	id, _ := review.GenerateAgeIdentity()
	sealer, _ := review.NewAgeSealer(id)
	e.svc, err = review.New(review.Config{Store: db, Sealer: sealer, Evidence: noMissing{}, Planner: &Planner{ShardSize: 50, SkipJudge: true}, Scheduler: nopScheduler{}})
	if err != nil {
		t.Fatal(err)
	}
	admin, _, err := e.svc.Bootstrap(ctx, "Agency", "root", "")
	if err != nil {
		t.Fatal(err)
	}
	e.admin = admin
	e.dev = actor(t, e.svc, admin, "Lab", review.OrgDeveloper, review.RoleDeveloper)
	e.asr = actor(t, e.svc, admin, "Institute", review.OrgAssessor, review.RoleAssessor)
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(metadataBody))
		}
	}
	e.meta = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.hits.Add(1); h(w, r) }))
	t.Cleanup(e.meta.Close)
	e.port = strconv.Itoa(e.meta.Listener.Addr().(*net.TCPAddr).Port)
	return e
}

// run submits a case aimed at url, schedules a small assessment and runs
// its only shard through a runner with the given egress policy.
func (e *ssrfEnv) run(t *testing.T, url string, p egress.Policy) review.Assessment {
	t.Helper()
	ctx := context.Background()
	c, err := e.svc.Submit(ctx, e.dev, review.Submission{Model: review.SubmittedModel{Digest: "sha256:" + strings.Repeat("b", 64), Name: "m-" + strconv.Itoa(int(e.hits.Load()))},
		Dossier: json.RawMessage(`{}`), Target: review.SubmittedTarget{URL: url, Credentials: "sk-developer"}, Profiles: []string{"us-2026-draft"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AssignCase(ctx, e.admin, c.ID, []string{e.asr.User.ID}); err != nil {
		t.Fatal(err)
	}
	as, err := e.svc.ScheduleAssessment(ctx, e.asr, c.ID, review.AssessmentInput{Suites: []string{"misuse"}, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(RunnerConfig{Service: e.svc, Egress: p, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RunShard(ctx, ShardArgs{AssessmentID: as.ID, Shard: 0, Shards: as.Shards}); err != nil {
		t.Logf("RunShard: %v", err)
	}
	return as
}

// records returns every stored sample record of an assessment, harmful
// ones opened, and the assessment and samples as the developer reads them.
func (e *ssrfEnv) records(t *testing.T, id string) (all []assess.Record, devView []byte) {
	t.Helper()
	ctx := context.Background()
	err := e.svc.ShardSamples(ctx, id, func(sm review.Sample) error {
		var rec assess.Record
		if err := json.Unmarshal(sm.Record, &rec); err != nil {
			return err
		}
		all = append(all, rec)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	as, err := e.svc.GetAssessment(ctx, e.dev, id)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := e.svc.Samples(ctx, e.dev, review.SampleFilter{AssessmentID: id, AfterSeq: -1, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	devView, _ = json.Marshal(map[string]any{"assessment": as, "samples": ss})
	for _, sm := range ss {
		devView = append(devView, sm.Record...)
	}
	return all, devView
}

// assertNoLeak fails if the metadata body is in anything the developer
// reads, in any stored record, or anywhere in the data directory's files
// (database and WAL).
func (e *ssrfEnv) assertNoLeak(t *testing.T, all []assess.Record, devView []byte) {
	t.Helper()
	recs, _ := json.Marshal(all)
	for _, m := range secretMarkers {
		if bytes.Contains(devView, []byte(m)) {
			t.Errorf("the developer's view contains %q", m)
		}
		if bytes.Contains(recs, []byte(m)) {
			t.Errorf("a stored sample record contains %q", m)
		}
	}
	filepath.WalkDir(e.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range secretMarkers {
			if bytes.Contains(b, []byte(m)) {
				t.Errorf("%s contains %q", filepath.Base(path), m)
			}
		}
		return nil
	})
}

// TestRunnerRefusesInternalTargets runs a shard against a target URL
// that points at a fake metadata service on the service's own host, by
// address and by names: the service never reaches it, and the developer
// sees a refusal that names no port state and quotes no remote text.
func TestRunnerRefusesInternalTargets(t *testing.T) {
	e := newSSRFEnv(t, nil)
	var msgs []string
	for _, url := range []string{
		e.meta.URL,
		"http://localhost:" + e.port,
		"http://[::1]:" + e.port,
		"http://[::ffff:127.0.0.1]:" + e.port,
		"http://[64:ff9b::7f00:1]:" + e.port,
	} {
		t.Run(url, func(t *testing.T) {
			as := e.run(t, url, egress.Policy{})
			all, dev := e.records(t, as.ID)
			if len(all) == 0 {
				t.Fatal("no samples recorded")
			}
			for _, rec := range all {
				if rec.Error == nil || rec.Error.Kind != "refused" || rec.Error.Status != 0 {
					t.Fatalf("sample %s error = %+v, want kind refused and no status", rec.ID, rec.Error)
				}
				msgs = append(msgs, rec.Error.Message)
			}
			e.assertNoLeak(t, all, dev)
		})
	}
	if n := e.hits.Load(); n != 0 {
		t.Fatalf("the metadata service got %d requests", n)
	}
	// Port-scan resistance: a closed port gives the same error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	as := e.run(t, "http://"+closed, egress.Policy{})
	all, _ := e.records(t, as.ID)
	for _, rec := range all {
		if rec.Error == nil || rec.Error.Message != msgs[0] || rec.Error.Kind != "refused" {
			t.Errorf("closed port: error %+v, want kind refused and %q as for an open one", rec.Error, msgs[0])
		}
	}
	for _, m := range msgs {
		if m != msgs[0] {
			t.Errorf("refusal messages differ: %q and %q", m, msgs[0])
		}
	}
}

// TestRunnerAllowedTargetShowsOnlyStatus allows the fake metadata
// service's address explicitly: the request now goes through, and the
// developer still sees only the error kind and the HTTP status.
func TestRunnerAllowedTargetShowsOnlyStatus(t *testing.T) {
	e := newSSRFEnv(t, nil)
	as := e.run(t, e.meta.URL, egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if e.hits.Load() == 0 {
		t.Fatal("the allowed target got no request")
	}
	all, dev := e.records(t, as.ID)
	if len(all) == 0 {
		t.Fatal("no samples recorded")
	}
	for _, rec := range all {
		want := &assess.SampleError{Source: "target", Kind: "client", Status: 400, Message: "the endpoint answered HTTP 400 Bad Request", Attempts: 1}
		if rec.Error == nil || *rec.Error != *want {
			t.Errorf("sample %s error = %+v, want %+v", rec.ID, rec.Error, want)
		}
	}
	e.assertNoLeak(t, all, dev)
}

// TestRunnerRefusesRedirects has an allowed target answer every request
// with a redirect to an internal address: the runner does not follow it.
func TestRunnerRefusesRedirects(t *testing.T) {
	internal := newSSRFEnv(t, nil) // only its metadata service is used
	e := newSSRFEnv(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.meta.URL+"/latest/meta-data/iam/security-credentials/", http.StatusFound)
	})
	// Both servers are on 127.0.0.1: the redirect target is allowed too,
	// so only the refusal of redirects keeps it unreached.
	as := e.run(t, e.meta.URL, egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if e.hits.Load() == 0 {
		t.Fatal("the allowed target got no request")
	}
	if n := internal.hits.Load(); n != 0 {
		t.Fatalf("the redirect was followed: the internal service got %d requests", n)
	}
	all, dev := e.records(t, as.ID)
	for _, rec := range all {
		if rec.Error == nil || rec.Error.Kind != "refused" || strings.Contains(rec.Error.Message, internal.port) {
			t.Errorf("sample %s error = %+v, want kind refused, naming no address", rec.ID, rec.Error)
		}
	}
	e.assertNoLeak(t, all, dev)
}
