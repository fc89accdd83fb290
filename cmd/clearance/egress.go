package main

import (
	"net/netip"
	"strings"

	"github.com/clearance-dev/clearance/egress"
)

// netsFlag is a repeatable flag naming networks the service may dial
// although they are not public (--allow-target-net, --allow-webhook-net):
// CIDR prefixes or single addresses, comma-separated or repeated.
type netsFlag []netip.Prefix

func (n *netsFlag) String() string {
	var s []string
	for _, p := range *n {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}

func (n *netsFlag) Set(v string) error {
	for _, f := range strings.Split(v, ",") {
		p, err := egress.ParsePrefix(strings.TrimSpace(f))
		if err != nil {
			return err
		}
		*n = append(*n, p)
	}
	return nil
}

// policy is the egress policy allowing the named networks besides the
// public addresses.
func (n netsFlag) policy() egress.Policy {
	return egress.Policy{Allow: append([]netip.Prefix(nil), n...)}
}

// referenceEgress is the runner's policy where the models are reference
// servers this binary runs on 127.0.0.1 (serveLoopback: the demo, the
// benchmarks): it allows that one address, as an operator names a
// network with --allow-target-net; nothing else internal becomes
// reachable.
func referenceEgress() egress.Policy {
	return egress.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
}
