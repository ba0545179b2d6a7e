package app

import (
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/internal/qrimage"
	"github.com/healthwallet/healthwallet/wallet"
)

// keepersSection is the settings section listing the keepers that hold
// this wallet's share packages while its own node is away (a locked
// phone), with a form to add one and buttons to remove and sync.
type keepersSection struct {
	u       *UI
	content fyne.CanvasObject

	list   *fyne.Container // one keeperRow per keeper
	rows   []*keeperRow
	addr   *widget.Entry
	name   *widget.Entry
	add    *widget.Button
	addQR  *widget.Button
	sync   *widget.Button
	status *widget.Label // the last action's outcome, one line
}

// keeperRow is one keeper as the section shows it.
type keeperRow struct {
	keeper wallet.Keeper
	text   *widget.Label
	remove *widget.Button
}

func (u *UI) newKeepersSection() *keepersSection {
	s := &keepersSection{u: u}
	s.list = container.NewVBox()
	s.addr = widget.NewEntry()
	s.addr.SetPlaceHolder("/ip4/…/tcp/4101/p2p/12D3Koo…")
	s.name = widget.NewEntry()
	s.name.SetPlaceHolder("Mum's PC")
	s.add = widget.NewButtonWithIcon("Add keeper", theme.ContentAddIcon(), u.act(s.addKeeper))
	s.addQR = widget.NewButtonWithIcon("Add from QR image…", theme.FolderOpenIcon(), u.act(s.chooseQR))
	s.sync = widget.NewButtonWithIcon("Sync now", theme.ViewRefreshIcon(), u.act(s.syncNow))
	s.status = wrapped("")
	s.content = section("Keepers",
		wrapped("A keeper (a computer you trust, running 'healthwallet keeper') holds encrypted copies of what you share, "+
			"so grantees can fetch it while this device is locked or offline."),
		s.list,
		widget.NewForm(
			widget.NewFormItem("Address", s.addr),
			widget.NewFormItem("Name", s.name)),
		buttonRow(s.addQR, s.add, s.sync),
		s.status)
	s.refresh()
	return s
}

// refresh lists the keepers as the wallet last saw them (no network).
func (s *keepersSection) refresh() {
	w := s.u.openWallet()
	if w == nil {
		return
	}
	ks, err := w.Keepers()
	if err != nil {
		s.setStatus(widget.DangerImportance, userMessage(err))
	}
	s.rows = s.rows[:0]
	s.list.RemoveAll()
	if len(ks) == 0 {
		s.list.Add(wrapped("No keepers yet: what you share is available only while this device runs Health Wallet."))
	}
	for _, k := range ks {
		r := &keeperRow{keeper: k, text: wrapped(keeperText(k))}
		r.remove = widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), s.u.act(func() { s.confirmRemove(k) }))
		s.rows = append(s.rows, r)
		s.list.Add(container.NewBorder(nil, nil, nil, r.remove, r.text))
	}
	s.sync.Disable()
	if len(ks) > 0 {
		s.sync.Enable()
	}
}

// keeperText is one keeper's line: name, kind, reachability, packages
// held, last sync.
func keeperText(k wallet.Keeper) string {
	kind := "keeper"
	if k.Kind == wallet.KeeperKubo {
		kind = "IPFS replica (ciphertext only, checks no grant)"
	}
	reach := "reachable"
	if !k.Reachable {
		reach = "not reachable"
		if k.LastError != "" {
			reach += " (" + oneLine(k.LastError) + ")"
		}
	}
	held := fmt.Sprintf("holds %d package%s", k.Held, plural(k.Held))
	if k.Pending > 0 {
		held += fmt.Sprintf(", %d to send", k.Pending)
	}
	last := "never synced"
	if !k.LastSync.IsZero() {
		last = "last sync " + dateTime(k.LastSync)
	}
	return strings.Join([]string{k.Name, kind, reach, held, last}, " · ")
}

func (s *keepersSection) setStatus(imp widget.Importance, text string) {
	s.status.Importance = imp
	s.status.SetText(text)
}

