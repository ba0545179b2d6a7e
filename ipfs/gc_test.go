package ipfs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

var errStopped = errors.New("stopped between block writes and index")

// setBatchStored installs the ImportBatch hook for one test.
func setBatchStored(t *testing.T, f func() error) {
	t.Helper()
	batchStored = f
	t.Cleanup(func() { batchStored = nil })
}

func blockCount(t testing.TB, s *Store) int {
	t.Helper()
	bs, err := s.Blocks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(bs)
}

// TestImportBatchWriteOrder holds ImportBatch to its documented order:
// every block is in the block store before any root is in the index, and
// both are there when it returns.
func TestImportBatchWriteOrder(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	contents := [][]byte{pattern(100), pattern(3 * ChunkSize), pattern(5000)}
	var atStep3 int
	setBatchStored(t, func() error {
		if r := s.Roots(); len(r) != 0 {
			t.Errorf("index names %d roots before step 3", len(r))
		}
		atStep3 = blockCount(t, s)
		return nil
	})
	refs, err := s.ImportBatch(ctx, contents)
	if err != nil {
		t.Fatal(err)
	}
	// 100 B and 5000 B: one block each; 3 MiB plus padding and framing: 4
	// leaves and a root.
	if atStep3 != 7 {
		t.Fatalf("%d blocks stored before the index step, want 7", atStep3)
	}
	if got := len(s.Roots()); got != 3 {
		t.Fatalf("index names %d roots after ImportBatch, want 3", got)
	}
	for i, ref := range refs {
		if ok, err := s.Has(ctx, ref.Root); !ok || err != nil {
			t.Fatalf("object %d not complete after ImportBatch: %v", i, err)
		}
	}
}

// TestGCSweepsUnindexedBlocks stops an import between its block writes
// and its index transaction, as a crash would, and runs GC: the blocks no
// index entry names are deleted, kept objects stay. Before GC walked the
// block store, the 7 blocks stayed for good.
func TestGCSweepsUnindexedBlocks(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	keep, err := s.ImportBatch(ctx, [][]byte{pattern(2 * ChunkSize)})
	if err != nil {
		t.Fatal(err)
	}
	before := blockCount(t, s)
	setBatchStored(t, func() error { return errStopped })
	if _, err := s.ImportBatch(ctx, [][]byte{pattern(100), pattern(3 * ChunkSize), pattern(5000)}); !errors.Is(err, errStopped) {
		t.Fatalf("import: %v, want the injected stop", err)
	}
	if got := blockCount(t, s); got != before+7 {
		t.Fatalf("%d blocks after the stopped import, want %d", got, before+7)
	}
	res, err := s.GC(ctx, []cid.Cid{keep[0].Root})
	if err != nil {
		t.Fatal(err)
	}
	if res.Roots != 0 || res.Blocks != 7 || res.Stray != 7 || res.Deferred {
		t.Fatalf("GC = %+v, want 7 stray blocks deleted and no root", res)
	}
	if got := blockCount(t, s); got != before {
		t.Fatalf("%d blocks after GC, want %d", got, before)
	}
	if got, err := exportBytes(t, s, keep[0]); err != nil || !bytes.Equal(got, pattern(2*ChunkSize)) {
		t.Fatalf("kept object damaged: %v", err)
	}
}

// TestGCDefersWhileWriting runs GC from inside an import's window between
// block writes and index: the sweep is deferred, so the import's blocks
// survive and it completes.
func TestGCDefersWhileWriting(t *testing.T) {
	s, _ := openTestStore(t)
	ctx := context.Background()
	var during GCResult
	setBatchStored(t, func() error {
		var err error
		during, err = s.GC(ctx, nil)
		return err
	})
	refs, err := s.ImportBatch(ctx, [][]byte{pattern(3 * ChunkSize)})
	if err != nil {
		t.Fatal(err)
	}
	if !during.Deferred || during.Blocks != 0 {
		t.Fatalf("GC during an import = %+v, want a deferred sweep and nothing deleted", during)
	}
	if got, err := exportBytes(t, s, refs[0]); err != nil || !bytes.Equal(got, pattern(3*ChunkSize)) {
		t.Fatalf("object imported during GC damaged: %v", err)
	}
	batchStored = nil
	res, err := s.GC(ctx, []cid.Cid{refs[0].Root})
	if err != nil || res.Deferred || res.Blocks != 0 {
		t.Fatalf("GC after the import = %+v, %v; want a sweep that deletes nothing", res, err)
	}
}

