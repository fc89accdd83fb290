package score

import "testing"

// HarmFitRows returns the request and response of every row the harm
// thresholds are fitted on, for the external test that compares them with
// the batch assess embeds.
func HarmFitRows(t testing.TB) [][2]string {
	sets, _ := harmFitSets(t)
	var out [][2]string
	for _, s := range sets {
		for _, k := range s.keys {
			out = append(out, [2]string{k.prompt, k.response})
		}
	}
	return out
}
