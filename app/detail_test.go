package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet/fhir"
)

func TestRecordDetailReadableAndJSON(t *testing.T) {
	u := openTestWallet(t, Options{})
	importFixture(t, u, "Liz_Conn")
	v := u.records
	test.Type(v.search, "body height")
	if v.list.Length() == 0 {
		t.Fatal("no body height records")
	}
	rec := v.shown[0]
	v.list.Select(0)
	u.bg.Wait()
	d := v.detail
	if d == nil || d.title.Text == "" {
		t.Fatal("no detail shown")
	}
	// The readable rendering: fhir.Detail's fields, then the wallet's facts.
	res, err := u.openWallet().Resource(t.Context(), rec)
	if err != nil {
		t.Fatal(err)
	}
	title, fields := fhir.Detail(res)
	labels := map[string]string{}
	for _, it := range d.fields.Items {
		labels[it.Text] = it.Widget.(*widget.Label).Text
	}
	if d.title.Text != title || !strings.Contains(title, "Body Height") {
		t.Fatalf("title %q, want %q", d.title.Text, title)
	}
	for _, f := range fields {
		if labels[f.Label] != f.Value {
			t.Fatalf("field %s = %q, want %q", f.Label, labels[f.Label], f.Value)
		}
	}
	if labels["Filed under"] != categoryName(rec.Category) || !strings.HasSuffix(labels["Imported"], "from liz.json") {
		t.Fatalf("facts %v", labels)
	}
	assertScreenNormalized(t, u, "detail")

	// The raw FHIR JSON, one tap away.
	if strings.Contains(markup(u), `"resourceType"`) {
		t.Fatal("JSON shown before asking")
	}
	test.Tap(tappable(t, u, "FHIR JSON"))
	if d.tabs.SelectedIndex() != 1 || !strings.Contains(d.json.Text, `"resourceType": "Observation"`) || !strings.Contains(d.json.Text, "\n  ") {
		t.Fatalf("JSON tab: %d %.80q", d.tabs.SelectedIndex(), d.json.Text)
	}
	mustContain(t, "screen", markup(u), "resourceType")
	test.Tap(d.copyJSON)
	if got := u.app.Clipboard().Content(); got != d.json.Text {
		t.Fatal("Copy JSON did not copy the JSON")
	}
}
