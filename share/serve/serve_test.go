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
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/share/grant"
)

type revocations struct {
	mu      sync.Mutex
	revoked map[[32]byte]uint64
}

func (r *revocations) RevokedAt(_ context.Context, ids [][32]byte) ([]uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]uint64, len(ids))
	for i, id := range ids {
		out[i] = r.revoked[id]
	}
	return out, nil
}

func key(b byte) *secp256k1.PrivateKey {
	return secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{b}, 32))
}

func address(k *secp256k1.PrivateKey) common.Address {
	ek, _ := crypto.ToECDSA(k.Serialize())
	return crypto.PubkeyToAddress(ek.PublicKey)
}

var domain = grant.Domain{ChainID: 1337, Registry: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}

func node(t *testing.T, seed byte, gate ipfs.Gate) *ipfs.Node {
	t.Helper()
	s, err := ipfs.OpenStore(t.TempDir(), ipfs.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := ipfs.PeerKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	n, err := ipfs.StartNode(context.Background(), s, ipfs.NodeConfig{Key: k, Gate: gate, StallTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(); s.Close() })
	return n
}

func TestPresentAndServe(t *testing.T) {
	ctx := context.Background()
	patient, specialist, thief := key(1), key(2), key(3)
	revs := &revocations{revoked: map[[32]byte]uint64{}}
	var mu sync.Mutex
	var log []Access

	patientNode := node(t, 10, nil)
	srv := NewServer(patientNode.Host(), address(patient), grant.Policy{Domain: domain, Revocations: revs}, func(a Access) {
		mu.Lock()
		log = append(log, a)
		mu.Unlock()
	})
	patientNode.SetGate(srv)
	store := patientNode.Store()
	content := strings.Repeat("FHIR bundle ", 100000)
	ref, err := store.Import(ctx, strings.NewReader(content), int64(len(content)), nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := store.Import(ctx, strings.NewReader("another package"), 15, nil)

	now := uint64(time.Now().Unix())
	g := &grant.Grant{Domain: domain, GranteeKey: specialist.PubKey().SerializeCompressed(), Packages: [][]byte{ref.Root.Bytes()},
		Operations: grant.Read | grant.Export, NotBefore: now - 10, ExpiresAt: now + 3600, RevocationID: [32]byte{7}, Nonce: 1}
	if err := g.Sign(patient); err != nil {
		t.Fatal(err)
	}
	chain := grant.Chain{g}
	from := []peer.AddrInfo{patientNode.AddrInfo()}

	specialistNode := node(t, 20, nil)
	// Nothing before presenting.
	if err := specialistNode.Fetch(ctx, ref, from, io.Discard, nil); !errors.Is(err, ipfs.ErrNotServed) {
		t.Fatalf("before presenting: %v", err)
	}
	// A thief with the link but not the key is refused.
	thiefNode := node(t, 30, nil)
	if _, err := Present(ctx, thiefNode.Host(), patientNode.AddrInfo(), chain, thief); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "another key") {
		t.Fatalf("thief: %v", err)
	}
	// The specialist presents and fetches.
	exp, err := Present(ctx, specialistNode.Host(), patientNode.AddrInfo(), chain, specialist)
	if err != nil {
		t.Fatal(err)
	}
	if exp.Unix() != int64(g.ExpiresAt) {
		t.Fatalf("expiry %v", exp)
	}
	var got bytes.Buffer
	if err := specialistNode.Fetch(ctx, ref, from, &got, nil); err != nil || got.String() != content {
		t.Fatalf("fetch after presenting: %v", err)
	}
	// Only the granted package.
	if err := specialistNode.Fetch(ctx, other, from, io.Discard, nil); !errors.Is(err, ipfs.ErrNotServed) {
		t.Fatalf("ungranted package: %v", err)
	}
	// Revoked: the session goes, the node stops serving, and a new
	// presentation is refused as revoked.
	revs.mu.Lock()
	revs.revoked[g.RevocationID] = now
	revs.mu.Unlock()
	if n := srv.Refresh(ctx); n != 1 || srv.Sessions() != 0 {
		t.Fatalf("refresh dropped %d, %d sessions left", n, srv.Sessions())
	}
	if srv.Allowed(specialistNode.ID(), ref.Root) {
		t.Fatal("still allowed after revocation")
	}
	if _, err := Present(ctx, specialistNode.Host(), patientNode.AddrInfo(), chain, specialist); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "grant revoked") {
		t.Fatalf("after revocation: %v", err)
	}
	// A malformed presentation is refused with a reason, not a hang.
	if _, err := Present(ctx, specialistNode.Host(), patientNode.AddrInfo(), grant.Chain{{Domain: domain}}, specialist); err == nil {
		t.Fatal("unsigned chain accepted")
	}

	mu.Lock()
	defer mu.Unlock()
	if len(log) != 3 {
		t.Fatalf("access log has %d entries, want 3 (thief, specialist, revoked)", len(log))
	}
	if log[0].Granted || !log[1].Granted || log[2].Granted || log[1].Grantee != address(specialist) || log[1].Peer != specialistNode.ID() {
		t.Fatalf("access log %+v", log)
	}
	if !strings.Contains(log[2].Reason, "revoked") {
		t.Fatalf("refusal reason %q", log[2].Reason)
	}
}

