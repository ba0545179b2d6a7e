package wallet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	carv2 "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
	"golang.org/x/crypto/hkdf"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/keep"
	"github.com/healthwallet/healthwallet/share/live"
	"github.com/healthwallet/healthwallet/share/serve"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// Live grants
//
// A live grant (GrantRequest.Live) follows its selection: whenever records
// the selection covers are imported or change, RefreshLive publishes a new
// version of the share package under the grant's live name, an IPNS name
// whose key only this wallet can derive (HKDF-SHA256 of the identity key
// and the grant's revocation index, so a restored wallet goes on
// publishing under the same name). A version is one encrypted object (the
// whole FHIR Bundle of the selection) and a signed live.Envelope naming it
// with its key wrapped to the grantee. The patient's node answers the live
// protocol with the newest version (Serving, through LiveSource) and the
// keepers hold it too; revoking the grant ends both.

// liveSeedInfo is the HKDF info prefix of a live grant's name key seed.
const liveSeedInfo = "healthwallet live v1"

// ErrNotLive: the grant is not a live grant.
var ErrNotLive = errors.New("not a live grant")

// liveSeed derives the 32-byte seed of the name key of the live grant
// with revocation index idx.
func liveSeed(keys *identity.Keys, idx uint64) []byte {
	info := binary.BigEndian.AppendUint64([]byte(liveSeedInfo), idx)
	seed := make([]byte, 32)
	io.ReadFull(hkdf.New(sha256.New, keys.PrivateKey().Serialize(), nil, info), seed)
	return seed
}

// liveBinding is what a version's wrapped key is bound to: the grant, the
// version and its package root. A wrapped key moved to another version or
// grant does not open.
func liveBinding(grantHash [32]byte, seq uint64, root cid.Cid) [32]byte {
	h := sha256.New()
	h.Write([]byte("healthwallet live key v1"))
	h.Write(grantHash[:])
	h.Write(binary.BigEndian.AppendUint64(nil, seq))
	h.Write(root.Bytes())
	return [32]byte(h.Sum(nil))
}

// grantHashOf decodes a GrantRecord's hash.
func grantHashOf(g GrantRecord) ([32]byte, error) {
	b, err := hex.DecodeString(g.Hash)
	if err != nil || len(b) != 32 {
		return [32]byte{}, fmt.Errorf("grant %s: bad hash %q", g.ID, g.Hash)
	}
	return [32]byte(b), nil
}

// LiveName is the IPNS name of a live grant this wallet issued (the name
// the link carries after #live=).
func (w *Wallet) LiveName(g GrantRecord) (ipns.Name, error) {
	if !g.Live || g.Direction != Issued {
		return ipns.Name{}, ErrNotLive
	}
	keys, err := w.Keys()
	if err != nil {
		return ipns.Name{}, err
	}
	_, name, err := live.NameKey(liveSeed(keys, g.RevocationIndex))
	return name, err
}

// liveRefreshable reports whether an issued grant gets new versions: live,
// from this wallet, neither revoked, being revoked, nor expired.
func liveRefreshable(g GrantRecord, now time.Time) bool {
	return g.Live && g.Direction == Issued && g.Links == 1 && g.LiveSelection != nil &&
		g.RevokedAt.IsZero() && g.RevokePending.IsZero() && now.Before(g.ExpiresAt)
}