// addKeeper enrols the keeper at the address typed or read from a QR
// code; the keeper must answer (nothing is kept otherwise).
func (s *keepersSection) addKeeper() {
	w := s.u.openWallet()
	addr := strings.TrimSpace(s.addr.Text)
	if w == nil || s.add.Disabled() {
		return
	}
	if addr == "" {
		s.setStatus(widget.DangerImportance, "Paste the keeper's address (it ends in /p2p/ and its peer ID), or read it from a QR image.")
		return
	}
	s.add.Disable()
	s.setStatus(widget.MediumImportance, "Enrolling the keeper…")
	var k wallet.Keeper
	ctx := s.u.walletCtx()
	s.u.run(func() (err error) {
		k, err = w.AddKeeper(ctx, addr, strings.TrimSpace(s.name.Text))
		return err
	}, func(err error) {
		s.add.Enable()
		if err != nil {
			s.setStatus(widget.DangerImportance, userMessage(err))
			return
		}
		s.addr.SetText("")
		s.name.SetText("")
		msg := fmt.Sprintf("Added %s: it holds %d package%s.", k.Name, k.Held, plural(k.Held))
		if k.LastError != "" {
			msg = fmt.Sprintf("Added %s; it will get your packages on the next sync (%s).", k.Name, oneLine(k.LastError))
		}
		s.setStatus(widget.SuccessImportance, msg)
		s.refresh()
	})
}

// chooseQR reads a keeper address from a QR code image.
func (s *keepersSection) chooseQR() {
	s.u.pickQRImage(s.readQR)
}

// readQR puts the keeper address in a QR code image into the address box.
// A keeper's QR code holds its multiaddr as plain text, so any code text
// starting with "/" is taken; AddKeeper checks it.
func (s *keepersSection) readQR(pic picture) {
	var addr string
	s.u.run(func() (err error) {
		addr, err = qrimage.Decode(pic.reader(), "/")
		if errors.Is(err, qrimage.ErrNotALink) {
			err = errors.New("the QR code holds no keeper address (one starting with /ip4, /ip6 or /dns)")
		}
		return err
	}, func(err error) {
		if err != nil {
			s.setStatus(widget.DangerImportance, userMessage(err))
			return
		}
		s.addr.SetText(addr)
		s.setStatus(widget.MediumImportance, "Read the keeper's address. Name it and tap Add keeper.")
	})
}

// confirmRemove removes a keeper after asking: the keeper deletes what it
// held for this wallet.
func (s *keepersSection) confirmRemove(k wallet.Keeper) {
	dialog.ShowConfirm("Remove "+k.Name+"?",
		"It deletes the copies it holds for you. What you share is then available only while this device runs Health Wallet (and from your other keepers).",
		func(ok bool) {
			if ok {
				s.remove(k)
			}
		}, s.u.win)
}

// remove removes a keeper; the keeper must answer, it stays listed
// otherwise.
func (s *keepersSection) remove(k wallet.Keeper) {
	w := s.u.openWallet()
	if w == nil {
		return
	}
	ctx := s.u.walletCtx()
	s.setStatus(widget.MediumImportance, "Removing "+k.Name+"…")
	s.u.run(func() error { return w.RemoveKeeper(ctx, k.ID) }, func(err error) {
		if err != nil {
			s.setStatus(widget.DangerImportance, userMessage(err))
			return
		}
		s.setStatus(widget.SuccessImportance, "Removed "+k.Name+".")
		s.refresh()
	})
}

// syncNow brings every keeper up to date and says which ones failed.
func (s *keepersSection) syncNow() {
	w := s.u.openWallet()
	if w == nil || s.sync.Disabled() {
		return
	}
	s.sync.Disable()
	s.setStatus(widget.MediumImportance, "Syncing…")
	ctx := s.u.walletCtx()
	var res wallet.KeeperSync
	s.u.run(func() (err error) {
		res, err = w.SyncKeepers(ctx)
		return err
	}, func(err error) {
		s.refresh()
		if err != nil {
			s.setStatus(widget.DangerImportance, userMessage(err))
			return
		}
		var failed []string
		for _, r := range res.Keepers {
			if r.Err != nil {
				failed = append(failed, r.Keeper.Name)
			}
		}
		if len(failed) > 0 {
			s.setStatus(widget.WarningImportance, "Synced; not reached: "+strings.Join(failed, ", ")+" (retried on the next sync).")
			return
		}
		s.setStatus(widget.SuccessImportance, fmt.Sprintf("Synced %d keeper%s.", len(res.Keepers), plural(len(res.Keepers))))
	})
}

// availableText is the share result's line saying where a grant's
// packages can be fetched from: this device, then each keeper; a keeper
// the push did not reach gets them on the next sync.
func availableText(avail []wallet.Availability) string {
	var names []string
	for _, a := range avail {
		n := a.Name
		if a.Kind == "node" {
			n = "this device"
		}
		if !a.OK {
			n += " (will retry)"
		}
		names = append(names, n)
	}
	return "Available from: " + strings.Join(names, ", ")
}
