package app

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

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
	if len(all) == 0 || v.list.Length() != len(all) {
		t.Fatalf("list shows %d of %d records", v.list.Length(), len(all))
	}
	mustContain(t, "import result", v.importResult.Text, "liz.json:", "added, 0 updated, 0 unchanged.")
	if v.count.Text != strconv.Itoa(len(all))+" records" {
		t.Fatalf("count %q", v.count.Text)
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
	v.typeFilter.SetSelected("Observation")
	check(wallet.Filter{Type: "Observation"})
	v.catFilter.SetSelected(categoryName(fhir.Vitals))
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
	mustContain(t, "record detail", markup(u), "Verified", "verified")

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
