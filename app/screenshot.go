//go:build screenshots

package app

import (
	"os"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// The screens driveForScreenshot knows beyond the tab names (records,
// share, shared-by-me, shared-with-me, settings) and welcome and unlock,
// which need no driving.
const (
	shotSummary    = "summary"    // the records tab's summary home
	shotDetail     = "detail"     // a record from a SMART Health Card, else the newest record
	shotMedication = "medication" // a current medication, with its dose and history
	shotResult     = "result"     // a lab result with its range and trend
	shotShareForm  = "share-form" // the share form, filled in
	shotReceived   = "received"   // a received share, opened: the patient banner
	shotRefusal    = "refusal"    // a grant redeemed and refused: the humane sentence
)

// driveForScreenshot takes the app to the screen scripts/screenshots.sh
// photographs, named by $HW_SCREENSHOT. It unlocks with $HW_PASSPHRASE,
// saves the contacts in $HW_SCREENSHOT_CONTACTS ("Name=did:key:…" lines),
// opens a tab and then, by screen:
//
//   - records: every record (the list, not the summary);
//   - summary: the summary home as it opens;
//   - detail: the first record that came in a SMART Health Card;
//   - medication: the first current medication with a dose, preferring
//     one prescribed more than once;
//   - result: Hemoglobin A1c's latest result, else glucose's, else any
//     result with a trend (on a phone, scrolled down to the plot);
//   - share-form: the share form with some categories ticked; share also
//     fills in $HW_SCREENSHOT_TO and shares, showing the QR code;
//   - shared-by-me: the share with the longest access log;
//   - received: the newest grant received, opened;
//   - shared-with-me: the same, and in it the latest Hemoglobin A1c result
//     (else the latest lab result with a value);
//   - refusal: $HW_SCREENSHOT_LINK pasted into Shared with me and
//     redeemed (a revoked grant, so refused).
//
// Only binaries built with -tags screenshots have it; release builds
// cannot unlock from the environment.
func driveForScreenshot(u *UI) {
	name := os.Getenv("HW_SCREENSHOT")
	if name == "" || name == "welcome" || name == "unlock" {
		return
	}
	pass := os.Getenv("HW_PASSPHRASE")
	go func() {
		wait := func(ok func() bool) {
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				done := false
				fyne.DoAndWait(func() { done = ok() })
				if done {
					return
				}
			}
		}
		wait(func() bool { return u.screenNow() == "unlock" })
		time.Sleep(300 * time.Millisecond) // the window is on screen
		fyne.DoAndWait(func() {
			u.ul.pass.SetText(pass)
			u.unlock()
		})
		wait(func() bool { return u.screenNow() == "wallet" })
		if w := u.openWallet(); w != nil {
			for _, c := range shotContacts(os.Getenv("HW_SCREENSHOT_CONTACTS")) {
				_ = w.SaveContact(c) // a screenshot without the name still shows the screen
			}
		}
		fyne.DoAndWait(func() { u.selectTab(shotTab(name)) })
		switch name {
		case tabRecords, shotSummary, shotDetail, shotMedication, shotResult:
			wait(func() bool { return len(u.records.all) > 0 })
		case tabByMe:
			wait(func() bool { return len(u.byMe.grants) > 0 })
		case tabWithMe, shotReceived:
			wait(func() bool { return len(u.withMe.grants) > 0 })
		case shotRefusal:
			wait(func() bool { _, err := u.chainState(); return err == nil })
		default:
			time.Sleep(time.Second) // the tab loads in the background
		}
		fyne.DoAndWait(func() { driveTab(u, name) })
		if name == shotResult && isMobile() {
			// The phone shows the plot below the facts: scroll to it.
			wait(func() bool { return u.records.detail != nil && u.records.detail.trend != nil })
			time.Sleep(500 * time.Millisecond) // the plot is laid out
			fyne.DoAndWait(func() {
				if sc, ok := u.records.detail.tabs.Items[0].Content.(*container.Scroll); ok {
					sc.Refresh()
					sc.ScrollToBottom()
				}
			})
		}
		if name == tabWithMe {
			wait(func() bool { return u.withMe.page != nil && len(u.withMe.page.browser.all) > 0 })
			fyne.DoAndWait(func() { openReceivedResult(u.withMe.page) })
		}
	}()
}

// shotTab is the tab a screen is on.
func shotTab(name string) string {
	switch name {
	case shotSummary, shotDetail, shotMedication, shotResult:
		return tabRecords
	case shotShareForm:
		return tabShare
	case shotReceived, shotRefusal:
		return tabWithMe
	}
	return name
}

