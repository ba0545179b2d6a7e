package ipfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	ma "github.com/multiformats/go-multiaddr"
)

// startReachNode starts a node on loopback TCP only (a relay's QUIC address
// would give each circuit a second route to compare; one is enough here).
func startReachNode(t testing.TB, seed byte, cfg NodeConfig) *Node {
	t.Helper()
	s, _ := openTestStore(t)
	key, err := PeerKeyFromSeed(seedKey(t, seed))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Key = key
	cfg.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = 3 * time.Second
	}
	n, err := StartNode(context.Background(), s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// circuitOnly returns the AddrInfo of addrs, which must all be
// /p2p-circuit addresses of one peer.
func circuitOnly(t testing.TB, addrs []ma.Multiaddr) peer.AddrInfo {
	t.Helper()
	infos, err := peer.AddrInfosFromP2pAddrs(addrs...)
	if err != nil || len(infos) != 1 {
		t.Fatalf("relay addrs %v: %d peers, %v", addrs, len(infos), err)
	}
	for _, a := range infos[0].Addrs {
		if !isCircuit(a) {
			t.Fatalf("%s is not a circuit address", a)
		}
	}
	return infos[0]
}

// TestFetchThroughRelay: a patient node forced private holds a reservation
// on a keeper's relay; a specialist given only the patient's /p2p-circuit
// address fetches a gated object through it. The connection stays relayed:
// DCUtR is on, but libp2p starts hole punching only on a host with a public
// address, and loopback is not one, so no upgrade happens here.
func TestFetchThroughRelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keeper := startReachNode(t, 0x71, NodeConfig{RelayService: true, Reachability: ReachabilityPublic})
	allow := NewAllowList()
	patient := startReachNode(t, 0x72, NodeConfig{Gate: allow, Relays: []peer.AddrInfo{keeper.AddrInfo()}})
	specialist := startReachNode(t, 0x73, NodeConfig{})
	stranger := startReachNode(t, 0x74, NodeConfig{})

	if err := patient.WaitReservation(ctx); err != nil {
		t.Fatalf("WaitReservation: %v", err)
	}
	raddrs := patient.RelayAddrs()
	want := keeper.AddrInfo().Addrs[0].String() + "/p2p/" + keeper.ID().String() + "/p2p-circuit/p2p/" + patient.ID().String()
	if len(raddrs) != 1 || raddrs[0].String() != want {
		t.Fatalf("RelayAddrs = %v, want [%s]", raddrs, want)
	}
	via := circuitOnly(t, raddrs)
	if via.ID != patient.ID() {
		t.Fatalf("circuit address names %s, not the patient %s", via.ID, patient.ID())
	}

	data := pattern(3*ChunkSize + 12345)
	ref, err := patient.store.Import(ctx, bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	allow.Allow(specialist.ID(), ref.Root)

	var got bytes.Buffer
	if err := specialist.Fetch(ctx, ref, []peer.AddrInfo{via}, &got, nil); err != nil {
		t.Fatalf("fetch through the relay: %v", err)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatal("bytes fetched through the relay differ")
	}
	conns := specialist.Host().Network().ConnsToPeer(patient.ID())
	if len(conns) == 0 || !specialist.Relayed(patient.ID()) {
		t.Fatalf("specialist reached the patient over %d conns, not only relayed", len(conns))
	}
	for _, c := range conns {
		if !c.Stat().Limited || !strings.Contains(c.RemoteMultiaddr().String(), "/p2p-circuit") {
			t.Fatalf("conn %s limited=%v: want a limited circuit", c.RemoteMultiaddr(), c.Stat().Limited)
		}
	}
	if served, _ := patient.Stats(); served == 0 {
		t.Fatal("patient served no block")
	}

	// The gate still holds through the relay: the stranger reaches the
	// patient the same way and gets nothing.
	allow.Allow(stranger.ID()) // present but allowed no root
	err = stranger.Fetch(ctx, ref, []peer.AddrInfo{via}, &bytes.Buffer{}, nil)
	if !errors.Is(err, ErrNotServed) {
		t.Fatalf("stranger through the relay: %v, want ErrNotServed", err)
	}
	if !stranger.Relayed(patient.ID()) {
		t.Fatal("stranger was not connected through the relay")
	}
}

// TestNoReservationNoCircuit: a node that holds no reservation cannot be
// reached through the relay, and a public node holds none.
func TestNoReservationNoCircuit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	keeper := startReachNode(t, 0x81, NodeConfig{RelayService: true, Reachability: ReachabilityPublic})
	allow := NewAllowList()
	// Public with a relay configured: it must not reserve.
	public := startReachNode(t, 0x82, NodeConfig{Gate: allow, Relays: []peer.AddrInfo{keeper.AddrInfo()}, Reachability: ReachabilityPublic})
	plain := startReachNode(t, 0x83, NodeConfig{Gate: allow})
	fetcher := startReachNode(t, 0x84, NodeConfig{})
	allow.AllowEverything(fetcher.ID())
	data := pattern(ChunkSize)
	for _, target := range []*Node{public, plain} {
		ref, err := target.store.Import(ctx, bytes.NewReader(data), int64(len(data)), nil)
		if err != nil {
			t.Fatal(err)
		}
		circ, _ := ma.NewMultiaddr(keeper.AddrInfo().Addrs[0].String() + "/p2p/" + keeper.ID().String() + "/p2p-circuit")
		err = fetcher.Fetch(ctx, ref, []peer.AddrInfo{{ID: target.ID(), Addrs: []ma.Multiaddr{circ}}}, io.Discard, nil)
		if !errors.Is(err, ErrPeerUnreachable) || !strings.Contains(err.Error(), "NO_RESERVATION") {
			t.Fatalf("fetch via relay from a node without reservation: %v, want ErrPeerUnreachable (NO_RESERVATION)", err)
		}
	}
	if a := public.RelayAddrs(); len(a) != 0 {
		t.Fatalf("public node advertises relay addrs %v", a)
	}
	if err := plain.WaitReservation(ctx); !errors.Is(err, ErrNoReservation) {
		t.Fatalf("WaitReservation without relays: %v", err)
	}
	short, stop := context.WithTimeout(ctx, 300*time.Millisecond)
	defer stop()
	if err := public.WaitReservation(short); !errors.Is(err, ErrNoReservation) {
		t.Fatalf("public node WaitReservation: %v, want ErrNoReservation", err)
	}
}

