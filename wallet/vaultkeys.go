package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
	"github.com/healthwallet/healthwallet/wallet/identity"
	"github.com/healthwallet/healthwallet/wallet/keystore"
)

// VaultFile marks a wallet whose recovery secret lives in HashiCorp Vault
// (a clinic's or a specialist's identity) instead of keystore.age: it holds
// where, never the secret.
const VaultFile = "vault.json"

// SeedVault is a place that keeps a wallet's recovery secret for it,
// sealed: package vault's Client (KV v2 under a Transit key) is the real
// one.
type SeedVault interface {
	StoreSeed(ctx context.Context, name string, seed []byte) error
	LoadSeed(ctx context.Context, name string) ([]byte, error)
}

// VaultRef says where a Vault-held identity lives.
type VaultRef struct {
	Addr  string `json:"addr"`
	Mount string `json:"mount"`
	Name  string `json:"name"`
}

// ErrNotVaultHeld: the wallet keeps its secret in a keystore file.
var ErrNotVaultHeld = errors.New("this wallet keeps its key in a keystore file, not in Vault")

// ReadVaultRef returns the Vault reference of a Vault-held wallet.
func ReadVaultRef(home string) (VaultRef, error) {
	var ref VaultRef
	b, err := os.ReadFile(filepath.Join(home, VaultFile))
	if errors.Is(err, os.ErrNotExist) {
		return ref, ErrNotVaultHeld
	}
	if err != nil {
		return ref, err
	}
	if err := json.Unmarshal(b, &ref); err != nil || ref.Name == "" {
		return ref, fmt.Errorf("%s is damaged", VaultFile)
	}
	return ref, nil
}

// CreateInVault makes a wallet whose recovery secret is stored in v under
// ref.Name and never written to this device's disk. It fails with
// ErrExists if home holds a wallet, and does not overwrite an identity
// already in Vault (the vault refuses).
func CreateInVault(ctx context.Context, home string, phrase identity.Phrase, v SeedVault, ref VaultRef, opts Options) (*Wallet, error) {
	if Exists(home) {
		return nil, fmt.Errorf("%w: %s", ErrExists, home)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create wallet home: %w", err)
	}
	entropy, err := phrase.Entropy()
	if err != nil {
		return nil, err
	}
	defer clear(entropy)
	if err := v.StoreSeed(ctx, ref.Name, entropy); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(ref, "", "  ")
	if err := atomicfile.CreateExclusive(filepath.Join(home, VaultFile), append(b, '\n'), 0o600); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%w: %s", ErrExists, home)
		}
		return nil, err
	}
	w, err := open(home, nil, keystore.Secret{Entropy: entropy, Created: opts.now().UTC().Truncate(1e9)})
	if err != nil {
		return nil, err
	}
	w.clock = opts.Now
	return w, nil
}

// UnlockFromVault opens a Vault-held wallet with a logged-in v.
func UnlockFromVault(ctx context.Context, home string, v SeedVault) (*Wallet, error) {
	ref, err := ReadVaultRef(home)
	if err != nil {
		return nil, err
	}
	entropy, err := v.LoadSeed(ctx, ref.Name)
	if err != nil {
		return nil, err
	}
	defer clear(entropy)
	info, _ := ReadInfo(home) // zero Created if wallet.json is missing
	return open(home, nil, keystore.Secret{Entropy: entropy, Created: info.Created})
}

// RestoreKeystore writes a keystore file (from a backup) into an empty
// home, after checking that passphrase opens it: a backup that the
// passphrase does not open is refused and nothing is written. The file
// came from elsewhere, so its scrypt work factor is capped at
// keystore.MaxReceivedWorkFactor.
func RestoreKeystore(home string, file []byte, passphrase string) (*Wallet, error) {
	if Exists(home) {
		return nil, fmt.Errorf("%w: %s", ErrExists, home)
	}
	secret, err := keystore.OpenLimited(file, passphrase, nil, keystore.MaxReceivedWorkFactor)
	if err != nil {
		return nil, err
	}
	defer clear(secret.Entropy)
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	if err := atomicfile.CreateExclusive(filepath.Join(home, KeystoreFile), file, 0o600); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%w: %s", ErrExists, home)
		}
		return nil, err
	}
	return open(home, file, secret)
}

// KeystoreFileBytes returns the passphrase-sealed keystore of a wallet home
// (for escrow: useless without the passphrase).
func KeystoreFileBytes(home string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(home, KeystoreFile))
	if errors.Is(err, os.ErrNotExist) {
		if _, verr := ReadVaultRef(home); verr == nil {
			return nil, errors.New("this wallet's key is held in Vault; there is no keystore file to back up")
		}
		return nil, fmt.Errorf("%w in %s", ErrNoWallet, home)
	}
	return b, err
}
