package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2/widget"

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
// link and its QR code, where it opens, the records it holds, who opened
// it, and revoke.
type shlPage struct {
	*sharePage
	rec wallet.SHLRecord
}

func (u *UI) newSHLPage(r wallet.SHLRecord, accesses []wallet.AccessEntry, onChange func()) *shlPage {
	p := &shlPage{rec: r}
	p.sharePage = u.newSharePage(onChange, func() { p.askRevoke() })
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
	// Every opening: when, by whom (as the viewer named itself), and
	// served or refused.
	p.fillAccess(accesses, "Nobody has opened this link yet.", func(e wallet.AccessEntry) string {
		who := e.Recipient
		if who == "" {
			who = "a viewer"
		}
		what := "opened"
		if !e.Granted {
			what = "refused: " + oneLine(e.Reason)
		}
		return dateTime(e.Time) + " · " + who + " · " + what
	})
	p.loadRecords()
	p.build(facts, r.Link, r.Status(u.now()) == "active", "Records it holds")
	p.showAvailability(func(w *wallet.Wallet, dev wallet.Device) (wallet.ShareAvailability, error) {
		return w.SHLAvailability(r, dev)
	})
	return p
}

// showStatus shows the link's status and whether it can still be revoked.
func (p *shlPage) showStatus() {
	showRevocable(p.status, p.revoke, p.rec.Status(p.u.now()), shlUntilText(p.rec, p.u.now()))
}

// loadRecords lists the records the link's file holds.
func (p *shlPage) loadRecords() { p.u.listRecords(p.rec.RecordIDs, p.records) }

// askRevoke asks before revoking: it cannot be undone.
func (p *shlPage) askRevoke() {
	p.sharePage.askRevoke("Revoke this link?",
		"From now on nobody can open it, with or without the passcode. This cannot be undone. "+
			"What was already opened cannot be taken back.", p.doRevoke)
}

// doRevoke publishes the link's revocation; RevokeSHL returns once the
// registry shows it mined.
func (p *shlPage) doRevoke() {
	w, chain, ok := p.startRevoke()
	if !ok {
		return
	}
	r := p.rec
	session := p.u.walletCtx()
	p.u.run(func() (err error) {
		ctx, cancel := context.WithTimeout(session, 3*time.Minute)
		defer cancel()
		r, err = w.RevokeSHL(ctx, r, p.u.revoker(), chain)
		return err
	}, func(err error) {
		if !r.RevokedAt.IsZero() || !r.RevokePending.IsZero() {
			p.rec = r
		}
		p.showStatus()
		p.endRevoke(err, r.RevokedAt, r.RevokeTx)
	})
}
