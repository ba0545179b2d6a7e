package wallet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/ipfs/kubo"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/serve"
)

// DefaultProviderTimeout bounds presenting a grant to one provider: the
// dial and the node's answer. Providers are asked concurrently, so a
// redemption waits this long at most for the slowest.
const DefaultProviderTimeout = 10 * time.Second

// presentOutcome is what presenting the grant to one libp2p provider gave.
type presentOutcome int

const (
	notAsked    presentOutcome = iota
	accepted                   // a gated node (the patient's or a keeper) accepted the grant
	refused                    // a gated node refused it; err holds the reason
	unsupported                // connected, but the peer does not speak the grant protocol: a stock replica
	unreachable                // no connection, or no answer
)

// provider is one peer or gateway a grant names.
type provider struct {
	name    string        // how errors and the CLI call it
	info    peer.AddrInfo // a libp2p peer: every address the grant gives it
	url     string        // a gateway
	outcome presentOutcome
	err     error // why it was refused or unreachable
}

// providerList is a grant's providers, classified: libp2p peers (one entry
// per peer, in the order the grant first names them) and gateways.
type providerList struct {
	peers    []*provider
	gateways []*provider
	// unusable lists provider addresses that name neither (skipped).
	unusable []ProviderFailure
}

// providersOf classifies a grant's provider addresses. A provider that is
// not a valid multiaddr makes the grant malformed; a valid multiaddr of no
// known kind is skipped and reported with the failures, should every
// provider fail.
//
// Naming (decided here; the grant does not label roles): the patient's
// node is the peer behind a /p2p-circuit address if there is one (only the
// patient's node is reached through keepers' relays), else the first peer
// the grant names (DESIGN13: the patient's direct addresses come first).
// Other gated peers are keepers; peers without the grant protocol are
// stock IPFS replicas.
func providersOf(raw [][]byte) (providerList, error) {
	var out providerList
	byPeer := map[peer.ID]*provider{}
	seenURL := map[string]bool{}
	var patient peer.ID
	for _, b := range raw {
		text, err := multiaddrString(b) // grant.ErrMalformed, as the access log words it
		if err != nil {
			return providerList{}, err
		}
		a, err := ma.NewMultiaddr(text)
		if err != nil {
			return providerList{}, fmt.Errorf("%w: provider address: %v", grant.ErrMalformed, err)
		}
		pa, err := ClassifyProvider(a)
		if err != nil {
			out.unusable = append(out.unusable, ProviderFailure{Provider: a.String(), Reason: "skipped: " + err.Error(), Err: err})
			continue
		}
		switch pa.Kind {
		case ProviderGateway:
			if !seenURL[pa.URL] {
				seenURL[pa.URL] = true
				out.gateways = append(out.gateways, &provider{name: "gateway " + pa.URL, url: pa.URL})
			}
			continue
		case ProviderRelayed:
			if patient == "" {
				patient = pa.Peer
			}
		}
		p := byPeer[pa.Peer]
		if p == nil {
			p = &provider{info: peer.AddrInfo{ID: pa.Peer}}
			byPeer[pa.Peer] = p
			out.peers = append(out.peers, p)
		}
		p.info.Addrs = append(p.info.Addrs, pa.Dial)
	}
	if patient == "" && len(out.peers) > 0 {
		patient = out.peers[0].info.ID
	}
	for _, p := range out.peers {
		if p.info.ID == patient {
			p.name = "the patient's node " + p.info.ID.String()
		} else {
			p.name = "provider " + p.info.ID.String()
		}
	}
	return out, nil
}

// presentAll presents the chain to every peer at once, each bounded by
// timeout, and records each outcome.
func presentAll(ctx context.Context, node *ipfs.Node, peers []*provider, c grant.Chain, key *secp256k1.PrivateKey, timeout time.Duration) {
	var wg sync.WaitGroup
	for _, p := range peers {
		if p.info.ID == node.ID() {
			p.outcome, p.err = unreachable, errors.New("is this wallet's own node")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			_, err := serve.Present(pctx, node.Host(), p.info, c, key)
			if err != nil && pctx.Err() != nil && ctx.Err() == nil {
				err = fmt.Errorf("no answer within %s: %w", timeout, err)
			}
			p.outcome, p.err = classifyPresent(node, p.info.ID, err)
		}()
	}
	wg.Wait()
	for _, p := range peers {
		switch p.outcome {
		case accepted:
			if p.name != "" && !strings.HasPrefix(p.name, "the patient's") {
				p.name = "keeper " + p.info.ID.String()
			}
		case unsupported:
			p.name = "stock IPFS replica " + p.info.ID.String()
		}
	}
}

