package cli

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/healthwallet/healthwallet/share/grant"
)

// decodeQRImage reads a grant link from a QR code image with zbarimg
// (Debian's zbar-tools), when installed.
func decodeQRImage(path string) (string, error) {
	return decodeQRText(path, grant.LinkPrefix, grant.BundlePrefix)
}

// decodeQRText reads the first QR text in an image that starts with one of
// prefixes.
func decodeQRText(path string, prefixes ...string) (string, error) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		return "", errors.New("reading QR images needs zbarimg (apt-get install zbar-tools); paste the link instead")
	}
	out, err := exec.Command(zbar, "--quiet", "--raw", path).Output()
	if err != nil {
		return "", fmt.Errorf("%s: no QR code found", path)
	}
	for _, line := range strings.Split(string(out), "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(strings.TrimSpace(line), p) {
				return strings.TrimSpace(line), nil
			}
		}
	}
	return "", fmt.Errorf("%s: the QR code is not a healthwallet link", path)
}
