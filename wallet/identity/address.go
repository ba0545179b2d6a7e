package identity

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"golang.org/x/crypto/sha3"
)

// ErrBadAddress means a string is not a valid Ethereum address.
var ErrBadAddress = errors.New("invalid Ethereum address")

// Address is a 20-byte Ethereum account address.
type Address [20]byte

// AddressOf returns the Ethereum address of a public key: the last 20 bytes
// of Keccak-256 over the uncompressed point without its 0x04 prefix.
func AddressOf(pub *secp256k1.PublicKey) Address {
	h := sha3.NewLegacyKeccak256()
	h.Write(pub.SerializeUncompressed()[1:])
	var a Address
	copy(a[:], h.Sum(nil)[12:])
	return a
}

// String returns the EIP-55 mixed-case checksummed form, "0x…".
func (a Address) String() string {
	lower := hex.EncodeToString(a[:])
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte(lower))
	sum := h.Sum(nil)
	out := []byte(lower)
	for i, c := range out {
		if c < 'a' {
			continue
		}
		nibble := sum[i/2] >> 4
		if i%2 == 1 {
			nibble = sum[i/2] & 0x0f
		}
		if nibble >= 8 {
			out[i] = c - 'a' + 'A'
		}
	}
	return "0x" + string(out)
}

// ParseAddress parses "0x…" hex. A mixed-case input must carry a correct
// EIP-55 checksum; all-lower or all-upper input is accepted as is.
func ParseAddress(s string) (Address, error) {
	var a Address
	body, ok := strings.CutPrefix(s, "0x")
	if !ok || len(body) != 40 {
		return a, fmt.Errorf("%w %q: want 0x and 40 hex digits", ErrBadAddress, s)
	}
	if _, err := hex.Decode(a[:], []byte(body)); err != nil {
		return a, fmt.Errorf("%w %q: %v", ErrBadAddress, s, err)
	}
	if body != strings.ToLower(body) && body != strings.ToUpper(body) && a.String() != s {
		return a, fmt.Errorf("%w %q: EIP-55 checksum mismatch", ErrBadAddress, s)
	}
	return a, nil
}
