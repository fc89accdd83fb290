package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/policy"
	"github.com/clearance-dev/clearance/report"
	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/suite"
	"github.com/clearance-dev/clearance/target"
	"golang.org/x/term"
)

// Exit codes of `clearance assess`.
const (
	exitRunErrors = 3 // the run completed but some samples have errors
	exitBudget    = 4 // a budget cap stopped the run before the plan was done
)

// targetFlags are the flags that select and configure a target; the judge
// scorer's target uses the same set with a "judge-" prefix.
type targetFlags struct {
	kind, baseURL, model, apiKeyEnv, profile string
	replay, httpURL, httpBody, httpPath      string
	temperature                              float64
	maxTokens                                int
	timeout                                  time.Duration
	headers                                  kvFlag
}

func (tf *targetFlags) register(fs *flag.FlagSet, prefix, what string) {
	tf.headers = kvFlag{}
	fs.StringVar(&tf.kind, prefix+"target", "", what+": reference, openai, anthropic, http or replay")
	fs.StringVar(&tf.baseURL, prefix+"base-url", "", "API base URL (openai: …/v1; anthropic: without /v1)")
	fs.StringVar(&tf.model, prefix+"model", "", "model name sent to the API")
	fs.StringVar(&tf.apiKeyEnv, prefix+"api-key-env", "", "environment variable holding the API key (default OPENAI_API_KEY or ANTHROPIC_API_KEY)")
	fs.StringVar(&tf.profile, prefix+"profile", "robust", "reference model profile: a built-in name or a YAML file")
	fs.StringVar(&tf.replay, prefix+"replay", "", "replay: transcript file (JSONL or a JailbreakBench artifact JSON)")
	fs.StringVar(&tf.httpURL, prefix+"http-url", "", "http: endpoint URL")
	fs.StringVar(&tf.httpBody, prefix+"http-body", "", "http: request body template, or @FILE")
	fs.StringVar(&tf.httpPath, prefix+"http-response-path", "", "http: dot path of the answer in the JSON response, e.g. choices.0.message.content")
	fs.Float64Var(&tf.temperature, prefix+"temperature", -1, "sampling temperature (default: the target's)")
	fs.IntVar(&tf.maxTokens, prefix+"max-output-tokens", 0, "maximum tokens per answer (default: the target's; anthropic 1024)")
	fs.DurationVar(&tf.timeout, prefix+"timeout", 0, "per-request timeout (default 2m)")
	fs.Var(tf.headers, prefix+"header", "extra request header KEY=VALUE (repeatable)")
}

// builtTarget is a target ready to use, and how to release it.
type builtTarget struct {
	t     assess.Target
	info  assess.TargetInfo
	close func()
}

