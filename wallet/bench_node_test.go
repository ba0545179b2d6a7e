package wallet

import (
	"bufio"
	"context"
	"crypto/sha256"
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

	"github.com/healthwallet/healthwallet/internal/memlimit"
	"github.com/healthwallet/healthwallet/internal/procgroup"
	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// Load figures of BenchmarkNodeUnderLoad (issue 16).
const (
	nodeLoadMiB    = 8
	nodeLone       = 5 // redemptions one at a time, for the CPU baseline
	nodeChildLabel = "NODE-ADDR "
)

// TestNodeBenchChild is the patient's node of BenchmarkNodeUnderLoad in a
// process of its own, as `healthwallet node` runs it: the node's memory
// limit, an unlock of the wallet in HW_NODE_HOME at the default scrypt work
// factor, then Serve with the chain config in HW_NODE_CHAIN. It prints
// NODE-ADDR and serves until its stdin closes, then prints NODE-RESULT
// (blocks served and refused).
func TestNodeBenchChild(t *testing.T) {
	home := os.Getenv("HW_NODE_HOME")
	if home == "" {
		t.Skip("child process of BenchmarkNodeUnderLoad")
	}
	var chain ChainConfig
	must(t, json.Unmarshal([]byte(os.Getenv("HW_NODE_CHAIN")), &chain))
	memlimit.Apply(memlimit.Node)
	w, err := Unlock(home, pass)
	must(t, err)
	defer w.Lock()
	w.SetClock(testclock.Now)
	srv, err := w.Serve(context.Background(), ServeConfig{Listen: tcpLoopback, Chain: chain})
	must(t, err)
	defer srv.Close()
	fmt.Printf("%s%s\n", nodeChildLabel, srv.Addrs()[0])
	io.Copy(io.Discard, os.Stdin)
	served, refused := srv.BlockStats()
	fmt.Printf("NODE-RESULT %d %d\n", served, refused)
}

// procStat is what the benchmark reads of another process in /proc.
type procStat struct {
	cpu       time.Duration // utime + stime
	rss, peak int64         // VmRSS, VmHWM (bytes)
}

func readProc(tb testing.TB, pid int) procStat {
	tb.Helper()
	var st procStat
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	must(tb, err)
	// Fields after the command name (which may hold spaces) in ")".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of proc(5)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	st.cpu = time.Duration(ut+stt) * time.Second / 100 // USER_HZ
	b, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	must(tb, err)
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "VmRSS:":
				st.rss = kb << 10
			case "VmHWM:":
				st.peak = kb << 10
			}
		}
	}
	return st
}

