package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// revokeConfirmTimeout bounds the wait for the registry to show a
// revocation that was submitted.
const revokeConfirmTimeout = time.Minute

// revokeConfirmPoll is how often the registry is asked meanwhile.
const revokeConfirmPoll = 500 * time.Millisecond

// maxListedRecords is how many records a grant's page lists by name.
const maxListedRecords = 50

// sharedByMeView lists every grant this wallet issued (and re-shares it
// made) with its status; a grant's page shows the records it covers, its
// access log, and the revoke action.
type sharedByMeView struct {
	u       *UI
	content fyne.CanvasObject
	md      *masterDetail
	grants  []wallet.GrantRecord
	shls    []wallet.SHLRecord // listed after the grants
	access  []wallet.AccessEntry
	names   map[string]string // DID → contact name
	list    *widget.List
	empty   *widget.Label
	master  *fyne.Container
	detail  *grantPage // the grant on show
	shlPage *shlPage   // the link on show
}

func (u *UI) newSharedByMeView() *sharedByMeView {
	v := &sharedByMeView{u: u}
	v.list = widget.NewList(
		func() int { return len(v.grants) + len(v.shls) },
		func() fyne.CanvasObject { return newGrantRow() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(v.grants) {
				g := v.grants[id]
				o.(*grantRow).set(v.granteeName(g.Grantee), g.Summary, g.Status(u.now()), untilText(g, u.now()), g.Live)
			} else if id -= len(v.grants); id < len(v.shls) {
				r := v.shls[id]
				o.(*grantRow).set(shlTitle(r), shlCovers(r), r.Status(u.now()), shlUntilText(r, u.now()), r.Live)
			}
		})
	v.list.OnSelected = func(id widget.ListItemID) {
		u.touch()
		if id < len(v.grants) {
			v.open(v.grants[id])
		} else if id -= len(v.grants); id < len(v.shls) {
			v.openSHL(v.shls[id])
		}
	}
	v.empty = wrapped("You have not shared anything yet. Grants you make on the Share tab appear here.")
	v.empty.Importance = widget.LowImportance
	v.master = container.NewBorder(v.empty, nil, nil, nil, v.list)
	v.md = newMasterDetail("Shared by me", v.master, "Choose a grant to see who used it, or to revoke it.")
	v.content = v.md.content
	return v
}

// granteeName is a contact's name, or the shortened DID.
func (v *sharedByMeView) granteeName(did string) string {
	if n, ok := v.names[did]; ok {
		return n
	}
	return shortDID(did)
}

// reload reads the grants, the access log and the contacts.
func (v *sharedByMeView) reload() {
	w := v.u.openWallet()
	if w == nil {
		return
	}
	var grants []wallet.GrantRecord
	var shls []wallet.SHLRecord
	var access []wallet.AccessEntry
	names := map[string]string{}
	v.u.run(func() error {
		all, err := w.Grants()
		if err != nil {
			return err
		}
		for _, g := range all {
			if g.Direction == wallet.Issued {
				grants = append(grants, g)
			}
		}
		if shls, err = w.SHLs(); err != nil {
			return err
		}
		access, _ = w.AccessLog()
		cs, _ := w.Contacts()
		for _, c := range cs {
			names[c.DID] = c.Name
		}
		return nil
	}, func(err error) {
		if err != nil {
			v.empty.SetText(userMessage(err))
			v.empty.Show()
			return
		}
		v.grants, v.shls, v.access, v.names = grants, shls, access, names
		if len(grants)+len(shls) > 0 {
			v.empty.Hide()
		} else {
			v.empty.Show()
		}
		v.master.Refresh() // lay out again without (or with) the hint
		v.list.UnselectAll()
		v.list.Refresh()
	})
}

// accessesOf are the presentations of g, or of a grant delegated from it.
func (v *sharedByMeView) accessesOf(g wallet.GrantRecord) []wallet.AccessEntry {
	var out []wallet.AccessEntry
	for _, e := range v.access {
		if e.Grant == g.Hash || e.Root == g.Hash {
			out = append(out, e)
		}
	}
	return out
}

// open shows one grant.
func (v *sharedByMeView) open(g wallet.GrantRecord) {
	v.detail = v.u.newGrantPage(g, v.granteeName(g.Grantee), v.accessesOf(g), v.reload)
	v.md.show(g.Summary, v.detail.content)
}

// grantRow is one grant in a list: who, what, and its status.
type grantRow struct {
	widget.BaseWidget
	who, what, until *widget.Label
	status           *widget.Label
}

