package wallet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/keep"
	"github.com/healthwallet/healthwallet/share/live"
	"github.com/healthwallet/healthwallet/share/serve"
	"github.com/healthwallet/healthwallet/share/shl"
	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// A keeper serves SMART Health Links and live grants for its patients: the
// entries (keep.SHLEntry) and records (keep.LiveRecord) live in its catalog
// (catalog.KeptSHLs, catalog.KeptLive), the JWE files and packages they name
// in its block store, held for the patient like any package. The keptStore
// is the shl.Store of the keeper's HTTPS server and the serve.LiveSource of
// its grant server.

// keptSHL is a keeper's catalog entry for a SMART Health Link.
type keptSHL struct {
	Patient common.Address `json:"patient"`
	Entry   keep.SHLEntry  `json:"entry"`
	Failed  int            `json:"failed"` // wrong passcodes so far
}

// keptLive is a keeper's catalog entry for a live grant's newest version.
type keptLive struct {
	Patient common.Address  `json:"patient"`
	Record  keep.LiveRecord `json:"record"`
	Seq     uint64          `json:"seq"`
	Root    string          `json:"root"` // the version's package root
}

// shlRef locates a kept SHL.
type shlRef struct {
	id      catalog.ID
	patient common.Address
}

// liveKey names a kept live grant.
type liveKey struct {
	patient common.Address
	grant   [32]byte
}

// Bounds of what an SHL access record carries from the request.
const maxAccessText = 256

// loadKept reads the kept SHLs and live records into memory.
func (k *keptStore) loadKept(cat *catalog.Catalog) error {
	k.shls, k.lives = map[string]shlRef{}, map[liveKey]catalog.ID{}
	err := cat.ForEach(catalog.KeptSHLs, func(id catalog.ID, v []byte) error {
		var s keptSHL
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("kept SHL %s: %w", id, err)
		}
		k.shls[s.Entry.ID] = shlRef{id, s.Patient}
		return nil
	})
	if err != nil {
		return err
	}
	return cat.ForEach(catalog.KeptLive, func(id catalog.ID, v []byte) error {
		var l keptLive
		if err := json.Unmarshal(v, &l); err != nil {
			return fmt.Errorf("kept live record %s: %w", id, err)
		}
		g, err := l.Record.GrantHash()
		if err != nil {
			return fmt.Errorf("kept live record %s: %w", id, err)
		}
		k.lives[liveKey{l.Patient, g}] = id
		return nil
	})
}

// SHLURL implements keep.SHLStore: the keeper's HTTPS base URL ("" when it
// serves no SHLs).
func (k *keptStore) SHLURL() string { return k.shlURL }

// PutSHL implements keep.SHLStore: every file root must be held for p; an
// entry of the same id replaces the patient's earlier one (its failed
// passcode count stays).
func (k *keptStore) PutSHL(_ context.Context, p common.Address, e keep.SHLEntry) error {
	roots, err := e.CIDs()
	if err != nil {
		return err
	}
	for _, c := range roots {
		if !k.Holds(p, c) {
			return fmt.Errorf("SHL file %s is not held for you: put it first", c)
		}
	}
	cat, err := k.w.Catalog()
	if err != nil {
		return err
	}
	k.shlMu.Lock()
	defer k.shlMu.Unlock()
	rec := keptSHL{Patient: p, Entry: e}
	ref, ok := k.shls[e.ID]
	switch {
	case ok && ref.patient != p:
		return fmt.Errorf("SHL id %.8s… is another patient's", e.ID)
	case ok:
		if old, err := k.loadSHL(cat, ref.id); err == nil {
			rec.Failed = old.Failed
		}
	default:
		ref = shlRef{catalog.NewID(), p}
	}
	b, _ := json.Marshal(rec)
	if err := cat.Put(catalog.KeptSHLs, ref.id, b); err != nil {
		return err
	}
	k.shls[e.ID] = ref
	return nil
}

func (k *keptStore) loadSHL(cat *catalog.Catalog, id catalog.ID) (keptSHL, error) {
	b, err := cat.Get(catalog.KeptSHLs, id)
	if err != nil {
		return keptSHL{}, err
	}
	var s keptSHL
	return s, json.Unmarshal(b, &s)
}

// kept returns the kept SHL id (ErrUnknown when absent). Called with
// shlMu held.
func (k *keptStore) keptSHLLocked(id string) (keptSHL, catalog.ID, error) {
	ref, ok := k.shls[id]
	if !ok {
		return keptSHL{}, catalog.ID{}, fmt.Errorf("link %.8s…: %w", id, shl.ErrUnknown)
	}
	cat, err := k.w.Catalog()
	if err != nil {
		return keptSHL{}, ref.id, err
	}
	s, err := k.loadSHL(cat, ref.id)
	return s, ref.id, err
}