// buildTarget makes the client a targetFlags describes. For "reference" it
// starts the reference model (a simulator) on a loopback port, told the
// truth of the given samples, and talks to it over real HTTP.
func buildTarget(e *env, tf *targetFlags, samples iter.Seq[suite.Sample], prefix string) (*builtTarget, error) {
	var temp *float64
	if tf.temperature >= 0 {
		t := tf.temperature
		temp = &t
	}
	key := func(def string) string {
		name := tf.apiKeyEnv
		if name == "" {
			name = def
		}
		return e.getenv(name)
	}
	switch tf.kind {
	case "reference":
		p, err := loadReferenceProfile(tf.profile)
		if err != nil {
			return nil, err
		}
		ref, err := target.NewReference(p, assess.ReferenceOracle(samples))
		if err != nil {
			return nil, err
		}
		ref = ref.WithTaskOracle(assess.TaskOracle()).WithPublicPrompts(assess.PublicPrompts(samples))
		url, stop, err := serveLoopback(target.NewReferenceServer(ref, target.ServerOptions{}))
		if err != nil {
			return nil, err
		}
		c, err := target.NewOpenAI(target.OpenAIConfig{BaseURL: url + "/v1", Model: ref.ModelName(), Temperature: temp, MaxTokens: tf.maxTokens, Timeout: tf.timeout})
		if err != nil {
			stop()
			return nil, err
		}
		return &builtTarget{t: c, info: assess.TargetInfo{Kind: "reference", Model: ref.ModelName(), Identity: ref.Identity()}, close: stop}, nil
	case "openai":
		c, err := target.NewOpenAI(target.OpenAIConfig{BaseURL: tf.baseURL, Model: tf.model, APIKey: key("OPENAI_API_KEY"), Headers: tf.headers, Temperature: temp, MaxTokens: tf.maxTokens, Timeout: tf.timeout})
		if err != nil {
			return nil, err
		}
		return &builtTarget{t: c, info: assess.TargetInfo{Kind: "openai", Model: tf.model, BaseURL: tf.baseURL}, close: func() {}}, nil
	case "anthropic":
		base := tf.baseURL
		if base == "" {
			base = "https://api.anthropic.com"
		}
		c, err := target.NewAnthropic(target.AnthropicConfig{BaseURL: base, Model: tf.model, APIKey: key("ANTHROPIC_API_KEY"), Headers: tf.headers, Temperature: temp, MaxTokens: tf.maxTokens, Timeout: tf.timeout})
		if err != nil {
			return nil, err
		}
		return &builtTarget{t: c, info: assess.TargetInfo{Kind: "anthropic", Model: tf.model, BaseURL: base}, close: func() {}}, nil
	case "http":
		body := tf.httpBody
		if strings.HasPrefix(body, "@") {
			b, err := os.ReadFile(body[1:])
			if err != nil {
				return nil, fmt.Errorf("read --%shttp-body: %w", prefix, err)
			}
			body = string(b)
		}
		c, err := target.NewHTTP(target.HTTPConfig{URL: tf.httpURL, Headers: tf.headers, Body: body, ResponsePath: tf.httpPath, Model: tf.model, MaxTokens: tf.maxTokens, Timeout: tf.timeout})
		if err != nil {
			return nil, err
		}
		return &builtTarget{t: c, info: assess.TargetInfo{Kind: "http", Model: tf.model, BaseURL: tf.httpURL}, close: func() {}}, nil
	case "replay":
		if tf.replay == "" {
			return nil, usageError("--%starget replay needs --%sreplay FILE", prefix, prefix)
		}
		ts, err := target.LoadTranscripts(tf.replay)
		if err != nil {
			return nil, err
		}
		c, err := target.NewReplay(ts)
		if err != nil {
			return nil, err
		}
		return &builtTarget{t: c, info: assess.TargetInfo{Kind: "replay", Model: filepath.Base(tf.replay)}, close: func() {}}, nil
	case "":
		return nil, usageError("--%starget is required (reference, openai, anthropic, http or replay)", prefix)
	}
	return nil, usageError("unknown --%starget %q (want reference, openai, anthropic, http or replay)", prefix, tf.kind)
}

func loadReferenceProfile(arg string) (*target.Profile, error) {
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") || strings.ContainsRune(arg, '/') {
		return target.LoadProfile(arg)
	}
	return target.BuiltinProfile(arg)
}

