package kubo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/healthwallet/healthwallet/internal/kubotest"
	"github.com/healthwallet/healthwallet/internal/plaintext"
)

// The tests in this file run against a stock Kubo daemon (see
// internal/kubotest): skipped without the binary, failed under $CI.

// localRefs lists every block in the Kubo node's repository, by multihash
// (Kubo's block store is keyed by multihash and names blocks as raw CIDs).
func localRefs(t *testing.T, api string) map[string]bool {
	t.Helper()
	resp, err := http.Post(api+"/api/v0/refs/local", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("refs/local: HTTP %d: %s", resp.StatusCode, b)
	}
	out := map[string]bool{}
	dec := json.NewDecoder(resp.Body)
	for {
		var ev struct{ Ref, Err string }
		if err := dec.Decode(&ev); err == io.EOF {
			return out
		} else if err != nil || ev.Err != "" {
			t.Fatalf("refs/local: %v %s", err, ev.Err)
		}
		c, err := cid.Decode(ev.Ref)
		if err != nil {
			t.Fatal(err)
		}
		out[c.Hash().HexString()] = true
	}
}

// TestKuboReplicaRoundTrip pushes an encrypted object to Kubo with
// dag/import, fetches it back through Kubo's gateway block by block and as
// a CAR into fresh stores, decrypts it, finds no plaintext anywhere in
// Kubo's repository, and takes the copy away again with Unpin and GC.
func TestKuboReplicaRoundTrip(t *testing.T) {
	k := kubotest.Start(t)
	ctx := context.Background()
	s := openStore(t)
	ref, doc := importDoc(t, s)
	_, blocks := carOf(t, s, ref.Root)

	c, err := NewClient(k.API, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.ID(ctx)
	if err != nil || id.ID != k.PeerID {
		t.Fatalf("ID: %+v %v, want %s", id, err, k.PeerID)
	}
	if len(id.Addresses) == 0 {
		t.Fatal("kubo names no swarm address")
	}
	for _, a := range id.Addresses {
		if !strings.HasPrefix(a, "/ip4/127.0.0.1/") {
			t.Fatalf("kubo's swarm listens beyond loopback: %s", a)
		}
	}
	if err := c.Push(ctx, s, ref.Root); err != nil {
		t.Fatalf("push: %v\n%s", err, k.Log())
	}
	held := localRefs(t, k.API)
	for _, b := range blocks {
		if !held[b.cid.Hash().HexString()] {
			t.Fatalf("kubo lacks block %s after the push", b.cid)
		}
	}

	for name, mode := range modes {
		got, _, err := fetchFrom(t, k.Gateway, mode, ref)
		if err != nil {
			t.Fatalf("%s: fetch from kubo: %v", name, err)
		}
		if !bytes.Equal(got, doc) {
			t.Fatalf("%s: %d bytes back, want the %d imported", name, len(got), len(doc))
		}
	}

	hits, files, err := plaintext.ScanDir(k.Repo, secrets...)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		t.Error("plaintext in kubo:", h)
	}
	if files < len(blocks) {
		t.Fatalf("scanned %d files in %s, fewer than the %d blocks pushed", files, k.Repo, len(blocks))
	}

	// The scan can fail: the same text pushed unencrypted is found.
	plain, err := s.ImportPlain(ctx, bytes.NewReader(doc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Push(ctx, s, plain); err != nil {
		t.Fatal(err)
	}
	if hits, _, _ := plaintext.ScanDir(k.Repo, secrets...); len(hits) == 0 {
		t.Fatal("the scan did not find plaintext pushed on purpose")
	}

	// Unpin and GC take the object's blocks away.
	if err := c.Unpin(ctx, ref.Root, plain); err != nil {
		t.Fatal(err)
	}
	if err := c.GC(ctx); err != nil {
		t.Fatal(err)
	}
	held = localRefs(t, k.API)
	for _, b := range blocks {
		if held[b.cid.Hash().HexString()] {
			t.Fatalf("block %s still in kubo after unpin and GC", b.cid)
		}
	}
	if hits, _, _ := plaintext.ScanDir(k.Repo, secrets...); len(hits) != 0 {
		t.Fatalf("plaintext left after unpin and GC: %v", hits)
	}
}

// TestKuboReportsRoots: against real Kubo, a CAR that does not hold the
// root asked for is ErrNotPinned and a CAR Kubo cannot read is an APIError.
func TestKuboReportsRoots(t *testing.T) {
	k := kubotest.Start(t)
	ctx := context.Background()
	s := openStore(t)
	ref, _ := importDoc(t, s)
	other, _ := importDoc(t, s)
	c, _ := NewClient(k.API, nil)

	var car bytes.Buffer
	if err := s.ExportCAR(ctx, &car, ref.Root); err != nil {
		t.Fatal(err)
	}
	if err := c.ImportCAR(ctx, bytes.NewReader(car.Bytes()), other.Root); !errors.Is(err, ErrNotPinned) {
		t.Fatalf("CAR without the root asked for: %v, want ErrNotPinned", err)
	}
	err := c.ImportCAR(ctx, strings.NewReader("not a CAR at all"), ref.Root)
	var apiErr *APIError
	if !errors.Is(err, ErrAPI) || !errors.As(err, &apiErr) || apiErr.Message == "" {
		t.Fatalf("garbage CAR: %v, want an *APIError", err)
	}
	// Kubo's gateway itself is a provider like any other: a root it does
	// not hold is not found, without a fetch from the network.
	f, _ := NewFetcher(k.Gateway, nil)
	if _, err := f.Block(ctx, other.Root); err == nil {
		t.Fatal("kubo served a block it was never given")
	}
}
