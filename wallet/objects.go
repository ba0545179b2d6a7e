package wallet

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// objectStore returns the open block store, or ErrLocked.
func (w *Wallet) objectStore() (*ipfs.Store, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.store == nil {
		return nil, ErrLocked
	}
	return w.store, nil
}

// PeerKey returns the node's libp2p identity key, or ErrLocked.
func (w *Wallet) PeerKey() (crypto.PrivKey, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.peerKey == nil {
		return nil, ErrLocked
	}
	return w.peerKey, nil
}

// PutObject encrypts size bytes of content into the block store and records
// its reference (with its key) in the catalog.
func (w *Wallet) PutObject(ctx context.Context, content io.Reader, size int64, progress ipfs.Progress) (catalog.ID, ipfs.ObjectRef, error) {
	store, err := w.objectStore()
	if err != nil {
		return catalog.ID{}, ipfs.ObjectRef{}, err
	}
	cat, err := w.Catalog()
	if err != nil {
		return catalog.ID{}, ipfs.ObjectRef{}, err
	}
	ref, err := store.Import(ctx, content, size, progress)
	if err != nil {
		return catalog.ID{}, ipfs.ObjectRef{}, err
	}
	b, err := json.Marshal(ref)
	if err != nil {
		return catalog.ID{}, ipfs.ObjectRef{}, err
	}
	id := catalog.NewID()
	if err := cat.Put(catalog.Objects, id, b); err != nil {
		return catalog.ID{}, ipfs.ObjectRef{}, err
	}
	return id, ref, nil
}

// Object returns the reference recorded under id.
func (w *Wallet) Object(id catalog.ID) (ipfs.ObjectRef, error) {
	cat, err := w.Catalog()
	if err != nil {
		return ipfs.ObjectRef{}, err
	}
	b, err := cat.Get(catalog.Objects, id)
	if err != nil {
		return ipfs.ObjectRef{}, err
	}
	var ref ipfs.ObjectRef
	if err := json.Unmarshal(b, &ref); err != nil {
		return ipfs.ObjectRef{}, fmt.Errorf("object %s: %w", id, err)
	}
	return ref, nil
}

// ReadObject decrypts the object recorded under id into out.
func (w *Wallet) ReadObject(ctx context.Context, id catalog.ID, out io.Writer, progress ipfs.Progress) error {
	ref, err := w.Object(id)
	if err != nil {
		return err
	}
	store, err := w.objectStore()
	if err != nil {
		return err
	}
	return store.Export(ctx, ref, out, progress)
}

// DeleteObject forgets the object recorded under id; the next GC reclaims
// its blocks.
func (w *Wallet) DeleteObject(id catalog.ID) error {
	cat, err := w.Catalog()
	if err != nil {
		return err
	}
	return cat.Delete(catalog.Objects, id)
}

// ObjectRoots returns the DAG roots of every object the catalog references.
func (w *Wallet) ObjectRoots() ([]cid.Cid, error) {
	cat, err := w.Catalog()
	if err != nil {
		return nil, err
	}
	var roots []cid.Cid
	err = cat.ForEach(catalog.Objects, func(id catalog.ID, v []byte) error {
		var ref ipfs.ObjectRef
		if err := json.Unmarshal(v, &ref); err != nil {
			return fmt.Errorf("object %s: %w", id, err)
		}
		roots = append(roots, ref.Root)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// A keeper's wallet also keeps the packages it holds for patients.
	kept, err := keptRoots(cat)
	if err != nil {
		return nil, err
	}
	// SMART Health Links: their JWE files (plain files of ciphertext).
	links, err := shlRoots(cat)
	if err != nil {
		return nil, err
	}
	// A patient's wallet keeps the envelopes of its live grants' versions.
	envs, err := w.liveEnvelopeRoots()
	return slices.Concat(roots, kept, links, envs), err
}

// GC deletes every block no catalog-referenced object needs.
func (w *Wallet) GC(ctx context.Context) (ipfs.GCResult, error) {
	roots, err := w.ObjectRoots()
	if err != nil {
		return ipfs.GCResult{}, err
	}
	store, err := w.objectStore()
	if err != nil {
		return ipfs.GCResult{}, err
	}
	return store.GC(ctx, roots)
}
