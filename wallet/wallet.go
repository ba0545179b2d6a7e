// Package wallet is the facade the front ends (the CLI and the Fyne app)
// call: it creates, restores, unlocks and locks a wallet kept in a home
// directory, and hands out the unlocked identity and record catalog.
//
// # Wallet home
//
// A wallet lives in one directory (see [DefaultHome]), mode 0700:
//
//	keystore.age   the recovery secret, sealed under the passphrase (package keystore)
//	wallet.json    public facts: DID, address, creation time, the keystore's SHA-256
//	catalog.db     the encrypted record catalog (package catalog)
//	ipfs/          the encrypted block store (package ipfs): flatfs blocks and their index
//
// wallet.json lets `whoami` answer without the passphrase and lets unlock
// tell a damaged keystore from a wrong passphrase. It holds nothing secret
// and no health data; it is checked against the keystore at every unlock and
// rewritten from it if it is missing or stale.
//
// Creating or restoring never replaces an existing wallet: the keystore is
// created with an exclusive link, so even two racing processes cannot both
// succeed.
package wallet

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
	"github.com/healthwallet/healthwallet/ipfs"
	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/identity"
	"github.com/healthwallet/healthwallet/wallet/keystore"
)

// File names inside a wallet home.
const (
	KeystoreFile = "keystore.age"
	InfoFile     = "wallet.json"
	CatalogFile  = "catalog.db"
	StoreDir     = "ipfs"
)

// Errors of the facade. Keystore and catalog failures keep their own
// sentinels, re-exported here so front ends need import only this package.
var (
	// ErrExists: a wallet is already in the home; nothing was changed.
	ErrExists = errors.New("a wallet already exists here")
	// ErrNoWallet: there is no wallet in the home yet.
	ErrNoWallet = errors.New("no wallet here yet")
	// ErrLocked: the wallet was locked; unlock it again.
	ErrLocked = errors.New("wallet is locked")
	// ErrVaultHeld: the wallet's key is in Vault; unlock by logging in to
	// Vault (UnlockFromVault), not with a passphrase.
	ErrVaultHeld = errors.New("this wallet's key is held in Vault, not sealed under a passphrase: unlock it by logging in to Vault")

	ErrWrongPassphrase = keystore.ErrWrongPassphrase
	ErrKeystoreCorrupt = keystore.ErrCorrupt
	ErrKeystoreTrunc   = keystore.ErrTruncated
	ErrEmptyPassphrase = keystore.ErrEmptyPassphrase
	ErrCatalogInUse    = catalog.ErrInUse
	ErrStoreInUse      = ipfs.ErrStoreInUse
)

// Info is what a wallet home says about itself without the passphrase.
type Info struct {
	Version    int       `json:"version"`
	DID        string    `json:"did"`
	Address    string    `json:"address"`
	PeerID     string    `json:"peerId"`
	Created    time.Time `json:"created"`
	WorkFactor int       `json:"scryptLogN,omitempty"`
	// KeystoreSHA256 is the hex SHA-256 of keystore.age as last written
	// (empty for a Vault-held identity).
	KeystoreSHA256 string `json:"keystoreSha256,omitempty"`
}

