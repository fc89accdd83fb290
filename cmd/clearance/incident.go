package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/clearance-dev/clearance/review"
)

// clearance incident file|list|report|resolve: incidents on each regime's
// clock, through the service's API (/api/v1/incidents, duties, reports).

const incidentUsage = "usage: clearance incident file|list|report|resolve … --server URL [--token T]"

func runIncident(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError(incidentUsage)
	}
	switch args[0] {
	case "file":
		return runIncidentFile(ctx, e, args[1:])
	case "list":
		return runIncidentList(ctx, e, args[1:])
	case "report":
		return runIncidentReport(ctx, e, args[1:])
	case "resolve":
		return runIncidentResolve(ctx, e, args[1:])
	}
	return usageError(incidentUsage)
}

// writeDuties prints duties as a table: profile, kind, due, state.
func writeDuties(e *env, ds []review.Duty, now time.Time) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DUTY\tPROFILE\tKIND\tTO\tDUE\tSTATE")
	for _, d := range ds {
		state := string(d.State)
		if d.State == review.DutyDone {
			state += " (" + d.ReportID + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s (%s)\t%s\n", d.ID, d.Profile, d.Kind, d.To, d.DueAt.Format(time.RFC3339),
			dueIn(d.DueAt, now), state)
	}
	tw.Flush()
}

// dueIn says how far a deadline is from now: "in 4d 3h" or "2h ago".
func dueIn(due, now time.Time) string {
	d := due.Sub(now).Round(time.Hour)
	past := d < 0
	if past {
		d = -d
	}
	s := fmt.Sprintf("%dh", int(d.Hours()))
	if d >= 48*time.Hour {
		s = fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
	}
	if past {
		return s + " ago"
	}
	return "in " + s
}

func runIncidentFile(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "incident file", "incident file --decision D --class C --summary TEXT --discovered RFC3339 [--evidence TEXT] --server URL [--token T] [--format text|json]")
	cf := registerClient(fs)
	decision := fs.String("decision", "", "the cleared decision the incident is about")
	class := fs.String("class", "", "critical_infrastructure, cyber (incl. weight exfiltration), death_or_injury, serious_harm or imminent_risk")
	summary := fs.String("summary", "", "what happened")
	discovered := fs.String("discovered", "", "when it became known, RFC 3339 (default: now)")
	evidence := fs.String("evidence", "", "the evidence, as text")
	format := fs.String("format", "text", "output format: text or json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *decision == "" || *class == "" || *summary == "" {
		return usageError("incident file wants --decision, --class and --summary")
	}
	at := e.now().UTC()
	if *discovered != "" {
		if at, err = time.Parse(time.RFC3339, *discovered); err != nil {
			return usageError("--discovered %q: want RFC 3339, such as 2026-03-02T09:00:00Z", *discovered)
		}
	}
	c, err := newAPIClient(e, *cf.server, *cf.token)
	if err != nil {
		return err
	}
	in := review.IncidentInput{DecisionID: *decision, Class: review.IncidentClass(*class), Summary: *summary, DiscoveredAt: at, Evidence: *evidence}
	var out struct {
		review.Incident
		Duties []review.Duty `json:"duties"`
	}
	if err := c.do(ctx, "POST", "/api/v1/incidents", in, nil, &out); err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "incident %s filed on case %s (%s, discovered %s): %d duties\n", out.ID, out.CaseID, out.Class,
		out.DiscoveredAt.Format(time.RFC3339), len(out.Duties))
	writeDuties(e, out.Duties, e.now())
	return nil
}

func runIncidentList(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "incident list", "incident list [--case ID] [--duties] [--state due|overdue|done|closed] --server URL [--token T] [--format text|json]")
	cf := registerClient(fs)
	caseID := fs.String("case", "", "only this case's")
	duties := fs.Bool("duties", false, "list duties instead of incidents")
	state := fs.String("state", "", "with --duties: only duties in this state")
	format := fs.String("format", "text", "output format: text or json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("incident list takes no arguments")
	}
	c, err := newAPIClient(e, *cf.server, *cf.token)
	if err != nil {
		return err
	}
	q := url.Values{"limit": {"500"}}
	if *caseID != "" {
		q.Set("case", *caseID)
	}
	if *duties {
		if *state != "" {
			q.Set("state", *state)
		}
		var out struct {
			Items []review.Duty `json:"items"`
		}
		if err := c.do(ctx, "GET", "/api/v1/duties?"+q.Encode(), nil, nil, &out); err != nil {
			return err
		}
		if *format == "json" {
			return writeJSON(e.stdout, out.Items)
		}
		writeDuties(e, out.Items, e.now())
		return nil
	}
	var out struct {
		Items []review.Incident `json:"items"`
	}
	if err := c.do(ctx, "GET", "/api/v1/incidents?"+q.Encode(), nil, nil, &out); err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(e.stdout, out.Items)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INCIDENT\tCASE\tCLASS\tDISCOVERED\tRESOLVED\tSUMMARY")
	for _, i := range out.Items {
		resolved := "-"
		if !i.ResolvedAt.IsZero() {
			resolved = i.ResolvedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", i.ID, i.CaseID, i.Class, i.DiscoveredAt.Format(time.RFC3339), resolved,
			oneLine(i.Summary, 60))
	}
	return tw.Flush()
}

// oneLine shortens s to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func runIncidentReport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "incident report", "incident report DUTY [--note TEXT] --server URL [--token T] [--format markdown|json]")
	cf := registerClient(fs)
	note := fs.String("note", "", "text added to the generated report")
	format := fs.String("format", "markdown", "output format: markdown or json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("incident report wants one duty id")
	}
	c, err := newAPIClient(e, *cf.server, *cf.token)
	if err != nil {
		return err
	}
	var out review.IncidentReport
	if err := c.do(ctx, "POST", "/api/v1/duties/"+url.PathEscape(pos[0])+"/reports", review.ReportInput{Note: *note}, nil, &out); err != nil {
		return err
	}
	if *format == "json" {
		_, err := e.stdout.Write(append(out.Document, '\n'))
		return err
	}
	fmt.Fprint(e.stdout, out.Markdown)
	return nil
}

func runIncidentResolve(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "incident resolve", "incident resolve ID --resolution TEXT --server URL [--token T]")
	cf := registerClient(fs)
	resolution := fs.String("resolution", "", "how it was resolved")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *resolution == "" {
		return usageError("incident resolve wants one incident id and --resolution")
	}
	c, err := newAPIClient(e, *cf.server, *cf.token)
	if err != nil {
		return err
	}
	var out review.IncidentView
	if err := c.do(ctx, "POST", "/api/v1/incidents/"+url.PathEscape(pos[0])+"/resolve", map[string]string{"resolution": *resolution}, nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "incident %s resolved\n", out.ID)
	writeDuties(e, out.Duties, e.now())
	return nil
}
