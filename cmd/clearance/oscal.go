package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"

	"github.com/clearance-dev/clearance/oscal"
)

// runCaseOSCAL downloads a case as an OSCAL document (assessment plan,
// assessment results or POA&M) from GET /api/v1/cases/{id}/oscal, which
// validates it against NIST's schema before serving it, and writes it to
// stdout or a file.
func runCaseOSCAL(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "case oscal", "case oscal ID --kind ap|ar|poam [-o FILE] --server URL [--token T]")
	cf := registerClient(fs)
	kind := fs.String("kind", "", "document: ap (assessment plan), ar (assessment results) or poam (plan of action and milestones)")
	var out string
	fs.StringVar(&out, "o", "", "write the document to FILE instead of stdout")
	fs.StringVar(&out, "out", "", "same as -o")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("case oscal wants one case id")
	}
	k, err := oscal.ParseKind(*kind)
	if err != nil {
		return usageError("--kind must be ap, ar or poam, not %q", *kind)
	}
	c, err := newAPIClient(e, *cf.server, *cf.token)
	if err != nil {
		return err
	}
	var doc json.RawMessage
	if err := c.do(ctx, "GET", "/api/v1/cases/"+url.PathEscape(pos[0])+"/oscal?kind="+string(k), nil, nil, &doc); err != nil {
		return err
	}
	doc = append(doc, '\n')
	if out == "" {
		_, err := e.stdout.Write(doc)
		return err
	}
	if err := os.WriteFile(out, doc, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Fprintf(e.stderr, "OSCAL %s of case %s written to %s\n", k, pos[0], out)
	return nil
}
