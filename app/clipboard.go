package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/app/handoff"
	"github.com/healthwallet/healthwallet/wallet"
)

// clipboardBanner offers the link on the clipboard, above the wallet's
// screen.
type clipboardBanner struct {
	link     string
	question *widget.Label
	open     *widget.Button
	dismiss  *widget.Button
	// screen is the wallet's screen inside the banner's frame, put back
	// when the banner goes.
	screen, framed fyne.CanvasObject
}

// offerClipboard shows a banner that offers the clipboard's link, if it
// holds a well-formed one not offered before in this run. The link itself
// is not shown (people look over shoulders) and is not opened until the
// user taps Open; then it is only filled in for Redeem.
func (u *UI) offerClipboard() {
	if u.screenNow() != "wallet" || u.links.banner != nil {
		return
	}
	cb := u.app.Clipboard()
	if cb == nil {
		return
	}
	link, kind, err := handoff.Normalize(cb.Content())
	if err != nil || u.links.offered[link] {
		return
	}
	if w := u.openWallet(); w != nil {
		// A link this wallet made (Share copies it) or already redeemed
		// is not one to open.
		grants, _ := w.Grants()
		shls, _ := w.SHLs()
		if knownLink(link, grants, shls) {
			return
		}
	}
	if u.links.offered == nil {
		u.links.offered = map[string]bool{}
	}
	u.links.offered[link] = true

	b := &clipboardBanner{link: link, screen: u.win.Content()}
	b.question = widget.NewLabelWithStyle("Open the link on your clipboard?", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	// One line each, cut short rather than wrapped: a wrapped label above
	// the screen is measured before it knows its width.
	lines := []string{"You copied a " + kind.String() + ".", "Nothing is fetched until you tap Redeem."}
	if !isMobile() {
		lines = []string{lines[0] + " " + lines[1]}
	}
	text := container.NewVBox(b.question)
	for _, l := range lines {
		label := widget.NewLabel(l)
		label.Truncation = fyne.TextTruncateEllipsis
		text.Add(label)
	}
	b.open = widget.NewButtonWithIcon("Open", theme.ContentPasteIcon(), u.act(func() { u.openLink(link) }))
	b.open.Importance = widget.HighImportance
	b.dismiss = widget.NewButton("Not now", u.act(u.dismissClipboardOffer))
	var body fyne.CanvasObject
	if isMobile() {
		body = container.NewVBox(text, container.NewGridWithColumns(2, b.dismiss, b.open))
	} else {
		body = container.NewBorder(nil, nil, nil, container.NewCenter(container.NewHBox(b.dismiss, b.open)), text)
	}
	top := container.NewVBox(container.NewPadded(body), widget.NewSeparator())
	b.framed = container.NewBorder(top, nil, nil, nil, b.screen)
	u.links.banner = b
	u.setScreen("wallet", b.framed)
}

// knownLink reports whether a normalized link is one of these grants' (made
// or received) or SMART Health Links'.
func knownLink(link string, grants []wallet.GrantRecord, shls []wallet.SHLRecord) bool {
	same := func(other string) bool {
		n, _, err := handoff.Normalize(other)
		return err == nil && n == link
	}
	for _, g := range grants {
		if same(g.Link) {
			return true
		}
	}
	for _, r := range shls {
		if same(r.Link) {
			return true
		}
	}
	return false
}

// dismissClipboardOffer takes the clipboard banner away, if it shows.
func (u *UI) dismissClipboardOffer() {
	b := u.links.banner
	if b == nil {
		return
	}
	u.links.banner = nil
	if u.win.Content() == b.framed { // else the screen changed under it
		u.setScreen("wallet", b.screen)
	}
}
