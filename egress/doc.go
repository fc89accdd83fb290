// Package egress decides which network addresses the service may dial on
// behalf of a tenant: the model endpoints developers submit (target.url)
// and the webhook receivers organisations register. Both are chosen by
// people outside the agency, so without a rule a service inside the
// agency's network could be made to call its own loopback, its internal
// hosts or a cloud metadata service and read the answer back (server-side
// request forgery).
//
// # The rule
//
// Public reports whether an address is public. Its table is the IANA IPv4
// and IPv6 Special-Purpose Address Registries (RFC 6890 and the RFCs that
// added entries since), plus IPv4 multicast (224.0.0.0/4), the deprecated
// IPv6 site-local prefix fec0::/10 (RFC 3879) and IPv6 multicast
// (ff00::/8). Every entry of the registries is refused, also the few the
// registries mark globally reachable (the PCP and TURN anycast addresses,
// AS112, AMT, ORCHIDv2, drone identifiers): those are infrastructure
// services, never a model endpoint or a webhook receiver, and refusing
// them costs nothing. An IPv6 address outside 2000::/3, the only block
// IANA allocates for global unicast, is refused as well.
//
// IPv4 addresses can hide inside IPv6 ones. The IPv4-mapped form
// ::ffff:a.b.c.d is how a dual-stack socket reaches an IPv4 host, so it is
// judged as the IPv4 address it maps. The transition prefixes that route
// to an embedded IPv4 address through a translator or a relay (NAT64
// 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo 2001::/32) and
// the deprecated IPv4-compatible form ::a.b.c.d are refused outright,
// whatever they embed: judging only the embedded address would let
// 64:ff9b::a9fe:a9fe reach 169.254.169.254 through the agency's own NAT64
// gateway, and a public address embedded in them is better dialled
// directly. Embedded decodes the IPv4 address of each form, so tests can
// show that no IPv6 address is judged more permissively than the IPv4
// address it carries.
//
// # Allowing networks
//
// A deployment that evaluates models on its own network names the ranges
// explicitly in a Policy's Allow list (clearance serve --allow-target-net
// 10.1.0.0/16, --allow-webhook-net 127.0.0.1/32); there is no switch that
// turns the rule off. An allowed prefix is matched against the address
// actually dialled (an IPv4-mapped address also as its IPv4 form), never
// against an embedded one: to dial through NAT64 an operator allows
// 64:ff9b::/96 itself.
//
// # Where the check is made
//
// Policy.Control is a net.Dialer Control function: it runs on the address
// of every connection attempt, after DNS resolution, so a host name that
// resolves to an internal address is refused, and a name whose answer
// changes between a check and the dial (DNS rebinding) gains nothing. A
// refusal happens before any packet is sent, so the error is the same
// whether a port is open, closed or filtered: the check is no port
// scanner. Policy.Client builds an HTTP client on that dialer that uses
// no proxy from the environment and never follows a redirect.
//
// The package is pure: it reads no configuration, keeps no global mutable
// state and logs nothing. A Policy is a value, safe for concurrent use as
// long as its Allow slice is not modified.
package egress
