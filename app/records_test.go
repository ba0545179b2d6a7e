package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/internal/fixtures"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// shcTestdata holds the SMART Health Card spec examples and their issuers.
var shcTestdata = filepath.Join("..", "wallet", "shc", "testdata")

func TestImportSearchAndFilterRecords(t *testing.T) {
	u := openTestWallet(t, Options{})
	v := u.records
	if u.tabNow() != tabRecords || v.list.Length() != 0 || !strings.Contains(v.count.Text, "No records yet") {
		t.Fatalf("empty wallet: tab %q, %d rows, %q", u.tabNow(), v.list.Length(), v.count.Text)
	}

	// Import opens the file dialog; its callback imports the chosen path.
	test.Tap(v.importButton)
	if u.win.Canvas().Overlays().Top() == nil {
		t.Fatal("Import did not open the file dialog")
	}
	u.win.Canvas().Overlays().Top().Hide()
	u.win.Canvas().Overlays().Remove(u.win.Canvas().Overlays().Top())
	importFixture(t, u, "Liz_Conn")
	w := u.openWallet()
	all, _ := w.Records(wallet.Filter{})
	if len(all) == 0 {
		t.Fatal("no records")
	}
	mustContain(t, "import result", v.importResult.Text, "liz.json:", "added, 0 updated, 0 unchanged.")
	// The tab opens on the summary.
	billingCount := 0
	for _, r := range all {
		if r.Category == fhir.Billing {
			billingCount++
		}
	}
	if billingCount == 0 {
		t.Fatal("Liz Conn's records hold no billing: the summary's count is not tested")
	}
	if v.chips.selected != chipSummary || v.count.Text != "Summary of "+strconv.Itoa(len(all)-billingCount)+" records; "+strconv.Itoa(billingCount)+" billing records hidden" {
		t.Fatalf("opened on %q: %q", v.chips.selected, v.count.Text)
	}
	// All records but billing, then with billing.
	v.chips.choose(chipAll)
	billing, _ := w.Records(wallet.Filter{Category: fhir.Billing})
	if len(billing) == 0 || v.list.Length() != len(all)-len(billing) ||
		v.count.Text != fmt.Sprintf("%d records; %d billing records hidden", len(all)-len(billing), len(billing)) {
		t.Fatalf("without billing: %d rows, %q", v.list.Length(), v.count.Text)
	}
	for _, r := range v.shown {
		if r.Category == fhir.Billing {
			t.Fatalf("billing record %q listed", r.Summary)
		}
	}
	if shows(u.win.Canvas().Content(), categoryName(fhir.Billing)+" ") {
		t.Fatal("a Billing chip while billing is hidden")
	}
	test.Tap(v.showBilling)
	if v.list.Length() != len(all) || v.count.Text != strconv.Itoa(len(all))+" records" {
		t.Fatalf("with billing: %d rows, count %q", v.list.Length(), v.count.Text)
	}
	assertScreen(t, u, "records")
	// Importing the same file again changes nothing.
	importFixture(t, u, "Liz_Conn")
	mustContain(t, "second import", v.importResult.Text, "0 added, 0 updated, "+strconv.Itoa(countNonDup(all))+" unchanged")

	// Search, type, category and dates narrow the list; each matches the
	// wallet's own filter.
	check := func(f wallet.Filter) {
		t.Helper()
		want, _ := w.Records(f)
		if v.list.Length() != len(want) || len(want) == 0 {
			t.Fatalf("%+v: list %d, wallet %d", f, v.list.Length(), len(want))
		}
		for i := range v.shown {
			if !f.Match(v.shown[i]) {
				t.Fatalf("%+v: row %d %q does not match", f, i, v.shown[i].Summary)
			}
		}
		if len(want) < len(all) && !strings.Contains(v.count.Text, " of "+strconv.Itoa(len(all))) {
			t.Fatalf("count %q", v.count.Text)
		}
	}
	needle := strings.ToLower(all[len(all)/2].Summary[:5])
	test.Type(v.search, needle)
	check(wallet.Filter{Text: needle})
	v.clearFilters()
	// The type filter speaks plain words.
	if slices.Contains(v.typeFilter.Options, "Observation") || !slices.Contains(v.typeFilter.Options, "Visit") {
		t.Fatalf("type choices %v", v.typeFilter.Options)
	}
	v.typeFilter.SetSelected("Result or measurement")
	check(wallet.Filter{Type: "Observation"})
	// A chip per category, with its count.
	vitals, _ := w.Records(wallet.Filter{Category: fhir.Vitals})
	test.Tap(tappable(t, u, fmt.Sprintf("Vital signs %d", len(vitals))))
	check(wallet.Filter{Type: "Observation", Category: fhir.Vitals})
	v.clearFilters()
	test.Type(v.from, "2015-01-01")
	test.Type(v.to, "2019-12-31")
	check(wallet.Filter{From: "2015-01-01", To: "2019-12-31"})
	// A half-typed date is flagged and ignored.
	v.to.SetText("2019-1")
	if v.to.Validate() == nil {
		t.Fatal("2019-1 accepted as a date")
	}
	check(wallet.Filter{From: "2015-01-01"})
	v.clearFilters()
	if v.chips.selected != chipSummary {
		t.Fatalf("after clearing: %q", v.chips.selected)
	}
	v.chips.choose(chipAll)
	if v.list.Length() != len(all) {
		t.Fatalf("after clearing: %d rows", v.list.Length())
	}
}

