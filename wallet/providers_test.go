package wallet

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/healthwallet/healthwallet/ipfs/kubo"
)

const (
	peerA = "12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB"
	peerB = "12D3KooWGzBuGB1Kf7Tpt1NeC7FM1V6PgbATfGBnRVLGQYEGrZQ1"
)

func TestClassifyProvider(t *testing.T) {
	for _, c := range []struct {
		addr string
		kind ProviderKind
		peer string // the peer to present to
		dial string // direct/relayed: what is dialled
		url  string // gateway
	}{
		{addr: "/ip4/127.0.0.1/tcp/4101/p2p/" + peerA, kind: ProviderDirect, peer: peerA, dial: "/ip4/127.0.0.1/tcp/4101"},
		{addr: "/ip6/::1/udp/4101/quic-v1/p2p/" + peerA, kind: ProviderDirect, peer: peerA, dial: "/ip6/::1/udp/4101/quic-v1"},
		{addr: "/dns4/keeper.example/tcp/4101/p2p/" + peerB, kind: ProviderDirect, peer: peerB, dial: "/dns4/keeper.example/tcp/4101"},
		{addr: "/ip4/203.0.113.7/tcp/4101/p2p/" + peerB + "/p2p-circuit/p2p/" + peerA, kind: ProviderRelayed, peer: peerA,
			dial: "/ip4/203.0.113.7/tcp/4101/p2p/" + peerB + "/p2p-circuit"},
		{addr: "/ip4/127.0.0.1/tcp/8080/http", kind: ProviderGateway, url: "http://127.0.0.1:8080"},
		{addr: "/ip6/::1/tcp/8080/http", kind: ProviderGateway, url: "http://[::1]:8080"},
		{addr: "/dns4/gw.example/tcp/443/tls/http", kind: ProviderGateway, url: "https://gw.example:443"},
		{addr: "/dns/gw.example/tcp/443/tls/sni/gw.example/http", kind: ProviderGateway, url: "https://gw.example:443"},
		{addr: "/dns6/gw.example/tcp/8443/https", kind: ProviderGateway, url: "https://gw.example:8443"},
		{addr: "/ip4/10.0.0.2/tcp/80/http/http-path/ipfs%2Dgw", kind: ProviderGateway, url: "http://10.0.0.2:80/ipfs-gw"},
	} {
		a, err := ma.NewMultiaddr(c.addr)
		if err != nil {
			t.Fatalf("%s: %v", c.addr, err)
		}
		got, err := ClassifyProvider(a)
		if err != nil {
			t.Fatalf("%s: %v", c.addr, err)
		}
		if got.Kind != c.kind || got.URL != c.url || got.Peer.String() != strings.TrimSpace(c.peer) && c.peer != "" {
			t.Fatalf("%s: %v peer %s url %q, want %v peer %s url %q", c.addr, got.Kind, got.Peer, got.URL, c.kind, c.peer, c.url)
		}
		if c.kind == ProviderGateway {
			if got.Peer != "" || got.Dial != nil {
				t.Fatalf("%s: gateway with a peer %q / dial %v", c.addr, got.Peer, got.Dial)
			}
			continue
		}
		if got.Dial.String() != c.dial {
			t.Fatalf("%s: dials %s, want %s", c.addr, got.Dial, c.dial)
		}
	}
	for _, bad := range []string{
		"/ip4/127.0.0.1/tcp/4101",              // no peer, no http
		"/ip4/127.0.0.1/udp/8080/quic-v1/http", // a gateway needs tcp
		"/p2p/" + peerA,                        // a peer without an address
		"/unix/tmp%2Fgw.sock/http",             // no host
		"/ip4/127.0.0.1/tcp/8080/tls/ws",       // no http
	} {
		a, err := ma.NewMultiaddr(bad)
		if err != nil {
			t.Fatalf("%s: %v", bad, err)
		}
		if got, err := ClassifyProvider(a); !errors.Is(err, ErrNotProvider) || !strings.Contains(err.Error(), bad) {
			t.Fatalf("%s: %+v %v, want ErrNotProvider naming it", bad, got, err)
		}
	}
}

