package grant

import (
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
)

// PackageKey is what a grantee needs to read one share package, besides its
// CID: the object id and key of the ipfs object, and its size.
//
// A share package is split into one object per group of records (one
// category, one set of sensitive labels), each with its own key, so that a
// holder who re-shares part of a grant can hand on only the keys of that
// part. Category, Sensitive and ResourceTypes say what the object holds;
// they travel only inside the wrapped (encrypted) key material, never in
// the clear. An empty Category marks an object that mixes categories (a
// grant issued before packages were split, or an International Patient
// Summary): it cannot be narrowed.
type PackageKey struct {
	ObjectID      [16]byte
	Key           [32]byte
	Size          uint64
	Category      string
	Sensitive     []string
	ResourceTypes []string
}

// Mixed reports whether the object holds records of more than one group
// (no Category): it can be shared on only whole.
func (k PackageKey) Mixed() bool { return k.Category == "" }

const (
	packageKeyLen = 16 + 32 + 8
	// wrapInfo labels the first format: fixed-size keys, no group.
	wrapInfo = "healthwallet/grant-key/v1"
	// wrapInfoV2 labels the format with each object's group.
	wrapInfoV2 = "healthwallet/grant-key/v2"
	// maxLabel and maxLabels bound the group fields of one key.
	maxLabel  = 64
	maxLabels = 64
)

// Wrap seals keys to the grantee's public key, bound to the grant's core
// hash: ephemeral public key (33 bytes) ‖ ChaCha20-Poly1305 ciphertext.
// The pattern is decred secp256k1's Example_encryptDecryptMessage with
// HKDF-SHA256 for key derivation. Each key is written as object id ‖ key ‖
// size (big-endian) ‖ category ‖ sensitive labels ‖ resource types, the
// strings and lists length-prefixed with uvarints, under the HKDF label
// wrapInfoV2.
func Wrap(grantee *secp256k1.PublicKey, coreHash [32]byte, keys []PackageKey) ([]byte, error) {
	plain := make([]byte, 0, len(keys)*(packageKeyLen+32))
	defer func() { clear(plain) }()
	for _, k := range keys {
		if len(k.Category) > maxLabel || len(k.Sensitive) > maxLabels || len(k.ResourceTypes) > maxLabels {
			return nil, fmt.Errorf("%w: package group too large", ErrMalformed)
		}
		plain = append(plain, k.ObjectID[:]...)
		plain = append(plain, k.Key[:]...)
		plain = binary.BigEndian.AppendUint64(plain, k.Size)
		plain = binary.AppendUvarint(plain, uint64(len(k.Category)))
		plain = append(plain, k.Category...)
		for _, list := range [][]string{k.Sensitive, k.ResourceTypes} {
			plain = binary.AppendUvarint(plain, uint64(len(list)))
			for _, s := range list {
				if len(s) > maxLabel {
					return nil, fmt.Errorf("%w: package group label too long", ErrMalformed)
				}
				plain = binary.AppendUvarint(plain, uint64(len(s)))
				plain = append(plain, s...)
			}
		}
	}
	return sealKeys(grantee, coreHash, plain, wrapInfoV2)
}

// sealKeys encrypts key material to the grantee, bound to the grant's core hash.
func sealKeys(grantee *secp256k1.PublicKey, coreHash [32]byte, plain []byte, info string) ([]byte, error) {
	eph, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		return nil, err
	}
	defer eph.Zero()
	ephPub := eph.PubKey().SerializeCompressed()
	aead, err := wrapAEAD(secp256k1.GenerateSharedSecret(eph, grantee), ephPub, grantee.SerializeCompressed(), info)
	if err != nil {
		return nil, err
	}
	// A fresh ephemeral key per wrap makes every AEAD key single-use, so the
	// all-zero nonce is safe.
	nonce := make([]byte, aead.NonceSize())
	return aead.Seal(ephPub, nonce, plain, coreHash[:]), nil
}

