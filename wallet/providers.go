package wallet

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// ProviderKind is what a grant's provider address names.
type ProviderKind int

const (
	// ProviderDirect is a libp2p peer dialled directly: /…/p2p/PEER.
	ProviderDirect ProviderKind = iota + 1
	// ProviderRelayed is a libp2p peer reached through a circuit relay:
	// RELAYADDR/p2p/RELAY/p2p-circuit/p2p/PEER.
	ProviderRelayed
	// ProviderGateway is a trustless HTTP gateway (a Kubo replica's): a
	// multiaddr without /p2p ending in /http, /tls/http or /https.
	ProviderGateway
)

func (k ProviderKind) String() string {
	switch k {
	case ProviderDirect:
		return "direct"
	case ProviderRelayed:
		return "relayed"
	case ProviderGateway:
		return "gateway"
	}
	return "unknown"
}

// ErrNotProvider: a provider address is a valid multiaddr that names
// neither a libp2p peer (/p2p/…) nor an HTTP gateway (/http, /https).
var ErrNotProvider = errors.New("neither a libp2p peer (/p2p/…) nor a gateway (/http)")

// ProviderAddr is one classified provider address of a grant.
type ProviderAddr struct {
	Addr ma.Multiaddr
	Kind ProviderKind
	// Peer is the peer to present the grant to (the target of a relayed
	// address, not the relay); empty for a gateway.
	Peer peer.ID
	// Dial is Addr without its final /p2p/PEER (what libp2p dials).
	Dial ma.Multiaddr
	// URL is a gateway's base URL (http://host:port[/path]).
	URL string
}

// ClassifyProvider reads one provider multiaddr of a grant.
//
//   - ending /p2p/PEER and holding /p2p-circuit: ProviderRelayed, the peer
//     after the circuit;
//   - ending /p2p/PEER otherwise: ProviderDirect;
//   - no /p2p at all, /ip4|/ip6|/dns|/dns4|/dns6 host, /tcp port, then
//     /http, /tls/http or /https (optionally /http-path/…):
//     ProviderGateway with the URL to fetch from.
//
// Anything else is ErrNotProvider.
func ClassifyProvider(a ma.Multiaddr) (ProviderAddr, error) {
	if len(a) == 0 {
		return ProviderAddr{}, fmt.Errorf("%w: empty address", ErrNotProvider)
	}
	out := ProviderAddr{Addr: a}
	last := a[len(a)-1]
	if last.Code() == ma.P_P2P {
		id, err := peer.IDFromBytes(last.RawValue())
		if err != nil {
			return ProviderAddr{}, fmt.Errorf("%w: %s: bad peer id: %v", ErrNotProvider, a, err)
		}
		out.Peer, out.Dial, out.Kind = id, a[:len(a)-1], ProviderDirect
		if len(out.Dial) == 0 {
			return ProviderAddr{}, fmt.Errorf("%w: %s: a peer id without an address", ErrNotProvider, a)
		}
		for _, c := range out.Dial {
			if c.Code() == ma.P_CIRCUIT {
				out.Kind = ProviderRelayed
			}
		}
		return out, nil
	}
	u, err := gatewayURL(a)
	if err != nil {
		return ProviderAddr{}, err
	}
	out.Kind, out.URL = ProviderGateway, u
	return out, nil
}

// gatewayURL converts /HOST/tcp/PORT/{http|tls/http|https}[/http-path/P].
func gatewayURL(a ma.Multiaddr) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: %s: %s", ErrNotProvider, a, why)
	}
	if len(a) < 3 {
		return bad("too short for a gateway")
	}
	var host string
	switch a[0].Code() {
	case ma.P_IP4, ma.P_IP6, ma.P_DNS, ma.P_DNS4, ma.P_DNS6:
		host = a[0].Value()
	default:
		return bad("a gateway needs an /ip4, /ip6 or /dns host")
	}
	if host == "" || a[1].Code() != ma.P_TCP {
		return bad("a gateway needs a /tcp port")
	}
	port := a[1].Value()
	rest := a[2:]
	scheme := "http"
	switch {
	case rest[0].Code() == ma.P_HTTP:
		rest = rest[1:]
	case rest[0].Code() == ma.P_HTTPS:
		scheme, rest = "https", rest[1:]
	case rest[0].Code() == ma.P_TLS && len(rest) > 1 && rest[1].Code() == ma.P_HTTP:
		scheme, rest = "https", rest[2:]
	case rest[0].Code() == ma.P_TLS && len(rest) > 2 && rest[1].Code() == ma.P_SNI && rest[2].Code() == ma.P_HTTP:
		scheme, rest = "https", rest[3:]
	default:
		return bad("no /http or /https")
	}
	path := ""
	if len(rest) == 1 && rest[0].Code() == ma.P_HTTP_PATH {
		p, err := url.PathUnescape(rest[0].Value())
		if err != nil {
			return bad("bad /http-path")
		}
		path = "/" + strings.TrimLeft(p, "/")
		rest = rest[1:]
	}
	if len(rest) != 0 {
		return bad("unexpected " + rest[0].String() + " after /http")
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: strings.TrimRight(path, "/")}
	if _, err := url.Parse(u.String()); err != nil {
		return bad(err.Error())
	}
	return u.String(), nil
}

// Via says how a redemption's package reached the redeemer.
const (
	ViaDirect  = "direct"  // from a gated node (the patient's or a keeper), dialled directly
	ViaRelay   = "relay"   // from a gated node through a circuit relay
	ViaReplica = "replica" // from a stock IPFS node over bitswap (no gate)
	ViaGateway = "gateway" // from a trustless HTTP gateway
)

// ViaPhrase is how the CLI tells a Via value: "direct", "through a relay", …
func ViaPhrase(via string) string {
	switch via {
	case ViaDirect:
		return "direct"
	case ViaRelay:
		return "through a relay"
	case ViaReplica:
		return "from a stock IPFS replica"
	case ViaGateway:
		return "from an IPFS gateway"
	}
	return via
}

// ErrNoProviderServed: no provider of a grant served its package. The error
// is a *ProvidersError naming each provider tried and why it failed.
var ErrNoProviderServed = errors.New("no provider served the share")

// ProviderFailure is why one provider did not serve.
type ProviderFailure struct {
	// Provider names it: "the patient's node 12D3…", "keeper 12D3…",
	// "stock IPFS replica 12D3…", "gateway http://…".
	Provider string
	// Reason says what went wrong, worded to follow the name: "refused:
	// …", "unreachable: …", "closed the connection 300ms into the fetch".
	Reason string
	Err    error
}

// ProvidersError is a redemption no provider served. It matches
// ErrNoProviderServed and each provider's own error (e.g.
// serve.ErrRefused, ipfs.ErrConnectionClosed).
type ProvidersError struct {
	Tried []ProviderFailure
}

func (e *ProvidersError) Error() string {
	if len(e.Tried) == 0 {
		return ErrNoProviderServed.Error() + ": the grant names no provider"
	}
	parts := make([]string, len(e.Tried))
	for i, f := range e.Tried {
		parts[i] = f.Provider + " " + f.Reason
	}
	return fmt.Sprintf("%s (%d tried): %s", ErrNoProviderServed, len(e.Tried), strings.Join(parts, "; "))
}

// Unwrap lets errors.Is find ErrNoProviderServed and every provider's
// error.
func (e *ProvidersError) Unwrap() []error {
	out := []error{ErrNoProviderServed}
	for _, f := range e.Tried {
		out = append(out, f.Err)
	}
	return out
}
