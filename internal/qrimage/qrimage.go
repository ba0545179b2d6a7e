// Package qrimage reads links from QR code images with zbarimg (Debian's
// zbar-tools), for the app's and the CLI's "redeem from a picture".
//
// zbarimg runs with an environment of its own: PATH and HOME only. Nothing
// of the wallet's environment reaches it, in particular not HW_PASSPHRASE
// or VAULT_TOKEN.
package qrimage

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Errors of Read.
var (
	// ErrNoReader: zbarimg is not installed.
	ErrNoReader = errors.New("reading QR images needs zbarimg (apt-get install zbar-tools); paste the link instead")
	// ErrNoCode: the image holds no QR code that zbarimg can read.
	ErrNoCode = errors.New("no QR code found")
	// ErrNotALink: the image's QR codes hold none of the links asked for.
	ErrNotALink = errors.New("the QR code is not a Health Wallet link")
)

// childEnv is the whole environment zbarimg gets.
func childEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Read returns the first text of a QR code in the image at path that
// starts with one of prefixes. Errors name the file by its base name.
func Read(path string, prefixes ...string) (string, error) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		return "", ErrNoReader
	}
	cmd := exec.Command(zbar, "--quiet", "--raw", path)
	cmd.Env = childEnv()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Base(path), ErrNoCode)
	}
	for _, line := range strings.Split(string(out), "\n") {
		s := strings.TrimSpace(line)
		for _, p := range prefixes {
			if strings.HasPrefix(s, p) {
				return s, nil
			}
		}
	}
	return "", fmt.Errorf("%s: %w", filepath.Base(path), ErrNotALink)
}
