package policy

import (
	"fmt"
	"strings"
)

// Variants are the variants of a model a metric can be measured on, as
// evidence records them and an evaluation's variant names them:
// production (with its safeguards), safeguards-reduced, helpful-only,
// and checkpoint (an intermediate checkpoint, named in the metric's
// checkpoint). They are review.Variants; the evidence and profile
// schemas list the same names.
var Variants = []string{"production", "safeguards-reduced", "helpful-only", "checkpoint"}

// variantLabel is the variant a metric was measured on as decisions
// show it: the name, "checkpoint:NAME" for a named checkpoint, or ""
// when the evidence records none.
func variantLabel(m MetricValue) string {
	if m.Variant == "checkpoint" && m.Checkpoint != "" {
		return m.Variant + ":" + m.Checkpoint
	}
	return m.Variant
}

// variantMismatch reports whether an evaluation's variant requirement is
// met by a metric measured on variant (a label), and when it is not, why
// in words: the evaluation names the variant it requires; a metric of
// another variant, or one that records none, does not satisfy it.
func variantMismatch(e Evaluation, key, variant string) (string, bool) {
	if e.Variant == "" {
		return "", true
	}
	name, _, _ := strings.Cut(variant, ":")
	switch {
	case name == e.Variant:
		return "", true
	case variant == "":
		return fmt.Sprintf("%s records no variant; this evaluation requires a measurement on the %s variant", key, e.Variant), false
	}
	return fmt.Sprintf("%s was measured on the %s variant; this evaluation requires the %s variant", key, variant, e.Variant), false
}
