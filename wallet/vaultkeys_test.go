package wallet

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/healthwallet/healthwallet/wallet/identity"
	"github.com/healthwallet/healthwallet/wallet/keystore"
)

// memVault is a SeedVault in memory, for unit tests only; the vault
// package's tests run the real server.
type memVault map[string][]byte

func (m memVault) StoreSeed(_ context.Context, name string, seed []byte) error {
	if _, ok := m[name]; ok {
		return errors.New("identity exists")
	}
	m[name] = bytes.Clone(seed)
	return nil
}

func (m memVault) LoadSeed(_ context.Context, name string) ([]byte, error) {
	s, ok := m[name]
	if !ok {
		return nil, errors.New("no such identity")
	}
	return bytes.Clone(s), nil
}

func TestVaultHeldIdentity(t *testing.T) {
	ctx := context.Background()
	home := filepath.Join(t.TempDir(), "clinic")
	v := memVault{}
	p, _ := identity.NewPhrase()
	w, err := CreateInVault(ctx, home, p, v, VaultRef{Addr: "http://127.0.0.1:8200", Mount: "secret", Name: "dr-jones"}, fast)
	if err != nil {
		t.Fatal(err)
	}
	did := w.Info().DID
	w.Lock()
	if _, err := os.Stat(filepath.Join(home, KeystoreFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a Vault-held wallet wrote a keystore file")
	}
	if _, err := Unlock(home, pass); !errors.Is(err, ErrVaultHeld) {
		t.Fatalf("passphrase unlock of a Vault-held wallet: %v", err)
	}
	w, err = UnlockFromVault(ctx, home, v)
	if err != nil || w.Info().DID != did {
		t.Fatalf("unlock from vault: %v", err)
	}
	w.Lock()
	entropy, _ := p.Entropy()
	filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, entropy) || bytes.Contains(b, []byte(hex.EncodeToString(entropy))) {
			t.Errorf("the seed is on disk in %s", path)
		}
		return nil
	})
	if _, err := CreateInVault(ctx, home, p, v, VaultRef{Name: "x"}, fast); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v", err)
	}
}

func TestRestoreKeystoreChecksPassphrase(t *testing.T) {
	src := newWallet(t)
	file, err := KeystoreFileBytes(src.Home())
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "new-device")
	if _, err := RestoreKeystore(dst, file, "wrong passphrase"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if Exists(dst) {
		t.Fatal("a refused restore wrote a wallet")
	}
	// A received keystore that asks for 2^22 of scrypt work (4 GiB) is
	// refused before any of it is done.
	costly := bytes.Replace(file, []byte(" 10\n"), []byte(" 22\n"), 1)
	if _, err := RestoreKeystore(dst, costly, pass); !errors.Is(err, keystore.ErrTooCostly) || Exists(dst) {
		t.Fatalf("2^22 keystore: %v", err)
	}
	w, err := RestoreKeystore(dst, file, pass)
	if err != nil || w.Info().DID != src.Info().DID {
		t.Fatalf("restore: %v", err)
	}
	w.Lock()
}
