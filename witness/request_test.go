package witness

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const cpText = "clearance.test/decisions\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— x AAAA\n"

var hashB64 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want *Request
		err  string
	}{
		{"no proof", "old 0\n\n" + cpText, &Request{OldSize: 0, Proof: [][]byte{}, Checkpoint: []byte(cpText)}, ""},
		{"proof", "old 12\n" + hashB64 + "\n" + hashB64 + "\n\n" + cpText, &Request{OldSize: 12, Proof: [][]byte{hash(), hash()}, Checkpoint: []byte(cpText)}, ""},
		{"empty", "", nil, "line 1"},
		{"no old line", "12\n\n" + cpText, nil, `line 1: want "old <size>", got "12"`},
		{"negative", "old -1\n\n" + cpText, nil, "line 1"},
		{"leading zero", "old 01\n\n" + cpText, nil, "line 1"},
		{"trailing space", "old 1 \n\n" + cpText, nil, "line 1"},
		{"crlf", "old 1\r\n\r\n" + cpText, nil, "line 1"},
		{"overflow", "old 99999999999999999999\n\n" + cpText, nil, "out of range"},
		{"bad base64", "old 1\nnot base64!\n\n" + cpText, nil, "line 2: proof hash"},
		{"short hash", "old 1\nAAAA\n\n" + cpText, nil, "line 2: proof hash"},
		{"no blank line", "old 1\n" + hashB64 + "\n", nil, "no empty line"},
		{"no checkpoint", "old 1\n\n", nil, "empty checkpoint"},
		{"too many hashes", "old 1\n" + strings.Repeat(hashB64+"\n", 64) + "\n" + cpText, nil, "line 65: more than 63"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRequest([]byte(tc.body))
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseRequest error = %v, want ErrMalformed containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ParseRequest (-want +got):\n%s", d)
			}
			if enc := got.Encode(); string(enc) != tc.body {
				t.Errorf("Encode = %q, want %q", enc, tc.body)
			}
		})
	}
}

func hash() []byte {
	r, _ := ParseRequest([]byte("old 1\n" + hashB64 + "\n\nx"))
	return r.Proof[0]
}

// FuzzParseRequest: any body parses or is refused with ErrMalformed, and
// what parses re-encodes to the same bytes (the format is canonical).
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte("old 0\n\n" + cpText))
	f.Add([]byte("old 12\n" + hashB64 + "\n\n" + cpText))
	f.Add([]byte("old 1\nAAAA\n\n"))
	f.Add([]byte("old 18446744073709551615\n\nx"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseRequest(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if enc := r.Encode(); !bytes.Equal(enc, body) {
			t.Fatalf("Encode = %q, want %q", enc, body)
		}
	})
}
