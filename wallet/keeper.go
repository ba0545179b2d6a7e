package wallet

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/keep"
	"github.com/healthwallet/healthwallet/share/serve"
	"github.com/healthwallet/healthwallet/share/shl"
	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// KeeperConfig configures Keep.
type KeeperConfig struct {
	// Listen lists multiaddrs; nil means ipfs.DefaultListen.
	Listen []string
	// Chain is where grants are checked for revocation; required: a keeper
	// without a chain would refuse every grant, so it does not start.
	Chain ChainConfig
	// RefreshEvery is how often open sessions are re-checked for
	// revocation; default DefaultRefreshEvery.
	RefreshEvery time.Duration
	// SweepEvery is how often expired packages are dropped; default
	// DefaultSweepEvery.
	SweepEvery time.Duration
	// OnError is told of failures no request reports (an access record
	// that could not be written, a sweep that failed). Nil ignores them.
	OnError func(error)

	// SHLEndpoint is the keeper's SMART Health Link endpoint: with none
	// of its fields set the keeper serves no SHLs (and refuses them).
	SHLEndpoint
}

// DefaultSweepEvery is how often a keeper drops the packages whose grants
// expired.
const DefaultSweepEvery = time.Minute

// Keeping is a running keeper: this wallet's node keeping and serving the
// share packages of the patients that enrolled it.
type Keeping struct {
	node   *ipfs.Node
	grants *serve.Server
	kept   *keptStore
	shl    *shlEndpoint // nil: serves no SHLs
	conn   *chainConn
	cancel context.CancelFunc
	done   chan struct{}
}

// Keep runs this wallet as a keeper (package keep): patients enrol it and
// put their encrypted share packages on it, and it serves them to grantees
// exactly as a patient's own node would (grant verification with the
// patient as root issuer, proof of possession, the revocation mirror
// failing closed, the per-block bitswap gate), for each patient only what
// that patient put. It records every presentation for the patient to pull.
// It holds ciphertext only: the package keys travel only in grants.
func (w *Wallet) Keep(ctx context.Context, cfg KeeperConfig) (*Keeping, error) {
	if cfg.Chain.RPC == "" {
		return nil, fmt.Errorf("%w: a keeper checks every grant against the chain", ErrNoChain)
	}
	listen := cfg.Listen
	if listen == nil {
		listen = ipfs.DefaultListen
	}
	store, err := w.objectStore()
	if err != nil {
		return nil, err
	}
	kept, err := w.openKeptStore(store, cfg.OnError)
	if err != nil {
		return nil, err
	}
	k := &Keeping{kept: kept, done: make(chan struct{})}
	if k.conn, err = w.connect(ctx, cfg.Chain); err != nil {
		return nil, err
	}
	gate := &eitherGate{}
	// The keeper offers a circuit relay (ipfs.DefaultRelayLimits) and
	// AutoNAT to the patients that enrolled it, and to no one else: a
	// patient's phone behind NAT reserves a slot here and grantees reach it
	// through the keeper.
	relayClients := func(p peer.ID) bool { _, ok := kept.Patient(p); return ok }
	if k.node, err = w.startNodeWith(ctx, ipfs.NodeConfig{Listen: listen, Gate: gate, RelayService: true, RelayClients: relayClients}); err != nil {
		k.conn.Close()
		return nil, err
	}
	k.grants = serve.NewKeeperServer(k.node.Host(), kept, k.conn.policy(w.now), kept.recordAccess)
	k.grants.ServeLive(kept)
	gate.add(k.grants)
	if cfg.wantsSHL() {
		if k.shl, err = w.startSHL(ctx, cfg.SHLEndpoint, func(base string) http.Handler {
			return shl.NewServer(keptSHLs{kept}, shlRevocations{k.conn.mirror}, shl.ServerOptions{BaseURL: base, Now: w.now})
		}); err != nil {
			k.node.Close()
			k.conn.Close()
			return nil, err
		}
		kept.shlURL = k.shl.url
	}
	ks := keep.NewServer(k.node.Host(), kept)
	ks.OnError = kept.report
	refresh, sweep := cfg.RefreshEvery, cfg.SweepEvery
	if refresh <= 0 {
		refresh = DefaultRefreshEvery
	}
	if sweep <= 0 {
		sweep = DefaultSweepEvery
	}
	kept.sweep(ctx)
	rctx, cancel := context.WithCancel(context.Background())
	k.cancel = cancel
	go func() {
		defer close(k.done)
		rt, st := time.NewTicker(refresh), time.NewTicker(sweep)
		defer rt.Stop()
		defer st.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-rt.C:
				k.grants.Refresh(rctx)
			case <-st.C:
				kept.sweep(rctx)
			}
		}
	}()
	return k, nil
}

