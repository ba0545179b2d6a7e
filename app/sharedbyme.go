package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/share/grant"
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

// maxRecentAccess is how many access-log lines head Shared by me.
const maxRecentAccess = 5

// linkGroup heads the SMART Health Links in Shared by me: they go to
// anyone who holds the link, not to a person.
const linkGroup = "Anyone with a link"

// sharedByMeView is what this wallet shared: the access log first (who
// opened what, newest first), then every grant it issued (and re-shares it
// made), grouped by person, then its SMART Health Links; each with its
// status and where it can be opened now. A share's page shows the records
// it covers, its access log, and the revoke action. People are named by
// their contact names; "People" manages the contacts and shows this
// wallet's own code.
type sharedByMeView struct {
	u       *UI
	content fyne.CanvasObject
	md      *masterDetail
	grants  []wallet.GrantRecord
	shls    []wallet.SHLRecord
	access  []wallet.AccessEntry
	people  *people
	avail   map[string]wallet.ShareAvailability // by grant hash or link id
	rows    []*shareRow                         // the shares, as listed
	groups  *fyne.Container                     // the shares, grouped by person
	recent  *fyne.Container                     // the newest access-log lines
	empty   *widget.Label
	master  *fyne.Container
	peopleB *widget.Button
	myCode  *widget.Button

	contacts *contactsPage // while on show
	detail   *grantPage    // the grant on show
	shlPage  *shlPage      // the link on show
}

func (u *UI) newSharedByMeView() *sharedByMeView {
	v := &sharedByMeView{u: u, people: newPeople(nil, nil, nil)}
	v.empty = wrapped("You have not shared anything yet. Grants you make on the Share tab appear here.")
	v.empty.Importance = widget.LowImportance
	v.recent = container.NewVBox()
	v.groups = container.NewVBox()
	v.peopleB = widget.NewButtonWithIcon("People", theme.AccountIcon(), u.act(v.openContacts))
	v.myCode = widget.NewButtonWithIcon("My code", theme.AccountIcon(), u.act(func() {
		v.md.show("My code", u.newMyCodePage().content)
	}))
	v.master = container.NewVBox(buttonRow(v.peopleB, v.myCode),
		section("Access log", v.recent), v.empty, v.groups)
	v.md = newMasterDetail("Shared by me", v.master, "Choose a share to see who used it, where it opens, or to revoke it.")
	v.content = v.md.content
	return v
}

// openContacts shows the people page.
func (v *sharedByMeView) openContacts() {
	v.contacts = v.u.newContactsPage(v.md.show, v.reload)
	v.md.show("People", v.contacts.content)
}

// reload reads the grants, links, the access log and the contacts, and
// where each share can be opened.
func (v *sharedByMeView) reload() {
	w := v.u.openWallet()
	if w == nil {
		return
	}
	var grants []wallet.GrantRecord
	var shls []wallet.SHLRecord
	var access []wallet.AccessEntry
	var names map[string]string
	avail := map[string]wallet.ShareAvailability{}
	dev := v.u.device()
	v.u.run(func() error {
		all, err := w.Grants()
		if err != nil {
			return err
		}
		for _, g := range all {
			if g.Direction == wallet.Issued {
				grants = append(grants, g)
				if a, err := w.GrantAvailability(g, dev); err == nil {
					avail[g.Hash] = a
				}
			}
		}
		if shls, err = w.SHLs(); err != nil {
			return err
		}
		for _, r := range shls {
			if a, err := w.SHLAvailability(r, dev); err == nil {
				avail[r.ID] = a
			}
		}
		access, _ = w.AccessLog()
		names, _ = w.ContactNames()
		return nil
	}, func(err error) {
		if err != nil {
			v.empty.SetText(userMessage(err))
			v.empty.Show()
			return
		}
		v.grants, v.shls, v.access, v.avail = grants, shls, access, avail
		v.people = newPeople(names, grants, shls)
		if len(grants)+len(shls) > 0 {
			v.empty.Hide()
		} else {
			v.empty.Show()
		}
		v.fillRecent()
		v.fillGroups()
		v.master.Refresh()
	})
}

