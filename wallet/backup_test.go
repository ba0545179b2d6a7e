package wallet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/internal/plaintext"
	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// TestWriteCatalog: the copy opens with the wallet's catalog key and holds
// the records; it holds no plaintext.
func TestWriteCatalog(t *testing.T) {
	w := newWallet(t)
	data, err := fixtures.Named("Marguerita_Reilly").Read()
	must(t, err)
	_, err = w.ImportFHIR(context.Background(), "m.json", data)
	must(t, err)
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
	keys, err := w.Keys()
	must(t, err)
	cat, err := catalog.Open(path, keys.CatalogKey())
	must(t, err)
	defer cat.Close()
	n, err := cat.Count(catalog.Records)
	must(t, err)
	want, err := w.Records(Filter{})
	must(t, err)
	if n != len(want) || n == 0 {
		t.Fatalf("copy holds %d records, want %d", n, len(want))
	}
	w.Lock()
	if err := w.WriteCatalog(&buf); err != ErrLocked {
		t.Fatalf("locked: %v", err)
	}
}

// TestBackup: a backup holds the keystore, wallet.json, the catalog and a
// CAR, none of it plaintext; its copies open with the wallet's keys; a
// folder that already holds a wallet or a backup is refused; and the
// folder, used as a wallet home, unlocks with every record readable.
func TestBackup(t *testing.T) {
	w := newWallet(t)
	data, err := fixtures.Named("Marguerita_Reilly").Read()
	must(t, err)
	_, err = w.ImportFHIR(context.Background(), "m.json", data)
	must(t, err)
	want, err := w.Records(Filter{})
	must(t, err)
	dir := filepath.Join(t.TempDir(), BackupFolderName(w.Now()))
	res, err := w.Backup(context.Background(), dir)
	must(t, err)
	if res.Dir != dir || res.Objects == 0 || res.Bytes == 0 ||
		!slices.Equal(res.Files, []string{KeystoreFile, InfoFile, CatalogFile, BackupCAR}) {
		t.Fatalf("result %+v", res)
	}
	needles := []string{"Hydrochlorothiazide", "Marguerita", "Body Height"}
	if hits, err := plaintext.Find("the fixture", data, needles...); err != nil || len(hits) != len(needles) {
		t.Fatalf("the needles are not all in the fixture: %v %v", hits, err)
	}
	hits, files, err := plaintext.ScanDir(dir, needles...)
	if err != nil || len(hits) > 0 || files != 4 {
		t.Fatalf("backup holds plaintext: %v (%d files) %v", hits, files, err)
	}
	keys, err := w.Keys()
	must(t, err)
	cat, err := catalog.Open(filepath.Join(dir, CatalogFile), keys.CatalogKey())
	must(t, err)
	n, err := cat.Count(catalog.Records)
	must(t, err)
	cat.Close()
	if n != len(want) {
		t.Fatalf("backup catalog holds %d records, want %d", n, len(want))
	}

	// Never over a wallet or a backup: not the home, not the same folder.
	for _, d := range []string{w.Home(), dir} {
		if _, err := w.Backup(context.Background(), d); !errors.Is(err, ErrBackupFolder) {
			t.Fatalf("backup into %s: %v", d, err)
		}
	}

	// Restore: the folder is a wallet home; unlocking imports the CAR.
	restored, err := Unlock(dir, pass)
	must(t, err)
	defer restored.Lock()
	if fileExists(filepath.Join(dir, BackupCAR)) {
		t.Fatal("the CAR is still there after the restore")
	}
	got, err := restored.Records(Filter{})
	must(t, err)
	if len(got) != len(want) {
		t.Fatalf("restored %d records, want %d", len(got), len(want))
	}
	for _, r := range got {
		if err := restored.ReadObject(context.Background(), r.Object, io.Discard, nil); err != nil {
			t.Fatalf("record %s of the restored wallet: %v", r.ID, err)
		}
	}
	w.Lock()
	if _, err := w.Backup(context.Background(), filepath.Join(t.TempDir(), "x")); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked: %v", err)
	}
}