// Addrs returns the keeper's multiaddrs (with /p2p/): what a patient gives
// `keepers add`.
func (k *Keeping) Addrs() []string {
	var out []string
	for _, a := range k.node.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// PeerID is the keeper's libp2p peer id.
func (k *Keeping) PeerID() string { return k.node.ID().String() }

// Sessions is how many grant sessions are open.
func (k *Keeping) Sessions() int { return k.grants.Sessions() }

// BlockStats counts blocks served and block requests refused.
func (k *Keeping) BlockStats() (served, refused int64) { return k.node.Stats() }

// Patients is how many patients are enrolled.
func (k *Keeping) Patients() int {
	k.kept.mu.RLock()
	defer k.kept.mu.RUnlock()
	return len(k.kept.patients)
}

// SHLURL is the base URL of the keeper's SMART Health Link endpoint ("":
// it serves none); patients put manifest URLs under it in their links.
func (k *Keeping) SHLURL() string {
	if k.shl == nil {
		return ""
	}
	return k.shl.url
}

// Close stops the keeper.
func (k *Keeping) Close() error {
	k.cancel()
	<-k.done
	if k.shl != nil {
		k.shl.close()
	}
	err := k.node.Close()
	k.conn.Close()
	return err
}

// keptPatient is a keeper's catalog entry for an enrolled patient.
type keptPatient struct {
	Enrolment keep.Enrolment `json:"enrolment"`
	LastSeq   uint64         `json:"lastSeq"` // of its newest access record
}

// keptPackage is a keeper's catalog entry for a root held for a patient.
type keptPackage struct {
	Patient common.Address `json:"patient"`
	Root    string         `json:"root"`
	Expires int64          `json:"expires"`
}

// keptAccess is a keeper's access record for a patient.
type keptAccess struct {
	Patient common.Address  `json:"patient"`
	Seq     uint64          `json:"seq"`
	Entry   json.RawMessage `json:"entry"` // an AccessEntry
}

type heldRoot struct {
	id      catalog.ID
	expires int64
}

// keptStore is a keeper's state: the catalog holds it, memory mirrors it
// for the gate (serve.Holdings is asked per block). It implements
// keep.Store and serve.Holdings.
type keptStore struct {
	w       *Wallet
	store   *ipfs.Store
	onError func(error)

	// gc is held for reading while blocks are imported and their roots not
	// yet recorded, and for writing while garbage is collected, so a
	// collection never takes a put's blocks.
	gc sync.RWMutex
	// seq serialises access records (their sequence numbers).
	seq sync.Mutex

	// shlURL is the HTTPS base URL of the keeper's SHL endpoint ("":
	// none); shlMu guards shls, lives and their catalog entries.
	shlURL string
	shlMu  sync.Mutex
	shls   map[string]shlRef
	lives  map[liveKey]catalog.ID

	mu       sync.RWMutex
	patients map[common.Address]catalog.ID
	peers    map[peer.ID]common.Address
	held     map[common.Address]map[cid.Cid]heldRoot
}

func (w *Wallet) openKeptStore(store *ipfs.Store, onError func(error)) (*keptStore, error) {
	cat, err := w.Catalog()
	if err != nil {
		return nil, err
	}
	k := &keptStore{w: w, store: store, onError: onError, patients: map[common.Address]catalog.ID{},
		peers: map[peer.ID]common.Address{}, held: map[common.Address]map[cid.Cid]heldRoot{}}
	err = cat.ForEach(catalog.KeptPatients, func(id catalog.ID, v []byte) error {
		var p keptPatient
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("kept patient %s: %w", id, err)
		}
		k.patients[p.Enrolment.Patient] = id
		k.peers[p.Enrolment.PatientPeer] = p.Enrolment.Patient
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = cat.ForEach(catalog.KeptPackages, func(id catalog.ID, v []byte) error {
		var p keptPackage
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("kept package %s: %w", id, err)
		}
		c, err := cid.Decode(p.Root)
		if err != nil {
			return fmt.Errorf("kept package %s: %w", id, err)
		}
		k.holdLocked(p.Patient, c, heldRoot{id, p.Expires})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return k, k.loadKept(cat)
}

func (k *keptStore) holdLocked(p common.Address, c cid.Cid, h heldRoot) {
	m := k.held[p]
	if m == nil {
		m = map[cid.Cid]heldRoot{}
		k.held[p] = m
	}
	m[c] = h
}

func (k *keptStore) report(err error) {
	if k.onError != nil {
		k.onError(err)
	}
}

// keptRoots lists the roots a keeper's catalog holds for patients, so the
// wallet's GC keeps them.
func keptRoots(cat *catalog.Catalog) ([]cid.Cid, error) {
	var out []cid.Cid
	err := cat.ForEach(catalog.KeptPackages, func(_ catalog.ID, v []byte) error {
		var p keptPackage
		if json.Unmarshal(v, &p) != nil {
			return nil // not a root: nothing to keep
		}
		if c, err := cid.Decode(p.Root); err == nil {
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// Enrolled implements serve.Holdings.
func (k *keptStore) Enrolled(p common.Address) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	_, ok := k.patients[p]
	return ok
}

// Holds implements serve.Holdings: root is held for p and has not expired.
func (k *keptStore) Holds(p common.Address, root cid.Cid) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	h, ok := k.held[p][root]
	return ok && k.w.now().Unix() < h.expires
}

// Patient implements keep.Store.
func (k *keptStore) Patient(p peer.ID) (common.Address, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	a, ok := k.peers[p]
	return a, ok
}

// Enrol implements keep.Store.
func (k *keptStore) Enrol(_ context.Context, e keep.Enrolment) error {
	cat, err := k.w.Catalog()
	if err != nil {
		return err
	}
	k.seq.Lock()
	defer k.seq.Unlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	rec := keptPatient{Enrolment: e}
	id, ok := k.patients[e.Patient]
	if ok {
		if b, err := cat.Get(catalog.KeptPatients, id); err == nil {
			var old keptPatient
			if json.Unmarshal(b, &old) == nil {
				rec.LastSeq = old.LastSeq
				delete(k.peers, old.Enrolment.PatientPeer)
			}
		}
	} else {
		id = catalog.NewID()
	}
	b, _ := json.Marshal(rec)
	if err := cat.Put(catalog.KeptPatients, id, b); err != nil {
		return err
	}
	k.patients[e.Patient], k.peers[e.PatientPeer] = id, e.Patient
	return nil
}

// Put implements keep.Store: the CAR's blocks are checked against their
// CIDs as they are stored (ipfs.Store.ImportCAR), and every item's DAG must
// then be complete in the store.
func (k *keptStore) Put(ctx context.Context, p common.Address, items []keep.Item, car io.Reader) error {
	k.gc.RLock()
	defer k.gc.RUnlock()
	if _, err := k.store.ImportCAR(ctx, car); err != nil {
		return err
	}
	cat, err := k.w.Catalog()
	if err != nil {
		return err
	}
	for _, it := range items {
		c, err := it.CID()
		if err != nil {
			return err
		}
		if ok, err := k.store.Has(ctx, c); err != nil || !ok {
			return fmt.Errorf("%w: root %s: DAG incomplete", ipfs.ErrBadCAR, c)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, it := range items {
		c, _ := it.CID()
		h, ok := k.held[p][c]
		if !ok {
			h.id = catalog.NewID()
		}
		h.expires = max(h.expires, it.Expires)
		b, _ := json.Marshal(keptPackage{Patient: p, Root: c.String(), Expires: h.expires})
		if err := cat.Put(catalog.KeptPackages, h.id, b); err != nil {
			return err
		}
		k.holdLocked(p, c, h)
	}
	return nil
}

// Held implements keep.Store.
func (k *keptStore) Held(_ context.Context, p common.Address) ([]keep.Item, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var out []keep.Item
	for c, h := range k.held[p] {
		out = append(out, keep.Item{Root: c.String(), Expires: h.expires})
	}
	slices.SortFunc(out, func(a, b keep.Item) int { return cmp.Compare(a.Root, b.Root) })
	return out, nil
}

// Drop implements keep.Store.
func (k *keptStore) Drop(ctx context.Context, p common.Address, roots []cid.Cid) error {
	if err := k.forget(p, func(c cid.Cid, _ heldRoot) bool { return slices.Contains(roots, c) }); err != nil {
		return err
	}
	if err := k.pruneKept(p, false); err != nil {
		return err
	}
	return k.collect(ctx)
}

// forget stops holding p's roots that gone says are gone.
func (k *keptStore) forget(p common.Address, gone func(cid.Cid, heldRoot) bool) error {
	cat, err := k.w.Catalog()
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for c, h := range k.held[p] {
		if !gone(c, h) {
			continue
		}
		if err := cat.Delete(catalog.KeptPackages, h.id); err != nil {
			return err
		}
		delete(k.held[p], c)
	}
	if len(k.held[p]) == 0 {
		delete(k.held, p)
	}
	return nil
}

// collect deletes the blocks no held root (of any patient) and no object
// of the keeper's own wallet needs.
func (k *keptStore) collect(ctx context.Context) error {
	k.gc.Lock()
	defer k.gc.Unlock()
	_, err := k.w.GC(ctx)
	return err
}

// Remove implements keep.Store.
func (k *keptStore) Remove(ctx context.Context, p common.Address) error {
	if err := k.forget(p, func(cid.Cid, heldRoot) bool { return true }); err != nil {
		return err
	}
	if err := k.pruneKept(p, true); err != nil {
		return err
	}
	cat, err := k.w.Catalog()
	if err != nil {
		return err
	}
	k.seq.Lock()
	var ids []catalog.ID
	err = cat.ForEach(catalog.KeptAccess, func(id catalog.ID, v []byte) error {
		var a keptAccess
		if json.Unmarshal(v, &a) == nil && a.Patient == p {
			ids = append(ids, id)
		}
		return nil
	})
	if err == nil {
		err = cat.Update(func(tx *catalog.Tx) error {
			return deleteAll(tx, ids, k.patientID(p))
		})
	}
	if err == nil {
		k.mu.Lock()
		delete(k.patients, p)
		for q, a := range k.peers {
			if a == p {
				delete(k.peers, q)
			}
		}
		k.mu.Unlock()
	}
	k.seq.Unlock()
	if err != nil {
		return err
	}
	return k.collect(ctx)
}

// patientID is p's entry in KeptPatients (zero if none).
func (k *keptStore) patientID(p common.Address) catalog.ID {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.patients[p]
}

// deleteAll deletes a patient's access records and its enrolment.
func deleteAll(tx *catalog.Tx, access []catalog.ID, patient catalog.ID) error {
	for _, id := range access {
		if err := tx.Delete(catalog.KeptAccess, id); err != nil {
			return err
		}
	}
	if patient.IsZero() {
		return nil
	}
	return tx.Delete(catalog.KeptPatients, patient)
}

// Access implements keep.Store.
func (k *keptStore) Access(_ context.Context, p common.Address, after uint64, limit int) ([]keep.AccessRecord, bool, error) {
	cat, err := k.w.Catalog()
	if err != nil {
		return nil, false, err
	}
	var out []keep.AccessRecord
	err = cat.ForEach(catalog.KeptAccess, func(_ catalog.ID, v []byte) error {
		var a keptAccess
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		if a.Patient == p && a.Seq > after {
			out = append(out, keep.AccessRecord{Seq: a.Seq, Entry: a.Entry})
		}
		return nil
	})
	slices.SortFunc(out, func(a, b keep.AccessRecord) int { return cmp.Compare(a.Seq, b.Seq) })
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, err
}

// LastSeq implements keep.Store.
func (k *keptStore) LastSeq(_ context.Context, p common.Address) (uint64, error) {
	rec, _, err := k.patient(p)
	return rec.LastSeq, err
}

func (k *keptStore) patient(p common.Address) (keptPatient, catalog.ID, error) {
	cat, err := k.w.Catalog()
	if err != nil {
		return keptPatient{}, catalog.ID{}, err
	}
	k.mu.RLock()
	id, ok := k.patients[p]
	k.mu.RUnlock()
	if !ok {
		return keptPatient{}, id, keep.ErrNotEnrolled
	}
	b, err := cat.Get(catalog.KeptPatients, id)
	if err != nil {
		return keptPatient{}, id, err
	}
	var rec keptPatient
	return rec, id, json.Unmarshal(b, &rec)
}

// recordAccess is the grant server's access callback: a presentation
// concerning an enrolled patient becomes that patient's next record.
func (k *keptStore) recordAccess(a serve.Access) {
	k.appendAccess(a.Patient, accessEntryOf(a))
}

// appendAccess makes e enrolled patient p's next access record.
func (k *keptStore) appendAccess(p common.Address, e AccessEntry) {
	if !k.Enrolled(p) {
		return // no patient to tell: a chain of a stranger
	}
	k.seq.Lock()
	defer k.seq.Unlock()
	rec, id, err := k.patient(p)
	if err != nil {
		k.report(fmt.Errorf("access record: %w", err))
		return
	}
	cat, err := k.w.Catalog()
	if err != nil {
		k.report(fmt.Errorf("access record: %w", err))
		return
	}
	entry, _ := json.Marshal(e)
	rec.LastSeq++
	b, _ := json.Marshal(keptAccess{Patient: p, Seq: rec.LastSeq, Entry: entry})
	pb, _ := json.Marshal(rec)
	err = cat.Update(func(tx *catalog.Tx) error {
		if err := tx.Put(catalog.KeptAccess, catalog.NewID(), b); err != nil {
			return err
		}
		return tx.Put(catalog.KeptPatients, id, pb)
	})
	if err != nil {
		k.report(fmt.Errorf("access record: %w", err))
	}
}

// sweep drops every package whose expiry passed.
func (k *keptStore) sweep(ctx context.Context) {
	now := k.w.now().Unix()
	k.shlMu.Lock()
	withSHLs := map[common.Address]bool{}
	for _, ref := range k.shls {
		withSHLs[ref.patient] = true
	}
	k.shlMu.Unlock()
	for p := range withSHLs {
		if err := k.pruneKept(p, false); err != nil {
			k.report(fmt.Errorf("dropping expired SHLs: %w", err))
		}
	}
	k.mu.RLock()
	var patients []common.Address
	for p, m := range k.held {
		for _, h := range m {
			if h.expires <= now {
				patients = append(patients, p)
				break
			}
		}
	}
	k.mu.RUnlock()
	if len(patients) == 0 {
		return
	}
	for _, p := range patients {
		if err := k.forget(p, func(_ cid.Cid, h heldRoot) bool { return h.expires <= now }); err != nil {
			k.report(fmt.Errorf("dropping expired packages: %w", err))
			return
		}
		if err := k.pruneKept(p, false); err != nil {
			k.report(fmt.Errorf("dropping expired SHLs: %w", err))
			return
		}
	}
	if err := k.collect(ctx); err != nil && !errors.Is(err, context.Canceled) {
		k.report(fmt.Errorf("dropping expired packages: %w", err))
	}
}