// fillRecent lists the newest access-log lines, with "Add as contact" for
// a person this wallet knows only by key.
func (v *sharedByMeView) fillRecent() {
	v.recent.RemoveAll()
	if len(v.access) == 0 {
		l := wrapped("Nobody has opened anything you shared yet.")
		l.Importance = widget.LowImportance
		v.recent.Add(l)
		return
	}
	for i := len(v.access) - 1; i >= 0 && i >= len(v.access)-maxRecentAccess; i-- {
		v.recent.Add(v.accessRow(v.access[i], true))
	}
	if n := len(v.access); n > maxRecentAccess {
		all := widget.NewButton(fmt.Sprintf("Whole log (%d)…", n), v.u.act(v.openLog))
		v.recent.Add(buttonRow(all))
	}
}

// accessRow is one access-log line; withWhat names the share opened.
func (v *sharedByMeView) accessRow(e wallet.AccessEntry, withWhat bool) fyne.CanvasObject {
	who, did := v.people.accessWho(e)
	text := dateTime(e.Time) + " · " + capitalize(who) + " " + accessVerb(e)
	if withWhat {
		text += " · " + v.people.accessWhat(e)
	}
	l := wrapped(text)
	if !e.Granted {
		l.Importance = widget.DangerImportance
	}
	if did == "" || v.people.known(did) {
		return l
	}
	return container.NewVBox(l, v.addContactButton(did))
}

// addContactButton saves did as a contact, under a name asked for.
func (v *sharedByMeView) addContactButton(did string) fyne.CanvasObject {
	add := widget.NewButtonWithIcon("Add as contact", theme.ContentAddIcon(), v.u.act(func() {
		v.u.askSaveContact(did, v.reload)
	}))
	return buttonRow(add)
}

// openLog shows the whole access log, newest first.
func (v *sharedByMeView) openLog() {
	box := container.NewVBox(heading("Access log"))
	for i := len(v.access) - 1; i >= 0; i-- {
		box.Add(v.accessRow(v.access[i], true))
	}
	v.md.show("Access log", container.NewScroll(container.NewPadded(box)))
}

// byMeGroup is one person's shares (or the links').
type byMeGroup struct {
	name   string
	did    string // the person's DID; "" for the links
	grants []wallet.GrantRecord
}

// fillGroups lists the shares grouped by person, people in name order,
// the links last.
func (v *sharedByMeView) fillGroups() {
	v.groups.RemoveAll()
	v.rows = nil
	byDID := map[string]*byMeGroup{}
	var groups []*byMeGroup
	for _, g := range v.grants {
		gr, ok := byDID[g.Grantee]
		if !ok {
			gr = &byMeGroup{name: v.people.name(g.Grantee), did: g.Grantee}
			byDID[g.Grantee] = gr
			groups = append(groups, gr)
		}
		gr.grants = append(gr.grants, g)
	}
	slices.SortStableFunc(groups, func(a, b *byMeGroup) int {
		// Contacts first, by name; then people known only by key.
		if ka, kb := v.people.known(a.did), v.people.known(b.did); ka != kb {
			if ka {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name))
	})
	for _, gr := range groups {
		v.groups.Add(v.groupHeader(gr.name, gr.did, len(gr.grants)))
		for _, g := range gr.grants {
			r := newShareRow(v.u.act(func() { v.open(g) }))
			title := g.Summary
			if g.Links > 1 {
				title = "Re-share: " + title
			}
			r.set(title, untilText(g, v.u.now()), g.Status(v.u.now()), v.availLine(g.Hash), g.Live)
			v.rows = append(v.rows, r)
			v.groups.Add(r)
		}
	}
	if len(v.shls) > 0 {
		v.groups.Add(v.groupHeader(linkGroup, "", len(v.shls)))
		for _, l := range v.shls {
			r := newShareRow(v.u.act(func() { v.openSHL(l) }))
			r.set(shlTitle(l), shlCovers(l), l.Status(v.u.now()), joinNonEmpty(shlUntilText(l, v.u.now()), v.availLine(l.ID)), l.Live)
			v.rows = append(v.rows, r)
			v.groups.Add(r)
		}
	}
	v.groups.Refresh()
}

// availLine is a share's availability for its row.
func (v *sharedByMeView) availLine(id string) string {
	a, ok := v.avail[id]
	if !ok {
		return ""
	}
	return shortAvailability(a)
}

// joinNonEmpty joins the non-empty parts with " · ".
func joinNonEmpty(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " · ")
}

