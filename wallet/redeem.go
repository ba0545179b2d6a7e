package wallet

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/serve"
	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/fhir"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// OpenLink opens a grant link sealed to this wallet (as its grantee or its
// issuer). It does not verify the chain. A link for another wallet is
// grant.ErrNotAddressed.
func (w *Wallet) OpenLink(link string) (grant.Chain, error) {
	keys, err := w.Keys()
	if err != nil {
		return nil, err
	}
	return grant.OpenLink(link, keys.PrivateKey())
}

// RedeemOptions tune Redeem.
type RedeemOptions struct {
	// Out receives the shared FHIR Bundle.
	Out io.Writer
	// Progress follows the download.
	Progress ipfs.Progress
	// Listen overrides where the redeeming node listens (default loopback).
	Listen []string
	// SkipLocalChecks presents the grant to the patient's node without
	// verifying it here first (diagnostics: shows what the node decides).
	SkipLocalChecks bool
	// Export says the caller will save the Bundle outside the wallet (the
	// CLI's --out): the grant must then allow the Export operation, and a
	// view-only grant is refused before anything is fetched.
	Export bool
}

// Redeemed is the result of a redemption.
type Redeemed struct {
	Record GrantRecord
	Chain  grant.Chain
	Bundle []byte
}

// Redeem verifies a grant link addressed to this wallet (signatures, domain,
// time, delegation limits, revocation: fail closed), presents it with proof
// of possession to the patient's node, fetches the share package over
// bitswap, decrypts it, and records the grant as received. A package of
// several objects (one per group of records) is merged into one Bundle,
// with the Patient once.
func (w *Wallet) Redeem(ctx context.Context, link string, chain ChainConfig, opts RedeemOptions) (*Redeemed, error) {
	keys, err := w.Keys()
	if err != nil {
		return nil, err
	}
	node, err := w.startNode(ctx, opts.Listen, nil)
	if err != nil {
		return nil, err
	}
	defer node.Close()
	if grant.IsBundleLink(link) {
		if link, err = openBundle(ctx, node, link, keys); err != nil {
			return nil, err
		}
	}
	c, err := grant.OpenLink(link, keys.PrivateKey())
	if err != nil {
		return nil, err
	}
	conn, err := w.connect(ctx, chain)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ops := grant.Read
	if opts.Export {
		ops |= grant.Export
	}
	_, err = grant.Verify(ctx, c, conn.policy(w.now), grant.Request{Holder: keys.PublicKey(), Operations: ops})
	if err != nil && !opts.SkipLocalChecks {
		return nil, err
	}
	leaf := c.Leaf()
	core, err := leaf.CoreHash()
	if err != nil {
		return nil, err
	}
	pks, err := grant.Unwrap(keys.PrivateKey(), core, leaf.WrappedKey)
	if err != nil {
		return nil, err
	}
	if len(pks) != len(leaf.Packages) {
		return nil, fmt.Errorf("%w: %d keys for %d packages", grant.ErrMalformed, len(pks), len(leaf.Packages))
	}
	providers, err := providerInfos(leaf.Providers)
	if err != nil {
		return nil, err
	}
	var presentErr error
	var served []peer.AddrInfo
	for _, p := range providers {
		if _, err := serve.Present(ctx, node.Host(), p, c, keys.PrivateKey()); err != nil {
			presentErr = err
			continue
		}
		served = append(served, p)
	}
	if len(served) == 0 {
		if presentErr == nil {
			presentErr = errors.New("the grant names no node to fetch from")
		}
		return nil, presentErr
	}
	leafHash, err := leaf.Hash()
	if err != nil {
		return nil, err
	}
	old, oldErr := w.FindGrant(hex.EncodeToString(leafHash[:]))
	redeemedBefore := oldErr == nil && old.Direction == Received
	parts := make([][]byte, len(leaf.Packages))
	refs := make([]ipfs.ObjectRef, len(leaf.Packages))
	// Progress over every object together.
	var fetched, total int64
	for _, k := range pks {
		total += int64(k.Size)
	}
	var progress ipfs.Progress
	if opts.Progress != nil {
		progress = func(done, _ int64) { opts.Progress(fetched+done, total) }
	}
	for i, p := range leaf.Packages {
		root, err := cid.Cast(p)
		if err != nil {
			return nil, fmt.Errorf("%w: package CID", grant.ErrMalformed)
		}
		refs[i] = ipfs.ObjectRef{Root: root, ID: pks[i].ObjectID, Key: pks[i].Key[:], Size: int64(pks[i].Size)}
		var buf bytes.Buffer
		if err := node.Fetch(ctx, refs[i], served, &buf, progress); err != nil {
			return nil, err
		}
		parts[i], fetched = buf.Bytes(), fetched+refs[i].Size
	}
	var bundle []byte
	var pkgObj catalog.ID
	switch len(parts) {
	case 0:
		return nil, fmt.Errorf("%w: the grant names no package", grant.ErrMalformed)
	case 1:
		bundle = parts[0]
		if redeemedBefore {
			if prev, err := w.Object(old.Package); err == nil && prev.Root == refs[0].Root {
				pkgObj = old.Package // redeemed before: keep the one entry
				break
			}
		}
		if pkgObj, err = w.recordObject(refs[0]); err != nil {
			return nil, err
		}
	default:
		// One object per group of records: merge them into the one Bundle
		// the grant shares, and keep that (encrypted) in this wallet.
		merged, err := fhir.Merge(parts)
		if err != nil {
			return nil, err
		}
		if bundle, err = merged.JSON(); err != nil {
			return nil, err
		}
		if pkgObj, _, err = w.PutObject(ctx, bytes.NewReader(bundle), int64(len(bundle)), nil); err != nil {
			return nil, err
		}
		if redeemedBefore && old.Package != (catalog.ID{}) {
			w.DeleteObject(old.Package) // the Bundle of the previous redemption
		}
	}
	if opts.Out != nil {
		if _, err := opts.Out.Write(bundle); err != nil {
			return nil, err
		}
	}
	nb, exp := leaf.Window()
	rec := GrantRecord{
		ID: catalog.NewID(), Direction: Received, Hash: hex.EncodeToString(leafHash[:]), Link: link,
		Issuer: c[0].Issuer.Hex(), Grantee: keys.DID(), Package: pkgObj, NotBefore: nb, ExpiresAt: exp,
		Operations: leaf.Operations.String(), Depth: leaf.Depth, Links: len(c), Created: w.now().UTC(),
		Summary: grantSummary(leaf, 0),
	}
	if redeemedBefore {
		rec.ID, rec.Created = old.ID, old.Created
	}
	if err := w.putGrant(rec); err != nil {
		return nil, err
	}
	return &Redeemed{Record: rec, Chain: c, Bundle: bundle}, nil
}

