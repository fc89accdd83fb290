package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/assess"
	"github.com/clearance-dev/clearance/score"
	"github.com/clearance-dev/clearance/stats"
	"github.com/clearance-dev/clearance/target/targettest"
)

// TestEndToEndJudge runs assessments scored by an LLM judge through the
// service on SQLite and PostgreSQL: a scripted judge over HTTP on
// 127.0.0.1 (allowed by the egress policy explicitly, as a deployment
// allows its judge's network) is the agency's default (serve
// --judge-url/--judge-model/--judge-key-file), and a second judge is
// named by an assessment with its own sealed credentials. Attack success
// is the judge's verdict of harm; the refusal rate stands beside it; the
// judges receive their own keys; the assessment's credentials are never
// returned; each judge scores the calibration batch, whose figures are
// stored with the metrics and correct the rate; a repeated assessment asks
// the judge nothing again (cache).
func TestEndToEndJudge(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			sf := serviceFlags{data: privateDir(t)}
			if backend == "postgres" {
				sf.database = pgDatabase(t)
			}
			refURL, _ := referenceTarget(t, "typical", 0)
			agencyJudge := targettest.New(t, targettest.Options{Model: "agency-judge", Answer: fakeJudgeAnswer})
			ownJudge := targettest.New(t, targettest.Options{Model: "own-judge", Answer: fakeJudgeAnswer})
			keyFile := filepath.Join(t.TempDir(), "judge.key")
			if err := os.WriteFile(keyFile, []byte("agency-judge-key\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			adminToken := bootstrap(t, sf)
			base := serveInProcess(t, sf, "--workers", "2", "--shard-size", "5", "--allow-target-net", "127.0.0.1/32",
				"--judge-url", agencyJudge.URL, "--judge-model", "agency-judge", "--judge-key-file", keyFile)
			c := client{t: t, base: base}
			p := seedPeople(t, c, adminToken)
			dossier, modelDir := e2eFiles(t)
			caseID := submitCase(t, base, p.dev, refURL, modelDir, dossier)
			assignStaff(t, c, p, caseID)

			// The agency's judge, by default.
			var as assessmentView
			c.call(p.assessor, "POST", "/api/v1/cases/"+caseID+"/assessments", map[string]any{"suites": []string{"misuse"}, "limit": 12}, 201, &as)
			as = waitDone(t, c, p.assessor, as.ID, 3*time.Minute)
			asr, ref := judgedGroups(t, as.Metrics, "misuse")
			if asr.Scorer.Name != "judge" || !strings.Contains(asr.Scorer.Version, "strongreject-v1") || !strings.Contains(asr.Scorer.Version, "agency-judge") {
				t.Errorf("attack success scorer = %+v, want the agency's judge with the strongreject rubric", asr.Scorer)
			}
			if asr.Overall.N+asr.Overall.Errors != 12 || asr.Overall.Errors != 0 {
				t.Errorf("attack success = %+v, want 12 judged samples", asr.Overall)
			}
			if ref.Scorer.Name != "refusal" || ref.Overall.N != 12 {
				t.Errorf("refusal rate = %+v, want the refusal scorer on the same 12 samples", ref)
			}
			// 12 samples and the calibration batch of 200 human-labelled items.
			judged := agencyJudge.Requests()
			if judged != 12+assess.DefaultCalibration {
				t.Errorf("agency judge answered %d requests, want 12 + %d", judged, assess.DefaultCalibration)
			}
			if cal := asr.Scorer.Calibration; cal == nil || cal.N+cal.Errors != assess.DefaultCalibration || cal.Dataset != assess.CalibrationDataset ||
				asr.Scorer.Quality == nil || asr.Scorer.Quality.Sensitivity != cal.Sensitivity || cal.KappaCI.Low > cal.Kappa || cal.KappaCI.High < cal.Kappa {
				t.Errorf("judge calibration = %+v, quality %+v; want the batch's figures with intervals, used as the quality", cal, asr.Scorer.Quality)
			} else if asr.Overall.Corrected == nil && cal.Sensitivity+cal.Specificity > 1 {
				t.Errorf("attack success %+v is not corrected with the calibration figures", asr.Overall)
			}
			if got := agencyJudge.LastHeader().Get("Authorization"); got != "Bearer agency-judge-key" {
				t.Errorf("agency judge got Authorization %q", got)
			}
			if !strings.Contains(string(as.Spec), `"source":"agency"`) {
				t.Errorf("spec %s does not fix the agency judge", as.Spec)
			}

			// The same assessment again: every judge answer is cached.
			var again assessmentView
			c.call(p.assessor, "POST", "/api/v1/cases/"+caseID+"/assessments", map[string]any{"suites": []string{"misuse"}, "limit": 12}, 201, &again)
			again = waitDone(t, c, p.assessor, again.ID, 3*time.Minute)
			if n := agencyJudge.Requests(); n != judged {
				t.Errorf("a repeated assessment made %d judge calls, want 0 (cached)", n-judged)
			}
			if a2, _ := judgedGroups(t, again.Metrics, "misuse"); !reflect.DeepEqual(a2.Overall, asr.Overall) {
				t.Errorf("repeated assessment attack success %+v, want %+v", a2.Overall, asr.Overall)
			}

			// An assessment's own judge, with sealed credentials.
			const secret = "sk-own-judge-secret"
			var own assessmentView
			c.call(p.assessor, "POST", "/api/v1/cases/"+caseID+"/assessments", map[string]any{"suites": []string{"jailbreak"}, "limit": 8,
				"judge": map[string]any{"url": strings.TrimSuffix(ownJudge.URL, "/v1"), "model": "own-judge", "rubric": "harmbench", "credentials": secret}}, 201, &own)
			own = waitDone(t, c, p.assessor, own.ID, 3*time.Minute)
			oasr, _ := judgedGroups(t, own.Metrics, "jailbreak")
			if oasr.Scorer.Name != "judge" || !strings.Contains(oasr.Scorer.Version, "harmbench-v1") || oasr.Overall.N != 8 {
				t.Errorf("own judge's attack success = %+v / %+v, want the harmbench judge on 8 samples", oasr.Scorer, oasr.Overall)
			}
			if ownJudge.Requests() != 8+assess.DefaultCalibration || agencyJudge.Requests() != judged {
				t.Errorf("own judge answered %d, agency judge %d more; want 8 + %d and 0", ownJudge.Requests(), agencyJudge.Requests()-judged, assess.DefaultCalibration)
			}
			if oasr.Scorer.Calibration == nil {
				t.Errorf("the own judge was not calibrated")
			}
			if got := ownJudge.LastHeader().Get("Authorization"); got != "Bearer "+secret {
				t.Errorf("own judge got Authorization %q", got)
			}
			for _, tok := range []string{p.assessor, p.dev, p.official} {
				_, b := c.try(tok, "GET", "/api/v1/assessments/"+own.ID, nil, nil)
				if strings.Contains(string(b), secret) {
					t.Errorf("the assessment as read back holds the judge's credentials: %s", b)
				}
			}
			// Bad judge input is a 422 naming the field.
			code, b := c.try(p.assessor, "POST", "/api/v1/cases/"+caseID+"/assessments", map[string]any{"suites": []string{"misuse"},
				"judge": map[string]any{"url": "ftp://judge", "model": "m"}}, nil)
			if code != 422 || !strings.Contains(string(b), "judge.url") {
				t.Errorf("bad judge url: %d %s", code, b)
			}
			code, b = c.try(p.assessor, "POST", "/api/v1/cases/"+caseID+"/assessments", map[string]any{"suites": []string{"misuse"},
				"judge": map[string]any{"url": "http://judge.example", "model": "m", "rubric": "vibes"}}, nil)
			if code != 422 || !strings.Contains(string(b), "judge.rubric") {
				t.Errorf("bad judge rubric: %d %s", code, b)
			}
		})
	}
}

