package app

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/share/grant"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// receivedPage is one grant this wallet received: its terms, the records it
// holds (tap one to read it), export of the FHIR Bundle, and re-sharing
// within the grant's limits.
type receivedPage struct {
	u         *UI
	content   fyne.CanvasObject
	stack     *fyne.Container // the overview, a record, or the re-share form
	overview  fyne.CanvasObject
	grant     wallet.GrantRecord
	bundle    []byte
	resources []fhir.Resource
	records   []wallet.Record // index of each resource; ID is its position
	browser   *recordBrowser  // the records, searched and filtered as one's own
	list      *widget.List    // the browser's list
	status    *widget.Label
	info      *widget.Label
	export    *widget.Button
	reshare   *widget.Button
	detail    *detailView
	delegate  *delegateForm
	banner    *patientBanner // whom the records are about, who shared them
}

func (u *UI) newReceivedPage(g wallet.GrantRecord, bundle []byte) *receivedPage {
	p := &receivedPage{u: u, grant: g}
	sharer := u.contactName(g.Issuer) // read once, for the banner and the From line
	st := g.Status(u.now())
	p.status = heading(capitalize(st) + ": " + untilText(g, u.now()))
	p.status.Importance = statusImportance(st)
	facts := widget.NewForm(
		widget.NewFormItem("From", wrapped(personLabel(g.Issuer, sharer))),
		widget.NewFormItem("Chain", wrapped(chainText(g.Links))),
		widget.NewFormItem("Covers", wrapped(g.Summary)),
		widget.NewFormItem("Re-share", wrapped(depthText(g.Depth))),
	)
	if g.Live {
		facts.Append("Live", wrapped(fmt.Sprintf("yes: version %d; new records come when you open Shared with me", g.LiveSeq)))
	}
	p.info = wrapped("")
	p.export = widget.NewButtonWithIcon("Export FHIR bundle…", theme.DocumentSaveIcon(), u.act(p.chooseExport))
	p.export.Disable()
	p.reshare = widget.NewButtonWithIcon("Re-share…", theme.MailForwardIcon(), u.act(p.showDelegate))
	if g.Depth == 0 || st != "active" && st != "expiring soon" {
		p.reshare.Disable()
	}
	p.browser = u.newRecordBrowser(false, func(r wallet.Record, _ []wallet.Record) { p.openResource(receivedIndex(r)) })
	p.browser.order = patientFirst
	p.list = p.browser.list
	p.list.OnSelected = func(id widget.ListItemID) {
		u.touch()
		if id < len(p.browser.shown) {
			p.openResource(receivedIndex(p.browser.shown[id]))
		}
		p.list.Unselect(id)
	}
	p.banner = newPatientBanner(g.Issuer, sharer)
	top := container.NewVBox(p.banner.content, p.status, facts, buttonRow(p.export, p.reshare), p.info,
		p.browser.search, p.browser.filters, p.browser.count)
	p.overview = container.NewScroll(container.NewBorder(container.NewPadded(top), nil, nil, nil, p.browser.body))
	p.stack = container.NewStack(p.overview)
	p.content = p.stack
	if bundle != nil {
		p.setBundle(bundle, nil)
	} else {
		p.load()
	}
	return p
}

// load reads the grant's package from the wallet's store (fetched when
// it was redeemed).
func (p *receivedPage) load() {
	w := p.u.openWallet()
	if w == nil {
		return
	}
	var buf bytes.Buffer
	ctx := p.u.walletCtx()
	p.u.run(func() error {
		return w.ReadObject(ctx, p.grant.Package, &buf, nil)
	}, func(err error) { p.setBundle(buf.Bytes(), err) })
}

