package ipfs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
)

// Reachability says whether a node may assume peers can dial it directly,
// which decides whether it holds reservations on its [NodeConfig.Relays].
type Reachability int

const (
	// ReachabilityDefault is [ReachabilityPrivate] when the node has Relays
	// and [ReachabilityAuto] otherwise. A patient's node with keepers is
	// usually a phone or a laptop behind a NAT or a carrier-grade NAT. There
	// AutoNAT cannot help: it tests only public addresses, and a node that
	// sees none (every address behind carrier NAT is private) stays
	// "unknown" forever. Private costs only one small reservation on each
	// of the patient's own keepers, and the node stays dialable directly
	// where it is (same LAN, a public address): private never stops
	// direct dials, it only adds relayed addresses.
	ReachabilityDefault Reachability = iota
	// ReachabilityAuto lets AutoNAT (v1) decide. Reservations are held
	// while AutoNAT says private or has not decided (as libp2p's autorelay
	// does), and released once it says public. AutoNAT probes only after
	// a 15 s boot delay, needs a peer running the AutoNAT service (a
	// keeper: [NodeConfig.RelayService]) and a public address to test; a
	// dial-back that the NAT drops takes up to 15 s more. So "public" is
	// decided 15–30 s after start at the earliest, re-checked every 15
	// minutes; a node with no public address never leaves "unknown" and so
	// keeps its reservations.
	ReachabilityAuto
	// ReachabilityPrivate holds reservations always (libp2p's
	// ForceReachabilityPrivate).
	ReachabilityPrivate
	// ReachabilityPublic never holds reservations (libp2p's
	// ForceReachabilityPublic): for keepers with a public address.
	ReachabilityPublic
)

// String returns "default", "auto", "private" or "public".
func (r Reachability) String() string {
	switch r {
	case ReachabilityAuto:
		return "auto"
	case ReachabilityPrivate:
		return "private"
	case ReachabilityPublic:
		return "public"
	}
	return "default"
}

// ErrBadReachability: ParseReachability was given an unknown word.
var ErrBadReachability = errors.New("reachability must be auto, private or public")

// ParseReachability parses "auto", "private" or "public" ("" is the
// default).
func ParseReachability(s string) (Reachability, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return ReachabilityDefault, nil
	case "auto":
		return ReachabilityAuto, nil
	case "private":
		return ReachabilityPrivate, nil
	case "public":
		return ReachabilityPublic, nil
	}
	return 0, fmt.Errorf("%w, not %q", ErrBadReachability, s)
}

// RelayLimits are the limits of the circuit relay v2 service a node offers
// with [NodeConfig.RelayService]. Zero fields take [DefaultRelayLimits].
type RelayLimits struct {
	// Reservations is how many peers may hold a reservation at once.
	Reservations int
	// ReservationsPerIP caps reservations from one IP address (patients
	// behind one carrier NAT share one).
	ReservationsPerIP int
	// CircuitsPerPeer caps open relayed connections to or from one peer.
	CircuitsPerPeer int
	// DataPerCircuit is how many bytes the relay forwards in each
	// direction of one relayed connection before it resets it.
	DataPerCircuit int64
	// DurationPerCircuit is how long a relayed connection may stay open.
	DurationPerCircuit time.Duration
	// ReservationTTL is how long a reservation lasts unless refreshed.
	ReservationTTL time.Duration
}

// DefaultRelayLimits are a keeper's relay limits:
//
//   - 128 reservations, at most 32 from one IP address;
//   - 16 relayed connections per peer;
//   - 64 MiB in each direction per relayed connection: a 16 MiB share
//     package is about 16.1 MiB of blocks, so one circuit carries it four
//     times over; a fetch that outgrows a circuit redials a new one;
//   - 10 minutes per relayed connection;
//   - reservations last 1 hour; holders refresh them at half-life.
//
// These are far above libp2p's defaults (128 KiB, 2 minutes: meant only for
// hole-punch coordination) because a phone behind carrier NAT often cannot
// be hole-punched at all, and then the keeper's relay carries the share.
// The relay forwards only to peers holding a reservation, and
// [NodeConfig.RelayClients] can restrict those to the keeper's patients.
var DefaultRelayLimits = RelayLimits{
	Reservations:       128,
	ReservationsPerIP:  32,
	CircuitsPerPeer:    16,
	DataPerCircuit:     64 << 20,
	DurationPerCircuit: 10 * time.Minute,
	ReservationTTL:     time.Hour,
}

