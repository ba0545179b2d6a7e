package grant

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
)

// BundlePrefix starts a key-bundle link: what a QR code carries when the
// grant link itself is too long (long delegation chains). The bundle is an
// encrypted IPFS object holding the full grant link; the pointer names it
// and carries its key, and the patient's node serves it to anyone (it
// reveals no more than the link it stands for).
const BundlePrefix = "healthwallet:bundle/"

var bundleMagic = []byte("HWB\x01")

// BundlePointer locates and opens a key bundle.
type BundlePointer struct {
	Root      []byte // binary CID of the bundle object
	ObjectID  [16]byte
	Key       [32]byte
	Size      uint64
	Providers [][]byte // binary multiaddrs with /p2p/
}

// Link returns BundlePrefix ‖ base64url(binary pointer).
func (p BundlePointer) Link() string {
	b := append([]byte(nil), bundleMagic...)
	b = appendItem(b, p.Root)
	b = append(b, p.ObjectID[:]...)
	b = append(b, p.Key[:]...)
	b = binary.AppendUvarint(b, p.Size)
	b = appendList(b, p.Providers)
	return BundlePrefix + base64.RawURLEncoding.EncodeToString(b)
}

// IsBundleLink reports whether s is a key-bundle link.
func IsBundleLink(s string) bool {
	return strings.HasPrefix(strings.Join(strings.Fields(s), ""), BundlePrefix)
}

// ParseBundleLink reads a key-bundle link; failures wrap ErrMalformed.
func ParseBundleLink(s string) (BundlePointer, error) {
	var p BundlePointer
	body, ok := strings.CutPrefix(strings.Join(strings.Fields(s), ""), BundlePrefix)
	if !ok {
		return p, fmt.Errorf("%w: a key-bundle link starts with %s", ErrMalformed, BundlePrefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || !bytes.HasPrefix(raw, bundleMagic) {
		return p, fmt.Errorf("%w: not a key-bundle link", ErrMalformed)
	}
	d := &decoder{b: raw[len(bundleMagic):]}
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