// openBundle fetches a key bundle (a long grant link stored as an object)
// and returns the link inside.
func openBundle(ctx context.Context, node *ipfs.Node, link string, keys *identity.Keys) (string, error) {
	p, err := grant.OpenBundleLink(link, keys.PrivateKey())
	if err != nil {
		return "", err
	}
	root, err := cid.Cast(p.Root)
	if err != nil {
		return "", fmt.Errorf("%w: bundle CID", grant.ErrMalformed)
	}
	providers, err := providerInfos(p.Providers)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	ref := ipfs.ObjectRef{Root: root, ID: p.ObjectID, Key: p.Key[:], Size: int64(p.Size)}
	if err := node.Fetch(ctx, ref, providers, &buf, nil); err != nil {
		return "", fmt.Errorf("fetching the grant's key bundle: %w", err)
	}
	return buf.String(), nil
}

// recordObject records a fetched object in the catalog so GC keeps it.
func (w *Wallet) recordObject(ref ipfs.ObjectRef) (catalog.ID, error) {
	cat, err := w.Catalog()
	if err != nil {
		return catalog.ID{}, err
	}
	b, _ := json.Marshal(ref)
	id := catalog.NewID()
	return id, cat.Put(catalog.Objects, id, b)
}

func providerInfos(ps [][]byte) ([]peer.AddrInfo, error) {
	var addrs []string
	for _, p := range ps {
		m, err := multiaddrString(p)
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, m)
	}
	var out []peer.AddrInfo
	for _, a := range addrs {
		ai, err := peer.AddrInfoFromString(a)
		if err != nil {
			return nil, fmt.Errorf("%w: provider address: %v", grant.ErrMalformed, err)
		}
		out = append(out, *ai)
	}
	// Merge addresses of the same peer.
	merged := map[peer.ID]*peer.AddrInfo{}
	var order []peer.ID
	for _, ai := range out {
		if m, ok := merged[ai.ID]; ok {
			m.Addrs = append(m.Addrs, ai.Addrs...)
			continue
		}
		cp := ai
		merged[ai.ID] = &cp
		order = append(order, ai.ID)
	}
	res := make([]peer.AddrInfo, len(order))
	for i, id := range order {
		res[i] = *merged[id]
	}
	return res, nil
}
