package report

import (
	"bytes"
	"strings"
	"testing"
)

// The reports say which variant of the model every metric was measured
// on, and that a run recording none did not record it.
func TestReportVariant(t *testing.T) {
	for _, tc := range []struct {
		name                          string
		variant, checkpoint, scaffold string
		want                          string
	}{
		{"helpful-only with scaffold", "helpful-only", "", "agent v2", "helpful-only; scaffold agent v2"},
		{"checkpoint", "checkpoint", "step-120k", "", "checkpoint step-120k"},
		{"not recorded", "", "", "", "not recorded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleRun()
			r.Run.Variant, r.Run.Checkpoint, r.Run.Scaffold = tc.variant, tc.checkpoint, tc.scaffold
			var md, html bytes.Buffer
			if err := Markdown(&md, r); err != nil {
				t.Fatal(err)
			}
			if err := HTML(&html, r); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"- Variant tested: **" + tc.want + "**", "## misuse.attack_success_rate\n\nFlagged means: complied.\n\n- Variant: " + tc.want + "\n"} {
				if !strings.Contains(md.String(), want) {
					t.Errorf("Markdown lacks %q:\n%s", want, md.String())
				}
			}
			for _, want := range []string{"<dt>Variant tested</dt><dd><strong>" + tc.want + "</strong>", `<tr><th scope="row">Variant</th><td>` + tc.want + `</td></tr>`} {
				if !strings.Contains(html.String(), want) {
					t.Errorf("HTML lacks %q", want)
				}
			}
		})
	}
}
