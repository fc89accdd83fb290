package witness

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// MaxRequestSize is the largest add-checkpoint body a Server reads.
const MaxRequestSize = 16 << 10

// maxProofLines bounds a consistency proof: a tree of 2^64 leaves needs
// fewer than 64 hashes.
const maxProofLines = 63

// Request is a C2SP tlog-witness add-checkpoint request: the size of the
// checkpoint the client believes the witness last cosigned, a consistency
// proof from that size to the new checkpoint, and the new checkpoint (a
// signed note).
type Request struct {
	OldSize    uint64
	Proof      [][]byte
	Checkpoint []byte
}

// ErrMalformed is wrapped by ParseRequest's errors.
var ErrMalformed = errors.New("malformed add-checkpoint request")

// ParseRequest parses an add-checkpoint body: an "old <size>" line, zero
// or more base64 SHA-256 hashes one per line, an empty line, then the
// checkpoint. Errors wrap ErrMalformed and name the offending line.
func ParseRequest(body []byte) (*Request, error) {
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return nil, fmt.Errorf("%w: line 1: want \"old <size>\" and a newline", ErrMalformed)
	}
	num, ok := bytes.CutPrefix(line, []byte("old "))
	if !ok || !isDecimal(num) {
		return nil, fmt.Errorf("%w: line 1: want \"old <size>\", got %s", ErrMalformed, quote(line))
	}
	size, err := strconv.ParseUint(string(num), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: line 1: old size %s out of range", ErrMalformed, quote(num))
	}
	r := &Request{OldSize: size, Proof: [][]byte{}}
	for n := 2; ; n++ {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return nil, fmt.Errorf("%w: no empty line between the proof and the checkpoint", ErrMalformed)
		}
		if len(line) == 0 {
			break
		}
		if len(r.Proof) == maxProofLines {
			return nil, fmt.Errorf("%w: line %d: more than %d proof hashes", ErrMalformed, n, maxProofLines)
		}
		h, err := base64.StdEncoding.Strict().DecodeString(string(line))
		if err != nil || len(h) != 32 {
			return nil, fmt.Errorf("%w: line %d: proof hash must be 32 bytes in base64, got %s", ErrMalformed, n, quote(line))
		}
		r.Proof = append(r.Proof, h)
	}
	if len(rest) == 0 {
		return nil, fmt.Errorf("%w: empty checkpoint", ErrMalformed)
	}
	r.Checkpoint = rest
	return r, nil
}

// Encode is the inverse of ParseRequest.
func (r *Request) Encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", r.OldSize)
	for _, h := range r.Proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(r.Checkpoint)
	return b.Bytes()
}

// isDecimal reports whether b is a decimal number without sign or leading
// zeros.
func isDecimal(b []byte) bool {
	if len(b) == 0 || (len(b) > 1 && b[0] == '0') {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// quote quotes b for an error message, cut to 40 bytes.
func quote(b []byte) string {
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "…"
	}
	return strconv.Quote(string(b))
}
