package wallet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/live"
	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// GrantRequest says what to share with whom.
type GrantRequest struct {
	To        string // grantee did:key
	Selection Selection
	Duration  time.Duration
	// Delegable is how many further delegations the grantee may make (0:
	// none).
	Delegable uint8
	// Providers are the multiaddrs (with /p2p/) where the grantee fetches
	// the package: this wallet's node.
	Providers []string
	// ViewOnly leaves out the Export operation: the grantee may read the
	// records in its wallet but not save the Bundle outside it.
	ViewOnly bool
	// Live makes a live grant: it follows Selection as records arrive
	// (RefreshLive publishes each new version), and its link carries the
	// grant's live name (#live=). A live grant cannot be delegated.
	Live bool
}

// IssuedGrant is a freshly signed grant.
type IssuedGrant struct {
	Record GrantRecord
	Chain  grant.Chain
	Link   string
}

// Limits of issuance.
const (
	MaxGrantDuration = 366 * 24 * time.Hour
	MinGrantDuration = time.Minute
)

// ErrGrantDuration: a grant would last less than MinGrantDuration or more
// than MaxGrantDuration.
var ErrGrantDuration = errors.New("a grant lasts between 1 minute and 366 days")

// IssueGrant builds the share package, stores it encrypted, and signs a
// grant for it on the given chain's domain. It does not need the chain to
// be reachable.
//
// The package is stored as one object per group of records (category and
// sensitive labels; see shareObjects), each with its own key. The grant
// names every object; the wrapped keys say, encrypted to the grantee,
// which object holds which group, so a re-share can hand on only part of
// them (Delegate).
func (w *Wallet) IssueGrant(ctx context.Context, req GrantRequest, chain ChainConfig) (*IssuedGrant, error) {
	if chain.ChainID == 0 || chain.Registry == (common.Address{}) {
		return nil, ErrNoChain
	}
	granteeKey, err := identity.ParseDIDKey(req.To)
	if err != nil {
		return nil, err
	}
	if req.Duration < MinGrantDuration || req.Duration > MaxGrantDuration {
		return nil, ErrGrantDuration
	}
	providers, err := parseProviders(req.Providers)
	if err != nil {
		return nil, err
	}
	keys, err := w.Keys()
	if err != nil {
		return nil, err
	}
	now := w.now().UTC()
	objs, recs, err := w.shareObjects(ctx, req.Selection, now)
	if err != nil {
		return nil, err
	}
	var (
		ids   []catalog.ID
		roots [][]byte
		pks   []grant.PackageKey
	)
	for _, o := range objs {
		id, ref, err := w.PutObject(ctx, bytes.NewReader(o.bundle), int64(len(o.bundle)), nil)
		if err != nil {
			return nil, err
		}
		pk := packageKey(ref)
		pk.Category, pk.Sensitive, pk.ResourceTypes = o.group.Category, o.group.Sensitive, o.group.ResourceTypes
		ids, roots, pks = append(ids, id), append(roots, ref.Root.Bytes()), append(pks, pk)
	}
	idx, err := w.nextRevocationIndex(now)
	if err != nil {
		return nil, err
	}
	g := &grant.Grant{
		Domain:       chain.Domain(),
		GranteeKey:   granteeKey.SerializeCompressed(),
		Packages:     roots,
		Providers:    providers,
		Operations:   grant.Read | grant.Export,
		Depth:        req.Delegable,
		NotBefore:    uint64(now.Unix()),
		ExpiresAt:    uint64(now.Add(req.Duration).Unix()),
		RevocationID: chain.revocationID(revocationSecret(keys, idx)),
		Nonce:        randomNonce(),
	}
	if req.ViewOnly {
		g.Operations &^= grant.Export
	}
	if req.Delegable > 0 {
		if req.Live {
			return nil, ErrLiveDelegable
		}
		g.Operations |= grant.Delegate
	}
	g.ResourceTypes, g.Categories, g.Sensitive = scopeOf(recs)
	if err := w.sealAndSign(g, keys, pks); err != nil {
		return nil, err
	}
	issued, err := w.saveIssued(grant.Chain{g}, idx, ids, recs, req.To)
	if err != nil || !req.Live {
		return issued, err
	}
	return w.startLive(ctx, issued, req.Selection)
}

// ErrLiveDelegable: live grants cannot be delegated.
var ErrLiveDelegable = errors.New("a live grant cannot be delegated")

// startLive makes an issued grant live: it publishes version 1 and puts
// the live name in the link.
func (w *Wallet) startLive(ctx context.Context, issued *IssuedGrant, sel Selection) (*IssuedGrant, error) {
	rec := issued.Record
	rec.Live, rec.LiveSelection = true, &sel
	name, err := w.LiveName(rec)
	if err != nil {
		return nil, err
	}
	rec.LiveName = name.String()
	if rec, err = w.publishLive(ctx, rec); err != nil {
		return nil, err
	}
	w.pushLive(ctx, rec)
	issued.Record = rec
	issued.Link = live.Link(issued.Link, name)
	return issued, nil
}

func packageKey(ref ipfs.ObjectRef) grant.PackageKey {
	return grant.PackageKey{ObjectID: ref.ID, Key: [32]byte(ref.Key), Size: uint64(ref.Size)}
}