// Unwrap opens a wrapped key blob with the grantee's private key. It reads
// both formats: keys wrapped before packages were split come back Mixed.
func Unwrap(grantee *secp256k1.PrivateKey, coreHash [32]byte, wrapped []byte) ([]PackageKey, error) {
	if len(wrapped) < 33+chacha20poly1305.Overhead {
		return nil, fmt.Errorf("%w: wrapped key too short", ErrWrongKey)
	}
	ephPub, err := secp256k1.ParsePubKey(wrapped[:33])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWrongKey, err)
	}
	open := func(info string) ([]byte, error) {
		aead, err := wrapAEAD(secp256k1.GenerateSharedSecret(grantee, ephPub), wrapped[:33], grantee.PubKey().SerializeCompressed(), info)
		if err != nil {
			return nil, err
		}
		return aead.Open(nil, make([]byte, aead.NonceSize()), wrapped[33:], coreHash[:])
	}
	if plain, err := open(wrapInfoV2); err == nil {
		defer clear(plain)
		return decodeKeys(plain)
	}
	plain, err := open(wrapInfo)
	if err != nil {
		return nil, fmt.Errorf("%w: not for this wallet, or not for this grant", ErrWrongKey)
	}
	defer clear(plain)
	if len(plain)%packageKeyLen != 0 {
		return nil, fmt.Errorf("%w: bad length", ErrWrongKey)
	}
	var out []PackageKey
	for b := plain; len(b) > 0; b = b[packageKeyLen:] {
		var k PackageKey
		copy(k.ObjectID[:], b[:16])
		copy(k.Key[:], b[16:48])
		k.Size = binary.BigEndian.Uint64(b[48:56])
		out = append(out, k)
	}
	return out, nil
}

// decodeKeys reads the second format (see Wrap).
func decodeKeys(plain []byte) ([]PackageKey, error) {
	b := plain
	bad := fmt.Errorf("%w: bad key material", ErrWrongKey)
	uvarint := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	label := func() (string, bool) {
		n, ok := uvarint()
		if !ok || n > maxLabel || n > uint64(len(b)) {
			return "", false
		}
		s := string(b[:n])
		b = b[n:]
		return s, true
	}
	var out []PackageKey
	for len(b) > 0 {
		if len(b) < packageKeyLen {
			return nil, bad
		}
		var k PackageKey
		copy(k.ObjectID[:], b[:16])
		copy(k.Key[:], b[16:48])
		k.Size = binary.BigEndian.Uint64(b[48:56])
		b = b[packageKeyLen:]
		var ok bool
		if k.Category, ok = label(); !ok {
			return nil, bad
		}
		for _, list := range []*[]string{&k.Sensitive, &k.ResourceTypes} {
			n, ok := uvarint()
			if !ok || n > maxLabels {
				return nil, bad
			}
			for range n {
				s, ok := label()
				if !ok {
					return nil, bad
				}
				*list = append(*list, s)
			}
		}
		out = append(out, k)
	}
	return out, nil
}

func wrapAEAD(shared, ephPub, granteePub []byte, info string) (cipher.AEAD, error) {
	return deriveAEAD(shared, ephPub, granteePub, info)
}

// deriveAEAD turns an ECDH secret into a single-use ChaCha20-Poly1305 key:
// HKDF-SHA256 with salt ephemeral ‖ recipient public key and info naming
// what the key seals (the package key of a grant, a sealed link). It wipes
// shared.
func deriveAEAD(shared, ephPub, recipientPub []byte, info string) (cipher.AEAD, error) {
	defer clear(shared)
	salt := append(append([]byte(nil), ephPub...), recipientPub...)
	key := make([]byte, chacha20poly1305.KeySize)
	if _, err := io.ReadFull(hkdf.New(sha256.New, shared, salt, []byte(info)), key); err != nil {
		return nil, err
	}
	defer clear(key)
	return chacha20poly1305.New(key)
}
