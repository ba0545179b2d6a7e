package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/ipfs/kubo"
	"github.com/healthwallet/healthwallet/share/keep"
	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// Kinds of keeper.
const (
	// KeeperNode is a healthwallet keeper (`healthwallet keeper`): it
	// checks every grant as the patient's node does.
	KeeperNode = "keeper"
	// KeeperKubo is a stock Kubo node holding the ciphertext: it checks no
	// grant, only the key wrap protects the data there.
	KeeperKubo = "kubo"
)

// Keeper is a place this wallet's share packages are kept besides its own
// node, as the wallet last saw it.
type Keeper struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"` // KeeperNode or KeeperKubo
	Name    string    `json:"name"`
	Addr    string    `json:"addr,omitempty"`    // keeper: its multiaddr, with /p2p/
	PeerID  string    `json:"peerId"`            // the keeper's or the Kubo node's peer id
	KuboAPI string    `json:"kuboApi,omitempty"` // kubo: the RPC API URL
	Gateway string    `json:"gateway,omitempty"` // kubo: the gateway URL, if any
	Added   time.Time `json:"added"`
	// LastSync is when the last push or sync reached it (zero: never).
	LastSync time.Time `json:"lastSync,omitzero"`
	// Held is how many of the packages of live grants it holds; Pending
	// how many it still lacks.
	Held    int `json:"held"`
	Pending int `json:"pending"`
	// Reachable and LastError are the last attempt's outcome.
	Reachable bool   `json:"reachable"`
	LastError string `json:"lastError,omitempty"`
}

// keeperState is a Keeper as the catalog stores it.
type keeperState struct {
	Keeper
	Swarm   []string         `json:"swarm,omitempty"`   // kubo: its swarm multiaddrs
	LastSeq uint64           `json:"lastSeq,omitempty"` // keeper: access records merged up to
	Pushed  map[string]int64 `json:"pushed,omitempty"`  // kubo: roots pinned there, with their expiry
	// SHLs are the SMART Health Link entries put there: link id → version.
	SHLs map[string]int `json:"shls,omitempty"`
}

// Errors of keepers.
var (
	// ErrKeeperAddr: a keeper address is not a multiaddr ending in /p2p/ID.
	ErrKeeperAddr = errors.New("a keeper address is a multiaddr ending in /p2p/PEERID")
	// ErrNoKeeper: no keeper has that id.
	ErrNoKeeper = errors.New("no such keeper")
)

// KeeperSync is what a sync did, keeper by keeper.
type KeeperSync struct {
	Keepers []KeeperResult
}

// KeeperResult is one keeper's part of a sync.
type KeeperResult struct {
	Keeper  Keeper
	Pushed  int   // packages pushed now
	Dropped int   // packages dropped (their grants expired or were revoked)
	Records int   // access records merged into the access log
	Err     error // nil when the keeper holds every package of a live grant
}

// Availability says whether one place holds a grant's packages.
type Availability struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"` // "node", KeeperNode or KeeperKubo
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// keeperDialTimeout bounds reaching one keeper during a sync or push.
const keeperDialTimeout = 15 * time.Second

// AddKeeper enrols the healthwallet keeper at addr (a multiaddr ending in
// /p2p/PEERID) for this wallet: it signs an enrolment naming the keeper
// and this wallet's node, hands it over, and pushes the packages of every
// live grant. The keeper must answer; nothing is stored otherwise. Adding
// a keeper again re-enrols it.
func (w *Wallet) AddKeeper(ctx context.Context, addr, name string) (Keeper, error) {
	ai, err := peer.AddrInfoFromString(strings.TrimSpace(addr))
	if err != nil || len(ai.Addrs) == 0 {
		return Keeper{}, fmt.Errorf("%w: %q", ErrKeeperAddr, addr)
	}
	keys, err := w.Keys()
	if err != nil {
		return Keeper{}, err
	}
	self, err := peer.Decode(w.info.PeerID)
	if err != nil {
		return Keeper{}, err
	}
	e, err := keep.NewEnrolment(keys.PrivateKey(), self, ai.ID, w.now().Unix())
	if err != nil {
		return Keeper{}, err
	}
	host, release, err := w.keeperHost(ctx)
	if err != nil {
		return Keeper{}, err
	}
	defer release()
	ectx, cancel := context.WithTimeout(ctx, keeperDialTimeout)
	defer cancel()
	if err := (&keep.Client{Host: host.Host(), Keeper: *ai}).Enrol(ectx, e); err != nil {
		return Keeper{}, fmt.Errorf("enrolling keeper: %w", err)
	}
	st, err := w.keeperByPeer(ai.ID.String())
	if err != nil {
		st = &keeperState{Keeper: Keeper{ID: catalog.NewID().String(), Kind: KeeperNode, PeerID: ai.ID.String(), Added: w.now().UTC()}}
	}
	p2p, _ := peer.AddrInfoToP2pAddrs(ai)
	st.Addr = p2p[0].String()
	st.Name = name
	if st.Name == "" {
		st.Name = "keeper " + shortPeer(ai.ID.String())
	}
	if err := w.putKeeper(st); err != nil {
		return Keeper{}, err
	}
	want, wantErr := w.livePackages()
	res := w.syncOne(ctx, host, st, want, wantErr, true)
	return res.Keeper, nil
}