// FuzzClassifyProvider: any bytes that decode as a multiaddr classify
// without panicking, into something usable: a peer with an address to
// dial, or a gateway URL the fetcher accepts.
func FuzzClassifyProvider(f *testing.F) {
	for _, s := range []string{
		"/ip4/127.0.0.1/tcp/4101/p2p/" + peerA,
		"/ip4/1.2.3.4/tcp/1/p2p/" + peerB + "/p2p-circuit/p2p/" + peerA,
		"/dns4/gw.example/tcp/443/tls/http",
		"/ip6/::1/tcp/8080/http/http-path/a%2Fb",
		"/ip4/127.0.0.1/tcp/8080/https",
	} {
		f.Add(ma.StringCast(s).Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ma.NewMultiaddrBytes(b)
		if err != nil {
			return
		}
		got, err := ClassifyProvider(a)
		if err != nil {
			if !errors.Is(err, ErrNotProvider) {
				t.Fatalf("%s: %v is not ErrNotProvider", a, err)
			}
			return
		}
		switch got.Kind {
		case ProviderDirect, ProviderRelayed:
			if got.Peer.Validate() != nil || len(got.Dial) == 0 || got.URL != "" {
				t.Fatalf("%s: %+v", a, got)
			}
			if _, err := peer.AddrInfoFromP2pAddr(got.Dial.Encapsulate(ma.StringCast("/p2p/" + got.Peer.String()))); err != nil {
				t.Fatalf("%s: dial address does not round-trip: %v", a, err)
			}
		case ProviderGateway:
			u, err := url.Parse(got.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Fatalf("%s: gateway URL %q", a, got.URL)
			}
			if _, err := kubo.NewFetcher(got.URL, nil); err != nil {
				t.Fatalf("%s: the fetcher refuses %q: %v", a, got.URL, err)
			}
		default:
			t.Fatalf("%s: kind %v", a, got.Kind)
		}
	})
}

// TestProvidersOf: peers are merged across addresses, the peer behind a
// circuit is the patient's node, gateways follow, unusable addresses are
// kept as failures, and a broken multiaddr makes the grant malformed.
func TestProvidersOf(t *testing.T) {
	raw := [][]byte{
		ma.StringCast("/ip4/127.0.0.1/tcp/1/p2p/" + peerB).Bytes(),
		ma.StringCast("/ip4/127.0.0.1/tcp/2/p2p/" + peerB + "/p2p-circuit/p2p/" + peerA).Bytes(),
		ma.StringCast("/ip4/127.0.0.1/tcp/3/p2p/" + peerA).Bytes(),
		ma.StringCast("/ip4/127.0.0.1/tcp/8080/http").Bytes(),
		ma.StringCast("/ip4/127.0.0.1/tcp/8080/http").Bytes(),
		ma.StringCast("/ip4/127.0.0.1/tcp/9").Bytes(),
	}
	l, err := providersOf(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.peers) != 2 || l.peers[0].info.ID.String() != peerB || len(l.peers[1].info.Addrs) != 2 {
		t.Fatalf("peers %+v", l.peers)
	}
	if l.peers[1].name != "the patient's node "+peerA || l.peers[0].name != "provider "+peerB {
		t.Fatalf("names %q, %q", l.peers[0].name, l.peers[1].name)
	}
	if len(l.gateways) != 1 || l.gateways[0].url != "http://127.0.0.1:8080" || len(l.unusable) != 1 {
		t.Fatalf("gateways %+v unusable %+v", l.gateways, l.unusable)
	}
	if _, err := providersOf([][]byte{{0xff, 0xff}}); err == nil {
		t.Fatal("a broken multiaddr was accepted")
	}
}
