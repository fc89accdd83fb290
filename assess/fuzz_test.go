package assess

import (
	"strings"
	"testing"
)

// FuzzReadRecords feeds arbitrary bytes to the samples.jsonl reader: it
// must return records or an error naming a line, never panic.
func FuzzReadRecords(f *testing.F) {
	f.Add(`{"id":"misuse/x/direct","suite":"misuse","kind":"harmful","messages":[{"role":"user","content":"hi"}],"response":"no","verdict":{"label":"refusal","flagged":false}}` + "\n")
	f.Add("{\"id\":\"a\"}\n{\"id\":\"b\"")
	f.Add("\n\n{}\n")
	f.Add(`{"id":"a","error":{"source":"target","kind":"timeout","message":"x"}}`)
	f.Fuzz(func(t *testing.T, in string) {
		n := 0
		err := ReadRecords(strings.NewReader(in), func(line int, r *Record) error {
			if r.ID == "" {
				t.Fatalf("record without id passed at line %d", line)
			}
			n++
			return nil
		})
		if err != nil && !strings.Contains(err.Error(), "line ") {
			t.Fatalf("error %q does not name a line", err)
		}
		// Aggregating whatever was read must not panic either.
		a := newAggregator()
		ReadRecords(strings.NewReader(in), func(_ int, r *Record) error { a.add(r); return nil })
		a.metrics("complete", nil)
	})
}
