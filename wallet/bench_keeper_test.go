package wallet

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/internal/procgroup"
	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// Benchmarks of the keeper (issue 13's performance table). Every figure is
// a ratio against a baseline measured in the same run; nothing here asserts
// a time. What is checked is correctness: every redemption returns the
// shared records, and no block reaches a peer without a grant.

// bigPatient is a wallet holding a Patient and mib DocumentReferences of
// about 1 MiB each (768 KiB of inline attachment data, base64), so that a
// share package of all its records is about mib MiB. The data is a fixed
// pattern: the package is encrypted, its content does not matter to the
// transfer. It returns the selection of every record.
func bigPatient(tb testing.TB, mib int) (*Wallet, Selection) {
	tb.Helper()
	w := newWallet(tb)
	entries := []any{map[string]any{"resource": map[string]any{
		"resourceType": "Patient", "id": "bench-patient",
		"name": []any{map[string]any{"family": "Benchmark", "given": []any{"Patience"}}},
	}}}
	chunk := make([]byte, 768<<10)
	for i := range mib {
		for j := range chunk {
			chunk[j] = byte(i*131 + j*7 + j>>9)
		}
		entries = append(entries, map[string]any{"resource": map[string]any{
			"resourceType": "DocumentReference", "id": fmt.Sprintf("bench-doc-%d", i), "status": "current",
			"subject": map[string]any{"reference": "Patient/bench-patient"},
			"date":    "2024-01-02T00:00:00Z",
			"content": []any{map[string]any{"attachment": map[string]any{
				"contentType": "text/plain", "data": base64.StdEncoding.EncodeToString(chunk),
			}}},
		}})
	}
	data, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "collection", "entry": entries})
	must(tb, err)
	res, err := w.ImportFHIR(context.Background(), "bench.json", data)
	must(tb, err)
	if len(res.Records) != mib+1 {
		tb.Fatalf("imported %d records, want %d", len(res.Records), mib+1)
	}
	return w, Selection{Records: res.Records}
}

// granteeClone opens a fresh wallet from the grantee's recovery phrase: the
// same keys (so the one grant is its to redeem) with its own, empty block
// store, and — unlike a real restored wallet — its own libp2p identity,
// seeded by i, so that many clones are many peers to the node serving them.
// This is how the benchmarks run many grantees in one process without one
// grant, and one pushed package, per grantee; the scrypt cost is the tests'
// low work factor (fast), so what is measured is the nodes, not the KDF.
func granteeClone(tb testing.TB, phrase identity.Phrase, i int) *Wallet {
	tb.Helper()
	w, err := Create(filepath.Join(tb.TempDir(), "g"), phrase, pass, fast)
	must(tb, err)
	tb.Cleanup(func() { w.Lock() })
	seed := sha256.Sum256([]byte(fmt.Sprintf("benchmark grantee %d", i)))
	key, err := ipfs.PeerKeyFromSeed(seed[:])
	must(tb, err)
	w.mu.Lock()
	w.peerKey = key
	w.mu.Unlock()
	return w
}

// timedRedeem redeems link and checks it returns the records of want,
// served by the peer named wantPeer.
func timedRedeem(tb testing.TB, g *Wallet, link string, chain ChainConfig, want []string, wantPeer string) time.Duration {
	tb.Helper()
	start := time.Now()
	red, err := g.Redeem(context.Background(), link, chain, RedeemOptions{Listen: ipfs.LoopbackListen})
	d := time.Since(start)
	if err != nil {
		tb.Fatalf("redeem: %v", err)
	}
	if !strings.HasSuffix(red.Provider, "/p2p/"+wantPeer) || red.Via != ViaDirect {
		tb.Fatalf("served by %s (%s), want %s directly", red.Provider, red.Via, wantPeer)
	}
	if !slices.Equal(resourceSet(tb, red.Bundle), want) {
		tb.Fatal("the redeemed bundle differs from the share package")
	}
	return d
}

// benchKeeperMiB is the package size of BenchmarkRedeemKeeperVsDirect.
const benchKeeperMiB = 8

