package wallet

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/live"
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
	// ProviderTimeout bounds presenting the grant to each provider (dial
	// and answer, all providers at once) and a gateway's first answer;
	// default DefaultProviderTimeout.
	ProviderTimeout time.Duration
	// StallTimeout is how long a fetch from one provider waits for the
	// next block before it moves on; default ipfs.DefaultStallTimeout. A
	// provider that closes the connection is left at once.
	StallTimeout time.Duration
}

// Redeemed is the result of a redemption.
type Redeemed struct {
	Record GrantRecord
	Chain  grant.Chain
	Bundle []byte
	// Provider is the multiaddr (with /p2p/PEER) or gateway URL that
	// served the package.
	Provider string
	// Via is how: ViaDirect, ViaRelay, ViaReplica or ViaGateway.
	Via string
}

// Redeem verifies a grant link addressed to this wallet (signatures, domain,
// time, delegation limits, revocation: fail closed), presents it with proof
// of possession to the patient's node, fetches the share package over
// bitswap, decrypts it, and records the grant as received. A package of
// several objects (one per group of records) is merged into one Bundle,
// with the Patient once.
//
// Once the grant is open, its errors come wrapped in a *SharedByError
// naming the issuer, for [Explain].
func (w *Wallet) Redeem(ctx context.Context, link string, chain ChainConfig, opts RedeemOptions) (_ *Redeemed, err error) {
	var sharer string
	defer func() {
		if err != nil && sharer != "" {
			err = &SharedByError{Sharer: sharer, Err: err}
		}
	}()
	keys, err := w.Keys()
	if err != nil {
		return nil, err
	}
	node, err := w.redeemNode(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer node.Close()
	if grant.IsBundleLink(link) {
		if link, err = openBundle(ctx, node, link, keys, providerTimeout(opts)); err != nil {
			return nil, err
		}
	}
	// A live grant's link carries its live name: the grant itself is the
	// part before #live=.
	link, liveName, isLive, err := live.SplitLink(link)
	if err != nil {
		return nil, err
	}
	c, err := grant.OpenLink(link, keys.PrivateKey())
	if err != nil {
		return nil, err
	}
	if len(c) > 0 {
		sharer = c[0].Issuer.Hex()
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
	if len(leaf.Packages) == 0 {
		return nil, fmt.Errorf("%w: the grant names no package", grant.ErrMalformed)
	}
	providers, err := providersOf(leaf.Providers)
	if err != nil {
		return nil, err
	}
	timeout := providerTimeout(opts)
	presentAll(ctx, node, providers.peers, c, keys.PrivateKey(), timeout)
	// A gated provider's "revoked" is final: a compliant verifier honours
	// it, and does not turn to replicas that cannot check the grant.
	for _, p := range providers.peers {
		if p.outcome == refused && revokedRefusal(p.err) {
			return nil, &RevokedByProviderError{Provider: p.name, Err: p.err}
		}
	}
	plan, failed := fetchPlan(node, providers)
	leafHash, err := leaf.Hash()
	if err != nil {
		return nil, err
	}
	old, oldErr := w.FindGrant(hex.EncodeToString(leafHash[:]))
	redeemedBefore := oldErr == nil && old.Direction == Received
	refs := make([]ipfs.ObjectRef, len(leaf.Packages))
	for i, p := range leaf.Packages {
		root, err := cid.Cast(p)
		if err != nil {
			return nil, fmt.Errorf("%w: package CID", grant.ErrMalformed)
		}
		refs[i] = ipfs.ObjectRef{Root: root, ID: pks[i].ObjectID, Key: pks[i].Key[:], Size: int64(pks[i].Size)}
	}
	parts, by, fetchFailed, err := fetchFirst(ctx, node, plan, refs, gatewayClient(timeout), opts.Progress)
	if err != nil {
		return nil, err
	}
	if parts == nil {
		return nil, &ProvidersError{Tried: append(failed, fetchFailed...)}
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
	var version *liveVersion
	if isLive {
		// The grant's package is the snapshot it was issued with; a live
		// grant's redeemer gets the newest version instead.
		if version, err = fetchLive(ctx, node, providers.peers, c, keys, liveName, 0, timeout); err != nil {
			return nil, err
		}
		if version == nil {
			return nil, fmt.Errorf("%w: no live version", live.ErrMalformed)
		}
		liveObj, err := w.recordObject(version.ref)
		if err != nil {
			return nil, err
		}
		if !pkgObj.IsZero() {
			w.DeleteObject(pkgObj)
		}
		if redeemedBefore && !old.Package.IsZero() && old.Package != pkgObj {
			w.DeleteObject(old.Package)
		}
		bundle, pkgObj, by = version.bundle, liveObj, version.by
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
	if version != nil {
		rec.Live, rec.LiveName, rec.LiveSeq, rec.LiveRoot = true, liveName.String(), version.env.Seq, version.env.Root.String()
	}
	if err := w.putGrant(rec); err != nil {
		return nil, err
	}
	return &Redeemed{Record: rec, Chain: c, Bundle: bundle, Provider: by.provider, Via: by.via}, nil
}

// openBundle fetches a key bundle (a long grant link stored as an object)
// and returns the link inside.
func openBundle(ctx context.Context, node *ipfs.Node, link string, keys *identity.Keys, timeout time.Duration) (string, error) {
	p, err := grant.OpenBundleLink(link, keys.PrivateKey())
	if err != nil {
		return "", err
	}
	root, err := cid.Cast(p.Root)
	if err != nil {
		return "", fmt.Errorf("%w: bundle CID", grant.ErrMalformed)
	}
	providers, err := providersOf(p.Providers)
	if err != nil {
		return "", err
	}
	// A key bundle is public (the patient's node serves it to anyone): no
	// grant to present, every peer is asked in the grant's order, then
	// every gateway.
	ref := ipfs.ObjectRef{Root: root, ID: p.ObjectID, Key: p.Key[:], Size: int64(p.Size)}
	plan := slices.Concat(providers.peers, providers.gateways)
	parts, _, failed, err := fetchFirst(ctx, node, plan, []ipfs.ObjectRef{ref}, gatewayClient(timeout), nil)
	if err != nil {
		return "", fmt.Errorf("fetching the grant's key bundle: %w", err)
	}
	if parts == nil {
		return "", fmt.Errorf("fetching the grant's key bundle: %w", &ProvidersError{Tried: append(providers.unusable, failed...)})
	}
	return string(parts[0]), nil
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

// redeemNode starts the redeemer's own node: this wallet's store and peer
// identity, serving nobody.
func (w *Wallet) redeemNode(ctx context.Context, opts RedeemOptions) (*ipfs.Node, error) {
	return w.startNodeWith(ctx, ipfs.NodeConfig{Listen: opts.Listen, StallTimeout: opts.StallTimeout})
}

func providerTimeout(opts RedeemOptions) time.Duration {
	if opts.ProviderTimeout > 0 {
		return opts.ProviderTimeout
	}
	return DefaultProviderTimeout
}
