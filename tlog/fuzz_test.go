package tlog

import (
	"testing"
)

func FuzzParseReceipt(f *testing.F) {
	_, vkey, receipts := newLog(f, 3)
	for _, r := range receipts {
		b, _ := r.Marshal()
		f.Add(b, []byte("decision bundle 0000"))
	}
	f.Add([]byte(`{"origin":"x","index":1}`), []byte{})
	f.Fuzz(func(t *testing.T, data, entry []byte) {
		r, err := ParseReceipt(data)
		if err != nil {
			return
		}
		if len(r.LeafHash) != 32 {
			t.Fatalf("accepted a leaf hash of %d bytes", len(r.LeafHash))
		}
		if cp, err := VerifyReceipt(entry, r, vkey); err == nil && r.Index >= cp.Size {
			t.Fatalf("verified index %d beyond size %d", r.Index, cp.Size)
		}
	})
}

func FuzzParseCheckpoint(f *testing.F) {
	_, vkey, receipts := newLog(f, 2)
	for _, r := range receipts {
		f.Add([]byte(r.Checkpoint))
	}
	f.Add([]byte("clearance.test/decisions\n1\nAAAA\n\n— x y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := ParseCheckpoint(data, vkey)
		if err == nil && (cp.Origin != testOrigin || len(cp.Hash) != 32) {
			t.Fatalf("accepted checkpoint %+v", cp)
		}
	})
}
