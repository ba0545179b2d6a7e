package catalog

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashValue is the deterministic value the writer stores under id: between
// 64 bytes and 32 KiB, so kills land inside page writes of all sizes.
func crashValue(id ID) []byte {
	sum := sha256.Sum256(id[:])
	n := 64 + int(sum[0])<<7
	return bytes.Repeat(sum[:], n/32)
}

// TestCrashWriterProcess is the writer half of TestCrashSafety, run in a
// child process. It writes until killed and prints "ack ID" after each Put
// has returned.
func TestCrashWriterProcess(t *testing.T) {
	path := os.Getenv("HW_CRASH_CATALOG")
	if path == "" {
		t.Skip("child process of TestCrashSafety")
	}
	c, err := Open(path, testKey(9))
	if err != nil {
		fmt.Println("open-failed", err)
		os.Exit(3)
	}
	for {
		id := NewID()
		if err := c.Put(Records, id, crashValue(id)); err != nil {
			fmt.Println("put-failed", err)
			os.Exit(4)
		}
		if i := id[1] % 8; i == 0 { // mix in deletes of fresh entries
			tmp := NewID()
			c.Put(Grants, tmp, []byte("short-lived"))
			c.Delete(Grants, tmp)
		}
		fmt.Println("ack", id)
	}
}

// TestCrashSafety kills a writer with SIGKILL at random points, 50 times,
// against one growing catalog. After every kill the catalog opens and every
// acknowledged write reads back intact.
func TestCrashSafety(t *testing.T) {
	if os.Getenv("HW_CRASH_CATALOG") != "" {
		t.Skip("inside the writer")
	}
	path := filepath.Join(t.TempDir(), "catalog.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	acked := map[ID]bool{}
	for trial := range 50 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "HW_CRASH_CATALOG="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		delay := time.Duration(rng.IntN(120)) * time.Millisecond
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		for l := range lines {
			switch f := strings.Fields(l); {
			case len(f) == 2 && f[0] == "ack":
				id, err := ParseID(f[1])
				if err != nil {
					t.Fatalf("trial %d: bad ack line %q", trial, l)
				}
				acked[id] = true
			case len(f) > 0 && strings.HasSuffix(f[0], "-failed"):
				t.Fatalf("trial %d: writer: %s", trial, l)
			}
		}
		cmd.Wait()

		c, err := Open(path, testKey(9))
		if err != nil {
			t.Fatalf("trial %d (killed after %v): catalog does not open: %v", trial, delay, err)
		}
		for id := range acked {
			v, err := c.Get(Records, id)
			if err != nil || !bytes.Equal(v, crashValue(id)) {
				c.Close()
				t.Fatalf("trial %d: acknowledged write %s lost or damaged: %v", trial, id, err)
			}
		}
		c.Close()
	}
	if len(acked) < 50 {
		t.Fatalf("only %d writes acknowledged over 50 trials; the test did not exercise the writer", len(acked))
	}
	t.Logf("%d acknowledged writes survived 50 kills", len(acked))
}
