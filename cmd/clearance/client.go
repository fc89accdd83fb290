package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/attest"
	"github.com/clearance-dev/clearance/review"
	"github.com/clearance-dev/clearance/tlog"
	"gopkg.in/yaml.v3"
)

// apiClient is the CLI's client of the review service's REST API.
type apiClient struct {
	base  string
	token string
	hc    *http.Client
}

func newAPIClient(e *env, server, token string) (*apiClient, error) {
	if server == "" {
		return nil, usageError("--server is required")
	}
	if token == "" {
		token = e.getenv("CLEARANCE_TOKEN")
	}
	if token == "" {
		return nil, usageError("--token (or CLEARANCE_TOKEN) is required")
	}
	return &apiClient{base: strings.TrimRight(server, "/"), token: token, hc: &http.Client{Timeout: time.Minute}}, nil
}

// do sends a request and decodes a JSON answer into out; a problem answer
// becomes an error carrying its title and detail.
func (c *apiClient) do(ctx context.Context, method, path string, body any, headers map[string]string, out any) error {
	var rd io.Reader
	if r, ok := body.(io.Reader); ok {
		rd = r // already JSON, streamed
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var p struct{ Title, Detail string }
		json.Unmarshal(data, &p)
		return fmt.Errorf("%s %s: %d %s: %s", method, path, resp.StatusCode, p.Title, p.Detail)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// dossierJSON reads a dossier file (YAML or JSON) as a JSON object.
func dossierJSON(path string) (json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read dossier: %w", err)
	}
	return dossierJSONOf(path, b)
}

// dossierJSONOf converts a YAML or JSON dossier to compact JSON.
func dossierJSONOf(path string, b []byte) (json.RawMessage, error) {
	var v map[string]any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("dossier %s: %w", path, err)
	}
	if v == nil {
		return nil, fmt.Errorf("dossier %s: not a mapping", path)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("dossier %s: %w", path, err)
	}
	return out, nil
}

func runSubmit(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "submit", "submit --server URL [--token T] --dossier FILE --target URL (--model DIR|--model-digest sha256:…) --model-name NAME --profile ID…")
	server := fs.String("server", "", "review service base URL")
	token := fs.String("token", "", "API token (default: CLEARANCE_TOKEN)")
	dossier := fs.String("dossier", "", "dossier file (YAML or JSON)")
	targetURL := fs.String("target", "", "the model endpoint assessors will evaluate")
	credEnv := fs.String("credentials-env", "", "environment variable holding the endpoint's credentials (sent once, stored encrypted)")
	modelDir := fs.String("model", "", "weights directory: its OMS root digest identifies the model")
	digest := fs.String("model-digest", "", "OMS root digest sha256:<hex>, instead of --model")
	name := fs.String("model-name", "", "model name")
	var profiles multiFlag
	fs.Var(&profiles, "profile", "profile id to review under (repeatable, comma-separated)")
	idem := fs.String("idempotency-key", "", "Idempotency-Key header (default: a digest of the submission, so a retried submit creates one case)")
	format := fs.String("format", "text", "output format: text or json")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := newAPIClient(e, *server, *token)
	if err != nil {
		return err
	}
	if *dossier == "" || *targetURL == "" || *name == "" || len(profiles) == 0 {
		return usageError("--dossier, --target, --model-name and --profile are required")
	}
	// The dossier is validated before the (possibly long) hashing of the
	// weights and before anything reaches the service: the policy engine
	// reads it with the same schema when the case is decided.
	if _, err := readDossier(*dossier); err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	d, err := dossierJSON(*dossier)
	if err != nil {
		return err
	}
	switch {
	case *modelDir != "" && *digest != "":
		return usageError("give --model or --model-digest, not both")
	case *modelDir != "":
		m, err := attest.HashModel(ctx, *modelDir, attest.HashOptions{})
		if err != nil {
			return err
		}
		*digest = "sha256:" + m.RootHex()
	case *digest == "":
		return usageError("--model DIR or --model-digest is required")
	}
	sub := review.Submission{Model: review.SubmittedModel{Digest: *digest, Name: *name}, Dossier: d,
		Target: review.SubmittedTarget{URL: *targetURL}, Profiles: profiles}
	if *credEnv != "" {
		sub.Target.Credentials = e.getenv(*credEnv)
	}
	key := *idem
	if key == "" {
		b, _ := json.Marshal(sub)
		sum := sha256.Sum256(b)
		key = hex.EncodeToString(sum[:16])
	}
	var out map[string]any
	if err := c.do(ctx, "POST", "/api/v1/cases", sub, map[string]string{"Idempotency-Key": key}, &out); err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "case %v submitted: %v (%v)\n", out["id"], out["state"], *digest)
	return nil
}

