package main

// Load benchmarks of the review service as `clearance serve` and
// `clearance worker` run it (docs/benchmarks.md has the figures):
//
//	go test ./cmd/clearance -run '^$' -bench ServiceAPI -benchtime 3s
//	go test ./cmd/clearance -run '^$' -bench AssessmentThroughput -benchtime 3x
//
// BenchmarkServiceAPI drives the full HTTP server (API, UI and log
// mounts, the stack openStack builds) over loopback from concurrent
// keep-alive clients and reports req/s and the p50/p99 latency of case
// reads, case listings and submissions, on SQLite and PostgreSQL.
// BenchmarkAssessmentThroughput runs whole assessments through the
// PostgreSQL job queue with one and with four worker stacks and prints
// the throughput ratio. The PostgreSQL benchmarks skip unless
// CLEARANCE_TEST_POSTGRES names a server (eval "$(bash .ci/postgres.sh)");
// each run works in a fresh schema, dropped afterwards. Benchmarks only:
// plain `go test` runs none of this.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/target"
)

const (
	// loadCases is the number of cases seeded before the API benchmark.
	loadCases = 200
	// loadParallelism × GOMAXPROCS clients send requests at once.
	loadParallelism = 8
	// loadListLimit is the page size of the list-cases requests.
	loadListLimit = 50

	// targetLatency is added to every reference-model response, so that
	// an assessment waits on its model the way it does on a real one
	// instead of being bound by the simulator's CPU.
	targetLatency = 20 * time.Millisecond
	// Each assessment runs the misuse and jailbreak suites with loadLimit
	// samples each, cut
	// into shards of loadShardSize samples with loadConcurrency requests
	// in flight per shard.
	loadLimit       = 200
	loadShardSize   = 25
	loadConcurrency = 8
)

// loadTargetURL is where seeded and submitted cases say their model is;
// the API benchmark never calls it.
const loadTargetURL = "http://127.0.0.1:9/v1"

func BenchmarkServiceAPI(b *testing.B) {
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			base, st := startLoadServer(b, store)
			token, ids := seedLoad(b, st.svc)
			// Room for every client's keep-alive connection, whatever GOMAXPROCS.
			tr := &http.Transport{MaxIdleConnsPerHost: 256}
			b.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr}
			body, err := json.Marshal(loadSubmission(b, "bench-submitted"))
			if err != nil {
				b.Fatal(err)
			}
			get := func(path string) *http.Request {
				r, err := http.NewRequest(http.MethodGet, base+path, nil)
				if err != nil {
					b.Fatal(err)
				}
				r.Header.Set("Authorization", "Bearer "+token)
				return r
			}
			b.Run("read-case", func(b *testing.B) {
				measureHTTP(b, client, http.StatusOK, func(i int) *http.Request {
					return get("/api/v1/cases/" + ids[i%len(ids)])
				})
			})
			b.Run("list-cases", func(b *testing.B) {
				measureHTTP(b, client, http.StatusOK, func(int) *http.Request {
					return get(fmt.Sprintf("/api/v1/cases?limit=%d", loadListLimit))
				})
			})
			b.Run("submit", func(b *testing.B) {
				measureHTTP(b, client, http.StatusCreated, func(int) *http.Request {
					r, err := http.NewRequest(http.MethodPost, base+"/api/v1/cases", bytes.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					r.Header.Set("Authorization", "Bearer "+token)
					r.Header.Set("Content-Type", "application/json")
					return r
				})
			})
		})
	}
}

