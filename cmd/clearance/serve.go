package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/sandbox"
	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/store/postgres"
	"github.com/clearance-dev/clearance/store/sqlite"
	"github.com/clearance-dev/clearance/tlog"
	"github.com/clearance-dev/clearance/web"
	"github.com/clearance-dev/clearance/work"
)

// serviceFlags select where the review service keeps its state.
type serviceFlags struct {
	data     string
	database string
	// trust is the trust file of the authorities whose evidence the
	// service recognises (serve --trust); "" means DATA/trust.json.
	trust string
}

func (sf *serviceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&sf.data, "data", "clearance-data", "data directory: SQLite database (unless --database), age key, transparency log")
	fs.StringVar(&sf.database, "database", "", "PostgreSQL URL (postgres://…) for the scale-out store; default: SQLite in --data")
}

// openStore opens (and migrates) the store the flags name.
func (sf *serviceFlags) openStore(ctx context.Context) (review.Store, func(), error) {
	if err := checkDataDir(sf.data); err != nil {
		return nil, nil, err
	}
	if sf.database != "" {
		if !strings.HasPrefix(sf.database, "postgres://") && !strings.HasPrefix(sf.database, "postgresql://") {
			return nil, nil, usageError("--database must be a postgres:// URL")
		}
		db, err := postgres.Open(ctx, sf.database)
		if err != nil {
			return nil, nil, err
		}
		return db, db.Close, nil
	}
	db, err := sqlite.Open(ctx, filepath.Join(sf.data, "clearance.db"))
	if err != nil {
		return nil, nil, err
	}
	return db, func() { db.Close() }, nil
}

// sealer returns the age identity that encrypts submitted endpoint
// credentials, creating DATA/age.key (mode 0600) on first use.
func (sf *serviceFlags) sealer() (*review.AgeSealer, error) {
	p := filepath.Join(sf.data, "age.key")
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return nil, err
		}
		b = []byte(id.String() + "\n")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return nil, fmt.Errorf("write age key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read age key: %w", err)
	}
	return review.NewAgeSealer(string(b))
}