const caseUsage = "usage: clearance case list|show|assess|import|recognise|bundle|oscal … --server URL [--token T]"

func runCase(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError(caseUsage)
	}
	switch args[0] {
	case "list", "show":
	case "assess":
		return runCaseAssess(ctx, e, args[1:])
	case "import":
		return runCaseImport(ctx, e, args[1:])
	case "recognise":
		return runCaseRecognise(ctx, e, args[1:])
	case "bundle":
		return runCaseBundle(ctx, e, args[1:])
	case "oscal":
		return runCaseOSCAL(ctx, e, args[1:])
	default:
		return usageError(caseUsage)
	}
	sub := args[0]
	fs := newFlagSet(e, "case "+sub, "case "+sub+" [ID] --server URL [--token T] [--state S] [--format text|json]")
	server := fs.String("server", "", "review service base URL")
	token := fs.String("token", "", "API token (default: CLEARANCE_TOKEN)")
	state := fs.String("state", "", "list: only cases in this state")
	format := fs.String("format", "text", "output format: text or json")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	c, err := newAPIClient(e, *server, *token)
	if err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usageError("--format must be text or json, not %q", *format)
	}
	if sub == "show" {
		if len(pos) != 1 {
			return usageError("case show wants one case id")
		}
		var out map[string]any
		if err := c.do(ctx, "GET", "/api/v1/cases/"+pos[0], nil, nil, &out); err != nil {
			return err
		}
		if *format == "json" {
			return writeJSON(e.stdout, out)
		}
		return writeCaseText(ctx, e.stdout, c, out)
	}
	var all []map[string]any
	after := ""
	for {
		q := "?limit=100"
		if *state != "" {
			q += "&state=" + *state
		}
		if after != "" {
			q += "&after=" + after
		}
		var page struct {
			Items []map[string]any `json:"items"`
			Next  string           `json:"next"`
		}
		if err := c.do(ctx, "GET", "/api/v1/cases"+q, nil, nil, &page); err != nil {
			return err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if *format == "json" {
		return writeJSON(e.stdout, all)
	}
	return writeCaseList(ctx, e.stdout, c, all)
}

// clientFlags are the flags every client command shares.
type clientFlags struct{ server, token *string }

func registerClient(fs *flag.FlagSet) clientFlags {
	return clientFlags{
		server: fs.String("server", "", "review service base URL"),
		token:  fs.String("token", "", "API token (default: CLEARANCE_TOKEN)"),
	}
}

// runCaseAssess schedules an assessment of a case (assessor) and, with
// --wait, waits for its jobs to finish.
func runCaseAssess(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "case assess", "case assess ID [--suite NAME…] [--limit N] [--seed N] [--wait] [--format text|json] --server URL [--token T]")
	cf := registerClient(fs)
	var suites multiFlag
	fs.Var(&suites, "suite", "suites to run (default: the plan the case's profiles require)")
	limit := fs.Int("limit", 0, "samples per suite (0: the plan's)")
	seed := fs.Int64("seed", 0, "sampling seed (0: 1)")
	wait := fs.Bool("wait", false, "wait until the assessment is done and print its metrics")
	format := fs.String("format", "text", "output format: text (a summary with the rates) or json (the assessment as the API returns it)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("case assess wants one case id")
	}
	if *format != "text" && *format != "json" {
		return usageError("--format must be text or json, not %q", *format)
	}
	c, err := newAPIClient(e, *cf.server, *cf.token)
	if err != nil {
		return err
	}
	var as map[string]any
	body := map[string]any{"suites": []string(suites), "limit": *limit, "seed": *seed}
	if err := c.do(ctx, "POST", "/api/v1/cases/"+pos[0]+"/assessments", body, nil, &as); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "assessment %v scheduled: %v shards\n", as["id"], as["shards"])
	for *wait && as["state"] != "done" {
		if as["state"] == "failed" {
			return fmt.Errorf("assessment %v failed: %v", as["id"], as["error"])
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if err := c.do(ctx, "GET", fmt.Sprintf("/api/v1/assessments/%v", as["id"]), nil, nil, &as); err != nil {
			return err
		}
	}
	return writeAssessment(e.stdout, *format, as)
}

