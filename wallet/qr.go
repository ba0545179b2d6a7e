package wallet

import (
	"io"

	"github.com/healthwallet/healthwallet/internal/qrimage"
	"github.com/healthwallet/healthwallet/share/grant"
)

// ReadLinkQR reads a grant link (or a key-bundle link) from a QR code
// image, for "redeem from a picture" in the app and the CLI.
func ReadLinkQR(path string) (string, error) {
	return qrimage.Read(path, grant.LinkPrefix, grant.BundlePrefix)
}

// DecodeLinkQR is ReadLinkQR for a picture that is no file of its own (a
// photo picked on a phone arrives as a stream).
func DecodeLinkQR(r io.Reader) (string, error) {
	return qrimage.Decode(r, grant.LinkPrefix, grant.BundlePrefix)
}
