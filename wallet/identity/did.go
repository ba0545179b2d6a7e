package identity

import (
	"errors"
	"fmt"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/mr-tron/base58"
)

// ErrBadDID means a string is not a secp256k1 did:key.
var ErrBadDID = errors.New("not a secp256k1 did:key")

// didKeyPrefix is "did:key:" followed by the multibase code for base58btc.
const didKeyPrefix = "did:key:z"

// secp256k1Multicodec is the unsigned-varint encoding of multicodec 0xe7
// (secp256k1-pub).
var secp256k1Multicodec = []byte{0xe7, 0x01}

// DIDKey returns the did:key of a secp256k1 public key: base58btc of the
// multicodec prefix 0xe7 followed by the 33-byte compressed point.
func DIDKey(pub *secp256k1.PublicKey) string {
	buf := append(append([]byte(nil), secp256k1Multicodec...), pub.SerializeCompressed()...)
	return didKeyPrefix + base58.Encode(buf)
}

// ParseDIDKey returns the public key a secp256k1 did:key names. A DID URL
// fragment ("#…") is ignored.
func ParseDIDKey(did string) (*secp256k1.PublicKey, error) {
	did, _, _ = strings.Cut(did, "#")
	body, ok := strings.CutPrefix(did, didKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: %q must start with %s", ErrBadDID, did, didKeyPrefix)
	}
	raw, err := base58.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base58: %v", ErrBadDID, err)
	}
	if len(raw) != 35 || raw[0] != secp256k1Multicodec[0] || raw[1] != secp256k1Multicodec[1] {
		return nil, fmt.Errorf("%w: want multicodec 0xe7 and a 33-byte compressed key", ErrBadDID)
	}
	pub, err := secp256k1.ParsePubKey(raw[2:])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadDID, err)
	}
	return pub, nil
}