// RefreshLive publishes a new version of every live grant whose selection
// now covers records (new or changed) its current version lacks, and
// pushes each new version to the keepers. It returns how many grants got
// a new version. Revoked, expired and delegated grants are never
// refreshed. Importing calls it (ImportResult.Live); the app and the CLI
// need not.
func (w *Wallet) RefreshLive(ctx context.Context) (updated int, err error) {
	gs, err := w.Grants()
	if err != nil {
		return 0, err
	}
	now := w.now()
	var errs []error
	push := map[cid.Cid]int64{} // every new version's roots: one keeper sync for all
	for _, g := range gs {
		if !liveRefreshable(g, now) {
			continue
		}
		recs, err := w.Select(*g.LiveSelection)
		if errors.Is(err, ErrEmptySelection) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("live grant %s: %w", g.ID, err))
			continue
		}
		if !slices.ContainsFunc(recs, func(r Record) bool { return !slices.Contains(g.LiveContent, r.Object) }) {
			continue
		}
		g, err = w.publishLive(ctx, g)
		if err != nil {
			errs = append(errs, fmt.Errorf("live grant %s: %w", g.ID, err))
			continue
		}
		if roots, err := w.grantRoots(g); err == nil {
			maps.Copy(push, roots)
		}
		updated++
	}
	if len(push) > 0 {
		w.syncKeepers(ctx, push) // a keeper that is down gets them on the next sync
	}
	return updated, errors.Join(errs...)
}

// publishLive builds, signs and stores the next version of live grant g
// and records it; it returns the updated record. The caller pushes it to
// the keepers (pushLive, or one sync for several grants).
func (w *Wallet) publishLive(ctx context.Context, g GrantRecord) (GrantRecord, error) {
	keys, err := w.Keys()
	if err != nil {
		return g, err
	}
	grantee, err := identity.ParseDIDKey(g.Grantee)
	if err != nil {
		return g, err
	}
	leaf, err := grantHashOf(g)
	if err != nil {
		return g, err
	}
	now := w.now().UTC()
	bundle, recs, err := w.SharePackage(ctx, *g.LiveSelection, now)
	if err != nil {
		return g, err
	}
	objID, ref, err := w.PutObject(ctx, bytes.NewReader(bundle), int64(len(bundle)), nil)
	if err != nil {
		return g, err
	}
	env := live.Envelope{Grant: leaf, Seq: g.LiveSeq + 1, Root: ref.Root, Issued: now.Unix()}
	if env.Wrapped, err = grant.Wrap(grantee, liveBinding(leaf, env.Seq, ref.Root), []grant.PackageKey{packageKey(ref)}); err != nil {
		return g, err
	}
	if err := env.Sign(keys.PrivateKey()); err != nil {
		return g, err
	}
	sk, _, err := live.NameKey(liveSeed(keys, g.RevocationIndex))
	if err != nil {
		return g, err
	}
	record, err := live.NewRecord(sk, env, now)
	if err != nil {
		return g, err
	}
	envBytes := env.Encode()
	if err := w.putRawBlock(ctx, envBytes); err != nil {
		return g, err
	}
	oldObj := g.LiveObject
	g.LiveSeq, g.LiveRoot, g.LiveObject = env.Seq, ref.Root.String(), objID
	g.LiveIPNS, g.LiveEnvelope = record, envBytes
	g.LiveContent, g.Records = nil, nil
	for _, r := range recs {
		g.Records = append(g.Records, r.ID)
		if !r.Object.IsZero() {
			g.LiveContent = append(g.LiveContent, r.Object)
		}
	}
	if err := w.putGrant(g); err != nil {
		return g, err
	}
	if !oldObj.IsZero() {
		w.DeleteObject(oldObj) // the previous version: nobody is served it any more
	}
	return g, nil
}

// pushLive hands a live grant's newest version to every keeper: the
// package and the envelope block as items (a keeper that is down gets them
// on the next sync). Keepers that take live records (keep PutLive) serve
// the version from then on.
func (w *Wallet) pushLive(ctx context.Context, g GrantRecord) {
	roots, err := w.grantRoots(g)
	if err != nil {
		return
	}
	w.syncKeepers(ctx, roots)
}

