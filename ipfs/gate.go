package ipfs

import (
	"sync"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Gate decides which peer may receive the blocks of which DAG. The node
// asks it for every block a peer requests, once per DAG root that contains
// the block; one yes is enough. The share package implements it with grant
// checks; [AllowList] is the explicit version.
type Gate interface {
	Allowed(p peer.ID, root cid.Cid) bool
}

// PeerGate is a Gate that can tell cheaply whether a peer may fetch
// anything at all. For a peer that may not, the node refuses every block
// request at once, without looking up (in the store's index) which DAGs the
// block belongs to: a stranger asking for random blocks costs no disk reads.
type PeerGate interface {
	Gate
	// AllowsAny reports whether some root may be Allowed for p; false
	// must mean Allowed(p, r) is false for every r.
	AllowsAny(p peer.ID) bool
}

// GateFunc adapts a function to [Gate].
type GateFunc func(p peer.ID, root cid.Cid) bool

// Allowed calls f.
func (f GateFunc) Allowed(p peer.ID, root cid.Cid) bool { return f(p, root) }

// DenyAll is the gate of a node that serves nobody.
var DenyAll Gate = denyAll{}

type denyAll struct{}

func (denyAll) Allowed(peer.ID, cid.Cid) bool { return false }
func (denyAll) AllowsAny(peer.ID) bool        { return false }

// AllowList is an explicit, in-memory list of (peer, root) pairs. It is safe
// for concurrent use.
type AllowList struct {
	mu     sync.RWMutex
	peers  map[peer.ID]map[cid.Cid]bool
	all    map[peer.ID]bool
	public map[cid.Cid]bool
}

// NewAllowList returns an empty list: nobody is allowed anything.
func NewAllowList() *AllowList {
	return &AllowList{peers: map[peer.ID]map[cid.Cid]bool{}, all: map[peer.ID]bool{}, public: map[cid.Cid]bool{}}
}

// AllowAnyone lets every peer fetch the DAGs under roots: for objects whose
// key travels with their link (grant key bundles).
func (a *AllowList) AllowAnyone(roots ...cid.Cid) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range roots {
		a.public[r] = true
	}
}

// Allow lets p fetch the DAGs under roots.
func (a *AllowList) Allow(p peer.ID, roots ...cid.Cid) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.peers[p]
	if m == nil {
		m = map[cid.Cid]bool{}
		a.peers[p] = m
	}
	for _, r := range roots {
		m[r] = true
	}
}

// AllowEverything lets p fetch every DAG in the store (the CLI's
// `node --allow PEER`).
func (a *AllowList) AllowEverything(p peer.ID) {
	a.mu.Lock()
	a.all[p] = true
	a.mu.Unlock()
}

// Revoke withdraws p's access to roots; with no roots, all of p's access.
func (a *AllowList) Revoke(p peer.ID, roots ...cid.Cid) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(roots) == 0 {
		delete(a.peers, p)
		delete(a.all, p)
		return
	}
	for _, r := range roots {
		delete(a.peers[p], r)
	}
}

// Allowed reports whether p may fetch the DAG under root.
func (a *AllowList) Allowed(p peer.ID, root cid.Cid) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.public[root] || a.all[p] || a.peers[p][root]
}

// AllowsAny implements PeerGate.
func (a *AllowList) AllowsAny(p peer.ID) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.public) > 0 || a.all[p] || len(a.peers[p]) > 0
}