func newGrantRow() *grantRow {
	r := &grantRow{who: widget.NewLabel(""), what: widget.NewLabel(""), until: widget.NewLabel(""), status: widget.NewLabel("")}
	r.who.TextStyle.Bold = true
	r.who.Truncation = fyne.TextTruncateEllipsis
	r.what.Truncation = fyne.TextTruncateEllipsis
	r.until.Truncation = fyne.TextTruncateEllipsis
	r.until.SizeName = theme.SizeNameCaptionText
	r.until.Importance = widget.LowImportance
	r.status.TextStyle.Bold = true
	r.ExtendBaseWidget(r)
	return r
}

// set shows a grant (or a link) in the row; live adds the "live" badge
// to the status.
func (r *grantRow) set(who, what, status, until string, live bool) {
	r.who.SetText(who)
	r.what.SetText(what)
	r.until.SetText(until)
	r.status.Importance = statusImportance(status)
	if live {
		status += " · live"
	}
	r.status.SetText(status)
}

func (r *grantRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, nil, r.status,
		container.New(&tightVBox{}, r.who, r.what, r.until)))
}

// grantPage is one issued grant: status, window, the records it covers,
// who presented it, and revoke.
type grantPage struct {
	u        *UI
	content  fyne.CanvasObject
	grant    wallet.GrantRecord
	status   *widget.Label
	records  *fyne.Container
	access   *fyne.Container
	revoke   *widget.Button
	confirm  *dialog.ConfirmDialog
	progress *widget.ProgressBarInfinite
	step     *widget.Label // what the revocation is waiting for
	onChange func()
}

func (u *UI) newGrantPage(g wallet.GrantRecord, who string, accesses []wallet.AccessEntry, onChange func()) *grantPage {
	p := &grantPage{u: u, grant: g, onChange: onChange}
	p.status = heading("")
	p.step = wrapped("")
	p.progress = widget.NewProgressBarInfinite()
	p.progress.Hide()
	p.revoke = widget.NewButtonWithIcon("Revoke…", theme.CancelIcon(), u.act(p.askRevoke))
	p.revoke.Importance = widget.DangerImportance
	p.showStatus()

	facts := widget.NewForm(
		widget.NewFormItem("With", wrapped(who)),
		widget.NewFormItem("DID", mono(g.Grantee)),
		widget.NewFormItem("Covers", wrapped(g.Summary)),
		widget.NewFormItem("From", wrapped(dateTime(g.NotBefore))),
		widget.NewFormItem("Until", wrapped(dateTime(g.ExpiresAt))),
		widget.NewFormItem("Re-share", wrapped(depthText(g.Depth))),
	)
	if g.Links > 1 {
		facts.Append("Chain", wrapped(fmt.Sprintf("your re-share of a grant you received (%d links)", g.Links)))
	}
	copyLink := widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), u.act(func() { u.app.Clipboard().SetContent(g.Link) }))

	p.records = container.NewVBox()
	p.access = container.NewVBox()
	p.fillAccess(accesses)
	p.loadRecords()
	p.content = container.NewScroll(container.NewPadded(container.NewVBox(
		p.status, facts, buttonRow(copyLink, p.revoke), p.progress, p.step,
		section("Records it covers", p.records),
		section("Access log", p.access),
	)))
	return p
}

// showStatus shows the grant's status and whether it can still be revoked.
func (p *grantPage) showStatus() {
	showRevocable(p.status, p.revoke, p.grant.Status(p.u.now()), untilText(p.grant, p.u.now()))
}

// showRevocable shows a share's status st ("active", "revoked", …) and
// until in label, and enables revoke only while revoking means something.
func showRevocable(label *widget.Label, revoke *widget.Button, st, until string) {
	label.Importance = statusImportance(st)
	label.SetText(capitalize(st) + ": " + until)
	if st == "revoked" || st == "expired" {
		revoke.Disable()
	} else {
		revoke.Enable()
	}
}

// fillAccess lists who presented the grant, and what they got.
func (p *grantPage) fillAccess(entries []wallet.AccessEntry) {
	if len(entries) == 0 {
		l := wrapped("Nobody has used this grant yet.")
		l.Importance = widget.LowImportance
		p.access.Add(l)
		return
	}
	for _, e := range entries {
		what := "served"
		if !e.Granted {
			what = "refused: " + oneLine(e.Reason)
		}
		who := shortAddress(e.Grantee)
		if e.Links > 1 {
			who += fmt.Sprintf(" (through %d re-share%s)", e.Links-1, plural(e.Links-1))
		}
		l := wrapped(dateTime(e.Time) + " · " + who + " · " + what)
		if !e.Granted {
			l.Importance = widget.DangerImportance
		}
		p.access.Add(l)
	}
}

// loadRecords lists the records the grant covers (a re-share covers what
// the grant it came from covers).
func (p *grantPage) loadRecords() {
	w := p.u.openWallet()
	if w == nil {
		return
	}
	if len(p.grant.Records) == 0 {
		p.records.Add(wrapped("What the grant you received covers, within the categories you kept."))
		return
	}
	p.u.listRecords(p.grant.Records, p.records)
}

