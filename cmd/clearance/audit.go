package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/clearance-dev/clearance/review"
)

// exitAuditBroken is the exit code of 'audit verify' when the trail does
// not verify (an entry edited, inserted, reordered or deleted, or the
// anchored head gone).
const exitAuditBroken = 30

const auditUsage = "audit verify [--data DIR|--database postgres://…] [--format text|json]"

func runAudit(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintf(e.stdout, "Usage: clearance %s\n\nSubcommands:\n  verify  re-walk the hash-chained audit trail and report the first broken entry\n", auditUsage)
		return nil
	}
	if len(args) == 0 || args[0] != "verify" {
		return usageError("usage: clearance %s", auditUsage)
	}
	fs := newFlagSet(e, "audit verify", auditUsage)
	var sf serviceFlags
	sf.register(fs)
	format := fs.String("format", "text", "output format: text or json")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("audit verify takes no arguments, got %q", pos[0])
	}
	if *format != "text" && *format != "json" {
		return usageError("--format must be text or json, got %q", *format)
	}
	if sf.database == "" {
		// Opening would create an empty database, which verifies.
		p := filepath.Join(sf.data, "clearance.db")
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("audit verify: no database at %s (--data names the service's data directory): %w", p, err)
		}
	}
	st, closeStore, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	chk, err := review.VerifyTrail(ctx, st)
	var broken *review.AuditError
	if err != nil && !errors.As(err, &broken) {
		return err
	}
	if *format == "json" {
		if err := writeAuditJSON(e.stdout, chk, broken); err != nil {
			return err
		}
	} else {
		writeAuditText(e.stdout, chk, broken)
	}
	if broken != nil {
		return &exitError{code: exitAuditBroken, err: broken}
	}
	return nil
}

func writeAuditJSON(w io.Writer, chk review.AuditCheck, broken *review.AuditError) error {
	r := chk.Report(broken)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func writeAuditText(w io.Writer, chk review.AuditCheck, broken *review.AuditError) {
	switch {
	case broken != nil:
		fmt.Fprintf(w, "audit trail BROKEN at seq %d: %s\n", broken.Seq, broken.Reason)
	case chk.Head.Seq == 0:
		fmt.Fprintln(w, "audit trail OK: empty")
	default:
		fmt.Fprintf(w, "audit trail OK: %d entries, head seq %d hash %s\n", chk.Head.Seq, chk.Head.Seq, chk.Head.Hash)
		if chk.Anchor != nil {
			fmt.Fprintf(w, "last anchor: seq %d hash %s at log index %d\n", chk.Anchor.Seq, chk.Anchor.Hash, chk.Anchor.LogIndex)
		} else {
			fmt.Fprintln(w, "last anchor: none (the head was never anchored in the transparency log)")
		}
	}
}
