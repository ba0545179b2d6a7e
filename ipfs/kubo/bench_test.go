package kubo

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/healthwallet/healthwallet/internal/kubotest"
	"github.com/healthwallet/healthwallet/ipfs"
)

// BenchmarkKuboGatewayVsBitswap fetches the same 8 MiB encrypted object
// from one Kubo replica two ways, each into a fresh store and decrypted:
// through its trustless gateway (a CAR, every block verified by Fetcher)
// and over bitswap from its swarm address (ipfs.Node.FetchFrom). The
// ratio is gateway time over bitswap time: above 1, the gateway is slower.
func BenchmarkKuboGatewayVsBitswap(b *testing.B) {
	k := kubotest.Start(b)
	ctx := context.Background()
	src := openStore(b)
	data := bytes.Repeat([]byte("healthwallet bench block "), 8<<20/25)
	ref, err := src.Import(ctx, bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		b.Fatal(err)
	}
	c, _ := NewClient(k.API, nil)
	if err := c.Push(ctx, src, ref.Root); err != nil {
		b.Fatal(err)
	}
	id, err := c.ID(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ai, err := peer.AddrInfosFromP2pAddrs(multiaddrs(b, id.Addresses)...)
	if err != nil || len(ai) != 1 {
		b.Fatalf("kubo addresses %v: %v", id.Addresses, err)
	}
	f, _ := NewFetcher(k.Gateway, nil)
	var gw, bs time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		into := openStore(b)
		key, _ := ipfs.PeerKeyFromSeed(bytes.Repeat([]byte{byte(i + 1)}, 32))
		node, err := ipfs.StartNode(ctx, openStore(b), ipfs.NodeConfig{Key: key})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		start := time.Now()
		var out bytes.Buffer
		if err := f.Fetch(ctx, ref.Root, into); err != nil {
			b.Fatal(err)
		}
		if err := into.Export(ctx, ref, &out, nil); err != nil || out.Len() != len(data) {
			b.Fatalf("gateway: %d bytes, %v", out.Len(), err)
		}
		gw += time.Since(start)

		start = time.Now()
		out.Reset()
		if err := node.FetchFrom(ctx, ref, ai[0], &out, nil); err != nil || out.Len() != len(data) {
			b.Fatalf("bitswap: %d bytes, %v", out.Len(), err)
		}
		bs += time.Since(start)
		b.StopTimer()
		node.Close()
		b.StartTimer()
	}
	mb := float64(len(data)) / (1 << 20) * float64(b.N)
	b.ReportMetric(mb/gw.Seconds(), "gateway-MB/s")
	b.ReportMetric(mb/bs.Seconds(), "bitswap-MB/s")
	b.ReportMetric(gw.Seconds()/bs.Seconds(), "gateway/bitswap")
}

func multiaddrs(b *testing.B, ss []string) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, s := range ss {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			b.Fatal(fmt.Errorf("kubo address %q: %w", s, err))
		}
		out = append(out, m)
	}
	return out
}