// askRevoke asks before revoking: it cannot be undone.
func (p *grantPage) askRevoke() {
	p.confirm = p.u.confirmRevoke("Revoke this grant?",
		"From now on nobody can use it, nor anything re-shared from it. This cannot be undone. "+
			"What they already opened cannot be taken back.", p.doRevoke)
}

// doRevoke publishes the revocation, then waits until the registry itself
// reports it.
func (p *grantPage) doRevoke() {
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
	g := p.grant
	var confirmed time.Time
	session := p.u.walletCtx()
	p.u.run(func() (err error) {
		ctx, cancel := context.WithTimeout(session, 3*time.Minute)
		defer cancel()
		if g, err = w.Revoke(ctx, g, p.u.revoker(), chain); err != nil {
			return err
		}
		fyne.Do(func() { p.step.SetText("Waiting for the registry to confirm…") })
		confirmed, err = waitConfirmed(ctx, revokeConfirmPoll, revokeConfirmTimeout, func(ctx context.Context) (time.Time, error) {
			return w.RevokedOnChain(ctx, chain, g)
		})
		if confirmed.IsZero() {
			if err == nil {
				err = errors.New("the registry does not show the revocation yet")
			}
			return fmt.Errorf("submitted in transaction %s, but not confirmed: %w", g.RevokeTx, err)
		}
		return nil
	}, func(err error) {
		p.progress.Hide()
		if !g.RevokedAt.IsZero() || !g.RevokePending.IsZero() {
			p.grant = g
		}
		p.showStatus()
		if err != nil {
			p.step.Importance = widget.DangerImportance
			p.step.SetText(userMessage(err))
			return
		}
		p.step.Importance = widget.SuccessImportance
		p.step.SetText("The registry confirmed the revocation at " + dateTime(confirmed) + " (transaction " + shortHash(g.RevokeTx) + ").")
		if p.onChange != nil {
			p.onChange()
		}
	})
}

// waitConfirmed asks check every poll until it reports a time, for at most
// timeout, and no longer than ctx lives. It returns the time reported, or
// the zero time with check's last error (ctx's error when ctx ended the
// wait, nil when time ran out).
func waitConfirmed(ctx context.Context, poll, timeout time.Duration, check func(context.Context) (time.Time, error)) (time.Time, error) {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		at, err := check(ctx)
		if err == nil && !at.IsZero() {
			return at, nil
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return time.Time{}, err
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// shortHash abbreviates a transaction hash.
func shortHash(h string) string {
	if len(h) < 16 {
		return h
	}
	return h[:10] + "…" + h[len(h)-6:]
}

// accessesOfSHL are the openings of the link with id (served or refused).
func (v *sharedByMeView) accessesOfSHL(id string) []wallet.AccessEntry {
	var out []wallet.AccessEntry
	for _, e := range v.access {
		if e.SHL == id {
			out = append(out, e)
		}
	}
	return out
}

// openSHL shows one SMART Health Link.
func (v *sharedByMeView) openSHL(r wallet.SHLRecord) {
	v.shlPage = v.u.newSHLPage(r, v.accessesOfSHL(r.ID), v.reload)
	v.md.show(shlTitle(r), v.shlPage.content)
}

// listRecords adds to box one line per record of ids (name, date, kind),
// in date order, at most maxListedRecords of them, and says how many are
// no longer in the wallet.
func (u *UI) listRecords(ids []catalog.ID, box *fyne.Container) {
	w := u.openWallet()
	if w == nil {
		return
	}
	var lines []string
	u.run(func() error {
		var recs []wallet.Record
		missing := 0
		for _, id := range ids {
			if r, err := w.Record(id); err == nil {
				recs = append(recs, r)
			} else {
				missing++
			}
		}
		slices.SortStableFunc(recs, byDateThenSummary)
		for i, r := range recs {
			if i == maxListedRecords {
				lines = append(lines, fmt.Sprintf("and %d more", len(recs)-i))
				break
			}
			lines = append(lines, r.Summary+" · "+recordMeta(r))
		}
		if missing > 0 {
			lines = append(lines, fmt.Sprintf("%d record%s no longer in the wallet", missing, plural(missing)))
		}
		return nil
	}, func(error) {
		for _, l := range lines {
			box.Add(wrapped(l))
		}
	})
}

// confirmRevoke shows a dialog asking before a revocation (it cannot be
// undone) and calls revoke when the user confirms.
func (u *UI) confirmRevoke(title, body string, revoke func()) *dialog.ConfirmDialog {
	d := dialog.NewConfirm(title, body, func(ok bool) {
		if ok {
			revoke()
		}
	}, u.win)
	d.SetConfirmText("Revoke")
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
	return d
}