// relayBufferSize is the relay's copy buffer per direction of a circuit.
// libp2p's default of 2 KiB splits a 1 MiB block into 512 yamux frames:
// BenchmarkRelayFetch measured a relay/direct throughput ratio of 0.80 with
// it and 0.94 with 32 KiB (loopback, 2 cores), at 64 KiB of buffers per
// open circuit.
const relayBufferSize = 32 << 10

func (l RelayLimits) withDefaults() RelayLimits {
	d := DefaultRelayLimits
	orDefault(&l.Reservations, d.Reservations)
	orDefault(&l.ReservationsPerIP, d.ReservationsPerIP)
	orDefault(&l.CircuitsPerPeer, d.CircuitsPerPeer)
	orDefault(&l.DataPerCircuit, d.DataPerCircuit)
	orDefault(&l.DurationPerCircuit, d.DurationPerCircuit)
	orDefault(&l.ReservationTTL, d.ReservationTTL)
	return l
}

// orDefault sets *v to d when *v is zero or negative.
func orDefault[T ~int | ~int64 | ~uint64](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

func (l RelayLimits) resources() relay.Resources {
	r := relay.DefaultResources()
	r.Limit = &relay.RelayLimit{Duration: l.DurationPerCircuit, Data: l.DataPerCircuit}
	r.ReservationTTL = l.ReservationTTL
	r.MaxReservations = l.Reservations
	r.MaxReservationsPerIP = l.ReservationsPerIP
	r.MaxReservationsPerASN = l.Reservations
	r.MaxCircuits = l.CircuitsPerPeer
	r.BufferSize = relayBufferSize
	return r
}

// relayACL admits reservations from peers RelayClients allows; any peer may
// connect through the relay to a peer holding a reservation (that peer's
// own gate decides what it gets).
type relayACL func(peer.ID) bool

func (f relayACL) AllowReserve(p peer.ID, _ ma.Multiaddr) bool { return f(p) }
func (relayACL) AllowConnect(peer.ID, ma.Multiaddr, peer.ID) bool {
	return true
}

// reachOptions are the libp2p options of NAT traversal: the relay
// transport (to dial and accept /p2p-circuit connections), DCUtR hole
// punching, AutoNAT (service on relay nodes) and the forced reachability.
// libp2p's autorelay is not used: it keeps only public relay addresses
// (autorelay.cleanupAddressSet), so a keeper on a LAN, in a private test
// network or on loopback would never yield a circuit address; the node
// reserves with circuitv2's client.Reserve itself (see holdReservation).
// Nothing here discovers peers: the only relays are cfg.Relays.
func reachOptions(cfg NodeConfig) []libp2p.Option {
	opts := []libp2p.Option{libp2p.EnableRelay(), libp2p.EnableHolePunching()}
	if cfg.RelayService {
		opts = append(opts, libp2p.EnableNATService())
	}
	switch cfg.reachability() {
	case ReachabilityPrivate:
		opts = append(opts, libp2p.ForceReachabilityPrivate())
	case ReachabilityPublic:
		opts = append(opts, libp2p.ForceReachabilityPublic())
	}
	return opts
}

func (cfg NodeConfig) reachability() Reachability {
	if cfg.Reachability != ReachabilityDefault {
		return cfg.Reachability
	}
	if len(cfg.Relays) > 0 {
		return ReachabilityPrivate
	}
	return ReachabilityAuto
}

// startRelayService runs circuit relay v2 on h with the configured limits.
// It runs whatever AutoNAT says (libp2p's EnableRelayService waits for
// "public", which a keeper on a LAN never gets): the keeper was configured
// to be a relay.
func startRelayService(h host.Host, cfg NodeConfig) (*relay.Relay, error) {
	opts := []relay.Option{relay.WithResources(cfg.RelayLimits.withDefaults().resources())}
	if cfg.RelayClients != nil {
		opts = append(opts, relay.WithACL(relayACL(cfg.RelayClients)))
	}
	r, err := relay.New(h, opts...)
	if err != nil {
		return nil, fmt.Errorf("failed to start the relay service: %w", err)
	}
	return r, nil
}

// ErrNoReservation: no relay granted this node a reservation (yet).
var ErrNoReservation = errors.New("no relay reservation")

// Backoff between reservation attempts on one relay.
const (
	reserveBackoffMin = 500 * time.Millisecond
	reserveBackoffMax = 30 * time.Second
	reserveTimeout    = 15 * time.Second
)

// reach tracks the node's reservations on its relays.
type reach struct {
	mu      sync.Mutex
	relays  []peer.AddrInfo
	held    map[peer.ID]time.Time // relay → reservation expiry
	lastErr map[peer.ID]error
	want    bool          // reachability is not public
	changed chan struct{} // closed and replaced on every change
}

func (r *reach) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *reach) set(id peer.ID, expiry time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		delete(r.held, id)
		r.lastErr[id] = err
	} else if expiry.IsZero() {
		delete(r.held, id)
	} else {
		r.held[id] = expiry
		delete(r.lastErr, id)
	}
	r.notifyLocked()
}

