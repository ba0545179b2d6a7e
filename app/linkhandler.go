package app

import (
	"errors"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/app/handoff"
)

// linkState is the app's side of opening links (package handoff): a link
// handed over by `healthwallet open` or the desktop's URL handler, or
// found on the clipboard, is shown in the redeem box of Shared with me.
// Nothing is redeemed until the user taps Redeem.
type linkState struct {
	wanted   bool // the app takes links (Run; tests that say so)
	listener *handoff.Listener
	// pending is a link that came while the wallet was locked (or not yet
	// created); it is shown once the wallet opens.
	pending string
	// offered are the clipboard links offered in this run of the app;
	// none is offered twice. Kept in memory only: a link is a secret.
	offered map[string]bool
	// banner is the clipboard offer on show, if any (clipboard.go).
	banner *clipboardBanner
}

// listenLinks opens the app to links handed over while it runs, on the
// socket in the wallet home, and shows start (a link the app was started
// with) as such a link. The returned stop closes the socket.
//
// A home that does not exist yet (no wallet made) gets its socket once the
// wallet opens. A home another app listens on takes no links:
// `healthwallet open` hands them to that app.
func (u *UI) listenLinks(start ...string) (stop func()) {
	for _, s := range start {
		if link, _, err := handoff.Normalize(s); err == nil {
			u.openLink(link)
		}
	}
	u.links.wanted = true
	u.startListening()
	return func() {
		u.links.wanted = false
		if l := u.links.listener; l != nil {
			u.links.listener = nil
			l.Close()
		}
	}
}

// startListening opens the socket, unless it is open or the home is not
// there yet.
func (u *UI) startListening() {
	if !u.links.wanted || u.links.listener != nil {
		return
	}
	if _, err := os.Stat(u.home); err != nil {
		return
	}
	l, err := handoff.Listen(u.home, func(link string) {
		u.bg.Add(1)
		fyne.Do(func() {
			defer u.bg.Done()
			u.openLink(link)
		})
	})
	if err != nil {
		if !errors.Is(err, handoff.ErrListening) {
			fyne.LogError("links from other apps will not open here", err)
		}
		return
	}
	u.links.listener = l
}

// openLink shows a well-formed link (see handoff.Normalize) in the redeem
// box of Shared with me, or keeps it for when the wallet opens. The window
// asks for the user's attention either way.
func (u *UI) openLink(link string) {
	u.dismissClipboardOffer()
	if u.openWallet() == nil || u.withMe == nil || u.screenNow() != "wallet" {
		u.links.pending = link
		u.win.RequestFocus()
		return
	}
	u.links.pending = ""
	u.fillRedeem(link)
	u.win.RequestFocus()
}

// fillRedeem puts link in the redeem box of Shared with me, on show.
func (u *UI) fillRedeem(link string) {
	u.selectTab(tabWithMe)
	v := u.withMe
	if v.md.nav != nil { // a phone: back to the list, where the box is
		for v.md.nav.Back() != nil {
		}
	}
	v.link.SetText(link)
	if _, kind, _ := handoff.Normalize(link); kind == handoff.Health {
		v.showVerdict(widget.MediumImportance, "A SMART Health Link was opened with Health Wallet. Tap Redeem to open it.")
		return
	}
	v.showVerdict(widget.MediumImportance, "A grant link was opened with Health Wallet. Tap Redeem to check and fetch it.")
}

// linksOnOpen runs when the wallet has opened: a link that came while it
// was locked goes to the redeem box; otherwise a link on the clipboard is
// offered.
func (u *UI) linksOnOpen() {
	u.links.banner = nil // the wallet's screen is new
	u.startListening()   // a wallet just made has its home now
	if link := u.links.pending; link != "" {
		u.links.pending = ""
		u.fillRedeem(link)
		return
	}
	u.offerClipboard()
}
