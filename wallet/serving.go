package wallet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/serve"
	"github.com/healthwallet/healthwallet/share/shl"
	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// ServeConfig configures Serve.
type ServeConfig struct {
	// Listen lists multiaddrs; nil means ipfs.DefaultListen.
	Listen []string
	// Chain is where grants are checked for revocation. Without a chain the
	// node refuses every grant: revocation status unknown (fail closed).
	Chain ChainConfig
	// Allow lets these peers fetch every stored object without a grant
	// (the explicit allow list).
	Allow []peer.ID
	// Gateway, if set, also serves a trustless gateway on this address.
	Gateway string
	// RefreshEvery is how often open grant sessions are re-checked for
	// revocation (a sync of the revocation mirror, then the node's
	// revocation set); default DefaultRefreshEvery.
	RefreshEvery time.Duration
	// OnAccessLogError is told when a presentation cannot be written to the
	// access log (the catalog locked, the disk full). Nil drops nothing
	// silently either: every failure is counted (Serving.AccessLogFailures).
	OnAccessLogError func(error)
	// SHLEndpoint, when set, serves this wallet's SMART Health Links
	// while the node runs (SHLServer; keepers serve them always).
	SHLEndpoint
}

// DefaultRefreshEvery is how often a serving node asks the chain for new
// revocations: a revoked grant's sessions end within about a second of the
// revocation block. Grants this wallet is revoking itself end at once.
const DefaultRefreshEvery = 500 * time.Millisecond

// Serving is a running node serving this wallet's packages.
type Serving struct {
	node    *ipfs.Node
	grants  *serve.Server
	gateway *ipfs.Gateway
	shl     *shlEndpoint // nil: serves no SMART Health Links
	conn    *chainConn
	home    string
	cancel  context.CancelFunc
	done    chan struct{}

	logFailures atomic.Int64 // presentations the access log could not take
}

// AccessLogFailures is how many presentations could not be written to the
// access log since the node started.
func (s *Serving) AccessLogFailures() int64 { return s.logFailures.Load() }

// Serve starts this wallet's node: grantees present grants (package serve)
// and fetch the packages they cover; every presentation goes to the access
// log.
func (w *Wallet) Serve(ctx context.Context, cfg ServeConfig) (*Serving, error) {
	keys, err := w.Keys()
	if err != nil {
		return nil, err
	}
	listen := cfg.Listen
	if listen == nil {
		listen = ipfs.DefaultListen
	}
	s := &Serving{done: make(chan struct{})}
	policy := grant.Policy{Now: w.now}
	if cfg.Chain.RPC != "" {
		if s.conn, err = w.connect(ctx, cfg.Chain); err != nil {
			return nil, err
		}
		policy = s.conn.policy(w.now)
	} else if cfg.Chain.ChainID != 0 {
		policy.Domain = cfg.Chain.Domain()
	}
	allow := ipfs.NewAllowList()
	for _, p := range cfg.Allow {
		allow.AllowEverything(p)
	}
	w.allowPublic(allow)
	gate := &eitherGate{gates: []ipfs.Gate{allow}}
	// A node with keepers holds a reservation on each keeper's relay, so
	// grantees reach it behind NAT through KEEPER/p2p-circuit/p2p/NODE
	// (the address grants name); ipfs decides reachability (private when
	// relays are set: phones sit behind carrier NAT).
	node, err := w.startNodeWith(ctx, ipfs.NodeConfig{Listen: listen, Gate: gate, Relays: w.keeperRelays()})
	if err != nil {
		s.closeConn()
		return nil, err
	}
	s.node = node
	patient := common.HexToAddress(keys.Address().String())
	s.grants = serve.NewServer(node.Host(), patient, policy, func(a serve.Access) {
		if err := w.RecordAccess(a); err != nil {
			s.logFailures.Add(1)
			if cfg.OnAccessLogError != nil {
				cfg.OnAccessLogError(fmt.Errorf("access log: %w", err))
			}
		}
	})
	gate.add(s.grants)
	s.grants.ServeLive(w.LiveSource())
	// Grants this wallet has started revoking are refused whatever the
	// chain says: now, as Revoke goes on in this process, and as the loop
	// below finds them recorded by another process.
	s.home = w.home
	localDeny.add(w.home, s)
	s.denyLocal(w)
	if cfg.Gateway != "" {
		if s.gateway, err = ipfs.StartGateway(node.Store(), cfg.Gateway); err != nil {
			s.Close()
			return nil, err
		}
	}
	if cfg.wantsSHL() {
		if s.shl, err = w.startSHL(context.Background(), cfg.SHLEndpoint, func(base string) http.Handler {
			return w.SHLServer(s, shl.ServerOptions{BaseURL: base})
		}); err != nil {
			s.Close()
			return nil, err
		}
	}
	every := cfg.RefreshEvery
	if every == 0 {
		every = DefaultRefreshEvery
	}
	rctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-t.C:
				s.denyLocal(w)
				s.grants.Refresh(rctx)
				w.allowPublic(allow) // key bundles made since the node started
			}
		}
	}()
	return s, nil
}

