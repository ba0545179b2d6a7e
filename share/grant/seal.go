package grant

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/crypto/chacha20poly1305"
)

// ErrNotAddressed: no recipient slot of a sealed link opens with this
// wallet's key. Its text is what the user reads.
var ErrNotAddressed = errors.New("this link is not addressed to this wallet")

// Sealed envelopes.
//
// A grant link and a key-bundle pointer travel sealed, so that a
// photographed QR code or a forwarded message shows nothing but its kind,
// format version, number of recipients and length: no patient address, no
// category or sensitive label, no node address, no grantee. The envelope is
//
//	header(4) ‖ count(1) ‖ slot × count ‖ ChaCha20-Poly1305_K(body)
//	slot: ephemeral public key(33) ‖ ChaCha20-Poly1305_KEK(K)(48)
//
// K is a fresh random 32-byte key, sealed once per recipient (slot); the
// key-encryption key KEK of a slot is HKDF-SHA256 of the ECDH secret of a
// fresh ephemeral secp256k1 key and the recipient's public key, with salt
// ephemeral ‖ recipient and info naming the envelope kind: the same
// construction as the package key in a grant ([Wrap]). Slot and body both
// use the all-zero nonce (every key is used once); a slot's associated data
// is the header, the body's is everything before it. The slots carry no key
// id, so two links to the same grantee cannot be told to be so; a wallet
// tries each slot with its own key. "What routing needs" is nothing: the
// grantee opens the envelope before it dials anyone, and the node addresses
// are inside.
//
// A grant link is sealed to the leaf grantee (who redeems or re-shares it)
// and to the leaf issuer (who made it: the patient for its own grants, the
// delegator for a re-share), so a wallet restored from its phrase can still
// open a link it issued and revoke it (see wallet.RevokeLink). A
// delegation chain is sealed whole to the leaf's two parties only.
const (
	sealedVersion = 2
	maxSlots      = 4
	slotLen       = 33 + 32 + chacha20poly1305.Overhead
	linkInfo      = "healthwallet/grant-link/v2"
	bundleInfo    = "healthwallet/bundle-link/v2"
)

var (
	linkHeader   = []byte{'H', 'W', 'G', sealedVersion}
	bundleHeader = []byte{'H', 'W', 'B', sealedVersion}
)

// seal encrypts plain to every recipient.
func seal(header []byte, info string, plain []byte, to []*secp256k1.PublicKey) ([]byte, error) {
	if len(to) == 0 || len(to) > maxSlots {
		return nil, fmt.Errorf("%w: %d recipients", ErrMalformed, len(to))
	}
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return nil, err
	}
	defer clear(k[:])
	zero := make([]byte, chacha20poly1305.NonceSize)
	out := append(bytes.Clone(header), byte(len(to)))
	for _, pub := range to {
		eph, err := secp256k1.GeneratePrivateKey()
		if err != nil {
			return nil, err
		}
		ephPub := eph.PubKey().SerializeCompressed()
		kek, err := deriveAEAD(secp256k1.GenerateSharedSecret(eph, pub), ephPub, pub.SerializeCompressed(), info)
		eph.Zero()
		if err != nil {
			return nil, err
		}
		out = append(out, ephPub...)
		out = kek.Seal(out, zero, k[:], header)
	}
	body, err := chacha20poly1305.New(k[:])
	if err != nil {
		return nil, err
	}
	return body.Seal(out, zero, plain, bytes.Clone(out)), nil
}

