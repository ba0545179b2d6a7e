package app

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
)

type unlockView struct {
	pass     *widget.Entry
	button   *widget.Button
	errLabel *widget.Label
	progress *widget.ProgressBarInfinite
}

// showUnlock asks for the passphrase of the wallet in the home.
func (u *UI) showUnlock() {
	v := &unlockView{}
	u.ul = v
	logo := canvas.NewImageFromResource(Icon)
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSize(96, 96))
	who := widget.NewLabel("")
	if info, err := wallet.ReadInfo(u.home); err == nil {
		who.SetText("Wallet " + shortAddress(info.Address))
	}
	who.Alignment = fyne.TextAlignCenter
	v.pass = widget.NewPasswordEntry()
	v.pass.SetPlaceHolder("Passphrase")
	v.pass.OnSubmitted = func(string) { u.unlock() }
	v.pass.OnChanged = func(string) { v.errLabel.SetText("") }
	v.errLabel = widget.NewLabel("")
	v.errLabel.Importance = widget.DangerImportance
	v.errLabel.Wrapping = fyne.TextWrapWord
	v.progress = widget.NewProgressBarInfinite()
	v.progress.Hide()
	v.button = widget.NewButton("Unlock", u.unlock)
	v.button.Importance = widget.HighImportance
	body := container.NewVBox(logo, who, v.pass, v.errLabel, v.progress)
	u.setScreen("unlock", page("Welcome back", body, v.button))
	u.win.Canvas().Focus(v.pass)
}

func (u *UI) unlock() {
	v := u.ul
	if v == nil || v.button.Disabled() {
		return
	}
	if v.pass.Text == "" {
		v.errLabel.SetText("Type your passphrase.")
		return
	}
	v.button.Disable()
	v.progress.Show()
	pass := v.pass.Text
	var w *wallet.Wallet
	u.run(func() (err error) {
		w, err = wallet.Unlock(u.home, pass)
		return err
	}, func(err error) {
		v.progress.Hide()
		v.button.Enable()
		if err != nil {
			if errors.Is(err, wallet.ErrWrongPassphrase) {
				v.pass.SetText("") // before the message: typing clears it
			}
			v.errLabel.SetText(userMessage(err))
			return
		}
		u.ul = nil
		u.opened(w)
	})
}

// userMessage is the sentence the UI shows for an error.
func userMessage(err error) string {
	switch {
	case errors.Is(err, wallet.ErrWrongPassphrase):
		return "Wrong passphrase. Try again."
	case errors.Is(err, wallet.ErrKeystoreCorrupt), errors.Is(err, wallet.ErrKeystoreTrunc):
		return "This wallet's key file is damaged (" + err.Error() + "). Your records are safe: restore the wallet from your recovery phrase into a new folder."
	case errors.Is(err, wallet.ErrCatalogInUse):
		return "This wallet is open in another Health Wallet window or command. Close it and try again."
	case errors.Is(err, wallet.ErrNoChain):
		return "No chain is configured. Start Health Wallet with HW_CHAIN_RPC and HW_REGISTRY set, or with a local devnet running, then unlock again."
	case errors.Is(err, wallet.ErrExists):
		if where, ok := strings.CutPrefix(err.Error(), wallet.ErrExists.Error()+": "); ok {
			return "A wallet already exists in " + where + "; nothing was changed."
		}
		return "A wallet already exists here; nothing was changed."
	case errors.Is(err, wallet.ErrVaultHeld):
		return "This wallet's key is held in HashiCorp Vault, not sealed under a passphrase; this app unlocks only passphrase-sealed wallets."
	}
	msg := oneLine(err.Error())
	if msg == "" {
		return "Something went wrong."
	}
	if first, _, _ := strings.Cut(msg, " "); !strings.ContainsAny(first, "./") {
		msg = strings.ToUpper(msg[:1]) + msg[1:] // not a file name
	}
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

func (u *UI) showError(err error) {
	dialog.ShowError(errors.New(userMessage(err)), u.win)
}

func shortAddress(a string) string {
	if len(a) < 12 {
		return a
	}
	return a[:6] + "…" + a[len(a)-4:]
}
