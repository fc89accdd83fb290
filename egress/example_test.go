package egress_test

import (
	"fmt"
	"net/netip"

	"github.com/clearance-dev/clearance/egress"
)

func ExamplePolicy_Allowed() {
	p := egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
	for _, s := range []string{"8.8.8.8", "10.1.2.3", "10.2.0.1", "169.254.169.254", "64:ff9b::a9fe:a9fe", "::ffff:10.1.0.9"} {
		fmt.Println(s, p.Allowed(netip.MustParseAddr(s)))
	}
	// Output:
	// 8.8.8.8 true
	// 10.1.2.3 true
	// 10.2.0.1 false
	// 169.254.169.254 false
	// 64:ff9b::a9fe:a9fe false
	// ::ffff:10.1.0.9 true
}

func ExampleEmbedded() {
	for _, s := range []string{"64:ff9b::a9fe:a9fe", "2002:a00:1::1", "2001:0:4136:e378:8000:63bf:f5ff:fffe"} {
		v4, _ := egress.Embedded(netip.MustParseAddr(s))
		fmt.Println(s, "carries", v4, "public:", egress.Public(netip.MustParseAddr(s)))
	}
	// Output:
	// 64:ff9b::a9fe:a9fe carries 169.254.169.254 public: false
	// 2002:a00:1::1 carries 10.0.0.1 public: false
	// 2001:0:4136:e378:8000:63bf:f5ff:fffe carries 10.0.0.1 public: false
}