// AddKuboReplica adds a stock Kubo node as a ciphertext replica: its RPC
// API at apiURL takes the packages (dag/import, roots pinned); gatewayURL,
// if given, is its gateway, named in grants for fetching over HTTP (every
// block checked against its CID). Kubo checks no grant: anyone who knows a
// CID can fetch its ciphertext there, and only the key wrap protects it.
func (w *Wallet) AddKuboReplica(ctx context.Context, apiURL, gatewayURL, name string) (Keeper, error) {
	c, err := kubo.NewClient(apiURL, nil)
	if err != nil {
		return Keeper{}, err
	}
	if gatewayURL != "" {
		if _, err := gatewayMultiaddr(gatewayURL); err != nil {
			return Keeper{}, err
		}
	}
	ictx, cancel := context.WithTimeout(ctx, keeperDialTimeout)
	defer cancel()
	id, err := c.ID(ictx)
	if err != nil {
		return Keeper{}, fmt.Errorf("reaching Kubo at %s: %w", c.URL(), err)
	}
	st, err := w.keeperByPeer(id.ID)
	if err != nil {
		st = &keeperState{Keeper: Keeper{ID: catalog.NewID().String(), Kind: KeeperKubo, PeerID: id.ID, Added: w.now().UTC()}}
	}
	st.KuboAPI, st.Gateway, st.Swarm = c.URL(), strings.TrimRight(gatewayURL, "/"), id.Addresses
	st.Name = name
	if st.Name == "" {
		u, _ := url.Parse(c.URL())
		st.Name = "Kubo at " + u.Host
	}
	if err := w.putKeeper(st); err != nil {
		return Keeper{}, err
	}
	want, wantErr := w.livePackages()
	res := w.syncOne(ctx, nil, st, want, wantErr, true)
	return res.Keeper, nil
}

// Keepers lists this wallet's keepers and Kubo replicas as last seen (no
// network), oldest first.
func (w *Wallet) Keepers() ([]Keeper, error) {
	sts, err := w.keeperStates()
	out := make([]Keeper, len(sts))
	for i, s := range sts {
		out[i] = s.Keeper
	}
	return out, err
}

