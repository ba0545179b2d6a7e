package ipfs

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/bitswap"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// DefaultListen is where `healthwallet node` listens unless told otherwise:
// TCP and QUIC on port 4101 on every interface, so grantees on the network
// can reach the patient's node (the gate decides what they get).
var DefaultListen = []string{"/ip4/0.0.0.0/tcp/4101", "/ip4/0.0.0.0/udp/4101/quic-v1"}

// LoopbackListen listens on ephemeral loopback ports (tests, demos).
var LoopbackListen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}

// DefaultStallTimeout is how long a fetch waits for the next block before it
// gives up on the peers it dialled.
const DefaultStallTimeout = 30 * time.Second

// Errors of the network.
var (
	// ErrPeerUnreachable: no connection could be made to a peer.
	ErrPeerUnreachable = errors.New("peer unreachable")
	// ErrNotServed: connected peers did not send a needed block (not allowed
	// or not holding it).
	ErrNotServed = errors.New("peers did not serve the object")
	// ErrNoPeers: a fetch was asked without any peer to fetch from.
	ErrNoPeers = errors.New("no peer to fetch from")
)

// PeerKeyFromSeed turns a 32-byte seed into the node's libp2p Ed25519
// identity key. The wallet derives the seed from its recovery phrase, so a
// restored wallet keeps its peer ID.
func PeerKeyFromSeed(seed []byte) (crypto.PrivKey, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("peer key seed must be %d bytes", ed25519.SeedSize)
	}
	priv, _, err := crypto.KeyPairFromStdKey(ptr(ed25519.NewKeyFromSeed(seed)))
	return priv, err
}

func ptr(k ed25519.PrivateKey) *ed25519.PrivateKey { return &k }

// NodeConfig configures a Node.
type NodeConfig struct {
	// Key is the node's libp2p identity; required.
	Key crypto.PrivKey
	// Listen lists multiaddrs to listen on; nil means LoopbackListen.
	Listen []string
	// Gate decides who receives which DAG; nil means DenyAll.
	Gate Gate
	// StallTimeout overrides DefaultStallTimeout for fetches.
	StallTimeout time.Duration

	// RelayService offers circuit relay v2 to other peers within
	// RelayLimits, and the AutoNAT service (peers ask it whether they are
	// dialable): keepers set it.
	RelayService bool
	// RelayLimits are the relay service's limits; zero fields take
	// [DefaultRelayLimits].
	RelayLimits RelayLimits
	// RelayClients, when set, decides which peers may hold a reservation
	// on this node's relay (a keeper: its enrolled patients' nodes); nil
	// admits any peer within RelayLimits.
	RelayClients func(peer.ID) bool
	// Relays are the only relays the node uses (the patient's keepers):
	// while its reachability is not public it holds a reservation on each
	// and [Node.RelayAddrs] lists its /p2p-circuit addresses. No relay is
	// ever discovered: no bootstrap peers, no DHT.
	Relays []peer.AddrInfo
	// Reachability: see [Reachability]; the zero value is private when
	// Relays are set, AutoNAT's answer otherwise.
	Reachability Reachability
}

// Node is a running libp2p host with a bitswap server and client over a
// Store.
type Node struct {
	host  host.Host
	swap  *bitswap.Bitswap
	store *Store
	dag   ipld.DAGService
	stall time.Duration
	gate  Gate

	served    atomic.Int64 // blocks handed to peers
	denied    atomic.Int64 // block requests refused by the gate
	roots     rootsCache
	reach     *reach
	relay     *relay.Relay
	stopReach context.CancelFunc
	reachWG   sync.WaitGroup
	// rootsOf looks up the DAGs a block belongs to; nil means the store's
	// index (tests count the lookups).
	rootsOf func(cid.Cid) []cid.Cid
}

// rootsCacheTTL bounds how stale a cached block→roots answer may be. The
// index lives in a file other processes write (a CLI import while the node
// serves), so answers expire; within the TTL a DAG imported meanwhile that
// shares a block may be refused for that block once, never wrongly served.
const rootsCacheTTL = 10 * time.Second

// rootsCache spares bitswap's per-block filter a database open per request.
type rootsCache struct {
	mu sync.Mutex
	m  map[cid.Cid]cachedRoots
}

type cachedRoots struct {
	roots []cid.Cid
	at    time.Time
}

func (r *rootsCache) get(c cid.Cid, load func(cid.Cid) []cid.Cid) []cid.Cid {
	now := time.Now()
	r.mu.Lock()
	if e, ok := r.m[c]; ok && now.Sub(e.at) < rootsCacheTTL {
		r.mu.Unlock()
		return e.roots
	}
	r.mu.Unlock()
	roots := load(c)
	r.mu.Lock()
	if r.m == nil || len(r.m) > 1<<16 {
		r.m = map[cid.Cid]cachedRoots{}
	}
	r.m[c] = cachedRoots{roots, now}
	r.mu.Unlock()
	return roots
}

