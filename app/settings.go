package app

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// settingsView is the settings tab. On top, what everyone needs: the
// identity to give others, the lock, the theme and backup. Under
// "Advanced", collapsed until opened: the node, its keepers, the chain and
// Vault.
type settingsView struct {
	u       *UI
	content fyne.CanvasObject

	advanced *widget.Accordion

	nodeState *widget.Label
	peerID    *widget.Label
	addrs     *widget.Label
	peers     *widget.Label
	traffic   *widget.Label
	storage   *widget.Label

	chainConfig *widget.Label
	chainHead   *widget.Label
	mirror      *widget.Label
	checkChain  *widget.Button

	vault   *vaultSection
	keepers *keepersSection

	backupButton   *widget.Button
	backupProgress *widget.ProgressBarInfinite
	backupResult   *widget.Label

	theme *widget.RadioGroup
}

// walletView is the identity others share with, and the security
// settings; its lock button sits in the wallet's header.
type walletView struct {
	did, address *widget.Label
	lock         *widget.Button
	showPhrase   *widget.Button
	lockAfter    *widget.Select
}

// lockChoices are the idle lock timeouts offered, in minutes.
var lockChoices = []int{1, 5, 15, 60}

func (u *UI) newSettingsView() *settingsView {
	v := &settingsView{u: u}
	w := u.openWallet()
	info := w.Info()
	wv := &walletView{}
	u.wv = wv

	wv.did = mono(info.DID)
	wv.address = mono(info.Address)
	copyButton := func(text string) *widget.Button {
		return widget.NewButtonWithIcon("", theme.ContentCopyIcon(), u.act(func() { u.app.Clipboard().SetContent(text) }))
	}
	didHelp := wrapped("Give this to a clinic or family member so they can share records with you.")
	didHelp.Importance = widget.LowImportance
	identity := widget.NewCard("Your identity", "Created "+info.Created.Local().Format("2 January 2006"), container.NewVBox(
		heading("DID"),
		container.NewBorder(nil, nil, nil, copyButton(info.DID), wv.did),
		didHelp,
		heading("Ethereum address"),
		container.NewBorder(nil, nil, nil, copyButton(info.Address), wv.address),
	))

	wv.lockAfter = widget.NewSelect(lockLabels(), u.setLockTimeout)
	wv.lockAfter.SetSelected(lockLabel(u.idleTimeout()))
	wv.showPhrase = widget.NewButton("Show recovery phrase", u.act(u.confirmShowPhrase))
	wv.lock = widget.NewButtonWithIcon("Lock", theme.LoginIcon(), u.lock)
	home := widget.NewLabel("Wallet folder: " + u.home)
	home.Truncation = fyne.TextTruncateEllipsis
	home.Selectable = selectableText()
	security := section("Security",
		widget.NewForm(widget.NewFormItem("Lock when idle for", wv.lockAfter)),
		wrapped("The wallet also locks when the app goes to the background (at once on a phone)."),
		wv.showPhrase, home)

	v.nodeState = heading("")
	v.peerID = mono(info.PeerID)
	v.addrs = mono("")
	v.peers, v.traffic, v.storage = widget.NewLabel(""), widget.NewLabel(""), wrapped("")
	node := section("Your node",
		v.nodeState,
		widget.NewForm(
			widget.NewFormItem("Peer ID", v.peerID),
			widget.NewFormItem("Addresses", v.addrs),
			widget.NewFormItem("Peers", v.peers),
			widget.NewFormItem("Served", v.traffic),
			widget.NewFormItem("Storage", v.storage)))

	v.chainConfig = mono("")
	v.chainHead, v.mirror = wrapped(""), wrapped("")
	v.checkChain = widget.NewButtonWithIcon("Check now", theme.ViewRefreshIcon(), u.act(func() { v.refreshChain(true) }))
	chain := section("Chain", v.chainConfig, v.chainHead, v.mirror, buttonRow(v.checkChain))

	v.vault = u.newVaultSection()
	v.keepers = u.newKeepersSection()

	v.backupButton = widget.NewButtonWithIcon("Export backup…", theme.DocumentSaveIcon(), u.act(v.chooseBackupFolder))
	v.backupProgress = widget.NewProgressBarInfinite()
	v.backupProgress.Hide()
	v.backupResult = wrapped("")
	backup := section("Backup",
		wrapped("Writes your sealed keystore, the sealed record catalog and every encrypted block (a CAR file) to a folder. "+
			"All of it stays encrypted: it opens only with your passphrase or recovery phrase."),
		buttonRow(v.backupButton), v.backupProgress, v.backupResult)

	var choices []string
	for _, c := range []string{themeLight, themeDark, themeSystem} {
		choices = append(choices, themeLabels[c])
	}
	v.theme = widget.NewRadioGroup(choices, func(label string) {
		for c, l := range themeLabels {
			if l == label {
				u.applyTheme(c)
			}
		}
	})
	v.theme.Horizontal = !isMobile()
	v.theme.SetSelected(themeLabels[u.app.Preferences().StringWithFallback(prefTheme, themeSystem)])
	appearance := section("Appearance", v.theme)

	v.advanced = widget.NewAccordion(widget.NewAccordionItem("Advanced (node, keepers, chain, Vault)",
		columns(container.NewVBox(node, v.keepers.content), container.NewVBox(chain, v.vault.content))))
	v.content = container.NewScroll(container.NewPadded(container.NewVBox(
		columns(container.NewVBox(identity), container.NewVBox(security, appearance, backup)),
		v.advanced)))
	return v
}

// refresh updates the node and chain status.
func (v *settingsView) refresh() {
	srv, err := v.u.nodeState()
	if err != nil {
		v.nodeState.Importance = widget.WarningImportance
		v.nodeState.SetText("Not running: " + oneLine(err.Error()))
		v.addrs.SetText("none")
		v.peers.SetText("0")
		v.traffic.SetText("nothing yet")
	} else {
		v.nodeState.Importance = widget.SuccessImportance
		v.nodeState.SetText("Running: grantees can fetch what you share")
		v.peerID.SetText(srv.PeerID())
		v.addrs.SetText(strings.Join(srv.Addrs(), "\n"))
		v.peers.SetText(fmt.Sprint(srv.Peers()))
		served, refused := srv.BlockStats()
		v.traffic.SetText(fmt.Sprintf("%d blocks served, %d requests refused", served, refused))
	}
	var used int64
	v.u.run(func() (err error) {
		used, err = dirSize(storeDir(v.u.home))
		return err
	}, func(err error) {
		if err != nil {
			v.storage.SetText(userMessage(err))
			return
		}
		v.storage.SetText(sizeText(used) + " of encrypted blocks")
	})
	v.refreshChain(false)
	v.keepers.refresh()
}

// showLockTimeout is lockLabel for the select.
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
	w := u.openWallet()
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
