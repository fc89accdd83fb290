package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrPrivateAddress is returned (wrapped) by a PublicClient that was asked
// to connect to a loopback, private, link-local or otherwise non-public
// address.
var ErrPrivateAddress = errors.New("webhook address is not public")

// PublicClient returns an HTTP client for deliveries that connects only to
// public unicast addresses: webhook URLs are chosen by tenants, and a
// service inside an agency's network must not be made to POST to its own
// loopback or internal hosts (server-side request forgery). The check is
// made on the address actually dialled, after DNS resolution, so a name
// that resolves to an internal address is refused too. Proxies from the
// environment are not used.
func PublicClient() *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: refusePrivate}
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         d.DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}}
}

// refusePrivate is a net.Dialer Control function refusing non-public
// addresses.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w: %v", address, ErrPrivateAddress, err)
	}
	if !Public(ap.Addr()) {
		return fmt.Errorf("dial %s: %w", address, ErrPrivateAddress)
	}
	return nil
}

// Public reports whether a is a public unicast address: not loopback,
// private (RFC 1918, unique local), link-local, multicast, unspecified,
// carrier-grade NAT (100.64.0.0/10) or an IPv4-mapped form of those.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	switch {
	case !a.IsValid(), a.IsUnspecified(), a.IsLoopback(), a.IsPrivate(), a.IsLinkLocalUnicast(),
		a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast(), a.IsMulticast():
		return false
	}
	if a.Is4() && cgnat.Contains(a) {
		return false
	}
	return true
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")