func (r *reach) setWant(want bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.want != want {
		r.want = want
		r.notifyLocked()
	}
}

func (r *reach) wanted() (bool, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.want, r.changed
}

// startReach starts holding reservations on cfg.Relays while the node's
// reachability is not public.
func (n *Node) startReach(cfg NodeConfig) error {
	n.reach = &reach{
		relays:  slices.Clone(cfg.Relays),
		held:    map[peer.ID]time.Time{},
		lastErr: map[peer.ID]error{},
		want:    cfg.reachability() != ReachabilityPublic,
		changed: make(chan struct{}),
	}
	if len(cfg.Relays) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.stopReach = cancel
	if cfg.reachability() == ReachabilityAuto {
		sub, err := n.host.EventBus().Subscribe(new(event.EvtLocalReachabilityChanged))
		if err != nil {
			return err
		}
		n.reachWG.Add(1)
		go func() {
			defer n.reachWG.Done()
			defer sub.Close()
			for {
				select {
				case <-ctx.Done():
					return
				case e := <-sub.Out():
					ev := e.(event.EvtLocalReachabilityChanged)
					n.reach.setWant(ev.Reachability != network.ReachabilityPublic)
				}
			}
		}()
	}
	for _, ai := range cfg.Relays {
		sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
		if err != nil {
			return err
		}
		n.reachWG.Add(1)
		go func() {
			defer n.reachWG.Done()
			defer sub.Close()
			n.holdReservation(ctx, ai, sub)
		}()
	}
	return nil
}

// holdReservation reserves a slot on relay ai (circuitv2 client.Reserve,
// the call libp2p's autorelay makes), refreshes it at half-life, re-reserves
// when the connection to the relay drops, and backs off (0.5 s doubling to
// 30 s) while the relay is unreachable or refuses.
func (n *Node) holdReservation(ctx context.Context, ai peer.AddrInfo, conns event.Subscription) {
	backoff := reserveBackoffMin
	wait := func(d time.Duration, changed <-chan struct{}, dropped bool) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return false
			case <-t.C:
				return true
			case <-changed:
				return true
			case e := <-conns.Out():
				ev := e.(event.EvtPeerConnectednessChanged)
				if dropped && ev.Peer == ai.ID && ev.Connectedness == network.NotConnected {
					return true
				}
			}
		}
	}
	for ctx.Err() == nil {
		want, changed := n.reach.wanted()
		if !want {
			n.reach.set(ai.ID, time.Time{}, nil)
			if !wait(time.Hour, changed, false) {
				return
			}
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, reserveTimeout)
		rsvp, err := n.reserve(rctx, ai)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			n.reach.set(ai.ID, time.Time{}, err)
			if !wait(backoff, changed, false) {
				return
			}
			backoff = min(2*backoff, reserveBackoffMax)
			continue
		}
		backoff = reserveBackoffMin
		n.reach.set(ai.ID, rsvp.Expiration, nil)
		if n.host.Network().Connectedness(ai.ID) != network.Connected {
			n.reach.set(ai.ID, time.Time{}, fmt.Errorf("%w: connection to relay %s dropped", ErrNoReservation, ai.ID))
			continue
		}
		if !wait(time.Until(rsvp.Expiration)/2, changed, true) {
			return
		}
		if n.host.Network().Connectedness(ai.ID) != network.Connected {
			// The relay forgets a reservation when its connection closes.
			n.reach.set(ai.ID, time.Time{}, fmt.Errorf("%w: connection to relay %s dropped", ErrNoReservation, ai.ID))
		}
	}
}

func (n *Node) reserve(ctx context.Context, ai peer.AddrInfo) (*client.Reservation, error) {
	if err := n.host.Connect(ctx, ai); err != nil {
		return nil, fmt.Errorf("%w: relay %s unreachable: %v", ErrNoReservation, ai.ID, err)
	}
	rsvp, err := client.Reserve(ctx, n.host, ai)
	if err != nil {
		return nil, fmt.Errorf("%w: relay %s: %v", ErrNoReservation, ai.ID, err)
	}
	return rsvp, nil
}

