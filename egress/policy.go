package egress

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrRefusedAddress is returned (wrapped) by Policy.Control, and so by the
// dialers and HTTP clients a Policy builds, when the address about to be
// dialled is neither public nor inside one of the policy's allowed
// prefixes. No packet has been sent when it is returned.
var ErrRefusedAddress = errors.New("address is neither public nor in an allowed network")

// ErrRedirect is returned (wrapped, inside a *url.Error) by the HTTP
// client of Policy.Client when a server answers with a redirect: the
// client never follows one, so a permitted host cannot bounce a request
// to a refused one, nor make the caller re-send credentials elsewhere.
var ErrRedirect = errors.New("redirects are not followed")

// dialTimeout bounds connecting, for clients whose caller sets no deadline.
const dialTimeout = 10 * time.Second

// maxIdlePerHost keeps enough idle connections for a runner with many
// requests in flight to one model endpoint.
const maxIdlePerHost = 256

// Policy decides which addresses may be dialled: the public ones (Public)
// and those inside an Allow prefix. The zero Policy allows public
// addresses only.
type Policy struct {
	// Allow lists the networks an operator names explicitly as dialable
	// although they are not public, e.g. 10.1.0.0/16 for models evaluated
	// on the agency's own network, or 127.0.0.1/32 for the demo's
	// reference model. A prefix is matched against the dialled address
	// (an IPv4-mapped one also as its IPv4 form), never against an IPv4
	// address embedded in a translation prefix.
	Allow []netip.Prefix
}

// Allowed reports whether p lets a be dialled. An invalid address is not
// allowed.
func (p Policy) Allowed(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	if Public(a) {
		return true
	}
	a = a.WithZone("")
	for _, pre := range p.Allow {
		if pre.Contains(a) || pre.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// Control is a net.Dialer Control function: it refuses, with an error
// wrapping ErrRefusedAddress, a connection to an address p does not
// allow. address is the "host:port" being dialled, after DNS resolution;
// anything that is not a literal IP and port is refused.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refuse %q: %w", address, ErrRefusedAddress)
	}
	if !p.Allowed(ap.Addr()) {
		return fmt.Errorf("refuse %s: %w", ap.Addr(), ErrRefusedAddress)
	}
	return nil
}

// Dialer returns a dialer that connects only to addresses p allows,
// within dialTimeout.
func (p Policy) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second, Control: p.Control}
}

// Transport returns an HTTP transport that dials through p's Dialer and
// uses no proxy: a proxy from the environment would dial on the
// service's behalf and bypass the check.
func (p Policy) Transport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           p.Dialer().DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   dialTimeout,
		MaxIdleConnsPerHost:   maxIdlePerHost,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Client returns an HTTP client that connects only to addresses p
// allows (checked on every connection, after DNS resolution), uses no
// proxy and refuses every redirect with an error wrapping ErrRedirect
// (the redirect response's body is closed). timeout is the client's
// overall limit per request, 0 for none (the caller's context then
// bounds it).
func (p Policy) Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: p.Transport(), Timeout: timeout, CheckRedirect: refuseRedirect}
}

func refuseRedirect(req *http.Request, _ []*http.Request) error {
	return fmt.Errorf("refuse redirect to %s://%s: %w", req.URL.Scheme, req.URL.Host, ErrRedirect)
}

// ParsePrefix parses an allowed network as an operator writes it: a
// prefix in CIDR notation with no bits set after the prefix length
// ("10.1.0.0/16", "fd00:1::/64"), or a single address, which stands for
// itself ("127.0.0.1" is 127.0.0.1/32). A /0 prefix, which would allow
// every address, is an error. The error says what is wrong.
func ParsePrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("parse network %q: a zone is not allowed", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	pre, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("parse network %q: want CIDR notation such as 10.1.0.0/16, or one address", s)
	}
	if m := pre.Masked(); m != pre {
		return netip.Prefix{}, fmt.Errorf("parse network %q: bits are set after the prefix length; did you mean %s?", s, m)
	}
	if pre.Bits() == 0 {
		// An allow-list exists to name networks; one that allows every
		// address would be the off switch this package does not have.
		return netip.Prefix{}, fmt.Errorf("parse network %q: allows every address; name the networks to allow", s)
	}
	return pre, nil
}
