package app

import (
	"github.com/healthwallet/healthwallet/internal/qrimage"
	"github.com/healthwallet/healthwallet/share/grant"
)

// decodeQRImage reads a grant link from a QR code image, as the CLI's
// redeem does (internal/qrimage).
func decodeQRImage(path string) (string, error) {
	return qrimage.Read(path, grant.LinkPrefix, grant.BundlePrefix)
}