// keptSHLs is the keeper's shl.Store: the keptStore's SHL side.
type keptSHLs struct{ k *keptStore }

// Entry implements shl.Store: the entry with its JWE files read from the
// block store; a link whose files are no longer held is unknown.
func (v keptSHLs) Entry(ctx context.Context, id string) (shl.Entry, error) {
	k := v.k
	k.shlMu.Lock()
	s, _, err := k.keptSHLLocked(id)
	k.shlMu.Unlock()
	if err != nil {
		return shl.Entry{}, err
	}
	e := shl.Entry{ID: s.Entry.ID, Flags: s.Entry.Flags, PasscodeHash: s.Entry.PasscodeHash}
	if s.Entry.Expires != 0 {
		e.Expires = time.Unix(s.Entry.Expires, 0).UTC()
	}
	if e.RevocationID, err = s.Entry.Revocation(); err != nil {
		return shl.Entry{}, err
	}
	roots, err := s.Entry.CIDs()
	if err != nil {
		return shl.Entry{}, err
	}
	for i, c := range roots {
		if !k.Holds(s.Patient, c) {
			return shl.Entry{}, fmt.Errorf("link %.8s…: its files are gone: %w", id, shl.ErrUnknown)
		}
		var buf limitedBuffer
		buf.left = shl.MaxJWE
		if err := k.store.ExportPlain(ctx, c, &buf); err != nil {
			return shl.Entry{}, fmt.Errorf("link %.8s… file %d: %w", id, i, err)
		}
		f := s.Entry.Files[i]
		e.Files = append(e.Files, shl.StoredFile{ContentType: f.ContentType, JWE: buf.String(), LastUpdated: time.Unix(f.LastUpdated, 0).UTC()})
	}
	return e, nil
}

// limitedBuffer is a bytes.Buffer that takes at most left bytes.
type limitedBuffer struct {
	bytes.Buffer
	left int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if len(p) > b.left {
		return 0, fmt.Errorf("%w: a file over %d bytes", shl.ErrTooLarge, shl.MaxJWE)
	}
	b.left -= len(p)
	return b.Buffer.Write(p)
}

// PasscodeFailed implements shl.Store; the count is in the catalog, so a
// restart does not reset it.
func (v keptSHLs) PasscodeFailed(_ context.Context, id string) (int, error) {
	k := v.k
	k.shlMu.Lock()
	defer k.shlMu.Unlock()
	s, cid, err := k.keptSHLLocked(id)
	if err != nil {
		return 0, err
	}
	if s.Failed < shl.DefaultAttempts {
		s.Failed++
	}
	cat, err := k.w.Catalog()
	if err != nil {
		return 0, err
	}
	b, _ := json.Marshal(s)
	if err := cat.Put(catalog.KeptSHLs, cid, b); err != nil {
		return 0, err
	}
	return shl.DefaultAttempts - s.Failed, nil
}

// PasscodeRemaining implements shl.Store.
func (v keptSHLs) PasscodeRemaining(_ context.Context, id string) (int, error) {
	k := v.k
	k.shlMu.Lock()
	defer k.shlMu.Unlock()
	s, _, err := k.keptSHLLocked(id)
	if err != nil {
		return 0, err
	}
	return max(0, shl.DefaultAttempts-s.Failed), nil
}

// Access implements shl.Store: an access to a patient's link becomes the
// patient's next access record, recipient included.
func (v keptSHLs) Access(_ context.Context, ev shl.AccessEvent) {
	k := v.k
	k.shlMu.Lock()
	ref, ok := k.shls[ev.ID]
	k.shlMu.Unlock()
	if !ok {
		return // no patient to tell: an unknown link
	}
	k.appendAccess(ref.patient, shlAccessEntry(ev))
}

// shlAccessEntry is the access-log entry of one request for a link (the
// viewer's texts clipped to maxAccessText), on a keeper or the patient's
// own node.
func shlAccessEntry(ev shl.AccessEvent) AccessEntry {
	return AccessEntry{Time: ev.At.UTC(), Peer: clip(ev.Remote), Granted: ev.OK,
		Reason: clip(ev.Reason), SHL: ev.ID, Recipient: clip(ev.Recipient)}
}

func clip(s string) string {
	if len(s) > maxAccessText {
		return s[:maxAccessText]
	}
	return s
}

