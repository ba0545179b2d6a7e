package wallet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/registry"
	"github.com/healthwallet/healthwallet/share/serve"
	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/fhir"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// Grant directions.
const (
	Issued   = "issued"
	Received = "received"
)

// GrantRecord is the catalog's entry for a grant this wallet issued or
// received.
type GrantRecord struct {
	ID         catalog.ID   `json:"-"`
	Direction  string       `json:"direction"`
	Hash       string       `json:"hash"` // EIP-712 hash of the grant, hex
	Link       string       `json:"link"`
	Issuer     string       `json:"issuer"`  // address
	Grantee    string       `json:"grantee"` // did:key
	Summary    string       `json:"summary"`
	Records    []catalog.ID `json:"records,omitempty"` // issued: what the package holds
	Package    catalog.ID   `json:"package"`           // the package object in this wallet's store
	Objects    []catalog.ID `json:"objects,omitempty"` // issued: all its objects, one per group; Package is the first
	NotBefore  time.Time    `json:"notBefore"`
	ExpiresAt  time.Time    `json:"expiresAt"`
	Operations string       `json:"operations"`
	Depth      uint8        `json:"depth"`
	Links      int          `json:"links"` // length of the chain (1: from the patient)
	// RevocationIndex is the index of the revocation secret (issued and
	// delegated grants).
	RevocationIndex uint64    `json:"revocationIndex"`
	RevokedAt       time.Time `json:"revokedAt,omitzero"`
	RevokeTx        string    `json:"revokeTx,omitempty"`
	Created         time.Time `json:"created"`
}

// AllowsExport reports whether the grant lets its holder save the shared
// Bundle outside the wallet (the Export operation).
func (g GrantRecord) AllowsExport() bool {
	return slices.Contains(strings.Fields(strings.Trim(g.Operations, "[]")), "export")
}

// Status is a grant's state as the wallet shows it.
func (g GrantRecord) Status(now time.Time) string {
	left := g.ExpiresAt.Sub(now)
	switch {
	case !g.RevokedAt.IsZero():
		return "revoked"
	case !now.Before(g.ExpiresAt):
		return "expired"
	case now.Before(g.NotBefore):
		return "not yet valid"
	case left < 24*time.Hour && left < g.ExpiresAt.Sub(g.NotBefore)/4:
		return "expiring soon"
	}
	return "active"
}

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

var revocationCounter = catalog.IDFromHash([]byte("revocation-index-counter"))

// nextRevocationIndex hands out revocation secret indexes, never twice, and
// anchored to time: index = issuance second << 8 | sequence. A wallet
// restored from its phrase has lost its counter but not the clock, so its
// new grants cannot reuse an old grant's secret; and any grant's secret can
// be found again from the grant alone (RevocationIndexOf).
func (w *Wallet) nextRevocationIndex(issued time.Time) (uint64, error) {
	cat, err := w.Catalog()
	if err != nil {
		return 0, err
	}
	idx := uint64(issued.Unix()) << 8
	err = cat.Update(func(tx *catalog.Tx) error {
		if b, err := tx.Get(catalog.Settings, revocationCounter); err == nil && len(b) == 8 {
			idx = max(idx, binary.BigEndian.Uint64(b))
		}
		return tx.Put(catalog.Settings, revocationCounter, binary.BigEndian.AppendUint64(nil, idx+1))
	})
	return idx, err
}

// ErrNotIssuedHere: the grant was not issued by this wallet's identity.
var ErrNotIssuedHere = errors.New("this wallet did not issue that grant")

// RevocationIndexOf finds the index of the revocation secret of a grant this
// wallet issued, from the grant alone (no catalog needed): the index is its
// notBefore second shifted left 8, plus a sequence number under 256.
func (w *Wallet) RevocationIndexOf(g *grant.Grant) (uint64, error) {
	keys, err := w.Keys()
	if err != nil {
		return 0, err
	}
	if g.Issuer != common.HexToAddress(keys.Address().String()) {
		return 0, ErrNotIssuedHere
	}
	chainID := new(big.Int).SetUint64(g.Domain.ChainID)
	for seq := uint64(0); seq < 1<<16; seq++ { // a busy second, or a clock that moved
		idx := g.NotBefore<<8 + seq
		if registry.RevocationID(chainID, g.Domain.Registry, revocationSecret(keys, idx)) == g.RevocationID {
			return idx, nil
		}
	}
	return 0, errors.New("no revocation secret of this wallet matches the grant")
}