// TestRelayLimits: the relay refuses reservations beyond Reservations and
// from peers RelayClients rejects, and resets a circuit after
// DataPerCircuit bytes; the reservation states the limits.
func TestRelayLimits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	refused := startReachNode(t, 0x94, NodeConfig{})
	keeper := startReachNode(t, 0x91, NodeConfig{
		RelayService: true, Reachability: ReachabilityPublic,
		RelayLimits:  RelayLimits{Reservations: 1, DataPerCircuit: 64 << 10, DurationPerCircuit: time.Minute},
		RelayClients: func(p peer.ID) bool { return p != refused.ID() },
	})
	first := startReachNode(t, 0x92, NodeConfig{})
	second := startReachNode(t, 0x93, NodeConfig{})
	ka := keeper.AddrInfo()

	rsvp, err := client.Reserve(ctx, first.Host(), ka)
	if err != nil {
		t.Fatalf("first reservation: %v", err)
	}
	if rsvp.LimitData != 64<<10 || rsvp.LimitDuration != time.Minute {
		t.Fatalf("reservation limits %d bytes, %v", rsvp.LimitData, rsvp.LimitDuration)
	}
	_, err = client.Reserve(ctx, second.Host(), ka)
	var re client.ReservationError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "RESERVATION_REFUSED") {
		t.Fatalf("second reservation beyond Reservations=1: %v, want RESERVATION_REFUSED", err)
	}
	_, err = client.Reserve(ctx, refused.Host(), ka)
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "PERMISSION_DENIED") {
		t.Fatalf("reservation from a peer RelayClients rejects: %v, want PERMISSION_DENIED", err)
	}

	// Data limit: first echoes nothing, just counts what arrives over a
	// circuit from second; the relay cuts the circuit at 64 KiB.
	const proto = "/healthwallet/test/sink/1"
	got := make(chan int64, 1)
	first.Host().SetStreamHandler(proto, func(s network.Stream) {
		s.SetReadDeadline(time.Now().Add(5 * time.Second))
		hello := make([]byte, 1)
		if _, err := io.ReadFull(s, hello); err != nil {
			got <- -1
			return
		}
		s.Write(hello) // the sender blasts only once the sink runs
		n, _ := io.Copy(io.Discard, s)
		got <- n
		s.Reset()
	})
	circ, _ := ma.NewMultiaddr(ka.Addrs[0].String() + "/p2p/" + ka.ID.String() + "/p2p-circuit")
	if err := second.Connect(ctx, []peer.AddrInfo{{ID: first.ID(), Addrs: []ma.Multiaddr{circ}}}); err != nil {
		t.Fatal(err)
	}
	s, err := second.Host().NewStream(AllowRelayed(ctx), first.ID(), proto)
	if err != nil {
		t.Fatal(err)
	}
	ack := []byte{1}
	if _, err := s.Write(ack); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(s, ack); err != nil {
		t.Fatalf("sink did not answer through the relay: %v", err)
	}
	wn, werr := s.Write(make([]byte, 1<<20))
	s.Close()
	if werr == nil || wn >= 1<<20 {
		t.Fatalf("wrote %d bytes through a 64 KiB circuit, error %v", wn, werr)
	}
	select {
	case n := <-got:
		if n < 0 || n > 64<<10 {
			t.Fatalf("relay forwarded %d bytes past its 64 KiB limit (write error %v)", n, werr)
		}
	case <-ctx.Done():
		t.Fatal("relay did not cut the circuit")
	}
}