// BenchmarkRedeemKeeperVsDirect redeems the same records (two grants of one
// selection, about 8 MiB: one naming only the patient's node, one naming
// only its keeper) directly from the patient's node and through the keeper,
// alternating which goes first, each time by a fresh grantee wallet (an
// empty block store). A redemption is all of it: verification, the
// presentation, the bitswap fetch and the decryption. Reported: mean
// direct-ms and keeper-ms, and ratio = keeper / direct (goal <= 1.3).
func BenchmarkRedeemKeeperVsDirect(b *testing.B) {
	ctx := context.Background()
	_, chain := startDevnet(b)
	patient, sel := bigPatient(b, benchKeeperMiB)
	keeperW := newWallet(b)
	srv, err := patient.Serve(ctx, ServeConfig{Listen: tcpLoopback, Chain: chain})
	must(b, err)
	defer srv.Close()
	k, err := keeperW.Keep(ctx, KeeperConfig{Listen: tcpLoopback, Chain: chain})
	must(b, err)
	defer k.Close()
	_, err = patient.AddKeeper(ctx, k.Addrs()[0], "bench keeper")
	must(b, err)

	phrase, err := identity.NewPhrase()
	must(b, err)
	first := granteeClone(b, phrase, 0)
	req := GrantRequest{To: first.Info().DID, Selection: sel, Duration: time.Hour}
	req.Providers = srv.Addrs()
	direct, err := patient.IssueGrant(ctx, req, chain)
	must(b, err)
	req.Providers = []string{k.Addrs()[0]}
	kept, err := patient.IssueGrant(ctx, req, chain)
	must(b, err)
	avail, err := patient.PushToKeepers(ctx, kept.Record)
	must(b, err)
	if len(avail) != 2 || !avail[1].OK {
		b.Fatalf("push to the keeper: %+v", avail)
	}
	pkg, _, err := patient.SharePackage(ctx, sel, testclock.Now())
	must(b, err)
	want := resourceSet(b, pkg)

	var tDirect, tKeeper time.Duration
	clone := 1
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		gd, gk := granteeClone(b, phrase, clone), granteeClone(b, phrase, clone+1)
		clone += 2
		b.StartTimer()
		if i%2 == 0 {
			tDirect += timedRedeem(b, gd, direct.Link, chain, want, srv.PeerID())
			tKeeper += timedRedeem(b, gk, kept.Link, chain, want, k.PeerID())
		} else {
			tKeeper += timedRedeem(b, gk, kept.Link, chain, want, k.PeerID())
			tDirect += timedRedeem(b, gd, direct.Link, chain, want, srv.PeerID())
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(tDirect.Milliseconds())/n, "direct-ms")
	b.ReportMetric(float64(tKeeper.Milliseconds())/n, "keeper-ms")
	b.ReportMetric(float64(tKeeper)/float64(tDirect), "ratio")
	b.ReportMetric(float64(len(pkg))/(1<<20), "package-MiB")
}

// Load figures of BenchmarkKeeperUnderLoad.
const (
	loadMiB       = 16
	loadGrantees  = 50
	loadStrangers = 10
)

// keeperChildResult is what the keeper child prints when its stdin closes.
type keeperChildResult struct {
	PeakRSS  int64 `json:"peakRSS"` // VmHWM, bytes
	Served   int64 `json:"served"`  // blocks sent
	Refused  int64 `json:"refused"` // block requests the gate refused
	Sessions int   `json:"sessions"`
}

// vmHWM returns this process's peak resident set (VmHWM) in bytes, as
// ipfs's rss_test.go reads it.
func vmHWM() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}

