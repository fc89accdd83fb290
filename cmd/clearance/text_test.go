package main

import (
	"strings"
	"testing"
)

// TestCompareAligned checks that assess compare keeps its columns aligned
// when metric names are longer than the old fixed 45-column field
// ("misuse.attack_success_rate category=physical_harm").
func TestCompareAligned(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{
		{"assess", "--target", "reference", "--suite", "misuse", "--limit", "20", "--out", "a"},
		{"assess", "--target", "reference", "--profile", "vulnerable", "--suite", "misuse", "--limit", "20", "--out", "b"},
	} {
		if code, _, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
	}
	code, out, errs := runCLI(t, "assess", "compare", "a", "b")
	if code != 0 {
		t.Fatalf("assess compare: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	long := false
	col := -1
	for _, l := range lines[1:] {
		key, _, _ := strings.Cut(l, "  ")
		long = long || len(key) > 45
		c := strings.IndexByte(l, '%')
		if col == -1 {
			col = c
		}
		if c != col {
			t.Errorf("column A ends at %d, not %d:\n%s", c, col, out)
			break
		}
	}
	if !long {
		t.Errorf("no metric name is longer than 45 characters; the test proves nothing:\n%s", out)
	}
}
