package app

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

type walletView struct {
	did, address *widget.Label
	lock         *widget.Button
	showPhrase   *widget.Button
	lockAfter    *widget.Select
}

// lockChoices are the idle lock timeouts offered, in minutes.
var lockChoices = []int{1, 5, 15, 60}

// showWallet is the unlocked wallet: the identity others share with, the
// lock, and the security settings.
func (u *UI) showWallet() {
	u.mu.Lock()
	w := u.wallet
	u.mu.Unlock()
	if w == nil {
		u.showUnlock()
		return
	}
	info := w.Info()
	v := &walletView{}
	u.wv = v

	v.did = widget.NewLabelWithStyle(info.DID, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	v.did.Wrapping = fyne.TextWrapBreak
	v.did.Selectable = true
	v.address = widget.NewLabelWithStyle(info.Address, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	v.address.Wrapping = fyne.TextWrapBreak
	v.address.Selectable = true
	copyButton := func(text string) *widget.Button {
		return widget.NewButtonWithIcon("", theme.ContentCopyIcon(), u.act(func() {
			u.app.Clipboard().SetContent(text)
		}))
	}
	didHelp := widget.NewLabel("Give this to a clinic or family member so they can share records with you.")
	didHelp.Wrapping = fyne.TextWrapWord
	identityCard := widget.NewCard("Your identity", "Created "+info.Created.Local().Format("2 January 2006"),
		container.NewVBox(
			widget.NewLabelWithStyle("DID", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			container.NewBorder(nil, nil, nil, copyButton(info.DID), v.did),
			didHelp,
			widget.NewLabelWithStyle("Ethereum address", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			container.NewBorder(nil, nil, nil, copyButton(info.Address), v.address),
		))

	v.lockAfter = widget.NewSelect(lockLabels(), u.setLockTimeout)
	v.lockAfter.SetSelected(lockLabel(u.idleTimeout()))
	v.showPhrase = widget.NewButton("Show recovery phrase", u.act(u.confirmShowPhrase))
	home := widget.NewLabel("Wallet folder: " + u.home)
	home.Wrapping = fyne.TextWrapBreak
	security := widget.NewCard("Security", "", container.NewVBox(
		widget.NewForm(widget.NewFormItem("Lock when idle for", v.lockAfter)),
		v.showPhrase,
		home,
	))

	v.lock = widget.NewButtonWithIcon("Lock", theme.LoginIcon(), u.lock)
	u.setScreen("wallet", page("My wallet", container.NewVBox(identityCard, security), v.lock))
}

func lockLabel(d time.Duration) string {
	m := int(d / time.Minute)
	if m == 1 {
		return "1 minute"
	}
	if m < 1 {
		return d.String()
	}
	return fmt.Sprintf("%d minutes", m)
}

func lockLabels() []string {
	out := make([]string, len(lockChoices))
	for i, m := range lockChoices {
		out[i] = lockLabel(time.Duration(m) * time.Minute)
	}
	return out
}

func (u *UI) setLockTimeout(label string) {
	for _, m := range lockChoices {
		if lockLabel(time.Duration(m)*time.Minute) != label {
			continue
		}
		u.app.Preferences().SetInt(prefLockMinutes, m)
		u.mu.Lock()
		l := u.locker
		u.mu.Unlock()
		if l != nil && u.opts.IdleTimeout == 0 {
			l.SetTimeout(time.Duration(m) * time.Minute)
		}
	}
}

// confirmShowPhrase shows the recovery phrase after a warning.
func (u *UI) confirmShowPhrase() {
	u.mu.Lock()
	w := u.wallet
	u.mu.Unlock()
	if w == nil {
		return
	}
	dialog.ShowConfirm("Show recovery phrase?",
		"Anyone who sees these words can take over your wallet. Make sure nobody is watching your screen.",
		func(ok bool) {
			if !ok {
				return
			}
			p, err := w.Phrase()
			if err != nil {
				u.showError(err)
				return
			}
			grid := container.NewGridWithColumns(4)
			if isMobile() {
				grid = container.NewGridWithColumns(2)
			}
			for i, word := range p.Words() {
				grid.Add(widget.NewLabelWithStyle(fmt.Sprintf("%2d. %s", i+1, word), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}))
			}
			dialog.ShowCustom("Recovery phrase", "Hide", grid, u.win)
		}, u.win)
}