// TestKeeperBenchChild is the keeper of BenchmarkKeeperUnderLoad, in a
// process of its own so that its peak RSS is the keeper's alone (the
// pattern of ipfs's rss_test.go): HW_KEEPER_CHAIN is the chain config
// (JSON). It prints KEEPER-ADDR, keeps until its stdin closes, then prints
// KEEPER-RESULT.
func TestKeeperBenchChild(t *testing.T) {
	env := os.Getenv("HW_KEEPER_CHAIN")
	if env == "" {
		t.Skip("child process of BenchmarkKeeperUnderLoad")
	}
	var chain ChainConfig
	must(t, json.Unmarshal([]byte(env), &chain))
	w := newWallet(t)
	k, err := w.Keep(context.Background(), KeeperConfig{Listen: tcpLoopback, Chain: chain})
	must(t, err)
	defer k.Close()
	fmt.Printf("KEEPER-ADDR %s\n", k.Addrs()[0])
	io.Copy(io.Discard, os.Stdin)
	var res keeperChildResult
	res.Served, res.Refused = k.BlockStats()
	res.Sessions = k.Sessions()
	res.PeakRSS = vmHWM()
	out, _ := json.Marshal(res)
	fmt.Printf("KEEPER-RESULT %s\n", out)
}

// keeperChild runs TestKeeperBenchChild and returns its address and a
// function that stops it and returns its result.
func keeperChild(b *testing.B, chain ChainConfig) (string, func() keeperChildResult) {
	b.Helper()
	cfg, _ := json.Marshal(chain)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKeeperBenchChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "HW_KEEPER_CHAIN="+string(cfg))
	procgroup.InOwnGroup(cmd)
	stdin, err := cmd.StdinPipe()
	must(b, err)
	stdout, err := cmd.StdoutPipe()
	must(b, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	must(b, cmd.Start())
	done := make(chan struct{})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var waitErr error
	stopped := false
	b.Cleanup(func() {
		if !stopped {
			procgroup.Stop(cmd, done, 5*time.Second)
		}
	})
	go func() { waitErr = cmd.Wait(); close(done) }()
	var addr string
	for l := range lines {
		if a, ok := strings.CutPrefix(l, "KEEPER-ADDR "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		<-done
		b.Fatalf("keeper child: no address: %v %s", waitErr, stderr.String())
	}
	finish := func() keeperChildResult {
		stdin.Close()
		var res keeperChildResult
		found := false
		for l := range lines {
			if r, ok := strings.CutPrefix(l, "KEEPER-RESULT "); ok {
				found = json.Unmarshal([]byte(r), &res) == nil
			}
		}
		<-done
		stopped = true
		if waitErr != nil || !found {
			b.Fatalf("keeper child: %v %s", waitErr, stderr.String())
		}
		return res
	}
	return addr, finish
}

// BenchmarkKeeperUnderLoad: a keeper (its own process) serves one 16 MiB
// package to 50 grantees redeeming at once while 10 peers without a grant
// ask it for every block of that package. The 50 grantees are clones of
// one grantee wallet (granteeClone: one key and one grant, 50 peers and
// block stores, low scrypt cost). Reported: successes (of 50), lone-ms (one
// grantee alone, before the load), p99-ms under load, ratio = p99 / lone
// (goal <= 5), keeper-RSS-MiB (the keeper process's VmHWM; goal <= 256),
// stranger-blocks (package blocks that reached a peer without a grant;
// must be 0) and refused (block requests the keeper's gate refused).
func BenchmarkKeeperUnderLoad(b *testing.B) {
	ctx := context.Background()
	_, chain := startDevnet(b)
	patient, sel := bigPatient(b, loadMiB)
	addr, finish := keeperChild(b, chain)
	_, err := patient.AddKeeper(ctx, addr, "bench keeper")
	must(b, err)
	kai, err := peer.AddrInfoFromString(addr)
	must(b, err)

	pstore, err := patient.objectStore()
	must(b, err)
	before, err := pstore.Blocks(ctx)
	must(b, err)
	phrase, err := identity.NewPhrase()
	must(b, err)
	first := granteeClone(b, phrase, 0)
	g, err := patient.IssueGrant(ctx, GrantRequest{To: first.Info().DID, Selection: sel, Duration: time.Hour, Providers: []string{addr}}, chain)
	must(b, err)
	after, err := pstore.Blocks(ctx)
	must(b, err)
	// The package's blocks: what issuing the grant added to the store.
	var blocks []cid.Cid
	for _, c := range after {
		if !slices.ContainsFunc(before, c.Equals) {
			blocks = append(blocks, c)
		}
	}
	if len(blocks) < loadMiB {
		b.Fatalf("the package has %d blocks, want at least %d", len(blocks), loadMiB)
	}
	avail, err := patient.PushToKeepers(ctx, g.Record)
	must(b, err)
	if len(avail) != 2 || !avail[1].OK {
		b.Fatalf("push to the keeper: %+v", avail)
	}
	pkg, _, err := patient.SharePackage(ctx, sel, testclock.Now())
	must(b, err)
	want := resourceSet(b, pkg)

	strangers := make([]*ipfs.Node, loadStrangers)
	for i := range strangers {
		n, err := newWallet(b).startNode(ctx, ipfs.LoopbackListen, nil)
		must(b, err)
		defer n.Close()
		strangers[i] = n
	}

	var lone, wall time.Duration
	var loaded []time.Duration
	clone := 1
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		alone := granteeClone(b, phrase, clone)
		clones := make([]*Wallet, loadGrantees)
		for j := range clones {
			clones[j] = granteeClone(b, phrase, clone+1+j)
		}
		clone += 1 + loadGrantees
		b.StartTimer()
		start := time.Now()
		red, err := alone.Redeem(ctx, g.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen})
		lone += time.Since(start)
		must(b, err)
		if !slices.Equal(resourceSet(b, red.Bundle), want) {
			b.Fatal("the lone grantee's bundle differs from the share package")
		}
		loneSum := sha256.Sum256(red.Bundle)

		// The peers without a grant ask for every block until the grantees
		// are done.
		sctx, stop := context.WithCancel(ctx)
		var swg sync.WaitGroup
		for _, s := range strangers {
			for _, c := range blocks {
				swg.Add(1)
				go func() {
					defer swg.Done()
					_ = s.FetchGraph(sctx, c, []peer.AddrInfo{*kai})
				}()
			}
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		loadStart := time.Now()
		for _, w := range clones {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				red, err := w.Redeem(ctx, g.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen})
				d := time.Since(start)
				if err != nil {
					b.Errorf("a grantee under load: %v", err)
					return
				}
				// A hash, not a parse: 50 parses of 16 MiB would take the
				// CPU the others are timed on.
				if sha256.Sum256(red.Bundle) != loneSum {
					b.Error("a grantee under load got a different bundle than the lone grantee")
					return
				}
				mu.Lock()
				loaded = append(loaded, d)
				mu.Unlock()
			}()
		}
		wg.Wait()
		wall += time.Since(loadStart)
		stop()
		swg.Wait()
	}
	b.StopTimer()
	res := finish()

	leaked := 0
	for _, s := range strangers {
		for _, c := range blocks {
			if ok, _ := s.Store().Has(ctx, c); ok {
				leaked++
			}
		}
	}
	if leaked != 0 {
		b.Errorf("%d package blocks reached peers without a grant", leaked)
	}
	if res.Refused == 0 {
		b.Error("the keeper refused no block request: the peers without a grant never asked (the check above could not fail)")
	}
	if len(loaded) != loadGrantees*b.N {
		b.Errorf("%d of %d redemptions under load succeeded", len(loaded), loadGrantees*b.N)
	}
	slices.Sort(loaded)
	var p99 time.Duration
	if len(loaded) > 0 {
		p99 = loaded[(len(loaded)*99+99)/100-1]
	}
	loneAvg := lone / time.Duration(b.N)
	b.ReportMetric(float64(len(loaded))/float64(b.N), "successes")
	b.ReportMetric(float64(loneAvg.Milliseconds()), "lone-ms")
	b.ReportMetric(float64(p99.Milliseconds()), "p99-ms")
	b.ReportMetric(float64(p99)/float64(loneAvg), "ratio")
	// All 50 at once against 50 one after another: the keeper's loss (or
	// gain) under concurrency, whatever the grantees' own CPU costs on this
	// machine (they run in this process, on the same cores as the keeper).
	b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "load-wall-ms")
	b.ReportMetric(float64(wall)/float64(loadGrantees*lone), "serial-ratio")
	b.ReportMetric(float64(res.PeakRSS)/(1<<20), "keeper-RSS-MiB")
	b.ReportMetric(float64(leaked), "stranger-blocks")
	b.ReportMetric(float64(res.Refused), "refused")
}