// shotContacts parses "Name=did:key:…" lines; others are skipped.
func shotContacts(s string) []wallet.Contact {
	var out []wallet.Contact
	for _, line := range strings.Split(s, "\n") {
		if name, did, ok := strings.Cut(line, "="); ok && strings.TrimSpace(name) != "" {
			out = append(out, wallet.Contact{Name: strings.TrimSpace(name), DID: strings.TrimSpace(did)})
		}
	}
	return out
}

// driveTab does what screen name needs once its tab has loaded; it runs
// on fyne's goroutine.
func driveTab(u *UI, name string) {
	switch name {
	case tabRecords:
		u.records.chips.choose(chipAll)
	case shotDetail:
		i := slices.IndexFunc(u.records.all, func(r wallet.Record) bool { return r.Card != nil })
		if i < 0 {
			i = 0
		}
		u.records.open(u.records.all[i], nil)
	case shotMedication, shotResult:
		if r, group, ok := summaryItem(u.records.all, name); ok {
			u.records.open(r, group)
		}
	case tabByMe:
		best, most := u.byMe.grants[0], -1
		for _, g := range u.byMe.grants {
			if n := len(u.byMe.accessesOf(g)); n > most {
				best, most = g, n
			}
		}
		u.byMe.open(best)
	case tabWithMe, shotReceived:
		u.withMe.list.Select(0)
	case shotRefusal:
		u.withMe.link.SetText(os.Getenv("HW_SCREENSHOT_LINK"))
		u.withMe.submit()
	case tabShare, shotShareForm:
		for _, c := range []fhir.Category{fhir.Labs, fhir.Medications, fhir.Allergies} {
			if ch, ok := u.share.catChecks[c]; ok {
				ch.SetChecked(true)
			}
		}
		u.share.terms.duration.SetSelected("7 days")
		if to := os.Getenv("HW_SCREENSHOT_TO"); to != "" && name == tabShare {
			u.share.grantee.entry.SetText(to)
			go func() {
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
					if _, err := u.providers(); err == nil {
						break
					}
				}
				fyne.Do(u.share.submit)
			}()
		}
	}
}

// summaryItem finds the summary item a screen opens: for medication, the
// first current medication with a dose (one prescribed more than once
// first); for result, the latest Hemoglobin A1c, else glucose, else the
// first result with a history. It returns the record to open and the
// records the item stands for.
func summaryItem(recs []wallet.Record, name string) (wallet.Record, []wallet.Record, bool) {
	xs := make([]fhir.Index, len(recs))
	for i, r := range recs {
		xs[i] = r.Index
	}
	title := fhir.SectionMedications
	if name == shotResult {
		title = fhir.SectionResults
	}
	var items []fhir.Item
	for _, s := range fhir.Overview(xs) {
		if s.Title == title {
			items = s.Items
		}
	}
	var prefs []func(fhir.Item) bool
	if name == shotMedication {
		prefs = []func(fhir.Item) bool{
			func(it fhir.Item) bool { return it.Value != "" && len(it.Members) > 1 },
			func(it fhir.Item) bool { return it.Value != "" },
			func(it fhir.Item) bool { return true },
		}
	} else {
		named := func(s string) func(fhir.Item) bool {
			return func(it fhir.Item) bool { return strings.Contains(strings.ToLower(it.Name), s) }
		}
		prefs = []func(fhir.Item) bool{
			named("a1c"), named("glucose"),
			func(it fhir.Item) bool { return len(it.Members) > 1 },
			func(it fhir.Item) bool { return true },
		}
	}
	for _, pref := range prefs {
		if i := slices.IndexFunc(items, pref); i >= 0 {
			group := make([]wallet.Record, len(items[i].Members))
			for j, m := range items[i].Members {
				group[j] = recs[m]
			}
			return group[0], group, true
		}
	}
	return wallet.Record{}, nil, false
}

// openReceivedResult opens, in a received share, the latest Hemoglobin A1c
// result, else the latest lab result with a value.
func openReceivedResult(p *receivedPage) {
	recs := slices.Clone(p.browser.all)
	slices.SortStableFunc(recs, byDateThenSummary)
	i := slices.IndexFunc(recs, func(r wallet.Record) bool {
		return r.Number != nil && strings.Contains(strings.ToLower(r.Summary), "a1c")
	})
	if i < 0 {
		i = slices.IndexFunc(recs, func(r wallet.Record) bool { return r.Number != nil && r.Category == fhir.Labs })
	}
	if i >= 0 {
		p.openResource(receivedIndex(recs[i]))
	}
}
