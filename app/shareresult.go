package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
)

// shareResult shows a grant just made: its QR code, the link to copy, and
// what it covers.
type shareResult struct {
	content fyne.CanvasObject
	qr      *canvas.Image
	link    *widget.Label
	copy    *widget.Button
	saveQR  *widget.Button
	again   *widget.Button
	issued  *wallet.IssuedGrant
	png     []byte
	avail   *widget.Label // where the grant's packages can be fetched from
}

// newShareResult lays out a grant's QR code and link; done leaves it.
// avail, if not nil, says where the packages are (PushToKeepers).
func (u *UI) newShareResult(title string, issued *wallet.IssuedGrant, png []byte, qrText string, grantee string, avail []wallet.Availability, done func()) *shareResult {
	r := &shareResult{issued: issued, png: png}
	r.qr = canvas.NewImageFromResource(fyne.NewStaticResource("grant-qr.png", png))
	r.qr.FillMode = canvas.ImageFillContain
	r.qr.ScaleMode = canvas.ImageScalePixels
	r.qr.SetMinSize(fyne.NewSize(260, 260))
	r.link = widget.NewLabelWithStyle(issued.Link, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	r.link.Truncation = fyne.TextTruncateEllipsis
	r.copy = widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), u.act(func() {
		u.app.Clipboard().SetContent(issued.Link)
	}))
	r.copy.Importance = widget.HighImportance
	r.saveQR = widget.NewButtonWithIcon("Save QR image…", theme.DocumentSaveIcon(), u.act(func() {
		d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
			if err != nil {
				u.showError(err)
				return
			}
			if wc == nil {
				return
			}
			defer wc.Close()
			if _, err := wc.Write(png); err != nil {
				u.showError(err)
			}
		}, u.win)
		d.SetFileName("grant-" + issued.Record.Hash[:12] + ".png")
		d.Show()
	}))
	r.again = widget.NewButton("Done", u.act(done))
	rec := issued.Record
	facts := widget.NewForm(
		widget.NewFormItem("With", wrapped(grantee)),
		widget.NewFormItem("Covers", wrapped(rec.Summary)),
		widget.NewFormItem("Valid", wrapped(untilText(rec, u.now()))),
		widget.NewFormItem("Re-share", wrapped(depthText(rec.Depth))),
	)
	help := wrapped("Let them scan the code, or send the link. You can see who used it, and revoke it, under Shared by me.")
	items := []fyne.CanvasObject{heading(title), container.NewCenter(r.qr), help, r.link, buttonRow(r.saveQR, r.copy), facts}
	if avail != nil {
		r.avail = wrapped(availableText(avail))
		items = append(items, r.avail)
	}
	if qrText != issued.Link {
		note := wrapped("The grant is too long for a QR code, so the code points to a copy your node serves: keep Health Wallet open until they have scanned it.")
		note.Importance = widget.WarningImportance
		items = append(items, note)
	}
	items = append(items, buttonRow(r.again))
	r.content = container.NewScroll(container.NewPadded(container.NewVBox(items...)))
	return r
}

// depthText says how far a grant may be re-shared.
func depthText(depth uint8) string {
	switch depth {
	case 0:
		return "not allowed"
	case 1:
		return "allowed, 1 step"
	}
	return "allowed, " + depthLabel(int(depth))
}

// showResult replaces the share form with the grant just made.
func (v *shareView) showResult(issued *wallet.IssuedGrant, png []byte, qrText string, avail []wallet.Availability) {
	who := issued.Record.Grantee
	if c, ok := v.grantee.contact(who); ok {
		who = c.Name + " (" + shortDID(who) + ")"
	}
	v.result = v.u.newShareResult("Shared", issued, png, qrText, who, avail, v.reset)
	v.stack.Objects = []fyne.CanvasObject{v.result.content}
	v.stack.Refresh()
}
