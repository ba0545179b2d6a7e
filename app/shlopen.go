package app

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/share/shl"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// isSHL reports whether a pasted or scanned link is a SMART Health Link
// (shlink:/…, or a viewer URL holding #shlink:/…).
func isSHL(link string) bool { return strings.Contains(link, "shlink:/") }

// submitSHL opens a SMART Health Link: it asks for the passcode of a P
// link, fetches and decrypts the files, and shows what they hold; nothing
// is imported until the user taps Import.
func (v *sharedWithMeView) submitSHL(w *wallet.Wallet, link string) {
	p, err := shl.ParseLink(link)
	if err != nil {
		v.showRefusal(widget.DangerImportance, "", err)
		return
	}
	if p.Expired(v.u.now()) {
		v.showRefusal(widget.DangerImportance, "", shl.ErrExpired)
		return
	}
	if p.Has('P') {
		v.askPasscode(func(pass string) { v.openSHL(w, link, pass) })
		return
	}
	v.openSHL(w, link, "")
}

// askPasscode asks for a link's passcode, then calls open with it.
func (v *sharedWithMeView) askPasscode(open func(string)) {
	v.passcode = widget.NewPasswordEntry()
	v.passcode.SetPlaceHolder("The passcode they told you")
	v.askPass = dialog.NewForm("This link needs a passcode", "Open", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Passcode", v.passcode)}, func(ok bool) {
			if ok && v.passcode.Text != "" {
				open(v.passcode.Text)
			}
		}, v.u.win)
	v.askPass.Show()
	v.u.win.Canvas().Focus(v.passcode)
}

// openSHL fetches and decrypts the link's files with passcode.
func (v *sharedWithMeView) openSHL(w *wallet.Wallet, link, passcode string) {
	v.redeem.Disable()
	v.progress.Hide()
	v.showVerdict(widget.MediumImportance, "Opening the SMART Health Link…")
	var opened wallet.SHLOpened
	ctx := v.u.walletCtx()
	opts := wallet.OpenSHLOptions{HTTP: v.u.opts.SHLHTTP}
	v.u.run(func() (err error) {
		opened, err = w.OpenSHL(ctx, link, passcode, opts)
		return err
	}, func(err error) {
		v.redeem.Enable()
		if err != nil && len(opened.Files) == 0 {
			v.showRefusal(widget.DangerImportance, "", err)
			return
		}
		v.link.SetText("")
		v.shl = v.u.newSHLOpenedPage(opened, v.showVerdict)
		v.md.show(v.shl.title, v.shl.content)
		imp, text := widget.SuccessImportance, v.shl.verdict()
		if err != nil { // some files could not be read
			imp, text = widget.WarningImportance, text+" Some files could not be read: "+oneLine(err.Error())+"."
		}
		v.showVerdict(imp, text)
	})
}

// shlOpenedPage is what a SMART Health Link holds, decrypted but not yet
// imported: the records by name and date, the health cards verified or
// not, and Import.
type shlOpenedPage struct {
	u       *UI
	content fyne.CanvasObject
	title   string
	opened  wallet.SHLOpened
	records []wallet.Record
	list    *widget.List
	info    *widget.Label
	imp     *widget.Button
	report  func(widget.Importance, string)
}

func (u *UI) newSHLOpenedPage(opened wallet.SHLOpened, report func(widget.Importance, string)) *shlOpenedPage {
	p := &shlOpenedPage{u: u, opened: opened, report: report, title: shlName(opened.Label)}
	var cards []string
	for _, f := range opened.Files {
		if doc, err := fhir.Parse(f.Plain); err == nil {
			resolve := doc.Resolver()
			for _, r := range doc.Resources {
				p.records = append(p.records, wallet.Record{Index: fhir.IndexOf(r, resolve)})
			}
		}
		cards = append(cards, f.Cards...)
	}
	slices.SortStableFunc(p.records, patientFirst)
	facts := widget.NewForm(widget.NewFormItem("Records", wrapped(fmt.Sprintf("%d", len(p.records)))))
	if len(cards) > 0 {
		facts.Append("Health cards", wrapped(fmt.Sprintf("%d verified, %d not verified", opened.Cards.Verified, opened.Cards.Unverified)))
		for i, c := range cards {
			l := wrapped(c)
			if c != "verified" {
				l.Importance = widget.WarningImportance
			}
			facts.Append(fmt.Sprintf("Card %d", i+1), l)
		}
	}
	p.info = wrapped("Nothing is kept until you tap Import.")
	p.info.Importance = widget.LowImportance
	p.imp = widget.NewButtonWithIcon("Import", theme.DownloadIcon(), u.act(p.doImport))
	p.imp.Importance = widget.HighImportance
	p.list = newRecordList(func() []wallet.Record { return p.records })
	top := container.NewVBox(heading(p.title), facts, buttonRow(p.imp), p.info)
	p.content = container.NewBorder(container.NewPadded(top), nil, nil, nil, p.list)
	return p
}