// RelayAddrs returns the node's addresses through every relay it holds a
// live reservation on: RELAYADDR/p2p/RELAY/p2p-circuit/p2p/SELF, one per
// configured address of the relay. These go into grants as providers; a
// peer dials them with [Node.Connect] or any libp2p host.
func (n *Node) RelayAddrs() []ma.Multiaddr {
	r := n.reach
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	var out []ma.Multiaddr
	for _, ai := range r.relays {
		if exp, ok := r.held[ai.ID]; !ok || !exp.After(now) {
			continue
		}
		for _, a := range ai.Addrs {
			base, id := peer.SplitAddr(a)
			if base == nil || (id != "" && id != ai.ID) {
				continue
			}
			c, err := ma.NewMultiaddr(fmt.Sprintf("/p2p/%s/p2p-circuit/p2p/%s", ai.ID, n.host.ID()))
			if err != nil {
				continue
			}
			out = append(out, base.Encapsulate(c))
		}
	}
	return out
}

// WaitReservation blocks until the node holds a reservation on at least one
// of its relays, or ctx ends; then it returns an error wrapping
// ErrNoReservation (and the last reason of each relay, e.g. refused or
// unreachable). With no Relays configured it fails at once.
func (n *Node) WaitReservation(ctx context.Context) error {
	r := n.reach
	for {
		r.mu.Lock()
		if len(r.relays) == 0 {
			r.mu.Unlock()
			return fmt.Errorf("%w: no relays configured", ErrNoReservation)
		}
		now := time.Now()
		for _, exp := range r.held {
			if exp.After(now) {
				r.mu.Unlock()
				return nil
			}
		}
		changed := r.changed
		var errs []error
		for _, ai := range r.relays {
			if e := r.lastErr[ai.ID]; e != nil {
				errs = append(errs, e)
			}
		}
		r.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			if len(errs) == 0 {
				return fmt.Errorf("%w: %v", ErrNoReservation, ctx.Err())
			}
			return errors.Join(errs...)
		}
	}
}

// Relayed reports whether the node is connected to p only through relays
// (no direct connection: DCUtR has not upgraded it).
func (n *Node) Relayed(p peer.ID) bool {
	conns := n.host.Network().ConnsToPeer(p)
	for _, c := range conns {
		if !isCircuit(c.RemoteMultiaddr()) {
			return false
		}
	}
	return len(conns) > 0
}

func isCircuit(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

// AllowRelayed marks ctx so libp2p opens streams over "limited" relayed
// connections. A circuit through a relay with data or time limits (every
// keeper's: [DefaultRelayLimits]) is limited, and without this mark
// host.NewStream waits for a direct connection (DCUtR) and fails when
// none comes, and host.Connect dials again instead of using the circuit.
// Protocols that should work through a keeper's relay (the grant protocol)
// pass their dial and stream contexts through it.
func AllowRelayed(ctx context.Context) context.Context {
	return network.WithAllowLimitedConn(ctx, "healthwallet")
}

// relayedOK is the view of a host that the node gives boxo's bitswap
// network (bsnet). bsnet ignores limited connections: its connect notifier
// drops them (ipfs_impl.go, netNotifiee.Connected) and it opens streams
// without WithAllowLimitedConn. Through relayedOK, streams and connects
// accept limited connections and such connections are reported to bsnet as
// ordinary ones, so bitswap runs over a keeper's relay. The connection is
// still end-to-end Noise: the gate sees the real remote peer.
type relayedOK struct{ host.Host }

func (h relayedOK) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	return h.Host.NewStream(AllowRelayed(ctx), p, pids...)
}

func (h relayedOK) Connect(ctx context.Context, ai peer.AddrInfo) error {
	return h.Host.Connect(AllowRelayed(ctx), ai)
}

func (h relayedOK) Network() network.Network { return relayedOKNet{h.Host.Network()} }

type relayedOKNet struct{ network.Network }

func (n relayedOKNet) Connectedness(p peer.ID) network.Connectedness {
	if c := n.Network.Connectedness(p); c != network.Limited {
		return c
	}
	return network.Connected
}

func (n relayedOKNet) Notify(f network.Notifiee)     { n.Network.Notify(relayedOKNotifiee{f}) }
func (n relayedOKNet) StopNotify(f network.Notifiee) { n.Network.StopNotify(relayedOKNotifiee{f}) }

type relayedOKNotifiee struct{ network.Notifiee }

func (f relayedOKNotifiee) Connected(n network.Network, c network.Conn) {
	f.Notifiee.Connected(relayedOKNet{n}, unlimitedConn{c})
}

func (f relayedOKNotifiee) Disconnected(n network.Network, c network.Conn) {
	f.Notifiee.Disconnected(relayedOKNet{n}, unlimitedConn{c})
}

type unlimitedConn struct{ network.Conn }

func (c unlimitedConn) Stat() network.ConnStats {
	s := c.Conn.Stat()
	s.Limited = false
	return s
}
