package grant

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"rsc.io/qr"
)

// Encoding limits: a decoder refuses anything larger.
const (
	maxList    = 64
	maxItem    = 4096
	maxEncoded = 64 << 10
	formatV1   = 1
)

var magic = []byte("HWG")

// Encode returns the compact binary form of a chain, in the clear: what a
// sealed link ([Chain.Link]) carries inside, and what a grantee presents to
// the patient's node:
//
//	"HWG" version(1) chainId(uvarint) registry(20) count(uvarint) grant…
//	grant: issuer(20) granteeKey(33) hasParent(1) [parent(32)]
//	       packages providers resourceTypes categories sensitive (lists)
//	       operations(1) depth(1) notBefore expiresAt (uvarint)
//	       revocationId(32) nonce(uvarint) wrappedKey(bytes) signature(65)
//	list:  count(uvarint), then each item as length(uvarint) ‖ bytes
//
// Every grant of a chain shares the first grant's domain.
func (c Chain) Encode() ([]byte, error) {
	if len(c) == 0 || len(c) > MaxChain {
		return nil, fmt.Errorf("%w: chain of %d grants", ErrMalformed, len(c))
	}
	var b []byte
	b = append(b, magic...)
	b = append(b, formatV1)
	b = binary.AppendUvarint(b, c[0].Domain.ChainID)
	b = append(b, c[0].Domain.Registry[:]...)
	b = binary.AppendUvarint(b, uint64(len(c)))
	for _, g := range c {
		if g.Domain != c[0].Domain {
			return nil, fmt.Errorf("%w: links signed under different domains", ErrMalformed)
		}
		if len(g.GranteeKey) != 33 || len(g.Signature) != 65 {
			return nil, fmt.Errorf("%w: unsigned grant or bad grantee key", ErrMalformed)
		}
		b = append(b, g.Issuer[:]...)
		b = append(b, g.GranteeKey...)
		if g.IsRoot() {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			b = append(b, g.Parent[:]...)
		}
		b = appendList(b, g.Packages)
		b = appendList(b, g.Providers)
		for _, ss := range [][]string{g.ResourceTypes, g.Categories, g.Sensitive} {
			b = appendList(b, toBytes(ss))
		}
		b = append(b, byte(g.Operations), g.Depth)
		b = binary.AppendUvarint(b, g.NotBefore)
		b = binary.AppendUvarint(b, g.ExpiresAt)
		b = append(b, g.RevocationID[:]...)
		b = binary.AppendUvarint(b, g.Nonce)
		b = appendItem(b, g.WrappedKey)
		b = append(b, g.Signature...)
	}
	return b, nil
}

func appendList(b []byte, items [][]byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(items)))
	for _, it := range items {
		b = appendItem(b, it)
	}
	return b
}

func appendItem(b, it []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(it)))
	return append(b, it...)
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// decoder reads the binary form, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail("truncated")
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) item() []byte {
	n := d.uvarint()
	if n > maxItem {
		d.fail("item of %d bytes", n)
		return nil
	}
	return bytes.Clone(d.take(int(n)))
}

func (d *decoder) list() [][]byte {
	n := d.uvarint()
	if n > maxList {
		d.fail("list of %d items", n)
		return nil
	}
	var out [][]byte
	for range n {
		out = append(out, d.item())
	}
	return out
}

func (d *decoder) strings() []string {
	var out []string
	for _, b := range d.list() {
		out = append(out, string(b))
	}
	return out
}

// DecodeChain parses the binary form. It never panics; every failure wraps
// ErrMalformed.
func DecodeChain(b []byte) (Chain, error) {
	if len(b) > maxEncoded {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	if !bytes.HasPrefix(b, magic) {
		return nil, fmt.Errorf("%w: not a healthwallet grant", ErrMalformed)
	}
	d := &decoder{b: b[len(magic):]}
	if v := d.take(1); d.err == nil && v[0] != formatV1 {
		return nil, fmt.Errorf("%w: grant format %d (this build reads %d)", ErrMalformed, v[0], formatV1)
	}
	var dom Domain
	dom.ChainID = d.uvarint()
	copy(dom.Registry[:], d.take(20))
	n := d.uvarint()
	if d.err == nil && (n == 0 || n > MaxChain) {
		d.fail("chain of %d grants", n)
	}
	var c Chain
	for i := uint64(0); i < n && d.err == nil; i++ {
		g := &Grant{Domain: dom}
		copy(g.Issuer[:], d.take(20))
		g.GranteeKey = bytes.Clone(d.take(33))
		switch flag := d.take(1); {
		case d.err != nil:
		case flag[0] == 1:
			copy(g.Parent[:], d.take(32))
			if g.IsRoot() {
				d.fail("zero parent")
			}
		case flag[0] != 0:
			d.fail("parent flag %d", flag[0])
		}
		g.Packages = d.list()
		g.Providers = d.list()
		g.ResourceTypes = d.strings()
		g.Categories = d.strings()
		g.Sensitive = d.strings()
		if ob := d.take(2); d.err == nil {
			g.Operations, g.Depth = Operations(ob[0]), ob[1]
		}
		g.NotBefore = d.uvarint()
		g.ExpiresAt = d.uvarint()
		copy(g.RevocationID[:], d.take(32))
		g.Nonce = d.uvarint()
		g.WrappedKey = d.item()
		g.Signature = bytes.Clone(d.take(65))
		c = append(c, g)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return c, nil
}

// LinkPrefix starts every grant link; see [Chain.Link].
const LinkPrefix = "healthwallet:grant/"

// MaxQRLink is the longest link put into a QR code. Version 40 at level M
// holds 2331 bytes; phone cameras read codes far below that size reliably,
// so longer links go through a key bundle (see package doc).
const MaxQRLink = 1800

// ErrTooBigForQR: the link is too long for a reliably scannable QR code.
var ErrTooBigForQR = errors.New("grant link too long for a QR code")

// QR returns a PNG QR code of a link, error correction level M.
func QR(link string) ([]byte, error) {
	if len(link) > MaxQRLink {
		return nil, fmt.Errorf("%w: %d characters, limit %d", ErrTooBigForQR, len(link), MaxQRLink)
	}
	code, err := qr.Encode(link, qr.M)
	if err != nil {
		return nil, fmt.Errorf("failed to make QR code: %w", err)
	}
	code.Scale = 6
	return code.PNG(), nil
}