// StartNode starts a node serving store.
func StartNode(ctx context.Context, store *Store, cfg NodeConfig) (*Node, error) {
	if cfg.Key == nil {
		return nil, errors.New("node needs an identity key")
	}
	listen := cfg.Listen
	if listen == nil {
		listen = LoopbackListen
	}
	if cfg.Reachability < ReachabilityDefault || cfg.Reachability > ReachabilityPublic {
		return nil, fmt.Errorf("%w, not %d", ErrBadReachability, cfg.Reachability)
	}
	h, err := libp2p.New(append([]libp2p.Option{
		libp2p.Identity(cfg.Key),
		libp2p.ListenAddrStrings(listen...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DisableMetrics(),
	}, reachOptions(cfg)...)...)
	if err != nil {
		return nil, fmt.Errorf("failed to start libp2p host: %w", err)
	}
	n := &Node{host: h, store: store, stall: cfg.StallTimeout, gate: cfg.Gate}
	if cfg.RelayService {
		if n.relay, err = startRelayService(h, cfg); err != nil {
			h.Close()
			return nil, err
		}
	}
	if err := n.startReach(cfg); err != nil {
		n.closeReach()
		h.Close()
		return nil, err
	}
	if n.stall == 0 {
		n.stall = DefaultStallTimeout
	}
	if n.gate == nil {
		n.gate = DenyAll
	}
	// No content routing: nothing is announced, peers are dialled from
	// address hints. relayedOK lets bitswap run over relayed connections.
	n.swap = bitswap.New(ctx, bsnet.NewFromIpfsHost(relayedOK{h}), nil, store.blocks,
		bitswap.WithPeerBlockRequestFilter(n.allowBlock),
		bitswap.SetSendDontHaves(true),
	)
	n.dag = merkledag.NewDAGService(blockservice.New(store.blocks, n.swap))
	return n, nil
}

// allowBlock is bitswap's per-request filter: a block goes to p only if some
// DAG containing it is allowed for p. The gate decides every time; only the
// block→roots lookup is cached (see rootsCache), and skipped for a peer a
// PeerGate allows nothing.
func (n *Node) allowBlock(p peer.ID, c cid.Cid) bool {
	if pg, ok := n.gate.(PeerGate); ok && !pg.AllowsAny(p) {
		n.denied.Add(1)
		return false
	}
	load := n.rootsOf
	if load == nil {
		load = n.store.index.rootsOf
	}
	for _, root := range n.roots.get(c, load) {
		if n.gate.Allowed(p, root) {
			n.served.Add(1)
			return true
		}
	}
	n.denied.Add(1)
	return false
}

// SetGate replaces the gate.
func (n *Node) SetGate(g Gate) { n.gate = g }

// ID returns the node's peer ID.
func (n *Node) ID() peer.ID { return n.host.ID() }

// AddrInfo returns the node's peer ID and listen addresses: the address hint
// a grant carries.
func (n *Node) AddrInfo() peer.AddrInfo {
	return peer.AddrInfo{ID: n.host.ID(), Addrs: n.host.Addrs()}
}

// Addrs returns the full multiaddrs (with /p2p/ID) peers can dial.
func (n *Node) Addrs() []ma.Multiaddr {
	addrs, _ := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.host.ID(), Addrs: n.host.Addrs()})
	return addrs
}

// Peers lists connected peers.
func (n *Node) Peers() []peer.ID { return n.host.Network().Peers() }

// Stats reports blocks served and block requests denied by the gate.
func (n *Node) Stats() (served, denied int64) { return n.served.Load(), n.denied.Load() }

// Store returns the store the node serves.
func (n *Node) Store() *Store { return n.store }

// Host returns the libp2p host.
func (n *Node) Host() host.Host { return n.host }

// Close stops bitswap, the relay service, the reservations and the host.
func (n *Node) Close() error {
	err := n.swap.Close()
	n.closeReach()
	return errors.Join(err, n.host.Close())
}

func (n *Node) closeReach() {
	if n.stopReach != nil {
		n.stopReach()
	}
	n.reachWG.Wait()
	if n.relay != nil {
		n.relay.Close()
	}
}

// Connect dials every peer in from; it fails only if none answers. An
// address may go through a relay (.../p2p-circuit/p2p/PEER); a relayed
// connection counts (see [AllowRelayed]), and libp2p tries direct
// addresses of the same peer first.
func (n *Node) Connect(ctx context.Context, from []peer.AddrInfo) error {
	if len(from) == 0 {
		return ErrNoPeers
	}
	ctx = AllowRelayed(ctx)
	var errs []error
	for _, ai := range from {
		if ai.ID == n.host.ID() {
			continue
		}
		if err := n.host.Connect(ctx, ai); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %v", ErrPeerUnreachable, ai.ID, err))
			continue
		}
		return nil
	}
	return errors.Join(errs...)
}