// TestRelayedChallengeRefused: a node the grantee presents to relays the
// patient's node's challenge to the grantee and the grantee's proof back.
// The proof is bound to the connection it was made on (the relay and the
// grantee), so the patient's node refuses it and serves the relay nothing.
func TestRelayedChallengeRefused(t *testing.T) {
	ctx := context.Background()
	patient, specialist := key(1), key(2)
	revs := &revocations{revoked: map[[32]byte]uint64{}}
	patientNode := node(t, 11, nil)
	srv := NewServer(patientNode.Host(), address(patient), grant.Policy{Domain: domain, Revocations: revs}, nil)
	patientNode.SetGate(srv)
	content := "a share package of labs"
	ref, err := patientNode.Store().Import(ctx, strings.NewReader(content), int64(len(content)), nil)
	if err != nil {
		t.Fatal(err)
	}
	now := uint64(time.Now().Unix())
	g := &grant.Grant{Domain: domain, GranteeKey: specialist.PubKey().SerializeCompressed(), Packages: [][]byte{ref.Root.Bytes()},
		Operations: grant.Read, NotBefore: now - 10, ExpiresAt: now + 3600, RevocationID: [32]byte{8}, Nonce: 2}
	if err := g.Sign(patient); err != nil {
		t.Fatal(err)
	}

	relayNode := node(t, 40, nil)
	if err := relayNode.Host().Connect(ctx, patientNode.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	relayNode.Host().SetStreamHandler(ProtocolID, func(in network.Stream) {
		defer in.Close()
		out, err := relayNode.Host().NewStream(ctx, patientNode.ID(), ProtocolID)
		if err != nil {
			in.Reset()
			return
		}
		defer out.Close()
		go io.Copy(out, in)
		io.Copy(in, out)
	})
	specialistNode := node(t, 21, nil)
	_, err = Present(ctx, specialistNode.Host(), relayNode.AddrInfo(), grant.Chain{g}, specialist)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "for another connection") {
		t.Fatalf("relayed proof: %v", err)
	}
	if srv.Sessions() != 0 || srv.Allowed(relayNode.ID(), ref.Root) {
		t.Fatal("the relay got a session")
	}
	// The grantee presenting itself is served.
	if _, err := Present(ctx, specialistNode.Host(), patientNode.AddrInfo(), grant.Chain{g}, specialist); err != nil {
		t.Fatalf("direct: %v", err)
	}
	if !srv.Allowed(specialistNode.ID(), ref.Root) {
		t.Fatal("the grantee is not served")
	}
}