// groupHeader heads one person's shares; a person known only by key gets
// "Add as contact".
func (v *sharedByMeView) groupHeader(name, did string, n int) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(capitalize(name)+fmt.Sprintf(" · %d share%s", n, plural(n)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.HighImportance
	if did == "" || v.people.known(did) {
		return l
	}
	return container.NewVBox(l, v.addContactButton(did))
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
	v.detail = v.u.newGrantPage(g, v.people, v.accessesOf(g), v.reload)
	v.md.show(g.Summary, v.detail.content)
}

// grantRow is one grant in a list: who, what, and its status.
type grantRow struct {
	widget.BaseWidget
	who, what, until *widget.Label
	status           *widget.Label
}

func newGrantRow() *grantRow {
	r := &grantRow{}
	r.init()
	r.ExtendBaseWidget(r)
	return r
}

// init makes the row's labels (a row that embeds grantRow calls it, then
// extends the base widget with itself).
func (r *grantRow) init() {
	r.who, r.what, r.until, r.status = widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel("")
	r.who.TextStyle.Bold = true
	r.who.Truncation = fyne.TextTruncateEllipsis
	r.what.Truncation = fyne.TextTruncateEllipsis
	r.until.Truncation = fyne.TextTruncateEllipsis
	r.until.SizeName = theme.SizeNameCaptionText
	r.until.Importance = widget.LowImportance
	r.status.TextStyle.Bold = true
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

// shareRow is a grantRow that can be tapped: one share in a list of rows
// (Shared by me), rather than a widget.List's item. Tapping it opens the
// share.
type shareRow struct {
	grantRow
	onTap func()
}

func newShareRow(onTap func()) *shareRow {
	r := &shareRow{onTap: onTap}
	r.init()
	r.ExtendBaseWidget(r)
	return r
}

// Tapped opens the share.
func (r *shareRow) Tapped(*fyne.PointEvent) {
	if r.onTap != nil {
		r.onTap()
	}
}

// sharePage is what the pages of a grant and of a link have in common:
// the status and the revoke flow, the link with its QR code, where it can
// be opened, the records it holds and its access log.
type sharePage struct {
	u        *UI
	content  fyne.CanvasObject
	status   *widget.Label
	records  *fyne.Container
	access   *fyne.Container
	where    *availabilityView
	revoke   *widget.Button
	confirm  *dialog.ConfirmDialog
	progress *widget.ProgressBarInfinite
	step     *widget.Label // what the revocation is waiting for
	onChange func()
}

func (u *UI) newSharePage(onChange func(), askRevoke func()) *sharePage {
	p := &sharePage{u: u, onChange: onChange}
	p.status = heading("")
	p.step = wrapped("")
	p.progress = widget.NewProgressBarInfinite()
	p.progress.Hide()
	p.revoke = widget.NewButtonWithIcon("Revoke…", theme.CancelIcon(), u.act(askRevoke))
	p.revoke.Importance = widget.DangerImportance
	p.records = container.NewVBox()
	p.access = container.NewVBox()
	p.where = newAvailabilityView()
	return p
}

// build lays out the page: status, facts, the QR code of link (while
// active), the link row with revoke, where it opens, records, access log.
func (p *sharePage) build(facts *widget.Form, link string, active bool, recordsTitle string) {
	items := []fyne.CanvasObject{p.status, facts}
	if active { // no code to scan for a share nobody can open
		if png, err := grant.QR(link); err == nil {
			items = append(items, container.NewCenter(qrImage("share-qr.png", png, 220)))
		}
	}
	l := widget.NewLabelWithStyle(link, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.Truncation = fyne.TextTruncateEllipsis
	copyLink := widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), p.u.act(func() { p.u.app.Clipboard().SetContent(link) }))
	items = append(items, l, buttonRow(copyLink, p.revoke), p.progress, p.step,
		section("Where it can be opened", p.where.content),
		section(recordsTitle, p.records),
		section("Access log", p.access))
	p.content = container.NewScroll(container.NewPadded(container.NewVBox(items...)))
}

// showAvailability works out where the share opens, in the background.
func (p *sharePage) showAvailability(find func(*wallet.Wallet, wallet.Device) (wallet.ShareAvailability, error)) {
	w := p.u.openWallet()
	if w == nil {
		return
	}
	dev := p.u.device()
	var a wallet.ShareAvailability
	p.u.run(func() (err error) {
		a, err = find(w, dev)
		return err
	}, func(err error) {
		if err != nil {
			p.where.where.SetText(userMessage(err))
			return
		}
		p.where.set(a)
	})
}

// fillAccess lists the access entries, oldest first; line writes one.
func (p *sharePage) fillAccess(entries []wallet.AccessEntry, none string, line func(wallet.AccessEntry) string) {
	if len(entries) == 0 {
		l := wrapped(none)
		l.Importance = widget.LowImportance
		p.access.Add(l)
		return
	}
	for _, e := range entries {
		l := wrapped(line(e))
		if !e.Granted {
			l.Importance = widget.DangerImportance
		}
		p.access.Add(l)
	}
}

// askRevoke asks before revoking (it cannot be undone), then runs revoke.
func (p *sharePage) askRevoke(title, body string, revoke func()) {
	p.confirm = p.u.confirmRevoke(title, body, revoke)
}

// startRevoke shows a revocation under way; it returns the wallet and
// chain, or false (with the reason shown) when it cannot start.
func (p *sharePage) startRevoke() (*wallet.Wallet, wallet.ChainConfig, bool) {
	w := p.u.openWallet()
	if w == nil {
		return nil, wallet.ChainConfig{}, false
	}
	chain, err := p.u.chainState()
	if err != nil {
		p.step.SetText(userMessage(err))
		return nil, chain, false
	}
	p.revoke.Disable()
	p.progress.Show()
	p.step.Importance = widget.MediumImportance
	p.step.SetText("Publishing the revocation…")
	return w, chain, true
}

// endRevoke shows how a revocation ended: err, or the registry's
// confirmation at when in transaction tx; showStatus has been called.
func (p *sharePage) endRevoke(err error, when time.Time, tx string) {
	p.progress.Hide()
	if err != nil {
		p.step.Importance = widget.DangerImportance
		p.step.SetText(userMessage(err))
		return
	}
	p.step.Importance = widget.SuccessImportance
	p.step.SetText("The registry confirmed the revocation at " + dateTime(when) + " (transaction " + shortHash(tx) + ").")
	p.where.set(wallet.ShareAvailability{Inactive: "revoked"})
	if p.onChange != nil {
		p.onChange()
	}
}

// grantPage is one issued grant: status, window, the records it covers,
// where it opens, who presented it, and revoke.
type grantPage struct {
	*sharePage
	grant wallet.GrantRecord
}

func (u *UI) newGrantPage(g wallet.GrantRecord, ppl *people, accesses []wallet.AccessEntry, onChange func()) *grantPage {
	p := &grantPage{grant: g}
	p.sharePage = u.newSharePage(onChange, func() { p.askRevoke() })
	p.showStatus()
	facts := widget.NewForm(
		widget.NewFormItem("With", wrapped(capitalize(ppl.name(g.Grantee)))),
		widget.NewFormItem("DID", mono(g.Grantee)),
		widget.NewFormItem("Covers", wrapped(g.Summary)),
		widget.NewFormItem("From", wrapped(dateTime(g.NotBefore))),
		widget.NewFormItem("Until", wrapped(dateTime(g.ExpiresAt))),
		widget.NewFormItem("Re-share", wrapped(depthText(g.Depth))),
	)
	if g.Links > 1 {
		facts.Append("Chain", wrapped(fmt.Sprintf("your re-share of a grant you received (%d links)", g.Links)))
	}
	p.fillAccess(accesses, "Nobody has used this grant yet.", func(e wallet.AccessEntry) string {
		who, _ := ppl.presenter(e)
		return dateTime(e.Time) + " · " + capitalize(who) + " " + accessVerb(e)
	})
	p.loadRecords()
	p.build(facts, g.Link, g.Status(u.now()) == "active", "Records it covers")
	p.showAvailability(func(w *wallet.Wallet, dev wallet.Device) (wallet.ShareAvailability, error) {
		return w.GrantAvailability(g, dev)
	})
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
	p.sharePage.askRevoke("Revoke this grant?",
		"From now on nobody can use it, nor anything re-shared from it. This cannot be undone. "+
			"What they already opened cannot be taken back.", p.doRevoke)
}

// doRevoke publishes the revocation, then waits until the registry itself
// reports it.
func (p *grantPage) doRevoke() {
	w, chain, ok := p.startRevoke()
	if !ok {
		return
	}
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
		if !g.RevokedAt.IsZero() || !g.RevokePending.IsZero() {
			p.grant = g
		}
		p.showStatus()
		p.endRevoke(err, confirmed, g.RevokeTx)
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
			lines = append(lines, recordLine(r))
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