// Options tune wallet creation.
type Options struct {
	// WorkFactor is the keystore's scrypt log2(N); 0 means
	// keystore.DefaultWorkFactor. Tests lower it.
	WorkFactor int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

func (o Options) workFactor() int {
	if o.WorkFactor == 0 {
		return keystore.DefaultWorkFactor
	}
	return o.WorkFactor
}

func (o Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// Getenv reads one environment variable. The wallet never reads the
// process environment itself: the front ends pass os.Getenv, and tests
// pass a fake, so a test never picks up a developer's HW_HOME or devnet
// file. A nil Getenv finds every variable unset.
type Getenv func(key string) string

func (g Getenv) get(key string) string {
	if g == nil {
		return ""
	}
	return g(key)
}

// userConfigDir is os.UserConfigDir with its variables read through
// getenv.
func userConfigDir(getenv Getenv) (string, error) {
	need := func(key, sub string) (string, error) {
		v := getenv.get(key)
		if v == "" {
			return "", fmt.Errorf("$%s is not set", key)
		}
		return filepath.Join(v, sub), nil
	}
	switch runtime.GOOS {
	case "windows":
		return need("AppData", "")
	case "darwin", "ios":
		return need("HOME", "Library/Application Support")
	case "plan9":
		return need("home", "lib")
	}
	if dir := getenv.get("XDG_CONFIG_HOME"); dir != "" {
		if !filepath.IsAbs(dir) {
			return "", errors.New("the path in $XDG_CONFIG_HOME is relative")
		}
		return dir, nil
	}
	return need("HOME", ".config")
}

// DefaultHome is $HW_HOME if set, otherwise "healthwallet" in the user's
// configuration directory (~/.config/healthwallet on Linux), both read
// through getenv.
func DefaultHome(getenv Getenv) (string, error) {
	if h := getenv.get("HW_HOME"); h != "" {
		return h, nil
	}
	dir, err := userConfigDir(getenv)
	if err != nil {
		return "", fmt.Errorf("failed to find a home for the wallet (set HW_HOME or --home): %w", err)
	}
	return filepath.Join(dir, "healthwallet"), nil
}

// Exists reports whether home holds a wallet: a keystore file, or a
// reference to a Vault-held identity.
func Exists(home string) bool {
	for _, f := range []string{KeystoreFile, VaultFile} {
		if _, err := os.Stat(filepath.Join(home, f)); err == nil {
			return true
		}
	}
	return false
}

// ReadInfo returns the public facts of the wallet in home.
func ReadInfo(home string) (Info, error) {
	var info Info
	b, err := os.ReadFile(filepath.Join(home, InfoFile))
	if errors.Is(err, os.ErrNotExist) {
		if Exists(home) {
			return info, fmt.Errorf("%s is missing; unlock the wallet once to rebuild it", InfoFile)
		}
		return info, fmt.Errorf("%w in %s", ErrNoWallet, home)
	}
	if err != nil {
		return info, fmt.Errorf("failed to read %s: %w", InfoFile, err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("%s is damaged: %v; unlock the wallet once to rebuild it", InfoFile, err)
	}
	return info, nil
}

// Create makes a new wallet in home for phrase, sealed under passphrase, and
// returns it unlocked. It fails with [ErrExists] if home already holds one.
// New wallets get their phrase from [identity.NewPhrase]; restore passes the
// user's words.
func Create(home string, phrase identity.Phrase, passphrase string, opts Options) (*Wallet, error) {
	if phrase.IsZero() {
		return nil, errors.New("no recovery phrase given")
	}
	if passphrase == "" {
		return nil, ErrEmptyPassphrase
	}
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
	secret := keystore.Secret{Entropy: entropy, Created: opts.now().UTC().Truncate(time.Second)}
	file, err := keystore.Seal(secret, passphrase, opts.workFactor())
	if err != nil {
		return nil, err
	}
	if err := atomicfile.CreateExclusive(filepath.Join(home, KeystoreFile), file, 0o600); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%w: %s", ErrExists, home)
		}
		return nil, fmt.Errorf("failed to write keystore: %w", err)
	}
	w, err := open(home, file, secret)
	if err != nil {
		return nil, err
	}
	w.clock = opts.Now
	return w, nil
}

// Unlock opens the wallet in home with passphrase. When home is a
// restored backup (see [Wallet.Backup]), the first unlock imports the
// backup's blocks.car into the block store and removes it.
func Unlock(home, passphrase string) (*Wallet, error) {
	file, err := os.ReadFile(filepath.Join(home, KeystoreFile))
	if errors.Is(err, os.ErrNotExist) {
		if _, verr := ReadVaultRef(home); verr == nil {
			return nil, ErrVaultHeld
		}
		return nil, fmt.Errorf("%w in %s", ErrNoWallet, home)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read keystore: %w", err)
	}
	var digest []byte
	if info, err := ReadInfo(home); err == nil {
		digest, _ = hex.DecodeString(info.KeystoreSHA256)
	}
	secret, err := keystore.Open(file, passphrase, digest)
	if errors.Is(err, keystore.ErrCorrupt) && digest != nil {
		// The file differs from the digest in wallet.json. If it still
		// opens, wallet.json was stale and is rewritten below; if age calls
		// the passphrase wrong, the digest has shown the file was damaged.
		var retryErr error
		secret, retryErr = keystore.Open(file, passphrase, nil)
		if retryErr == nil || !errors.Is(retryErr, keystore.ErrWrongPassphrase) {
			err = retryErr
		}
	}
	if err != nil {
		return nil, err
	}
	defer clear(secret.Entropy)
	return open(home, file, secret)
}

// open derives the keys, refreshes wallet.json and opens the catalog.
func open(home string, file []byte, secret keystore.Secret) (*Wallet, error) {
	phrase, err := identity.PhraseFromEntropy(secret.Entropy)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", keystore.ErrCorrupt, err)
	}
	keys, err := identity.FromPhrase(phrase)
	if err != nil {
		return nil, err
	}
	peerKey, err := ipfs.PeerKeyFromSeed(keys.PeerKeySeed())
	if err != nil {
		keys.Wipe()
		return nil, err
	}
	peerID, err := peer.IDFromPrivateKey(peerKey)
	if err != nil {
		keys.Wipe()
		return nil, err
	}
	info := Info{
		Version: 1,
		DID:     keys.DID(),
		Address: keys.Address().String(),
		PeerID:  peerID.String(),
		Created: secret.Created,
	}
	if file != nil { // nil for a Vault-held identity
		info.WorkFactor = keystore.WorkFactor(file)
		info.KeystoreSHA256 = hex.EncodeToString(keystore.Digest(file))
	}
	if old, err := ReadInfo(home); err != nil || old != info {
		b, _ := json.MarshalIndent(info, "", "  ")
		if err := atomicfile.WriteFile(filepath.Join(home, InfoFile), append(b, '\n'), 0o644); err != nil {
			keys.Wipe()
			return nil, err
		}
	}
	catalogKey := keys.CatalogKey()
	defer clear(catalogKey)
	cat, err := catalog.Open(filepath.Join(home, CatalogFile), catalogKey)
	if err != nil {
		keys.Wipe()
		return nil, err
	}
	store, err := ipfs.OpenStore(filepath.Join(home, StoreDir), ipfs.StoreOptions{})
	if err != nil {
		cat.Close()
		keys.Wipe()
		return nil, err
	}
	w := &Wallet{home: home, info: info, keys: keys, peerKey: peerKey, phrase: phrase, catalog: cat, store: store}
	if err := w.importBackupCAR(context.Background()); err != nil {
		w.Lock()
		return nil, err
	}
	return w, nil
}