// setBundle lists the resources of the shared FHIR Bundle.
func (p *receivedPage) setBundle(b []byte, err error) {
	var doc *fhir.Document
	if err == nil {
		doc, err = fhir.Parse(b)
	}
	if err != nil {
		p.info.Importance = widget.DangerImportance
		p.info.SetText(userMessage(err))
		return
	}
	p.bundle = b
	p.banner.set(b)
	resolve := doc.Resolver()
	type item struct {
		res fhir.Resource
		rec wallet.Record
	}
	items := make([]item, len(doc.Resources))
	for i, r := range doc.Resources {
		items[i] = item{r, wallet.Record{Index: fhir.IndexOf(r, resolve)}}
	}
	// The patient first, then newest first, as on the records tab.
	slices.SortStableFunc(items, func(a, b item) int { return patientFirst(a.rec, b.rec) })
	p.resources, p.records = make([]fhir.Resource, len(items)), make([]wallet.Record, len(items))
	for i, it := range items {
		it.rec.ID = receivedID(i)
		p.resources[i], p.records[i] = it.res, it.rec
	}
	p.browser.setRecords(slices.Clone(p.records))
	p.info.SetText(fmt.Sprintf("%d FHIR resource%s. Tap one to read it.", len(p.records), plural(len(p.records))))
	if p.grant.AllowsExport() {
		p.export.Enable()
	} else {
		p.export.SetText("View only: export not allowed")
	}
}

// receivedID is the ID of a received share's i-th resource: its position,
// for finding it again from a filtered list.
func receivedID(i int) catalog.ID {
	var id catalog.ID
	binary.BigEndian.PutUint64(id[8:], uint64(i))
	return id
}

// receivedIndex is the position receivedID gave a record.
func receivedIndex(r wallet.Record) int { return int(binary.BigEndian.Uint64(r.ID[8:])) }

// openResource shows resource i, with a way back to the list.
func (p *receivedPage) openResource(i int) {
	if i >= len(p.resources) {
		return
	}
	res := p.resources[i]
	p.detail = p.u.newDetailView(func(context.Context) (fhir.Resource, error) { return res, nil },
		[]fhir.Field{{Label: "Filed under", Value: categoryName(p.records[i].Category)}}, detailExtras{})
	back := widget.NewButtonWithIcon("Back to the shared records", theme.NavigateBackIcon(), p.u.act(p.back))
	p.show(container.NewBorder(back, p.u.documentView(res, p.resources, p.grant.AllowsExport()), nil, nil, p.detail.content))
}

func (p *receivedPage) show(o fyne.CanvasObject) {
	p.stack.Objects = []fyne.CanvasObject{o}
	p.stack.Refresh()
}

// back returns to the overview.
func (p *receivedPage) back() { p.show(p.overview) }

// chooseExport saves the FHIR Bundle where the user says.
func (p *receivedPage) chooseExport() {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			p.u.showError(err)
			return
		}
		if wc == nil {
			return
		}
		if err := p.exportTo(wc); err != nil {
			p.u.showError(err)
			return
		}
		p.info.SetText("Saved the FHIR bundle to " + wc.URI().Name() + ".")
	}, p.u.win)
	d.SetFileName("shared-" + p.grant.Hash[:12] + ".json")
	d.Show()
}

// exportTo writes the shared FHIR Bundle to out and closes it.
func (p *receivedPage) exportTo(out io.WriteCloser) error {
	_, err := out.Write(p.bundle)
	return errors.Join(err, out.Close())
}

// delegateForm re-shares a received grant: to whom, for how long (never
// past the grant's end), how deep (less than the grant allows) and which of
// its categories.
type delegateForm struct {
	// keep are categories always kept (the patient's own record).
	keep     []fhir.Category
	grantee  *granteePicker
	terms    *termsPicker
	cats     map[string]*widget.Check
	errLabel *widget.Label
	progress *widget.ProgressBarInfinite
	button   *widget.Button
	result   *shareResult
}

