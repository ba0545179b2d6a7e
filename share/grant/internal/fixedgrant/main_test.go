package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedFileIsCurrent: testdata/fixed-grant.json is what the tool
// writes now. It fails when the grant's encoding, typed data or signing
// changed without `go generate ./share/grant`; then also recompute
// testdata/ethers-grant.json with ethers.
func TestCommittedFileIsCurrent(t *testing.T) {
	want, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "testdata", "fixed-grant.json")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go generate ./share/grant, then check the new typed data with ethers (testdata/ethers-grant.json)", path)
	}
}

// TestRunWritesOnlyChanges: run writes the file, then leaves an identical
// one alone (same bytes, same modification).
func TestRunWritesOnlyChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fixed-grant.json")
	if err := run(path); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, want) {
		t.Fatal("run wrote something else than generate")
	}
	st1, _ := os.Stat(path)
	if err := run(path); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(path)
	if !os.SameFile(st1, st2) {
		t.Fatal("run replaced an up-to-date file")
	}
}