// startNode starts an IPFS node over this wallet's store with its peer
// identity (Serve for the patient; Redeem for a grantee).
func (w *Wallet) startNode(ctx context.Context, listen []string, gate ipfs.Gate) (*ipfs.Node, error) {
	return w.startNodeWith(ctx, ipfs.NodeConfig{Listen: listen, Gate: gate})
}

// startNodeWith is startNode with the reach settings of cfg (relays, relay
// service, reachability); cfg.Key is set here.
func (w *Wallet) startNodeWith(ctx context.Context, cfg ipfs.NodeConfig) (*ipfs.Node, error) {
	store, err := w.objectStore()
	if err != nil {
		return nil, err
	}
	peerKey, err := w.PeerKey()
	if err != nil {
		return nil, err
	}
	cfg.Key = peerKey
	return ipfs.StartNode(ctx, store, cfg)
}

// allowPublic lets anyone fetch the objects in the Public bucket.
func (w *Wallet) allowPublic(a *ipfs.AllowList) {
	cat, err := w.Catalog()
	if err != nil {
		return
	}
	cat.ForEach(catalog.Public, func(_ catalog.ID, v []byte) error {
		if c, err := cid.Decode(string(v)); err == nil {
			a.AllowAnyone(c)
		}
		return nil
	})
}

// Addrs returns the multiaddrs (with /p2p/) grants should name as
// providers.
func (s *Serving) Addrs() []string {
	var out []string
	for _, a := range s.node.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// PeerID is the node's libp2p peer id.
func (s *Serving) PeerID() string { return s.node.ID().String() }

// Peers is how many peers are connected now.
func (s *Serving) Peers() int { return len(s.node.Peers()) }

// Listening is how many addresses the node listens on (0 once closed).
func (s *Serving) Listening() int { return len(s.node.Host().Network().ListenAddresses()) }

// BlockStats counts blocks served to grantees and block requests refused
// since the node started.
func (s *Serving) BlockStats() (served, refused int64) { return s.node.Stats() }

// Sessions is how many grant sessions are open.
func (s *Serving) Sessions() int { return s.grants.Sessions() }

// GatewayURL is the trustless gateway's URL, or "" without one.
func (s *Serving) GatewayURL() string {
	if s.gateway == nil {
		return ""
	}
	return s.gateway.URL()
}

// SHLURL is the base URL of the node's SMART Health Link endpoint ("":
// it serves none). Give it as SHLOptions.URL to name this node in a link.
func (s *Serving) SHLURL() string {
	if s.shl == nil {
		return ""
	}
	return s.shl.url
}

func (s *Serving) closeConn() {
	if s.conn != nil {
		s.conn.Close()
	}
}

// denyLocal hands the node the ids this wallet is revoking.
func (s *Serving) denyLocal(w *Wallet) {
	if ids, err := w.localRevocations(); err == nil && len(ids) > 0 {
		s.grants.Deny(ids...)
	}
}

// Close stops serving.
func (s *Serving) Close() error {
	if s.grants != nil {
		localDeny.remove(s.home, s)
	}
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	var errs []error
	if s.shl != nil {
		errs = append(errs, s.shl.close())
	}
	if s.gateway != nil {
		errs = append(errs, s.gateway.Close())
	}
	if s.node != nil {
		errs = append(errs, s.node.Close())
	}
	s.closeConn()
	return errors.Join(errs...)
}

// eitherGate allows what any of its gates allows.
type eitherGate struct {
	mu    sync.RWMutex
	gates []ipfs.Gate
}

func (e *eitherGate) add(g ipfs.Gate) {
	e.mu.Lock()
	e.gates = append(e.gates, g)
	e.mu.Unlock()
}

func (e *eitherGate) Allowed(p peer.ID, root cid.Cid) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, g := range e.gates {
		if g.Allowed(p, root) {
			return true
		}
	}
	return false
}

// AllowsAny implements ipfs.PeerGate: some gate may allow p something (a
// gate that cannot tell counts as yes).
func (e *eitherGate) AllowsAny(p peer.ID) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for _, g := range e.gates {
		if pg, ok := g.(ipfs.PeerGate); !ok || pg.AllowsAny(p) {
			return true
		}
	}
	return false
}