// countNonDup is how many distinct records a file made.
func countNonDup(all []wallet.Record) int {
	n := 0
	for _, r := range all {
		if r.Source.File == "liz.json" {
			n++
		}
	}
	return n
}

func TestImportSMARTHealthCardShowsIssuerAndResult(t *testing.T) {
	u := openTestWallet(t, Options{})
	u.openWallet().SetTrustDir(shcTestdata)
	v := u.records
	v.importPaths([]string{filepath.Join(shcTestdata, "spec-examples", "example-00-e-file.smart-health-card")})
	u.bg.Wait()
	mustContain(t, "card import", v.importResult.Text, "example-00-e-file.smart-health-card:", "added",
		"SMART Health Card from", "example issuer", "https://spec.smarthealth.cards/examples/issuer", ": verified")
	if v.importResult.Importance != widget.SuccessImportance {
		t.Fatalf("importance %v", v.importResult.Importance)
	}
	// The card's records carry the verification.
	v.typeFilter.SetSelected("Immunization")
	if v.list.Length() == 0 {
		t.Fatal("no immunizations listed")
	}
	v.list.Select(0)
	u.bg.Wait()
	// One line says who issued it; the details are one tap away.
	if c := v.detail.card; c == nil || !c.Visible() || c.Text != "Verified: issued by SMART Health Cards example issuer (2022)" ||
		c.Importance != widget.SuccessImportance {
		t.Fatalf("card line %v", c)
	}
	mustContain(t, "record detail", markup(u), "Verified: issued by")
	cd := v.detail.cardDetails
	if cd == nil || cd.Items[0].Open {
		t.Fatal("card details shown before asking")
	}
	test.Tap(tappable(t, u, "Card details"))
	if !cd.Items[0].Open || !strings.Contains(cd.Items[0].Detail.(*widget.Label).Text, "https://spec.smarthealth.cards/examples/issuer): verified") {
		t.Fatal("card details not shown when asked")
	}

	// A tampered card is refused with its reason, and nothing is added.
	before := len(v.all)
	v.importPaths([]string{filepath.Join(shcTestdata, "dev-tools-testdata", "test-example-00-d-jws-invalid-signature.txt")})
	u.bg.Wait()
	if v.importResult.Importance != widget.DangerImportance || !strings.Contains(v.importResult.Text, "test-example-00-d-jws-invalid-signature.txt") ||
		strings.Contains(v.importResult.Text, "\n") || len(v.all) != before {
		t.Fatalf("tampered card: %q (%d → %d records)", v.importResult.Text, before, len(v.all))
	}

	// Without trusted issuers the card is refused with a clear reason.
	u.openWallet().SetTrustDir(t.TempDir())
	v.importPaths([]string{filepath.Join(shcTestdata, "spec-examples", "example-01-d-jws.txt")})
	u.bg.Wait()
	mustContain(t, "no trust", v.importResult.Text, "no trusted SMART Health Card issuers")
}

