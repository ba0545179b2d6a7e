package app

import (
	"strings"

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
	where   *availabilityView
}

// newShareResult lays out a grant's QR code and link; done leaves it.
// avail, if not nil, says where the packages are (PushToKeepers).
func (u *UI) newShareResult(title string, issued *wallet.IssuedGrant, png []byte, qrText string, grantee string, avail []wallet.Availability, done func()) *shareResult {
	r := &shareResult{issued: issued, png: png}
	r.qr = qrImage("grant-qr.png", png, 260)
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
	r.where = newAvailabilityView()
	r.where.content.Hide()
	items = append(items, r.where.content)
	if qrText != issued.Link {
		note := wrapped("The grant is too long for a QR code, so the code points to a copy your node serves: keep Health Wallet open until they have scanned it.")
		note.Importance = widget.WarningImportance
		items = append(items, note)
	}
	items = append(items, buttonRow(r.again))
	r.content = container.NewScroll(container.NewPadded(container.NewVBox(items...)))
	return r
}

// showWhere says where the grant can be opened now, and warns when only
// this device serves it and is about to lock. With the push's outcome on
// show (avail), only the warning is added.
func (r *shareResult) showWhere(a wallet.ShareAvailability) {
	r.where.set(a)
	if r.avail != nil {
		r.where.where.Hide()
	}
	if r.where.where.Visible() || r.where.warning.Visible() {
		r.where.content.Show()
	}
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
func (v *shareView) showResult(issued *wallet.IssuedGrant, png []byte, qrText string, avail []wallet.Availability, where wallet.ShareAvailability) {
	who := issued.Record.Grantee
	if c, ok := v.grantee.contact(who); ok {
		who = c.Name + " (" + shortDID(who) + ")"
	} else {
		who = someoneNew(shortDID(who))
	}
	v.result = v.u.newShareResult("Shared", issued, png, qrText, who, avail, v.reset)
	v.result.showWhere(where)
	v.stack.Objects = []fyne.CanvasObject{v.result.content}
	v.stack.Refresh()
}

// reshareNotice tells a re-sharer that the patient sees what happens to a
// re-share.
const reshareNotice = "The patient's wallet logs every use of what you re-share: they see who opened it, and when."

// device is what the wallet layer needs to know of this device to say
// where a share can be opened: whether the node runs, where it serves
// links, and when the wallet locks (which stops the node).
func (u *UI) device() wallet.Device {
	_, err := u.nodeState()
	grace := DefaultBackgroundGrace
	if u.opts.BackgroundGrace != 0 {
		grace = u.opts.BackgroundGrace
	}
	return wallet.Device{Serving: err == nil, SHLURL: u.opts.SHLURL, LockAfter: u.idleTimeout(),
		LocksInBackground: isMobile() || grace < 0}
}

// placeName names a place a share is available at, with its kind.
func placeName(a wallet.Availability) string {
	switch a.Kind {
	case wallet.PlaceDevice:
		return "this device"
	case wallet.KeeperKubo:
		return a.Name + " (Kubo replica)"
	}
	return a.Name + " (keeper)"
}

// availabilityText says where a share can be opened now, and where not.
func availabilityText(a wallet.ShareAvailability) string {
	switch {
	case a.Inactive != "":
		return "Nobody can open it any more: it is " + a.Inactive + "."
	case a.Upstream:
		return "The patient's node and keepers serve it, not this device. " + reshareNotice
	}
	var now, not []string
	for _, p := range a.Places {
		if p.OK {
			now = append(now, placeName(p))
		} else {
			not = append(not, placeName(p)+": "+p.Error)
		}
	}
	s := "Can be opened now from: " + strings.Join(now, ", ") + "."
	if len(now) == 0 {
		s = "Nobody can open it right now."
	}
	if len(not) > 0 {
		s += " Not now from " + strings.Join(not, "; ") + "."
	}
	return s
}

// lockWarning is the warning when this device is the only place a share
// opens from and it is about to lock; "" otherwise.
func lockWarning(a wallet.ShareAvailability) string {
	if !a.LockRisk {
		return ""
	}
	when := "when it locks"
	switch {
	case a.LocksInBackground && a.LockAfter > 0:
		when = "as soon as you leave the app, or after " + durationText(a.LockAfter) + " without use"
	case a.LocksInBackground:
		when = "as soon as you leave the app"
	case a.LockAfter > 0:
		when = "after " + durationText(a.LockAfter) + " without use, when the wallet locks"
	}
	return "Only this device serves it, and it stops " + when + ": from then on nobody can open it until you unlock again. " +
		"Add a keeper in Settings to keep it available."
}

// shortAvailability is a share's availability in a list row.
func shortAvailability(a wallet.ShareAvailability) string {
	if a.Upstream {
		return "served by the patient's side"
	}
	ok := a.Available()
	switch {
	case a.Inactive != "":
		return ""
	case len(ok) == 0:
		return "nobody can open it now"
	case a.OnlyDevice:
		return "opens from this device only"
	}
	var names []string
	for _, p := range ok {
		names = append(names, placeName(p))
	}
	return "opens from " + strings.Join(names, ", ")
}

// availabilityView shows where a share can be opened, and warns when it
// is about to be nowhere.
type availabilityView struct {
	content *fyne.Container
	where   *widget.Label
	warning *widget.Label
}

func newAvailabilityView() *availabilityView {
	v := &availabilityView{where: wrapped(""), warning: wrapped("")}
	v.warning.Importance = widget.WarningImportance
	v.warning.Hide()
	v.content = container.NewVBox(v.where, v.warning)
	return v
}

// set shows a.
func (v *availabilityView) set(a wallet.ShareAvailability) {
	v.where.SetText(availabilityText(a))
	if len(a.Available()) == 0 && a.Inactive == "" && !a.Upstream {
		v.where.Importance = widget.DangerImportance
	} else {
		v.where.Importance = widget.MediumImportance
	}
	v.where.Refresh()
	if w := lockWarning(a); w != "" {
		v.warning.SetText(w)
		v.warning.Show()
	} else {
		v.warning.Hide()
	}
	v.content.Refresh()
}