// pruneKept drops p's SHLs that expired or whose files are no longer held,
// and its live records whose package is no longer held (all of them when
// gone is set: the patient left).
func (k *keptStore) pruneKept(p common.Address, gone bool) error {
	cat, err := k.w.Catalog()
	if err != nil {
		return err
	}
	now := k.w.now().Unix()
	k.shlMu.Lock()
	defer k.shlMu.Unlock()
	for id, ref := range k.shls {
		if ref.patient != p {
			continue
		}
		drop := gone
		if s, err := k.loadSHL(cat, ref.id); err != nil {
			drop = true
		} else if s.Entry.Expires != 0 && s.Entry.Expires <= now {
			drop = true
		} else if roots, err := s.Entry.CIDs(); err == nil {
			for _, c := range roots {
				drop = drop || !k.Holds(p, c)
			}
		}
		if drop {
			if err := cat.Delete(catalog.KeptSHLs, ref.id); err != nil {
				return err
			}
			delete(k.shls, id)
		}
	}
	for key, id := range k.lives {
		if key.patient != p {
			continue
		}
		drop := gone
		if l, err := k.loadLive(cat, id); err != nil {
			drop = true
		} else if c, err := cid.Decode(l.Root); err != nil || !k.Holds(p, c) {
			drop = true
		}
		if drop {
			if err := cat.Delete(catalog.KeptLive, id); err != nil {
				return err
			}
			delete(k.lives, key)
		}
	}
	return nil
}

func (k *keptStore) loadLive(cat *catalog.Catalog, id catalog.ID) (keptLive, error) {
	b, err := cat.Get(catalog.KeptLive, id)
	if err != nil {
		return keptLive{}, err
	}
	var l keptLive
	return l, json.Unmarshal(b, &l)
}

// PutLive implements keep.LiveStore: the record must be the grant name's,
// point at the envelope, the envelope be signed by p for the grant, and its
// package be held for p. A newer sequence number replaces the one kept; an
// older one is live.ErrStale; the same one changes nothing.
func (k *keptStore) PutLive(_ context.Context, p common.Address, r keep.LiveRecord) error {
	g, err := r.GrantHash()
	if err != nil {
		return err
	}
	name, err := ipns.NameFromString(r.Name)
	if err != nil {
		return fmt.Errorf("%w: IPNS name %q", live.ErrMalformed, r.Name)
	}
	env, err := live.OpenRecord(name, r.Record, r.Envelope)
	if err != nil {
		return err
	}
	if err := env.Verify(p, g); err != nil {
		return err
	}
	if !k.Holds(p, env.Root) {
		return fmt.Errorf("live package %s is not held for you: put it first", env.Root)
	}
	cat, err := k.w.Catalog()
	if err != nil {
		return err
	}
	k.shlMu.Lock()
	defer k.shlMu.Unlock()
	key := liveKey{p, g}
	id, ok := k.lives[key]
	if ok {
		old, err := k.loadLive(cat, id)
		if err == nil {
			switch {
			case old.Record.Name != r.Name:
				return fmt.Errorf("%w: live grant %x is published under %s, not %s", live.ErrBinding, g[:4], old.Record.Name, r.Name)
			case old.Seq > env.Seq:
				return fmt.Errorf("%w: version %d, the keeper has %d", live.ErrStale, env.Seq, old.Seq)
			case old.Seq == env.Seq:
				return nil
			}
		}
	} else {
		id = catalog.NewID()
	}
	b, _ := json.Marshal(keptLive{Patient: p, Record: r, Seq: env.Seq, Root: env.Root.String()})
	if err := cat.Put(catalog.KeptLive, id, b); err != nil {
		return err
	}
	k.lives[key] = id
	return nil
}

// Latest implements serve.LiveSource for the keeper.
func (k *keptStore) Latest(_ context.Context, p common.Address, g [32]byte) (record, envelope []byte, err error) {
	k.shlMu.Lock()
	id, ok := k.lives[liveKey{p, g}]
	k.shlMu.Unlock()
	if !ok {
		return nil, nil, serve.ErrNoLive
	}
	cat, err := k.w.Catalog()
	if err != nil {
		return nil, nil, err
	}
	l, err := k.loadLive(cat, id)
	if err != nil {
		return nil, nil, err
	}
	if c, err := cid.Decode(l.Root); err != nil || !k.Holds(p, c) {
		return nil, nil, serve.ErrNoLive
	}
	return l.Record.Record, l.Record.Envelope, nil
}

// shlRevocations answers shl.Revocations from the keeper's revocation
// mirror (the one its grant server checks); an error fails closed.
type shlRevocations struct{ r grant.Revocations }

func (s shlRevocations) Revoked(ctx context.Context, id [32]byte) (bool, error) {
	at, err := s.r.RevokedAt(ctx, [][32]byte{id})
	if err != nil {
		return false, err
	}
	if len(at) != 1 {
		return false, errors.New("revocation mirror: no answer")
	}
	return at[0] != 0, nil
}

var (
	_ keep.SHLStore    = (*keptStore)(nil)
	_ keep.LiveStore   = (*keptStore)(nil)
	_ shl.Store        = keptSHLs{}
	_ serve.LiveSource = (*keptStore)(nil)
)
