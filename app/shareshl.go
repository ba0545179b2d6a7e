package app

import (
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// The two ways of sharing on the Share tab.
const (
	howGrant = "A person, by their DID (a grant)"
	howSHL   = "Anyone with a link (SMART Health Link)"
)

// submitSHL makes a SMART Health Link of the selection in the background.
func (v *shareView) submitSHL(w *wallet.Wallet, sel wallet.Selection) {
	var err error
	if len(sel.Categories) == 0 && len(sel.Records) == 0 && sel.Preset == "" {
		err = errors.New("choose categories, records or a patient summary to share")
	}
	opts := wallet.SHLOptions{Selection: sel, Passcode: v.passcode.Text, Live: v.live.Checked, Label: v.label.Text, URL: v.u.opts.SHLURL}
	if err == nil {
		opts.For, _, err = v.terms.value()
	}
	var chain wallet.ChainConfig
	if err == nil {
		chain, err = v.u.chainState()
	}
	if err != nil {
		v.errLabel.SetText(userMessage(err))
		return
	}
	v.button.Disable()
	v.progress.Show()
	var rec wallet.SHLRecord
	var where wallet.ShareAvailability
	dev := v.u.device()
	ctx := v.u.walletCtx()
	v.u.run(func() (err error) {
		rec, err = w.CreateSHL(ctx, opts, chain)
		if err == nil || errors.Is(err, wallet.ErrSHLNotPushed) {
			where, _ = w.SHLAvailability(rec, dev)
		}
		return err
	}, func(err error) {
		v.progress.Hide()
		v.button.Enable()
		notPushed := errors.Is(err, wallet.ErrSHLNotPushed)
		if err != nil && !notPushed {
			if errors.Is(err, wallet.ErrEmptySelection) && len(sel.Sensitive) < len(fhir.AllSensitive) {
				err = errors.New("the selection matches no records (sensitive records are left out unless you switch them on)")
			}
			v.errLabel.SetText(userMessage(err))
			return
		}
		var warning string
		if notPushed {
			warning = "The link is made, but the server that serves it did not take it yet; it is retried on the next sync."
		}
		v.shlResult = v.u.newSHLResult(rec, warning, where, v.reset)
		v.stack.Objects = []fyne.CanvasObject{v.shlResult.content}
		v.stack.Refresh()
	})
}

// shlResult shows a SMART Health Link just made: its QR code, the link to
// copy, and what it covers.
type shlResult struct {
	content fyne.CanvasObject
	rec     wallet.SHLRecord
	where   *availabilityView
	link    *widget.Label
	copy    *widget.Button
	done    *widget.Button
}

func (u *UI) newSHLResult(rec wallet.SHLRecord, warning string, where wallet.ShareAvailability, done func()) *shlResult {
	r := &shlResult{rec: rec, where: newAvailabilityView()}
	r.where.set(where)
	r.link = widget.NewLabelWithStyle(rec.Link, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	r.link.Truncation = fyne.TextTruncateEllipsis
	r.copy = widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), u.act(func() { u.app.Clipboard().SetContent(rec.Link) }))
	r.copy.Importance = widget.HighImportance
	r.done = widget.NewButton("Done", u.act(done))
	items := []fyne.CanvasObject{heading("Shared as a SMART Health Link")}
	if png, err := grant.QR(rec.Link); err == nil {
		items = append(items, container.NewCenter(qrImage("shl-qr.png", png, 260)))
	}
	help := "Let them scan the code, or send the link: it opens in any SMART Health Links viewer."
	if rec.Flags != "" && rec.Flags != "L" {
		help += " Tell them the passcode separately."
	}
	passcode := "none"
	if rec.PasscodeHash != "" {
		passcode = "required"
	}
	facts := widget.NewForm(
		widget.NewFormItem("Label", wrapped(shlTitle(rec))),
		widget.NewFormItem("Covers", wrapped(shlCovers(rec))),
		widget.NewFormItem("Valid", wrapped(shlUntilText(rec, u.now()))),
		widget.NewFormItem("Passcode", wrapped(passcode)),
	)
	if rec.Live {
		facts.Append("Live", wrapped("yes: records you add later are included"))
	}
	items = append(items, wrapped(help), r.link, buttonRow(r.copy), facts, r.where.content)
	if warning != "" {
		note := wrapped(warning)
		note.Importance = widget.WarningImportance
		items = append(items, note)
	}
	items = append(items, buttonRow(r.done))
	r.content = container.NewScroll(container.NewPadded(container.NewVBox(items...)))
	return r
}