// Fetch dials from, fetches the object ref over bitswap (every block is
// hash-checked), decrypts it into w and records its DAG as held locally.
func (n *Node) Fetch(ctx context.Context, ref ObjectRef, from []peer.AddrInfo, w io.Writer, progress Progress) error {
	ng, stop, err := n.session(ctx, from)
	if err != nil {
		return ref.errorf(err)
	}
	defer stop()
	if err := readObject(ctx, dagFileReader(ng), ref, w, progress); err != nil {
		if e := n.explain(ng, err, from); e != err {
			return ref.errorf(e)
		}
		return err
	}
	return n.hold(ctx, ref.Root)
}

// FetchGraph fetches every block of the DAG under root without reading it:
// boxo's merkledag.FetchGraph, the baseline for Fetch's benchmark.
func (n *Node) FetchGraph(ctx context.Context, root cid.Cid, from []peer.AddrInfo) error {
	ng, stop, err := n.session(ctx, from)
	if err != nil {
		return err
	}
	defer stop()
	if err := merkledag.FetchGraph(ctx, root, merkledag.NewReadOnlyDagService(ng)); err != nil {
		return n.explain(ng, err, from)
	}
	return n.hold(ctx, root)
}

// FetchPlain fetches the UnixFS file root and writes its bytes to w.
func (n *Node) FetchPlain(ctx context.Context, root cid.Cid, from []peer.AddrInfo, w io.Writer) error {
	ng, stop, err := n.session(ctx, from)
	if err != nil {
		return err
	}
	defer stop()
	if err := readFile(ctx, ng, root, w); err != nil {
		return n.explain(ng, err, from)
	}
	return n.hold(ctx, root)
}

// hold records a fetched DAG in the index so GC and the gate know it.
func (n *Node) hold(ctx context.Context, root cid.Cid) error {
	var dag []cid.Cid
	if err := merkledag.Walk(ctx, n.store.localLinks, root, func(c cid.Cid) bool { dag = append(dag, c); return true }); err != nil {
		return err
	}
	return n.store.index.addRoot(root, dag)
}

// stallGetter cancels its context when no block arrives for a while.
type stallGetter struct {
	ipld.NodeGetter
	last    atomic.Int64
	stalled atomic.Bool
	clock   *atomic.Int64 // see withBlockClock; may be nil
}

func (s *stallGetter) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	nd, err := s.NodeGetter.Get(ctx, c)
	if err == nil {
		s.arrived()
	}
	return nd, err
}

// arrived records a block's arrival, here and for a watcher that asked
// through withBlockClock.
func (s *stallGetter) arrived() {
	now := time.Now().UnixNano()
	s.last.Store(now)
	if s.clock != nil {
		s.clock.Store(now)
	}
}

// blockClockKey carries a *atomic.Int64 that a session sets to the time
// (Unix nanoseconds) of each block's arrival: how FetchFrom tells a quiet
// connection from a busy one.
type blockClockKey struct{}

func withBlockClock(ctx context.Context, clock *atomic.Int64) context.Context {
	return context.WithValue(ctx, blockClockKey{}, clock)
}

func (s *stallGetter) GetMany(ctx context.Context, cs []cid.Cid) <-chan *ipld.NodeOption {
	in := s.NodeGetter.GetMany(ctx, cs)
	out := make(chan *ipld.NodeOption, len(cs))
	go func() {
		defer close(out)
		for o := range in {
			if o.Err == nil {
				s.arrived()
			}
			out <- o
		}
	}()
	return out
}

// session connects to from and returns a node getter over a bitswap session
// that gives up when blocks stop arriving. It holds the store's write lock
// until stop, so GC does not sweep the fetched blocks before [Node.hold]
// records them.
func (n *Node) session(ctx context.Context, from []peer.AddrInfo) (*stallGetter, func(), error) {
	if err := n.Connect(ctx, from); err != nil {
		return nil, nil, err
	}
	unlock, err := n.store.beginWrite()
	if err != nil {
		return nil, nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	sg := &stallGetter{NodeGetter: merkledag.NewSession(sctx, n.dag)}
	sg.clock, _ = ctx.Value(blockClockKey{}).(*atomic.Int64)
	sg.last.Store(time.Now().UnixNano())
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(n.stall / 10)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if time.Since(time.Unix(0, sg.last.Load())) > n.stall {
					sg.stalled.Store(true)
					cancel()
					return
				}
			}
		}
	}()
	return sg, func() { close(done); cancel(); unlock() }, nil
}

// explain turns a stalled fetch into ErrNotServed naming the peers.
func (n *Node) explain(sg *stallGetter, err error, from []peer.AddrInfo) error {
	if !sg.stalled.Load() {
		return err
	}
	ids := make([]string, len(from))
	for i, ai := range from {
		ids[i] = ai.ID.String()
	}
	return fmt.Errorf("%w: no block from %v for %v (not allowed, or the peer does not hold it)", ErrNotServed, ids, n.stall)
}
