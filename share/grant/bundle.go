package grant

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// BundlePrefix starts a key-bundle link: what a QR code carries when the
// grant link itself is too long (long delegation chains). The bundle is an
// encrypted IPFS object holding the full (sealed) grant link; the pointer
// names it, carries its key and the nodes that serve it, and is itself
// sealed to the same parties as the link (see [Chain.Link]), so the QR code
// shows no node address. The patient's node serves the bundle to anyone:
// it holds only the sealed link.
const BundlePrefix = "healthwallet:bundle/"

// BundlePointer locates and opens a key bundle.
type BundlePointer struct {
	Root      []byte // binary CID of the bundle object
	ObjectID  [16]byte
	Key       [32]byte
	Size      uint64
	Providers [][]byte // binary multiaddrs with /p2p/
}

// Link returns BundlePrefix ‖ base64url(binary pointer sealed to the
// recipients: the grantee and the issuer of the grant it stands for).
func (p BundlePointer) Link(to ...*secp256k1.PublicKey) (string, error) {
	var b []byte
	b = appendItem(b, p.Root)
	b = append(b, p.ObjectID[:]...)
	b = append(b, p.Key[:]...)
	b = binary.AppendUvarint(b, p.Size)
	b = appendList(b, p.Providers)
	sealed, err := seal(bundleHeader, bundleInfo, b, to)
	if err != nil {
		return "", err
	}
	return BundlePrefix + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// IsBundleLink reports whether s is a key-bundle link.
func IsBundleLink(s string) bool {
	return strings.HasPrefix(strings.Join(strings.Fields(s), ""), BundlePrefix)
}

// OpenBundleLink opens a key-bundle link with the grantee's (or the
// issuer's) key. A link for another wallet is ErrNotAddressed; other
// failures wrap ErrMalformed.
func OpenBundleLink(s string, key *secp256k1.PrivateKey) (BundlePointer, error) {
	var p BundlePointer
	body, ok := strings.CutPrefix(strings.Join(strings.Fields(s), ""), BundlePrefix)
	if !ok {
		return p, fmt.Errorf("%w: a key-bundle link starts with %s", ErrMalformed, BundlePrefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) > 4096 {
		return p, fmt.Errorf("%w: not a key-bundle link", ErrMalformed)
	}
	plain, err := open(bundleHeader, bundleInfo, raw, key)
	if err != nil {
		return p, err
	}
	d := &decoder{b: plain}
	p.Root = d.item()
	copy(p.ObjectID[:], d.take(16))
	copy(p.Key[:], d.take(32))
	p.Size = d.uvarint()
	p.Providers = d.list()
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err == nil && (len(p.Root) == 0 || p.Size > maxEncoded) {
		d.fail("bad bundle")
	}
	return p, d.err
}
