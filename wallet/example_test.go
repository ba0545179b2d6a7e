package wallet_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/identity"
)

// The examples start from the BIP-39 test phrase, so the identity (and the
// output) is fixed: its address is the one every Ethereum wallet derives
// from this phrase. A real wallet starts from identity.NewPhrase, shown to
// the patient to write down. WorkFactor 10 keeps the examples fast: leave
// it 0 (keystore.DefaultWorkFactor, about half a second per unlock) for a
// real wallet.
const (
	testPhrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	passphrase = "correct horse battery staple"
)

var options = wallet.Options{
	WorkFactor: 10,
	Now:        func() time.Time { return time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC) },
}

// Create a wallet in a new home directory from a recovery phrase and a
// passphrase. The keystore is written once: creating again in the same home
// fails with ErrExists and changes nothing.
func ExampleCreate() {
	dir, err := os.MkdirTemp("", "hw-example-wallet-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	home := filepath.Join(dir, "wallet")

	phrase, err := identity.ParsePhrase(testPhrase)
	if err != nil {
		panic(err)
	}
	w, err := wallet.Create(home, phrase, passphrase, options)
	if err != nil {
		panic(err)
	}
	defer w.Lock()
	info := w.Info()
	fmt.Println("address:", info.Address)
	fmt.Println("created:", info.Created.Format(time.DateOnly))

	_, err = wallet.Create(home, phrase, passphrase, options)
	fmt.Println("again:", errors.Is(err, wallet.ErrExists))
	// Output:
	// address: 0x9858EfFD232B4033E47d90003D41EC34EcaEda94
	// created: 2026-11-21
	// again: true
}

// Unlock a wallet with its passphrase; Lock drops its keys. A wrong
// passphrase is told apart (ErrWrongPassphrase) from a damaged keystore
// (ErrKeystoreCorrupt).
func ExampleUnlock() {
	dir, err := os.MkdirTemp("", "hw-example-wallet-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	home := filepath.Join(dir, "wallet")
	phrase, err := identity.ParsePhrase(testPhrase)
	if err != nil {
		panic(err)
	}
	w, err := wallet.Create(home, phrase, passphrase, options)
	if err != nil {
		panic(err)
	}
	if err := w.Lock(); err != nil {
		panic(err)
	}
	_, err = w.Keys()
	fmt.Println("locked:", errors.Is(err, wallet.ErrLocked))

	_, err = wallet.Unlock(home, "not the passphrase")
	fmt.Println("wrong passphrase:", errors.Is(err, wallet.ErrWrongPassphrase))

	w, err = wallet.Unlock(home, passphrase)
	if err != nil {
		panic(err)
	}
	defer w.Lock()
	fmt.Println("unlocked:", w.Info().Address)
	// Output:
	// locked: true
	// wrong passphrase: true
	// unlocked: 0x9858EfFD232B4033E47d90003D41EC34EcaEda94
}
