package egress

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

func prefixes(t *testing.T, ss ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, s := range ss {
		p, err := ParsePrefix(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func TestPolicyAllowed(t *testing.T) {
	p := Policy{Allow: prefixes(t, "10.1.0.0/16", "127.0.0.1", "fd00:1::/64")}
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700::1111": true,
		"10.1.2.3": true, "10.1.255.255": true, "10.2.0.1": false, "10.0.255.255": false,
		"127.0.0.1": true, "::ffff:127.0.0.1": true, "127.0.0.2": false, "::1": false,
		"fd00:1::5": true, "fd00:2::5": false,
		"169.254.169.254": false,
		// An allowed network is matched on the dialled address, not on
		// what a translation prefix carries.
		"64:ff9b::a01:203": false, "::10.1.2.3": false, "2002:a01:203::1": false,
	} {
		if got := p.Allowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Allowed(%s) = %v, want %v", addr, got, want)
		}
	}
	if (Policy{}).Allowed(netip.MustParseAddr("127.0.0.1")) {
		t.Error("the zero Policy allows 127.0.0.1")
	}
	if p.Allowed(netip.Addr{}) {
		t.Error("Allowed(invalid) = true")
	}
}

func TestParsePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"10.1.0.0/16": "10.1.0.0/16", "127.0.0.1": "127.0.0.1/32", "::1": "::1/128", "fd00::/8": "fd00::/8",
		"127.0.0.1/32": "127.0.0.1/32",
	} {
		got, err := ParsePrefix(in)
		if err != nil || got.String() != want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for in, wantErr := range map[string]string{
		"10.1.2.3/16": "did you mean 10.1.0.0/16", "0.0.0.0/0": "allows every address", "::/0": "allows every address",
		"localhost": "want CIDR notation", "": "want CIDR notation", "10.0.0.0/33": "want CIDR notation",
		"fe80::1%eth0": "zone",
	} {
		if _, err := ParsePrefix(in); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParsePrefix(%q) = %v, want an error containing %q", in, err, wantErr)
		}
	}
}

func TestControl(t *testing.T) {
	p := Policy{Allow: prefixes(t, "10.1.0.0/16")}
	for addr, ok := range map[string]bool{
		"8.8.8.8:443": true, "10.1.0.1:80": true, "[2606:4700::1111]:443": true,
		"127.0.0.1:80": false, "[::1]:80": false, "[::ffff:127.0.0.1]:80": false, "[fe80::1%eth0]:80": false,
		"169.254.169.254:80": false, "[64:ff9b::a9fe:a9fe]:80": false, "localhost:80": false, "garbage": false,
	} {
		err := p.Control("tcp", addr, nil)
		if ok && err != nil {
			t.Errorf("Control(%s) = %v, want nil", addr, err)
		}
		if !ok && !errors.Is(err, ErrRefusedAddress) {
			t.Errorf("Control(%s) = %v, want ErrRefusedAddress", addr, err)
		}
	}
}

// receiver is an HTTP server on 127.0.0.1 that counts its requests.
func receiver(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestClientRefusesLoopback checks that the default policy never reaches
// a server on the host's loopback, by address or by a name resolving to
// it, and that an explicitly allowed network is reached.
func TestClientRefusesLoopback(t *testing.T) {
	srv, hits := receiver(t, nil)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	for _, u := range []string{srv.URL, "http://localhost:" + strconv.Itoa(port), "http://[::1]:" + strconv.Itoa(port), "http://[::ffff:127.0.0.1]:" + strconv.Itoa(port)} {
		resp, err := (Policy{}).Client(0).Get(u)
		if err == nil {
			resp.Body.Close()
		}
		if !errors.Is(err, ErrRefusedAddress) {
			t.Errorf("GET %s = %v, want ErrRefusedAddress", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback server got %d requests", n)
	}
	resp, err := Policy{Allow: prefixes(t, "127.0.0.1/32")}.Client(0).Get(srv.URL)
	if err != nil {
		t.Fatalf("GET %s with 127.0.0.1/32 allowed: %v", srv.URL, err)
	}
	resp.Body.Close()
	if n := hits.Load(); n != 1 {
		t.Fatalf("the allowed server got %d requests, want 1", n)
	}
}

// TestClientRefusalIsPortBlind checks that a refused address fails the
// same way whether its port is open or closed: the refusal comes before
// any packet, so the client is no port scanner.
func TestClientRefusalIsPortBlind(t *testing.T) {
	open, _ := receiver(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	msg := func(hostport string) string {
		_, err := (Policy{}).Client(0).Get("http://" + hostport + "/")
		if !errors.Is(err, ErrRefusedAddress) {
			t.Fatalf("GET %s = %v, want ErrRefusedAddress", hostport, err)
		}
		_, port, _ := net.SplitHostPort(hostport)
		return strings.ReplaceAll(err.Error(), port, "PORT")
	}
	if a, b := msg(open.Listener.Addr().String()), msg(closed); a != b {
		t.Errorf("open port: %q\nclosed port: %q\nwant the same error", a, b)
	}
}

// TestClientRefusesRedirects checks that an allowed server cannot bounce
// a request anywhere, allowed or not.
func TestClientRefusesRedirects(t *testing.T) {
	internal, internalHits := receiver(t, nil)
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/latest/meta-data/", http.StatusFound)
	})
	c := Policy{Allow: prefixes(t, "127.0.0.1/32")}.Client(0)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequestWithContext(context.Background(), method, srv.URL, strings.NewReader("{}"))
		resp, err := c.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		var ue *url.Error
		if !errors.Is(err, ErrRedirect) || !errors.As(err, &ue) {
			t.Errorf("%s %s = %v, want a *url.Error wrapping ErrRedirect", method, srv.URL, err)
		}
	}
	if n := internalHits.Load(); n != 0 {
		t.Fatalf("the redirect was followed %d times", n)
	}
}

func TestTransportIgnoresProxyEnvironment(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://198.51.100.1:3128")
	t.Setenv("HTTPS_PROXY", "http://198.51.100.1:3128")
	if (Policy{}).Transport().Proxy != nil {
		t.Fatal("Transport().Proxy is set; a proxy would dial on the service's behalf")
	}
}