// classifyPresent turns serve.Present's answer into an outcome. A peer we
// are connected to whose protocols (learnt by identify, which completes
// before a stream is negotiated) lack the grant protocol is a stock
// replica: it cannot refuse anything.
func classifyPresent(node *ipfs.Node, id peer.ID, err error) (presentOutcome, error) {
	switch {
	case err == nil:
		return accepted, nil
	case errors.Is(err, serve.ErrRefused):
		return refused, err
	}
	h := node.Host()
	if h.Network().Connectedness(id) == network.Connected {
		protos, _ := h.Peerstore().GetProtocols(id)
		if len(protos) > 0 && !slices.Contains(protos, serve.ProtocolID) {
			return unsupported, err
		}
	}
	return unreachable, err
}

// revokedRefusal reports whether a refusal's reason is the revocation of
// the grant. The node's reason travels as text (share/serve's protocol);
// both the node's revocation set and grant.Verify word it "grant revoked…".
func revokedRefusal(err error) bool {
	if !errors.Is(err, serve.ErrRefused) {
		return false
	}
	reason := strings.TrimPrefix(err.Error(), serve.ErrRefused.Error()+": ")
	return strings.HasPrefix(reason, grant.ErrRevoked.Error())
}

// RevokedByProviderError is a gated provider's answer that the grant is
// revoked. It is final: a redemption does not go on to providers that do
// not check grants. It matches grant.ErrRevoked and serve.ErrRefused.
type RevokedByProviderError struct {
	Provider string
	Err      error // the node's refusal
}

func (e *RevokedByProviderError) Error() string {
	return fmt.Sprintf("%s: %v (final: no other provider is asked)", e.Provider, e.Err)
}

// Unwrap makes it match grant.ErrRevoked and the refusal.
func (e *RevokedByProviderError) Unwrap() []error { return []error{grant.ErrRevoked, e.Err} }

// served is who served a redemption.
type served struct {
	provider string // multiaddr or URL
	via      string
}

// fetchPlan orders who to fetch from: gated nodes that accepted the grant
// over a direct connection, then over a relay, then stock replicas over
// bitswap, then gateways. Peers that refused or could not be reached are
// failures already.
func fetchPlan(node *ipfs.Node, l providerList) (plan []*provider, failed []ProviderFailure) {
	var direct, relayed, replicas []*provider
	for _, p := range l.peers {
		switch p.outcome {
		case accepted:
			if _, r, ok := node.ConnAddr(p.info.ID); ok && r {
				relayed = append(relayed, p)
			} else {
				direct = append(direct, p)
			}
		case unsupported:
			replicas = append(replicas, p)
		case refused:
			failed = append(failed, ProviderFailure{Provider: p.name, Reason: oneLine("refused: " + strings.TrimPrefix(p.err.Error(), serve.ErrRefused.Error()+": ")), Err: p.err})
		default:
			failed = append(failed, ProviderFailure{Provider: p.name, Reason: oneLine("unreachable: " + presentCause(p.info.ID, p.err)), Err: p.err})
		}
	}
	plan = slices.Concat(direct, relayed, replicas, l.gateways)
	return plan, append(failed, l.unusable...)
}

