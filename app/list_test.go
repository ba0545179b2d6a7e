package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/catalog"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// syntheticRecords makes n records of every category, dated over 30 years,
// some sensitive: a big wallet without importing one.
func syntheticRecords(n int) []wallet.Record {
	recs := make([]wallet.Record, n)
	types := []string{"Observation", "MedicationRequest", "Condition", "Immunization", "Procedure", "Encounter"}
	start := time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range recs {
		day := start.Add(time.Duration(i) * 26 * time.Hour).Format(time.DateOnly)
		r := wallet.Record{ID: catalog.NewID(), Index: fhir.Index{
			Type:     types[i%len(types)],
			Date:     day,
			Category: fhir.AllCategories[i%len(fhir.AllCategories)],
			Summary:  fmt.Sprintf("Synthetic record %05d · %s", i, day),
		}}
		if i%97 == 0 {
			r.Sensitive = []fhir.Sensitive{fhir.MentalHealth}
		}
		recs[i] = r
	}
	return recs
}

// TestTenThousandRecords feeds the records tab 10,000 records through the
// code path a wallet's records take, filters them as a user types, and
// scrolls the list to its end.
func TestTenThousandRecords(t *testing.T) {
	u := openTestWallet(t, Options{})
	v := u.records
	recs := syntheticRecords(10_000)

	start := time.Now()
	v.setRecords(recs)
	loaded := time.Since(start)
	// The tab opens on the summary; every record is one chip away, billing
	// one tick further.
	// The summary counts what it summarises: billing stays out.
	billing := 10_000 / len(fhir.AllCategories)
	if v.chips.selected != chipSummary || v.count.Text != fmt.Sprintf("Summary of %d records; %d billing records hidden", 10_000-billing, billing) {
		t.Fatalf("opened on %q: %q", v.chips.selected, v.count.Text)
	}
	v.chips.choose(chipAll)
	if want := 10_000 - 10_000/len(fhir.AllCategories); v.list.Length() != want ||
		v.count.Text != fmt.Sprintf("%d records; %d billing records hidden", want, 10_000-want) {
		t.Fatalf("all but billing: %d rows, %q", v.list.Length(), v.count.Text)
	}
	v.showBilling.SetChecked(true)
	if v.list.Length() != 10_000 || v.count.Text != "10000 records" {
		t.Fatalf("list %d rows, count %q", v.list.Length(), v.count.Text)
	}
	// Newest first.
	if !strings.HasPrefix(v.shown[0].Summary, "Synthetic record 09999") {
		t.Fatalf("first row %q", v.shown[0].Summary)
	}
	// Only the rows on screen exist: the list reuses them as it scrolls.
	rows := 0
	walk(u.win.Canvas().Content(), func(o fyne.CanvasObject) {
		if _, ok := o.(*recordRow); ok {
			rows++
		}
	})
	if rows == 0 || rows > 40 {
		t.Fatalf("%d rows built for 10,000 records", rows)
	}
	mustContain(t, "top of the list", markup(u), "Synthetic record 09999")

	v.list.ScrollToBottom()
	mustContain(t, "bottom of the list", markup(u), "Synthetic record 00000")
	v.list.ScrollTo(5000)
	mustContain(t, "middle of the list", markup(u), "Synthetic record 04999")
	// Dragging the list scrolls it.
	before := markup(u)
	test.Scroll(u.win.Canvas(), fyne.NewPos(300, 400), 0, -600)
	if markup(u) == before {
		t.Fatal("scrolling with the wheel did not move the list")
	}

	// Typing filters all 10,000 on every key.
	start = time.Now()
	test.Type(v.search, "record 0042")
	typed := time.Since(start)
	if v.list.Length() != 10 || !strings.Contains(v.count.Text, "10 of 10000") {
		t.Fatalf("search: %d rows, %q", v.list.Length(), v.count.Text)
	}
	v.search.SetText("")
	v.chips.choose(string(fhir.Labs))
	if want := 10_000 / len(fhir.AllCategories); v.list.Length() < want || v.list.Length() > want+1 {
		t.Fatalf("labs: %d rows", v.list.Length())
	}
	t.Logf("10,000 records: loaded in %v, 11 keystrokes filtered in %v", loaded, typed)
}

// BenchmarkRecordRowUpdate is the list's update function: what scrolling
// costs per row brought into view.
func BenchmarkRecordRowUpdate(b *testing.B) {
	test.NewTempApp(b)
	recs := syntheticRecords(10_000)
	row := newRecordRow()
	test.WidgetRenderer(row)
	i := 0
	for b.Loop() {
		row.set(recs[i%len(recs)])
		i++
	}
}

// BenchmarkFilterTenThousand is one keystroke in the search box of a
// 10,000-record wallet.
func BenchmarkFilterTenThousand(b *testing.B) {
	test.NewTempApp(b)
	u := &UI{app: fyne.CurrentApp(), win: test.NewTempWindow(b, nil)}
	v := u.newRecordsView()
	u.win.SetContent(v.content)
	v.setRecords(syntheticRecords(10_000))
	v.search.Text = "record 004"
	for b.Loop() {
		v.apply()
	}
}