// serveLoopback serves h on a free 127.0.0.1 port and returns its base URL
// and a function that stops it.
func serveLoopback(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// assessSummary is what `clearance assess --format json` prints.
type assessSummary struct {
	Dir      string            `json:"dir"`
	Status   string            `json:"status"`
	Target   string            `json:"target"`
	Samples  int               `json:"samples"`
	Scored   int               `json:"scored"`
	Errors   int               `json:"errors"`
	Requests int64             `json:"requests"`
	Cached   int64             `json:"cache_hits"`
	Metrics  []metricLine      `json:"metrics"`
	Files    map[string]string `json:"files"`
	Cohort   *assess.Cohort    `json:"cohort,omitempty"` // with --reference
}

type metricLine struct {
	Key     string  `json:"key"`
	Rate    float64 `json:"rate"`
	Low     float64 `json:"ci_low"`
	High    float64 `json:"ci_high"`
	Flagged int     `json:"flagged"`
	N       int     `json:"n"`
	Errors  int     `json:"errors"`
}

func runAssess(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "compare" {
		return runAssessCompare(ctx, e, args[1:])
	}
	fs := newFlagSet(e, "assess", "assess --target KIND [target flags] --suite NAME|FILE... [--limit N] [--seed N] [--out DIR] [--format text|json]")
	var tf targetFlags
	tf.register(fs, "", "model under test")
	var judge targetFlags
	judge.register(fs, "judge-", "target of the judge scorer (only needed when a suite uses it)")
	var suites, categories, transforms multiFlag
	fs.Var(&suites, "suite", "suite name or YAML file (repeatable, comma-separated)")
	fs.Var(&categories, "category", "keep only these categories (repeatable)")
	fs.Var(&transforms, "transform", "keep only these transforms (repeatable)")
	limit := fs.Int("limit", 0, "samples per suite, stratified across categories and transforms (0: all)")
	seed := fs.Int64("seed", 1, "seed for sampling and order")
	out := fs.String("out", "", "run directory (default runs/<time>); rerun with the same directory to resume")
	concurrency := fs.Int("concurrency", 0, "cap on requests in flight (default: adaptive from 20 up to 128)")
	maxRequests := fs.Int64("max-requests", 0, "stop after this many model calls (0: no cap)")
	maxTokens := fs.Int64("max-tokens", 0, "stop after this many input+output tokens (0: no cap)")
	attempts := fs.Int("attempts", assess.DefaultAttempts, "attempts per request, the first included")
	cacheDir := fs.String("cache", "", "response cache directory (default: the user cache dir)")
	noCache := fs.Bool("no-cache", false, "do not read or write the response cache")
	format := fs.String("format", "text", "summary format: text or json")
	planFile := fs.String("plan", "", "sampling plan from 'clearance policy plan' (suites, sample sizes, sequential stop rules) instead of --suite")
	skipJudge := fs.Bool("skip-judge", false, "leave out samples that need the judge scorer (when no judge model is available)")
	calibration := fs.Int("calibration", assess.DefaultCalibration, "human-labelled items of the embedded calibration batch each harm scorer (harm, the judge) also scores, for its sensitivity, specificity and kappa and the corrected rates (0: none, and rates go uncorrected)")
	judgeRubric := fs.String("judge-rubric", score.RubricStrongREJECT, "rubric of the judge: "+strings.Join(score.RubricNames()[:3], ", ")+" (with --judge-target the judge scores attack success instead of the harm scorer)")
	dossier := fs.String("dossier", "", "developer dossier (YAML or JSON): also write evidence.json for the policy engine")
	var refs referenceFlag
	fs.Var(&refs, "reference", "reference model NAME=SPEC to compare with (repeatable): SPEC reference:PROFILE runs the reference model on the same plan and seed, run:DIR uses an earlier run directory; writes cohort.json")
	var cf cyberFlags
	cf.register(fs)
	sweep := budgetSweepFlag(fs)
	var vf variantFlags
	vf.register(fs)
	var pf privateFlags
	pf.register(fs)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usageError("--format must be text or json, not %q", *format)
	}
	if err := vf.check(); err != nil {
		return err
	}
	if err := pf.check(*planFile); err != nil {
		return err
	}
	if len(suites) == 0 && *planFile == "" && cf.tasks == "" {
		return usageError("at least one --suite (or a --plan) is required (see 'clearance suites')")
	}
	if (len(suites) > 0 || cf.tasks != "") && *planFile != "" {
		return usageError("give either --suite (or --tasks) or --plan, not both")
	}
	// The dossier is read and validated before any sample is planned or
	// any model call made: a typo in it must not cost a whole run.
	var dossierEv *policy.Evidence
	if *dossier != "" {
		ev, err := readDossier(*dossier)
		if err != nil {
			return fmt.Errorf("assess: %w", err)
		}
		dossierEv = ev
	}
	info := assess.PlanInfo{Limit: *limit, Seed: *seed}
	var seq iter.Seq[suite.Sample]
	var n int
	var gates []assess.Gate
	if *planFile != "" {
		var err error
		if seq, n, gates, err = samplesFromPlan(*planFile, *seed, &info); err != nil {
			return err
		}
	} else {
		var ss []*suite.Suite
		for _, name := range suites {
			s, err := loadSuite(name)
			if err != nil {
				return err
			}
			ss = append(ss, s)
			info.Suites = append(info.Suites, assess.SuiteInfo{Name: s.Name, Version: s.Version, Digest: s.Digest()})
		}
		if cf.tasks != "" {
			s, err := cf.tasksSuite()
			if err != nil {
				return err
			}
			ss = append(ss, s)
			info.Suites = append(info.Suites, assess.SuiteInfo{Name: s.Name, Version: s.Version, Digest: s.Digest()})
		}
		if err := pf.addForms(e, &judge, &ss, &info); err != nil {
			return err
		}
		if pf.closeHelper != nil {
			defer pf.closeHelper()
		}
		if len(categories)+len(transforms) > 0 {
			info.Filter = "categories=" + categories.String() + ";transforms=" + transforms.String()
		}
		var err error
		seq, n, err = suite.Samples(ss, suite.PlanOptions{Limit: *limit, Seed: *seed, Categories: categories, Transforms: transforms, Attempts: cf.attempts})
		if err != nil {
			return err
		}
		if cf.attempts > 1 {
			info.Filter += fmt.Sprintf(";attempts=%d", cf.attempts)
		}
		if n == 0 {
			return usageError("no samples to run: the suites, --category and --transform select nothing")
		}
	}
	if judge.kind != "" {
		// A judge model is configured: it scores attack success (the
		// samples the offline harm scorer would score).
		if r, err := score.LookupRubric(*judgeRubric); err != nil || !r.Harm() {
			return usageError("--judge-rubric must be one of %s, not %q", strings.Join(score.RubricNames()[:3], ", "), *judgeRubric)
		}
		seq = assess.UseJudge(seq)
	}
	if *skipJudge {
		seq, n = withoutJudge(seq)
		info.Filter += ";skip-judge"
	}
	sb, err := cf.open(ctx, e, seq)
	if err != nil {
		return err
	}
	bt, err := buildTarget(e, &tf, seq, "")
	if err != nil {
		return err
	}
	defer bt.close()

	dir := *out
	if dir == "" {
		dir = filepath.Join("runs", e.now().UTC().Format("20060102T150405Z"))
	}
	var cache assess.ResponseCache
	if !*noCache {
		cdir := *cacheDir
		if cdir == "" {
			base, err := os.UserCacheDir()
			if err != nil {
				base = os.TempDir()
			}
			cdir = filepath.Join(base, "clearance", "responses")
		}
		c, err := assess.OpenCache(cdir)
		if err != nil {
			return err
		}
		cache = c
	}
	scorers, judgeCalls, closeJudge, err := buildScorers(e, seq, &judge, *judgeRubric, cache)
	if err != nil {
		return err
	}
	defer closeJudge()
	if *calibration < 0 {
		return usageError("--calibration must be 0 or more, not %d", *calibration)
	}
	if *calibration == 0 {
		fmt.Fprintln(e.stderr, "NOTE: --calibration 0: the scorers are not calibrated in this run; their agreement with human labels is unmeasured and rates scored by harm or the judge are not corrected for scorer error")
	}
	var prog *assess.Progress
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && *format == "text" {
		prog = assess.NewProgress(e.stderr)
	}
	cfg := assess.Config{
		Target: bt.t, TargetInfo: bt.info, Plan: seq, Total: n, PlanKey: info, Scorers: scorers, OutDir: dir,
		Concurrency: *concurrency, MaxRequests: *maxRequests, MaxTokens: *maxTokens, Attempts: *attempts,
		RequestTimeout: tf.timeout, Cache: cache, Progress: prog, Logger: e.log, Now: e.now, Version: clearanceVersion(),
		Gates: gates, Calibration: *calibration,
		Episodes: sb, Sandboxes: cf.sandboxes, Tasks: cf.loadTask,
	}
	vf.apply(&cfg)
	if judgeCalls != nil {
		cfg.ScorerCost = judgeCalls.Cost
	}
	if tf.maxTokens > 0 {
		cfg.Request.MaxTokens = tf.maxTokens
	}
	if tf.temperature >= 0 {
		t := tf.temperature
		cfg.Request.Temperature = &t
	}
	if *sweep != "" {
		return runBudgetSweep(ctx, e, cfg, *sweep, *format)
	}
	res, runErr := assess.Run(ctx, cfg)
	if res == nil {
		return runErr
	}
	if err := pf.scan(dir, res); err != nil {
		return err
	}
	if err := report.WriteRunFiles(dir, report.Run{Run: res.Run, Metrics: res.Metrics}); err != nil {
		return err
	}
	files := map[string]string{
		"run": filepath.Join(dir, "run.json"), "samples": filepath.Join(dir, "samples.jsonl"), "metrics": filepath.Join(dir, "metrics.json"),
		"report_md": filepath.Join(dir, "report.md"), "report_html": filepath.Join(dir, "report.html"),
	}
	var cohort *assess.Cohort
	if len(refs) > 0 {
		if cohort, err = runCohort(ctx, e, cfg, res, refs); err != nil {
			return err
		}
		files["cohort"] = filepath.Join(dir, "cohort.json")
	}
	if *dossier != "" {
		// References come from this run's cohort, never from the dossier.
		dossierEv.References = nil
		if cohort != nil {
			dossierEv.References = policyReferences(cohort)
		}
		p, err := writeEvidence(dir, dossierEv, res, e.now())
		if err != nil {
			return err
		}
		files["evidence"] = p
	}
	gap, err := pf.report(dir, res, files)
	if err != nil {
		return err
	}
	if err := printSummary(e.stdout, *format, res, files, cohort); err != nil {
		return err
	}
	if gap != nil && *format == "text" {
		printPrivateGap(e.stdout, gap)
	}
	if c := res.Metrics.Contamination; c != nil && *format == "text" {
		printContamination(e.stdout, c)
	}
	if runErr != nil {
		return runErr
	}
	switch {
	case res.Metrics.Status == "budget_exhausted":
		return &exitError{code: exitBudget, err: errors.New("budget cap reached before the plan was done; rerun with the same --out to continue")}
	case res.Metrics.Errors > 0:
		return &exitError{code: exitRunErrors, err: fmt.Errorf("%d of %d samples have errors (see samples.jsonl); they are excluded from every rate", res.Metrics.Errors, res.Metrics.Samples)}
	}
	return nil
}

