package wallet

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// TestWriteCatalog: the copy opens with the wallet's catalog key and holds
// the records; it holds no plaintext.
func TestWriteCatalog(t *testing.T) {
	w := newWallet(t)
	data, _ := fixtures.Named("Marguerita_Reilly").Read()
	if _, err := w.ImportFHIR(context.Background(), "m.json", data); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := w.WriteCatalog(&buf); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("Hydrochlorothiazide")) {
		t.Fatal("catalog copy holds plaintext")
	}
	path := filepath.Join(t.TempDir(), CatalogFile)
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, _ := w.Keys()
	cat, err := catalog.Open(path, keys.CatalogKey())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := cat.Count(catalog.Records)
	want, _ := w.Records(Filter{})
	if n != len(want) || n == 0 {
		t.Fatalf("copy holds %d records, want %d", n, len(want))
	}
	w.Lock()
	if err := w.WriteCatalog(&buf); err != ErrLocked {
		t.Fatalf("locked: %v", err)
	}
}