func randomNonce() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// sealAndSign wraps the package keys to the grantee and signs.
func (w *Wallet) sealAndSign(g *grant.Grant, keys *identity.Keys, pks []grant.PackageKey) error {
	grantee, err := g.Grantee()
	if err != nil {
		return err
	}
	g.Issuer = common.HexToAddress(keys.Address().String())
	core, err := g.CoreHash()
	if err != nil {
		return err
	}
	if g.WrappedKey, err = grant.Wrap(grantee, core, pks); err != nil {
		return err
	}
	return g.Sign(keys.PrivateKey())
}

// scopeOf lists the resource types, categories and sensitive labels of the
// shared records (sorted, for a stable grant).
func scopeOf(recs []Record) (types, cats, sensitive []string) {
	tset, cset, sset := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		tset[r.Type] = true
		cset[string(r.Category)] = true
		for _, s := range r.Sensitive {
			sset[string(s)] = true
		}
	}
	keys := func(m map[string]bool) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	return keys(tset), keys(cset), keys(sset)
}

// parseProviders encodes provider multiaddrs: libp2p peers (ending in
// /p2p/ID, relayed ones too) and HTTP gateways (ending in /http, no /p2p:
// a Kubo replica's gateway, see KeeperProviders).
func parseProviders(addrs []string) ([][]byte, error) {
	var out [][]byte
	for _, a := range addrs {
		if m, err := ma.NewMultiaddr(a); err == nil && isGatewayAddr(m) {
			out = append(out, m.Bytes())
			continue
		}
		ai, err := peer.AddrInfoFromString(a)
		if err != nil {
			return nil, fmt.Errorf("provider %q is not a multiaddr with /p2p/: %w", a, err)
		}
		p2p, _ := peer.AddrInfoToP2pAddrs(ai)
		for _, m := range p2p {
			out = append(out, m.Bytes())
		}
	}
	return out, nil
}

// isGatewayAddr reports whether m is an HTTP(S) gateway's address: it ends
// in /http (or /https) and names no peer.
func isGatewayAddr(m ma.Multiaddr) bool {
	last := ""
	hasPeer := false
	ma.ForEach(m, func(c ma.Component) bool {
		last = c.Protocol().Name
		hasPeer = hasPeer || c.Protocol().Code == ma.P_P2P
		return true
	})
	return !hasPeer && (last == "http" || last == "https")
}

// saveIssued stores an issued (or delegated) grant.
func (w *Wallet) saveIssued(chain grant.Chain, idx uint64, objs []catalog.ID, recs []Record, to string) (*IssuedGrant, error) {
	leaf := chain.Leaf()
	h, err := leaf.Hash()
	if err != nil {
		return nil, err
	}
	keys, err := w.Keys()
	if err != nil {
		return nil, err
	}
	link, err := chain.Link(keys.PublicKey())
	if err != nil {
		return nil, err
	}
	nb, exp := leaf.Window()
	rec := GrantRecord{
		ID: catalog.NewID(), Direction: Issued, Hash: hex.EncodeToString(h[:]), Link: link,
		Issuer: leaf.Issuer.Hex(), Grantee: to, NotBefore: nb, ExpiresAt: exp,
		Operations: leaf.Operations.String(), Depth: leaf.Depth, Links: len(chain), RevocationIndex: idx,
		Created: w.now().UTC(), Summary: grantSummary(leaf, len(recs)),
	}
	for _, r := range recs {
		rec.Records = append(rec.Records, r.ID)
	}
	if len(objs) > 0 {
		rec.Package, rec.Objects = objs[0], objs
	}
	if err := w.putGrant(rec); err != nil {
		return nil, err
	}
	return &IssuedGrant{Record: rec, Chain: chain, Link: link}, nil
}

// ShareQR returns a QR code (PNG) for a grant link. A link too long for a
// reliable QR code is stored as an encrypted key bundle that this wallet's
// node serves to anyone, and the QR code carries a short pointer to it
// instead (the node must be running when the grantee scans it); the pointer
// is sealed to the grantee and to this wallet, like the link. It returns
// the text the QR code holds.
func (w *Wallet) ShareQR(ctx context.Context, link string, providers []string) ([]byte, string, error) {
	if len(link) <= grant.MaxQRLink {
		png, err := grant.QR(link)
		return png, link, err
	}
	keys, err := w.Keys()
	if err != nil {
		return nil, "", err
	}
	c, err := grant.OpenLink(link, keys.PrivateKey())
	if err != nil {
		return nil, "", err
	}
	grantee, err := c.Leaf().Grantee()
	if err != nil {
		return nil, "", err
	}
	ps, err := parseProviders(providers)
	if err != nil {
		return nil, "", err
	}
	if len(ps) == 0 {
		return nil, "", errors.New("this grant is too long for a QR code, and a key bundle needs your node's address")
	}
	_, ref, err := w.PutObject(ctx, strings.NewReader(link), int64(len(link)), nil)
	if err != nil {
		return nil, "", err
	}
	cat, err := w.Catalog()
	if err != nil {
		return nil, "", err
	}
	if err := cat.Put(catalog.Public, catalog.NewID(), []byte(ref.Root.String())); err != nil {
		return nil, "", err
	}
	ptr, err := grant.BundlePointer{Root: ref.Root.Bytes(), ObjectID: ref.ID, Key: [32]byte(ref.Key), Size: uint64(ref.Size), Providers: ps}.Link(grantee, keys.PublicKey())
	if err != nil {
		return nil, "", err
	}
	png, err := grant.QR(ptr)
	return png, ptr, err
}
