package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// TestFitTitle: a title that does not fit is cut, with an ellipsis, to
// the width given; one that fits is left alone.
func TestFitTitle(t *testing.T) {
	size := theme.TextSize()
	width := func(s string) float32 { return fyne.MeasureText(s, size, fyne.TextStyle{}).Width }
	if got := fitTitle("Body Height", 300); got != "Body Height" {
		t.Fatalf("short title %q", got)
	}
	long := "Hemoglobin A1c/Hemoglobin.total in Blood by calculation, 20 Nov 2026"
	got := fitTitle(long, 200)
	if !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) || width(got) > 200 {
		t.Fatalf("fitTitle = %q (%.0f wide), want a prefix of the title within 200", got, width(got))
	}
	if len([]rune(got)) < 10 {
		t.Fatalf("fitTitle kept only %q of 200 points", got)
	}
}

// TestPhoneTitleClearsBackButton: on a phone a detail's title, centred
// over the navigation bar, stays clear of the back button however long
// it is. (On desktop the detail sits beside the list, under no bar.)
func TestPhoneTitleClearsBackButton(t *testing.T) {
	u := openTestWallet(t, Options{})
	importFixture(t, u, "Liz_Conn")
	long := strings.Repeat("A very long record title ", 4)
	u.records.md.show(long, widget.NewLabel("body"))
	if !isMobile() {
		if u.records.md.nav != nil || !shows(u.records.md.detail, "body") {
			t.Fatal("desktop detail pane not shown")
		}
		return
	}
	var back, title fyne.CanvasObject
	nav := u.records.md.nav
	walk(nav, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Button:
			if x.Icon != nil && x.Icon.Name() == theme.NavigateBackIcon().Name() {
				back = x
			}
		case *canvas.Text:
			if strings.HasPrefix(x.Text, "A very long") {
				title = x
			}
		}
	})
	if back == nil || title == nil {
		t.Fatalf("back button %v, title %v", back, title)
	}
	backEnd := fyne.CurrentApp().Driver().AbsolutePositionForObject(back).X + back.Size().Width
	text := title.(*canvas.Text)
	textWidth := fyne.MeasureText(text.Text, text.TextSize, text.TextStyle).Width
	start := fyne.CurrentApp().Driver().AbsolutePositionForObject(text).X + (text.Size().Width-textWidth)/2
	if text.Alignment != fyne.TextAlignCenter {
		start = fyne.CurrentApp().Driver().AbsolutePositionForObject(text).X
	}
	if start < backEnd {
		t.Fatalf("title %q starts at x=%.0f, under the back button ending at x=%.0f", text.Text, start, backEnd)
	}
}

// TestSelectableTextOnlyOnDesktop: on a phone no label is selectable, so a
// drag scrolls the page instead of selecting (DIDs and the FHIR JSON are
// copied with buttons there); on desktop they are selectable.
func TestSelectableTextOnlyOnDesktop(t *testing.T) {
	u := openTestWallet(t, Options{})
	importFixture(t, u, "Liz_Conn")
	u.records.list.Select(0)
	u.bg.Wait()
	d := u.records.detail
	test.Tap(tappable(t, u, "FHIR JSON"))
	tapTab(t, u, tabSettings)
	for name, l := range map[string]*widget.Label{"JSON": d.json, "DID": u.wv.did, "address": u.wv.address} {
		if l.Selectable != !isMobile() {
			t.Errorf("%s label selectable %v on mobile %v", name, l.Selectable, isMobile())
		}
	}
	if isMobile() {
		walk(u.win.Canvas().Content(), func(o fyne.CanvasObject) {
			if l, ok := o.(*widget.Label); ok && l.Selectable {
				t.Errorf("selectable label %q on the phone", l.Text)
			}
		})
	}
}
