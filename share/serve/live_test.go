package serve

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ipfs/go-cid"
	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/live"
)

// liveSource is the patient's versions of its live grants.
type liveSource struct {
	mu       sync.Mutex
	versions map[[32]byte][2][]byte // leaf hash → record, envelope
}

func (l *liveSource) Latest(_ context.Context, _ common.Address, g [32]byte) ([]byte, []byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.versions[g]
	if !ok {
		return nil, nil, ErrNoLive
	}
	return v[0], v[1], nil
}

// publish makes version seq of the live grant g over root.
func (l *liveSource) publish(t *testing.T, patient *secp256k1.PrivateKey, sk p2pcrypto.PrivKey, g [32]byte, seq uint64, root cid.Cid) {
	t.Helper()
	env := live.Envelope{Grant: g, Seq: seq, Root: root, Wrapped: []byte("package key wrapped to the grantee"), Issued: time.Now().Unix()}
	if err := env.Sign(patient); err != nil {
		t.Fatal(err)
	}
	rec, err := live.NewRecord(sk, env, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.versions[g] = [2][]byte{rec, env.Encode()}
	l.mu.Unlock()
}

type holdings struct {
	patient common.Address
	held    map[cid.Cid]bool
}

func (h holdings) Enrolled(p common.Address) bool         { return p == h.patient }
func (h holdings) Holds(p common.Address, c cid.Cid) bool { return p == h.patient && h.held[c] }

func TestLive(t *testing.T) {
	ctx := context.Background()
	patient, family, stranger := key(1), key(2), key(3)
	revs := &revocations{revoked: map[[32]byte]uint64{}}
	var mu sync.Mutex
	var log []Access

	patientNode := node(t, 12, nil)
	srv := NewServer(patientNode.Host(), address(patient), grant.Policy{Domain: domain, Revocations: revs}, func(a Access) {
		mu.Lock()
		log = append(log, a)
		mu.Unlock()
	})
	patientNode.SetGate(srv)
	src := &liveSource{versions: map[[32]byte][2][]byte{}}
	srv.ServeLive(src)
	store := patientNode.Store()
	imp := func(s string) ipfs.ObjectRef {
		ref, err := store.Import(ctx, strings.NewReader(s), int64(len(s)), nil)
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	const c1, c2 = "labs, version one of the live package", "labs, version two: a new lab result arrived"
	v1, v2 := imp(c1), imp(c2)
	otherV := imp("another live grant's package, not the family's")

	now := uint64(time.Now().Unix())
	mk := func(grantee *secp256k1.PrivateKey, rid byte, ops grant.Operations, depth uint8) (*grant.Grant, [32]byte) {
		g := &grant.Grant{Domain: domain, GranteeKey: grantee.PubKey().SerializeCompressed(), Operations: ops, Depth: depth,
			NotBefore: now - 10, ExpiresAt: now + 3600, RevocationID: [32]byte{rid}, Nonce: uint64(rid)}
		if err := g.Sign(patient); err != nil {
			t.Fatal(err)
		}
		h, _ := g.Hash()
		return g, h
	}
	g, gh := mk(family, 20, grant.Read|grant.Delegate, 1)
	other, oh := mk(stranger, 21, grant.Read, 0)
	nameKey, name, _ := live.NameKey(bytes.Repeat([]byte{5}, 32))
	otherKey, _, _ := live.NameKey(bytes.Repeat([]byte{6}, 32))
	src.publish(t, patient, otherKey, oh, 1, otherV.Root)

	familyNode := node(t, 22, nil)
	from := []peer.AddrInfo{patientNode.AddrInfo()}
	if err := familyNode.Host().Connect(ctx, patientNode.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	// No version yet.
	if _, _, err := FetchLive(ctx, familyNode.Host(), patientNode.ID(), grant.Chain{g}, family); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), ReasonNoLive) {
		t.Fatalf("before publishing: %v", err)
	}
	// Fetch the latest, check it, fetch its package.
	fetch := func(wantSeq uint64, want ipfs.ObjectRef, content string) {
		t.Helper()
		rec, env, err := FetchLive(ctx, familyNode.Host(), patientNode.ID(), grant.Chain{g}, family)
		if err != nil {
			t.Fatal(err)
		}
		e, err := live.OpenRecord(name, rec, env)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Verify(address(patient), gh); err != nil || e.Seq != wantSeq || e.Root != want.Root {
			t.Fatalf("version %+v: %v", e, err)
		}
		var got bytes.Buffer
		if err := familyNode.Fetch(ctx, want, from, &got, nil); err != nil || got.String() != content {
			t.Fatalf("fetch version %d: %v", wantSeq, err)
		}
	}
	src.publish(t, patient, nameKey, gh, 1, v1.Root)
	fetch(1, v1, c1)
	if !srv.Allowed(familyNode.ID(), v1.Root) || srv.Allowed(familyNode.ID(), v2.Root) {
		t.Fatal("gate after version 1")
	}
	// A new version: fetching again returns it and the gate admits it.
	src.publish(t, patient, nameKey, gh, 2, v2.Root)
	fetch(2, v2, c2)
	if !srv.Allowed(familyNode.ID(), v2.Root) || srv.Sessions() != 1 {
		t.Fatalf("gate after version 2 (%d sessions)", srv.Sessions())
	}
	// The session admits no other grant's roots.
	if srv.Allowed(familyNode.ID(), otherV.Root) {
		t.Fatal("another live grant's root admitted")
	}
	if err := familyNode.Fetch(ctx, otherV, from, io.Discard, nil); !errors.Is(err, ipfs.ErrNotServed) {
		t.Fatalf("other grant's package: %v", err)
	}
	// Someone else's live grant, presented without its key: refused.
	if _, _, err := FetchLive(ctx, familyNode.Host(), patientNode.ID(), grant.Chain{other}, family); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "another key") {
		t.Fatalf("other grant: %v", err)
	}
	// A delegated chain is refused.
	d := &grant.Grant{Domain: domain, GranteeKey: stranger.PubKey().SerializeCompressed(), Parent: gh, Operations: grant.Read,
		NotBefore: now - 10, ExpiresAt: now + 60, RevocationID: [32]byte{22}, Nonce: 22}
	if err := d.Sign(family); err != nil {
		t.Fatal(err)
	}
	strangerNode := node(t, 23, nil)
	if err := strangerNode.Host().Connect(ctx, patientNode.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := FetchLive(ctx, strangerNode.Host(), patientNode.ID(), grant.Chain{g, d}, stranger); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), ReasonLiveDelegated) {
		t.Fatalf("delegated: %v", err)
	}
	// Revoked: the session ends and fetching again is refused.
	revs.mu.Lock()
	revs.revoked[g.RevocationID] = now
	revs.mu.Unlock()
	if n := srv.Refresh(ctx); n != 1 || srv.Allowed(familyNode.ID(), v2.Root) {
		t.Fatalf("refresh dropped %d", n)
	}
	if _, _, err := FetchLive(ctx, familyNode.Host(), patientNode.ID(), grant.Chain{g}, family); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("after revocation: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	var granted int
	for _, a := range log {
		if !a.Live {
			t.Fatalf("access %+v not marked live", a)
		}
		if a.Granted {
			granted++
			if a.Grantee != address(family) || a.GrantHash != gh {
				t.Fatalf("access %+v", a)
			}
		}
	}
	if granted != 2 || len(log) != 6 {
		t.Fatalf("%d granted of %d accesses: %+v", granted, len(log), log)
	}
}

