package ipfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"
)

// ErrConnectionClosed: the one peer a fetch was reading from closed the
// connection (it stopped, crashed or was cut off) before the object was
// complete. The error is a *ClosedError naming the peer.
var ErrConnectionClosed = errors.New("closed the connection")

// ClosedError says which peer closed the connection mid-fetch and how
// long after the fetch began. It matches ErrConnectionClosed.
type ClosedError struct {
	Peer  peer.ID
	After time.Duration
	// Unanswered is true when the connection did not close but went
	// silent: no block and no answer to a ping for [PingTimeout] (a peer
	// that died without a goodbye, as a killed process over QUIC does).
	Unanswered bool
}

func (e *ClosedError) Error() string {
	if e.Unanswered {
		return fmt.Sprintf("peer %s closed the connection %s into the fetch (it went silent: no block and no answer to a ping for %s)", e.Peer, e.After.Round(time.Millisecond), PingTimeout)
	}
	return fmt.Sprintf("peer %s closed the connection %s into the fetch", e.Peer, e.After.Round(time.Millisecond))
}

// Unwrap makes a ClosedError match ErrConnectionClosed.
func (e *ClosedError) Unwrap() error { return ErrConnectionClosed }

// disconnectCheck is how often FetchFrom looks at the provider's
// connectedness besides the swarm's Disconnected notification: a lost
// notification still ends the fetch within this interval.
const disconnectCheck = 250 * time.Millisecond

// A peer that dies without closing its connections (a killed process
// over QUIC, a phone that loses its network) leaves the connection open
// until QUIC's idle timeout or yamux's keepalive. So when no block has
// arrived for quietAfter, FetchFrom pings the peer (libp2p ping); a peer
// that neither answers nor sends a block within PingTimeout is taken for
// gone. Both bounds together keep the notice under 5 s.
const (
	quietAfter  = 750 * time.Millisecond
	PingTimeout = 2500 * time.Millisecond
)

// FetchFrom fetches ref over bitswap from the one peer p and from no other
// peer, decrypts it into w and records its DAG as held locally, like Fetch.
//
// A bitswap session asks every connected peer, so FetchFrom first closes
// this node's connections to every other peer: what arrives comes from p,
// and a caller trying providers one at a time can say which one served.
// (This suits a node made for one redemption, not a node that serves.)
//
// The libp2p connection to p is watched (network.Notifiee plus a check of
// Connectedness every 250 ms): when p's last connection closes before the
// object is complete, FetchFrom fails at once with a *ClosedError
// (ErrConnectionClosed) instead of waiting out the stall timeout, which
// still ends a fetch from a peer that stays connected but sends nothing.
func (n *Node) FetchFrom(ctx context.Context, ref ObjectRef, p peer.AddrInfo, w io.Writer, progress Progress) error {
	if p.ID == "" {
		return ref.errorf(ErrNoPeers)
	}
	nw := n.host.Network()
	for _, q := range nw.Peers() {
		if q != p.ID {
			_ = nw.ClosePeer(q)
		}
	}
	if err := n.Connect(ctx, []peer.AddrInfo{p}); err != nil {
		return ref.errorf(err)
	}
	start := time.Now()
	fctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	gone := make(chan struct{}, 1)
	notify := &network.NotifyBundle{DisconnectedF: func(_ network.Network, c network.Conn) {
		if c.RemotePeer() == p.ID {
			select {
			case gone <- struct{}{}:
			default:
			}
		}
	}}
	nw.Notify(notify)
	defer nw.StopNotify(notify)
	watching := make(chan struct{})
	defer close(watching)
	var clock atomic.Int64
	clock.Store(start.UnixNano())
	answered := make(chan bool, 1)
	pinging := false
	var heard time.Time // the last answer to a ping: one ping per quiet spell
	go func() {
		t := time.NewTicker(disconnectCheck)
		defer t.Stop()
		for {
			select {
			case <-watching:
				return
			case <-gone:
			case <-t.C:
			case ok := <-answered:
				pinging = false
				if ok {
					heard = time.Now()
				}
				if !ok && time.Since(time.Unix(0, clock.Load())) > PingTimeout {
					_ = nw.ClosePeer(p.ID)
					cancel(&ClosedError{Peer: p.ID, After: time.Since(start), Unanswered: true})
					return
				}
			}
			if nw.Connectedness(p.ID) != network.Connected {
				cancel(&ClosedError{Peer: p.ID, After: time.Since(start)})
				return
			}
			if !pinging && time.Since(time.Unix(0, clock.Load())) > quietAfter && time.Since(heard) > quietAfter {
				pinging = true
				go func() { answered <- n.ping(fctx, p.ID) }()
			}
		}
	}()
	err := n.Fetch(withBlockClock(fctx, &clock), ref, []peer.AddrInfo{p}, w, progress)
	if err != nil && ctx.Err() == nil {
		var closed *ClosedError
		if errors.As(context.Cause(fctx), &closed) {
			return ref.errorf(closed)
		}
	}
	return err
}

// ping reports whether p answers a libp2p ping within PingTimeout, also
// over a relayed (limited) connection. Any answer counts, a refusal of the
// ping protocol too: only silence until the timeout says p is gone.
func (n *Node) ping(ctx context.Context, p peer.ID) bool {
	pctx, cancel := context.WithTimeout(network.WithAllowLimitedConn(ctx, "healthwallet liveness ping"), PingTimeout)
	defer cancel()
	select {
	case r := <-ping.Ping(pctx, n.host, p):
		return r.Error == nil || pctx.Err() == nil
	case <-pctx.Done():
		return false
	}
}

// ConnAddr returns the remote address of this node's connection to p,
// preferring a direct connection to a relayed one, and whether the
// connection it returns goes through a circuit relay. ok is false when not
// connected to p.
func (n *Node) ConnAddr(p peer.ID) (addr ma.Multiaddr, relayed, ok bool) {
	for _, c := range n.host.Network().ConnsToPeer(p) {
		a := c.RemoteMultiaddr()
		isRelay := IsRelayed(a) || c.Stat().Limited
		if !ok || (relayed && !isRelay) {
			addr, relayed, ok = a, isRelay, true
		}
	}
	return addr, relayed, ok
}

// IsRelayed reports whether the multiaddr goes through a circuit relay
// (holds /p2p-circuit).
func IsRelayed(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}
