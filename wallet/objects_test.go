package wallet

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/healthwallet/healthwallet/internal/plaintext"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

func TestObjectsAndGC(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	p, _ := identity.NewPhrase()
	w, err := Create(home, p, pass, fast)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Lock()
	secret := strings.Repeat("Diagnosis: Type 2 diabetes mellitus; HbA1c 8.1 %\n", 40000) // ~2 MB
	keepID, _, err := w.PutObject(ctx, strings.NewReader(secret), int64(len(secret)), nil)
	if err != nil {
		t.Fatal(err)
	}
	dropID, dropRef, err := w.PutObject(ctx, strings.NewReader("short-lived"), 11, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := w.ReadObject(ctx, keepID, &out, nil); err != nil || out.String() != secret {
		t.Fatalf("ReadObject: %v", err)
	}
	if err := w.DeleteObject(dropID); err != nil {
		t.Fatal(err)
	}
	res, err := w.GC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Roots != 1 || res.Blocks != 1 {
		t.Fatalf("GC %+v, want 1 root and 1 block", res)
	}
	store, _ := w.objectStore()
	if ok, _ := store.Has(ctx, dropRef.Root); ok {
		t.Fatal("deleted object survived GC")
	}
	out.Reset()
	if err := w.ReadObject(ctx, keepID, &out, nil); err != nil || out.String() != secret {
		t.Fatalf("kept object after GC: %v", err)
	}
	w.Lock()

	// No plaintext anywhere in the wallet home.
	hits, _, err := plaintext.ScanDir(home, "Type 2 diabetes mellitus", "HbA1c 8.1 %", "short-lived")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		t.Error(h)
	}
}

func TestPeerIDSurvivesRestore(t *testing.T) {
	p, _ := identity.NewPhrase()
	w1, _ := Create(t.TempDir(), p, pass, fast)
	w2, _ := Create(t.TempDir(), p, "another passphrase", fast)
	defer w1.Lock()
	defer w2.Lock()
	if w1.Info().PeerID == "" || w1.Info().PeerID != w2.Info().PeerID {
		t.Fatalf("peer ids %q and %q", w1.Info().PeerID, w2.Info().PeerID)
	}
	if _, err := w1.PeerKey(); err != nil {
		t.Fatal(err)
	}
}