// open finds the slot that key opens and decrypts the body. A well-formed
// envelope that no slot opens is ErrNotAddressed; a damaged body is
// ErrMalformed.
func open(header []byte, info string, sealed []byte, key *secp256k1.PrivateKey) ([]byte, error) {
	if !bytes.HasPrefix(sealed, header) || len(sealed) < len(header)+1 {
		return nil, fmt.Errorf("%w: not a sealed healthwallet link", ErrMalformed)
	}
	n := int(sealed[len(header)])
	bodyAt := len(header) + 1 + n*slotLen
	if n == 0 || n > maxSlots || len(sealed) < bodyAt+chacha20poly1305.Overhead {
		return nil, fmt.Errorf("%w: truncated", ErrMalformed)
	}
	if key == nil {
		return nil, ErrNotAddressed
	}
	zero := make([]byte, chacha20poly1305.NonceSize)
	mine := key.PubKey().SerializeCompressed()
	var k []byte
	for i := range n {
		slot := sealed[len(header)+1+i*slotLen:][:slotLen]
		ephPub, err := secp256k1.ParsePubKey(slot[:33])
		if err != nil {
			continue
		}
		kek, err := deriveAEAD(secp256k1.GenerateSharedSecret(key, ephPub), slot[:33], mine, info)
		if err != nil {
			return nil, err
		}
		if k, err = kek.Open(nil, zero, slot[33:], header); err == nil {
			break
		}
	}
	if k == nil {
		return nil, ErrNotAddressed
	}
	defer clear(k)
	body, err := chacha20poly1305.New(k)
	if err != nil {
		return nil, err
	}
	plain, err := body.Open(nil, zero, sealed[bodyAt:], sealed[:bodyAt])
	if err != nil {
		return nil, fmt.Errorf("%w: the link is damaged", ErrMalformed)
	}
	return plain, nil
}

// Link returns the chain as a sealed link: LinkPrefix ‖ base64url of the
// envelope above around Encode(), sealed to the leaf grantee and to issuer,
// which must be the public key of the leaf's issuer.
func (c Chain) Link(issuer *secp256k1.PublicKey) (string, error) {
	b, err := c.Encode()
	if err != nil {
		return "", err
	}
	grantee, err := c.Leaf().Grantee()
	if err != nil {
		return "", err
	}
	if issuer == nil || addressOf(issuer) != c.Leaf().Issuer {
		return "", fmt.Errorf("%w: the link must be sealed to the key that issued it", ErrMalformed)
	}
	sealed, err := seal(linkHeader, linkInfo, b, []*secp256k1.PublicKey{grantee, issuer})
	if err != nil {
		return "", err
	}
	return LinkPrefix + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// OpenLink opens a grant link with the key of its grantee or of its issuer,
// forgiving surrounding whitespace and line breaks inserted by mail
// clients. A link for another wallet is ErrNotAddressed; anything else
// that fails wraps ErrMalformed. It does not verify the chain: see
// [Verify].
func OpenLink(s string, key *secp256k1.PrivateKey) (Chain, error) {
	raw, err := linkBytes(s)
	if err != nil {
		return nil, err
	}
	plain, err := open(linkHeader, linkInfo, raw, key)
	if err != nil {
		return nil, err
	}
	return DecodeChain(plain)
}

// CheckLink reports whether s is a well-formed sealed grant link, without
// opening it (for forwarding a link one cannot read).
func CheckLink(s string) error {
	raw, err := linkBytes(s)
	if err != nil {
		return err
	}
	if _, err := open(linkHeader, linkInfo, raw, nil); !errors.Is(err, ErrNotAddressed) {
		return err
	}
	return nil
}

func linkBytes(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	body, ok := strings.CutPrefix(s, LinkPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: a grant link starts with %s", ErrMalformed, LinkPrefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if bytes.HasPrefix(raw, append(bytes.Clone(magic), formatV1)) {
		return nil, fmt.Errorf("%w: an unencrypted link from an older version; ask for the grant again", ErrMalformed)
	}
	if len(raw) > maxEncoded+len(linkHeader)+1+maxSlots*slotLen+chacha20poly1305.Overhead {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(raw))
	}
	return raw, nil
}

func addressOf(pub *secp256k1.PublicKey) common.Address {
	// The Ethereum address: the last 20 bytes of the Keccak-256 of the
	// uncompressed point without its 0x04 prefix (what crypto.PubkeyToAddress
	// does, without decompressing the key a second time).
	return common.BytesToAddress(crypto.Keccak256(pub.SerializeUncompressed()[1:])[12:])
}