// writeAssessment prints an assessment as the service returned it: as
// JSON, or as a summary for people — its state and, once it has metrics,
// each rate with its interval and count and, where the scorer's error was
// measured, the corrected rate.
func writeAssessment(w io.Writer, format string, as map[string]any) error {
	if format == "json" {
		return writeJSON(w, as)
	}
	b, err := json.Marshal(as)
	if err != nil {
		return err
	}
	var v struct {
		ID      string          `json:"id"`
		CaseID  string          `json:"case_id"`
		State   string          `json:"state"`
		Error   string          `json:"error"`
		Shards  int             `json:"shards"`
		Metrics *assess.Metrics `json:"metrics"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("read the assessment the service returned: %w", err)
	}
	fmt.Fprintf(w, "Assessment %s of case %s: %s", v.ID, v.CaseID, v.State)
	switch {
	case v.Error != "":
		fmt.Fprintf(w, " (%s)", v.Error)
	case v.Metrics != nil:
		fmt.Fprintf(w, " — %d samples, %d scored, %d errors", v.Metrics.Samples, v.Metrics.Scored, v.Metrics.Errors)
	default:
		fmt.Fprintf(w, ", %d shards", v.Shards)
	}
	fmt.Fprintln(w)
	if v.Metrics == nil {
		return nil
	}
	writeRates(w, v.Metrics.Groups)
	return nil
}

// writeRates prints one line per rate: the rate with its interval and
// count, the rate corrected for scorer error where it was (marked when
// the scorer's agreement is too poor for the correction to be evidence),
// the scorer with its version, and the samples that errored.
func writeRates(w io.Writer, groups []assess.Group) {
	width := 0
	for _, g := range groups {
		width = max(width, utf8.RuneCountInString(g.Key))
	}
	var cautions []string // "scorer: caution", one per scorer, in order
	for _, g := range groups {
		o := g.Overall
		fmt.Fprintf(w, "  %-*s %6.1f%%  [%5.1f%%, %5.1f%%]  %d/%d", width, g.Key, 100*o.Rate, 100*o.CI.Low, 100*o.CI.High, o.Flagged, o.N)
		if c := o.Corrected; c != nil {
			fmt.Fprintf(w, "  corrected %.1f%% [%.1f%%, %.1f%%]", 100*c.Rate, 100*c.CI.Low, 100*c.CI.High)
			if c.Caution != "" {
				fmt.Fprint(w, " (!)")
				if note := g.Scorer.Label() + ": " + c.Caution; !slices.Contains(cautions, note) {
					cautions = append(cautions, note)
				}
			}
		}
		if g.Scorer.Name != "" {
			fmt.Fprintf(w, "  (%s)", g.Scorer.Label())
		}
		if o.Errors > 0 {
			fmt.Fprintf(w, "  %d errors", o.Errors)
		}
		fmt.Fprintln(w)
	}
	for _, note := range cautions {
		fmt.Fprintf(w, "  (!) %s\n", note)
	}
}

// writeImportBody writes the import document of a run directory to w:
// {"run":…,"metrics":…,"samples":[…]}, each line of samples.jsonl checked
// and re-encoded.
func writeImportBody(w io.Writer, dir string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, part := range []struct{ key, file string }{{`{"run":`, "run.json"}, {`,"metrics":`, "metrics.json"}} {
		b, err := os.ReadFile(filepath.Join(dir, part.file))
		if err != nil {
			return err
		}
		if !json.Valid(b) {
			return fmt.Errorf("%s: not valid JSON", filepath.Join(dir, part.file))
		}
		bw.WriteString(part.key)
		bw.Write(bytes.TrimSpace(b))
	}
	bw.WriteString(`,"samples":[`)
	f, err := os.Open(filepath.Join(dir, "samples.jsonl"))
	if err != nil {
		return err
	}
	defer f.Close()
	n := 0
	err = assess.ReadRecords(f, func(_ int, rec *assess.Record) error {
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if n++; n > 1 {
			bw.WriteByte(',')
		}
		_, err = bw.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	bw.WriteString(`]}`)
	return bw.Flush()
}

// runCaseImport imports a run directory made with clearance assess into a
// case (assessor).
func runCaseImport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "case import", "case import ID --run DIR [--format text|json] --server URL [--token T]")
	cf := registerClient(fs)
	run := fs.String("run", "", "run directory (run.json, metrics.json, samples.jsonl)")
	format := fs.String("format", "text", "output format: text (a summary with the rates) or json (the assessment as the API returns it)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *run == "" {
		return usageError("case import wants one case id and --run DIR")
	}
	if *format != "text" && *format != "json" {
		return usageError("--format must be text or json, not %q", *format)
	}
	c, err := newAPIClient(e, *cf.server, *cf.token)
	if err != nil {
		return err
	}
	// The body is streamed, a record at a time: a run may be hundreds of
	// megabytes.
	pr, pw := io.Pipe()
	defer pr.Close() // ends the writer if the request stops reading
	go func() { pw.CloseWithError(writeImportBody(pw, *run)) }()
	var as map[string]any
	if err := c.do(ctx, "POST", "/api/v1/cases/"+pos[0]+"/imports", pr, nil, &as); err != nil {
		return err
	}
	return writeAssessment(e.stdout, *format, as)
}

// runCaseBundle downloads a decision's signed bundle and its log receipt,
// ready for clearance verify.
func runCaseBundle(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "case bundle", "case bundle DECISION_ID --out FILE --server URL [--token T]")
	cf := registerClient(fs)
	out := fs.String("out", "", "where to write the bundle; the receipt goes to FILE.receipt.json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return usageError("case bundle wants one decision id and --out FILE")
	}
	c, err := newAPIClient(e, *cf.server, *cf.token)
	if err != nil {
		return err
	}
	var d struct {
		Bundle   []byte          `json:"bundle"`
		LogIndex *int64          `json:"log_index"`
		Receipt  json.RawMessage `json:"receipt"`
	}
	if err := c.do(ctx, "GET", "/api/v1/decisions/"+pos[0], nil, nil, &d); err != nil {
		return err
	}
	if len(d.Bundle) == 0 {
		return fmt.Errorf("decision %s has no signed bundle", pos[0])
	}
	if err := os.WriteFile(*out, d.Bundle, 0o644); err != nil {
		return err
	}
	if d.LogIndex == nil {
		fmt.Fprintf(e.stdout, "bundle written to %s; the decision is not logged yet (try again shortly for its receipt)\n", *out)
		return nil
	}
	if err := os.WriteFile(tlog.ReceiptPath(*out), d.Receipt, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "bundle written to %s, receipt (log index %d) to %s\n", *out, *d.LogIndex, tlog.ReceiptPath(*out))
	return nil
}