// buildScorers makes every scorer the plan names. The judge scorer gets its
// own target from the --judge-* flags, the rubric named, and the response
// cache (nil: none).
func buildScorers(e *env, samples iter.Seq[suite.Sample], judge *targetFlags, rubric string, cache assess.ResponseCache) (map[string]score.Scorer, *assess.CountingCompleter, func(), error) {
	names := map[string]bool{}
	for s := range samples {
		names[s.Scorer] = true
	}
	out := map[string]score.Scorer{}
	closeFn := func() {}
	var counted *assess.CountingCompleter
	for name := range names {
		var completer score.Completer
		if name == "judge" {
			if judge.kind == "" {
				return nil, nil, closeFn, usageError("the plan uses the judge scorer: give its target with --judge-target (and --judge-base-url, --judge-model)")
			}
			bt, err := buildTarget(e, judge, func(func(suite.Sample) bool) {}, "judge-")
			if err != nil {
				return nil, nil, closeFn, err
			}
			closeFn = bt.close
			identity := bt.info.Identity
			if identity == "" {
				identity = bt.t.Identity()
			}
			counted = assess.CachedCompleter(bt.t, identity, cache)
			j, err := score.NewJudgeWith(counted, score.JudgeOptions{Rubric: rubric, Model: identity})
			if err != nil {
				return nil, nil, closeFn, usageError("%v", err)
			}
			out[name] = j
			continue
		}
		sc, err := score.New(name, completer)
		if err != nil {
			return nil, nil, closeFn, err
		}
		out[name] = sc
	}
	return out, counted, closeFn, nil
}