// service builds the review service over the store, with no job queue,
// signer or log: for admin commands.
func (sf *serviceFlags) service(e *env, st review.Store) (*review.Service, error) {
	sealer, err := sf.sealer()
	if err != nil {
		return nil, err
	}
	return review.New(review.Config{Store: st, Sealer: sealer, Evidence: policyEvidence{store: st, now: e.now}, Clocks: policyClocks{}, Now: e.now, Logger: e.log})
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "serve [--addr 127.0.0.1:PORT] [--data DIR] [--database postgres://…] [--workers N] [--metrics-addr 127.0.0.1:PORT [--metrics-token-file F]]")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	var sf serviceFlags
	sf.register(fs)
	workers := fs.Int("workers", work.AutoWorkers, "assessment shards this process takes at once; how many of them send is each target's shared limit's to say (0: leave them to 'clearance worker' processes)")
	shardSize := fs.Int("shard-size", work.DefaultShardSize, "samples per assessment shard")
	conformEvery := fs.Duration("conform-every", defaultConformEvery, "period of the conformance checks of each cleared decision whose case has an endpoint fingerprint (0: none scheduled; at least 1m)")
	anchorEvery := fs.Duration("anchor-every", 10*time.Minute, "how often the audit trail's head is anchored in the transparency log (also after every decision)")
	metricsAddr := fs.String("metrics-addr", "", "listen address of Prometheus /metrics, apart from --addr (such as 127.0.0.1:9090); empty: metrics are not served")
	metricsTokenFile := fs.String("metrics-token-file", "", "file holding a bearer token that /metrics requests on --metrics-addr must carry")
	quotaCases := fs.Int("quota-open-cases", 100, "open (undecided, not withdrawn) cases one developer organisation may have; 0: unlimited")
	quotaBytes := byteSize(1 << 30)
	var witnesses witnessFlag
	fs.Var(&witnesses, "witness", "a witness that cosigns the log's checkpoints (C2SP tlog-witness), as BASEURL=VKEY (the log POSTs to BASEURL/add-checkpoint); repeatable; default none")
	witnessThreshold := fs.Int("witness-threshold", 0, "cosignatures a checkpoint needs before it is published (0: all --witness)")
	witnessFailOpen := fs.Bool("witness-fail-open", false, "publish a checkpoint that did not reach --witness-threshold (default: hold it back, and appends wait)")
	fs.Var(&quotaBytes, "quota-bytes", "bytes of dossiers one developer organisation may store, such as 500MiB or 2GB; 0: unlimited")
	fs.StringVar(&sf.trust, "trust", "", "trust file of the other authorities whose signed decisions may be recognised as evidence (managed with clearance trust add --trust FILE; read at each import); default DATA/trust.json")
	var jf jobFlags
	jf.register(fs)
	var cookies cookieFlags
	cookies.register(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	secureCookies, err := cookies.resolve(fs)
	if err != nil {
		return err
	}
	if *quotaCases < 0 {
		return usageError("--quota-open-cases must be ≥ 0")
	}
	if *workers < 0 || *shardSize < 1 || *anchorEvery <= 0 {
		return usageError("--workers must be ≥ 0, --shard-size ≥ 1 and --anchor-every > 0")
	}
	if *conformEvery != 0 && *conformEvery < time.Minute {
		return usageError("--conform-every %v: want 0 (none) or at least 1m", *conformEvery)
	}
	if *metricsTokenFile != "" && *metricsAddr == "" {
		return usageError("--metrics-token-file needs --metrics-addr")
	}
	var metricsToken string
	if *metricsTokenFile != "" {
		b, err := os.ReadFile(*metricsTokenFile)
		if err != nil {
			return fmt.Errorf("read --metrics-token-file: %w", err)
		}
		if metricsToken = strings.TrimSpace(string(b)); metricsToken == "" {
			return usageError("--metrics-token-file %s is empty", *metricsTokenFile)
		}
	}
	judge, err := jf.judge()
	if err != nil {
		return err
	}
	st, err := sf.openStack(ctx, e, stackOptions{workers: *workers, owner: true, shardSize: *shardSize,
		shardTimeout: jf.shardTimeout, rescueMargin: jf.rescueMargin, concurrency: jf.concurrency, calibration: jf.calibration, targetEgress: jf.targetNets.policy(), webhookEgress: jf.webhookNets.policy(),
		quota: review.Quota{OpenCases: *quotaCases, Bytes: int64(quotaBytes)}, judge: judge, sandbox: string(jf.sandbox),
		logWitnesses: tlog.Options{Witnesses: witnesses, WitnessThreshold: *witnessThreshold, WitnessFailOpen: *witnessFailOpen},
		conformEvery: *conformEvery})
	if err != nil {
		return err
	}
	defer st.Close()
	st.secureCookies = secureCookies
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv, err := st.httpServer(e)
	if err != nil {
		ln.Close()
		return err
	}
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on --metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", st.web.MetricsHandler(metricsToken))
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute}
		go func() {
			if err := msrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				e.log.Warn("serve metrics", "err", err)
			}
		}()
		st.closers = append(st.closers, func(ctx context.Context) { _ = msrv.Shutdown(ctx) })
		fmt.Fprintf(e.stdout, "clearance metrics at http://%s/metrics\n", mln.Addr())
	}
	if err := st.start(ctx, *workers > 0); err != nil {
		ln.Close()
		return err
	}
	store := "SQLite " + filepath.Join(sf.data, "clearance.db")
	if sf.database != "" {
		store = "PostgreSQL"
	}
	fmt.Fprintf(e.stdout, "clearance serving http://%s (UI /, API /api/v1, log /log/, health /healthz) on %s with %d workers\n", ln.Addr(), store, *workers)
	return st.serve(ctx, e, srv, ln, *anchorEvery)
}

// httpServer builds the HTTP server of the API, UI and log.
func (s *stack) httpServer(e *env) (*http.Server, error) {
	lh, err := tlog.NewHandler(s.logDir)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func(context.Context) { lh.Close() })
	pages, err := s.uiHandler(e)
	if err != nil {
		return nil, err
	}
	// Imports are spooled (sealed, to a key that dies with the request)
	// in DATA/tmp; a crash leaves them unreadable, and they go here.
	tmp := filepath.Join(s.dataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	if err := web.RemoveSpools(tmp); err != nil {
		return nil, err
	}
	ws, err := web.New(web.Config{Service: s.svc, Logger: e.log, LogHandler: lh, UI: pages, Now: e.now, TempDir: tmp,
		Evaluate: func(ctx context.Context, c review.Case) (*policy.Decision, error) {
			return evaluateCase(ctx, s.store, c, e.now())
		}})
	if err != nil {
		return nil, err
	}
	s.web = ws
	return &http.Server{Handler: ws.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}, nil
}

