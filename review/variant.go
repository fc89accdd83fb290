package review

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The variants of a model an assessment can test. A finding holds for
// the variant tested: a safeguard measured on the production stack says
// nothing of the weights without it, and a capability measured behind
// safeguards understates what the weights can do.
const (
	// VariantProduction is the model as it will be deployed, with its
	// safeguards (system prompt, classifiers, refusal training).
	VariantProduction = "production"
	// VariantSafeguardsReduced is the model with some safeguards removed
	// or weakened (classifiers off, for example).
	VariantSafeguardsReduced = "safeguards-reduced"
	// VariantHelpfulOnly is the model trained or configured to answer
	// every request: the upper bound on capability.
	VariantHelpfulOnly = "helpful-only"
	// VariantCheckpoint is an intermediate checkpoint, named by
	// Variant.Checkpoint.
	VariantCheckpoint = "checkpoint"
)

// Variants are the variant names, in the order they are listed.
var Variants = []string{VariantProduction, VariantSafeguardsReduced, VariantHelpfulOnly, VariantCheckpoint}

// VariantUnrecorded is the label of an assessment that records no
// variant (one imported from a run made before variants were recorded).
const VariantUnrecorded = "unrecorded"

// maxScaffold bounds a scaffold version.
const maxScaffold = 128

// checkpointRE is a checkpoint name: a step, a tag, a digest prefix.
var checkpointRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$`)

// Variant is the variant of the model an assessment tested and the
// version of the scaffold (the agent harness, tools and prompts) it ran
// under. It is recorded in the assessment's Spec under the keys
// "variant", "checkpoint" and "scaffold", the same keys as a run.json of
// clearance assess, so scheduled and imported assessments read alike.
type Variant struct {
	// Name is one of Variants; empty means not recorded.
	Name string `json:"variant,omitempty"`
	// Checkpoint names the checkpoint when Name is VariantCheckpoint.
	Checkpoint string `json:"checkpoint,omitempty"`
	// Scaffold is the scaffold's version, free text (at most 128 bytes,
	// no control characters); empty when not given.
	Scaffold string `json:"scaffold,omitempty"`
}

// Label is the variant as decisions and reports list it: the name, with
// the checkpoint as "checkpoint:NAME", or VariantUnrecorded.
func (v Variant) Label() string {
	switch {
	case v.Name == "":
		return VariantUnrecorded
	case v.Name == VariantCheckpoint:
		return VariantCheckpoint + ":" + v.Checkpoint
	}
	return v.Name
}

// String is the variant as people read it: the label and the scaffold.
func (v Variant) String() string {
	if v.Scaffold == "" {
		return v.Label()
	}
	return v.Label() + " (scaffold " + v.Scaffold + ")"
}

// CheckVariant validates a variant; field prefixes the names of the
// fields in its error ("" for AssessmentInput's own "variant",
// "checkpoint" and "scaffold"; "run." for a run.json). An empty name is
// accepted (the caller decides its default). Errors wrap ErrInvalidInput.
func CheckVariant(prefix string, v Variant) error {
	if v.Name != "" && !slices.Contains(Variants, v.Name) {
		return invalid(prefix+"variant", "unknown variant %q (want one of %v)", v.Name, Variants)
	}
	switch {
	case v.Name == VariantCheckpoint && v.Checkpoint == "":
		return invalid(prefix+"checkpoint", "required with variant %q", VariantCheckpoint)
	case v.Name != VariantCheckpoint && v.Checkpoint != "":
		return invalid(prefix+"checkpoint", "only with variant %q", VariantCheckpoint)
	case v.Checkpoint != "" && !checkpointRE.MatchString(v.Checkpoint):
		return invalid(prefix+"checkpoint", "%q is not a checkpoint name (letters, digits and . _ : @ + -, at most 128)", v.Checkpoint)
	}
	if v.Scaffold != "" {
		if len(v.Scaffold) > maxScaffold {
			return invalid(prefix+"scaffold", "%d bytes exceeds the limit of %d", len(v.Scaffold), maxScaffold)
		}
		if err := checkName(prefix+"scaffold", v.Scaffold); err != nil {
			return err
		}
	}
	return nil
}

// variant is the variant an input asks for, production by default.
func (in AssessmentInput) variant() Variant {
	v := Variant{Name: in.Variant, Checkpoint: in.Checkpoint, Scaffold: in.Scaffold}
	if v.Name == "" {
		v.Name = VariantProduction
	}
	return v
}

// Variant returns the variant recorded in the assessment's Spec; the
// zero Variant when it records none (or the spec is not a JSON object).
func (as Assessment) Variant() Variant {
	var v Variant
	if json.Unmarshal(as.Spec, &v) != nil {
		return Variant{}
	}
	return v
}

// recordVariant adds v to a planner's spec (a compact JSON object) under
// the keys "variant", "checkpoint" and "scaffold", after the planner's
// own keys; a planner that wrote them itself must have written v.
func recordVariant(spec []byte, v Variant) ([]byte, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(spec, &keys); err != nil || keys == nil {
		return nil, fmt.Errorf("planner spec: not a JSON object")
	}
	if _, ok := keys["variant"]; ok {
		if got := (Assessment{Spec: spec}).Variant(); got != v {
			return nil, fmt.Errorf("planner spec: variant %v, asked for %v", got, v)
		}
		return spec, nil
	}
	add, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	body := bytes.TrimSuffix(bytes.TrimSpace(spec), []byte("}"))
	if len(bytes.TrimSpace(body)) > 1 { // more than "{"
		body = append(body, ',')
	}
	return append(body, add[1:]...), nil
}

// checkRunVariant validates the variant a run.json records, if any.
func checkRunVariant(run json.RawMessage) error {
	var v Variant
	if err := json.Unmarshal(run, &v); err != nil {
		return invalid("run", "%s", DescribeJSONError(err))
	}
	return CheckVariant("run.", v)
}

// caseVariants lists the labels of the variants the case's finished
// assessments tested, in the order of Variants (checkpoints by name,
// unrecorded last): what a decision on the case's evidence covers.
// Reference assessments (references.go) measured other models: their
// variants are not the model's and are left out.
func caseVariants(ctx context.Context, st Store, caseID string) ([]string, error) {
	refs, err := st.ListAssessmentReferences(ctx, caseID)
	if err != nil {
		return nil, fmt.Errorf("list variants of case %s: %w", caseID, err)
	}
	isRef := map[string]bool{}
	for _, r := range refs {
		isRef[r.AssessmentID] = true
	}
	seen := map[string]bool{}
	p := Page{Limit: MaxPageLimit}
	for {
		as, err := st.ListAssessments(ctx, caseID, p)
		if err != nil {
			return nil, fmt.Errorf("list variants of case %s: %w", caseID, err)
		}
		for _, a := range as {
			if a.State == AssessmentDone && !isRef[a.ID] {
				seen[a.Variant().Label()] = true
			}
		}
		if len(as) < p.N() {
			break
		}
		p.After = as[len(as)-1].ID
	}
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	SortVariantLabels(out)
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// SortVariantLabels sorts variant labels (Variant.Label) in the order of
// Variants, checkpoints by name, VariantUnrecorded last.
func SortVariantLabels(ls []string) {
	rank := func(l string) int {
		if i := slices.Index(Variants, l); i >= 0 {
			return i
		}
		if l == VariantUnrecorded {
			return len(Variants) + 1
		}
		return slices.Index(Variants, VariantCheckpoint) // checkpoint:NAME
	}
	slices.SortFunc(ls, func(a, b string) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
}