func printSummary(w io.Writer, format string, res *assess.Result, files map[string]string, cohort *assess.Cohort) error {
	m := res.Metrics
	sum := assessSummary{Dir: res.Dir, Status: m.Status, Target: res.Run.Target.Identity, Samples: m.Samples, Scored: m.Scored, Errors: m.Errors, Files: files, Cohort: cohort}
	if st := res.Run.Stats; st != nil {
		sum.Requests, sum.Cached = st.Requests, st.CacheHits
	}
	for _, g := range m.Groups {
		o := g.Overall
		sum.Metrics = append(sum.Metrics, metricLine{Key: g.Key, Rate: o.Rate, Low: o.CI.Low, High: o.CI.High, Flagged: o.Flagged, N: o.N, Errors: o.Errors})
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	fmt.Fprintf(w, "Run %s: %s — %d samples, %d scored, %d errors; %d model calls, %d from cache\n", res.Dir, m.Status, m.Samples, m.Scored, m.Errors, sum.Requests, sum.Cached)
	writeRates(w, m.Groups)
	printTriage(w, m)
	if cohort != nil {
		printCohort(w, cohort)
	}
	fmt.Fprintf(w, "Report: %s\n", files["report_html"])
	return nil
}

func runAssessCompare(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "assess compare", "assess compare RUN_A RUN_B [--format text|json]")
	format := fs.String("format", "text", "output format: text or json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("want two run directories, got %d", len(pos))
	}
	a, err := report.LoadRun(pos[0])
	if err != nil {
		return err
	}
	b, err := report.LoadRun(pos[1])
	if err != nil {
		return err
	}
	cmp := assess.Compare(a.Metrics, b.Metrics)
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(cmp)
	}
	// The metric column is as wide as the longest name, so long names
	// (cyber-exploit.solve_rate.category=…) keep the numbers aligned.
	w := len("METRIC")
	for _, d := range cmp {
		w = max(w, utf8.RuneCountInString(d.Key))
	}
	fmt.Fprintf(e.stdout, "%-*s %8s %8s %9s  %-20s\n", w, "METRIC", "A", "B", "B−A", "95% CI of B−A")
	for _, d := range cmp {
		sig := ""
		if d.Significant {
			sig = "  significant"
		}
		fmt.Fprintf(e.stdout, "%-*s %7.1f%% %7.1f%% %+8.1f%%  [%+6.1f%%, %+6.1f%%]%s\n", w, d.Key, 100*d.A.Rate, 100*d.B.Rate, 100*d.Diff, 100*d.CI.Low, 100*d.CI.High, sig)
	}
	return nil
}

