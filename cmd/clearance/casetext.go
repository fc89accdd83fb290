package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// caseNames resolves user and organisation ids to names: its own user and
// organisation from GET /api/v1/me, the rest from GET /api/v1/names. An id
// it cannot resolve is shown as is.
type caseNames struct {
	users, orgs map[string]string
}

func lookupNames(ctx context.Context, c *apiClient) caseNames {
	p := caseNames{users: map[string]string{}, orgs: map[string]string{}}
	var me struct {
		User struct{ ID, Name string }
		Org  struct{ ID, Name string }
	}
	if c.do(ctx, "GET", "/api/v1/me", nil, nil, &me) == nil {
		p.users[me.User.ID] = me.User.Name
		p.orgs[me.Org.ID] = me.Org.Name
	}
	return p
}

// fill resolves the ids not yet named, in batches the names endpoint
// accepts. A failure leaves them unnamed.
func (p caseNames) fill(ctx context.Context, c *apiClient, users, orgs []string) {
	q := url.Values{}
	add := func(key string, ids []string, known map[string]string) {
		for _, id := range ids {
			if _, ok := known[id]; !ok && id != "" && !slices.Contains(q[key], id) {
				q.Add(key, id)
			}
		}
	}
	add("user", users, p.users)
	add("org", orgs, p.orgs)
	for len(q["user"])+len(q["org"]) > 0 {
		batch := url.Values{}
		for _, key := range []string{"user", "org"} {
			n := min(len(q[key]), 100)
			batch[key], q[key] = q[key][:n], q[key][n:]
		}
		var out struct {
			Users map[string]string `json:"users"`
			Orgs  map[string]string `json:"orgs"`
		}
		if c.do(ctx, "GET", "/api/v1/names?"+batch.Encode(), nil, nil, &out) != nil {
			return
		}
		maps.Copy(p.users, out.Users)
		maps.Copy(p.orgs, out.Orgs)
	}
}

func (p caseNames) user(id string) string {
	if n := p.users[id]; n != "" {
		return n
	}
	return id
}

// dossierNames reads the developer's and the model's names from a dossier.
func dossierNames(raw json.RawMessage) (developer, model string) {
	var d struct {
		Model     struct{ Name, Version string }
		Developer struct{ Name string }
	}
	if json.Unmarshal(raw, &d) != nil {
		return "", ""
	}
	return d.Developer.Name, strings.TrimSpace(d.Model.Name + " " + d.Model.Version)
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func strs(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		out = append(out, str(x))
	}
	return out
}

