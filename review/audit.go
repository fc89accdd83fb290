package review

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// AuditEntry is one entry of the append-only audit trail. Entries form a
// single chain over all cases: each entry's PrevHash is the Hash of the
// entry before it (empty for the first, Seq 1), and Hash is computed over
// every other field by ComputeHash.
type AuditEntry struct {
	Seq  int64
	Time time.Time
	// Actor is the user id, or "system".
	Actor  string
	Action string
	// CaseID is empty for actions not about a case.
	CaseID string
	// Details is a compact JSON object; nil means {}.
	Details  json.RawMessage
	PrevHash string
	Hash     string
}

// auditDomain separates audit hashes from any other SHA-256 use.
const auditDomain = "clearance audit v1\n"

// ComputeHash returns the lowercase hex SHA-256 of e's canonical encoding:
// a domain line, then seq, time (UTC, RFC 3339 with microseconds, the
// precision every Store keeps), actor, action, case id, details and
// previous hash, each as its decimal byte length, a colon, the bytes and a
// newline. The length prefixes make the encoding unambiguous. e.Hash is
// not an input.
func (e AuditEntry) ComputeHash() string {
	h := sha256.New()
	h.Write([]byte(auditDomain))
	for _, f := range []string{
		strconv.FormatInt(e.Seq, 10),
		AuditTime(e.Time).Format(auditTimeFormat),
		e.Actor,
		e.Action,
		e.CaseID,
		string(e.Details),
		e.PrevHash,
	} {
		fmt.Fprintf(h, "%d:%s\n", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

const auditTimeFormat = "2006-01-02T15:04:05.000000Z"

// AuditTime returns t as audit entries and stores keep it: UTC, truncated
// to the microsecond.
func AuditTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Chain fills e's Seq, PrevHash and Hash to follow prev, the current head
// of the trail (nil for an empty trail), and normalises its Time. Stores
// call it while holding the trail's head.
func (e AuditEntry) Chain(prev *AuditEntry) AuditEntry {
	e.Seq, e.PrevHash = 1, ""
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Time = AuditTime(e.Time)
	if len(e.Details) == 0 {
		e.Details = json.RawMessage("{}")
	}
	e.Hash = e.ComputeHash()
	return e
}

// AuditError reports where a trail fails verification.
type AuditError struct {
	Seq    int64 // the entry at fault, or the one expected
	Reason string
}

func (e *AuditError) Error() string {
	return fmt.Sprintf("verify audit trail at seq %d: %s", e.Seq, e.Reason)
}

// Verify checks that entries are a contiguous run of the chain following
// prevHash (empty, with entries starting at Seq 1, for the whole trail):
// sequence numbers without gaps, each PrevHash equal to the previous
// Hash, each Hash equal to ComputeHash. It returns nil or an *AuditError
// naming the first bad entry, so an edited, inserted, reordered or deleted
// entry is detected. A truncated tail is not: compare the last Hash with
// an anchored head for that.
func Verify(prevHash string, entries []AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if prevHash == "" && entries[0].Seq != 1 {
		return &AuditError{Seq: 1, Reason: fmt.Sprintf("trail starts at seq %d", entries[0].Seq)}
	}
	prev := prevHash
	for i, e := range entries {
		if i > 0 && e.Seq != entries[i-1].Seq+1 {
			return &AuditError{Seq: entries[i-1].Seq + 1, Reason: fmt.Sprintf("missing; next entry has seq %d", e.Seq)}
		}
		if e.PrevHash != prev {
			return &AuditError{Seq: e.Seq, Reason: "previous hash does not match the entry before it"}
		}
		if got := e.ComputeHash(); got != e.Hash {
			return &AuditError{Seq: e.Seq, Reason: "hash does not match the entry's contents"}
		}
		prev = e.Hash
	}
	return nil
}
