package app

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet/fhir"
)

// isoDate is a date as FHIR writes it, which the readable view never shows.
var isoDate = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)

// summaryTexts are the section titles and row names of the summary, in
// order.
func summaryTexts(v *recordsView) (titles, names []string) {
	for _, o := range v.summary.Objects {
		switch x := o.(type) {
		case *widget.Label:
			titles = append(titles, x.Text)
		case *summaryRow:
			names = append(names, x.row.summary.Text)
		}
	}
	return
}

// findSummaryRow is the summary row named name.
func findSummaryRow(t *testing.T, v *recordsView, name string) *summaryRow {
	t.Helper()
	for _, o := range v.summary.Objects {
		if r, ok := o.(*summaryRow); ok && r.row.summary.Text == name {
			return r
		}
	}
	t.Fatalf("no summary row %q", name)
	return nil
}

// TestSummaryHome: a real Synthea patient's records open on a summary in
// the International Patient Summary's order; simvastatin's 21 yearly
// prescriptions are one medication with its dose, prescriber, reason and
// history.
func TestSummaryHome(t *testing.T) {
	u := openTestWallet(t, Options{})
	importFixture(t, u, "Darron_Feeney")
	v := u.records
	if v.chips.selected != chipSummary || v.body.Objects[0] != v.summary {
		t.Fatalf("opened on %q", v.chips.selected)
	}
	titles, names := summaryTexts(v)
	if want := []string{fhir.SectionProblems, fhir.SectionMedications, fhir.SectionResults, fhir.SectionImmunizations}; !slices.Equal(titles, want) {
		t.Fatalf("sections %v, want %v", titles, want)
	}
	if n := strings.Count(strings.Join(names, "\n"), "Simvistatin"); n != 1 {
		t.Fatalf("simvastatin listed %d times", n)
	}
	simva := findSummaryRow(t, v, "Simvistatin 10 MG")
	if simva.row.value.Text != "1 dose once a day" || simva.row.date.Text != "23 Jun 2003" ||
		simva.row.meta.Text != "21 prescriptions since 28 Jun 1983" {
		t.Fatalf("simvastatin row: %q %q %q", simva.row.value.Text, simva.row.date.Text, simva.row.meta.Text)
	}
	crea := findSummaryRow(t, v, "Creatinine")
	if crea.row.value.Text != "3.12 mg/dL ↑ high" || crea.row.value.Importance != widget.DangerImportance {
		t.Fatalf("creatinine row %q", crea.row.value.Text)
	}
	// No billing on the summary or in the chips, until asked for.
	m := markup(u)
	if strings.Contains(m, ">Billing ") || strings.Contains(m, "Claim") {
		t.Fatal("billing shown on the summary")
	}
	// Every row keeps its value and date whole; only the name gives way.
	abs := fyne.CurrentApp().Driver().AbsolutePositionForObject
	for _, o := range v.summary.Objects {
		if r, ok := o.(*summaryRow); ok {
			right := abs(r).X + r.Size().Width
			for _, l := range []*widget.Label{r.row.value, r.row.date} {
				if l.Size().Width < l.MinSize().Width || abs(l).X+l.Size().Width > right+0.5 {
					t.Fatalf("%q: %q cut off (%v of %v, row %v)", r.row.summary.Text, l.Text, l.Size(), l.MinSize(), r.Size())
				}
			}
			name := r.row.summary
			if abs(name).X+name.Size().Width > abs(r.row.value).X+0.5 {
				t.Fatalf("%q runs under its value", name.Text)
			}
		}
	}
	assertScreen(t, u, "summary")

	// A tap opens the medication: dose, prescriber, reason, its history.
	simva.Tapped(&fyne.PointEvent{})
	u.bg.Wait()
	d := v.detail
	got := map[string]string{}
	for _, it := range d.fields.Items {
		got[it.Text] = it.Widget.(*widget.Label).Text
	}
	for k, want := range map[string]string{"Dose": "1 dose once a day", "Prescribed by": "Rex Bode", "Reason": "Hyperlipidemia",
		"Date": "23 Jun 2003", "Status": "active"} {
		if got[k] != want {
			t.Fatalf("%s = %q, want %q (%v)", k, got[k], want, got)
		}
	}
	if !strings.HasPrefix(got["Prescribed"], "21 times: 23 Jun 2003, 23 Jun 2002, ") || !strings.HasSuffix(got["Prescribed"], "28 Jun 1983") {
		t.Fatalf("history %q", got["Prescribed"])
	}
	// No ids, references or ISO dates in the readable view.
	for k, val := range got {
		if strings.Contains(val, "urn:uuid") || strings.Contains(val, "/") && strings.Contains(val, "Practitioner") || isoDate.MatchString(val) {
			t.Fatalf("%s = %q", k, val)
		}
	}
}

// TestResultTrend: a lab result reads with its range and flag, and a
// plot of the same test over time.
func TestResultTrend(t *testing.T) {
	u := openTestWallet(t, Options{})
	importFixture(t, u, "Darron_Feeney")
	v := u.records
	findSummaryRow(t, v, "Creatinine").Tapped(&fyne.PointEvent{})
	u.bg.Wait()
	d := v.detail
	got := map[string]string{}
	for _, it := range d.fields.Items {
		got[it.Text] = it.Widget.(*widget.Label).Text
	}
	if got["Value"] != "3.12 mg/dL (high)" || got["Reference range"] != "0.6–1.3 mg/dL (typical adult range; the lab gave none)" ||
		got["Date"] != "23 Jun 2003" {
		t.Fatalf("result fields %v", got)
	}
	if d.trend == nil {
		t.Fatal("no trend plot")
	}
	pts := d.trend.line.Points
	if len(pts) != 21 || math.Abs(pts[len(pts)-1].Value-3.12) > 0.005 || pts[0].Date > pts[len(pts)-1].Date {
		t.Fatalf("trend %+v", d.trend.line)
	}
	// Each point is a dot; those out of range are drawn in the error colour.
	r := test.WidgetRenderer(d.trend).(*trendRenderer)
	if len(r.dots) != 21 || len(r.lines) != 20 {
		t.Fatalf("%d dots, %d lines", len(r.dots), len(r.lines))
	}
	high := 0
	for i, p := range pts {
		out := p.Value > 1.3 || p.Value < 0.6
		if out {
			high++
		}
		if (r.dots[i].FillColor != r.dots[0].FillColor) != (out != (pts[0].Value > 1.3 || pts[0].Value < 0.6)) {
			t.Fatalf("dot %d (%v) coloured wrongly", i, p.Value)
		}
	}
	if high == 0 {
		t.Fatal("no result out of range in the trend")
	}
	if r.firstDate.Text != fhir.HumanDate(pts[0].Date[:10]) || r.lastDate.Text != "23 Jun 2003" {
		t.Fatalf("axis dates %q %q", r.firstDate.Text, r.lastDate.Text)
	}
	assertScreenNormalized(t, u, "trend") // "Imported …" follows the clock
}