func TestParseReachability(t *testing.T) {
	for in, want := range map[string]Reachability{"": ReachabilityDefault, "auto": ReachabilityAuto, " Private": ReachabilityPrivate, "public": ReachabilityPublic} {
		got, err := ParseReachability(in)
		if err != nil || got != want {
			t.Errorf("ParseReachability(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseReachability("sometimes"); !errors.Is(err, ErrBadReachability) {
		t.Fatalf("bad word: %v", err)
	}
	cfg := NodeConfig{Relays: []peer.AddrInfo{{}}}
	if cfg.reachability() != ReachabilityPrivate || (NodeConfig{}).reachability() != ReachabilityAuto {
		t.Fatal("default reachability: private with relays, auto without")
	}
}

// BenchmarkRelayFetch fetches the same 16 MiB object (a share package's
// size) from the same patient node directly and through a keeper's relay
// (DefaultRelayLimits), each into a fresh client, over loopback TCP.
// ratio = relayed throughput / direct throughput (goal ≥ 0.5).
func BenchmarkRelayFetch(b *testing.B) {
	const n = 16 << 20
	ctx := context.Background()
	keeper := startReachNode(b, 0xa1, NodeConfig{RelayService: true, Reachability: ReachabilityPublic})
	allow := NewAllowList()
	patient := startReachNode(b, 0xa2, NodeConfig{Gate: allow, Relays: []peer.AddrInfo{keeper.AddrInfo()}})
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := patient.WaitReservation(wctx); err != nil {
		b.Fatal(err)
	}
	ref, err := patient.store.Import(ctx, randomReader(3, n), n, nil)
	if err != nil {
		b.Fatal(err)
	}
	direct := []peer.AddrInfo{{ID: patient.ID(), Addrs: patient.AddrInfo().Addrs}}
	relayed := []peer.AddrInfo{circuitOnly(b, patient.RelayAddrs())}
	var dTime, rTime time.Duration
	seed := byte(0xb0)
	fetch := func(from []peer.AddrInfo, wantRelayed bool) time.Duration {
		c := startReachNode(b, seed, NodeConfig{StallTimeout: DefaultStallTimeout})
		seed++
		defer c.Close()
		allow.Allow(c.ID(), ref.Root)
		start := time.Now()
		if err := c.Fetch(ctx, ref, from, io.Discard, nil); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		if c.Relayed(patient.ID()) != wantRelayed {
			b.Fatalf("relayed = %v, want %v", !wantRelayed, wantRelayed)
		}
		return d
	}
	b.SetBytes(n)
	i := 0
	for b.Loop() {
		// Alternate the order so neither side always runs second.
		if i%2 == 0 {
			dTime += fetch(direct, false)
			rTime += fetch(relayed, true)
		} else {
			rTime += fetch(relayed, true)
			dTime += fetch(direct, false)
		}
		i++
	}
	b.ReportMetric(mbps(n, dTime, b.N), "direct-MB/s")
	b.ReportMetric(mbps(n, rTime, b.N), "relay-MB/s")
	b.ReportMetric(dTime.Seconds()/rTime.Seconds(), "ratio")
}