// fetchFirst fetches every ref from the first provider in plan that
// serves them all, one provider at a time; parts[i] is refs[i]'s content.
// A provider that fails (stalls, closes the connection, serves a bad
// block) is recorded and the next is tried.
func fetchFirst(ctx context.Context, node *ipfs.Node, plan []*provider, refs []ipfs.ObjectRef, hc *http.Client, progress ipfs.Progress) ([][]byte, served, []ProviderFailure, error) {
	var failed []ProviderFailure
	var total int64
	for _, r := range refs {
		total += r.Size
	}
	const maxPrealloc = 256 << 20
	for _, p := range plan {
		parts := make([][]byte, len(refs))
		var done int64
		var prog ipfs.Progress
		if progress != nil {
			prog = func(d, _ int64) { progress(done+d, total) }
		}
		var err error
		for i, ref := range refs {
			var buf bytes.Buffer
			// The size is the wrapped key's (signed by the issuer), so
			// bounded; growing as blocks arrive cost a third of a
			// redeemer's CPU under load (BenchmarkKeeperUnderLoad).
			buf.Grow(int(min(ref.Size, maxPrealloc)))
			if p.url != "" {
				err = fetchGateway(ctx, node, p.url, hc, ref, &buf, prog)
			} else {
				err = node.FetchFrom(ctx, ref, p.info, &buf, prog)
			}
			if err != nil {
				break
			}
			parts[i], done = buf.Bytes(), done+ref.Size
		}
		if err == nil {
			return parts, servedBy(node, p), failed, nil
		}
		if ctx.Err() != nil {
			return nil, served{}, failed, ctx.Err()
		}
		failed = append(failed, ProviderFailure{Provider: p.name, Reason: oneLine(fetchReason(err)), Err: err})
	}
	return nil, served{}, failed, nil
}

// fetchGateway fetches ref through a trustless gateway into the node's
// store (every block checked against its CID by kubo.Fetcher) and then
// decrypts it from there.
func fetchGateway(ctx context.Context, node *ipfs.Node, gw string, hc *http.Client, ref ipfs.ObjectRef, w *bytes.Buffer, progress ipfs.Progress) error {
	f, err := kubo.NewFetcher(gw, hc)
	if err != nil {
		return err
	}
	if err := f.Fetch(ctx, ref.Root, node.Store()); err != nil {
		return err
	}
	return node.Store().Export(ctx, ref, w, progress)
}

// servedBy names the address that served and how.
func servedBy(node *ipfs.Node, p *provider) served {
	if p.url != "" {
		return served{provider: p.url, via: ViaGateway}
	}
	s := served{provider: p.info.ID.String(), via: ViaDirect}
	if a, relayed, ok := node.ConnAddr(p.info.ID); ok {
		if pa, err := ma.NewMultiaddr("/p2p/" + p.info.ID.String()); err == nil {
			s.provider = a.Encapsulate(pa).String()
		}
		if relayed {
			s.via = ViaRelay
		}
	}
	if p.outcome == unsupported {
		s.via = ViaReplica
	}
	return s
}

// fetchReason words a failed fetch after the provider's name.
func fetchReason(err error) string {
	var closed *ipfs.ClosedError
	switch {
	case errors.As(err, &closed) && closed.Unanswered:
		return fmt.Sprintf("closed the connection %s into the fetch (it went silent: no block and no answer to a ping for %s)", closed.After.Round(10*time.Millisecond), ipfs.PingTimeout)
	case errors.As(err, &closed):
		return fmt.Sprintf("closed the connection %s into the fetch", closed.After.Round(10*time.Millisecond))
	case errors.Is(err, kubo.ErrBadBlock):
		return "served a block that does not match its CID: " + err.Error()
	case errors.Is(err, ipfs.ErrPeerUnreachable):
		return "unreachable: " + err.Error()
	case errors.Is(err, ipfs.ErrNotServed):
		return "did not serve: " + err.Error()
	}
	return "failed: " + err.Error()
}

// presentCause is why a presentation got no answer, without
// serve.Present's own "patient's node X unreachable: " (the failure is
// already named, and the peer may be a keeper).
func presentCause(id peer.ID, err error) string {
	if err == nil {
		return "no answer"
	}
	return strings.Replace(err.Error(), "patient's node "+id.String()+" unreachable: ", "", 1)
}

// oneLine folds a multi-line error (libp2p lists every dial attempt on a
// line of its own) into one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// gatewayClient is the HTTP client for gateways: a connect and a first
// answer bounded like a presentation, the whole fetch bounded by
// kubo.DefaultFetchTimeout.
func gatewayClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: timeout}).DialContext
	t.ResponseHeaderTimeout = timeout
	t.Proxy = nil // a gateway named by a grant is dialled as named
	return &http.Client{Transport: t, Timeout: kubo.DefaultFetchTimeout}
}
