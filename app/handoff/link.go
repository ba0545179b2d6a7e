// Package handoff brings a share link to the Health Wallet app: a link
// clicked in a browser or a mail (the desktop runs `healthwallet LINK`
// for the healthwallet: and shlink: URL schemes), typed as `healthwallet
// open LINK`, or found on the clipboard.
//
// A running app listens on a unix socket in its wallet home ([Listen]);
// [Send] hands it one link, and the app shows its redeem screen with the
// link filled in. Nothing is redeemed without the user: the link only
// fills in the redeem box.
//
// The protocol is one line each way. The client writes
//
//	open LINK\n
//
// where LINK is a link [Normalize] accepts, and the app answers "ok\n" or
// "error REASON\n". A request line is at most [MaxRequest] bytes; the app
// reads no more.
//
// The package imports no GUI code: the CLI and the app share it.
package handoff

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/share/shl"
)

// MaxLink bounds a link as handed over, in bytes: a SMART Health Link's
// own bound, which is above any grant link's.
const MaxLink = shl.MaxLink

// maxBundleLink bounds a key-bundle link's sealed bytes (the grant
// package's own bound).
const maxBundleLink = 4096

// Errors of Normalize.
var (
	// ErrNotALink: the text is no link the redeem screen opens.
	ErrNotALink = errors.New("not a Health Wallet grant link or SMART Health Link")
	// ErrDamaged: the text starts as such a link but does not decode;
	// most often it was cut off when copied.
	ErrDamaged = errors.New("the link looks cut off or damaged")
)

// Kind is what a link opens.
type Kind int

// Kinds of link.
const (
	Grant  Kind = iota + 1 // healthwallet:grant/… or healthwallet:bundle/…
	Health                 // a SMART Health Link, shlink:/…
)

// String names the kind for people: "grant link", "SMART Health Link".
func (k Kind) String() string {
	switch k {
	case Grant:
		return "grant link"
	case Health:
		return "SMART Health Link"
	}
	return "link"
}

// Normalize returns s as the redeem screen takes it, and its kind: a grant
// link (or key-bundle link) whose sealed envelope is well formed (only its
// grantee can tell a body cut short), or a SMART Health Link whose
// payload passes the specification's checks, bare or behind a viewer URL
// ("https://viewer.example/#shlink:/…", returned as "shlink:/…"). White
// space (line breaks a mail client put in) is removed. Validity in time,
// signatures and revocation are the redeem screen's to check.
//
// Errors wrap ErrNotALink or ErrDamaged, and for a damaged link the grant
// or shl package's error too.
func Normalize(s string) (string, Kind, error) {
	if len(s) > 4*MaxLink { // before the copy below
		return "", 0, fmt.Errorf("%w: %d bytes", ErrNotALink, len(s))
	}
	s = strings.Join(strings.Fields(s), "")
	if len(s) > MaxLink {
		return "", 0, fmt.Errorf("%w: %d bytes, at most %d", ErrNotALink, len(s), MaxLink)
	}
	switch {
	case strings.HasPrefix(s, grant.LinkPrefix):
		if err := grant.CheckLink(s); err != nil {
			return "", 0, fmt.Errorf("%w: %w", ErrDamaged, err)
		}
		return s, Grant, nil
	case strings.HasPrefix(s, grant.BundlePrefix):
		raw, err := base64.RawURLEncoding.DecodeString(s[len(grant.BundlePrefix):])
		if err != nil || len(raw) == 0 || len(raw) > maxBundleLink {
			return "", 0, fmt.Errorf("%w: not a key-bundle link", ErrDamaged)
		}
		return s, Grant, nil
	}
	i := strings.Index(s, shl.Prefix)
	if i < 0 || (i > 0 && s[i-1] != '#') {
		return "", 0, ErrNotALink
	}
	if _, err := shl.ParseLink(s); err != nil {
		return "", 0, fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return s[i:], Health, nil
}

// LooksLikeLink reports whether s is meant as a link to open rather than a
// command name: it starts with a scheme the app handles, or holds a
// viewer's "#shlink:/". It does not check the link.
func LooksLikeLink(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "healthwallet:") || strings.HasPrefix(s, shl.Prefix) || strings.Contains(s, "#"+shl.Prefix)
}