// RemoveKeeper stops a keeper keeping for this wallet: a healthwallet
// keeper deletes everything it held for it and forgets the enrolment; a
// Kubo replica unpins every package and collects its garbage. id is the
// keeper's id, a unique prefix of it, or its peer id. The keeper must
// answer; it stays listed otherwise.
func (w *Wallet) RemoveKeeper(ctx context.Context, id string) error {
	sts, err := w.keeperStates()
	if err != nil {
		return err
	}
	st, err := findByPrefix(sts, id, "keeper", func(s *keeperState) []string { return []string{s.ID, s.PeerID} })
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoKeeper, err)
	}
	rctx, cancel := context.WithTimeout(ctx, keeperDialTimeout)
	defer cancel()
	switch st.Kind {
	case KeeperKubo:
		c, err := kubo.NewClient(st.KuboAPI, nil)
		if err != nil {
			return err
		}
		for r := range st.Pushed {
			root, err := cid.Decode(r)
			if err != nil {
				continue
			}
			// A root already unpinned (by hand) is no failure.
			if err := c.Unpin(rctx, root); err != nil && !errors.Is(err, kubo.ErrAPI) {
				return fmt.Errorf("unpinning from %s: %w", st.Name, err)
			}
		}
		if err := c.GC(rctx); err != nil {
			return fmt.Errorf("collecting garbage on %s: %w", st.Name, err)
		}
	default:
		host, release, err := w.keeperHost(ctx)
		if err != nil {
			return err
		}
		defer release()
		ai, err := peer.AddrInfoFromString(st.Addr)
		if err != nil {
			return err
		}
		if err := (&keep.Client{Host: host.Host(), Keeper: *ai}).Remove(rctx); err != nil && !errors.Is(err, keep.ErrNotEnrolled) {
			return fmt.Errorf("removing from %s: %w", st.Name, err)
		}
	}
	id2, err := catalog.ParseID(st.ID)
	if err != nil {
		return err
	}
	cat, err := w.Catalog()
	if err != nil {
		return err
	}
	return cat.Delete(catalog.Keepers, id2)
}

// SyncKeepers brings every keeper up to date, all at once: it pushes the
// packages of live grants a keeper lacks, drops those of grants that
// expired or were revoked, and merges the keepers' access records into the
// access log (each once, with the keeper named). A keeper that cannot be
// reached is reported in its result; the error is only for the wallet's
// own failures.
func (w *Wallet) SyncKeepers(ctx context.Context) (KeeperSync, error) {
	return w.syncKeepers(ctx, nil)
}

// PushToKeepers pushes the packages of one issued grant to every keeper
// and Kubo replica, and says where the grant's packages are available
// (this wallet's node first).
func (w *Wallet) PushToKeepers(ctx context.Context, g GrantRecord) ([]Availability, error) {
	roots, err := w.grantRoots(g)
	if err != nil {
		return nil, err
	}
	s, err := w.syncKeepers(ctx, roots)
	if err != nil {
		return nil, err
	}
	out := []Availability{{Name: "this wallet's node", Kind: "node", OK: true}}
	for _, r := range s.Keepers {
		a := Availability{Name: r.Keeper.Name, Kind: r.Keeper.Kind, OK: r.Err == nil}
		if r.Err != nil {
			a.Error = r.Err.Error()
		}
		out = append(out, a)
	}
	return out, nil
}