// TestLiveKeeper: a keeper answers a live fetch only for a version whose
// package it holds for the patient.
func TestLiveKeeper(t *testing.T) {
	ctx := context.Background()
	patient, family := key(1), key(2)
	revs := &revocations{revoked: map[[32]byte]uint64{}}
	keeperNode := node(t, 13, nil)
	hold := holdings{patient: address(patient), held: map[cid.Cid]bool{}}
	srv := NewKeeperServer(keeperNode.Host(), hold, grant.Policy{Domain: domain, Revocations: revs}, nil)
	keeperNode.SetGate(srv)
	src := &liveSource{versions: map[[32]byte][2][]byte{}}
	srv.ServeLive(src)
	content := "labs kept by the keeper for the patient"
	ref, err := keeperNode.Store().Import(ctx, strings.NewReader(content), int64(len(content)), nil)
	if err != nil {
		t.Fatal(err)
	}
	now := uint64(time.Now().Unix())
	g := &grant.Grant{Domain: domain, GranteeKey: family.PubKey().SerializeCompressed(), Operations: grant.Read,
		NotBefore: now - 10, ExpiresAt: now + 3600, RevocationID: [32]byte{30}, Nonce: 30}
	if err := g.Sign(patient); err != nil {
		t.Fatal(err)
	}
	gh, _ := g.Hash()
	nameKey, _, _ := live.NameKey(bytes.Repeat([]byte{5}, 32))
	src.publish(t, patient, nameKey, gh, 1, ref.Root)

	familyNode := node(t, 24, nil)
	if err := familyNode.Host().Connect(ctx, keeperNode.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := FetchLive(ctx, familyNode.Host(), keeperNode.ID(), grant.Chain{g}, family); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), ReasonNotHeld) {
		t.Fatalf("not held: %v", err)
	}
	hold.held[ref.Root] = true
	if _, _, err := FetchLive(ctx, familyNode.Host(), keeperNode.ID(), grant.Chain{g}, family); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := familyNode.Fetch(ctx, ref, []peer.AddrInfo{keeperNode.AddrInfo()}, &got, nil); err != nil || got.String() != content {
		t.Fatalf("fetch from keeper: %v", err)
	}
	// A version signed by someone else than the patient is not handed out.
	forged := live.Envelope{Grant: gh, Seq: 2, Root: ref.Root, Issued: time.Now().Unix()}
	if err := forged.Sign(family); err != nil {
		t.Fatal(err)
	}
	rec, _ := live.NewRecord(nameKey, forged, time.Now())
	src.mu.Lock()
	src.versions[gh] = [2][]byte{rec, forged.Encode()}
	src.mu.Unlock()
	if _, _, err := FetchLive(ctx, familyNode.Host(), keeperNode.ID(), grant.Chain{g}, family); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), ReasonLiveUnavailable) {
		t.Fatalf("forged version: %v", err)
	}
}
