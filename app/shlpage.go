package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet"
)

// shlTitle names a SMART Health Link in lists: its label, or what it is.
func shlTitle(r wallet.SHLRecord) string { return shlName(r.Label) }

// shlName is a link's label, or "SMART Health Link" when it has none.
func shlName(label string) string {
	if label != "" {
		return label
	}
	return "SMART Health Link"
}

// shlCovers says what a link shares: "12 records: Lab results,
// Medications", as a grant's summary does.
func shlCovers(r wallet.SHLRecord) string {
	var what []string
	if r.Selection.Preset == wallet.PresetIPS {
		what = append(what, "patient summary")
	}
	for _, c := range r.Selection.Categories {
		what = append(what, strings.ToLower(categoryName(c)))
	}
	if n := len(r.Selection.Records); n > 0 {
		what = append(what, fmt.Sprintf("%d picked record%s", n, plural(n)))
	}
	s := strings.Join(what, ", ")
	if n := len(r.Selection.Sensitive); n > 0 {
		s += " (including " + sensitiveList(r.Selection.Sensitive) + ")"
	}
	return fmt.Sprintf("%d record%s: %s", r.Records, plural(r.Records), s)
}

// shlUntilText says when a link ends, relative to now.
func shlUntilText(r wallet.SHLRecord, now time.Time) string {
	return untilText(wallet.GrantRecord{ExpiresAt: r.Expires, RevokedAt: r.RevokedAt}, now)
}

// shlPage is one SMART Health Link this wallet made: status, terms, the
// link and its QR code, the records it holds, who opened it, and revoke.
type shlPage struct {
	u        *UI
	content  fyne.CanvasObject
	rec      wallet.SHLRecord
	status   *widget.Label
	records  *fyne.Container
	access   *fyne.Container
	revoke   *widget.Button
	confirm  *dialog.ConfirmDialog
	progress *widget.ProgressBarInfinite
	step     *widget.Label
	onChange func()
}

func (u *UI) newSHLPage(r wallet.SHLRecord, accesses []wallet.AccessEntry, onChange func()) *shlPage {
	p := &shlPage{u: u, rec: r, onChange: onChange}
	p.status = heading("")
	p.step = wrapped("")
	p.progress = widget.NewProgressBarInfinite()
	p.progress.Hide()
	p.revoke = widget.NewButtonWithIcon("Revoke…", theme.CancelIcon(), u.act(p.askRevoke))
	p.revoke.Importance = widget.DangerImportance
	p.showStatus()

	passcode := "none: anyone with the link can open it"
	if strings.Contains(r.Flags, "P") {
		passcode = "required (wrong attempts lock the link)"
	}
	live := "no: it holds the records as they were when you made it"
	if r.Live {
		live = fmt.Sprintf("yes: it follows your new records (version %d, updated %s)", r.Version, dateTime(r.Updated))
	}
	facts := widget.NewForm(
		widget.NewFormItem("With", wrapped("anyone with the link (SMART Health Link)")),
		widget.NewFormItem("Covers", wrapped(shlCovers(r))),
		widget.NewFormItem("Passcode", wrapped(passcode)),
		widget.NewFormItem("Live", wrapped(live)),
		widget.NewFormItem("From", wrapped(dateTime(r.Created))),
		widget.NewFormItem("Until", wrapped(dateTime(r.Expires))),
	)
	link := widget.NewLabelWithStyle(r.Link, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	link.Truncation = fyne.TextTruncateEllipsis
	copyLink := widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), u.act(func() { u.app.Clipboard().SetContent(r.Link) }))
	items := []fyne.CanvasObject{p.status, facts}
	if r.Status(u.now()) == "active" { // no code to scan for a link nobody can open
		if png, err := grant.QR(r.Link); err == nil {
			qr := canvas.NewImageFromResource(fyne.NewStaticResource("shl-qr.png", png))
			qr.FillMode = canvas.ImageFillContain
			qr.ScaleMode = canvas.ImageScalePixels
			qr.SetMinSize(fyne.NewSize(220, 220))
			items = append(items, container.NewCenter(qr))
		}
	}
	p.records = container.NewVBox()
	p.access = container.NewVBox()
	p.fillAccess(accesses)
	p.loadRecords()
	items = append(items, link, buttonRow(copyLink, p.revoke), p.progress, p.step,
		section("Records it holds", p.records),
		section("Access log", p.access))
	p.content = container.NewScroll(container.NewPadded(container.NewVBox(items...)))
	return p
}

// showStatus shows the link's status and whether it can still be revoked.
func (p *shlPage) showStatus() {
	showRevocable(p.status, p.revoke, p.rec.Status(p.u.now()), shlUntilText(p.rec, p.u.now()))
}

// fillAccess lists every opening of the link: when, by whom (as the
// viewer named itself), and served or refused.
func (p *shlPage) fillAccess(entries []wallet.AccessEntry) {
	if len(entries) == 0 {
		l := wrapped("Nobody has opened this link yet.")
		l.Importance = widget.LowImportance
		p.access.Add(l)
		return
	}
	for _, e := range entries {
		what := "opened"
		if !e.Granted {
			what = "refused: " + oneLine(e.Reason)
		}
		who := e.Recipient
		if who == "" {
			who = "a viewer"
		}
		l := wrapped(dateTime(e.Time) + " · " + who + " · " + what)
		if !e.Granted {
			l.Importance = widget.DangerImportance
		}
		p.access.Add(l)
	}
}

// loadRecords lists the records the link's file holds.
func (p *shlPage) loadRecords() { p.u.listRecords(p.rec.RecordIDs, p.records) }

// askRevoke asks before revoking: it cannot be undone.
func (p *shlPage) askRevoke() {
	p.confirm = p.u.confirmRevoke("Revoke this link?",
		"From now on nobody can open it, with or without the passcode. This cannot be undone. "+
			"What was already opened cannot be taken back.", p.doRevoke)
}

// doRevoke publishes the link's revocation; RevokeSHL returns once the
// registry shows it mined.
func (p *shlPage) doRevoke() {
	w := p.u.openWallet()
	if w == nil {
		return
	}
	chain, err := p.u.chainState()
	if err != nil {
		p.step.SetText(userMessage(err))
		return
	}
	p.revoke.Disable()
	p.progress.Show()
	p.step.Importance = widget.MediumImportance
	p.step.SetText("Publishing the revocation…")
	r := p.rec
	session := p.u.walletCtx()
	p.u.run(func() (err error) {
		ctx, cancel := context.WithTimeout(session, 3*time.Minute)
		defer cancel()
		r, err = w.RevokeSHL(ctx, r, p.u.revoker(), chain)
		return err
	}, func(err error) {
		p.progress.Hide()
		if !r.RevokedAt.IsZero() || !r.RevokePending.IsZero() {
			p.rec = r
		}
		p.showStatus()
		if err != nil {
			p.step.Importance = widget.DangerImportance
			p.step.SetText(userMessage(err))
			return
		}
		p.step.Importance = widget.SuccessImportance
		p.step.SetText("The registry confirmed the revocation at " + dateTime(r.RevokedAt) + " (transaction " + shortHash(r.RevokeTx) + ").")
		if p.onChange != nil {
			p.onChange()
		}
	})
}
