package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// startCLINode runs `healthwallet node --json` in-process and returns what it
// printed and a stop function.
func startCLINode(t *testing.T, home string, extra ...string) (nodeJSON, func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errOut bytes.Buffer
	done := make(chan int, 1)
	go func() {
		args := append([]string{"--home", home, "node", "--json", "--listen", "/ip4/127.0.0.1/tcp/0"}, extra...)
		done <- Main(args, Env{Stdout: pw, Stderr: &errOut, Context: ctx,
			Getenv: func(k string) string { return passEnv[k] }, Options: wallet.Options{WorkFactor: 10, Now: testclock.Now}})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("node printed nothing: %v; stderr %s", err, errOut.String())
	}
	var out nodeJSON
	if err := json.Unmarshal([]byte(line), &out); err != nil {
		t.Fatalf("node line %q: %v", line, err)
	}
	go io.Copy(io.Discard, pr)
	return out, func() string {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("node exited %d: %s", code, errOut.String())
		}
		return errOut.String()
	}
}

func TestNodeServesAllowedPeers(t *testing.T) {
	ctx := context.Background()
	home := filepath.Join(t.TempDir(), "patient")
	p, _ := identity.NewPhrase()
	w, err := wallet.Create(home, p, passEnv["HW_PASSPHRASE"], wallet.Options{WorkFactor: 10, Now: testclock.Now})
	if err != nil {
		t.Fatal(err)
	}
	content := strings.Repeat("lab result ", 300000)
	_, ref, err := w.PutObject(ctx, strings.NewReader(content), int64(len(content)), nil)
	if err != nil {
		t.Fatal(err)
	}
	patientPeer := w.Info().PeerID
	w.Lock()

	// A client node with its own identity.
	cs, err := ipfs.OpenStore(t.TempDir(), ipfs.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	ck, _ := ipfs.PeerKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	client, err := ipfs.StartNode(ctx, cs, ipfs.NodeConfig{Key: ck, StallTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	// Not allowed: nothing.
	out, stop := startCLINode(t, home)
	if out.PeerID != patientPeer || len(out.Addrs) == 0 {
		t.Fatalf("node printed %+v, want peer %s", out, patientPeer)
	}
	ai, err := peer.AddrInfoFromString(out.Addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Fetch(ctx, ref, []peer.AddrInfo{*ai}, io.Discard, nil); !errors.Is(err, ipfs.ErrNotServed) {
		t.Fatalf("unlisted client: %v, want ErrNotServed", err)
	}
	stderr := stop()
	if !strings.Contains(stderr, "requests refused") {
		t.Fatalf("stderr %q", stderr)
	}

	// Allowed: the bytes arrive.
	out, stop = startCLINode(t, home, "--allow", client.ID().String())
	ai, _ = peer.AddrInfoFromString(out.Addrs[0])
	var got bytes.Buffer
	if err := client.Fetch(ctx, ref, []peer.AddrInfo{*ai}, &got, nil); err != nil {
		t.Fatalf("allowed client: %v", err)
	}
	if got.String() != content {
		t.Fatal("fetched content differs")
	}
	stop()

	// whoami names the same peer.
	r := run(t, "", nil, "--home", home, "whoami", "--json")
	var who identityJSON
	json.Unmarshal([]byte(r.stdout), &who)
	if who.PeerID != patientPeer {
		t.Fatalf("whoami peer %q, want %q", who.PeerID, patientPeer)
	}
}

func TestGCAndCAR(t *testing.T) {
	ctx := context.Background()
	home := filepath.Join(t.TempDir(), "w")
	p, _ := identity.NewPhrase()
	w, _ := wallet.Create(home, p, passEnv["HW_PASSPHRASE"], wallet.Options{WorkFactor: 10, Now: testclock.Now})
	keepID, _, _ := w.PutObject(ctx, strings.NewReader("keep me"), 7, nil)
	dropID, _, _ := w.PutObject(ctx, strings.NewReader("drop me"), 7, nil)
	w.DeleteObject(dropID)
	w.Lock()

	r := run(t, "", passEnv, "--home", home, "gc", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"roots": 1`) || !strings.Contains(r.stdout, `"stray": 0`) || !strings.Contains(r.stdout, `"deferred": false`) {
		t.Fatalf("gc: %+v", r)
	}
	car := filepath.Join(t.TempDir(), "backup.car")
	if r := run(t, "", passEnv, "--home", home, "car", "export", car); r.code != 0 || !strings.Contains(r.stdout, "exported 1 objects") {
		t.Fatalf("car export: %+v", r)
	}

	// Lose the blocks, keep the catalog, bring the blocks back from the CAR.
	store, err := ipfs.OpenStore(filepath.Join(home, wallet.StoreDir), ipfs.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	store.GC(ctx, nil)
	store.Close()
	w, _ = wallet.Unlock(home, passEnv["HW_PASSPHRASE"])
	if err := w.ReadObject(ctx, keepID, io.Discard, nil); !errors.Is(err, ipfs.ErrNotFound) {
		t.Fatalf("after dropping blocks: %v", err)
	}
	w.Lock()
	if r := run(t, "", passEnv, "--home", home, "car", "import", car); r.code != 0 {
		t.Fatalf("car import: %+v", r)
	}
	w, _ = wallet.Unlock(home, passEnv["HW_PASSPHRASE"])
	defer w.Lock()
	var got bytes.Buffer
	if err := w.ReadObject(ctx, keepID, &got, nil); err != nil || got.String() != "keep me" {
		t.Fatalf("after CAR import: %q %v", got.String(), err)
	}
	if r := run(t, "", passEnv, "--home", home, "car", "frob"); r.code != ExitUsage {
		t.Fatalf("car frob: %+v", r)
	}
}