// verdict is the one line saying what the link held.
func (p *shlOpenedPage) verdict() string {
	s := fmt.Sprintf("Opened %q: %d record%s", p.title, len(p.records), plural(len(p.records)))
	if c := p.opened.Cards; c.Verified+c.Unverified > 0 {
		s += fmt.Sprintf(", %d health card%s verified, %d not verified", c.Verified, plural(c.Verified), c.Unverified)
	}
	return s + ". Tap Import to keep them."
}

// doImport imports the link's files: FHIR Bundles as records, health
// cards once verified (as a file import does).
func (p *shlOpenedPage) doImport() {
	w := p.u.openWallet()
	if w == nil {
		return
	}
	p.imp.Disable()
	n := 0
	ctx := p.u.walletCtx()
	p.u.run(func() error {
		var errs []error
		for i, f := range p.opened.Files {
			name := fmt.Sprintf("shl-file-%d", i+1)
			var res wallet.ImportResult
			var err error
			switch {
			case len(f.Cards) > 0:
				res, err = w.ImportSHC(ctx, name+".smart-health-card", f.Plain)
			case f.Resources > 0:
				res, err = w.ImportFHIR(ctx, name+".json", f.Plain)
			default:
				continue
			}
			n += res.Added + res.Updated
			if err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}, func(err error) {
		if err != nil {
			p.imp.Enable()
			p.report(widget.DangerImportance, "Import failed: "+oneLine(err.Error())+".")
			return
		}
		p.imp.SetText("Imported")
		p.info.SetText(fmt.Sprintf("Imported %d record%s into your wallet.", n, plural(n)))
		p.report(widget.SuccessImportance, fmt.Sprintf("Imported %d record%s from %q.", n, plural(n), p.title))
	})
}

// refreshLive fetches the newer versions of the live grants this wallet
// received (once a session, when Shared with me first loads), and says
// what came in. Errors are one quiet line.
func (v *sharedWithMeView) refreshLive(w *wallet.Wallet) {
	live := false
	for _, g := range v.grants {
		live = live || g.Live
	}
	if !live {
		return
	}
	var ups []wallet.LiveUpdate
	ctx := v.u.walletCtx()
	opts := wallet.RedeemOptions{Listen: v.u.opts.RedeemListen}
	v.u.run(func() (err error) {
		ups, err = w.RefreshReceived(ctx, opts)
		return err
	}, func(err error) {
		if text := liveUpdatesText(ups); text != "" {
			v.showVerdict(widget.SuccessImportance, text)
			v.reload()
		} else if err != nil {
			v.showRefusal(widget.LowImportance, "Could not check live shares for updates. ", err)
		}
	})
}

// liveUpdatesText is the verdict line for new versions of live grants:
// "Updated: 1 new lab result from Marguerita Reilly: Hemoglobin A1c 7.1 %
// (20 Nov 2026)". It is "" when nothing new came.
func liveUpdatesText(ups []wallet.LiveUpdate) string {
	var parts []string
	for _, u := range ups {
		if len(u.New) == 0 {
			continue
		}
		from := patientName(u.Bundle)
		if from == "" {
			from = shortAddress(u.Grant.Issuer)
		}
		s := fmt.Sprintf("%d new %s%s from %s", len(u.New), updateNoun(u.Bundle, u.New), plural(len(u.New)), from)
		if len(u.New) <= 2 {
			s += ": " + strings.Join(u.New, "; ")
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ""
	}
	return "Updated: " + strings.Join(parts, "; ") + "."
}

// patientName is the name of the patient a FHIR Bundle is about ("" if
// it names none).
func patientName(bundle []byte) string {
	doc, err := fhir.Parse(bundle)
	if err != nil {
		return ""
	}
	resolve := doc.Resolver()
	for _, r := range doc.Resources {
		if ix := fhir.IndexOf(r, resolve); ix.Type == "Patient" {
			return ix.Summary
		}
	}
	return ""
}

// updateNouns name the records of a category in an update line.
var updateNouns = map[fhir.Category]string{
	fhir.Labs: "lab result", fhir.Vitals: "vital sign", fhir.Medications: "medication", fhir.Immunizations: "immunization",
	fhir.Problems: "problem", fhir.Allergies: "allergy record", fhir.Procedures: "procedure", fhir.Encounters: "visit",
}

// updateNoun names the new records of an update ("lab result" when they
// are all lab results in bundle; "record" otherwise).
func updateNoun(bundle []byte, lines []string) string {
	doc, err := fhir.Parse(bundle)
	if err != nil {
		return "record"
	}
	resolve := doc.Resolver()
	var cat fhir.Category
	for _, l := range lines {
		found := false
		for _, r := range doc.Resources {
			x := fhir.IndexOf(r, resolve)
			sum := strings.TrimSuffix(x.Summary, " · "+x.Day())
			if sum != "" && strings.HasPrefix(l, sum) && (cat == "" || cat == x.Category) {
				cat, found = x.Category, true
				break
			}
		}
		if !found {
			return "record"
		}
	}
	if n, ok := updateNouns[cat]; ok {
		return n
	}
	return "record"
}
