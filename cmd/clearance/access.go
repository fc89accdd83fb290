package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"text/tabwriter"
)

const (
	tokenUsage = "usage: clearance token list|revoke … --server URL [--token T]"
	userUsage  = "usage: clearance user list|disable|enable … --server URL [--token T]"
)

// runToken lists and revokes API tokens: a user's own, or (admin,
// --user ID) anyone's.
func runToken(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError(tokenUsage)
	}
	switch sub := args[0]; sub {
	case "list":
		fs := newFlagSet(e, "token list", "token list [--user ID] --server URL [--token T] [--format text|json]")
		cf := registerClient(fs)
		userID := fs.String("user", "", "whose tokens (admin; default: your own)")
		format := fs.String("format", "text", "output format: text or json")
		pos, err := parseFlags(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 0 {
			return usageError("token list takes no arguments")
		}
		c, err := newAPIClient(e, *cf.server, *cf.token)
		if err != nil {
			return err
		}
		if *userID == "" {
			var me struct {
				User struct{ ID string } `json:"user"`
			}
			if err := c.do(ctx, "GET", "/api/v1/me", nil, nil, &me); err != nil {
				return err
			}
			*userID = me.User.ID
		}
		all, err := listAll(ctx, c, "/api/v1/users/"+url.PathEscape(*userID)+"/tokens", nil)
		if err != nil {
			return err
		}
		if *format == "json" {
			return writeJSON(e.stdout, all)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TOKEN\tNAME\tCREATED\tEXPIRES\tREVOKED\tPARENT")
		for _, x := range all {
			fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%v\t%v\n", x["id"], x["name"], x["created_at"], orDash(x["expires_at"]), orDash(x["revoked_at"]), orDash(x["parent_id"]))
		}
		return tw.Flush()
	case "revoke":
		fs := newFlagSet(e, "token revoke", "token revoke ID --server URL [--token T]")
		cf := registerClient(fs)
		pos, err := parseFlags(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError("token revoke wants one token id")
		}
		c, err := newAPIClient(e, *cf.server, *cf.token)
		if err != nil {
			return err
		}
		if err := c.do(ctx, "DELETE", "/api/v1/tokens/"+url.PathEscape(pos[0]), nil, nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "token %s revoked, with every token made from it\n", pos[0])
		return nil
	default:
		return usageError(tokenUsage)
	}
}

// runUser lists users and disables or enables them (admin).
func runUser(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError(userUsage)
	}
	switch sub := args[0]; sub {
	case "list":
		fs := newFlagSet(e, "user list", "user list [--org ID] --server URL [--token T] [--format text|json]")
		cf := registerClient(fs)
		org := fs.String("org", "", "only the users of this organisation")
		format := fs.String("format", "text", "output format: text or json")
		pos, err := parseFlags(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 0 {
			return usageError("user list takes no arguments")
		}
		c, err := newAPIClient(e, *cf.server, *cf.token)
		if err != nil {
			return err
		}
		q := url.Values{}
		if *org != "" {
			q.Set("org", *org)
		}
		all, err := listAll(ctx, c, "/api/v1/users", q)
		if err != nil {
			return err
		}
		if *format == "json" {
			return writeJSON(e.stdout, all)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tNAME\tORG\tROLES\tSTATUS")
		for _, x := range all {
			status := "active"
			if x["disabled"] == true {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%s\n", x["id"], x["name"], x["org_id"], x["roles"], status)
		}
		return tw.Flush()
	case "disable", "enable":
		fs := newFlagSet(e, "user "+sub, "user "+sub+" ID --server URL [--token T]")
		cf := registerClient(fs)
		pos, err := parseFlags(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError("user %s wants one user id", sub)
		}
		c, err := newAPIClient(e, *cf.server, *cf.token)
		if err != nil {
			return err
		}
		if err := c.do(ctx, "POST", "/api/v1/users/"+url.PathEscape(pos[0])+"/"+sub, nil, nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s %sd\n", pos[0], sub)
		return nil
	default:
		return usageError(userUsage)
	}
}

// listAll follows a list endpoint's pages.
func listAll(ctx context.Context, c *apiClient, path string, q url.Values) ([]map[string]any, error) {
	var all []map[string]any
	if q == nil {
		q = url.Values{}
	}
	q.Set("limit", "100")
	for {
		var page struct {
			Items []map[string]any `json:"items"`
			Next  string           `json:"next"`
		}
		if err := c.do(ctx, "GET", path+"?"+q.Encode(), nil, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all, nil
		}
		q.Set("after", page.Next)
	}
}

func orDash(v any) any {
	if v == nil || v == "" {
		return "-"
	}
	return v
}

// cookieFlags decide whether the web UI's cookies are Secure (with the
// __Host- prefix): on when --public-url is https, unless --secure-cookies
// says otherwise.
type cookieFlags struct {
	publicURL string
	secure    bool
}

func (cf *cookieFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&cf.publicURL, "public-url", "", "the URL people reach the service at, such as https://clearance.example (behind a TLS proxy); https turns on Secure, __Host- cookies")
	fs.BoolVar(&cf.secure, "secure-cookies", false, "mark the web UI's cookies Secure with the __Host- prefix (default: on when --public-url is https)")
}

// resolve validates --public-url and returns whether cookies are Secure.
// Call it after fs is parsed.
func (cf *cookieFlags) resolve(fs *flag.FlagSet) (bool, error) {
	explicit := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "secure-cookies" {
			explicit = true
		}
	})
	https := false
	if cf.publicURL != "" {
		u, err := url.Parse(cf.publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
			return false, usageError("--public-url %q: want http(s)://host[:port], without a path", cf.publicURL)
		}
		https = u.Scheme == "https"
	}
	if explicit {
		return cf.secure, nil
	}
	return https, nil
}
