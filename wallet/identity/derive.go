package identity

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"golang.org/x/crypto/hkdf"
)

// IdentityPath is the BIP-44 path of the identity key: the first Ethereum
// account, so the identity's address matches other EVM wallets.
const IdentityPath = "m/44'/60'/0'/0/0"

// HKDFSalt is the HKDF salt for every purpose secret. Part of the format.
const HKDFSalt = "healthwallet"

// HKDF info labels. Part of the wallet format; see the package doc.
const (
	LabelCatalogKey       = "healthwallet/v1/catalog-key"
	LabelRevocationPrefix = "healthwallet/v1/revocation/"
	LabelPeerKey          = "healthwallet/v1/libp2p-ed25519"
	LabelDedupKey         = "healthwallet/v1/dedup-key"
)

// ErrBadPath means a derivation path could not be parsed.
var ErrBadPath = errors.New("invalid BIP-32 derivation path")

// Keys holds everything derived from one seed. Call [Keys.Wipe] when done.
type Keys struct {
	seed     []byte
	identity *secp256k1.PrivateKey
}

// FromSeed derives the identity key from a 64-byte BIP-39 seed. The seed is
// copied; the caller may wipe its own copy.
func FromSeed(seed []byte) (*Keys, error) {
	priv, err := DerivePrivateKey(seed, IdentityPath)
	if err != nil {
		return nil, err
	}
	return &Keys{seed: append([]byte(nil), seed...), identity: priv}, nil
}

// FromPhrase is FromSeed(p.Seed("")).
func FromPhrase(p Phrase) (*Keys, error) {
	seed := p.Seed("")
	defer clear(seed)
	return FromSeed(seed)
}

// PrivateKey returns the identity signing key.
func (k *Keys) PrivateKey() *secp256k1.PrivateKey { return k.identity }

// PublicKey returns the identity public key.
func (k *Keys) PublicKey() *secp256k1.PublicKey { return k.identity.PubKey() }

// Address returns the identity's Ethereum address.
func (k *Keys) Address() Address { return AddressOf(k.PublicKey()) }

// DID returns the identity's did:key.
func (k *Keys) DID() string { return DIDKey(k.PublicKey()) }

// CatalogKey returns the 32-byte key that seals the record catalog.
func (k *Keys) CatalogKey() []byte { return k.purpose(LabelCatalogKey) }

// DedupKey returns the 32-byte HMAC key for the catalog's deduplication
// index: identities of records are stored only as keyed hashes.
func (k *Keys) DedupKey() []byte { return k.purpose(LabelDedupKey) }

// PeerKeySeed returns the 32-byte Ed25519 seed of the wallet's libp2p
// identity, so a restored wallet keeps its IPFS peer ID.
func (k *Keys) PeerKeySeed() []byte { return k.purpose(LabelPeerKey) }

// RevocationSecret returns the 32-byte revocation secret of the grant with
// the given index. Revealing it on chain revokes that grant, and only that
// grant.
func (k *Keys) RevocationSecret(index uint64) []byte {
	return k.purpose(LabelRevocationPrefix + strconv.FormatUint(index, 10))
}

func (k *Keys) purpose(label string) []byte {
	out := make([]byte, 32)
	r := hkdf.New(sha256.New, k.seed, []byte(HKDFSalt), []byte(label))
	if _, err := io.ReadFull(r, out); err != nil {
		panic("hkdf: " + err.Error()) // unreachable: 32 bytes is far below the HKDF limit
	}
	return out
}

// Wipe zeroes the seed and the private key held by k.
func (k *Keys) Wipe() {
	clear(k.seed)
	if k.identity != nil {
		k.identity.Zero()
	}
}

// DerivePrivateKey derives the private key at a BIP-32 path such as
// "m/44'/60'/0'/0/0" ("'" or "H" marks a hardened index).
func DerivePrivateKey(seed []byte, path string) (*secp256k1.PrivateKey, error) {
	key, err := DeriveExtended(seed, path)
	if err != nil {
		return nil, err
	}
	defer key.Zero()
	priv, err := key.ECPrivKey()
	if err != nil {
		return nil, fmt.Errorf("failed to read derived key: %w", err)
	}
	return secp256k1.PrivKeyFromBytes(priv.Serialize()), nil
}

// DeriveExtended derives the BIP-32 extended private key at path.
func DeriveExtended(seed []byte, path string) (*hdkeychain.ExtendedKey, error) {
	idx, err := ParsePath(path)
	if err != nil {
		return nil, err
	}
	key, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		return nil, fmt.Errorf("failed to derive master key: %w", err)
	}
	for _, i := range idx {
		child, err := key.Derive(i)
		key.Zero()
		if err != nil {
			return nil, fmt.Errorf("failed to derive %s: %w", path, err)
		}
		key = child
	}
	return key, nil
}

// ParsePath parses a BIP-32 path into child indexes, hardened ones with
// [hdkeychain.HardenedKeyStart] added.
func ParsePath(path string) ([]uint32, error) {
	if path == "" || path[0] != 'm' {
		return nil, fmt.Errorf("%w %q: must start with m", ErrBadPath, path)
	}
	rest := path[1:]
	var out []uint32
	for len(rest) > 0 {
		if rest[0] != '/' {
			return nil, fmt.Errorf("%w %q", ErrBadPath, path)
		}
		rest = rest[1:]
		end := 0
		for end < len(rest) && rest[end] != '/' {
			end++
		}
		seg := rest[:end]
		rest = rest[end:]
		hardened := false
		if n := len(seg); n > 0 && (seg[n-1] == '\'' || seg[n-1] == 'H' || seg[n-1] == 'h') {
			hardened, seg = true, seg[:n-1]
		}
		v, err := strconv.ParseUint(seg, 10, 31)
		if err != nil {
			return nil, fmt.Errorf("%w %q: bad index %q", ErrBadPath, path, seg)
		}
		i := uint32(v)
		if hardened {
			i += hdkeychain.HardenedKeyStart
		}
		out = append(out, i)
	}
	return out, nil
}
