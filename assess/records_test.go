package assess

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/clearance-dev/clearance/target"
)

// TestRunToWriter runs the same plan into a directory and into a
// writer: the writer gets the same records, the metrics are equal, and
// the writer mode leaves no file behind (the working directory of the
// test is checked, since it has no other place to write).
func TestRunToWriter(t *testing.T) {
	p, err := target.BuiltinProfile("vulnerable")
	if err != nil {
		t.Fatal(err)
	}
	seq, n, info := plan(t, []string{"misuse", "over-refusal"}, 20, 3)
	client := referenceTarget(t, p, seq)
	dir := t.TempDir()
	onDisk, err := Run(context.Background(), Config{Target: client, Plan: seq, Total: n, PlanKey: info, Scorers: scorersFor(t, seq), OutDir: dir, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}

	cwd := t.TempDir()
	t.Chdir(cwd)
	var buf bytes.Buffer
	inMemory, err := Run(context.Background(), Config{Target: client, Plan: seq, Total: n, PlanKey: info, Scorers: scorersFor(t, seq), Records: &buf, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	if inMemory.Dir != "" {
		t.Errorf("Result.Dir = %q, want empty", inMemory.Dir)
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 0 {
		t.Errorf("the writer mode left %d files in the working directory", len(entries))
	}
	if diff := cmp.Diff(onDisk.Metrics, inMemory.Metrics); diff != "" {
		t.Errorf("metrics differ (-directory +writer):\n%s", diff)
	}
	ids := func(r *bytes.Reader) map[string]string {
		out := map[string]string{}
		if err := ReadRecords(r, func(_ int, rec *Record) error { out[rec.ID] = rec.Response; return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	file, err := os.ReadFile(filepath.Join(dir, "samples.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	want, got := ids(bytes.NewReader(file)), ids(bytes.NewReader(buf.Bytes()))
	if len(got) != n {
		t.Errorf("the writer got %d records, want %d", len(got), n)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records differ (-directory +writer):\n%s", diff)
	}
}

// TestRunNeedsOneOutput rejects a config with no output and one with two.
func TestRunNeedsOneOutput(t *testing.T) {
	p, err := target.BuiltinProfile("robust")
	if err != nil {
		t.Fatal(err)
	}
	seq, n, info := plan(t, []string{"misuse"}, 1, 1)
	client := referenceTarget(t, p, seq)
	for name, cfg := range map[string]Config{
		"neither": {Target: client, Plan: seq, Total: n, PlanKey: info, Scorers: scorersFor(t, seq)},
		"both":    {Target: client, Plan: seq, Total: n, PlanKey: info, Scorers: scorersFor(t, seq), OutDir: t.TempDir(), Records: &bytes.Buffer{}},
	} {
		if _, err := Run(context.Background(), cfg); err == nil {
			t.Errorf("Run(%s) = nil error, want a config error", name)
		}
	}
}