// SyncKeepersEvery runs SyncKeepers now and every interval until ctx ends
// (`healthwallet node` runs it every 30 s), telling report each outcome.
func (w *Wallet) SyncKeepersEvery(ctx context.Context, every time.Duration, report func(KeeperSync, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if sts, err := w.keeperStates(); err != nil || len(sts) > 0 {
			s, err := w.SyncKeepers(ctx)
			if report != nil && ctx.Err() == nil {
				report(s, err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// KeeperProviders lists the provider multiaddrs a grant names besides this
// wallet's own node (DESIGN's roles 2 to 4): every keeper's address, this
// wallet's node through every keeper's relay
// (KEEPERADDR/p2p-circuit/p2p/SELF), and every Kubo replica's swarm
// addresses and gateway (/ip4/H/tcp/P/http, /dns/H/tcp/P/tls/http, …).
func (w *Wallet) KeeperProviders() ([]string, error) {
	sts, err := w.keeperStates()
	if err != nil {
		return nil, err
	}
	var direct, relayed, replicas []string
	for _, s := range sts {
		switch s.Kind {
		case KeeperNode:
			direct = append(direct, s.Addr)
			relayed = append(relayed, s.Addr+"/p2p-circuit/p2p/"+w.info.PeerID)
		case KeeperKubo:
			replicas = append(replicas, s.Swarm...)
			if s.Gateway != "" {
				if m, err := gatewayMultiaddr(s.Gateway); err == nil {
					replicas = append(replicas, m)
				}
			}
		}
	}
	return slices.Concat(direct, relayed, replicas), nil
}

// gatewayMultiaddr writes an HTTP(S) gateway URL as a multiaddr without
// /p2p: http://127.0.0.1:8080 is /ip4/127.0.0.1/tcp/8080/http, an https
// URL ends in /tls/http, a host name is /dns/NAME.
func gatewayMultiaddr(u string) (string, error) {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || (pu.Path != "" && pu.Path != "/") {
		return "", fmt.Errorf("gateway %q is not an http(s) URL of a gateway's root", u)
	}
	host, port := pu.Hostname(), pu.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[pu.Scheme]
	}
	var m string
	switch ip := net.ParseIP(host); {
	case ip == nil:
		m = "/dns/" + host
	case ip.To4() != nil:
		m = "/ip4/" + host
	default:
		m = "/ip6/" + host
	}
	m += "/tcp/" + port
	if pu.Scheme == "https" {
		m += "/tls"
	}
	m += "/http"
	if _, err := ma.NewMultiaddr(m); err != nil {
		return "", fmt.Errorf("gateway %q: %w", u, err)
	}
	return m, nil
}

// syncKeepers syncs every keeper; only, if not nil, limits the push to
// those roots and skips dropping and the access records (a grant's push).
func (w *Wallet) syncKeepers(ctx context.Context, only map[cid.Cid]int64) (KeeperSync, error) {
	sts, err := w.keeperStates()
	if err != nil || len(sts) == 0 {
		return KeeperSync{}, err
	}
	var host *ipfs.Node
	if slices.ContainsFunc(sts, func(s *keeperState) bool { return s.Kind == KeeperNode }) {
		var release func()
		if host, release, err = w.keeperHost(ctx); err != nil {
			return KeeperSync{}, err
		}
		defer release()
	}
	// What every keeper should hold, read once for all of them.
	want, wantErr := only, error(nil)
	if only == nil {
		want, wantErr = w.livePackages()
	}
	out := KeeperSync{Keepers: make([]KeeperResult, len(sts))}
	var wg sync.WaitGroup
	for i, st := range sts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out.Keepers[i] = w.syncOne(ctx, host, st, want, wantErr, only == nil)
		}()
	}
	wg.Wait()
	return out, nil
}

// syncOne syncs one keeper (see syncKeepers) and stores what it learnt:
// want is what the keeper should hold (wantErr why it is unknown); full
// also drops what it should not hold and pulls the access records.
func (w *Wallet) syncOne(ctx context.Context, host *ipfs.Node, st *keeperState, want map[cid.Cid]int64, wantErr error, full bool) KeeperResult {
	res := KeeperResult{}
	err := wantErr
	if err == nil {
		if st.Kind == KeeperKubo {
			err = w.syncKubo(ctx, st, want, full, &res)
		} else {
			err = w.syncKeeper(ctx, host, st, want, full, &res)
		}
	}
	st.Reachable = err == nil || !isUnreachable(err)
	st.LastError = ""
	if err != nil {
		st.LastError = err.Error()
	} else {
		st.LastSync = w.now().UTC()
	}
	if perr := w.putKeeper(st); perr != nil && err == nil {
		err = perr
	}
	res.Keeper, res.Err = st.Keeper, err
	return res
}

func isUnreachable(err error) bool {
	var u *keep.ErrUnreachable
	var urlErr *url.Error
	return errors.As(err, &u) || errors.As(err, &urlErr) || errors.Is(err, context.DeadlineExceeded)
}

// syncKeeper: have, put what is missing, drop what is stale, pull access.
func (w *Wallet) syncKeeper(ctx context.Context, host *ipfs.Node, st *keeperState, want map[cid.Cid]int64, full bool, res *KeeperResult) error {
	ai, err := peer.AddrInfoFromString(st.Addr)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, keeperDialTimeout)
	defer cancel()
	c := &keep.Client{Host: host.Host(), Keeper: *ai}
	items, err := c.Have(sctx)
	if err != nil {
		return err
	}
	held := map[cid.Cid]bool{}
	for _, it := range items {
		if r, err := it.CID(); err == nil {
			held[r] = true
		}
	}
	var missing []keep.Item
	var roots []cid.Cid
	for r, exp := range want {
		if !held[r] {
			missing = append(missing, keep.Item{Root: r.String(), Expires: exp})
			roots = append(roots, r)
		}
	}
	st.Pending = len(missing)
	if len(missing) > 0 {
		store, err := w.objectStore()
		if err != nil {
			return err
		}
		// The put may take long for large packages: no dial bound here.
		if err := c.Put(ctx, missing, func(wr io.Writer) error { return store.ExportCAR(ctx, wr, roots...) }); err != nil {
			st.Held = countHeld(want, held)
			return err
		}
		res.Pushed = len(missing)
		for _, r := range roots {
			held[r] = true
		}
		st.Pending = 0
	}
	if err := w.pushSHLEntries(ctx, c, st, held); err != nil {
		st.Held = countHeld(want, held)
		return err
	}
	if err := w.putLiveRecords(ctx, c, want); err != nil {
		return err
	}
	if full {
		var stale []cid.Cid
		for r := range held {
			if _, ok := want[r]; !ok {
				stale = append(stale, r)
			}
		}
		if len(stale) > 0 {
			dctx, cancel := context.WithTimeout(ctx, keeperDialTimeout)
			defer cancel()
			if err := c.Drop(dctx, stale); err != nil {
				return err
			}
			res.Dropped = len(stale)
			for _, r := range stale {
				delete(held, r)
			}
		}
		actx, cancel := context.WithTimeout(ctx, keeperDialTimeout)
		defer cancel()
		recs, err := c.Access(actx, st.LastSeq)
		n, merr := w.mergeAccess(st, recs)
		res.Records = n
		if err == nil {
			err = merr
		}
		if err != nil {
			return err
		}
	}
	st.Held = countHeld(want, held)
	return nil
}

func countHeld(want map[cid.Cid]int64, held map[cid.Cid]bool) int {
	n := 0
	for r := range want {
		if held[r] {
			n++
		}
	}
	return n
}

// syncKubo: push what was not pushed; unpin what is stale (then collect
// garbage).
func (w *Wallet) syncKubo(ctx context.Context, st *keeperState, want map[cid.Cid]int64, full bool, res *KeeperResult) error {
	c, err := kubo.NewClient(st.KuboAPI, nil)
	if err != nil {
		return err
	}
	if st.Pushed == nil {
		st.Pushed = map[string]int64{}
	}
	var missing []cid.Cid
	for r := range want {
		if _, ok := st.Pushed[r.String()]; !ok {
			missing = append(missing, r)
		}
	}
	st.Pending = len(missing)
	if len(missing) > 0 {
		store, err := w.objectStore()
		if err != nil {
			return err
		}
		if err := c.Push(ctx, store, missing...); err != nil {
			st.Held = len(want) - len(missing)
			return err
		}
		for _, r := range missing {
			st.Pushed[r.String()] = want[r]
		}
		res.Pushed, st.Pending = len(missing), 0
	}
	if full {
		var stale []cid.Cid
		for r := range st.Pushed {
			root, err := cid.Decode(r)
			if _, ok := want[root]; err == nil && !ok {
				stale = append(stale, root)
			}
		}
		if len(stale) > 0 {
			for _, r := range stale {
				if err := c.Unpin(ctx, r); err != nil && !errors.Is(err, kubo.ErrAPI) {
					return err
				}
				delete(st.Pushed, r.String())
			}
			if err := c.GC(ctx); err != nil {
				return err
			}
			res.Dropped = len(stale)
		}
	}
	st.Held = 0
	for r := range want {
		if _, ok := st.Pushed[r.String()]; ok {
			st.Held++
		}
	}
	return nil
}

// mergeAccess adds a keeper's access records to the access log, skipping
// any it holds already, and moves the keeper's LastSeq on.
func (w *Wallet) mergeAccess(st *keeperState, recs []keep.AccessRecord) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	log, err := w.AccessLog()
	if err != nil {
		return 0, err
	}
	have := map[uint64]bool{}
	for _, e := range log {
		if e.KeeperID == st.ID {
			have[e.KeeperSeq] = true
		}
	}
	cat, err := w.Catalog()
	if err != nil {
		return 0, err
	}
	n := 0
	err = cat.Update(func(tx *catalog.Tx) error {
		for _, r := range recs {
			if have[r.Seq] {
				continue
			}
			var e AccessEntry
			if err := json.Unmarshal(r.Entry, &e); err != nil {
				return fmt.Errorf("keeper %s: access record %d: %w", st.Name, r.Seq, err)
			}
			e.Keeper, e.KeeperID, e.KeeperSeq = st.Name, st.ID, r.Seq
			b, _ := json.Marshal(e)
			if err := tx.Put(catalog.AccessLog, catalog.NewID(), b); err != nil {
				return err
			}
			have[r.Seq] = true
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	st.LastSeq = max(st.LastSeq, recs[len(recs)-1].Seq)
	return n, nil
}

// livePackages maps the package roots of this wallet's live grants (issued
// by it, neither expired nor revoked nor being revoked) to when their
// grants end.
func (w *Wallet) livePackages() (map[cid.Cid]int64, error) {
	gs, err := w.Grants()
	if err != nil {
		return nil, err
	}
	now := w.now()
	out := map[cid.Cid]int64{}
	for _, g := range gs {
		if g.Direction != Issued || g.Links != 1 || !g.RevokedAt.IsZero() || !g.RevokePending.IsZero() || !now.Before(g.ExpiresAt) {
			continue
		}
		roots, err := w.grantRoots(g)
		if err != nil {
			return nil, err
		}
		for r, exp := range roots {
			out[r] = max(out[r], exp)
		}
	}
	// SMART Health Links: their JWE files.
	return out, w.liveSHLRoots(out)
}

// grantRoots maps the package roots of an issued grant to its expiry.
func (w *Wallet) grantRoots(g GrantRecord) (map[cid.Cid]int64, error) {
	objs := g.Objects
	if len(objs) == 0 && !g.Package.IsZero() {
		objs = []catalog.ID{g.Package}
	}
	out := map[cid.Cid]int64{}
	for _, id := range objs {
		ref, err := w.Object(id)
		if err != nil {
			return nil, fmt.Errorf("grant %s: %w", g.ID, err)
		}
		out[ref.Root] = g.ExpiresAt.Unix()
	}
	for _, r := range w.liveRoots(g) {
		out[r] = g.ExpiresAt.Unix()
	}
	return out, nil
}

func (w *Wallet) keeperStates() ([]*keeperState, error) {
	cat, err := w.Catalog()
	if err != nil {
		return nil, err
	}
	var out []*keeperState
	err = cat.ForEach(catalog.Keepers, func(id catalog.ID, v []byte) error {
		var s keeperState
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("keeper %s: %w", id, err)
		}
		s.ID = id.String()
		out = append(out, &s)
		return nil
	})
	slices.SortFunc(out, func(a, b *keeperState) int { return a.Added.Compare(b.Added) })
	return out, err
}

func (w *Wallet) keeperByPeer(p string) (*keeperState, error) {
	sts, err := w.keeperStates()
	if err != nil {
		return nil, err
	}
	for _, s := range sts {
		if s.PeerID == p {
			return s, nil
		}
	}
	return nil, ErrNoKeeper
}

func (w *Wallet) putKeeper(s *keeperState) error {
	id, err := catalog.ParseID(s.ID)
	if err != nil {
		return err
	}
	cat, err := w.Catalog()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(s)
	return cat.Put(catalog.Keepers, id, b)
}

func shortPeer(p string) string {
	if len(p) > 10 {
		return "…" + p[len(p)-8:]
	}
	return p
}

// keeperRelays are the relays of this wallet's node: its keepers. A wallet
// whose catalog cannot be read has none (the node still serves directly).
func (w *Wallet) keeperRelays() []peer.AddrInfo {
	ks, err := w.Keepers()
	if err != nil {
		return nil
	}
	var out []peer.AddrInfo
	for _, k := range ks {
		if k.Kind != KeeperNode {
			continue
		}
		if ai, err := peer.AddrInfoFromString(k.Addr); err == nil {
			out = append(out, *ai)
		}
	}
	return out
}

// keeperHost is the libp2p host that talks to keepers: this wallet's node
// when it serves in this process (the app, `healthwallet node`: no second
// host with the same peer id every sync, and the keeper sees the
// connection that holds the relay reservation), else a short-lived one on
// loopback. release closes only a host made here.
func (w *Wallet) keeperHost(ctx context.Context) (host *ipfs.Node, release func(), err error) {
	if s := localDeny.running(w.home); s != nil {
		return s.node, func() {}, nil
	}
	if host, err = w.startNode(ctx, ipfs.LoopbackListen, nil); err != nil {
		return nil, nil, err
	}
	return host, func() { host.Close() }, nil
}