// BenchmarkNodeUnderLoad: the patient's node (its own process, unlocked at
// the default work factor as `healthwallet node` is) serves one 8 MiB
// package to 50 grantees redeeming at once, while 10 peers without a grant
// ask it for every block of that package. The grantees are clones of one
// grantee wallet (granteeClone: one key, one grant, 50 peers and block
// stores, low scrypt cost), so what the node does is measured, not 50
// unlocks. Reported: successes (of 50); node-cpu-lone-ms and
// node-cpu-load-ms, the node's CPU (utime+stime) per redemption alone and
// under load, and cpu-ratio = load / lone; node-peak-MiB, the node's VmHWM
// from after its unlock to the end of the load (goal <= 128), beside
// node-idle-MiB (VmRSS serving nothing, before the first redemption) and
// node-life-peak-MiB (VmHWM including the unlock's scrypt); stranger-blocks
// (package blocks that reached a peer without a grant; must be 0).
func BenchmarkNodeUnderLoad(b *testing.B) {
	ctx := context.Background()
	_, chain := startDevnet(b)
	// The patient: a wallet sealed at the default work factor, so the node
	// child's unlock costs what a real one does.
	home := filepath.Join(b.TempDir(), "patient")
	pp, err := identity.NewPhrase()
	must(b, err)
	seeded, sel := bigPatient(b, nodeLoadMiB)
	patient, err := Create(home, pp, pass, Options{Now: testclock.Now})
	must(b, err)
	pkgIn, _, err := seeded.SharePackage(ctx, sel, testclock.Now())
	must(b, err)
	res, err := patient.ImportFHIR(ctx, "bench.json", pkgIn)
	must(b, err)
	sel = Selection{Records: res.Records}
	pstore, err := patient.objectStore()
	must(b, err)
	before, err := pstore.Blocks(ctx)
	must(b, err)
	phrase, err := identity.NewPhrase()
	must(b, err)
	first := granteeClone(b, phrase, 0)
	pkg, _, err := patient.SharePackage(ctx, sel, testclock.Now())
	must(b, err)
	want := resourceSet(b, pkg)

	cfg, _ := json.Marshal(chain)
	cmd := exec.Command(os.Args[0], "-test.run=^TestNodeBenchChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "HW_NODE_HOME="+home, "HW_NODE_CHAIN="+string(cfg))
	procgroup.InOwnGroup(cmd)
	stdin, err := cmd.StdinPipe()
	must(b, err)
	stdout, err := cmd.StdoutPipe()
	must(b, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	must(b, patient.Lock())
	must(b, cmd.Start())
	done := make(chan struct{})
	stopped := false
	b.Cleanup(func() {
		if !stopped {
			procgroup.Stop(cmd, done, 5*time.Second)
		}
	})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	var addr string
	for l := range lines {
		if a, ok := strings.CutPrefix(l, nodeChildLabel); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		<-done
		b.Fatalf("node child: no address: %v %s", waitErr, stderr.String())
	}
	nai, err := peer.AddrInfoFromString(addr)
	must(b, err)
	pid := cmd.Process.Pid

	// The grant, issued by the patient's wallet while its node runs in the
	// child (the two processes share the wallet home, as the app and
	// `healthwallet node` do).
	patient, err = Unlock(home, pass)
	must(b, err)
	patient.SetClock(testclock.Now)
	g, err := patient.IssueGrant(ctx, GrantRequest{To: first.Info().DID, Selection: sel, Duration: time.Hour, Providers: []string{addr}}, chain)
	must(b, err)
	pstore, err = patient.objectStore()
	must(b, err)
	after, err := pstore.Blocks(ctx)
	must(b, err)
	must(b, patient.Lock())
	var blocks []cid.Cid
	for _, c := range after {
		if !slices.ContainsFunc(before, c.Equals) {
			blocks = append(blocks, c)
		}
	}
	if len(blocks) < nodeLoadMiB {
		b.Fatalf("the package has %d blocks, want at least %d", len(blocks), nodeLoadMiB)
	}

	strangers := make([]*ipfs.Node, loadStrangers)
	for i := range strangers {
		n, err := newWallet(b).startNode(ctx, ipfs.LoopbackListen, nil)
		must(b, err)
		defer n.Close()
		strangers[i] = n
	}

	idle := readProc(b, pid)
	var cpuLone, cpuLoad time.Duration
	var peak int64
	successes := 0
	clone := 1
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		lone := make([]*Wallet, nodeLone)
		for j := range lone {
			lone[j] = granteeClone(b, phrase, clone+j)
		}
		clones := make([]*Wallet, loadGrantees)
		for j := range clones {
			clones[j] = granteeClone(b, phrase, clone+nodeLone+j)
		}
		clone += nodeLone + loadGrantees
		b.StartTimer()
		var loneSum [32]byte
		s0 := readProc(b, pid)
		for _, w := range lone {
			red, err := w.Redeem(ctx, g.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen})
			must(b, err)
			if !slices.Equal(resourceSet(b, red.Bundle), want) {
				b.Fatal("a lone grantee's bundle differs from the share package")
			}
			loneSum = sha256.Sum256(red.Bundle)
		}
		s1 := readProc(b, pid)
		cpuLone += s1.cpu - s0.cpu
		// The peak under load: reset VmHWM (proc(5) clear_refs "5"), so the
		// unlock's scrypt, long released, does not count.
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
			b.Logf("cannot reset the node's VmHWM (%v): its peak includes the unlock", err)
		}

		sctx, stop := context.WithCancel(ctx)
		var swg sync.WaitGroup
		for _, s := range strangers {
			for _, c := range blocks {
				swg.Add(1)
				go func() {
					defer swg.Done()
					_ = s.FetchGraph(sctx, c, []peer.AddrInfo{*nai})
				}()
			}
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, w := range clones {
			wg.Add(1)
			go func() {
				defer wg.Done()
				red, err := w.Redeem(ctx, g.Link, chain, RedeemOptions{Listen: ipfs.LoopbackListen})
				if err != nil {
					b.Errorf("a grantee under load: %v", err)
					return
				}
				if sha256.Sum256(red.Bundle) != loneSum {
					b.Error("a grantee under load got a different bundle than the lone grantees")
					return
				}
				mu.Lock()
				successes++
				mu.Unlock()
			}()
		}
		wg.Wait()
		stop()
		swg.Wait()
		s2 := readProc(b, pid)
		cpuLoad += s2.cpu - s1.cpu
		peak = max(peak, s2.peak)
	}
	b.StopTimer()
	stdin.Close()
	var served, refused int64
	found := false
	for l := range lines {
		if r, ok := strings.CutPrefix(l, "NODE-RESULT "); ok {
			_, err := fmt.Sscan(r, &served, &refused)
			found = err == nil
		}
	}
	<-done
	stopped = true
	if waitErr != nil || !found {
		b.Fatalf("node child: %v %s", waitErr, stderr.String())
	}

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
	if refused == 0 {
		b.Error("the node refused no block request: the peers without a grant never asked (the check above could not fail)")
	}
	if successes != loadGrantees*b.N {
		b.Errorf("%d of %d redemptions under load succeeded", successes, loadGrantees*b.N)
	}
	n := float64(b.N)
	lone := float64(cpuLone.Milliseconds()) / (n * nodeLone)
	load := float64(cpuLoad.Milliseconds()) / (n * loadGrantees)
	b.ReportMetric(float64(successes)/n, "successes")
	b.ReportMetric(lone, "node-cpu-lone-ms")
	b.ReportMetric(load, "node-cpu-load-ms")
	b.ReportMetric(load/lone, "cpu-ratio")
	b.ReportMetric(float64(peak)/(1<<20), "node-peak-MiB")
	b.ReportMetric(float64(idle.rss)/(1<<20), "node-idle-MiB")
	b.ReportMetric(float64(idle.peak)/(1<<20), "node-life-peak-MiB")
	b.ReportMetric(float64(leaked), "stranger-blocks")
	b.ReportMetric(float64(refused), "refused")
}