// writeCaseText prints a case for caseNames: its model, developer, state and
// clock, then its assessments, findings and decisions, by name.
func writeCaseText(ctx context.Context, w io.Writer, c *apiClient, cs map[string]any) error {
	id := str(cs["id"])
	type page struct {
		Items []map[string]any `json:"items"`
	}
	var as, fs, ds page
	aerr := c.do(ctx, "GET", "/api/v1/cases/"+url.PathEscape(id)+"/assessments?limit=100", nil, nil, &as)
	ferr := c.do(ctx, "GET", "/api/v1/cases/"+url.PathEscape(id)+"/findings?limit=100", nil, nil, &fs)
	derr := c.do(ctx, "GET", "/api/v1/cases/"+url.PathEscape(id)+"/decisions?limit=100", nil, nil, &ds)
	ppl := lookupNames(ctx, c)
	users := strs(cs["assignees"])
	for _, a := range as.Items {
		users = append(users, str(a["created_by"]))
	}
	for _, f := range fs.Items {
		users = append(users, str(f["created_by"]))
	}
	for _, d := range ds.Items {
		users = append(users, str(d["official_id"]))
	}
	ppl.fill(ctx, c, users, []string{str(cs["org_id"])})
	raw, _ := json.Marshal(cs["dossier"])
	dev, dmodel := dossierNames(raw)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Case\t%s\n", id)
	fmt.Fprintf(tw, "Model\t%s\n", str(cs["model_name"]))
	if dmodel != "" && dmodel != str(cs["model_name"]) {
		fmt.Fprintf(tw, "Dossier model\t%s\n", dmodel)
	}
	if dev == "" {
		dev = ppl.orgs[str(cs["org_id"])]
	}
	if dev != "" {
		fmt.Fprintf(tw, "Developer\t%s\n", dev)
	}
	fmt.Fprintf(tw, "Weights\t%s\n", str(cs["model_digest"]))
	fmt.Fprintf(tw, "Profiles\t%s\n", strings.Join(strs(cs["profiles"]), ", "))
	fmt.Fprintf(tw, "State\t%s\n", str(cs["state"]))
	if cl, ok := cs["clock"].(map[string]any); ok {
		run := "stopped"
		if cl["running"] == true {
			run = "running"
		}
		if cl["expired"] == true {
			run = "expired"
		}
		fmt.Fprintf(tw, "Clock\t%v %v, deadline %v (%s)\n", cl["length"], cl["unit"], cl["deadline"], run)
	}
	var staff []string
	for _, a := range strs(cs["assignees"]) {
		staff = append(staff, ppl.user(a))
	}
	if len(staff) > 0 {
		fmt.Fprintf(tw, "Assigned\t%s\n", strings.Join(staff, ", "))
	}
	fmt.Fprintf(tw, "Submitted\t%s\n", str(cs["created_at"]))
	if err := tw.Flush(); err != nil {
		return err
	}
	if aerr == nil && len(as.Items) > 0 {
		fmt.Fprintln(w, "\nAssessments:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, a := range as.Items {
			how := "scheduled by " + ppl.user(str(a["created_by"]))
			if a["imported"] == true {
				how = "imported by " + ppl.user(str(a["created_by"]))
			}
			fmt.Fprintf(tw, "  %s\t%s\t%v/%v shards\t%s\t%s\n", a["id"], a["state"], a["shards_done"], a["shards"], how, a["created_at"])
		}
		tw.Flush()
	}
	if ferr == nil && len(fs.Items) > 0 {
		fmt.Fprintln(w, "\nFindings:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, f := range fs.Items {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\tdue %s\tby %s\n", f["id"], f["severity"], f["status"], f["title"], f["deadline"], ppl.user(str(f["created_by"])))
		}
		tw.Flush()
	}
	if derr == nil && len(ds.Items) > 0 {
		fmt.Fprintln(w, "\nDecisions:")
		for _, d := range ds.Items {
			by := ppl.user(str(d["official_id"]))
			if d["deemed"] == true {
				by = "deemed (the clock ran out)"
			}
			fmt.Fprintf(w, "  %s by %s, %s\n", d["id"], by, d["created_at"])
			var outs map[string]any
			b, _ := json.Marshal(d["outcomes"])
			json.Unmarshal(b, &outs)
			keys := make([]string, 0, len(outs))
			for k := range outs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				o := outs[k]
				if m, ok := o.(map[string]any); ok {
					o = m["outcome"]
				}
				fmt.Fprintf(w, "    %-22s %v\n", k, o)
			}
			if r := str(d["rationale"]); r != "" {
				fmt.Fprintf(w, "    rationale: %s\n", r)
			}
		}
	}
	return nil
}

// writeCaseList prints cases as a table for caseNames: model, developer
// (the dossier is not in lists: the organisation's name where the token
// may see it), state, profiles and deadline.
func writeCaseList(ctx context.Context, w io.Writer, c *apiClient, all []map[string]any) error {
	ppl := lookupNames(ctx, c)
	var orgs []string
	for _, x := range all {
		orgs = append(orgs, str(x["org_id"]))
	}
	ppl.fill(ctx, c, nil, orgs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tMODEL\tORGANISATION\tSTATE\tPROFILES\tDEADLINE")
	for _, x := range all {
		org := ppl.orgs[str(x["org_id"])]
		if org == "" {
			org = str(x["org_id"])
		}
		deadline := "-"
		if cl, ok := x["clock"].(map[string]any); ok && cl["running"] == true {
			deadline = str(cl["deadline"])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x["id"], x["model_name"], org, x["state"], strings.Join(strs(x["profiles"]), ","), deadline)
	}
	return tw.Flush()
}
