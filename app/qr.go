package app

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/healthwallet/healthwallet/share/grant"
)

// decodeQRImage reads a grant link from a QR code image with zbarimg
// (Debian's zbar-tools), as the CLI's redeem does.
func decodeQRImage(path string) (string, error) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		return "", errors.New("reading QR images needs zbarimg (apt-get install zbar-tools); paste the link instead")
	}
	out, err := exec.Command(zbar, "--quiet", "--raw", path).Output()
	if err != nil {
		return "", fmt.Errorf("%s: no QR code found", filepath.Base(path))
	}
	for _, line := range strings.Split(string(out), "\n") {
		s := strings.TrimSpace(line)
		if strings.HasPrefix(s, grant.LinkPrefix) || grant.IsBundleLink(s) {
			return s, nil
		}
	}
	return "", fmt.Errorf("%s: the QR code is not a Health Wallet grant", filepath.Base(path))
}