// showDelegate opens the re-share form.
func (p *receivedPage) showDelegate() {
	f := &delegateForm{cats: map[string]*widget.Check{}}
	p.delegate = f
	f.grantee = p.u.newGranteePicker()
	f.terms = p.u.newTermsPicker(int(p.grant.Depth)-1, func() {})
	f.errLabel = wrapped("")
	f.errLabel.Importance = widget.DangerImportance
	f.progress = widget.NewProgressBarInfinite()
	f.progress.Hide()
	f.button = widget.NewButtonWithIcon("Re-share", theme.MailForwardIcon(), p.u.act(p.submitDelegate))
	f.button.Importance = widget.HighImportance
	catBox := container.NewVBox()
	var c grant.Chain
	if w := p.u.openWallet(); w != nil {
		c, _ = w.OpenLink(p.grant.Link) // sealed to this wallet, the grantee
	}
	if len(c) > 0 {
		cats := slices.Clone(c.Leaf().Categories)
		slices.Sort(cats)
		for _, cat := range cats {
			if fhir.Category(cat) == fhir.People {
				f.keep = append(f.keep, fhir.People) // who the records are about
				continue
			}
			f.cats[cat] = widget.NewCheck(categoryName(fhir.Category(cat)), nil)
			f.cats[cat].SetChecked(true)
			catBox.Add(f.cats[cat])
		}
	}
	limit := wrapped("A re-share ends by " + dateTime(p.grant.ExpiresAt) + " at the latest, and covers no more than you received.")
	limit.Importance = widget.LowImportance
	logged := wrapped(reshareNotice)
	logged.Importance = widget.WarningImportance
	cancel := widget.NewButton("Cancel", p.u.act(p.back))
	p.show(container.NewScroll(container.NewPadded(container.NewVBox(
		heading("Re-share"), limit, logged,
		section("With whom", f.grantee.content),
		section("Which categories", catBox),
		section("For how long", f.terms.content),
		f.errLabel, f.progress, buttonRow(cancel, f.button)))))
}

// submitDelegate issues the child grant and shows its QR code and link.
func (p *receivedPage) submitDelegate() {
	f := p.delegate
	w := p.u.openWallet()
	if w == nil || f.button.Disabled() {
		return
	}
	var req wallet.DelegateRequest
	var err error
	req.To, err = f.grantee.did()
	if err == nil {
		req.Duration, req.Delegable, err = f.terms.value()
	}
	all := true
	for cat, ch := range f.cats {
		if ch.Checked {
			req.Categories = append(req.Categories, fhir.Category(cat))
		} else {
			all = false
		}
	}
	if err == nil && len(req.Categories) == 0 && len(f.cats) > 0 {
		err = errors.New("keep at least one category")
	}
	if all {
		req.Categories = nil // the grant's own scope
	} else {
		req.Categories = append(req.Categories, f.keep...)
	}
	var chain wallet.ChainConfig
	if err == nil {
		chain, err = p.u.chainState()
	}
	if err != nil {
		f.errLabel.SetText(userMessage(err))
		return
	}
	slices.Sort(req.Categories)
	providers, _ := p.u.providers() // only needed for a link too long for a QR code
	f.button.Disable()
	f.progress.Show()
	f.errLabel.SetText("")
	var issued *wallet.IssuedGrant
	var png []byte
	var qrText string
	ctx := p.u.walletCtx()
	p.u.run(func() (err error) {
		if issued, err = w.Delegate(ctx, p.grant.Link, req, chain); err != nil {
			return err
		}
		png, qrText, err = w.ShareQR(ctx, issued.Link, providers)
		return err
	}, func(err error) {
		f.progress.Hide()
		f.button.Enable()
		if err != nil {
			f.errLabel.SetText(userMessage(err))
			return
		}
		who := issued.Record.Grantee
		if c, ok := f.grantee.contact(who); ok {
			who = c.Name + " (" + shortDID(who) + ")"
		} else {
			who = someoneNew(shortDID(who))
		}
		f.result = p.u.newShareResult("Re-shared", issued, png, qrText, who, nil, p.back)
		f.result.showWhere(wallet.ShareAvailability{Upstream: true})
		p.show(f.result.content)
	})
}

// contactName is the saved contact name for a DID or an address, "" for
// someone who is not a contact (or while the wallet is locked).
func (u *UI) contactName(who string) string {
	w := u.openWallet()
	if w == nil {
		return ""
	}
	names, _ := w.ContactNames()
	return names.Of(who)
}

// personLabel names someone by address and contact name: "Darron Feeney
// (0x382b…587b)" for a contact, the short address otherwise.
func personLabel(address, name string) string {
	if name != "" {
		return name + " (" + shortAddress(address) + ")"
	}
	return shortAddress(address)
}