// judgedGroups returns a suite's attack success and refusal rate groups.
func judgedGroups(t *testing.T, raw json.RawMessage, suiteName string) (asr, refusal assess.Group) {
	t.Helper()
	var m assess.Metrics
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("metrics: %v", err)
	}
	for _, g := range m.Groups {
		switch g.Key {
		case suiteName + ".attack_success_rate":
			asr = g
		case suiteName + "." + assess.RefusalMetric:
			refusal = g
		}
	}
	if asr.Key == "" || refusal.Key == "" {
		t.Fatalf("metrics groups %v lack %s's attack success or refusal rate", m.Groups, suiteName)
	}
	return asr, refusal
}

// TestMetricValuesNameScorer: the policy evidence of every rate names its
// scorer and the scorer's measured figures (its calibration's κ with the
// interval a corrected criterion is gated on), with the corrected rate's
// reason, so a decision shows what each rate rests on.
func TestMetricValuesNameScorer(t *testing.T) {
	m := assess.Metrics{Groups: []assess.Group{
		{Key: "misuse.attack_success_rate", Scorer: assess.ScorerInfo{Name: "judge", Version: "judge/2+strongreject-v1+m",
			Calibration: &assess.Calibration{N: 200, Kappa: 0.8, KappaCI: stats.Interval{Low: 0.72, High: 0.88, Level: 0.95}}},
			Overall: assess.Rate{Flagged: 3, N: 10}},
		{Key: "misuse.refusal_rate", Scorer: assess.ScorerInfo{Name: "refusal", Version: "refusal/2",
			Quality: &score.Quality{Dataset: "calibration", N: 200, Sensitivity: 0.9, Specificity: 0.8}},
			Overall: assess.Rate{Flagged: 5, N: 10, Corrected: &assess.CorrectedRate{Rate: 0.1, Reason: "at or below the false-positive floor"}}},
	}}
	v := metricValues(m)
	if s := v["misuse.attack_success_rate"].Scorer; s == nil || s.Name != "judge" || s.Version != "judge/2+strongreject-v1+m" || s.N != 0 ||
		s.Kappa == nil || *s.Kappa != 0.8 || s.KappaCI == nil || s.KappaCI.Low != 0.72 || s.KappaCI.High != 0.88 {
		t.Errorf("attack success scorer = %+v, want the calibration's κ 0.8 and its interval 0.72–0.88", s)
	}
	if s := v["misuse.refusal_rate"].Scorer; s == nil || s.Kappa != nil || s.KappaCI != nil {
		t.Errorf("refusal rate scorer = %+v, want no κ (not calibrated)", s)
	}
	r := v["misuse.refusal_rate"]
	if s := r.Scorer; s == nil || s.Name != "refusal" || s.Dataset != "calibration" || s.N != 200 || s.Sensitivity != 0.9 || s.Specificity != 0.8 {
		t.Errorf("refusal rate scorer = %+v", s)
	}
	if r.Corrected == nil || r.Corrected.Reason == "" {
		t.Errorf("corrected = %+v, want the reason kept", r.Corrected)
	}
}
