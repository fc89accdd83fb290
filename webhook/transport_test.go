package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/clearance-dev/clearance/egress"
)

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700::1111": true, "93.184.216.34": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fc00::1": false, "0.0.0.0": false, "::": false,
		"224.0.0.1": false, "100.64.0.1": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false,
		// The holes of issue 10: NAT64, IPv4-compatible, 6to4 and Teredo
		// forms of internal addresses, site-local, and special IPv4 ranges.
		"64:ff9b::a9fe:a9fe": false, "::169.254.169.254": false, "2002:a00:1::1": false,
		"2001:0:4136:e378:8000:63bf:f5ff:fffe": false, "fec0::1": false, "0.1.2.3": false,
		"198.18.0.1": false, "240.0.0.1": false, "192.0.2.1": false,
	} {
		if got := Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestPublicClientRefusesLoopback checks that deliveries cannot be aimed
// at the service's own host.
func TestPublicClientRefusesLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the loopback receiver was reached")
	}))
	defer srv.Close()
	_, err := PublicClient().Post(srv.URL, "application/json", nil)
	if !errors.Is(err, ErrPrivateAddress) {
		t.Errorf("POST to %s = %v, want ErrPrivateAddress", srv.URL, err)
	}
	if _, err := dialContext(context.Background(), "tcp", "localhost:9"); !errors.Is(err, ErrPrivateAddress) {
		t.Errorf("dial localhost = %v, want ErrPrivateAddress (after resolution)", err)
	}
}

// dialContext dials through the public-only rule.
func dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: time.Second, Control: egress.Policy{}.Control}
	return d.DialContext(ctx, network, addr)
}

// TestDeliverToPrivateIsPermanent checks that a delivery through the
// public-only client to a loopback receiver is refused for good, and
// that the receiver is never reached.
func TestDeliverToPrivateIsPermanent(t *testing.T) {
	r := newReceiver(t, http.StatusOK)
	d, err := NewDeliverer(DelivererConfig{Store: fixture(r.URL), Sealer: plainSealer{}, Client: PublicClient(),
		Now: func() time.Time { return testTime }})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Deliver(context.Background(), Delivery{WebhookID: "whk_1", Seq: 7})
	if !errors.Is(err, ErrPermanent) || !errors.Is(err, ErrPrivateAddress) {
		t.Fatalf("Deliver to loopback = %v, want a permanent ErrPrivateAddress", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.headers) != 0 {
		t.Errorf("the loopback receiver got %d requests", len(r.headers))
	}
}