// Wallet is an unlocked wallet. After [Wallet.Lock] every method that needs a
// key returns [ErrLocked].
type Wallet struct {
	home string
	info Info

	mu      sync.RWMutex
	keys    *identity.Keys
	peerKey crypto.PrivKey
	phrase  identity.Phrase
	catalog *catalog.Catalog
	store   *ipfs.Store
	onLock  []func()

	trustDir string           // SMART Health Card issuers; "" means home/trust
	clock    func() time.Time // nil means time.Now; tests set it
}

// SetClock sets the clock the wallet issues, checks and logs by; nil means
// time.Now. The app and the CLI pass the clock their tests inject, so a
// test runs on the same day whatever the real date. Call it right after
// Create or Unlock, before the wallet is shared between goroutines.
func (w *Wallet) SetClock(now func() time.Time) { w.clock = now }

// Now is the time on the wallet's clock (see SetClock).
func (w *Wallet) Now() time.Time { return w.now() }

// now is the wallet's clock.
func (w *Wallet) now() time.Time {
	if w.clock != nil {
		return w.clock()
	}
	return time.Now()
}

// Home returns the wallet's directory.
func (w *Wallet) Home() string { return w.home }

// Info returns the wallet's public facts.
func (w *Wallet) Info() Info { return w.info }

// Keys returns the unlocked keys, or ErrLocked.
func (w *Wallet) Keys() (*identity.Keys, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.keys == nil {
		return nil, ErrLocked
	}
	return w.keys, nil
}

// Phrase returns the recovery phrase, for showing it again on request.
func (w *Wallet) Phrase() (identity.Phrase, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.keys == nil {
		return identity.Phrase{}, ErrLocked
	}
	return w.phrase, nil
}

// Catalog returns the open record catalog, or ErrLocked.
func (w *Wallet) Catalog() (*catalog.Catalog, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.catalog == nil {
		return nil, ErrLocked
	}
	return w.catalog, nil
}

// Locked reports whether Lock has been called.
func (w *Wallet) Locked() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.keys == nil
}

// OnLock registers fn to run (on the locking goroutine) after the wallet locks.
func (w *Wallet) OnLock(fn func()) {
	w.mu.Lock()
	w.onLock = append(w.onLock, fn)
	w.mu.Unlock()
}

// Lock closes the catalog and wipes the keys from memory. Locking twice is
// harmless.
func (w *Wallet) Lock() error {
	w.mu.Lock()
	if w.keys == nil {
		w.mu.Unlock()
		return nil
	}
	w.keys.Wipe()
	w.keys, w.peerKey, w.phrase = nil, nil, identity.Phrase{}
	err := errors.Join(w.catalog.Close(), w.store.Close())
	w.catalog, w.store = nil, nil
	callbacks := w.onLock
	w.mu.Unlock()
	for _, fn := range callbacks {
		fn()
	}
	return err
}