func revocationSecret(keys *identity.Keys, idx uint64) [32]byte {
	return [32]byte(keys.RevocationSecret(idx))
}

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
		RevocationID: registry.RevocationID(new(big.Int).SetUint64(chain.ChainID), chain.Registry, revocationSecret(keys, idx)),
		Nonce:        randomNonce(),
	}
	if req.ViewOnly {
		g.Operations &^= grant.Export
	}
	if req.Delegable > 0 {
		g.Operations |= grant.Delegate
	}
	g.ResourceTypes, g.Categories, g.Sensitive = scopeOf(recs)
	if err := w.sealAndSign(g, keys, pks); err != nil {
		return nil, err
	}
	return w.saveIssued(grant.Chain{g}, idx, ids, recs, req.To)
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

func parseProviders(addrs []string) ([][]byte, error) {
	var out [][]byte
	for _, a := range addrs {
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

func grantSummary(g *grant.Grant, n int) string {
	what := strings.Join(g.Categories, ", ")
	if len(g.Sensitive) > 0 {
		what += " (including " + strings.Join(g.Sensitive, ", ") + ")"
	}
	if n > 0 {
		return fmt.Sprintf("%d records: %s", n, what)
	}
	return what
}

func (w *Wallet) putGrant(rec GrantRecord) error {
	cat, err := w.Catalog()
	if err != nil {
		return err
	}
	b, _ := json.Marshal(rec)
	return cat.Put(catalog.Grants, rec.ID, b)
}

// Grants lists the grants this wallet issued and received, newest first.
func (w *Wallet) Grants() ([]GrantRecord, error) {
	cat, err := w.Catalog()
	if err != nil {
		return nil, err
	}
	var out []GrantRecord
	err = cat.ForEach(catalog.Grants, func(id catalog.ID, v []byte) error {
		var g GrantRecord
		if err := json.Unmarshal(v, &g); err != nil {
			return fmt.Errorf("grant %s: %w", id, err)
		}
		g.ID = id
		out = append(out, g)
		return nil
	})
	slices.SortFunc(out, func(a, b GrantRecord) int { return b.Created.Compare(a.Created) })
	return out, err
}

// FindGrant finds a grant by catalog id, or a prefix of its id or hash.
func (w *Wallet) FindGrant(s string) (GrantRecord, error) {
	all, err := w.Grants()
	if err != nil {
		return GrantRecord{}, err
	}
	s = strings.ToLower(strings.TrimPrefix(s, "0x"))
	var hit []GrantRecord
	for _, g := range all {
		if len(s) >= 6 && (strings.HasPrefix(g.ID.String(), s) || strings.HasPrefix(g.Hash, s)) {
			hit = append(hit, g)
		}
	}
	switch len(hit) {
	case 0:
		return GrantRecord{}, fmt.Errorf("%w: no grant %q", catalog.ErrNotFound, s)
	case 1:
		return hit[0], nil
	}
	return GrantRecord{}, fmt.Errorf("%q matches %d grants; give more of the id", s, len(hit))
}

// Revoker publishes revocation secrets on chain: directly with a funded key
// (share/relay.Direct) or through a relay, so a phone needs no ETH.
type Revoker interface {
	Revoke(ctx context.Context, secrets [][32]byte) (common.Hash, error)
}

// Revoke reveals the revocation secret of a grant this wallet issued (or
// delegated), through r, and records the revocation. From then on every
// verifier refuses the grant and everything delegated from it.
func (w *Wallet) Revoke(ctx context.Context, g GrantRecord, r Revoker) (GrantRecord, error) {
	if g.Direction != Issued {
		return g, errors.New("only the wallet that issued a grant can revoke it")
	}
	if !g.RevokedAt.IsZero() {
		return g, nil
	}
	keys, err := w.Keys()
	if err != nil {
		return g, err
	}
	tx, err := r.Revoke(ctx, [][32]byte{revocationSecret(keys, g.RevocationIndex)})
	if err != nil {
		return g, err
	}
	g.RevokedAt, g.RevokeTx = w.now().UTC(), tx.Hex()
	return g, w.putGrant(g)
}

// RevokeLink revokes a grant this wallet issued, given its link: for a
// wallet restored from its phrase, which has lost its grant records but can
// find each grant's secret again (RevocationIndexOf). A link is sealed to
// its issuer as well as to its grantee, so the issuer opens it with its own
// key.
func (w *Wallet) RevokeLink(ctx context.Context, link string, r Revoker) (common.Hash, error) {
	keys, err := w.Keys()
	if err != nil {
		return common.Hash{}, err
	}
	c, err := grant.OpenLink(link, keys.PrivateKey())
	if errors.Is(err, grant.ErrNotAddressed) {
		return common.Hash{}, ErrNotIssuedHere
	}
	if err != nil {
		return common.Hash{}, err
	}
	idx, err := w.RevocationIndexOf(c.Leaf())
	if err != nil {
		return common.Hash{}, err
	}
	return r.Revoke(ctx, [][32]byte{revocationSecret(keys, idx)})
}

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

// RevocationSecretOf returns the secret that revokes an issued grant (for
// a relay, or to publish elsewhere).
func (w *Wallet) RevocationSecretOf(g GrantRecord) ([32]byte, error) {
	keys, err := w.Keys()
	if err != nil {
		return [32]byte{}, err
	}
	return revocationSecret(keys, g.RevocationIndex), nil
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
	core, _ := leaf.CoreHash()
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
	leafHash, _ := leaf.Hash()
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

// DelegateRequest says how a holder re-shares a grant it received.
type DelegateRequest struct {
	To         string // did:key of the new grantee
	Duration   time.Duration
	Delegable  uint8           // further delegations allowed (≤ what is left)
	Categories []fhir.Category // narrower categories; empty keeps them all
	// ViewOnly drops the Export operation from the child grant.
	ViewOnly bool
	// Sensitive names the sensitive labels to pass on when narrowing (with
	// Categories or Sensitive set): records so labelled are otherwise left
	// out. With neither set the grant goes on whole.
	Sensitive []fhir.Sensitive
}

// Delegate issues a child grant from a grant this wallet received (the
// link it redeemed): no wider scope, no later expiry, depth minus one, the
// keys re-wrapped to the new grantee. Narrowed to some categories, the
// child names only the package objects of those categories and wraps only
// their keys, so the new grantee can neither fetch (the patient's node
// serves only what the presented grant names) nor decrypt the rest. A
// package that cannot be split that way (issued as one object of every
// category, before packages were split, or an International Patient
// Summary) is refused with ErrCannotNarrow rather than handed on whole.
func (w *Wallet) Delegate(ctx context.Context, link string, req DelegateRequest, chain ChainConfig) (*IssuedGrant, error) {
	c, err := w.OpenLink(link)
	if err != nil {
		return nil, err
	}
	keys, err := w.Keys()
	if err != nil {
		return nil, err
	}
	conn, err := w.connect(ctx, chain)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := grant.Verify(ctx, c, conn.policy(w.now), grant.Request{Holder: keys.PublicKey(), Operations: grant.Delegate}); err != nil {
		return nil, err
	}
	parent := c.Leaf()
	if parent.Depth == 0 {
		return nil, fmt.Errorf("%w: this grant does not allow re-sharing", grant.ErrNotGranted)
	}
	if req.Delegable > parent.Depth-1 {
		return nil, fmt.Errorf("%w: at most %d further delegations are left", grant.ErrNotGranted, parent.Depth-1)
	}
	granteeKey, err := identity.ParseDIDKey(req.To)
	if err != nil {
		return nil, err
	}
	core, _ := parent.CoreHash()
	pks, err := grant.Unwrap(keys.PrivateKey(), core, parent.WrappedKey)
	if err != nil {
		return nil, err
	}
	now := w.now().UTC()
	exp := min(uint64(now.Add(req.Duration).Unix()), parent.ExpiresAt)
	nb := max(uint64(now.Unix()), parent.NotBefore)
	idx, err := w.nextRevocationIndex(time.Unix(int64(nb), 0))
	if err != nil {
		return nil, err
	}
	child := &grant.Grant{
		Domain: chain.Domain(), GranteeKey: granteeKey.SerializeCompressed(), Packages: parent.Packages,
		Providers: parent.Providers, ResourceTypes: parent.ResourceTypes, Categories: parent.Categories,
		Sensitive: parent.Sensitive, Operations: parent.Operations &^ grant.Delegate, Depth: req.Delegable,
		NotBefore: nb, ExpiresAt: exp,
		RevocationID: registry.RevocationID(new(big.Int).SetUint64(chain.ChainID), chain.Registry, revocationSecret(keys, idx)),
		Nonce:        randomNonce(),
	}
	if req.Delegable > 0 {
		child.Operations |= grant.Delegate
	}
	if req.ViewOnly {
		child.Operations &^= grant.Export
	}
	if len(req.Categories) > 0 {
		var cats []string
		for _, cat := range req.Categories {
			if len(parent.Categories) > 0 && !slices.Contains(parent.Categories, string(cat)) {
				return nil, fmt.Errorf("%w: category %s is not in the grant", grant.ErrNotGranted, cat)
			}
			cats = append(cats, string(cat))
		}
		child.Categories = cats
	}
	if len(req.Categories) > 0 || len(req.Sensitive) > 0 {
		if child.Packages, pks, err = narrowPackages(parent, pks, req.Categories, req.Sensitive); err != nil {
			return nil, err
		}
		if types, sensitive, ok := groupsScope(pks); ok {
			child.ResourceTypes, child.Sensitive = types, sensitive
		}
	}
	if child.ExpiresAt <= child.NotBefore {
		return nil, fmt.Errorf("%w: the grant has expired", grant.ErrExpired)
	}
	child.Parent, _ = parent.Hash()
	if err := w.sealAndSign(child, keys, pks); err != nil {
		return nil, err
	}
	return w.saveIssued(append(slices.Clone(c), child), idx, nil, nil, req.To)
}

// ErrCannotNarrow: a re-share asked for less than the grant's package can
// be split into.
var ErrCannotNarrow = errors.New("cannot re-share only part of this grant")

// narrowPackages keeps the package objects of a grant (CIDs and unwrapped
// keys, in the grant's order) whose group is one of cats (all, if empty)
// and whose sensitive labels are all in labels. It refuses when an object
// it would have to split mixes groups, and when nothing is left.
func narrowPackages(parent *grant.Grant, pks []grant.PackageKey, cats []fhir.Category, labels []fhir.Sensitive) ([][]byte, []grant.PackageKey, error) {
	if len(pks) != len(parent.Packages) {
		return nil, nil, fmt.Errorf("%w: %d keys for %d packages", grant.ErrMalformed, len(pks), len(parent.Packages))
	}
	wantCat := func(c string) bool { return len(cats) == 0 || slices.Contains(cats, fhir.Category(c)) }
	wantLabels := func(ls []string) bool {
		for _, l := range ls {
			if !slices.Contains(labels, fhir.Sensitive(l)) {
				return false
			}
		}
		return true
	}
	// Whether anything is dropped, as the grant's public scope tells: not
	// the Patient's own category (every object holds the Patient).
	narrows := !wantLabels(parent.Sensitive)
	for _, c := range parent.Categories {
		if !wantCat(c) && c != string(fhir.People) {
			narrows = true
		}
	}
	var roots [][]byte
	var kept []grant.PackageKey
	for i, k := range pks {
		switch {
		case k.Mixed() && narrows:
			return nil, nil, fmt.Errorf("%w: its records came as one package (an International Patient Summary, or a grant issued before packages were split by category); ask the patient for a grant of only what you want to pass on", ErrCannotNarrow)
		case k.Mixed() || wantCat(k.Category) && wantLabels(k.Sensitive):
			roots, kept = append(roots, parent.Packages[i]), append(kept, k)
		}
	}
	if len(kept) == 0 {
		return nil, nil, fmt.Errorf("%w: the grant holds no records of that scope (sensitive records go on only if named)", ErrCannotNarrow)
	}
	return roots, kept, nil
}

// groupsScope lists the resource types and sensitive labels the objects of
// pks hold, sorted; ok is false if one of them mixes groups (its scope is
// the grant's).
func groupsScope(pks []grant.PackageKey) (types, sensitive []string, ok bool) {
	for _, k := range pks {
		if k.Mixed() {
			return nil, nil, false
		}
		types = append(types, k.ResourceTypes...)
		sensitive = append(sensitive, k.Sensitive...)
	}
	slices.Sort(types)
	slices.Sort(sensitive)
	return slices.Compact(types), slices.Compact(sensitive), true
}

// AccessEntry is one line of the access log: a presentation of one of this
// wallet's grants to its node.
type AccessEntry struct {
	Time      time.Time `json:"time"`
	Peer      string    `json:"peer"`
	Grant     string    `json:"grant"` // hash of the presented grant
	Root      string    `json:"root"`  // hash of this wallet's grant it descends from
	Grantee   string    `json:"grantee"`
	Links     int       `json:"links"`
	Granted   bool      `json:"granted"`
	Reason    string    `json:"reason,omitempty"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// RecordAccess appends to the access log.
func (w *Wallet) RecordAccess(a serve.Access) error {
	cat, err := w.Catalog()
	if err != nil {
		return err
	}
	e := AccessEntry{Time: a.Time, Peer: a.Peer.String(), Grant: hex.EncodeToString(a.GrantHash[:]),
		Root: hex.EncodeToString(a.RootHash[:]), Grantee: a.Grantee.Hex(), Links: a.Links, Granted: a.Granted,
		Reason: a.Reason, ExpiresAt: a.ExpiresAt}
	b, _ := json.Marshal(e)
	return cat.Put(catalog.AccessLog, catalog.NewID(), b)
}

// AccessLog lists presentations, oldest first.
func (w *Wallet) AccessLog() ([]AccessEntry, error) {
	cat, err := w.Catalog()
	if err != nil {
		return nil, err
	}
	var out []AccessEntry
	err = cat.ForEach(catalog.AccessLog, func(_ catalog.ID, v []byte) error {
		var e AccessEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	slices.SortFunc(out, func(a, b AccessEntry) int { return a.Time.Compare(b.Time) })
	return out, err
}

func multiaddrString(b []byte) (string, error) {
	m, err := ma.NewMultiaddrBytes(b)
	if err != nil {
		return "", fmt.Errorf("%w: provider address: %v", grant.ErrMalformed, err)
	}
	return m.String(), nil
}