// killBatches is the import of the kill test: 4 batches of 40 FHIR-sized
// objects (200 B to 48 KiB) and one 2.5 MiB document each, all derived
// from fixed seeds.
func killBatches() [][][]byte {
	out := make([][][]byte, 4)
	for b := range out {
		rng := rand.New(rand.NewPCG(uint64(b), 7))
		for i := range 40 {
			n := 200 + rng.IntN(48<<10)
			c := make([]byte, n)
			for j := range c {
				c[j] = byte(j*7 + i + b)
			}
			out[b] = append(out[b], c)
		}
		out[b] = append(out[b], pattern(5*ChunkSize/2+b))
	}
	return out
}

// TestGCKillChild is the importer of TestGCAfterKills, run in a child
// process: it imports killBatches into HW_GC_KILL_DIR and prints the refs.
// With HW_GC_KILL_STAGE=stored it prints "stored" between the first
// batch's block writes and its index transaction and waits to be killed.
func TestGCKillChild(t *testing.T) {
	dir := os.Getenv("HW_GC_KILL_DIR")
	if dir == "" {
		t.Skip("child process of TestGCAfterKills")
	}
	s, err := OpenStore(dir, StoreOptions{NoSync: true})
	if err != nil {
		fmt.Println("failed", err)
		os.Exit(3)
	}
	if os.Getenv("HW_GC_KILL_STAGE") == "stored" {
		batchStored = func() error {
			fmt.Println("stored")
			select {}
		}
	}
	var refs []ObjectRef
	for _, batch := range killBatches() {
		r, err := s.ImportBatch(context.Background(), batch)
		if err != nil {
			fmt.Println("failed", err)
			os.Exit(4)
		}
		refs = append(refs, r...)
	}
	s.Close()
	b, _ := json.Marshal(refs)
	fmt.Printf("refs %s\n", b)
}

// killChild runs TestGCKillChild on dir. With stage "stored" it kills the
// child once it reports that stage; with a delay > 0 it kills the child
// after delay. It returns the refs of a child that finished, or nil.
func killChild(t *testing.T, dir, stage string, delay time.Duration) []ObjectRef {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestGCKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "HW_GC_KILL_DIR="+dir, "HW_GC_KILL_STAGE="+stage)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var timer *time.Timer
	if delay > 0 {
		timer = time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
	}
	var refs []ObjectRef
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case l == "stored" && stage == "stored":
			cmd.Process.Signal(syscall.SIGKILL)
		case strings.HasPrefix(l, "refs "):
			if err := json.Unmarshal([]byte(l[5:]), &refs); err != nil {
				t.Fatalf("child: %v", err)
			}
		case strings.HasPrefix(l, "failed"):
			t.Fatalf("child: %s", l)
		}
	}
	cmd.Wait()
	if timer != nil {
		timer.Stop()
	}
	return refs
}

// TestGCAfterKills kills an importer 20 times with SIGKILL against one
// store: 5 times exactly between ImportBatch's block writes and its index
// transaction, 15 times after a seeded random delay within a clean
// import's run time. A last importer then finishes, GC keeps only its
// objects, and the store holds exactly as many blocks as a clean import of
// the same files; every object reads back.
func TestGCAfterKills(t *testing.T) {
	if os.Getenv("HW_GC_KILL_DIR") != "" {
		t.Skip("inside the child")
	}
	ctx := context.Background()
	cleanDir := t.TempDir()
	start := time.Now()
	if refs := killChild(t, cleanDir, "", 0); len(refs) == 0 {
		t.Fatal("clean import did not finish")
	}
	span := time.Since(start)
	clean, err := OpenStore(cleanDir, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := blockCount(t, clean)
	clean.Close()

	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(16, 3)) // fixed: the same kills every run
	for trial := range 20 {
		if trial%4 == 0 {
			killChild(t, dir, "stored", 0)
			continue
		}
		delay := time.Duration(1 + rng.Int64N(int64(span)))
		killChild(t, dir, "", delay)
	}
	refs := killChild(t, dir, "", 0)
	if len(refs) == 0 {
		t.Fatal("the last import did not finish")
	}
	s, err := OpenStore(dir, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keep := make([]cid.Cid, len(refs))
	for i, r := range refs {
		keep[i] = r.Root
	}
	res, err := s.GC(ctx, keep)
	if err != nil {
		t.Fatal(err)
	}
	if got := blockCount(t, s); got != want {
		t.Fatalf("%d blocks after 20 kills and GC, want %d as after a clean import (GC: %+v)", got, want, res)
	}
	if res.Stray == 0 || res.Deferred {
		t.Fatalf("GC = %+v: no stray blocks swept; the kills did not exercise the gap", res)
	}
	files := slices.Concat(killBatches()...)
	for i, ref := range refs {
		got, err := exportBytes(t, s, ref)
		if err != nil || !bytes.Equal(got, files[i]) {
			t.Fatalf("object %d after the kills: %v", i, err)
		}
	}
	t.Logf("clean import: %v, %d blocks; GC after 20 kills: %+v", span, want, res)
}
