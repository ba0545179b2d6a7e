package vaulttest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestBinFromEnvironment(t *testing.T) {
	t.Setenv("HW_VAULT_BIN", filepath.Join(t.TempDir(), "no-such-vault"))
	if _, err := Bin(); !errors.Is(err, ErrNoBinary) || !strings.Contains(err.Error(), "no-such-vault") {
		t.Fatalf("Bin with a missing HW_VAULT_BIN = %v", err)
	}

	t.Setenv("HW_VAULT_BIN", "")
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HW_VAULT_VERSION", "9.9.9")
	want := filepath.Join(cache, "healthwallet", "vault", "9.9.9", "vault")
	if _, err := Bin(); !errors.Is(err, ErrNoBinary) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Bin without the cached binary = %v, want it to name %s", err, want)
	}
	if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(want, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := Bin(); err != nil || got != want {
		t.Fatalf("Bin = %q, %v; want %s", got, err, want)
	}
}

// TestStartStop: a started server answers with its root token, has printed
// its unseal key, and Stop ends it and removes its directory.
func TestStartStop(t *testing.T) {
	s := Start(t)
	if !strings.HasPrefix(s.Addr, "http://127.0.0.1:") || s.UnsealKey == "" || !strings.HasPrefix(s.Token, "hw-test-") {
		t.Fatalf("server %+v", s)
	}
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Sys().SealStatus()
	if err != nil || st.Sealed || !st.Initialized {
		t.Fatalf("seal status %+v, %v", st, err)
	}
	self, err := c.Auth().Token().LookupSelf()
	if err != nil || self.Data["id"] != s.Token {
		t.Fatalf("root token lookup: %v", err)
	}
	s.Stop()
	if _, err := os.Stat(s.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("directory left after Stop: %v", err)
	}
	select {
	case <-s.done:
	default:
		t.Fatal("process still running after Stop")
	}
	if healthy(s.Addr) {
		t.Fatal("server still answers after Stop")
	}
	s.Stop() // a second Stop does nothing
}