// serve serves until ctx ends, publishing pending decisions and anchoring
// the audit trail in the background.
func (s *stack) serve(ctx context.Context, e *env, srv *http.Server, ln net.Listener, anchorEvery time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	publish := time.NewTicker(2 * time.Second)
	defer publish.Stop()
	anchor := time.NewTicker(anchorEvery)
	defer anchor.Stop()
	// Anchor at once: entries written after the last anchor by a process
	// that then crashed are covered now, not anchorEvery later.
	if _, _, err := s.svc.AnchorAudit(ctx); err != nil {
		e.log.Warn("anchor audit trail", "err", err)
	}
	// Duties past their deadline are marked overdue by their duty_check
	// jobs; the sweep, at start and with each anchor, is the backstop for
	// a job lost (or a server that ran with no workers).
	sweep := func() {
		if n, err := s.svc.SweepDuties(ctx); err != nil {
			e.log.Warn("sweep duties", "err", err)
		} else if n > 0 {
			e.log.Info("duties overdue", "n", n)
		}
	}
	sweep()
	for {
		select {
		case err := <-errc:
			return err
		case <-publish.C:
			if _, err := s.svc.PublishPending(ctx); err != nil {
				e.log.Warn("publish decisions", "err", err)
			}
			if _, err := s.hooks.Dispatch(ctx); err != nil {
				e.log.Warn("dispatch webhooks", "err", err)
			}
		case <-anchor.C:
			if _, _, err := s.svc.AnchorAudit(ctx); err != nil {
				e.log.Warn("anchor audit trail", "err", err)
			}
			sweep()
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			if _, err := s.svc.PublishPending(sctx); err != nil {
				e.log.Warn("publish decisions", "err", err)
			}
			if _, _, err := s.svc.AnchorAudit(sctx); err != nil {
				e.log.Warn("anchor audit trail", "err", err)
			}
			return nil
		}
	}
}

func runWorker(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "worker", "worker --database postgres://… [--data DIR] [--workers N]")
	var sf serviceFlags
	sf.register(fs)
	workers := fs.Int("workers", 0, fmt.Sprintf("assessment shards this process takes at once, a cap; how many of them send is each target's shared limit's to say (0: automatic, %d)", work.AutoWorkers))
	var jf jobFlags
	jf.register(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if sf.database == "" {
		return usageError("worker needs --database postgres://… (with embedded SQLite, 'clearance serve' runs the workers itself)")
	}
	if *workers < 0 {
		return usageError("--workers must be ≥ 0 (0: automatic)")
	}
	if *workers == 0 {
		*workers = work.AutoWorkers
	}
	judge, err := jf.judge()
	if err != nil {
		return err
	}
	st, err := sf.openStack(ctx, e, stackOptions{workers: *workers, concurrency: jf.concurrency, calibration: jf.calibration,
		shardTimeout: jf.shardTimeout, rescueMargin: jf.rescueMargin, targetEgress: jf.targetNets.policy(), webhookEgress: jf.webhookNets.policy(), judge: judge, sandbox: string(jf.sandbox)})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.start(ctx, true); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "clearance worker: %d workers on PostgreSQL\n", *workers)
	<-ctx.Done()
	return nil
}

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "migrate", "migrate [--data DIR] [--database postgres://…]")
	var sf serviceFlags
	sf.register(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	_, closeStore, err := sf.openStore(ctx) // Open applies the embedded migrations
	if err != nil {
		return err
	}
	closeStore()
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}

func runAdmin(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "bootstrap" {
		return usageError("usage: clearance admin bootstrap --org NAME --user NAME [--email E] [--data DIR|--database URL]")
	}
	fs := newFlagSet(e, "admin bootstrap", "admin bootstrap --org NAME --user NAME [--email E] [--data DIR|--database URL]")
	org := fs.String("org", "", "name of the first (agency) organisation")
	user := fs.String("user", "", "name of the first admin user")
	email := fs.String("email", "", "the admin's email")
	var sf serviceFlags
	sf.register(fs)
	if _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *org == "" || *user == "" {
		return usageError("--org and --user are required")
	}
	st, closeStore, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	svc, err := sf.service(e, st)
	if err != nil {
		return err
	}
	a, token, err := svc.Bootstrap(ctx, *org, *user, *email)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "admin %s of %s created; API token (shown once):\n%s\n", a.User.Name, a.Org.Name, token)
	return nil
}