// withoutJudge drops samples scored by the judge and counts the rest.
func withoutJudge(seq iter.Seq[suite.Sample]) (iter.Seq[suite.Sample], int) {
	out := func(yield func(suite.Sample) bool) {
		for s := range seq {
			if s.Scorer != "judge" && !yield(s) {
				return
			}
		}
	}
	n := 0
	for range out {
		n++
	}
	return out, n
}

// samplesFromPlan turns a policy sampling plan into the runner's plan: each
// suite with its own limit, in plan order, and a sequential gate per stop
// rule. The plan file's digest is recorded in info so a resume with a
// different plan is refused.
func samplesFromPlan(path string, seed int64, info *assess.PlanInfo) (iter.Seq[suite.Sample], int, []assess.Gate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("read plan: %w", err)
	}
	p, err := policy.LoadPlan(path, b)
	if err != nil {
		return nil, 0, nil, err
	}
	var seqs []iter.Seq[suite.Sample]
	var gates []assess.Gate
	total := 0
	for _, sp := range p.Suites {
		s, err := loadSuite(sp.Suite)
		if err != nil {
			return nil, 0, nil, fmt.Errorf("plan %s: %w", path, err)
		}
		info.Suites = append(info.Suites, assess.SuiteInfo{Name: s.Name, Version: s.Version, Digest: s.Digest()})
		// The plan's sizes are per metric: each kind of item gets the limit.
		for _, k := range s.Kinds() {
			seq, n, err := suite.Samples([]*suite.Suite{s}, suite.PlanOptions{Limit: sp.Limit, Seed: seed, Kinds: []string{k}})
			if err != nil {
				return nil, 0, nil, fmt.Errorf("plan %s: suite %s: %w", path, sp.Suite, err)
			}
			seqs = append(seqs, seq)
			total += n
		}
		for _, r := range sp.StopRules {
			t, err := r.NewTest()
			if err != nil {
				return nil, 0, nil, fmt.Errorf("plan %s: %w", path, err)
			}
			gates = append(gates, assess.Gate{Metric: sp.Suite + "." + r.Metric, Category: r.Category, MinN: max(sp.MinN, r.MinN),
				Test: t, Success: r.Success, P0: r.P0, Delta: r.Delta, Alpha: r.Alpha, Beta: r.Beta})
		}
	}
	if total == 0 {
		why := ""
		if len(p.Notes) > 0 {
			why = " (" + strings.Join(p.Notes, "; ") + ")"
		}
		return nil, 0, nil, fmt.Errorf("plan %s has no samples to run%s: nothing to assess; 'clearance policy plan' says which facts of the dossier the profiles turn on", path, why)
	}
	sum := sha256.Sum256(b)
	info.Filter = "plan=sha256:" + hex.EncodeToString(sum[:])
	info.Limit = 0
	all := func(yield func(suite.Sample) bool) {
		for _, seq := range seqs {
			for s := range seq {
				if !yield(s) {
					return
				}
			}
		}
	}
	return all, total, gates, nil
}
