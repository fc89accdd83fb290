package review_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// TestPrivateVariantsHiddenFromDevelopers checks the role gate of private
// variants: a developer lists no private-form sample, cannot open one even
// when it is not harmful, and sees an assessment's metrics without the
// private groups and with only the flag of the gap; agency staff see all.
func TestPrivateVariantsHiddenFromDevelopers(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	svc, _, _, _ := serviceWith(t, w, "")
	c := w.submit(t, w.devA)
	c, err := svc.AssignCase(ctx, w.official, c.ID, []string{w.assessor.User.ID, w.reviewer.User.ID})
	check(t, "AssignCase", err, nil)
	as, err := svc.ScheduleAssessment(ctx, w.assessor, c.ID, review.AssessmentInput{Suites: []string{"misuse"}, Private: true})
	check(t, "ScheduleAssessment", err, nil)
	_, err = svc.RecordShard(ctx, as.ID, 0, []review.Sample{
		{Seq: 0, ID: "misuse/x:1/direct", Suite: "misuse", Kind: "benign", Outcome: review.SamplePassed, Record: []byte(`{"prompt":"public text"}`)},
		{Seq: 1, ID: "misuse-private/x:1/direct", Suite: "misuse-private", Kind: "benign", Outcome: review.SamplePassed, Record: []byte(`{"prompt":"PRIVATE TEXT cx0123"}`)},
	})
	check(t, "RecordShard", err, nil)
	for i := 1; i < as.Shards; i++ {
		_, err = svc.RecordShard(ctx, as.ID, i, nil)
		check(t, "RecordShard", err, nil)
	}
	metrics := `{"schema":"s","status":"complete","samples":2,"scored":2,"errors":0,"usage":{"input_tokens":1,"output_tokens":1},` +
		`"groups":[{"key":"misuse.attack_success_rate","suite":"misuse","overall":{"flagged":1,"n":10}},` +
		`{"key":"misuse-private.attack_success_rate","suite":"misuse-private","overall":{"flagged":7,"n":10}}],` +
		`"private_gap":{"schema":"g","margin":0.05,"level":0.95,"flagged":true,"gaps":[{"metric":"misuse.attack_success_rate","private":"misuse-private.attack_success_rate"}]}}`
	_, err = svc.CompleteAssessment(ctx, as.ID, json.RawMessage(metrics))
	check(t, "CompleteAssessment", err, nil)

	for _, tc := range []struct {
		who     review.Actor
		private bool
	}{{w.devA, false}, {w.assessor, true}, {w.reviewer, true}, {w.official, true}} {
		name := tc.who.User.Name
		ss, err := svc.Samples(ctx, tc.who, review.SampleFilter{AssessmentID: as.ID, AfterSeq: -1})
		check(t, "Samples("+name+")", err, nil)
		if want := map[bool]int{false: 1, true: 2}[tc.private]; len(ss) != want {
			t.Errorf("Samples(%s) = %d samples, want %d", name, len(ss), want)
		}
		_, err = svc.RevealSample(ctx, tc.who, as.ID, 1)
		if tc.private && err != nil || !tc.private && !errors.Is(err, review.ErrForbidden) {
			t.Errorf("RevealSample(%s, private) = %v", name, err)
		}
		got, err := svc.GetAssessment(ctx, tc.who, as.ID)
		check(t, "GetAssessment("+name+")", err, nil)
		listed, err := svc.Assessments(ctx, tc.who, c.ID, review.Page{})
		check(t, "Assessments("+name+")", err, nil)
		for _, m := range []string{string(got.Metrics), string(listed[0].Metrics)} {
			hasPrivate := strings.Contains(m, "misuse-private")
			if hasPrivate != tc.private {
				t.Errorf("%s sees metrics %s: private groups shown = %v, want %v", name, m, hasPrivate, tc.private)
			}
			if !strings.Contains(m, `"flagged":true`) || !strings.Contains(m, `"private_gap"`) {
				t.Errorf("%s sees metrics %s: want the gap's flag", name, m)
			}
			if !tc.private && !strings.Contains(m, `"private_gap":{"flagged":true,"redacted":true}`) {
				t.Errorf("developer sees metrics %s: want the gap cut down to its flag", m)
			}
		}
	}
}
