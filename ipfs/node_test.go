package ipfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

func seedKey(t testing.TB, b byte) []byte {
	return bytes.Repeat([]byte{b}, 32)
}

func startTestNode(t testing.TB, seed byte, gate Gate) *Node {
	t.Helper()
	s, _ := openTestStore(t)
	key, err := PeerKeyFromSeed(seedKey(t, seed))
	if err != nil {
		t.Fatal(err)
	}
	n, err := StartNode(context.Background(), s, NodeConfig{Key: key, Gate: gate, StallTimeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func TestPeerKeyFromSeed(t *testing.T) {
	k1, _ := PeerKeyFromSeed(seedKey(t, 1))
	k2, _ := PeerKeyFromSeed(seedKey(t, 1))
	k3, _ := PeerKeyFromSeed(seedKey(t, 2))
	id1, _ := peer.IDFromPrivateKey(k1)
	id2, _ := peer.IDFromPrivateKey(k2)
	id3, _ := peer.IDFromPrivateKey(k3)
	if id1 != id2 || id1 == id3 {
		t.Fatalf("peer ids %s %s %s", id1, id2, id3)
	}
	if !strings.HasPrefix(id1.String(), "12D3KooW") {
		t.Fatalf("peer id %s is not an Ed25519 identity", id1)
	}
	if _, err := PeerKeyFromSeed([]byte{1}); err == nil {
		t.Fatal("short seed accepted")
	}
}

// TestGatedServing: a peer not on the allow list receives nothing; once
// allowed it gets exactly the DAGs allowed; after revocation nothing new.
func TestGatedServing(t *testing.T) {
	ctx := context.Background()
	allow := NewAllowList()
	server := startTestNode(t, 1, allow)
	client := startTestNode(t, 2, nil)
	data1, data2 := pattern(3*ChunkSize+11), pattern(ChunkSize/2)
	ref1, _ := server.store.Import(ctx, bytes.NewReader(data1), int64(len(data1)), nil)
	ref2, _ := server.store.Import(ctx, bytes.NewReader(data2), int64(len(data2)), nil)
	from := []peer.AddrInfo{server.AddrInfo()}

	err := client.Fetch(ctx, ref1, from, &bytes.Buffer{}, nil)
	if !errors.Is(err, ErrNotServed) || !strings.Contains(err.Error(), server.ID().String()) {
		t.Fatalf("unlisted peer: %v, want ErrNotServed naming %s", err, server.ID())
	}
	if ok, _ := client.store.blocks.Has(ctx, ref1.Root); ok {
		t.Fatal("unlisted peer received the root block")
	}
	if n := len(client.store.Roots()); n != 0 {
		t.Fatalf("unlisted peer holds %d DAGs", n)
	}
	if _, denied := server.Stats(); denied == 0 {
		t.Fatal("gate was never asked")
	}

	allow.Allow(client.ID(), ref1.Root)
	var got bytes.Buffer
	if err := client.Fetch(ctx, ref1, from, &got, nil); err != nil {
		t.Fatalf("allowed fetch: %v", err)
	}
	if !bytes.Equal(got.Bytes(), data1) {
		t.Fatal("fetched bytes differ")
	}
	if ok, _ := client.store.Has(ctx, ref1.Root); !ok {
		t.Fatal("fetched DAG not held locally")
	}
	if err := client.Fetch(ctx, ref2, from, &bytes.Buffer{}, nil); !errors.Is(err, ErrNotServed) {
		t.Fatalf("other DAG: %v, want ErrNotServed", err)
	}

	allow.Allow(client.ID(), ref2.Root)
	allow.Revoke(client.ID())
	if err := client.Fetch(ctx, ref2, from, &bytes.Buffer{}, nil); !errors.Is(err, ErrNotServed) {
		t.Fatalf("after revoke: %v, want ErrNotServed", err)
	}
}

func TestFetchOverQUIC(t *testing.T) {
	ctx := context.Background()
	allow := NewAllowList()
	server := startTestNode(t, 3, allow)
	client := startTestNode(t, 4, nil)
	data := pattern(2*ChunkSize + 1)
	ref, _ := server.store.Import(ctx, bytes.NewReader(data), int64(len(data)), nil)
	allow.AllowEverything(client.ID())
	var quicOnly []ma.Multiaddr
	for _, a := range server.AddrInfo().Addrs {
		if strings.Contains(a.String(), "/quic-v1") {
			quicOnly = append(quicOnly, a)
		}
	}
	if len(quicOnly) == 0 {
		t.Fatalf("no QUIC address in %v", server.AddrInfo().Addrs)
	}
	var got bytes.Buffer
	if err := client.Fetch(ctx, ref, []peer.AddrInfo{{ID: server.ID(), Addrs: quicOnly}}, &got, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatal("bytes differ over QUIC")
	}
}

func TestFetchFromOfflinePeer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	server := startTestNode(t, 5, nil)
	client := startTestNode(t, 6, nil)
	ref, _ := server.store.Import(ctx, strings.NewReader("x"), 1, nil)
	info := server.AddrInfo()
	server.Close()
	err := client.Fetch(ctx, ref, []peer.AddrInfo{info}, &bytes.Buffer{}, nil)
	if !errors.Is(err, ErrPeerUnreachable) || !strings.Contains(err.Error(), info.ID.String()) {
		t.Fatalf("offline peer: %v, want ErrPeerUnreachable naming %s", err, info.ID)
	}
	if err := client.Fetch(ctx, ref, nil, &bytes.Buffer{}, nil); !errors.Is(err, ErrNoPeers) {
		t.Fatalf("no peers: %v", err)
	}
}

// TestStrangerWantsCostNoIndexLookups: a peer the gate allows nothing is
// refused without looking up which DAGs its blocks belong to.
func TestStrangerWantsCostNoIndexLookups(t *testing.T) {
	s, _ := openTestStore(t)
	k, _ := PeerKeyFromSeed(bytes.Repeat([]byte{0x42}, 32))
	friend, stranger := peer.ID("friend-peer-id-0001"), peer.ID("stranger-peer-id-0002")
	allow := NewAllowList()
	n, err := StartNode(t.Context(), s, NodeConfig{Key: k, Gate: allow})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ref, _ := s.Import(t.Context(), bytes.NewReader(pattern(ChunkSize)), ChunkSize, nil)
	allow.Allow(friend, ref.Root)
	lookups := 0
	n.rootsOf = func(c cid.Cid) []cid.Cid { lookups++; return s.index.rootsOf(c) }
	for i := range 100 {
		c, _ := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: 0x12, MhLength: -1}.Sum(fmt.Appendf(nil, "block the stranger wants %d", i))
		if n.allowBlock(stranger, c) {
			t.Fatal("stranger allowed")
		}
	}
	if lookups != 0 {
		t.Fatalf("%d index lookups for a peer allowed nothing", lookups)
	}
	if !n.allowBlock(friend, ref.Root) || lookups != 1 {
		t.Fatalf("friend: %d lookups", lookups)
	}
}
