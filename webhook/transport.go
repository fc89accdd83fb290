package webhook

import (
	"net/http"
	"net/netip"

	"github.com/clearance-dev/clearance/egress"
)

// ErrPrivateAddress is returned (wrapped) by a PublicClient, or a client
// of any egress.Policy, that was asked to connect to an address that is
// neither public nor explicitly allowed. It is egress.ErrRefusedAddress:
// webhooks and model endpoints share one check.
var ErrPrivateAddress = egress.ErrRefusedAddress

// PublicClient returns an HTTP client for deliveries that connects only to
// public unicast addresses (egress.Public): webhook URLs are chosen by
// tenants, and a service inside an agency's network must not be made to
// POST to its own loopback or internal hosts (server-side request
// forgery). The check is made on the address actually dialled, after DNS
// resolution, so a name that resolves to an internal address is refused
// too. Proxies from the environment are not used. It is the client of
// the zero egress.Policy; a deployment that must deliver to its own
// network uses egress.Policy{Allow: …}.Client instead.
func PublicClient() *http.Client {
	return egress.Policy{}.Client(0)
}

// Public reports whether a is a public unicast address; it is
// egress.Public.
func Public(a netip.Addr) bool { return egress.Public(a) }
