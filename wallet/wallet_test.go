package wallet

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/healthwallet/healthwallet/internal/testclock"
	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

const pass = "correct horse battery staple"

var fast = Options{WorkFactor: 10, Now: testclock.Now}

func mustPhrase(t *testing.T, s string) identity.Phrase {
	t.Helper()
	p, err := identity.ParsePhrase(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCreateUnlockRoundTrip(t *testing.T) {
	home := filepath.Join(t.TempDir(), "wallet")
	p, _ := identity.NewPhrase()
	w, err := Create(home, p, pass, fast)
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := w.Catalog()
	id := catalog.NewID()
	if err := cat.Put(catalog.Records, id, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	info := w.Info()
	w.Lock()

	w2, err := Unlock(home, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Lock()
	if w2.Info() != info {
		t.Fatalf("info changed across unlock: %+v vs %+v", w2.Info(), info)
	}
	back, _ := w2.Phrase()
	if back.String() != p.String() {
		t.Fatal("phrase changed across unlock")
	}
	cat2, _ := w2.Catalog()
	if v, err := cat2.Get(catalog.Records, id); err != nil || string(v) != "kept" {
		t.Fatalf("record after unlock: %q, %v", v, err)
	}
	onDisk, err := ReadInfo(home)
	if err != nil || onDisk != info {
		t.Fatalf("ReadInfo = %+v, %v", onDisk, err)
	}
	st, _ := os.Stat(home)
	if st.Mode().Perm() != 0o700 {
		t.Fatalf("home mode %v, want 0700", st.Mode().Perm())
	}
}

// TestRestoreKnownPhrase: restoring gives the address ethers and MetaMask
// show for the same words.
func TestRestoreKnownPhrase(t *testing.T) {
	home := t.TempDir()
	w, err := Create(home, mustPhrase(t, "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"), pass, fast)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Lock()
	if got := w.Info().Address; got != "0x9858EfFD232B4033E47d90003D41EC34EcaEda94" {
		t.Fatalf("address %s", got)
	}
	// base58btc(0xe7 0x01 ‖ 0237b0bb…f299), computed with ethers' encodeBase58.
	if got := w.Info().DID; got != "did:key:zQ3shRABUyB65Uk6viYwiFs8DKcCigznTmVUwxhQRBkYRjXmz" {
		t.Fatalf("did %s", got)
	}
}

func TestCreateNeverOverwrites(t *testing.T) {
	home := t.TempDir()
	p1, _ := identity.NewPhrase()
	w, err := Create(home, p1, pass, fast)
	if err != nil {
		t.Fatal(err)
	}
	w.Lock()
	before, _ := os.ReadFile(filepath.Join(home, KeystoreFile))
	p2, _ := identity.NewPhrase()
	if _, err := Create(home, p2, "another passphrase", fast); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	after, _ := os.ReadFile(filepath.Join(home, KeystoreFile))
	if !bytes.Equal(before, after) {
		t.Fatal("keystore changed by a refused create")
	}
}

func TestUnlockErrors(t *testing.T) {
	home := t.TempDir()
	if _, err := Unlock(home, pass); !errors.Is(err, ErrNoWallet) {
		t.Fatalf("empty home: %v, want ErrNoWallet", err)
	}
	p, _ := identity.NewPhrase()
	w, _ := Create(home, p, pass, fast)
	w.Lock()
	if _, err := Unlock(home, "wrong"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	ks := filepath.Join(home, KeystoreFile)
	good, _ := os.ReadFile(ks)

	bad := bytes.Clone(good)
	bad[40] ^= 1 // inside the scrypt stanza: only wallet.json's digest can tell this from a wrong passphrase
	os.WriteFile(ks, bad, 0o600)
	if _, err := Unlock(home, pass); !errors.Is(err, ErrKeystoreCorrupt) {
		t.Fatalf("corrupted keystore: %v, want ErrKeystoreCorrupt", err)
	}
	os.WriteFile(ks, good[:len(good)-10], 0o600)
	if _, err := Unlock(home, pass); !errors.Is(err, ErrKeystoreTrunc) {
		t.Fatalf("truncated keystore: %v, want ErrKeystoreTrunc", err)
	}
	os.WriteFile(ks, good, 0o600)
	w, err := Unlock(home, pass)
	if err != nil {
		t.Fatalf("restored keystore: %v", err)
	}
	// Another process (the node, the app) may hold the same wallet open.
	w2, err := Unlock(home, pass)
	if err != nil {
		t.Fatalf("second unlock while open: %v", err)
	}
	w2.Lock()
	w.Lock()
}

func TestInfoRebuiltWhenMissing(t *testing.T) {
	home := t.TempDir()
	p, _ := identity.NewPhrase()
	w, _ := Create(home, p, pass, fast)
	want := w.Info()
	w.Lock()
	os.Remove(filepath.Join(home, InfoFile))
	if _, err := ReadInfo(home); err == nil {
		t.Fatal("ReadInfo without wallet.json succeeded")
	}
	w, err := Unlock(home, pass)
	if err != nil {
		t.Fatal(err)
	}
	w.Lock()
	if got, err := ReadInfo(home); err != nil || got != want {
		t.Fatalf("rebuilt info = %+v, %v; want %+v", got, err, want)
	}
	if want.WorkFactor != 10 {
		t.Fatalf("work factor recorded as %d, want 10", want.WorkFactor)
	}
}

func TestLockWipes(t *testing.T) {
	home := t.TempDir()
	p, err := identity.NewPhrase()
	must(t, err)
	w, err := Create(home, p, pass, fast)
	must(t, err)
	keys, err := w.Keys()
	must(t, err)
	var called atomic.Int32
	w.OnLock(func() { called.Add(1) })
	w.Lock()
	w.Lock()
	if called.Load() != 1 {
		t.Fatalf("OnLock ran %d times, want 1", called.Load())
	}
	if !keys.PrivateKey().Key.IsZero() {
		t.Fatal("private key survived Lock")
	}
	if _, err := w.Catalog(); !errors.Is(err, ErrLocked) {
		t.Fatalf("Catalog after lock: %v", err)
	}
	if _, err := w.Keys(); !errors.Is(err, ErrLocked) {
		t.Fatalf("Keys after lock: %v", err)
	}
	if !w.Locked() {
		t.Fatal("Locked() = false")
	}
}

// TestErrorsAreFrontEndNeutral: the wallet's errors name no command or
// flag of one front end; the CLI and the app add their own hints.
func TestErrorsAreFrontEndNeutral(t *testing.T) {
	for _, err := range []error{ErrNoChain, ErrVaultHeld, ErrGrantDuration, ErrChainIDMismatch, ErrBackupFolder} {
		if msg := err.Error(); strings.Contains(msg, "healthwallet") || strings.Contains(msg, "--") {
			t.Errorf("%q names a command or flag", msg)
		}
	}
	if got, want := ErrGrantDuration.Error(), "a grant lasts between 1 minute and 366 days"; got != want {
		t.Errorf("duration error %q, want %q", got, want)
	}
	w := newWallet(t)
	chain := ChainConfig{RPC: "http://127.0.0.1:1", ChainID: 31337, Registry: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")}
	for _, d := range []time.Duration{MinGrantDuration - time.Second, MaxGrantDuration + time.Hour} {
		_, err := w.IssueGrant(context.Background(), GrantRequest{To: w.Info().DID, Selection: Selection{Preset: PresetIPS}, Duration: d}, chain)
		if !errors.Is(err, ErrGrantDuration) {
			t.Errorf("IssueGrant for %v: %v", d, err)
		}
	}
}

// TestEnvironmentOnlyThroughGetenv: the default home and devnet file come
// from the getenv the front end passes, never from the process
// environment.
func TestEnvironmentOnlyThroughGetenv(t *testing.T) {
	t.Setenv("HW_HOME", "/developer/home")
	t.Setenv("HW_DEVNET_FILE", "/developer/devnet.json")
	t.Setenv("XDG_CONFIG_HOME", "/developer/config")
	none := func(string) string { return "" }
	if h, err := DefaultHome(none); err == nil {
		t.Errorf("DefaultHome with an empty environment = %q", h)
	}
	if f := DefaultDevnetFile(none); f != "" {
		t.Errorf("DefaultDevnetFile with an empty environment = %q", f)
	}
	if _, err := LoadChainConfig(DefaultDevnetFile(nil)); !errors.Is(err, ErrNoChain) {
		t.Errorf("no devnet file: %v", err)
	}
	env := map[string]string{"HW_HOME": "/given/home", "HW_DEVNET_FILE": "/given/devnet.json"}
	if h, err := DefaultHome(func(k string) string { return env[k] }); h != "/given/home" || err != nil {
		t.Errorf("DefaultHome = %q, %v", h, err)
	}
	if f := DefaultDevnetFile(func(k string) string { return env[k] }); f != "/given/devnet.json" {
		t.Errorf("DefaultDevnetFile = %q", f)
	}
	if runtime.GOOS == "linux" {
		env = map[string]string{"XDG_CONFIG_HOME": "/given/config", "HOME": "/given"}
		if h, err := DefaultHome(func(k string) string { return env[k] }); h != "/given/config/healthwallet" || err != nil {
			t.Errorf("DefaultHome from XDG_CONFIG_HOME = %q, %v", h, err)
		}
		delete(env, "XDG_CONFIG_HOME")
		if f := DefaultDevnetFile(func(k string) string { return env[k] }); f != "/given/.config/healthwallet-devnet/devnet.json" {
			t.Errorf("DefaultDevnetFile from HOME = %q", f)
		}
	}
}
