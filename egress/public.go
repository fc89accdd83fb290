package egress

import (
	"net/netip"
)

// Range is one entry of the table Public consults.
type Range struct {
	Prefix netip.Prefix
	// Name is the registry's name for the block.
	Name string
	// Source is the document that reserves it (an RFC, or the registry).
	Source string
	// GloballyReachable is the registry's "Globally Reachable" column: the
	// few entries marked true are refused all the same (see the package
	// comment).
	GloballyReachable bool
}

// Special returns the table of non-public ranges Public consults, IPv4
// entries first, in registry order. The slice is a copy.
func Special() []Range {
	out := make([]Range, len(special))
	copy(out, special)
	return out
}

func r(p, name, source string, global bool) Range {
	return Range{Prefix: netip.MustParsePrefix(p), Name: name, Source: source, GloballyReachable: global}
}

// special is the IANA IPv4 and IPv6 Special-Purpose Address Registries
// (as of 2025), plus multicast and the deprecated IPv6 site-local block.
// Entries nested in a larger entry are listed for the record: the larger
// one already refuses them.
var special = []Range{
	// IPv4 Special-Purpose Address Registry.
	r("0.0.0.0/8", "This network", "RFC 791", false),
	r("0.0.0.0/32", "This host on this network", "RFC 1122", false),
	r("10.0.0.0/8", "Private-Use", "RFC 1918", false),
	r("100.64.0.0/10", "Shared Address Space", "RFC 6598", false),
	r("127.0.0.0/8", "Loopback", "RFC 1122", false),
	r("169.254.0.0/16", "Link Local", "RFC 3927", false),
	r("172.16.0.0/12", "Private-Use", "RFC 1918", false),
	r("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890", false),
	r("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", false),
	r("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", false),
	r("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", true),
	r("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", true),
	r("192.0.0.170/31", "NAT64/DNS64 Discovery", "RFC 8880", false),
	r("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", false),
	r("192.31.196.0/24", "AS112-v4", "RFC 7535", true),
	r("192.52.193.0/24", "AMT", "RFC 7450", true),
	r("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", false),
	r("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751", false),
	r("192.168.0.0/16", "Private-Use", "RFC 1918", false),
	r("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", true),
	r("198.18.0.0/15", "Benchmarking", "RFC 2544", false),
	r("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", false),
	r("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", false),
	r("240.0.0.0/4", "Reserved", "RFC 1112", false),
	r("255.255.255.255/32", "Limited Broadcast", "RFC 919", false),
	// IPv4 Multicast Address Space Registry.
	r("224.0.0.0/4", "Multicast", "RFC 5771", false),

	// IPv6 Special-Purpose Address Registry.
	r("::1/128", "Loopback Address", "RFC 4291", false),
	r("::/128", "Unspecified Address", "RFC 4291", false),
	// Public judges an IPv4-mapped address as the IPv4 address it maps,
	// so this entry is reached only through that address's own entry.
	r("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", false),
	r("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", true),
	r("64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215", false),
	r("100::/64", "Discard-Only Address Block", "RFC 6666", false),
	r("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", false),
	r("2001::/23", "IETF Protocol Assignments", "RFC 2928", false),
	r("2001::/32", "TEREDO", "RFC 4380", false),
	r("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", true),
	r("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", true),
	r("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", true),
	r("2001:2::/48", "Benchmarking", "RFC 5180", false),
	r("2001:3::/32", "AMT", "RFC 7450", true),
	r("2001:4:112::/48", "AS112-v6", "RFC 7535", true),
	r("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", false),
	r("2001:20::/28", "ORCHIDv2", "RFC 7343", true),
	r("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", true),
	r("2001:db8::/32", "Documentation", "RFC 3849", false),
	r("2002::/16", "6to4", "RFC 3056", false),
	r("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", true),
	r("3fff::/20", "Documentation", "RFC 9637", false),
	r("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", false),
	r("fc00::/7", "Unique-Local", "RFC 4193", false),
	r("fe80::/10", "Link-Local Unicast", "RFC 4291", false),
	// IPv6 Address Space Registry: deprecated site-local, and multicast.
	r("fec0::/10", "Site-Local (deprecated)", "RFC 3879", false),
	r("ff00::/8", "Multicast", "RFC 4291", false),
}

// globalUnicast is the only IPv6 block IANA allocates for global unicast
// (IPv6 Address Space registry); the rest is reserved by the IETF.
var globalUnicast = netip.MustParsePrefix("2000::/3")

// Public reports whether a is a public unicast address the service may
// dial on a tenant's behalf: valid, not in any Special range, and, for
// IPv6, inside 2000::/3. An IPv4-mapped IPv6 address is judged as the IPv4
// address it maps; the other forms that embed an IPv4 address (NAT64,
// 6to4, Teredo, IPv4-compatible) are never public. A zone is ignored.
func Public(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.WithZone("").Unmap()
	if a.Is6() && !globalUnicast.Contains(a) {
		return false
	}
	for _, s := range special {
		if s.Prefix.Contains(a) {
			return false
		}
	}
	return true
}

// Embedded returns the IPv4 address an IPv6 address carries, and true,
// for the forms that carry one: IPv4-mapped ::ffff:a.b.c.d and
// IPv4-compatible ::a.b.c.d (RFC 4291), NAT64 64:ff9b::/96 (RFC 6052) and
// 64:ff9b:1::/48 (RFC 8215, decoded as the /48 layout of RFC 6052 §2.2),
// 6to4 2002:AABB:CCDD::/48 (RFC 3056) and the Teredo client address in
// 2001::/32, stored inverted in the last 32 bits (RFC 4380 §4). For an
// IPv4 address, or an IPv6 address of no such form, it returns the zero
// Addr and false. The unspecified and loopback IPv6 addresses are not
// IPv4-compatible forms.
func Embedded(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	v4 := func(i, j, k, l int) netip.Addr { return netip.AddrFrom4([4]byte{b[i], b[j], b[k], b[l]}) }
	switch {
	case a.Is4In6():
		return a.Unmap(), true
	case nat64.Contains(a):
		return v4(12, 13, 14, 15), true
	case nat64Local.Contains(a):
		// Bits 64–71 are the reserved "u" octet.
		return v4(6, 7, 9, 10), true
	case sixToFour.Contains(a):
		return v4(2, 3, 4, 5), true
	case teredo.Contains(a):
		return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]}), true
	case compatible.Contains(a) && a != unspecified6 && a != loopback6:
		return v4(12, 13, 14, 15), true
	}
	return netip.Addr{}, false
}

var (
	nat64        = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local   = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour    = netip.MustParsePrefix("2002::/16")
	teredo       = netip.MustParsePrefix("2001::/32")
	compatible   = netip.MustParsePrefix("::/96")
	unspecified6 = netip.IPv6Unspecified()
	loopback6    = netip.IPv6Loopback()
)
