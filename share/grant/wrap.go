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
type PackageKey struct {
	ObjectID [16]byte
	Key      [32]byte
	Size     uint64
}

const (
	packageKeyLen = 16 + 32 + 8
	wrapInfo      = "healthwallet/grant-key/v1"
)

// Wrap seals keys to the grantee's public key, bound to the grant's core
// hash: ephemeral public key (33 bytes) ‖ ChaCha20-Poly1305 ciphertext.
// The pattern is decred secp256k1's Example_encryptDecryptMessage with
// HKDF-SHA256 for key derivation.
func Wrap(grantee *secp256k1.PublicKey, coreHash [32]byte, keys []PackageKey) ([]byte, error) {
	eph, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		return nil, err
	}
	defer eph.Zero()
	ephPub := eph.PubKey().SerializeCompressed()
	aead, err := wrapAEAD(secp256k1.GenerateSharedSecret(eph, grantee), ephPub, grantee.SerializeCompressed())
	if err != nil {
		return nil, err
	}
	plain := make([]byte, 0, len(keys)*packageKeyLen)
	for _, k := range keys {
		plain = append(plain, k.ObjectID[:]...)
		plain = append(plain, k.Key[:]...)
		plain = binary.BigEndian.AppendUint64(plain, k.Size)
	}
	defer clear(plain)
	// A fresh ephemeral key per wrap makes every AEAD key single-use, so the
	// all-zero nonce is safe.
	nonce := make([]byte, aead.NonceSize())
	return aead.Seal(ephPub, nonce, plain, coreHash[:]), nil
}

// Unwrap opens a wrapped key blob with the grantee's private key.
func Unwrap(grantee *secp256k1.PrivateKey, coreHash [32]byte, wrapped []byte) ([]PackageKey, error) {
	if len(wrapped) < 33+chacha20poly1305.Overhead {
		return nil, fmt.Errorf("%w: wrapped key too short", ErrWrongKey)
	}
	ephPub, err := secp256k1.ParsePubKey(wrapped[:33])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWrongKey, err)
	}
	aead, err := wrapAEAD(secp256k1.GenerateSharedSecret(grantee, ephPub), wrapped[:33], grantee.PubKey().SerializeCompressed())
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, make([]byte, aead.NonceSize()), wrapped[33:], coreHash[:])
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

func wrapAEAD(shared, ephPub, granteePub []byte) (cipher.AEAD, error) {
	return deriveAEAD(shared, ephPub, granteePub, wrapInfo)
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