// TestImportBytes: a phone's document picker gives a stream, not a path;
// it imports the same records as the file.
func TestImportBytes(t *testing.T) {
	ctx := context.Background()
	a, b := newPeerWallet(t), newPeerWallet(t)
	path := fixtureFile(t, "Clemente_Kreiger", "c.json")
	data, _ := os.ReadFile(path)
	r1, err1 := a.ImportFile(ctx, path, nil)
	r2, err2 := importBytes(ctx, b, "c.json", data, nil)
	if err1 != nil || err2 != nil || r1.Added != r2.Added || r1.Added == 0 {
		t.Fatalf("file %d %v, stream %d %v", r1.Added, err1, r2.Added, err2)
	}
	card, _ := os.ReadFile(filepath.Join(shcTestdata, "spec-examples", "example-00-e-file.smart-health-card"))
	b.SetTrustDir(shcTestdata)
	// The card is John B. Anyperson's, not Clemente's: a family member's.
	if res, err := importBytes(ctx, b, "card", card, nil, wallet.ImportOptions{OtherPatient: true}); err != nil || res.Card == nil || res.Card.Status != "verified" {
		t.Fatalf("card from a stream: %+v %v", res.Card, err)
	}
	if _, err := importBytes(ctx, b, "junk.bin", []byte("\x00\x01junk"), nil); err == nil {
		t.Fatal("junk imported")
	}
}

// TestReceivedShareSearchAndFilters: a received share's records have the
// search, chips and filters of one's own records (the same component), and
// a filtered row opens the resource it shows.
func TestReceivedShareSearchAndFilters(t *testing.T) {
	u := openTestWallet(t, Options{})
	data, err := fixtures.Named("Tristan_Gleason").Read()
	if err != nil {
		t.Fatal(err)
	}
	g := wallet.GrantRecord{Hash: strings.Repeat("ab", 32), Issuer: "0x" + strings.Repeat("12", 20), Summary: "everything",
		Links: 1, Operations: "[read export]", NotBefore: u.now().Add(-time.Hour), ExpiresAt: u.now().Add(72 * time.Hour)}
	p := u.newReceivedPage(g, data)
	u.win.SetContent(p.content)
	b := p.browser
	doc, _ := fhir.Parse(data)
	if len(b.all) != len(doc.Resources) || b.all[0].Type != "Patient" || b.chips.selected != chipAll {
		t.Fatalf("%d of %d records, first %s, chip %q", len(b.all), len(doc.Resources), b.all[0].Type, b.chips.selected)
	}
	// Billing is hidden here too, until asked for.
	claims := 0
	for _, r := range doc.Resources {
		if r.Type == "Claim" || r.Type == "ExplanationOfBenefit" {
			claims++
		}
	}
	if claims == 0 || p.list.Length() != len(doc.Resources)-claims {
		t.Fatalf("%d rows, %d resources, %d claims", p.list.Length(), len(doc.Resources), claims)
	}
	// Search, then a category chip, then a kind.
	test.Type(b.search, "hemoglobin a1c")
	if p.list.Length() == 0 {
		t.Fatal("no HbA1c found")
	}
	for _, r := range b.shown {
		if !strings.Contains(strings.ToLower(r.Summary), "hemoglobin a1c") {
			t.Fatalf("search let through %q", r.Summary)
		}
	}
	b.search.SetText("")
	labs := 0
	for _, r := range b.all {
		if r.Category == fhir.Labs {
			labs++
		}
	}
	test.Tap(tappable(t, u, fmt.Sprintf("Lab results %d", labs)))
	if p.list.Length() != labs {
		t.Fatalf("lab chip: %d rows, want %d", p.list.Length(), labs)
	}
	b.typeFilter.SetSelected(fhir.PlainType("DiagnosticReport"))
	for _, r := range b.shown {
		if r.Type != "DiagnosticReport" || r.Category != fhir.Labs {
			t.Fatalf("filters let through %s %s", r.Type, r.Category)
		}
	}
	test.Type(b.from, "2006")
	if p.list.Length() == 0 {
		t.Fatal("no lab report in 2006")
	}
	assertScreenNormalized(t, u, "records-received") // "until …" follows the clock
	// A row of the filtered list opens the resource it shows.
	want := b.shown[0]
	p.list.Select(0)
	u.bg.Wait()
	res := p.resources[receivedIndex(want)]
	if res.Type != "DiagnosticReport" || fhir.IndexOf(res, nil).Summary != want.Summary || p.detail.title.Text != want.Name {
		t.Fatalf("opened %s %q for %q", res.Type, p.detail.title.Text, want.Summary)
	}
}
