package egress

import (
	"net/netip"
	"testing"
)

// TestPublicRanges checks every range of the registries with a sample
// inside it and, where one exists, a public neighbour just outside it.
func TestPublicRanges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []string // not public
		outside []string // public neighbours
	}{
		// IPv4.
		{name: "0.0.0.0/8 this network", in: []string{"0.0.0.0", "0.1.2.3", "0.255.255.255"}, outside: []string{"1.0.0.0"}},
		{name: "10.0.0.0/8 private-use", in: []string{"10.0.0.0", "10.1.2.3", "10.255.255.255"}, outside: []string{"9.255.255.255", "11.0.0.0"}},
		{name: "100.64.0.0/10 shared address space", in: []string{"100.64.0.0", "100.100.100.200", "100.127.255.255"}, outside: []string{"100.63.255.255", "100.128.0.0"}},
		{name: "127.0.0.0/8 loopback", in: []string{"127.0.0.1", "127.1.2.3", "127.255.255.255"}, outside: []string{"126.255.255.255", "128.0.0.0"}},
		{name: "169.254.0.0/16 link local", in: []string{"169.254.0.1", "169.254.169.254", "169.254.255.255"}, outside: []string{"169.253.255.255", "169.255.0.0"}},
		{name: "172.16.0.0/12 private-use", in: []string{"172.16.0.0", "172.20.1.1", "172.31.255.255"}, outside: []string{"172.15.255.255", "172.32.0.0"}},
		{name: "192.0.0.0/24 IETF protocol assignments", in: []string{"192.0.0.0", "192.0.0.8", "192.0.0.9", "192.0.0.10", "192.0.0.170", "192.0.0.171", "192.0.0.255"}, outside: []string{"191.255.255.255", "192.0.1.0"}},
		{name: "192.0.2.0/24 TEST-NET-1", in: []string{"192.0.2.0", "192.0.2.1", "192.0.2.255"}, outside: []string{"192.0.1.255", "192.0.3.0"}},
		{name: "192.31.196.0/24 AS112-v4", in: []string{"192.31.196.1"}, outside: []string{"192.31.195.255", "192.31.197.0"}},
		{name: "192.52.193.0/24 AMT", in: []string{"192.52.193.1"}, outside: []string{"192.52.192.255", "192.52.194.0"}},
		{name: "192.88.99.0/24 6to4 relay anycast", in: []string{"192.88.99.1", "192.88.99.2"}, outside: []string{"192.88.98.255", "192.88.100.0"}},
		{name: "192.168.0.0/16 private-use", in: []string{"192.168.0.0", "192.168.1.1", "192.168.255.255"}, outside: []string{"192.167.255.255", "192.169.0.0"}},
		{name: "192.175.48.0/24 AS112 direct delegation", in: []string{"192.175.48.6"}, outside: []string{"192.175.47.255", "192.175.49.0"}},
		{name: "198.18.0.0/15 benchmarking", in: []string{"198.18.0.0", "198.19.255.255"}, outside: []string{"198.17.255.255", "198.20.0.0"}},
		{name: "198.51.100.0/24 TEST-NET-2", in: []string{"198.51.100.7"}, outside: []string{"198.51.99.255", "198.51.101.0"}},
		{name: "203.0.113.0/24 TEST-NET-3", in: []string{"203.0.113.7"}, outside: []string{"203.0.112.255", "203.0.114.0"}},
		{name: "224.0.0.0/4 multicast", in: []string{"224.0.0.0", "224.0.0.1", "239.255.255.255"}, outside: []string{"223.255.255.255"}},
		{name: "240.0.0.0/4 reserved", in: []string{"240.0.0.0", "250.1.2.3", "255.255.255.254"}},
		{name: "255.255.255.255/32 limited broadcast", in: []string{"255.255.255.255"}},
		// IPv6.
		{name: "::/128 unspecified", in: []string{"::"}},
		{name: "::1/128 loopback", in: []string{"::1"}},
		{name: "::ffff:0:0/96 IPv4-mapped, judged as the IPv4", in: []string{"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0"}, outside: []string{"::ffff:8.8.8.8"}},
		{name: "::/96 IPv4-compatible", in: []string{"::8.8.8.8", "::169.254.169.254", "::127.0.0.1"}},
		{name: "64:ff9b::/96 NAT64", in: []string{"64:ff9b::a9fe:a9fe", "64:ff9b::808:808", "64:ff9b::"}},
		{name: "64:ff9b:1::/48 local NAT64", in: []string{"64:ff9b:1::", "64:ff9b:1:a9fe:a9:fe00::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"}},
		{name: "100::/64 discard-only", in: []string{"100::", "100::1"}},
		{name: "100:0:0:1::/64 dummy prefix", in: []string{"100:0:0:1::1"}},
		{name: "2001::/23 IETF protocol assignments", in: []string{"2001::1", "2001:1::1", "2001:1::2", "2001:1::3", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff"},
			outside: []string{"2001:200::1", "2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
		{name: "2001::/32 Teredo", in: []string{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:0:4136:e378:8000:63bf:f5ff:fffe"}},
		{name: "2001:2::/48 benchmarking", in: []string{"2001:2::1"}},
		{name: "2001:3::/32 AMT", in: []string{"2001:3::1"}},
		{name: "2001:4:112::/48 AS112-v6", in: []string{"2001:4:112::1"}},
		{name: "2001:10::/28 ORCHID", in: []string{"2001:10::1", "2001:1f:ffff::1"}},
		{name: "2001:20::/28 ORCHIDv2", in: []string{"2001:20::1", "2001:2f:ffff::1"}},
		{name: "2001:30::/28 drone entity tags", in: []string{"2001:30::1"}},
		{name: "2001:db8::/32 documentation", in: []string{"2001:db8::", "2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
			outside: []string{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::"}},
		{name: "2002::/16 6to4", in: []string{"2002::", "2002:a00:1::1", "2002:808:808::1", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
			outside: []string{"2003::", "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
		{name: "2620:4f:8000::/48 AS112 direct delegation", in: []string{"2620:4f:8000::1"}, outside: []string{"2620:4f:7fff:ffff:ffff:ffff:ffff:ffff", "2620:4f:8001::"}},
		{name: "3fff::/20 documentation", in: []string{"3fff::", "3fff::1", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff"}, outside: []string{"3fff:1000::", "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
		{name: "5f00::/16 SRv6 SIDs", in: []string{"5f00::1", "5f00:ffff::1"}},
		{name: "fc00::/7 unique-local", in: []string{"fc00::", "fd00::1", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
		{name: "fe80::/10 link-local", in: []string{"fe80::1", "fe80::1%eth0", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
		{name: "fec0::/10 site-local", in: []string{"fec0::1", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
		{name: "ff00::/8 multicast", in: []string{"ff02::1", "ff05::1:3", "ff0e::1"}},
		{name: "outside 2000::/3", in: []string{"::2", "1::1", "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "4000::", "e000::1"},
			outside: []string{"2000::", "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
		{name: "public", outside: []string{"8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001::200e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range tc.in {
				if Public(netip.MustParseAddr(s)) {
					t.Errorf("Public(%s) = true, want false", s)
				}
			}
			for _, s := range tc.outside {
				if !Public(netip.MustParseAddr(s)) {
					t.Errorf("Public(%s) = false, want true", s)
				}
			}
		})
	}
}

// TestSpecialTable checks that every entry of the table is refused from
// its first to its last address, and that the table's prefixes are
// canonical (a typo like 10.0.0.1/8 would still parse).
func TestSpecialTable(t *testing.T) {
	for _, s := range Special() {
		if s.Prefix.Masked() != s.Prefix {
			t.Errorf("%s (%s): not a canonical prefix", s.Prefix, s.Name)
		}
		first := s.Prefix.Addr()
		last := lastAddr(s.Prefix)
		for _, a := range []netip.Addr{first, last} {
			if Public(a) {
				t.Errorf("Public(%s) = true, inside %s (%s)", a, s.Prefix, s.Name)
			}
		}
	}
	if Public(netip.Addr{}) {
		t.Error("Public(invalid) = true")
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestEmbedded(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"::ffff:10.0.0.1", "10.0.0.1"},
		{"::ffff:8.8.8.8", "8.8.8.8"},
		{"::169.254.169.254", "169.254.169.254"},
		{"::8.8.8.8", "8.8.8.8"},
		{"64:ff9b::a9fe:a9fe", "169.254.169.254"},
		{"64:ff9b::7f00:1", "127.0.0.1"},
		{"64:ff9b:1:a9fe:a9:fe00::", "169.254.169.254"},
		{"2002:0a00:0001::1", "10.0.0.1"},
		{"2002:a9fe:a9fe:1::", "169.254.169.254"},
		// RFC 4380 §4's example: client 192.0.2.45 behind server 65.54.227.120.
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45"},
		// Teredo wrapping 10.0.0.1: the client address is stored inverted.
		{"2001:0:4136:e378:8000:63bf:f5ff:fffe", "10.0.0.1"},
		{"::", ""},
		{"::1", ""},
		{"8.8.8.8", ""},
		{"2606:4700::1111", ""},
		{"2001:db8::1", ""},
		{"fe80::1", ""},
	} {
		got, ok := Embedded(netip.MustParseAddr(tc.in))
		if tc.want == "" {
			if ok {
				t.Errorf("Embedded(%s) = %s, true; want none", tc.in, got)
			}
			continue
		}
		if !ok || got != netip.MustParseAddr(tc.want) {
			t.Errorf("Embedded(%s) = %s, %v; want %s", tc.in, got, ok, tc.want)
		}
		if Public(netip.MustParseAddr(tc.in)) && !Public(got) {
			t.Errorf("Public(%s) = true but its embedded %s is not public", tc.in, got)
		}
	}
}

// TestEmbeddedPrivateNeverPublic checks the addresses of the report:
// each carries a non-public IPv4 address and must be refused.
func TestEmbeddedPrivateNeverPublic(t *testing.T) {
	for _, s := range []string{
		"64:ff9b::a9fe:a9fe", "::169.254.169.254", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
		"2002:0a00:0001::1", "2001:0:4136:e378:8000:63bf:f5ff:fffe", "64:ff9b:1:a00:1:100::",
	} {
		if Public(netip.MustParseAddr(s)) {
			t.Errorf("Public(%s) = true, want false", s)
		}
	}
}

// FuzzPublic checks that Public never panics, agrees with the zero
// Policy, and never judges an IPv6 address carrying an IPv4 address
// more permissively than that IPv4 address.
func FuzzPublic(f *testing.F) {
	for _, s := range []string{
		"8.8.8.8", "10.0.0.1", "::ffff:8.8.8.8", "64:ff9b::808:808", "64:ff9b::a9fe:a9fe", "2002:808:808::1",
		"2001:0:4136:e378:8000:63bf:3fff:fdd2", "::8.8.8.8", "2606:4700::1111", "fe80::1", "64:ff9b:1:808:8:800::",
	} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := netip.AddrFromSlice(b)
		got := Public(a)
		if got != (Policy{}).Allowed(a) {
			t.Fatalf("Public(%s) = %v, Policy{}.Allowed = %v", a, got, !got)
		}
		if !ok {
			if got {
				t.Fatalf("Public(invalid %x) = true", b)
			}
			return
		}
		if v4, ok := Embedded(a); ok && got && !Public(v4) {
			t.Fatalf("Public(%s) = true, but it carries %s, which is not public", a, v4)
		}
		if got && a.Is6() && !a.Is4In6() && !globalUnicast.Contains(a) {
			t.Fatalf("Public(%s) = true outside 2000::/3", a)
		}
	})
}