// jobFlags tune how this process works assessment shards.
type jobFlags struct {
	concurrency int
	// calibration is the size of the calibration batch scored when an
	// assessment completes (work.RunnerConfig.Calibration).
	calibration                int
	shardTimeout, rescueMargin time.Duration
	// targetNets and webhookNets are the networks, besides public
	// addresses, that model endpoints and webhook receivers may be on.
	targetNets, webhookNets netsFlag
	// The agency's default judge (work.JudgeConfig).
	judgeURL, judgeModel, judgeKeyFile, judgeRubric string
	// sandbox is the backend cyber-exploit episodes run in: "bwrap" or
	// "runsc" (--sandbox).
	sandbox sandboxFlag
}

// judge returns the agency's default judge, nil when --judge-url is not
// given.
func (jf *jobFlags) judge() (*work.JudgeConfig, error) {
	if jf.judgeURL == "" {
		if jf.judgeModel != "" || jf.judgeKeyFile != "" {
			return nil, usageError("--judge-model and --judge-key-file need --judge-url")
		}
		return nil, nil
	}
	u, err := url.Parse(jf.judgeURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, usageError("--judge-url %q: want an http(s) URL with a host and no user information (the OpenAI-compatible /v1 root)", jf.judgeURL)
	}
	if jf.judgeModel == "" {
		return nil, usageError("--judge-url needs --judge-model")
	}
	if r, err := score.LookupRubric(jf.judgeRubric); err != nil || !r.Harm() {
		return nil, usageError("--judge-rubric must be one of %s, not %q", strings.Join(score.RubricNames()[:3], ", "), jf.judgeRubric)
	}
	jc := &work.JudgeConfig{URL: jf.judgeURL, Model: jf.judgeModel, Rubric: jf.judgeRubric}
	if jf.judgeKeyFile != "" {
		b, err := os.ReadFile(jf.judgeKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read --judge-key-file: %w", err)
		}
		jc.Key = []byte(strings.TrimSpace(string(b)))
	}
	return jc, nil
}

func (jf *jobFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&jf.concurrency, "concurrency", 0, "model requests in flight to one target, shared by every shard and worker on the database (0: adaptive, up to 128)")
	fs.IntVar(&jf.calibration, "calibration", assess.DefaultCalibration, "human-labelled items scored when an assessment completes, to measure its harm scorer's agreement (negative: none; the rates are then not corrected)")
	fs.DurationVar(&jf.shardTimeout, "shard-timeout", 30*time.Minute, "longest one attempt of a shard may run")
	fs.DurationVar(&jf.rescueMargin, "rescue-after", time.Minute, "a shard whose worker died is retried this long after --shard-timeout")
	fs.Var(&jf.targetNets, "allow-target-net", "a network (CIDR, or one address) model endpoints may be on besides public addresses, such as 10.1.0.0/16; repeatable")
	fs.StringVar(&jf.judgeURL, "judge-url", "", "the agency's default LLM judge: an OpenAI-compatible endpoint (the /v1 root) that scores attack success of assessments naming no judge, and judges red-team transfer checks and retests; its network must be allowed like a target's (--allow-target-net)")
	fs.StringVar(&jf.judgeModel, "judge-model", "", "model name of the --judge-url judge")
	fs.StringVar(&jf.judgeKeyFile, "judge-key-file", "", "file holding the --judge-url judge's API key (bearer)")
	fs.StringVar(&jf.judgeRubric, "judge-rubric", score.RubricStrongREJECT, "rubric of the --judge-url judge: strongreject, harmbench or llamaguard")
	jf.sandbox = sandbox.Bubblewrap
	fs.Var(&jf.sandbox, "sandbox", "sandbox backend of cyber-exploit episodes: `bwrap` (bubblewrap) or runsc (gVisor, hardened); checked at start-up, and without it this process refuses cyber shards")
	fs.Var(&jf.webhookNets, "allow-webhook-net", "a network (CIDR, or one address) webhook receivers may be on besides public addresses; repeatable")
}