// measureHTTP sends the requests req makes from loadParallelism ×
// GOMAXPROCS goroutines, checks each status, and reports the rate and
// the latency percentiles of this run.
func measureHTTP(b *testing.B, client *http.Client, want int, req func(i int) *http.Request) {
	var (
		mu  sync.Mutex
		lat []time.Duration
	)
	b.SetParallelism(loadParallelism)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for i := 0; pb.Next(); i++ {
			r := req(i)
			t0 := time.Now()
			resp, err := client.Do(r)
			if err != nil {
				b.Errorf("%s %s: %v", r.Method, r.URL.Path, err)
				return
			}
			_, cerr := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mine = append(mine, time.Since(t0))
			if resp.StatusCode != want || cerr != nil {
				b.Errorf("%s %s: status %d (%v), want %d", r.Method, r.URL.Path, resp.StatusCode, cerr, want)
				return
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(percentileMS(lat, 50), "p50_ms")
	b.ReportMetric(percentileMS(lat, 99), "p99_ms")
}

// percentileMS returns the p-th percentile of sorted, in milliseconds
// (nearest rank).
func percentileMS(sorted []time.Duration, p int) float64 {
	i := max(0, (len(sorted)*p+99)/100-1)
	return float64(sorted[i]) / float64(time.Millisecond)
}

// startLoadServer starts the serving stack on a fresh store ("sqlite" or
// "postgres") behind the full HTTP server on a 127.0.0.1 listener, closed
// when the benchmark ends, and returns its base URL and the stack.
func startLoadServer(b *testing.B, store string) (string, *stack) {
	sf := loadServiceFlags(b, store)
	e, _ := quietEnv()
	ctx := b.Context()
	st, err := sf.openStack(ctx, e, loadStackOptions())
	if err != nil {
		b.Fatalf("open stack: %v", err)
	}
	b.Cleanup(st.Close)
	srv, err := st.httpServer(e)
	if err != nil {
		b.Fatalf("http server: %v", err)
	}
	if err := st.start(ctx, false); err != nil {
		b.Fatalf("start stack: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatalf("listen: %v", err)
	}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), st
}

// loadStackOptions are the options of the benchmarks' serving stack:
// `clearance serve --workers 0`, with quotas on (so every submission
// pays for the check, as in production) but high enough for the many
// cases one developer organisation submits in a benchmark.
func loadStackOptions() stackOptions {
	return stackOptions{owner: true, quota: review.Quota{OpenCases: 1 << 30, Bytes: 1 << 40}}
}

// loadServiceFlags returns the flags of a fresh service on store
// ("sqlite" or "postgres"), skipping when PostgreSQL is not configured.
func loadServiceFlags(b *testing.B, store string) serviceFlags {
	sf := serviceFlags{data: privateDir(b)}
	if store == "postgres" {
		sf.database = loadSchema(b)
	}
	return sf
}

// loadSchema creates a fresh schema on the CLEARANCE_TEST_POSTGRES server,
// dropped when the benchmark ends, and returns a URL whose search_path
// selects it (store/postgres.Open and River both honour it).
func loadSchema(b *testing.B) string {
	base := os.Getenv("CLEARANCE_TEST_POSTGRES")
	if base == "" {
		b.Skip(`CLEARANCE_TEST_POSTGRES is unset: eval "$(bash .ci/postgres.sh)" to run the PostgreSQL benchmarks`)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		b.Fatalf("CLEARANCE_TEST_POSTGRES %q: want a postgres:// URL", base)
	}
	var rb [6]byte
	if _, err := rand.Read(rb[:]); err != nil {
		b.Fatal(err)
	}
	schema := "clearance_bench_" + hex.EncodeToString(rb[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		b.Fatalf("connect postgres: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		b.Fatalf("create schema: %v", err)
	}
	// Registered before the stacks' Close, so it runs after them.
	b.Cleanup(func() {
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			b.Errorf("drop schema %s: %v", schema, err)
		}
		conn.Close(ctx)
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// loadSubmission is a valid submission of a model under the demo
// profiles, with the demo dossier.
func loadSubmission(b *testing.B, model string) review.Submission {
	dossier, err := dossierJSONOf("demo dossier", demoDossier)
	if err != nil {
		b.Fatal(err)
	}
	return review.Submission{
		Model:    review.SubmittedModel{Digest: "sha256:" + strings.Repeat("5e", 32), Name: model},
		Dossier:  dossier,
		Target:   review.SubmittedTarget{URL: loadTargetURL},
		Profiles: demoProfiles,
	}
}

// loadActors are the people a load benchmark acts as.
type loadActors struct {
	dev, assessor review.Actor
	devToken      string
}

// seedActors bootstraps an agency admin and adds a developer organisation
// with one developer and an assessor organisation with one assessor.
func seedActors(b *testing.B, svc *review.Service) loadActors {
	ctx := b.Context()
	admin, _, err := svc.Bootstrap(ctx, "Bench Review Office", "admin", "admin@review.example")
	if err != nil {
		b.Fatalf("bootstrap: %v", err)
	}
	var la loadActors
	person := func(org, kind, name string, role review.Role) (review.Actor, string) {
		o, err := svc.CreateOrg(ctx, admin, org, review.OrgKind(kind))
		if err != nil {
			b.Fatalf("create org %s: %v", org, err)
		}
		u, err := svc.CreateUser(ctx, admin, review.UserInput{OrgID: o.ID, Name: name, Email: name + "@example.com", Roles: []review.Role{role}})
		if err != nil {
			b.Fatalf("create user %s: %v", name, err)
		}
		_, secret, err := svc.IssueToken(ctx, admin, u.ID, "bench", time.Time{})
		if err != nil {
			b.Fatalf("issue token: %v", err)
		}
		a, err := svc.Authenticate(ctx, secret)
		if err != nil {
			b.Fatalf("authenticate %s: %v", name, err)
		}
		return a, secret
	}
	la.dev, la.devToken = person("Bench Labs", string(review.OrgDeveloper), "dev", review.RoleDeveloper)
	la.assessor, _ = person("Bench Assessors", string(review.OrgAssessor), "assessor", review.RoleAssessor)
	return la
}

// seedLoad seeds the API benchmark's store: the actors and loadCases
// cases of the developer. It returns the developer's token and the ids.
func seedLoad(b *testing.B, svc *review.Service) (string, []string) {
	la := seedActors(b, svc)
	ids := make([]string, loadCases)
	for i := range ids {
		c, err := svc.Submit(b.Context(), la.dev, loadSubmission(b, fmt.Sprintf("bench-%03d", i)))
		if err != nil {
			b.Fatalf("seed case %d: %v", i, err)
		}
		ids[i] = c.ID
	}
	return la.devToken, ids
}

// BenchmarkAssessmentThroughput measures samples/s of whole assessments
// (schedule → shards on the job queue → metrics) on PostgreSQL with one
// and with four worker stacks, and logs the ratio. Each iteration submits
// a case under a new model name (so the response cache, keyed by the
// target's identity, never answers) and assesses misuse and jailbreak,
// loadLimit samples each, in shards of loadShardSize.
//
// A worker is a separate stack (openStack with workers: 1), as a
// `clearance worker --workers 1` process is: its own pgx pool and River
// client competing for shards. One stack with workers: N would share one
// pool and one fetch loop, measuring that pool rather than scale-out.
// The scheduling stack (owner, no workers) is `clearance serve
// --workers 0`. All share the data directory, as the deployment shares
// the age key.
func BenchmarkAssessmentThroughput(b *testing.B) {
	rates := map[int][]float64{} // one per -count run
	for _, n := range []int{1, 4} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			rates[n] = append(rates[n], assessLoad(b, n))
		})
	}
	// A parent benchmark's log is shown only with -v: print the ratio.
	if r1, r4 := median(rates[1]), median(rates[4]); r1 > 0 && r4 > 0 {
		fmt.Printf("BenchmarkAssessmentThroughput: workers=4 / workers=1 = %.2f (median %.1f / %.1f samples/s over %d runs)\n",
			r4/r1, r4, r1, min(len(rates[1]), len(rates[4])))
	}
}

// assessLoad runs b.N assessments on a fresh schema with n worker stacks
// and returns the samples/s it reported.
func assessLoad(b *testing.B, n int) float64 {
	sf := loadServiceFlags(b, "postgres")
	e, _ := quietEnv()
	ctx := b.Context()
	server, err := sf.openStack(ctx, e, stackOptions{owner: true, shardSize: loadShardSize})
	if err != nil {
		b.Fatalf("open server stack: %v", err)
	}
	b.Cleanup(server.Close)
	if err := server.start(ctx, false); err != nil {
		b.Fatalf("start server stack: %v", err)
	}
	for i := range n {
		w, err := sf.openStack(ctx, e, stackOptions{workers: 1, concurrency: loadConcurrency, shardSize: loadShardSize, targetEgress: referenceEgress()})
		if err != nil {
			b.Fatalf("open worker stack %d: %v", i, err)
		}
		b.Cleanup(w.Close)
		if err := w.start(ctx, true); err != nil {
			b.Fatalf("start worker stack %d: %v", i, err)
		}
	}
	url, stop, err := slowReference("vulnerable", targetLatency)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	la := seedActors(b, server.svc)

	var samples, shards int
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		sub := loadSubmission(b, fmt.Sprintf("bench-assessed-%d", i))
		sub.Target.URL = url
		c, err := server.svc.Submit(ctx, la.dev, sub)
		if err != nil {
			b.Fatalf("submit: %v", err)
		}
		as, err := server.svc.ScheduleAssessment(ctx, la.assessor, c.ID, review.AssessmentInput{Suites: []string{"misuse", "jailbreak"}, Limit: loadLimit})
		if err != nil {
			b.Fatalf("schedule assessment: %v", err)
		}
		if as, err = awaitAssessment(ctx, server.svc, la.assessor, as.ID); err != nil {
			b.Fatal(err)
		}
		var m assess.Metrics
		if err := json.Unmarshal(as.Metrics, &m); err != nil {
			b.Fatalf("metrics of %s: %v", as.ID, err)
		}
		if m.Errors != 0 || m.Scored == 0 {
			b.Fatalf("assessment %s: %d scored, %d errors", as.ID, m.Scored, m.Errors)
		}
		samples += m.Scored + m.Errors
		shards += as.Shards
	}
	elapsed := time.Since(start)
	failed, err := failedShardAttempts(ctx, sf.database)
	if err != nil {
		b.Fatal(err)
	}
	if os.Getenv("CLEARANCE_BENCH_TRACE") == "1" {
		traceJobs(b, sf.database)
	}
	rate := float64(samples) / elapsed.Seconds()
	b.ReportMetric(rate, "samples/s")
	b.ReportMetric(float64(failed)/float64(b.N), "failed-attempts/op")
	b.ReportMetric(float64(samples)/float64(b.N), "samples/op")
	b.ReportMetric(float64(shards)/float64(b.N), "shards/op")
	return rate
}

// median returns the median of xs, 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// awaitAssessment polls an assessment every 20 ms until it is done
// (finer than the demo's 100 ms, which would blur short runs).
func awaitAssessment(ctx context.Context, svc *review.Service, a review.Actor, id string) (review.Assessment, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	return waitAssessment(ctx, svc, a, id, 20*time.Millisecond)
}

// slowReference serves a built-in reference model on loopback with a
// fixed delay before each chat completion, and returns its base URL.
func slowReference(profile string, delay time.Duration) (string, func(), error) {
	oracle, err := demoOracle()
	if err != nil {
		return "", nil, err
	}
	p, err := loadReferenceProfile(profile)
	if err != nil {
		return "", nil, err
	}
	ref, err := target.NewReference(p, oracle)
	if err != nil {
		return "", nil, err
	}
	h := target.NewReferenceServer(ref, target.ServerOptions{})
	return serveLoopback(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/chat/completions") {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
}

// failedShardAttempts counts the shard job attempts that failed (and
// were retried) in the schema at dsn.
func failedShardAttempts(ctx context.Context, dsn string) (int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("count failed shard attempts: %w", err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT coalesce(sum(coalesce(array_length(errors, 1), 0)), 0)
		FROM river_job WHERE kind = 'assess_shard'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count failed shard attempts: %w", err)
	}
	return n, nil
}

// traceJobs logs when each shard job of the schema at dsn was inserted,
// taken up and finished (ms after the first insert), and by which River
// client: where the time between shards goes.
func traceJobs(b *testing.B, dsn string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatalf("trace jobs: %v", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id, created_at, attempted_at, finalized_at, attempted_by[array_length(attempted_by, 1)], attempt,
		coalesce(errors[1]->>'error', '')
		FROM river_job WHERE kind = 'assess_shard' ORDER BY id`)
	if err != nil {
		b.Fatalf("trace jobs: %v", err)
	}
	defer rows.Close()
	var t0 time.Time
	for rows.Next() {
		var (
			id          int64
			created     time.Time
			taken, done *time.Time
			client      *string
			attempt     int
			firstErr    string
		)
		if err := rows.Scan(&id, &created, &taken, &done, &client, &attempt, &firstErr); err != nil {
			b.Fatalf("trace jobs: %v", err)
		}
		if t0.IsZero() {
			t0 = created
		}
		ms := func(t *time.Time) string {
			if t == nil {
				return "-"
			}
			return fmt.Sprint(t.Sub(t0).Milliseconds())
		}
		b.Logf("shard job %d: inserted %s, taken %s, finished %s (ms); attempt %d by %s %s", id, ms(&created), ms(taken), ms(done), attempt, deref(client), firstErr)
	}
	if err := rows.Err(); err != nil {
		b.Fatalf("trace jobs: %v", err)
	}
}

func deref(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}
