package plaintext

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestShortNeedleRefused(t *testing.T) {
	if _, err := Find("x", []byte("Liz Conn"), "Liz"); !errors.Is(err, ErrShortNeedle) {
		t.Fatalf("3-byte needle: %v, want ErrShortNeedle", err)
	}
	if _, _, err := ScanDir(t.TempDir()); err == nil {
		t.Fatal("a scan without needles passed")
	}
}

func TestScanDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a", "b"), 0o700)
	os.WriteFile(filepath.Join(dir, "a", "b", "leak"), []byte("...Hydrochlorothiazide 25 MG..."), 0o600)
	os.WriteFile(filepath.Join(dir, "clean"), []byte("nothing to see"), 0o600)
	hits, files, err := ScanDir(dir, "Hydrochlorothiazide", "Body Height")
	if err != nil || files != 2 || len(hits) != 1 || hits[0].Needle != "Hydrochlorothiazide" || filepath.Base(hits[0].Where) != "leak" {
		t.Fatalf("hits %v, files %d, err %v", hits, files, err)
	}
}
