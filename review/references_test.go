package review_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/clearance-dev/clearance/review"
)

// TestReferenceAssessment: a reference assessment is planned like any
// other, runs against the reference endpoint with the reference's own
// credentials (sealed at rest, never the case's), and is listed among
// the case's references without credentials; an ordinary assessment
// still runs against the case's target. Bad references are refused,
// naming the field.
func TestReferenceAssessment(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	svc, _, _, _ := serviceWith(t, w, "")
	c, err := svc.Submit(ctx, w.devA, review.Submission{
		Model:    review.SubmittedModel{Digest: digest, Name: "frontier-x"},
		Dossier:  json.RawMessage(`{ "model": {"training_compute_flop": 3e26} }`),
		Target:   review.SubmittedTarget{URL: "https://api.example/v1", Credentials: "sk-secret"},
		Profiles: []string{"us-caisi", "eu-gpai"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c = w.assign(t, c)

	for _, tt := range []struct {
		name  string
		ref   review.ReferenceInput
		field string
	}{
		{"bad name", review.ReferenceInput{Name: "Previous Model", URL: "https://prev.example/v1", Model: "p"}, "reference.name"},
		{"reserved name", review.ReferenceInput{Name: "model", URL: "https://prev.example/v1", Model: "p"}, "reference.name"},
		{"no url", review.ReferenceInput{Name: "previous", Model: "p"}, "reference.url"},
		{"no model", review.ReferenceInput{Name: "previous", URL: "https://prev.example/v1"}, "reference.model"},
		{"bad digest", review.ReferenceInput{Name: "previous", URL: "https://prev.example/v1", Model: "p", Digest: "md5:x"}, "reference.digest"},
	} {
		ref := tt.ref
		_, err := svc.ScheduleAssessment(ctx, w.assessor, c.ID, review.AssessmentInput{Reference: &ref})
		if !errors.Is(err, review.ErrInvalidInput) || !bytes.Contains([]byte(err.Error()), []byte(tt.field)) {
			t.Errorf("%s: err = %v, want invalid input naming %s", tt.name, err, tt.field)
		}
	}

	refDigest := "sha256:" + string(bytes.Repeat([]byte("ab"), 32))
	ref, err := svc.ScheduleAssessment(ctx, w.assessor, c.ID, review.AssessmentInput{Seed: 7,
		Reference: &review.ReferenceInput{Name: "previous", URL: "https://prev.example/v1", Model: "prev-1", Credentials: "sk-reference", Digest: refDigest}})
	if err != nil {
		t.Fatal(err)
	}
	own, err := svc.ScheduleAssessment(ctx, w.assessor, c.ID, review.AssessmentInput{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}

	_, rc, cred, err := svc.AssessmentTarget(ctx, ref.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rc.TargetURL != "https://prev.example/v1" || rc.ModelName != "prev-1" || rc.ModelDigest != refDigest || string(cred) != "sk-reference" {
		t.Errorf("reference target = %s %s %s %q, want the reference endpoint and its credentials", rc.TargetURL, rc.ModelName, rc.ModelDigest, cred)
	}
	_, oc, cred, err := svc.AssessmentTarget(ctx, own.ID)
	if err != nil {
		t.Fatal(err)
	}
	if oc.TargetURL != "https://api.example/v1" || string(cred) != "sk-secret" {
		t.Errorf("own target = %s %q, want the case's", oc.TargetURL, cred)
	}

	// Sealed at rest.
	row, err := w.store.GetAssessmentReference(ctx, ref.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(row.Credentials, []byte("sk-reference")) || len(row.Credentials) == 0 {
		t.Errorf("stored credentials %q are not sealed", row.Credentials)
	}
	refs, err := svc.References(ctx, w.assessor, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := refs[ref.ID]; len(refs) != 1 || !ok || r.Name != "previous" || r.Credentials != nil {
		t.Errorf("References = %+v, want previous without credentials", refs)
	}
	if _, err := svc.References(ctx, w.devB, c.ID); !errors.Is(err, review.ErrNotFound) {
		t.Errorf("References by another developer: %v, want not found", err)
	}
	// The planner never sees the reference (nor its secret).
	if bytes.Contains(ref.Spec, []byte("sk-reference")) || bytes.Contains(ref.Spec, []byte("prev.example")) {
		t.Errorf("spec %s holds the reference", ref.Spec)
	}

	// Imported reference runs: no credentials; recorded with the digest.
	metrics := json.RawMessage(`{"schema":"https://clearance.dev/schemas/metrics/v1","groups":[]}`)
	put := func(p func(review.Sample) error) error {
		return p(review.Sample{Seq: 0, ID: "s", Suite: "misuse", Kind: "harmful", Outcome: review.SamplePassed, Record: []byte(`{}`)})
	}
	_, err = svc.ImportAssessment(ctx, w.assessor, c.ID, review.ImportedRun{Spec: json.RawMessage(`{}`), Metrics: metrics, Samples: put,
		Reference: &review.ReferenceInput{Name: "open-baseline", Credentials: "x"}})
	if !errors.Is(err, review.ErrInvalidInput) {
		t.Errorf("import with reference credentials: %v, want invalid input", err)
	}
	imp, err := svc.ImportAssessment(ctx, w.assessor, c.ID, review.ImportedRun{Spec: json.RawMessage(`{}`), Metrics: metrics, Samples: put,
		Reference: &review.ReferenceInput{Name: "open-baseline", Digest: refDigest}})
	if err != nil {
		t.Fatal(err)
	}
	refs, err = svc.References(ctx, w.assessor, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := refs[imp.ID]; r.Name != "open-baseline" || r.Digest != refDigest || r.URL != "" {
		t.Errorf("imported reference = %+v", r)
	}
	if _, _, _, err := svc.AssessmentTarget(ctx, imp.ID); !errors.Is(err, review.ErrConflict) {
		t.Errorf("AssessmentTarget of an imported reference: %v, want conflict", err)
	}
}