// putLiveRecords hands keeper c the newest record of every live grant
// whose version's roots are in want (the keeper holds them by now), so
// the keeper serves that version while this wallet's node is away. The
// keeper keeps the newest it was given; a keeper too old for live grants
// is left alone (it still holds the items).
func (w *Wallet) putLiveRecords(ctx context.Context, c *keep.Client, want map[cid.Cid]int64) error {
	gs, err := w.Grants()
	if err != nil {
		return err
	}
	now := w.now()
	for _, g := range gs {
		if !liveRefreshable(g, now) || g.LiveSeq == 0 {
			continue
		}
		if _, ok := want[live.EnvelopeCID(g.LiveEnvelope)]; !ok {
			continue
		}
		lctx, cancel := context.WithTimeout(ctx, keeperDialTimeout)
		err := c.PutLive(lctx, keep.LiveRecord{Grant: "0x" + g.Hash, Name: g.LiveName, Record: g.LiveIPNS, Envelope: g.LiveEnvelope})
		cancel()
		if errors.Is(err, keep.ErrUnsupported) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("live grant %s: %w", g.ID, err)
		}
	}
	return nil
}

// liveRoots are the roots of a live grant's current version: its package
// and its envelope block (what keepers must hold besides the grant's own
// packages).
func (w *Wallet) liveRoots(g GrantRecord) []cid.Cid {
	if !g.Live || g.Direction != Issued || g.LiveSeq == 0 {
		return nil
	}
	out := []cid.Cid{live.EnvelopeCID(g.LiveEnvelope)}
	if ref, err := w.Object(g.LiveObject); err == nil {
		out = append(out, ref.Root)
	}
	return out
}

// liveEnvelopeRoots are the envelope blocks of the current versions of
// this wallet's live grants, which GC keeps (an envelope is a raw block,
// not an encrypted object: the catalog's objects do not name it).
func (w *Wallet) liveEnvelopeRoots() ([]cid.Cid, error) {
	gs, err := w.Grants()
	if err != nil {
		return nil, err
	}
	var out []cid.Cid
	for _, g := range gs {
		if g.Live && g.Direction == Issued && g.LiveSeq > 0 {
			out = append(out, live.EnvelopeCID(g.LiveEnvelope))
		}
	}
	return out, nil
}

// putRawBlock stores b as one raw block (an envelope) under its root
// live.EnvelopeCID(b); GC keeps it while a live grant names it
// (liveEnvelopeRoots).
func (w *Wallet) putRawBlock(ctx context.Context, b []byte) error {
	c := live.EnvelopeCID(b)
	var car bytes.Buffer
	wr, err := storage.NewWritable(&car, []cid.Cid{c}, carv2.WriteAsCarV1(true))
	if err != nil {
		return err
	}
	if err := wr.Put(ctx, c.KeyString(), b); err != nil {
		return err
	}
	if err := wr.Finalize(); err != nil {
		return err
	}
	store, err := w.objectStore()
	if err != nil {
		return err
	}
	_, err = store.ImportCAR(ctx, &car)
	return err
}

// LiveSource is what this wallet's node answers the live protocol with:
// the newest version of a live grant this wallet issued. The node checks
// the grant (and its revocation) before it asks.
func (w *Wallet) LiveSource() serve.LiveSource { return liveSource{w} }

type liveSource struct{ w *Wallet }

func (s liveSource) Latest(_ context.Context, patient common.Address, grantHash [32]byte) (record, envelope []byte, err error) {
	keys, err := s.w.Keys()
	if err != nil {
		return nil, nil, err
	}
	if patient != common.HexToAddress(keys.Address().String()) {
		return nil, nil, serve.ErrNoLive
	}
	g, err := s.w.FindGrant(hex.EncodeToString(grantHash[:]))
	if err != nil || !g.Live || g.Direction != Issued || g.LiveSeq == 0 {
		return nil, nil, serve.ErrNoLive
	}
	if !g.RevokedAt.IsZero() || !g.RevokePending.IsZero() {
		return nil, nil, grant.ErrRevoked
	}
	return g.LiveIPNS, g.LiveEnvelope, nil
}
